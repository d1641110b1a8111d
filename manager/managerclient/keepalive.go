package managerclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dfcache/dfcache/rpc/managerpb"
)

// DefaultKeepAliveInterval is the RunKeepAlive interval used for a
// non-positive one. It is a third of the manager's default 30 s TTL, so two
// lost keepalives in a row do not drop the member.
const DefaultKeepAliveInterval = 10 * time.Second

// KeepAlive registers member with every manager, or refreshes it, in
// parallel. It succeeds when at least one manager accepted it, and
// otherwise returns the errors of all of them. A rejected member (InvalidArgument)
// fails on every manager alike.
func (c *Client) KeepAlive(ctx context.Context, member *managerpb.Member) error {
	errs := c.keepAliveEach(ctx, member)
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("keepalive %s: no manager of %d accepted it: %w", member.GetId(), len(errs), errors.Join(errs...))
}

// keepAliveEach sends one keepalive to each manager and returns the error
// of each, in address order.
func (c *Client) keepAliveEach(ctx context.Context, member *managerpb.Member) []error {
	req := &managerpb.KeepAliveRequest{Member: member}
	errs := make([]error, len(c.rpcs))
	var wg sync.WaitGroup
	for i := range c.rpcs {
		wg.Go(func() {
			err := c.callOne(ctx, i, func(ctx context.Context, rpc managerpb.ManagerClient) error {
				_, err := rpc.KeepAlive(ctx, req)
				return err
			})
			if err != nil {
				errs[i] = fmt.Errorf("manager %s: %w", c.addrs[i], err)
			}
		})
	}
	wg.Wait()
	return errs
}

// RunKeepAlive sends member's keepalive to every manager at once and then
// every interval, until ctx ends. A manager that fails is logged at Warn
// once when it starts failing and at Info once when it accepts again, so a
// long outage does not flood the log. The caller must not change member
// while RunKeepAlive runs.
func (c *Client) RunKeepAlive(ctx context.Context, member *managerpb.Member, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultKeepAliveInterval
	}
	failing := make([]bool, len(c.addrs))
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		errs := c.keepAliveEach(ctx, member)
		if ctx.Err() != nil {
			return
		}
		c.logChanges(member.GetId(), failing, errs)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// logChanges logs each manager whose failing state changed and records the
// new state in failing.
func (c *Client) logChanges(id string, failing []bool, errs []error) {
	for i, err := range errs {
		switch {
		case err != nil && !failing[i]:
			c.log.Warn("keepalive failed; retrying every interval", "member", id, "manager", c.addrs[i], "error", err)
		case err == nil && failing[i]:
			c.log.Info("keepalive accepted again", "member", id, "manager", c.addrs[i])
		}
		failing[i] = err != nil
	}
}
