package upload

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

const (
	taskJSON      = `{"id":"t1","bucket":"b","key":"k","pieceSize":"1024","futureField":1}`
	replicateJSON = `{"task":{"id":"t1","bucket":"b","key":"k"},"sources":[{"id":"host-a","ip":"127.0.0.1","uploadPort":65002}]}`
	deleteJSON    = `{"hostId":"h","backendId":"s3","bucket":"b","key":"dir/k"}`
)

func TestControlDispatch(t *testing.T) {
	ctrl := &fakeController{}
	ts := startServer(t, New(newTestSource(t), ctrl, nil))

	requests := []struct{ path, body string }{
		{"/control/prefetch", taskJSON},
		{"/control/writeback", taskJSON},
		{"/control/replicate", replicateJSON},
		{"/control/delete", deleteJSON},
	}
	for _, req := range requests {
		if resp, body := post(t, ts.URL+req.path, req.body); resp.StatusCode != http.StatusAccepted {
			t.Errorf("POST %s: status %d (%s), want 202", req.path, resp.StatusCode, body)
		}
	}
	want := []string{"prefetch t1", "writeback t1", "replicate t1 from host-a", "delete b/dir/k"}
	if got := ctrl.recorded(); !slices.Equal(got, want) {
		t.Errorf("controller calls = %q, want %q", got, want)
	}
}

func TestControlRejectsBadRequests(t *testing.T) {
	ctrl := &fakeController{}
	ts := startServer(t, New(newTestSource(t), ctrl, nil))

	cases := []struct {
		path, body string
		status     int
	}{
		{"/control/prefetch", `{"id":`, http.StatusBadRequest},
		{"/control/prefetch", `{"id":"t1","length":"many"}`, http.StatusBadRequest},
		{"/control/prefetch", `{"bucket":"b","key":"k"}`, http.StatusUnprocessableEntity},
		{"/control/writeback", `{"id":"t1"}`, http.StatusUnprocessableEntity},
		{"/control/replicate", `{"task":{"id":"t1","bucket":"b","key":"k"}}`, http.StatusUnprocessableEntity},
		{"/control/delete", `{"bucket":"b"}`, http.StatusUnprocessableEntity},
		{"/control/prefetch", `{"id":"` + strings.Repeat("x", maxControlBody) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		resp, body := post(t, ts.URL+tc.path, tc.body)
		if resp.StatusCode != tc.status {
			t.Errorf("POST %s %.40s: status %d (%s), want %d", tc.path, tc.body, resp.StatusCode, body, tc.status)
		}
		if !strings.HasPrefix(body, `{"errors":`) {
			t.Errorf("POST %s %.40s: body %.100s, want {\"errors\": ...}", tc.path, tc.body, body)
		}
	}
	if calls := ctrl.recorded(); len(calls) != 0 {
		t.Errorf("controller was called for rejected requests: %q", calls)
	}

	resp, _ := get(t, ts.URL+"/control/prefetch")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /control/prefetch: status %d, want 405", resp.StatusCode)
	}
}

func TestControlMapsErrors(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{fmt.Errorf("no such task: %w", ErrNotFound), http.StatusNotFound},
		{fmt.Errorf("task too large: %w", ErrInvalid), http.StatusUnprocessableEntity},
		{fmt.Errorf("replication queue full: %w", ErrBusy), http.StatusServiceUnavailable},
		{errors.New("disk failed"), http.StatusInternalServerError},
	}
	for _, tc := range cases {
		ctrl := &fakeController{err: tc.err}
		ts := startServer(t, New(newTestSource(t), ctrl, nil))
		resp, body := post(t, ts.URL+"/control/prefetch", taskJSON)
		if resp.StatusCode != tc.status {
			t.Errorf("controller error %q: status %d, want %d", tc.err, resp.StatusCode, tc.status)
		}
		if !strings.Contains(body, tc.err.Error()) {
			t.Errorf("controller error %q: body %s does not carry the message", tc.err, body)
		}
	}
}
