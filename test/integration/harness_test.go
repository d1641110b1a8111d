// Package integration runs real dfdaemon and dfstore processes on loopback
// against a real S3 server (versitygw) or the fs backend.
package integration

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gopkg.in/yaml.v3"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/client"
	"github.com/dfcache/dfcache/internal/testenv"
)

// binDir holds the dfdaemon and dfstore binaries built for this run.
var binDir string

func TestMain(m *testing.M) {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	dir, err := os.MkdirTemp("", "dfcache-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, name := range []string{"dfdaemon", "dfstore"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "../../cmd/"+name)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", name, err)
			os.Exit(1)
		}
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// peerOptions configure one dfdaemon.
type peerOptions struct {
	backend     backend.Config
	diskQuota   string
	metadataTTL time.Duration
}

// peer is a dfdaemon process with its own data directory and port.
type peer struct {
	t       *testing.T
	dir     string
	cfgPath string
	logPath string
	URL     string
	client  *client.Client

	cmd    *exec.Cmd
	exited chan error
}

func startPeer(t *testing.T, opts peerOptions) *peer {
	t.Helper()
	dir := t.TempDir()
	port := testenv.FreePort(t)
	p := &peer{
		t:       t,
		dir:     dir,
		cfgPath: filepath.Join(dir, "dfdaemon.yaml"),
		logPath: filepath.Join(dir, "dfdaemon.log"),
		URL:     fmt.Sprintf("http://127.0.0.1:%d", port),
	}
	writeConfig(t, p.cfgPath, dir, port, opts)
	c, err := client.New(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	p.client = c
	p.start()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			p.dumpLog()
		}
	})
	return p
}

func writeConfig(t *testing.T, path, dir string, port int, opts peerOptions) {
	quota := opts.diskQuota
	if quota == "" {
		quota = "20GiB"
	}
	cfg := map[string]any{
		"dataDir": filepath.Join(dir, "data"),
		"objectStorage": map[string]any{
			"tcpListen":   map[string]any{"listen": "127.0.0.1", "port": port},
			"backend":     opts.backend,
			"metadataTTL": opts.metadataTTL.String(),
			"writeBack":   map[string]any{"workers": 2, "minBackoff": "100ms", "maxBackoff": "500ms", "attempts": 4},
		},
		"cache": map[string]any{"diskQuota": quota, "pieceSize": "1MiB"},
		"log":   map[string]any{"level": "debug"},
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p *peer) start() {
	p.t.Helper()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd = exec.Command(filepath.Join(binDir, "dfdaemon"), "--config", p.cfgPath)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	logf.Close()
	p.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan error) { exited <- cmd.Wait() }(p.cmd, p.exited)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.exited:
			p.dumpLog()
			p.t.Fatalf("dfdaemon exited during start-up: %v", err)
		default:
		}
		if p.client.Healthy(context.Background()) == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("dfdaemon at %s not healthy after 30s", p.URL)
}

// stop ends the process with SIGTERM and waits for it.
func (p *peer) stop() { p.signal(syscall.SIGTERM) }

// kill ends the process with SIGKILL, as a crash would.
func (p *peer) kill() { p.signal(syscall.SIGKILL) }

func (p *peer) signal(sig syscall.Signal) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

func (p *peer) dumpLog() {
	data, _ := os.ReadFile(p.logPath)
	if len(data) > 8000 {
		data = data[len(data)-8000:]
	}
	p.t.Logf("dfdaemon log (tail):\n%s", data)
}

// s3Env is a versitygw server with a proxy in front and a bucket.
type s3Env struct {
	srv    *testenv.S3Server
	proxy  *testenv.Proxy
	bucket string
	s3     *s3.Client
}

func newS3Env(t *testing.T) *s3Env {
	t.Helper()
	srv := testenv.StartS3(t)
	env := &s3Env{srv: srv, proxy: testenv.NewProxy(t, srv.Endpoint), bucket: "it-bucket", s3: srv.Client()}
	srv.CreateBucket(t, env.bucket)
	return env
}

// config returns the backend configuration of a peer that reaches the S3
// server through the proxy, with multipart uploads from threshold bytes.
func (e *s3Env) config(threshold int64) backend.Config {
	cfg := e.srv.Config()
	cfg.Endpoint = e.proxy.URL
	cfg.MultipartThreshold = threshold
	cfg.PartSize = backend.MinPartSize
	return cfg
}

// objectMD5 reads an object straight from the S3 server and returns the
// md5 of its bytes and its "digest" user metadata.
func (e *s3Env) objectMD5(t *testing.T, key string) (sum, digestMeta string, err error) {
	t.Helper()
	out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		return "", "", err
	}
	defer out.Body.Close()
	h := md5.New()
	if _, err := io.Copy(h, out.Body); err != nil {
		return "", "", err
	}
	for k, v := range out.Metadata {
		if strings.EqualFold(k, "digest") {
			digestMeta = v
		}
	}
	return "md5:" + hex.EncodeToString(h.Sum(nil)), digestMeta, nil
}

// waitBackend polls until the S3 server holds key with the wanted md5.
func (e *s3Env) waitBackend(t *testing.T, key, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	var err error
	for time.Now().Before(deadline) {
		if got, _, err = e.objectMD5(t, key); err == nil && got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("backend object %s: md5 %s (err %v), want %s after %s", key, got, err, want, timeout)
}

// data is a deterministic pseudo-random stream of n bytes.
func data(seed uint64, n int64) io.Reader {
	return io.LimitReader(&randReader{r: rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}))}, n)
}

type randReader struct{ r *rand.Rand }

func (r *randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

// dataMD5 returns the digest of data(seed, n).
func dataMD5(seed uint64, n int64) string {
	h := md5.New()
	io.Copy(h, data(seed, n))
	return "md5:" + hex.EncodeToString(h.Sum(nil))
}

func md5Of(b []byte) string {
	sum := md5.Sum(b)
	return "md5:" + hex.EncodeToString(sum[:])
}

// readMD5 reads r to the end and returns its md5 and length.
func readMD5(t *testing.T, r io.Reader) (string, int64) {
	t.Helper()
	h := md5.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("read body after %d bytes: %v", n, err)
	}
	return "md5:" + hex.EncodeToString(h.Sum(nil)), n
}

// rawGet sends a GET with optional Range header and returns status, body
// and headers.
func rawGet(t *testing.T, url, rangeHeader string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body, resp.Header
}

func putBytes(t *testing.T, p *peer, bucket, key string, b []byte, opts client.PutObjectOptions) {
	t.Helper()
	if _, err := p.client.PutObject(context.Background(), bucket, key, bytes.NewReader(b), opts); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func getBytes(t *testing.T, p *peer, bucket, key string) ([]byte, *client.Object) {
	t.Helper()
	obj, err := p.client.GetObject(context.Background(), bucket, key, client.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return b, obj
}

func fsPeer(t *testing.T) (*peer, string) {
	root := filepath.Join(t.TempDir(), "backend")
	if err := os.MkdirAll(filepath.Join(root, "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	return startPeer(t, peerOptions{backend: backend.Config{Name: "fs", Endpoint: root}}), root
}
