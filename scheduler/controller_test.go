package scheduler

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// controlServer is an upload server fake that records the last request.
type controlServer struct {
	status int
	path   string
	ctype  string
	body   []byte
}

func startControlServer(t *testing.T, status int) (*controlServer, *schedulerpb.Host) {
	t.Helper()
	cs := &controlServer{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.path = r.Method + " " + r.URL.Path
		cs.ctype = r.Header.Get("Content-Type")
		cs.body, _ = io.ReadAll(r.Body)
		w.WriteHeader(cs.status)
		_, _ = io.WriteString(w, "disk full\n")
	}))
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return cs, &schedulerpb.Host{Id: "seed-1", Ip: host, UploadPort: int32(p)}
}

func TestHTTPControllerRequests(t *testing.T) {
	cs, host := startControlServer(t, http.StatusAccepted)
	c := NewHTTPHostController(nil)
	task := newTask("a.bin", "v1", 1)
	ctx := context.Background()
	cases := []struct {
		path string
		call func() error
		want func(body []byte) bool
	}{
		{"POST /control/prefetch", func() error { return c.Prefetch(ctx, host, task) }, taskIs(task.GetId())},
		{"POST /control/writeback", func() error { return c.WriteBack(ctx, host, task) }, taskIs(task.GetId())},
		{"POST /control/replicate", func() error {
			return c.Replicate(ctx, host, &schedulerpb.ReplicateRequest{Task: task, Sources: []*schedulerpb.Host{host}})
		}, func(b []byte) bool {
			var r schedulerpb.ReplicateRequest
			return protojson.Unmarshal(b, &r) == nil && r.GetTask().GetId() == task.GetId() && len(r.GetSources()) == 1
		}},
		{"POST /control/delete", func() error {
			return c.Delete(ctx, host, &schedulerpb.DeleteObjectRequest{Bucket: "bucket", Key: "k"})
		}, func(b []byte) bool {
			var r schedulerpb.DeleteObjectRequest
			return protojson.Unmarshal(b, &r) == nil && r.GetKey() == "k" && r.GetBucket() == "bucket"
		}},
	}
	for _, tc := range cases {
		if err := tc.call(); err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if cs.path != tc.path {
			t.Errorf("request = %q; want %q", cs.path, tc.path)
		}
		if cs.ctype != "application/json" {
			t.Errorf("%s Content-Type = %q; want application/json", tc.path, cs.ctype)
		}
		if !tc.want(cs.body) {
			t.Errorf("%s body = %s; want the protojson message", tc.path, cs.body)
		}
	}
}

func taskIs(id string) func([]byte) bool {
	return func(b []byte) bool {
		var got schedulerpb.Task
		return protojson.Unmarshal(b, &got) == nil && got.GetId() == id
	}
}

func TestHTTPControllerErrorStatus(t *testing.T) {
	_, host := startControlServer(t, http.StatusInternalServerError)

	err := NewHTTPHostController(nil).Prefetch(context.Background(), host, newTask("a.bin", "v1", 1))

	if err == nil {
		t.Fatal("Prefetch with status 500 returned nil; want an error")
	}
	for _, want := range []string{"prefetch", "seed-1", "status 500", "disk full"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
