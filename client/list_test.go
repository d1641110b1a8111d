package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
	"github.com/dfcache/dfcache/client/clienttest"
)

func TestListObjectsQuery(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)
	tests := []struct {
		opts      client.ListObjectsOptions
		wantQuery string
	}{
		{client.ListObjectsOptions{}, "limit=1000"},
		{client.ListObjectsOptions{Limit: 5000}, "limit=1000"},
		{client.ListObjectsOptions{Prefix: "a b/", Marker: "a b/c", Delimiter: "/", Limit: 7}, "delimiter=%2F&limit=7&marker=a+b%2Fc&prefix=a+b%2F"},
	}
	for i, tt := range tests {
		if _, err := c.ListObjects(context.Background(), "bkt", tt.opts); err != nil {
			t.Fatalf("ListObjects(%+v): %v", tt.opts, err)
		}
		req := srv.Requests()[i]
		if req.EscapedPath != "/buckets/bkt/metadatas" {
			t.Errorf("path = %s, want /buckets/bkt/metadatas", req.EscapedPath)
		}
		if got := req.Query.Encode(); got != tt.wantQuery {
			t.Errorf("ListObjects(%+v) query = %s, want %s", tt.opts, got, tt.wantQuery)
		}
	}
}

func TestListObjectsNegativeLimit(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)

	_, err := c.ListObjects(context.Background(), "bkt", client.ListObjectsOptions{Limit: -1})

	if err == nil || !strings.Contains(err.Error(), "invalid list limit -1") {
		t.Errorf("ListObjects error = %v, want invalid list limit", err)
	}
}

func putKeys(srv *clienttest.Server, keys ...string) {
	for _, key := range keys {
		srv.PutObject("bkt", key, []byte(key))
	}
}

func walkKeys(t *testing.T, c *client.Client, opts client.ListObjectsOptions) []string {
	t.Helper()
	var keys []string
	err := c.WalkObjects(context.Background(), "bkt", opts, func(m api.ObjectMetadata) error {
		keys = append(keys, m.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("WalkObjects: %v", err)
	}
	return keys
}

func TestWalkObjectsPages(t *testing.T) {
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("omit next marker %v", omit), func(t *testing.T) {
			srv := clienttest.New(t)
			if omit {
				srv.OmitNextMarker()
			}
			var want []string
			for i := range 25 {
				want = append(want, fmt.Sprintf("k%02d", i))
			}
			putKeys(srv, want...)
			c := newClient(t, srv)

			got := walkKeys(t, c, client.ListObjectsOptions{Limit: 10})

			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("keys = %v, want %v", got, want)
			}
			if n := len(srv.Requests()); n != 3 {
				t.Errorf("server got %d list requests, want 3 pages of 10, 10 and 5", n)
			}
		})
	}
}

func TestWalkObjectsDelimiter(t *testing.T) {
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("omit next marker %v", omit), func(t *testing.T) {
			srv := clienttest.New(t)
			if omit {
				srv.OmitNextMarker()
			}
			putKeys(srv, "a/1", "a/2", "a/3", "b", "c/x/y", "c/z", "d")
			c := newClient(t, srv)

			got := walkKeys(t, c, client.ListObjectsOptions{Delimiter: "/", Limit: 1})

			if want := "a/,b,c/,d"; strings.Join(got, ",") != want {
				t.Errorf("entries = %v, want %s", got, want)
			}
		})
	}
}

func TestWalkObjectsPrefix(t *testing.T) {
	srv := clienttest.New(t)
	putKeys(srv, "a/1", "a/2/x", "b/1")
	c := newClient(t, srv)

	got := walkKeys(t, c, client.ListObjectsOptions{Prefix: "a/", Delimiter: "/"})

	if want := "a/1,a/2/"; strings.Join(got, ",") != want {
		t.Errorf("entries = %v, want %s", got, want)
	}
}

func TestWalkObjectsStopsOnError(t *testing.T) {
	srv := clienttest.New(t)
	putKeys(srv, "a", "b", "c")
	c := newClient(t, srv)
	stop := errors.New("stop")
	var seen int

	err := c.WalkObjects(context.Background(), "bkt", client.ListObjectsOptions{}, func(api.ObjectMetadata) error {
		seen++
		return stop
	})

	if !errors.Is(err, stop) || seen != 1 {
		t.Errorf("WalkObjects = %v after %d calls, want the callback's error after 1 call", err, seen)
	}
}

func TestWalkObjectsRepeatedPage(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"CommonPrefixes":[],"Metadatas":[{"Key":"a"}],"NextMarker":"a"}`))
		return true
	})

	err := c.WalkObjects(context.Background(), "bkt", client.ListObjectsOptions{}, func(api.ObjectMetadata) error { return nil })

	if err == nil || !strings.Contains(err.Error(), "did not advance") {
		t.Errorf("WalkObjects error = %v, want a stuck listing error", err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("server got %d requests, want 2 before the loop is detected", n)
	}
}

func TestListObjectsBucketNotFound(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)

	_, err := c.ListObjects(context.Background(), "nobucket", client.ListObjectsOptions{})

	if !client.IsNotFound(err) {
		t.Errorf("ListObjects error = %v, want IsNotFound", err)
	}
}

func TestRemoveObject(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "k", []byte("x"))
	c := newClient(t, srv)

	if err := c.RemoveObject(context.Background(), "bkt", "k"); err != nil {
		t.Fatalf("RemoveObject: %v", err)
	}

	if _, ok := srv.Object("bkt", "k"); ok {
		t.Error("object still exists after RemoveObject")
	}
	if req := srv.Requests()[0]; req.Method != http.MethodDelete || req.EscapedPath != "/buckets/bkt/objects/k" {
		t.Errorf("request = %s %s, want DELETE /buckets/bkt/objects/k", req.Method, req.EscapedPath)
	}
}

func TestCopyObject(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "src key", []byte("payload"))
	c := newClient(t, srv)

	if err := c.CopyObject(context.Background(), "bkt", "src key", "dst/key"); err != nil {
		t.Fatalf("CopyObject: %v", err)
	}

	req := srv.Requests()[0]
	if req.Method != http.MethodPut || req.EscapedPath != "/buckets/bkt/objects/dst/key" {
		t.Errorf("request = %s %s, want PUT /buckets/bkt/objects/dst/key", req.Method, req.EscapedPath)
	}
	if got := req.Header.Get(api.HeaderOperation); got != api.CopyOperation {
		t.Errorf("%s = %q, want %q", api.HeaderOperation, got, api.CopyOperation)
	}
	if len(req.Form) != 1 || req.Form[0].Value != "src key" {
		t.Errorf("form = %+v, want source_object_key=src key", req.Form)
	}
	if obj, ok := srv.Object("bkt", "dst/key"); !ok || string(obj.Data) != "payload" {
		t.Errorf("copy holds %q (exists %v), want payload", obj.Data, ok)
	}
}

func TestCopyObjectSourceNotFound(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)

	err := c.CopyObject(context.Background(), "bkt", "missing", "dst")

	if !client.IsNotFound(err) {
		t.Errorf("CopyObject error = %v, want IsNotFound", err)
	}
}

func TestCreateBucket(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)

	if err := c.CreateBucket(context.Background(), "new-bucket"); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}

	if req := srv.Requests()[0]; req.Method != http.MethodPost || req.EscapedPath != "/buckets/new-bucket" {
		t.Errorf("request = %s %s, want POST /buckets/new-bucket", req.Method, req.EscapedPath)
	}
	if _, err := c.ListObjects(context.Background(), "new-bucket", client.ListObjectsOptions{}); err != nil {
		t.Errorf("ListObjects on the new bucket: %v", err)
	}
}

func TestHealthyAndBackendMetadata(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)

	if err := c.Healthy(context.Background()); err != nil {
		t.Errorf("Healthy: %v", err)
	}
	meta, err := c.BackendMetadata(context.Background())
	if err != nil {
		t.Fatalf("BackendMetadata: %v", err)
	}
	if want := (api.BackendMetadata{Name: "s3", Region: "us-east-1", Endpoint: "127.0.0.1"}); meta != want {
		t.Errorf("BackendMetadata = %+v, want %+v", meta, want)
	}
}

func TestServerErrorWithoutJSON(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "backend down", http.StatusBadGateway)
		return true
	})

	err := c.Healthy(context.Background())

	var resp *client.ErrorResponse
	if !errors.As(err, &resp) || resp.StatusCode != http.StatusBadGateway || resp.Message != "backend down" {
		t.Errorf("Healthy error = %#v, want 502 with message \"backend down\"", err)
	}
}

func TestUnreachableEndpoint(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + listener.Addr().String()
	listener.Close()
	c, err := client.New(endpoint)
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	err = c.Healthy(context.Background())

	if !errors.Is(err, client.ErrUnreachable) {
		t.Fatalf("Healthy error = %v, want ErrUnreachable", err)
	}
	if want := "cannot reach dfdaemon at " + endpoint + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message = %q, want prefix %q", err.Error(), want)
	}
}

func TestNewValidatesEndpoint(t *testing.T) {
	for endpoint, wantErr := range map[string]string{
		"ftp://127.0.0.1:21":        "scheme must be http or https",
		"127.0.0.1:65004":           "invalid endpoint",
		"http://":                   "missing host",
		"http://127.0.0.1:1/?x=1":   "must not contain",
		"http://u:p@127.0.0.1:1":    "must not contain",
		"http://127.0.0.1:1/#frag":  "must not contain",
		"http://127.0.0.1:1/%zzbad": "invalid endpoint",
	} {
		_, err := client.New(endpoint)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("New(%q) error = %v, want one containing %q", endpoint, err, wantErr)
		}
	}
}

func TestNewDefaultEndpoint(t *testing.T) {
	c, err := client.New("")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if c.Endpoint() != api.DefaultEndpoint {
		t.Errorf("Endpoint() = %s, want %s", c.Endpoint(), api.DefaultEndpoint)
	}
}

func TestEndpointPathPrefix(t *testing.T) {
	srv := clienttest.New(t)
	c, err := client.New(srv.URL + "/peer/")
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	c.StatObject(context.Background(), "bkt", "a b")

	if got := srv.Requests()[0].EscapedPath; got != "/peer/buckets/bkt/objects/a%20b" {
		t.Errorf("path = %s, want /peer/buckets/bkt/objects/a%%20b", got)
	}
}

func TestWithHTTPClient(t *testing.T) {
	srv := clienttest.New(t)
	var used int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used++
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := client.New(srv.URL, client.WithHTTPClient(hc))
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	if err := c.Healthy(context.Background()); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	if used != 1 {
		t.Errorf("custom client sent %d requests, want 1", used)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, bucket, key, wantErr string
	}{
		{in: "dfs://dragonfly/bar/foo/baz.jpg", bucket: "dragonfly", key: "bar/foo/baz.jpg"},
		{in: "dfs://bkt", bucket: "bkt"},
		{in: "dfs://bkt/", bucket: "bkt"},
		{in: "DFS://bkt/a b?c#d%", bucket: "bkt", key: "a b?c#d%"},
		{in: "s3://bkt/k", wantErr: "want dfs://BUCKET/KEY"},
		{in: "dfs:/bkt/k", wantErr: "want dfs://BUCKET/KEY"},
		{in: "dfs:///k", wantErr: "missing bucket"},
		{in: "dfs://Bad_Bucket/k", wantErr: "invalid bucket name"},
		{in: "dfs://bkt/a\x00b", wantErr: "control characters"},
	}
	for _, tt := range tests {
		bucket, key, err := client.ParseURL(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseURL(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || bucket != tt.bucket || key != tt.key {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", tt.in, bucket, key, err, tt.bucket, tt.key)
		}
	}
}
