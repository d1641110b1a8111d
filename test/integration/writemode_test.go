package integration

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

// TestLargePutReachesBackend checks that a 64 MiB object, above the
// multipart threshold, reaches S3 as a multipart upload in both modes.
func TestLargePutReachesBackend(t *testing.T) {
	env := newS3Env(t)
	p := startPeer(t, peerOptions{backend: env.config(8 << 20)})
	const size = 64 << 20
	want := dataMD5(1, size)
	for _, mode := range []api.Mode{api.WriteBack, api.AsyncWriteBack} {
		key := "large-" + mode.String()
		env.proxy.Reset()
		info, err := p.client.PutObject(context.Background(), env.bucket, key, data(1, size), client.PutObjectOptions{Mode: mode})
		if err != nil {
			t.Fatalf("%s: put: %v", mode, err)
		}
		if info.Digest != want {
			t.Errorf("%s: upload digest %s, want %s", mode, info.Digest, want)
		}
		env.waitBackend(t, key, want, 60*time.Second)
		if parts := env.proxy.CountUploadParts(); parts < 2 {
			t.Errorf("%s: backend saw %d UploadPart requests, want a multipart upload", mode, parts)
		}
		if _, meta, _ := env.objectMD5(t, key); meta != want {
			t.Errorf("%s: backend digest metadata %q, want %q", mode, meta, want)
		}
	}
}

// TestAsyncReadYourWrites overwrites an object in AsyncWriteBack mode while
// the backend is down and reads it back at once.
func TestAsyncReadYourWrites(t *testing.T) {
	env := newS3Env(t)
	p := startPeer(t, peerOptions{backend: env.config(0)})
	ctx := context.Background()
	putBytes(t, p, env.bucket, "ryw", []byte("old version"), client.PutObjectOptions{Mode: api.WriteBack})
	if got, _ := getBytes(t, p, env.bucket, "ryw"); string(got) != "old version" {
		t.Fatalf("first GET = %q", got)
	}

	env.proxy.SetDown(true)
	putBytes(t, p, env.bucket, "ryw", []byte("new version"), client.PutObjectOptions{Mode: api.AsyncWriteBack})
	got, obj := getBytes(t, p, env.bucket, "ryw")
	if string(got) != "new version" {
		t.Errorf("GET right after async PUT = %q, want the new bytes", got)
	}
	if obj.Source != api.SourceLocal {
		t.Errorf("source header %q, want %q", obj.Source, api.SourceLocal)
	}
	info, err := p.client.StatObject(ctx, env.bucket, "ryw")
	if err != nil || info.Digest != md5Of([]byte("new version")) || info.Size != 11 {
		t.Errorf("HEAD after async PUT = %+v (err %v), want the new version", info, err)
	}
	env.proxy.SetDown(false)
	env.waitBackend(t, "ryw", md5Of([]byte("new version")), 30*time.Second)
}

func TestWriteBackRetriesBackend503(t *testing.T) {
	env := newS3Env(t)
	p := startPeer(t, peerOptions{backend: env.config(0)})
	env.proxy.Reset()
	env.proxy.FailNext(1, http.StatusServiceUnavailable)
	putBytes(t, p, env.bucket, "retry", []byte("retry me"), client.PutObjectOptions{Mode: api.WriteBack})
	sum, _, err := env.objectMD5(t, "retry")
	if err != nil || sum != md5Of([]byte("retry me")) {
		t.Fatalf("backend object: %s, %v", sum, err)
	}
	injected := 0
	for _, r := range env.proxy.Requests() {
		if r.Injected && r.Status == http.StatusServiceUnavailable {
			injected++
		}
	}
	if injected != 1 {
		t.Errorf("proxy injected %d 503 answers, want 1 (the test's premise)", injected)
	}
}

// TestAsyncSurvivesCrash writes with the backend down, kills the daemon
// with SIGKILL, fills the cache past its quota with evictable objects,
// brings the backend back and checks that every acknowledged object lands.
func TestAsyncSurvivesCrash(t *testing.T) {
	env := newS3Env(t)
	p := startPeer(t, peerOptions{backend: env.config(0), diskQuota: "24MiB"})
	env.proxy.SetDown(true)
	const size = 4 << 20
	keys := []string{"crash-0", "crash-1", "crash-2"}
	for i, key := range keys {
		if _, err := p.client.PutObject(context.Background(), env.bucket, key, data(uint64(100+i), size), client.PutObjectOptions{Mode: api.AsyncWriteBack}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	p.kill()
	p.start()

	// Ephemeral writes compete for the 24 MiB quota; only they may go.
	for i := range 4 {
		if _, err := p.client.PutObject(context.Background(), env.bucket, "filler-"+strconv.Itoa(i), data(uint64(200+i), size), client.PutObjectOptions{Mode: api.Ephemeral}); err != nil {
			t.Fatalf("ephemeral put %d: %v", i, err)
		}
	}
	env.proxy.SetDown(false)
	for i, key := range keys {
		env.waitBackend(t, key, dataMD5(uint64(100+i), size), 60*time.Second)
	}
}

func TestAsyncIntoMissingBucket(t *testing.T) {
	env := newS3Env(t)
	p := startPeer(t, peerOptions{backend: env.config(0)})
	_, err := p.client.PutObject(context.Background(), "no-such-bucket", "k", stringsReader("x"), client.PutObjectOptions{Mode: api.AsyncWriteBack})
	var er *client.ErrorResponse
	if !asErrorResponse(err, &er) || er.StatusCode != http.StatusNotFound {
		t.Fatalf("async PUT into missing bucket: err %v, want a 404 at once", err)
	}

	// With the backend unreachable the peer cannot know, so it accepts.
	env.proxy.SetDown(true)
	if _, err := p.client.PutObject(context.Background(), "other-bucket", "k", stringsReader("x"), client.PutObjectOptions{Mode: api.AsyncWriteBack}); err != nil {
		t.Fatalf("async PUT with backend down: %v, want accepted", err)
	}
	env.srv.CreateBucket(t, "other-bucket")
	env.proxy.SetDown(false)
	env.bucket = "other-bucket"
	env.waitBackend(t, "k", md5Of([]byte("x")), 30*time.Second)
}
