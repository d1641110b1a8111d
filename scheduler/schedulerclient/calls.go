package schedulerclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// AnnounceHost registers host with every scheduler, or refreshes it, in
// parallel. It succeeds when at least one scheduler accepted it and then
// returns the keepalive interval the schedulers asked for (the shortest).
func (c *Client) AnnounceHost(ctx context.Context, host *schedulerpb.Host) (time.Duration, error) {
	req := &schedulerpb.AnnounceHostRequest{Host: host}
	var mu sync.Mutex
	var interval time.Duration
	errs := c.eachScheduler(ctx, func(ctx context.Context, rpc schedulerpb.SchedulerClient) error {
		resp, err := rpc.AnnounceHost(ctx, req)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if d := time.Duration(resp.GetKeepaliveIntervalMs()) * time.Millisecond; d > 0 && (interval == 0 || d < interval) {
			interval = d
		}
		return nil
	})
	if err := anyAccepted(errs); err != nil {
		return 0, fmt.Errorf("announce host %s: %w", host.GetId(), err)
	}
	return interval, nil
}

// LeaveHost removes the host from every scheduler. It returns the errors
// of the schedulers that failed; those drop the host when it expires.
func (c *Client) LeaveHost(ctx context.Context, hostID string) error {
	req := &schedulerpb.LeaveHostRequest{HostId: hostID}
	errs := c.eachScheduler(ctx, func(ctx context.Context, rpc schedulerpb.SchedulerClient) error {
		_, err := rpc.LeaveHost(ctx, req)
		return err
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("leave host %s: %w", hostID, err)
	}
	return nil
}

// eachScheduler runs call on every scheduler in parallel and returns the
// errors, nil entries for successes, or ErrNoScheduler alone.
func (c *Client) eachScheduler(ctx context.Context, call func(context.Context, schedulerpb.SchedulerClient) error) []error {
	targets := c.all()
	if len(targets) == 0 {
		return []error{ErrNoScheduler}
	}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, sc := range targets {
		wg.Go(func() {
			if err := c.callOne(ctx, sc, call); err != nil {
				errs[i] = fmt.Errorf("scheduler %s: %w", sc.addr, err)
			}
		})
	}
	wg.Wait()
	return errs
}

func anyAccepted(errs []error) error {
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	return errors.Join(errs...)
}

func taskRoute(t *schedulerpb.Task) string {
	return RouteKey(t.GetBackendId(), t.GetBucket(), t.GetKey())
}

// FindParents returns, from the owner of the task's key, the parents
// hostID should fetch the task from.
func (c *Client) FindParents(ctx context.Context, hostID string, task *schedulerpb.Task) (*schedulerpb.FindParentsResponse, error) {
	var resp *schedulerpb.FindParentsResponse
	err := c.callRouted(ctx, taskRoute(task), func(ctx context.Context, rpc schedulerpb.SchedulerClient) error {
		var err error
		resp, err = rpc.FindParents(ctx, &schedulerpb.FindParentsRequest{HostId: hostID, Task: task})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find parents of task %s: %w", task.GetId(), err)
	}
	return resp, nil
}

// AnnounceTask records on the owner of the task's key that hostID holds
// the task, in full when complete is true.
func (c *Client) AnnounceTask(ctx context.Context, hostID string, task *schedulerpb.Task, complete bool) error {
	req := &schedulerpb.AnnounceTaskRequest{HostId: hostID, Task: task, Complete: complete}
	err := c.callRouted(ctx, taskRoute(task), func(ctx context.Context, rpc schedulerpb.SchedulerClient) error {
		_, err := rpc.AnnounceTask(ctx, req)
		return err
	})
	if err != nil {
		return fmt.Errorf("announce task %s: %w", task.GetId(), err)
	}
	return nil
}

// WithdrawTask records on the owner of the task's key that hostID
// dropped the task. It takes the whole task, not only its id, to route by key.
func (c *Client) WithdrawTask(ctx context.Context, hostID string, task *schedulerpb.Task) error {
	req := &schedulerpb.WithdrawTaskRequest{HostId: hostID, TaskId: task.GetId()}
	err := c.callRouted(ctx, taskRoute(task), func(ctx context.Context, rpc schedulerpb.SchedulerClient) error {
		_, err := rpc.WithdrawTask(ctx, req)
		return err
	})
	if err != nil {
		return fmt.Errorf("withdraw task %s: %w", task.GetId(), err)
	}
	return nil
}

// FindReplicaTargets returns every seed peer that could take a replica of
// the task, best first; count is passed on as a hint.
func (c *Client) FindReplicaTargets(ctx context.Context, hostID string, task *schedulerpb.Task, count int) ([]*schedulerpb.Host, error) {
	var hosts []*schedulerpb.Host
	req := &schedulerpb.FindReplicaTargetsRequest{HostId: hostID, Task: task, Count: int32(count)}
	err := c.callRouted(ctx, taskRoute(task), func(ctx context.Context, rpc schedulerpb.SchedulerClient) error {
		resp, err := rpc.FindReplicaTargets(ctx, req)
		hosts = resp.GetHosts()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find replica targets of task %s: %w", task.GetId(), err)
	}
	return hosts, nil
}

// StatObject returns the newest version of the object that its owner
// scheduler has recorded, and false when it has none.
func (c *Client) StatObject(ctx context.Context, backendID, bucket, key string) (*schedulerpb.Task, bool, error) {
	var resp *schedulerpb.StatObjectResponse
	req := &schedulerpb.StatObjectRequest{BackendId: backendID, Bucket: bucket, Key: key}
	err := c.callRouted(ctx, RouteKey(backendID, bucket, key), func(ctx context.Context, rpc schedulerpb.SchedulerClient) error {
		var err error
		resp, err = rpc.StatObject(ctx, req)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("stat object %s/%s: %w", bucket, key, err)
	}
	return resp.GetTask(), resp.GetFound(), nil
}

// DeleteObject sends the delete to the owner scheduler, which forgets
// every version of the object and has its holders, other than hostID,
// drop their copies.
func (c *Client) DeleteObject(ctx context.Context, hostID, backendID, bucket, key string) error {
	req := &schedulerpb.DeleteObjectRequest{HostId: hostID, BackendId: backendID, Bucket: bucket, Key: key}
	err := c.callRouted(ctx, RouteKey(backendID, bucket, key), func(ctx context.Context, rpc schedulerpb.SchedulerClient) error {
		_, err := rpc.DeleteObject(ctx, req)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete object %s/%s: %w", bucket, key, err)
	}
	return nil
}
