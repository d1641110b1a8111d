package upload

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dfcache/dfcache/piececache"
)

// getTask sends the task info. With ?after=N it first waits, up to the
// piece wait, until the task lists more than N pieces or is complete. With
// ?from=N it lists the digests from piece N on.
func (s *Server) getTask(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	after, err := pieceQuery(r, QueryAfter, -1)
	if err != nil {
		return err
	}
	from, err := pieceQuery(r, QueryFrom, 0)
	if err != nil {
		return err
	}
	task, err := s.src.OpenTask(id)
	if err != nil {
		return fmt.Errorf("open task %s: %w", id, err)
	}
	defer task.Close()

	if after >= 0 && !task.Complete() {
		err := s.waitPiece(r.Context(), task, after)
		if err != nil && !errors.Is(err, errNotReady) && !errors.Is(err, piececache.ErrNoSuchPiece) {
			return fmt.Errorf("task %s: %w", id, err)
		}
	}
	info := TaskInfo{TaskID: id, PieceSize: task.PieceSize(), Complete: task.Complete(), Length: task.Length()}
	pieces := task.Pieces()
	from = min(from, len(pieces))
	info.FirstPiece, info.Pieces = from, pieces[from:]
	if info.Pieces == nil {
		info.Pieces = []string{}
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// pieceQuery returns the piece index in query parameter name, or def when
// it is absent.
func pieceQuery(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, withStatus(http.StatusBadRequest, fmt.Errorf("invalid %s=%q: want a piece index of 0 or more", name, v))
	}
	return n, nil
}

// getPiece sends piece n once it is present, waiting up to the piece wait
// for a task in progress.
func (s *Server) getPiece(w http.ResponseWriter, r *http.Request) error {
	s.active.Add(1)
	defer s.active.Add(-1)

	id := r.PathValue("id")
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 {
		return withStatus(http.StatusBadRequest, fmt.Errorf("invalid piece number %q: want an integer of 0 or more", r.PathValue("n")))
	}
	task, err := s.src.OpenTask(id)
	if err != nil {
		return fmt.Errorf("open task %s: %w", id, err)
	}
	defer task.Close()

	if err := s.waitPiece(r.Context(), task, n); err != nil {
		return fmt.Errorf("piece %d of task %s: %w", n, id, err)
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-r.Context().Done():
		return r.Context().Err()
	}
	bufp := s.getBuffer(task.PieceSize())
	defer s.buffers.Put(bufp)
	piece, err := task.ReadPiece(n, *bufp)
	if err != nil {
		return fmt.Errorf("read piece %d of task %s: %w", n, id, err)
	}
	sum := pieceDigest(task, n)
	if sum == "" {
		return fmt.Errorf("piece %d of task %s has no digest after it was read", n, id)
	}
	w.Header().Set(HeaderPieceDigest, sum)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(piece)))
	w.WriteHeader(http.StatusOK)
	w.Write(piece)
	return nil
}

// waitPiece waits up to the piece wait for piece i of task. It returns an
// error wrapping errNotReady when the wait ran out, and the request's own
// error when the client went away.
func (s *Server) waitPiece(ctx context.Context, task Task, i int) error {
	waitCtx, cancel := context.WithTimeout(ctx, s.pieceWait)
	defer cancel()
	err := task.WaitPiece(waitCtx, i)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("%w after %s: retry later", errNotReady, s.pieceWait)
	}
	return err
}
