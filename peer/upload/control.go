package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// maxControlBody is the largest accepted control request body. A
// ReplicateRequest with a hundred sources is a few KiB.
const maxControlBody = 1 << 20

// Controller carries out the scheduler's control requests. Each method
// returns once the work is accepted; work that goes on after it returns
// must not use ctx, which ends with the request. Wrap ErrInvalid,
// ErrNotFound or ErrBusy to choose the status of a failure.
type Controller interface {
	// Prefetch makes a seed peer fetch task from the backend and announce
	// itself as a holder in progress.
	Prefetch(ctx context.Context, task *schedulerpb.Task) error
	// Replicate makes a seed peer copy req.Task from req.Sources and
	// announce it.
	Replicate(ctx context.Context, req *schedulerpb.ReplicateRequest) error
	// WriteBack makes a seed peer that holds pending task take over its
	// durable backend upload.
	WriteBack(ctx context.Context, task *schedulerpb.Task) error
	// Delete drops every cached version of the key and cancels its pending
	// write-back.
	Delete(ctx context.Context, req *schedulerpb.DeleteObjectRequest) error
}

// noController rejects control requests on a host that takes none.
type noController struct{}

var errNoControl = withStatus(http.StatusNotImplemented, errors.New("this host takes no control requests"))

func (noController) Prefetch(context.Context, *schedulerpb.Task) error { return errNoControl }
func (noController) Replicate(context.Context, *schedulerpb.ReplicateRequest) error {
	return errNoControl
}
func (noController) WriteBack(context.Context, *schedulerpb.Task) error { return errNoControl }
func (noController) Delete(context.Context, *schedulerpb.DeleteObjectRequest) error {
	return errNoControl
}

func (s *Server) routeControl() {
	s.mux.Handle("POST /control/prefetch", s.handle(controlRoute(s, "prefetch", checkTask, s.ctrl.Prefetch)))
	s.mux.Handle("POST /control/writeback", s.handle(controlRoute(s, "writeback", checkTask, s.ctrl.WriteBack)))
	s.mux.Handle("POST /control/replicate", s.handle(controlRoute(s, "replicate", checkReplicate, s.ctrl.Replicate)))
	s.mux.Handle("POST /control/delete", s.handle(controlRoute(s, "delete", checkDelete, s.ctrl.Delete)))
}

// controlRoute returns a handler that decodes a protojson M, checks it and
// passes it to call. It sends 202 Accepted with no body on success.
func controlRoute[M proto.Message](s *Server, name string, check func(M) error, call func(context.Context, M) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var msg M
		msg = msg.ProtoReflect().Type().New().Interface().(M)
		if err := decodeControl(w, r, msg); err != nil {
			return err
		}
		if err := check(msg); err != nil {
			return fmt.Errorf("control %s: %w", name, err)
		}
		if err := call(r.Context(), msg); err != nil {
			return fmt.Errorf("control %s: %w", name, err)
		}
		s.log.Info("control request accepted", "action", name, "request", summarize(msg))
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
}

// decodeControl reads the protojson body into msg. Unknown fields are
// ignored so that a newer scheduler can add fields.
func decodeControl(w http.ResponseWriter, r *http.Request, msg proto.Message) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return withStatus(http.StatusRequestEntityTooLarge, fmt.Errorf("control request body exceeds %d bytes", tooLarge.Limit))
	}
	if err != nil {
		return withStatus(http.StatusBadRequest, fmt.Errorf("read control request: %w", err))
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, msg); err != nil {
		return withStatus(http.StatusBadRequest, fmt.Errorf("invalid control request: want protojson %s: %w", msg.ProtoReflect().Descriptor().Name(), err))
	}
	return nil
}

func checkTask(t *schedulerpb.Task) error {
	switch {
	case t.GetId() == "":
		return fmt.Errorf("%w: task id is missing", ErrInvalid)
	case t.GetBucket() == "" || t.GetKey() == "":
		return fmt.Errorf("%w: task %s: bucket and key must not be empty", ErrInvalid, t.GetId())
	}
	return nil
}

func checkReplicate(req *schedulerpb.ReplicateRequest) error {
	if err := checkTask(req.GetTask()); err != nil {
		return err
	}
	if len(req.GetSources()) == 0 {
		return fmt.Errorf("%w: replicate task %s: sources are missing", ErrInvalid, req.GetTask().GetId())
	}
	return nil
}

func checkDelete(req *schedulerpb.DeleteObjectRequest) error {
	if req.GetBucket() == "" || req.GetKey() == "" {
		return fmt.Errorf("%w: delete: bucket and key must not be empty", ErrInvalid)
	}
	return nil
}

// summarize returns the ids of a control request for the log, without
// any credentials or URLs.
func summarize(msg proto.Message) string {
	switch m := msg.(type) {
	case *schedulerpb.Task:
		return "task " + m.GetId()
	case *schedulerpb.ReplicateRequest:
		return fmt.Sprintf("task %s from %d sources", m.GetTask().GetId(), len(m.GetSources()))
	case *schedulerpb.DeleteObjectRequest:
		return fmt.Sprintf("delete %s/%s", m.GetBucket(), m.GetKey())
	}
	return string(msg.ProtoReflect().Descriptor().FullName())
}
