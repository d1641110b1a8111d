package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/dfcache/dfcache/api"
)

// Errors that callers can test for with errors.Is.
var (
	// ErrUnreachable is wrapped when no connection to the peer could be
	// made. The wrapping error names the endpoint and the network error.
	ErrUnreachable = errors.New("cannot reach dfdaemon")
	// ErrDigestMismatch is returned by the reader of a full GetObject when
	// the md5 of the bytes read differs from the object's digest.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrIncompleteBody is returned by the reader of a GetObject when the
	// connection ends before Content-Length bytes arrived.
	ErrIncompleteBody = errors.New("incomplete response body")
)

// maxErrorBody is how much of an error response body is read for its message.
const maxErrorBody = 64 << 10

// ErrorResponse is a response of the peer with a non-2xx status.
type ErrorResponse struct {
	StatusCode int
	// Message is the "errors" field of the JSON body, or the start of the
	// body when it is not JSON. It is empty for HEAD requests.
	Message string
	Method  string
	Bucket  string
	Key     string
}

// Error returns the request, the status and the peer's message, such as
// `PUT dfs://b/k: 422 Unprocessable Entity: invalid mode "3"`.
func (e *ErrorResponse) Error() string {
	status := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	target := "dfs://" + e.Bucket
	if e.Key != "" {
		target += "/" + e.Key
	}
	if e.Bucket == "" {
		target = "dfdaemon"
	}
	if e.Message == "" {
		return fmt.Sprintf("%s %s: %s", e.Method, target, status)
	}
	return fmt.Sprintf("%s %s: %s: %s", e.Method, target, status, e.Message)
}

// IsNotFound reports whether err is, or wraps, a 404 response of the peer.
func IsNotFound(err error) bool {
	var resp *ErrorResponse
	return errors.As(err, &resp) && resp.StatusCode == http.StatusNotFound
}

func newErrorResponse(method string, rt route, resp *http.Response) *ErrorResponse {
	e := &ErrorResponse{StatusCode: resp.StatusCode, Method: method, Bucket: rt.bucket, Key: rt.key}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil || len(body) == 0 {
		return e
	}
	var decoded api.ErrorBody
	if json.Unmarshal(body, &decoded) == nil && decoded.Errors != "" {
		e.Message = decoded.Errors
		return e
	}
	e.Message = strings.TrimSpace(string(body))
	if len(e.Message) > 512 {
		e.Message = e.Message[:512] + "..."
	}
	return e
}

// transportError describes a request that got no response. A failure to
// connect wraps ErrUnreachable; a cancelled context is returned as it is,
// wrapped, so that errors.Is(err, context.Canceled) holds.
func (c *Client) transportError(req *http.Request, rt route, err error) error {
	if ctxErr := req.Context().Err(); ctxErr != nil {
		return fmt.Errorf("%s %s: %w", req.Method, describeRoute(rt), ctxErr)
	}
	if isConnectError(err) {
		return fmt.Errorf("%w at %s: %w", ErrUnreachable, c.endpoint, unwrapURLError(err))
	}
	return fmt.Errorf("%s %s: %w", req.Method, describeRoute(rt), unwrapURLError(err))
}

// isConnectError reports whether err happened before a connection was
// made: a refused or timed out dial, or a failed name lookup.
func isConnectError(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && !errors.Is(err, context.Canceled)
}

// unwrapURLError drops the *url.Error layer, whose message repeats the
// request URL that the caller's message already names.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

func describeRoute(rt route) string {
	if rt.bucket == "" {
		return "dfdaemon" + rt.escapedPath
	}
	if rt.key == "" {
		return "dfs://" + rt.bucket
	}
	return "dfs://" + rt.bucket + "/" + rt.key
}
