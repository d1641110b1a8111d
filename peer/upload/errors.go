package upload

import (
	"errors"
	"net/http"

	"github.com/dfcache/dfcache/piececache"
)

// Errors that a Source or Controller wraps to choose the HTTP status of
// its failure. Any other error is a 500.
var (
	// ErrNotFound means that this host holds no part of the task or key (404).
	ErrNotFound = errors.New("upload: not found")
	// ErrInvalid means that the request is well-formed but its values are
	// not acceptable, such as a task without an id (422).
	ErrInvalid = errors.New("upload: invalid request")
	// ErrBusy means that the host cannot take the work now and the caller
	// should retry later or elsewhere (503).
	ErrBusy = errors.New("upload: busy")
)

// errNotReady means that a piece of a task in progress did not arrive
// within the piece wait; the caller may ask again.
var errNotReady = errors.New("not ready")

// statusError carries the HTTP status of an error raised by the server.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func withStatus(status int, err error) error { return &statusError{status: status, err: err} }

// statusOf maps an error to its HTTP status.
func statusOf(err error) int {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.status
	case errors.Is(err, ErrNotFound), errors.Is(err, piececache.ErrNotFound),
		errors.Is(err, piececache.ErrNoSuchPiece), errors.Is(err, piececache.ErrAborted):
		return http.StatusNotFound
	case errors.Is(err, ErrInvalid):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrBusy), errors.Is(err, errNotReady):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
