package cluster

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"testing"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

// TestParentKilledMidTransfer kills the seed peer that a peer is
// following while the seed's own backend download is still running. The
// peer must finish the object from the backend with range reads, and its
// client must get the correct bytes.
func TestParentKilledMidTransfer(t *testing.T) {
	c := startCluster(t, 1, 1)
	peer, seed := c.peers[0], c.seeds[0]
	obj := newContent(20, 64<<20)
	c.putS3("killed-parent", obj)

	// At 16 MiB/s the seed needs about 4 s for the object, so it is
	// still fetching when the peer's client has read 8 MiB.
	c.throttle.setRate(16 << 20)
	resp, err := peer.client.GetObject(context.Background(), c.bucket, "killed-parent", client.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GET on peer-1: %v", err)
	}
	defer resp.Close()
	if resp.Source != api.SourceSeedPeer {
		t.Errorf("source header %q, want %q (the premise: peer-1 follows the seed peer)", resp.Source, api.SourceSeedPeer)
	}
	h := md5.New()
	const before = 8 << 20
	if _, err := io.CopyN(h, resp, before); err != nil {
		t.Fatalf("read the first %d bytes: %v", before, err)
	}

	seed.kill()
	c.throttle.setRate(0)
	n, err := io.Copy(h, resp)
	if err != nil {
		t.Fatalf("read after the seed peer was killed, at byte %d: %v", before+n, err)
	}
	if sum := "md5:" + hex.EncodeToString(h.Sum(nil)); before+n != obj.size || sum != obj.md5() {
		t.Errorf("got %d bytes with %s, want %d bytes with %s", before+n, sum, obj.size, obj.md5())
	}
	// One GET is the seed's interrupted download; the rest are the peer's
	// range reads of the pieces the seed never delivered.
	if gets := c.s3GETs("killed-parent"); gets < 2 {
		t.Errorf("S3 GETs of the object: %d, want the seed's GET and at least one range read by peer-1", gets)
	}
	peer.waitCached(t, c.bucket, "killed-parent")
	checkGot(t, "GET on peer-1 after the fill", peer.get(t, c.bucket, "killed-parent"), obj, api.SourceLocal)
}
