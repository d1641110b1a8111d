package schedulerclient

import (
	"context"
	"time"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// DefaultAnnounceInterval is the RunAnnounce interval until a scheduler
// returns its own, and after a failed announcement.
const DefaultAnnounceInterval = 5 * time.Second

// RunAnnounce announces hostFn() to every scheduler at once and then at the
// interval the schedulers return, until ctx ends. Then it sends LeaveHost
// to every scheduler, bounded by the client timeout. RunAnnounce calls
// hostFn for each announcement, so it can report the current load. Failures are
// logged at Warn when they start and at Info when announcements succeed
// again, so a long outage does not flood the log.
func (c *Client) RunAnnounce(ctx context.Context, hostFn func() *schedulerpb.Host) {
	failing := false
	var hostID string
	for {
		host := hostFn()
		hostID = host.GetId()
		interval, err := c.AnnounceHost(ctx, host)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			c.opts.log.Warn("announce to schedulers failed; retrying", "host", hostID, "err", err)
			failing = true
		case err == nil && failing:
			c.opts.log.Info("announce to schedulers recovered", "host", hostID)
			failing = false
		}
		if interval <= 0 {
			interval = DefaultAnnounceInterval
		}
		select {
		case <-ctx.Done():
			c.leave(hostID)
			return
		case <-time.After(interval):
		}
	}
}

func (c *Client) leave(hostID string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.timeout)
	defer cancel()
	if err := c.LeaveHost(ctx, hostID); err != nil {
		c.opts.log.Warn("leave schedulers failed; they drop the host when it expires", "host", hostID, "err", err)
		return
	}
	c.opts.log.Info("left schedulers", "host", hostID)
}
