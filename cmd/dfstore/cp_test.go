package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dfcache/dfcache/client/clienttest"
	"github.com/dfcache/dfcache/digest"
)

// result is the outcome of one in-process dfstore run.
type result struct {
	stdout, stderr string
	code           int
}

func runCLI(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, stdin, &stdout, &stderr)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func writeTempFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func md5Digest(data []byte) string {
	sum := md5.Sum(data)
	return digest.FormatMD5(sum[:])
}

func formValue(req clienttest.Request, name string) (string, bool) {
	for _, part := range req.Form {
		if part.Name == name {
			return part.Value, true
		}
	}
	return "", false
}

func TestCpUploadFlagsReachRequest(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	data := []byte("hello world")
	src := writeTempFile(t, "hello.txt", data)

	res := runCLI(t, nil, "cp", "-m", "1", "--max-replicas", "2", "--filter", "Expires&Signature", "-e", srv.URL, src, "dfs://bkt/dir/k")

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	want := map[string]string{"mode": "1", "maxReplicas": "2", "filter": "Expires&Signature", "file": string(data), "digest": md5Digest(data)}
	for name, value := range want {
		if got, _ := formValue(reqs[0], name); got != value {
			t.Errorf("form field %s = %q, want %q", name, got, value)
		}
	}
	if reqs[0].EscapedPath != "/buckets/bkt/objects/dir/k" {
		t.Errorf("path = %s, want /buckets/bkt/objects/dir/k", reqs[0].EscapedPath)
	}
	if obj, ok := srv.Object("bkt", "dir/k"); !ok || !bytes.Equal(obj.Data, data) {
		t.Errorf("stored %q (exists %v), want %q", obj.Data, ok, data)
	}
	summary := regexp.MustCompile(`^uploaded 11 B to dfs://bkt/dir/k in \S+ \(\S+ \S+/s\)\n$`)
	if !summary.MatchString(res.stderr) {
		t.Errorf("stderr = %q, want one summary line matching %s", res.stderr, summary)
	}
	if res.stdout != "" {
		t.Errorf("stdout = %q, want nothing", res.stdout)
	}
}

func TestCpUploadModeNames(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	src := writeTempFile(t, "f", []byte("x"))
	for flag, want := range map[string]string{"async": "0", "writeback": "1", "WriteBack": "1", "0": "0", "2": "2", "ephemeral": "2"} {
		before := len(srv.Requests())

		res := runCLI(t, nil, "cp", "--mode", flag, "-e", srv.URL, src, "dfs://bkt/k")

		if res.code != 0 {
			t.Fatalf("--mode %s: exit status %d, stderr %q", flag, res.code, res.stderr)
		}
		if got, _ := formValue(srv.Requests()[before], "mode"); got != want {
			t.Errorf("--mode %s sent mode %q, want %q", flag, got, want)
		}
	}
}

func TestCpUploadDefaults(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	src := writeTempFile(t, "f", []byte("x"))

	res := runCLI(t, nil, "cp", "-e", srv.URL, src, "dfs://bkt/k")

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	req := srv.Requests()[0]
	if got, _ := formValue(req, "mode"); got != "0" {
		t.Errorf("mode = %q, want 0", got)
	}
	if got, _ := formValue(req, "maxReplicas"); got != "3" {
		t.Errorf("maxReplicas = %q, want 3", got)
	}
	if _, ok := formValue(req, "filter"); ok {
		t.Error("the form has a filter field, want none without --filter")
	}
}

func TestCpUploadToPrefixUsesBaseName(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	src := writeTempFile(t, "photo one.jpg", []byte("jpeg"))

	res := runCLI(t, nil, "cp", "-e", srv.URL, src, "dfs://bkt/photos/")

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	if obj, ok := srv.Object("bkt", "photos/photo one.jpg"); !ok || string(obj.Data) != "jpeg" {
		t.Errorf("object photos/photo one.jpg holds %q (exists %v), want jpeg", obj.Data, ok)
	}
}

func TestCpUploadFromStdin(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	data := bytes.Repeat([]byte("stdin data "), 5000)

	res := runCLI(t, bytes.NewReader(data), "cp", "-q", "-e", srv.URL, "-", "dfs://bkt/from-stdin")

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	if obj, _ := srv.Object("bkt", "from-stdin"); !bytes.Equal(obj.Data, data) {
		t.Errorf("stored %d bytes, want the %d bytes of stdin", len(obj.Data), len(data))
	}
	if got, _ := formValue(srv.Requests()[0], "digest"); got != md5Digest(data) {
		t.Errorf("digest field = %s, want %s", got, md5Digest(data))
	}
	if res.stderr != "" {
		t.Errorf("stderr = %q, want nothing with -q", res.stderr)
	}
}

// gatedReader yields head, then waits until release is closed before it
// yields io.EOF, so a test can tell whether data left before the end.
type gatedReader struct {
	head     []byte
	release  <-chan struct{}
	timedOut bool
}

func (r *gatedReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	select {
	case <-r.release:
		return 0, io.EOF
	case <-time.After(10 * time.Second):
		r.timedOut = true
		return 0, errors.New("server saw no file bytes within 10s")
	}
}

func TestCpUploadStreamsStdin(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	head := bytes.Repeat([]byte("s"), 64<<10)
	stdin := &gatedReader{head: head, release: srv.FileDataSeen()}

	res := runCLI(t, stdin, "cp", "-e", srv.URL, "-", "dfs://bkt/streamed")

	if stdin.timedOut {
		t.Fatal("the server received no file bytes before stdin ended: the upload is buffered, not streamed")
	}
	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	if obj, _ := srv.Object("bkt", "streamed"); !bytes.Equal(obj.Data, head) {
		t.Errorf("stored %d bytes, want %d", len(obj.Data), len(head))
	}
}

func TestCpDownloadToFile(t *testing.T) {
	srv := clienttest.New(t)
	data := bytes.Repeat([]byte("object bytes "), 10000)
	srv.PutObject("bkt", "dir/obj.bin", data)
	target := filepath.Join(t.TempDir(), "out.bin")

	res := runCLI(t, nil, "cp", "--filter", "Signature", "-e", srv.URL, "dfs://bkt/dir/obj.bin", target)

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	got, err := os.ReadFile(target)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("target has %d bytes (%v), want the object's %d bytes", len(got), err, len(data))
	}
	if q := srv.Requests()[0].Query.Get("filter"); q != "Signature" {
		t.Errorf("filter query = %q, want Signature", q)
	}
	summary := regexp.MustCompile(`^downloaded 127\.0 KiB from dfs://bkt/dir/obj\.bin to ` + regexp.QuoteMeta(target) + ` in \S+ \(\S+ \S+/s\), source local\n$`)
	if !summary.MatchString(res.stderr) {
		t.Errorf("stderr = %q, want one summary line matching %s", res.stderr, summary)
	}
}

func TestCpDownloadToDirectory(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "a/b/name.txt", []byte("content"))
	dir := t.TempDir()

	res := runCLI(t, nil, "cp", "-e", srv.URL, "dfs://bkt/a/b/name.txt", dir)

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "name.txt"))
	if err != nil || string(got) != "content" {
		t.Errorf("%s/name.txt = %q (%v), want content", dir, got, err)
	}
}

func TestCpDownloadToStdout(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "k", []byte("to stdout"))

	res := runCLI(t, nil, "cp", "-q", "-e", srv.URL, "dfs://bkt/k", "-")

	if res.code != 0 || res.stdout != "to stdout" {
		t.Errorf("exit status %d, stdout %q; want 0 and %q", res.code, res.stdout, "to stdout")
	}
}

func assertDirEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s contains %s after a failed download, want no file", dir, e.Name())
	}
}

func TestCpDownloadShortBodyLeavesNoFile(t *testing.T) {
	srv := clienttest.New(t)
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Length", "1000")
		w.Write(bytes.Repeat([]byte("x"), 300))
		return true
	})
	dir := t.TempDir()

	res := runCLI(t, nil, "cp", "-e", srv.URL, "dfs://bkt/k", filepath.Join(dir, "out"))

	if res.code != 1 {
		t.Errorf("exit status %d, want 1", res.code)
	}
	if !strings.Contains(res.stderr, "got 300 of 1000 bytes") || strings.Count(res.stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one line naming 300 of 1000 bytes", res.stderr)
	}
	assertDirEmpty(t, dir)
}

func TestCpDownloadDigestMismatchLeavesNoFile(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "k", []byte("actual"))
	srv.SetObjectDigest("bkt", "k", md5Digest([]byte("expected")))
	dir := t.TempDir()

	res := runCLI(t, nil, "cp", "-e", srv.URL, "dfs://bkt/k", dir+"/")

	if res.code != 1 || !strings.Contains(res.stderr, "digest mismatch") {
		t.Errorf("exit status %d, stderr %q; want 1 and a digest mismatch", res.code, res.stderr)
	}
	assertDirEmpty(t, dir)
}

func TestCpDownloadKeepsOldFileOnFailure(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "k", []byte("new"))
	srv.SetObjectDigest("bkt", "k", md5Digest([]byte("other")))
	target := writeTempFile(t, "existing", []byte("old content"))

	res := runCLI(t, nil, "cp", "-e", srv.URL, "dfs://bkt/k", target)

	if res.code != 1 {
		t.Errorf("exit status %d, want 1", res.code)
	}
	if got, _ := os.ReadFile(target); string(got) != "old content" {
		t.Errorf("target = %q after a failed download, want its old content", got)
	}
}

func TestCpNotFound(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	dir := t.TempDir()

	res := runCLI(t, nil, "cp", "-e", srv.URL, "dfs://bkt/missing", dir)

	if res.code != 1 || res.stderr != "dfs://bkt/missing: object not found\n" {
		t.Errorf("exit status %d, stderr %q; want 1 and %q", res.code, res.stderr, "dfs://bkt/missing: object not found\n")
	}
	assertDirEmpty(t, dir)
}

func TestCpServerMessage(t *testing.T) {
	srv := clienttest.New(t)
	src := writeTempFile(t, "f", []byte("x"))

	res := runCLI(t, nil, "cp", "-e", srv.URL, src, "dfs://nobucket/k")

	if res.code != 1 || res.stderr != "dfs://nobucket/k: bucket not found\n" {
		t.Errorf("exit status %d, stderr %q; want 1 and %q", res.code, res.stderr, "dfs://nobucket/k: bucket not found\n")
	}
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"errors":"backend upload failed: access denied"}`))
		return true
	})

	res = runCLI(t, nil, "cp", "-e", srv.URL, src, "dfs://bkt/k")

	want := "PUT dfs://bkt/k: 500 Internal Server Error: backend upload failed: access denied\n"
	if res.code != 1 || res.stderr != want {
		t.Errorf("exit status %d, stderr %q; want 1 and %q", res.code, res.stderr, want)
	}
}

func closedEndpoint(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + listener.Addr().String()
	listener.Close()
	return endpoint
}

func TestCpUnreachableDaemon(t *testing.T) {
	endpoint := closedEndpoint(t)
	src := writeTempFile(t, "f", []byte("x"))

	res := runCLI(t, nil, "cp", "-e", endpoint, src, "dfs://bkt/k")

	if res.code != 1 {
		t.Errorf("exit status %d, want 1", res.code)
	}
	if !strings.HasPrefix(res.stderr, "cannot reach dfdaemon at "+endpoint+": ") {
		t.Errorf("stderr = %q, want it to start with cannot reach dfdaemon at %s", res.stderr, endpoint)
	}
	if !strings.HasSuffix(res.stderr, "; start it with `dfdaemon --config FILE` or pass --endpoint\n") {
		t.Errorf("stderr = %q, want the hint to start dfdaemon or pass --endpoint", res.stderr)
	}
}

func TestCpUsageErrors(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	src := writeTempFile(t, "f", []byte("x"))
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"two dfs URLs", []string{"dfs://bkt/a", "dfs://bkt/b"}, "exactly one dfs:// URL, got two"},
		{"two local paths", []string{src, "/tmp/x"}, "got two local paths"},
		{"s3 URL", []string{src, "s3://bkt/k"}, "does not take s3:// URLs"},
		{"mode 3", []string{"-m", "3", src, "dfs://bkt/k"}, `invalid --mode "3"`},
		{"mode word", []string{"-m", "fast", src, "dfs://bkt/k"}, `invalid --mode "fast"`},
		{"zero replicas", []string{"--max-replicas", "0", src, "dfs://bkt/k"}, "invalid --max-replicas 0: must be 1 to 100"},
		{"101 replicas", []string{"--max-replicas", "101", src, "dfs://bkt/k"}, "invalid --max-replicas 101"},
		{"replicas not a number", []string{"--max-replicas", "many", src, "dfs://bkt/k"}, "invalid argument"},
		{"one argument", []string{src}, "needs SOURCE and TARGET, got 1"},
		{"unknown flag", []string{"--fast", src, "dfs://bkt/k"}, "unknown flag: --fast"},
		{"bad bucket", []string{src, "dfs://B/k"}, "invalid bucket name"},
		{"download without key", []string{"dfs://bkt/", "/tmp/x"}, "missing object key"},
		{"stdin to prefix", []string{"-", "dfs://bkt/dir/"}, "give an object key when reading stdin"},
		{"bad endpoint", []string{"-e", "ftp://127.0.0.1", src, "dfs://bkt/k"}, "scheme must be http or https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"cp", "-e", srv.URL}, tt.args...)

			res := runCLI(t, nil, args...)

			if res.code != 2 {
				t.Errorf("exit status %d, want 2", res.code)
			}
			if !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.wantErr)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("server got %d requests, want 0 for invalid command lines", n)
	}
}

func TestCpHelpHidesEphemeralMode(t *testing.T) {
	res := runCLI(t, nil, "cp", "--help")

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "1 or writeback") {
		t.Errorf("help = %q, want the writeback mode described", res.stdout)
	}
	if strings.Contains(res.stdout, "ephemeral") || strings.Contains(res.stdout, "2 or") {
		t.Errorf("help mentions mode 2: %q", res.stdout)
	}
}

func TestCpInterruptedDownloadLeavesNoFile(t *testing.T) {
	srv := clienttest.New(t)
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Length", "1000")
		w.Write(bytes.Repeat([]byte("x"), 100))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return true
	})
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"cp", "-e", srv.URL, "dfs://bkt/k", filepath.Join(dir, "out")}, nil, &stdout, &stderr)
	}()

	// Interrupt once the partial download is on disk.
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, _ := os.ReadDir(dir)
		if len(entries) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no temporary file appeared in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	code := <-done

	if code != 1 || !strings.Contains(stderr.String(), "context canceled") {
		t.Errorf("exit status %d, stderr %q; want 1 and context canceled", code, stderr.String())
	}
	assertDirEmpty(t, dir)
}
