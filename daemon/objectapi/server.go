// Package objectapi serves the object storage HTTP API of a peer (the
// routes of Dragonfly's dfstore, see package api) on top of an
// objectservice.Service. Handlers return errors; one function turns an
// error into a status code and a JSON body.
package objectapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/daemon/objectservice"
	"github.com/dfcache/dfcache/metrics"
	"github.com/dfcache/dfcache/piececache"
)

// Handler is the HTTP handler of the object storage API.
type Handler struct {
	svc     *objectservice.Service
	metrics *metrics.Metrics
	log     *slog.Logger
	// filter is the default filter field value; identity never depends on
	// it, so it is only checked for syntax.
	filter string
}

// New returns the API handler. m may be nil; then /metrics returns 404.
func New(svc *objectservice.Service, m *metrics.Metrics, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{svc: svc, metrics: m, log: log}
}

// ServeHTTP routes a request. Object keys are taken from the escaped path
// by hand rather than through http.ServeMux, which would clean keys such
// as "a//b" or "a/../b" and redirect.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.log.Debug("request", "method", r.Method, "path", r.URL.Path)
	path := r.URL.EscapedPath()
	switch {
	case path == "/healthy" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, "OK")
	case path == "/metadata" && r.Method == http.MethodGet:
		info := h.svc.BackendInfo()
		writeJSON(w, http.StatusOK, api.BackendMetadata{Name: info.Name, Region: info.Region, Endpoint: info.Endpoint})
	case path == "/metrics" && r.Method == http.MethodGet && h.metrics != nil:
		promhttp.HandlerFor(h.metrics.Registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	case strings.HasPrefix(path, "/buckets/"):
		h.serveBuckets(w, r, strings.TrimPrefix(path, "/buckets/"))
	default:
		h.writeError(w, r, statusErrorf(http.StatusNotFound, "no route for %s %s", r.Method, r.URL.Path))
	}
}

func (h *Handler) serveBuckets(w http.ResponseWriter, r *http.Request, rest string) {
	bucket, sub, _ := strings.Cut(rest, "/")
	if err := api.ValidateBucket(bucket); err != nil {
		h.writeError(w, r, withStatus(http.StatusBadRequest, err))
		return
	}
	var err error
	switch {
	case sub == "" && r.Method == http.MethodPost:
		err = h.createBucket(w, r, bucket)
	case sub == "metadatas" && r.Method == http.MethodGet:
		err = h.listObjects(w, r, bucket)
	case strings.HasPrefix(sub, "objects/"):
		err = h.serveObject(w, r, bucket, strings.TrimPrefix(sub, "objects/"))
	default:
		err = statusErrorf(http.StatusNotFound, "no route for %s %s", r.Method, r.URL.Path)
	}
	if err != nil {
		h.writeError(w, r, err)
	}
}

func (h *Handler) serveObject(w http.ResponseWriter, r *http.Request, bucket, escapedKey string) error {
	key, err := url.PathUnescape(escapedKey)
	if err != nil {
		return statusErrorf(http.StatusBadRequest, "invalid object key %q: bad percent-encoding", escapedKey)
	}
	if err := api.ValidateKey(key); err != nil {
		return withStatus(http.StatusBadRequest, err)
	}
	switch r.Method {
	case http.MethodHead:
		return h.headObject(w, r, bucket, key)
	case http.MethodGet:
		return h.getObject(w, r, bucket, key)
	case http.MethodPut:
		if r.Header.Get(api.HeaderOperation) == api.CopyOperation {
			return h.copyObject(w, r, bucket, key)
		}
		return h.putObject(w, r, bucket, key)
	case http.MethodDelete:
		return h.deleteObject(w, r, bucket, key)
	}
	w.Header().Set("Allow", "GET, HEAD, PUT, DELETE")
	return statusErrorf(http.StatusMethodNotAllowed, "method %s is not allowed on objects", r.Method)
}

func (h *Handler) createBucket(w http.ResponseWriter, r *http.Request, bucket string) error {
	if err := h.svc.CreateBucket(r.Context(), bucket); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"Bucket": bucket})
	return nil
}

func (h *Handler) deleteObject(w http.ResponseWriter, r *http.Request, bucket, key string) error {
	if err := h.svc.Delete(r.Context(), bucket, key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// statusError is an error with the HTTP status of its response.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func withStatus(status int, err error) error { return &statusError{status: status, err: err} }

func statusErrorf(status int, format string, args ...any) error {
	return &statusError{status: status, err: fmt.Errorf(format, args...)}
}

// statusOf maps an error to its HTTP status.
func statusOf(err error) int {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.status
	case errors.Is(err, objectservice.ErrInvalid), errors.Is(err, backend.ErrInvalidArgument),
		errors.Is(err, piececache.ErrDigestMismatch):
		return http.StatusBadRequest
	case errors.Is(err, backend.ErrNotFound), errors.Is(err, backend.ErrBucketNotFound),
		errors.Is(err, piececache.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, backend.ErrAccessDenied):
		return http.StatusForbidden
	case errors.Is(err, piececache.ErrQuotaExceeded):
		return http.StatusInsufficientStorage
	case backend.IsRetryable(err):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError responds with the error's status and a JSON body (none for
// HEAD). Server-side failures are logged; client errors are not.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, api.ErrorBody{Errors: err.Error()})
}
