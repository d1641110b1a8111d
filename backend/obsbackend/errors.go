package obsbackend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/dfcache/dfcache/backend"
)

// Error is a failed OBS operation. It wraps the backend condition (such as
// backend.ErrNotFound) and the SDK error, so errors.Is and errors.As see both.
type Error struct {
	Op, Bucket, Key string
	// Kind is the backend sentinel the failure maps to; nil when it maps to
	// none of them.
	Kind  error
	Cause error
}

func (e *Error) Error() string {
	target := e.Bucket
	if e.Key != "" {
		target += "/" + e.Key
	}
	detail := e.Cause.Error()
	if oe, ok := asObsError(e.Cause); ok {
		detail = fmt.Sprintf("%s (HTTP %d, request id %s): %s", oe.Code, oe.StatusCode, oe.RequestId, oe.Message)
	}
	if e.Kind == nil {
		return fmt.Sprintf("obs %s %q: %s", e.Op, target, detail)
	}
	return fmt.Sprintf("obs %s %q: %v: %s", e.Op, target, e.Kind, detail)
}

// Unwrap returns the backend sentinel and the SDK error.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Cause}
	}
	return []error{e.Kind, e.Cause}
}

var (
	_accessDeniedCodes = map[string]bool{
		"AccessDenied": true, "SignatureDoesNotMatch": true, "InvalidAccessKeyId": true,
		"InvalidSecurity": true, "InvalidToken": true, "ExpiredToken": true, "RequestTimeTooSkewed": true,
	}
	_retryableCodes = map[string]bool{
		"InternalError": true, "ServiceUnavailable": true, "RequestTimeout": true, "SlowDown": true,
	}
	_invalidArgumentCodes = map[string]bool{
		"InvalidArgument": true, "InvalidRange": true, "InvalidBucketName": true,
		"EntityTooLarge": true, "EntityTooSmall": true, "InvalidPart": true, "InvalidPartOrder": true,
	}
)

// mapError wraps err from the SDK with the operation and the backend
// condition it means. notFound is the condition of a 404 that carries no
// error code, as HEAD responses do: ErrNotFound for objects, ErrBucketNotFound
// for buckets.
func mapError(op, bucket, key string, err, notFound error) error {
	return &Error{Op: op, Bucket: bucket, Key: key, Kind: classify(err, notFound), Cause: err}
}

func classify(err, notFound error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	if oe, ok := asObsError(err); ok {
		return classifyService(oe, notFound)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return backend.ErrRetryable
	}
	return nil
}

func classifyService(oe obs.ObsError, notFound error) error {
	switch {
	case oe.Code == "NoSuchKey":
		return backend.ErrNotFound
	case oe.Code == "NoSuchBucket":
		return backend.ErrBucketNotFound
	case _accessDeniedCodes[oe.Code] || oe.StatusCode == http.StatusForbidden:
		return backend.ErrAccessDenied
	case _retryableCodes[oe.Code] || oe.StatusCode >= 500 || oe.StatusCode == http.StatusTooManyRequests:
		return backend.ErrRetryable
	case oe.StatusCode == http.StatusNotFound:
		return notFound
	case _invalidArgumentCodes[oe.Code] || oe.StatusCode == http.StatusBadRequest ||
		oe.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return backend.ErrInvalidArgument
	}
	return nil
}

// asObsError finds the SDK's service error, which it returns by value.
func asObsError(err error) (obs.ObsError, bool) {
	var oe obs.ObsError
	if errors.As(err, &oe) {
		return oe, true
	}
	var ptr *obs.ObsError
	if errors.As(err, &ptr) && ptr != nil {
		return *ptr, true
	}
	return obs.ObsError{}, false
}

func codeOf(err error) string {
	oe, _ := asObsError(err)
	return oe.Code
}
