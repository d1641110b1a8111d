package managerclient

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dfcache/dfcache/rpc/managerpb"
)

// rpcFunc makes one RPC to one manager.
type rpcFunc func(ctx context.Context, rpc managerpb.ManagerClient) error

// failover runs call against one manager after another, starting with the
// one that succeeded last, until one succeeds. It moves on only when a
// manager is Unavailable or timed out. Any other error comes from the
// manager's handler and is returned at once, and so is the caller's
// cancellation.
func (c *Client) failover(ctx context.Context, op string, call rpcFunc) error {
	n := int32(len(c.rpcs))
	start := c.preferred.Load()
	var errs []error
	for i := range n {
		idx := (start + i) % n
		err := c.callOne(ctx, int(idx), call)
		if err == nil {
			c.preferred.Store(idx)
			return nil
		}
		err = fmt.Errorf("%s: manager %s: %w", op, c.addrs[idx], err)
		if ctx.Err() != nil || !isRetryable(err) {
			return err
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("%s: no manager of %d answered: %w", op, n, errors.Join(errs...))
}

// callOne runs call against manager idx with the per-RPC timeout.
func (c *Client) callOne(ctx context.Context, idx int, call rpcFunc) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return call(ctx, c.rpcs[idx])
}

// isRetryable reports whether another manager may succeed where this one
// failed, because the manager was unreachable or did not respond in time.
func isRetryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}
