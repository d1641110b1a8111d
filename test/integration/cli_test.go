package integration

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

// dfstore runs the dfstore binary and returns its stdout, stderr and exit
// code.
func dfstore(t *testing.T, stdin io.Reader, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "dfstore"), args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run dfstore: %v", err)
	}
	return stdout.String(), stderr.String(), code
}

func writeFile(t *testing.T, seed uint64, size int64) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "src.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	if _, err := io.Copy(io.MultiWriter(f, h), data(seed, size)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path, "md5:" + hex.EncodeToString(h.Sum(nil))
}

func fileMD5(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, _ := readMD5(t, f)
	return sum
}

func TestCLIRoundTripFS(t *testing.T) {
	p, root := fsPeer(t)
	src, sum := writeFile(t, 11, 5<<20+123)
	dst := filepath.Join(t.TempDir(), "copy")
	if _, stderr, code := dfstore(t, nil, "cp", src, "dfs://demo/a/b.bin", "-e", p.URL); code != 0 {
		t.Fatalf("cp up: exit %d: %s", code, stderr)
	}
	if _, stderr, code := dfstore(t, nil, "cp", "dfs://demo/a/b.bin", dst, "-e", p.URL); code != 0 {
		t.Fatalf("cp down: exit %d: %s", code, stderr)
	}
	if got := fileMD5(t, dst); got != sum {
		t.Errorf("downloaded md5 %s, want %s", got, sum)
	}
	waitFile(t, filepath.Join(root, "demo", "a", "b.bin"), sum)
}

func TestCLIWriteBackFlagsS3(t *testing.T) {
	env := newS3Env(t)
	p := startPeer(t, peerOptions{backend: env.config(0)})
	src, sum := writeFile(t, 12, 3<<20)
	_, stderr, code := dfstore(t, nil, "cp", "-m", "1", "--max-replicas", "2", "--filter", "X", "-e", p.URL, src, "dfs://"+env.bucket+"/cli/obj")
	if code != 0 {
		t.Fatalf("cp -m 1: exit %d: %s", code, stderr)
	}
	// WriteBack: the backend has it the moment the command exits.
	got, meta, err := env.objectMD5(t, "cli/obj")
	if err != nil || got != sum || meta != sum {
		t.Errorf("backend object md5 %s, digest metadata %q (err %v), want %s", got, meta, err, sum)
	}

	out, stderr, code := dfstore(t, nil, "cp", "-e", p.URL, "dfs://"+env.bucket+"/cli/obj", "-")
	if code != 0 || md5Of([]byte(out)) != sum {
		t.Errorf("cp to stdout: exit %d, md5 %s, want %s: %s", code, md5Of([]byte(out)), sum, stderr)
	}
	out, _, code = dfstore(t, nil, "stat", "-e", p.URL, "dfs://"+env.bucket+"/cli/obj")
	if code != 0 || !strings.Contains(out, sum) {
		t.Errorf("stat: exit %d, output %q does not show digest %s", code, out, sum)
	}
	out, _, code = dfstore(t, nil, "ls", "-r", "-e", p.URL, "dfs://"+env.bucket+"/cli/")
	if code != 0 || !strings.Contains(out, "cli/obj") {
		t.Errorf("ls: exit %d, output %q does not list cli/obj", code, out)
	}
	if _, stderr, code := dfstore(t, nil, "rm", "-e", p.URL, "dfs://"+env.bucket+"/cli/obj"); code != 0 {
		t.Errorf("rm: exit %d: %s", code, stderr)
	}
	if _, _, err := env.objectMD5(t, "cli/obj"); err == nil {
		t.Errorf("backend still has cli/obj after rm")
	}
}

func TestCLIErrors(t *testing.T) {
	p, _ := fsPeer(t)
	_, stderr, code := dfstore(t, nil, "cp", "-e", p.URL, "dfs://demo/missing", filepath.Join(t.TempDir(), "x"))
	if code == 0 || !strings.Contains(stderr, "dfs://demo/missing") {
		t.Errorf("missing object: exit %d, stderr %q; want non-zero naming the URL", code, stderr)
	}
	_, stderr, code = dfstore(t, nil, "cp", "-e", "http://127.0.0.1:1", "dfs://demo/x", "-")
	if code == 0 || !strings.Contains(stderr, "127.0.0.1:1") {
		t.Errorf("unreachable daemon: exit %d, stderr %q; want non-zero naming the endpoint", code, stderr)
	}
}

// TestSixGiBObject moves a 6 GiB object end to end; -short skips it.
func TestSixGiBObject(t *testing.T) {
	if testing.Short() {
		t.Skip("6 GiB transfer; run without -short")
	}
	env := newS3Env(t)
	cfg := env.config(64 << 20)
	// NOTE: versitygw v1.8.0 returned 500 InternalError to
	// CompleteMultipartUpload of this object in 1229 parts of 5 MiB.
	// 16 MiB parts (384 of them, the daemon's default size) complete.
	cfg.PartSize = 16 << 20
	p := startPeer(t, peerOptions{backend: cfg})
	const size = 6 << 30
	want := dataMD5(6, size)
	ctx := context.Background()
	if _, err := p.client.PutObject(ctx, env.bucket, "six", data(6, size), client.PutObjectOptions{Mode: api.WriteBack}); err != nil {
		t.Fatal(err)
	}
	obj, err := p.client.GetObject(ctx, env.bucket, "six", client.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, n := readMD5(t, obj)
	obj.Close()
	if got != want || n != size {
		t.Errorf("GET: %d bytes md5 %s, want %d bytes %s", n, got, int64(size), want)
	}
	env.waitBackend(t, "six", want, 10*time.Minute)
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil && fileMD5(t, path) == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("backend file %s does not have md5 %s", path, want)
}
