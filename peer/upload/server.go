// Package upload is the upload server of a peer: other hosts fetch task
// pieces from it over HTTP, and the scheduler sends it control requests.
//
// Routes:
//
//	GET  /tasks/{id}              task info as JSON (TaskInfo)
//	GET  /tasks/{id}/pieces/{n}   piece n, with its digest in X-Piece-Digest
//	POST /control/prefetch        protojson Task
//	POST /control/replicate       protojson ReplicateRequest
//	POST /control/writeback       protojson Task
//	POST /control/delete          protojson DeleteObjectRequest
//
// Errors come back as JSON {"errors": "<message>"}. Each piece request holds
// at most one pooled piece buffer, so memory grows with the number of
// concurrent requests and the piece size, never with the object size.
package upload

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dfcache/dfcache/api"
)

// DefaultPieceWait is how long a request for a piece of a task in progress,
// or a long poll of its info, waits for the piece to be written.
const DefaultPieceWait = 30 * time.Second

// Server is the upload server, an http.Handler. It is safe for concurrent
// use.
type Server struct {
	src       Source
	ctrl      Controller
	log       *slog.Logger
	mux       *http.ServeMux
	pieceWait time.Duration
	active    atomic.Int32
	buffers   sync.Pool // *[]byte piece buffers
	// slots bounds the pieces read and sent at once, and so the piece
	// buffers in use: a parent that many children ask at once makes them
	// queue rather than hold one buffer each.
	slots chan struct{}
}

// MaxConcurrentPieces is how many pieces a server reads and sends at once.
const MaxConcurrentPieces = 6

// New returns a server of the tasks in src that passes control requests to
// ctrl. A nil ctrl rejects every control request with 501 Not Implemented.
// A nil log means slog.Default().
func New(src Source, ctrl Controller, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	if ctrl == nil {
		ctrl = noController{}
	}
	s := &Server{
		src: src, ctrl: ctrl, log: log, mux: http.NewServeMux(), pieceWait: DefaultPieceWait,
		slots: make(chan struct{}, MaxConcurrentPieces),
	}
	s.mux.Handle("GET /tasks/{id}", s.handle(s.getTask))
	s.mux.Handle("GET /tasks/{id}/pieces/{n}", s.handle(s.getPiece))
	s.routeControl()
	return s
}

// WithPieceWait sets how long a piece request or a long poll waits for a
// task in progress (DefaultPieceWait when not called), and returns s. Call
// it before serving.
func (s *Server) WithPieceWait(d time.Duration) *Server {
	s.pieceWait = d
	return s
}

// ActiveUploads returns the number of piece requests being served now, the
// load that the host reports to the scheduler.
func (s *Server) ActiveUploads() int32 { return s.active.Load() }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// handle adapts a handler that returns an error and writes the error once.
func (s *Server) handle(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// writeError sends the error's status and a JSON body. Server-side
// failures are logged, because the caller only sees the message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		s.log.Error("upload request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, api.ErrorBody{Errors: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = fmt.Appendf(nil, `{"errors":%q}`, "encode response: "+err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// getBuffer returns a pooled buffer of at least n bytes.
func (s *Server) getBuffer(n int64) *[]byte {
	if bufp, ok := s.buffers.Get().(*[]byte); ok && int64(cap(*bufp)) >= n {
		*bufp = (*bufp)[:n]
		return bufp
	}
	b := make([]byte, n)
	return &b
}
