package backend

import (
	"context"
	"errors"
	"net"
)

// Conditions that implementations wrap into their errors.
var (
	ErrNotFound        = errors.New("object not found")
	ErrBucketNotFound  = errors.New("bucket not found")
	ErrAccessDenied    = errors.New("access denied")
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrRetryable marks failures that may succeed when tried again.
	ErrRetryable = errors.New("retryable backend failure")
)

// IsRetryable reports whether err is worth retrying: it wraps ErrRetryable,
// or it is a network error or a deadline that is not the caller's own
// cancellation.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrRetryable) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}
