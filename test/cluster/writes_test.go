package cluster

import (
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

// _backendTimeout bounds how long a write may take to reach S3 once the
// backend is reachable.
const _backendTimeout = 60 * time.Second

// TestAsyncWriteBackTakeover writes in AsyncWriteBack mode on peer-1 while
// the backend is down, reads the object on peer-2, then kills peer-1 and
// brings the backend back. The seed peer holding the replica must finish
// the write-back.
func TestAsyncWriteBackTakeover(t *testing.T) {
	c := startCluster(t, 2, 1)
	writer, reader := c.peers[0], c.peers[1]
	obj := newContent(50, 6<<20)

	c.proxy.SetDown(true)
	writer.put(t, c.bucket, "takeover", obj, client.PutObjectOptions{Mode: api.AsyncWriteBack, MaxReplicas: 1})
	checkGot(t, "GET on peer-2 while the backend is down", reader.get(t, c.bucket, "takeover"), obj, "")
	writer.waitReplicasPlaced(t, c.bucket, "takeover", 1)
	if _, err := c.s3MD5("takeover"); !isNoSuchKey(err) {
		t.Fatalf("S3 before the takeover: err %v, want NoSuchKey (the premise: the write is pending)", err)
	}

	writer.kill()
	c.proxy.SetDown(false)
	c.waitBackend("takeover", obj)
	if !c.scheduler.logContains(`msg="seed peer took over write-back"`) {
		t.Errorf("scheduler did not log a write-back takeover; the object reached S3 some other way")
	}
}

// TestOverwriteSeenByOtherPeer overwrites an object on peer-1 that peer-2
// has cached, in WriteBack mode and in AsyncWriteBack mode with the
// backend down, and reads the new bytes on peer-2.
func TestOverwriteSeenByOtherPeer(t *testing.T) {
	c := startCluster(t, 2, 1)
	writer, reader := c.peers[0], c.peers[1]
	for i, mode := range []api.Mode{api.WriteBack, api.AsyncWriteBack} {
		t.Run(mode.String(), func(t *testing.T) {
			key := "overwrite-" + mode.String()
			old, updated := newContent(uint64(60+2*i), 3<<20), newContent(uint64(61+2*i), 5<<20)
			writer.put(t, c.bucket, key, old, client.PutObjectOptions{Mode: api.WriteBack})
			checkGot(t, "GET of the old version on peer-2", reader.get(t, c.bucket, key), old, "")
			reader.waitCached(t, c.bucket, key)
			checkGot(t, "second GET of the old version on peer-2", reader.get(t, c.bucket, key), old, api.SourceLocal)

			if mode == api.AsyncWriteBack {
				c.proxy.SetDown(true)
			}
			writer.put(t, c.bucket, key, updated, client.PutObjectOptions{Mode: mode})
			checkGot(t, "GET on peer-2 after the overwrite", reader.get(t, c.bucket, key), updated, "")
			c.proxy.SetDown(false)
			c.waitBackend(key, updated)
			checkGot(t, "GET on peer-2 after the write-back", reader.get(t, c.bucket, key), updated, "")
		})
	}
}

// TestRemoveDropsEverywhere removes with `dfstore rm` on peer-1 an object
// that peer-2 and the seed peer hold, and checks that no daemon serves it
// afterwards and S3 no longer has it.
func TestRemoveDropsEverywhere(t *testing.T) {
	c := startCluster(t, 2, 1)
	writer, reader, seed := c.peers[0], c.peers[1], c.seeds[0]
	obj := newContent(70, 3<<20)
	writer.put(t, c.bucket, "removed", obj, client.PutObjectOptions{Mode: api.WriteBack, MaxReplicas: 1})
	writer.waitReplicasPlaced(t, c.bucket, "removed", 1)
	checkGot(t, "GET on peer-2", reader.get(t, c.bucket, "removed"), obj, "")
	reader.waitCached(t, c.bucket, "removed")

	out, err := exec.Command(filepath.Join(binDir, "dfstore"), "rm", "dfs://"+c.bucket+"/removed", "-e", writer.URL).CombinedOutput()
	if err != nil {
		t.Fatalf("dfstore rm: %v\n%s", err, out)
	}
	for _, d := range []*daemon{writer, reader, seed} {
		g, err := d.tryGet(c.bucket, "removed")
		if !client.IsNotFound(err) {
			t.Errorf("GET on %s after rm: %d bytes from %q (err %v), want 404", d.id, g.size, g.source, err)
		}
	}
	if _, err := c.s3MD5("removed"); !isNoSuchKey(err) {
		t.Errorf("S3 after rm: err %v, want NoSuchKey", err)
	}
}

// waitBackend polls versitygw until it holds key with the content's md5.
func (c *testCluster) waitBackend(key string, obj content) {
	c.t.Helper()
	var last string
	var lastErr error
	waitFor(c.t, _backendTimeout, key+" to reach S3 with "+obj.md5(), func() bool {
		last, lastErr = c.s3MD5(key)
		return lastErr == nil && last == obj.md5()
	})
}

func isNoSuchKey(err error) bool {
	var nsk *types.NoSuchKey
	return errors.As(err, &nsk)
}
