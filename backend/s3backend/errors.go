package s3backend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/dfcache/dfcache/backend"
)

// Error codes S3 returns in the XML body, grouped by the backend error they
// map to. HEAD responses have no body; their status decides.
var _codeErrors = map[string]error{
	"NoSuchKey":             backend.ErrNotFound,
	"NotFound":              backend.ErrNotFound,
	"NoSuchBucket":          backend.ErrBucketNotFound,
	"AccessDenied":          backend.ErrAccessDenied,
	"AllAccessDisabled":     backend.ErrAccessDenied,
	"InvalidAccessKeyId":    backend.ErrAccessDenied,
	"SignatureDoesNotMatch": backend.ErrAccessDenied,
	"ExpiredToken":          backend.ErrAccessDenied,
	"InvalidToken":          backend.ErrAccessDenied,
	"InvalidRange":          backend.ErrInvalidArgument,
	"InvalidArgument":       backend.ErrInvalidArgument,
	"InvalidBucketName":     backend.ErrInvalidArgument,
	"KeyTooLongError":       backend.ErrInvalidArgument,
	"EntityTooLarge":        backend.ErrInvalidArgument,
	"EntityTooSmall":        backend.ErrInvalidArgument,
	"BadDigest":             backend.ErrInvalidArgument,
	"InvalidDigest":         backend.ErrInvalidArgument,
	"InternalError":         backend.ErrRetryable,
	"ServiceUnavailable":    backend.ErrRetryable,
	"SlowDown":              backend.ErrRetryable,
	"Throttling":            backend.ErrRetryable,
	"ThrottlingException":   backend.ErrRetryable,
	"RequestTimeout":        backend.ErrRetryable,
	"RequestTimeTooSkewed":  backend.ErrRetryable,
}

// mapError wraps err with the context format/args and the backend error it
// stands for, keeping err in the chain and the message. A cancellation by
// the caller is wrapped with context only.
func mapError(err error, format string, args ...any) error {
	return mapErrorAs(err, backend.ErrNotFound, format, args...)
}

// mapBucketError is mapError for bucket-level requests, where a 404 means
// the bucket is missing. S3 sends HEAD responses with a status and no
// error code, so the status alone decides.
func mapBucketError(err error, format string, args ...any) error {
	return mapErrorAs(err, backend.ErrBucketNotFound, format, args...)
}

func mapErrorAs(err, notFound error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	operation := fmt.Sprintf(format, args...)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", operation, err)
	}
	kind := classify(err)
	if kind == backend.ErrNotFound {
		kind = notFound
	}
	if kind != nil {
		return fmt.Errorf("%s: %w: %w", operation, kind, err)
	}
	return fmt.Errorf("%s: %w", operation, err)
}

func classify(err error) error {
	if kind, ok := _codeErrors[errorCode(err)]; ok {
		return kind
	}
	// A failed send comes wrapped in a ResponseError of status 0, so check
	// for it before the status.
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	if errors.As(err, &sendErr) || errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) {
		return backend.ErrRetryable
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		return classifyStatus(respErr.HTTPStatusCode())
	}
	return nil
}

func classifyStatus(status int) error {
	switch {
	case status == http.StatusNotFound:
		return backend.ErrNotFound
	case status == http.StatusForbidden || status == http.StatusUnauthorized:
		return backend.ErrAccessDenied
	case status == http.StatusRequestedRangeNotSatisfiable || status == http.StatusBadRequest:
		return backend.ErrInvalidArgument
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return backend.ErrRetryable
	}
	return nil
}

// errorCode returns the S3 error code of err, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
