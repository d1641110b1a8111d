package cluster

import (
	"errors"
	"net/http"
	"testing"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

// TestEphemeralSurvivesRestart restarts the peer holding an Ephemeral
// object: it must announce the object again and serve it, to itself and
// to another peer, although the backend never had it.
func TestEphemeralSurvivesRestart(t *testing.T) {
	c := startCluster(t, 2, 0)
	holder, reader := c.peers[0], c.peers[1]
	obj := newContent(70, 3<<20)
	holder.put(t, c.bucket, "ephemeral", obj, client.PutObjectOptions{Mode: api.Ephemeral})

	holder.stop()
	c.restart(holder)
	c.waitJoined(holder)
	waitFor(t, _backendTimeout, "cached objects announced after restart", func() bool {
		return holder.logLineHas(`msg="announced cached objects"`, "announced=1")
	})
	checkGot(t, "GET on the restarted holder", holder.get(t, c.bucket, "ephemeral"), obj, api.SourceLocal)
	checkGot(t, "GET on the other peer", reader.get(t, c.bucket, "ephemeral"), obj, api.SourcePeer)
}

// TestPendingHolderGoneAnswers503 kills the only holder of an
// AsyncWriteBack object before its write-back and replicas: another peer
// must answer 503 with the reason, not a cut body or a 404.
func TestPendingHolderGoneAnswers503(t *testing.T) {
	c := startCluster(t, 2, 0)
	writer, reader := c.peers[0], c.peers[1]
	obj := newContent(71, 2<<20)

	c.proxy.SetDown(true)
	writer.put(t, c.bucket, "orphan", obj, client.PutObjectOptions{Mode: api.AsyncWriteBack})
	writer.kill()

	_, err := reader.tryGet(c.bucket, "orphan")
	var er *client.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("GET with the only holder gone: err %v, want a 503 answer", err)
	}
	if er.Message == "" {
		t.Errorf("503 answer has no message")
	}
}
