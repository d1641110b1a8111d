package scheduler

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// HostController sends control requests to a host's upload server. Each
// method returns nil once the host accepted the work, which may continue
// in the background on the host.
type HostController interface {
	// Prefetch asks a seed peer to fetch the task from the backend and
	// announce itself as an in-progress holder.
	Prefetch(ctx context.Context, host *schedulerpb.Host, task *schedulerpb.Task) error
	// Replicate asks a seed peer to copy the task from req.Sources.
	Replicate(ctx context.Context, host *schedulerpb.Host, req *schedulerpb.ReplicateRequest) error
	// WriteBack asks a seed peer holding the pending task to take over its
	// backend upload.
	WriteBack(ctx context.Context, host *schedulerpb.Host, task *schedulerpb.Task) error
	// Delete asks a host to drop every cached version of the key and
	// cancel its pending write-back.
	Delete(ctx context.Context, host *schedulerpb.Host, req *schedulerpb.DeleteObjectRequest) error
}

// DefaultControlTimeout bounds one control request of an
// HTTPHostController built without a client.
const DefaultControlTimeout = 30 * time.Second

// maxErrorBody caps how much of an error response is quoted in the error.
const maxErrorBody = 512

// HTTPHostController sends control requests as protojson over HTTP:
// POST http://IP:UPLOAD_PORT/control/{prefetch,replicate,writeback,delete}.
// Any 2xx status means accepted.
type HTTPHostController struct {
	client *http.Client
}

// NewHTTPHostController returns a controller using client, or a client
// with DefaultControlTimeout when client is nil.
func NewHTTPHostController(client *http.Client) *HTTPHostController {
	if client == nil {
		client = &http.Client{Timeout: DefaultControlTimeout}
	}
	return &HTTPHostController{client: client}
}

// Prefetch implements HostController.
func (c *HTTPHostController) Prefetch(ctx context.Context, host *schedulerpb.Host, task *schedulerpb.Task) error {
	return c.post(ctx, host, "prefetch", task)
}

// Replicate implements HostController.
func (c *HTTPHostController) Replicate(ctx context.Context, host *schedulerpb.Host, req *schedulerpb.ReplicateRequest) error {
	return c.post(ctx, host, "replicate", req)
}

// WriteBack implements HostController.
func (c *HTTPHostController) WriteBack(ctx context.Context, host *schedulerpb.Host, task *schedulerpb.Task) error {
	return c.post(ctx, host, "writeback", task)
}

// Delete implements HostController.
func (c *HTTPHostController) Delete(ctx context.Context, host *schedulerpb.Host, req *schedulerpb.DeleteObjectRequest) error {
	return c.post(ctx, host, "delete", req)
}

func (c *HTTPHostController) post(ctx context.Context, host *schedulerpb.Host, action string, msg proto.Message) error {
	body, err := protojson.Marshal(msg)
	if err != nil {
		return fmt.Errorf("%s on host %s: encode body: %w", action, host.GetId(), err)
	}
	addr := net.JoinHostPort(host.GetIp(), strconv.Itoa(int(host.GetUploadPort())))
	url := "http://" + addr + "/control/" + action
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s on host %s: %w", action, host.GetId(), err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s on host %s: %w", action, host.GetId(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	msgText, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return fmt.Errorf("%s on host %s (%s): status %d: %s",
		action, host.GetId(), addr, resp.StatusCode, strings.TrimSpace(string(msgText)))
}
