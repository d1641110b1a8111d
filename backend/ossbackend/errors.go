package ossbackend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/dfcache/dfcache/backend"
)

// Error is a failed OSS operation. It wraps the backend condition (such as
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
	var se *oss.ServiceError
	if errors.As(e.Cause, &se) {
		detail = fmt.Sprintf("%s (HTTP %d, request id %s): %s", se.Code, se.StatusCode, se.RequestID, se.Message)
	}
	if e.Kind == nil {
		return fmt.Sprintf("oss %s %q: %s", e.Op, target, detail)
	}
	return fmt.Sprintf("oss %s %q: %v: %s", e.Op, target, e.Kind, detail)
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
		"SecurityTokenExpired": true, "InvalidSecurityToken": true, "RequestTimeTooSkewed": true,
	}
	_retryableCodes = map[string]bool{
		"InternalError": true, "ServiceUnavailable": true, "RequestTimeout": true,
		"SlowDown": true, "Throttling": true, "TooManyRequests": true, "QpsLimitExceeded": true,
	}
	_invalidArgumentCodes = map[string]bool{
		"InvalidArgument": true, "InvalidRange": true, "InvalidObjectName": true,
		"InvalidBucketName": true, "EntityTooLarge": true, "InvalidPart": true,
	}
)

// mapError wraps err from the SDK with the operation and the backend
// condition it means. A cancelled or expired context maps to no condition,
// and errors.Is still finds the context error in the chain.
func mapError(op, bucket, key string, err error) error {
	return &Error{Op: op, Bucket: bucket, Key: key, Kind: classify(err), Cause: err}
}

func classify(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return classifyService(se)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return backend.ErrRetryable
	}
	return nil
}

func classifyService(se *oss.ServiceError) error {
	switch {
	case se.Code == "NoSuchKey":
		return backend.ErrNotFound
	case se.Code == "NoSuchBucket":
		return backend.ErrBucketNotFound
	case _accessDeniedCodes[se.Code] || se.StatusCode == http.StatusForbidden:
		return backend.ErrAccessDenied
	case _retryableCodes[se.Code] || se.StatusCode >= 500 || se.StatusCode == http.StatusTooManyRequests:
		return backend.ErrRetryable
	case se.StatusCode == http.StatusNotFound:
		// A HEAD response without an error body: the object or its bucket
		// is missing, and the object is the likelier case.
		return backend.ErrNotFound
	case _invalidArgumentCodes[se.Code] || se.StatusCode == http.StatusBadRequest ||
		se.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return backend.ErrInvalidArgument
	}
	return nil
}
