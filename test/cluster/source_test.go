package cluster

import (
	"testing"

	"github.com/dfcache/dfcache/api"
)

// TestGetSourcePaths reads objects written straight to S3 so that each
// read path is taken once: a seed peer, the backend, another peer and the
// local cache. The source header and the S3 GETs of each object show the
// path.
func TestGetSourcePaths(t *testing.T) {
	c := startCluster(t, 2, 1)
	peer1, peer2, seed := c.peers[0], c.peers[1], c.seeds[0]
	viaSeed, viaBackend := newContent(1, 8<<20), newContent(2, 8<<20)
	c.putS3("via-seed", viaSeed)
	c.putS3("via-backend", viaBackend)

	checkGot(t, "first GET on peer-1 with a seed peer", peer1.get(t, c.bucket, "via-seed"), viaSeed, api.SourceSeedPeer)
	if n := c.s3GETs("via-seed"); n != 1 {
		t.Errorf("S3 GETs of via-seed after the seed peer's fill: %d, want 1", n)
	}
	peer1.waitCached(t, c.bucket, "via-seed")
	checkGot(t, "second GET on peer-1", peer1.get(t, c.bucket, "via-seed"), viaSeed, api.SourceLocal)
	checkGot(t, "GET on the seed peer", seed.get(t, c.bucket, "via-seed"), viaSeed, api.SourceLocal)
	if n := c.s3GETs("via-seed"); n != 1 {
		t.Errorf("S3 GETs of via-seed after local hits: %d, want 1", n)
	}

	// Without a seed peer the first reader fetches from the backend itself.
	seed.stop()
	c.waitGone(seed)
	checkGot(t, "first GET on peer-1 without a seed peer", peer1.get(t, c.bucket, "via-backend"), viaBackend, api.SourceBackend)
	if n := c.s3GETs("via-backend"); n != 1 {
		t.Errorf("S3 GETs of via-backend after peer-1's fill: %d, want 1", n)
	}
	checkGot(t, "GET on peer-2", peer2.get(t, c.bucket, "via-backend"), viaBackend, api.SourcePeer)
	peer2.waitCached(t, c.bucket, "via-backend")
	checkGot(t, "second GET on peer-2", peer2.get(t, c.bucket, "via-backend"), viaBackend, api.SourceLocal)
	if n := c.s3GETs("via-backend"); n != 1 {
		t.Errorf("S3 GETs of via-backend after peer-2 read it: %d, want 1 (peer-2 must read from peer-1)", n)
	}
	for source, want := range map[string]int64{api.SourcePeer: viaBackend.size, api.SourceLocal: viaBackend.size, api.SourceBackend: 0} {
		sample := `dfdaemon_object_bytes_served_total{source="` + source + `"}`
		if got := peer2.metric(t, sample); got != float64(want) {
			t.Errorf("peer-2 %s = %v, want %d", sample, got, want)
		}
	}
}

// TestStoppedPeerLeavesScheduler stops a peer with SIGTERM: it must tell
// the scheduler it leaves, so the scheduler stops sending readers to it
// at once instead of after three missed keepalives.
func TestStoppedPeerLeavesScheduler(t *testing.T) {
	c := startCluster(t, 1, 0)
	peer := c.peers[0]
	peer.stop()
	if !peer.logContains(`msg="left schedulers" host=peer-1`) {
		t.Errorf("peer-1 did not log that it left the schedulers")
	}
	if peer.logContains(`msg="leave schedulers failed`) {
		t.Errorf("peer-1 failed to leave the schedulers on SIGTERM; see its log")
	}
}

// TestQueryStringsShareTask reads one object through URLs whose query
// strings differ in signature and filter parameters. The task id comes
// from the object's identity only, so the second read on the same peer is
// local and a read on another peer comes from the first, with one S3 GET.
func TestQueryStringsShareTask(t *testing.T) {
	c := startCluster(t, 2, 0)
	obj := newContent(3, 4<<20)
	c.putS3("signed", obj)
	peer1, peer2 := c.peers[0], c.peers[1]

	signed := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&X-Amz-Signature=aaaa"
	checkGot(t, "signed GET on peer-1", peer1.getURL(t, c.bucket, "signed", signed), obj, api.SourceBackend)
	resigned := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240202T101010Z&X-Amz-Expires=60&X-Amz-Signature=bbbb"
	peer1.waitCached(t, c.bucket, "signed")
	checkGot(t, "GET with another signature on peer-1", peer1.getURL(t, c.bucket, "signed", resigned), obj, api.SourceLocal)
	filtered := "filter=Expires%26Signature&Expires=1700000000&Signature=cccc"
	checkGot(t, "filtered GET on peer-2", peer2.getURL(t, c.bucket, "signed", filtered), obj, api.SourcePeer)
	peer2.waitCached(t, c.bucket, "signed")
	checkGot(t, "second filtered GET on peer-2", peer2.getURL(t, c.bucket, "signed", "filter=ns&ns=x"), obj, api.SourceLocal)
	if n := c.s3GETs("signed"); n != 1 {
		t.Errorf("S3 GETs of the object: %d, want 1 for every query string on both peers", n)
	}
}
