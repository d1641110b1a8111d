package main

import (
	"errors"

	"github.com/dfcache/dfcache/client"
)

// usageError is an invalid command line. dfstore exits with exitUsage.
type usageError struct{ message string }

func (e usageError) Error() string { return e.message }

// objectError is a failure of a request about one dfs:// URL.
type objectError struct {
	url string
	// missing names what a 404 means for this request: "object" or "bucket".
	missing string
	err     error
}

func (e objectError) Error() string { return e.url + ": " + e.err.Error() }
func (e objectError) Unwrap() error { return e.err }

// describeError returns the one line that dfstore prints for a failure.
func describeError(err error) string {
	if errors.Is(err, client.ErrUnreachable) {
		return unwrapObjectError(err).Error() + "; start it with `dfdaemon --config FILE` or pass --endpoint"
	}
	var objErr objectError
	if errors.As(err, &objErr) && client.IsNotFound(err) {
		return objErr.url + ": " + objErr.missing + " not found"
	}
	var resp *client.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Error()
	}
	return err.Error()
}

// unwrapObjectError drops the URL prefix of an objectError, for errors
// whose message names their target already.
func unwrapObjectError(err error) error {
	var objErr objectError
	if errors.As(err, &objErr) {
		return objErr.err
	}
	return err
}
