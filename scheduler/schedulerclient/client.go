// Package schedulerclient is the Go client of the scheduler's gRPC API
// over several schedulers.
//
// Host calls (AnnounceHost, LeaveHost) go to every scheduler, so each one
// can pick any host as a parent. Every task and object call is routed by
// consistent hashing of RouteKey(backend_id, bucket, key), so all peers
// send requests about all versions of one object to the same scheduler.
// So the scheduler that collapses concurrent misses for a task also
// serves StatObject and DeleteObject for its key.
//
// When the owner of a key is Unavailable or times out, the call moves on
// to the next scheduler on the ring. That keeps downloads going, but the
// fallback scheduler has not seen the owner's task announcements, so two
// schedulers may then each send a prefetch for one task.
package schedulerclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/dfcache/dfcache/hashring"
	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// DefaultTimeout bounds each RPC to one scheduler. A failover gives the
// next scheduler a fresh limit.
const DefaultTimeout = 5 * time.Second

// ErrNoScheduler is returned by routed calls when the list is empty.
var ErrNoScheduler = errors.New("no scheduler configured; set scheduler addresses or a manager")

// Client calls a changing list of schedulers. It is safe for concurrent use.
type Client struct {
	opts options

	// mu guards conns and ring, which SetSchedulers replaces together.
	mu    sync.RWMutex
	conns map[string]*schedulerConn // by "host:port"
	ring  *hashring.Ring
}

type schedulerConn struct {
	addr string
	cc   *grpc.ClientConn
	rpc  schedulerpb.SchedulerClient
}

type options struct {
	timeout  time.Duration
	log      *slog.Logger
	dialOpts []grpc.DialOption
}

// Option changes a Client built by New.
type Option func(*options)

// WithTimeout sets the time limit of each RPC to one scheduler (default
// DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithLogger sets the logger of RunAnnounce. The default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithDialOptions adds gRPC dial options after the default insecure
// transport credentials.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// New returns a client of the schedulers at addrs ("host:port" each). It
// connects lazily. The transport has no TLS, so addrs should be loopback
// or a trusted network. An empty list is allowed; set it later with
// SetSchedulers.
func New(addrs []string, opts ...Option) (*Client, error) {
	o := options{timeout: DefaultTimeout, log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	c := &Client{opts: o, conns: map[string]*schedulerConn{}, ring: hashring.New(0, nil)}
	if err := c.SetSchedulers(addrs); err != nil {
		return nil, err
	}
	return c, nil
}

// SetSchedulers replaces the scheduler list, keeping the connections to
// schedulers that stay and closing the others. Calls in flight on a
// removed scheduler may fail with Canceled. On error the list is unchanged.
func (c *Client) SetSchedulers(addrs []string) error {
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("scheduler address %q: not host:port: %w", a, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	next := make(map[string]*schedulerConn, len(addrs))
	for _, a := range addrs {
		if sc, ok := c.conns[a]; ok {
			next[a] = sc
			continue
		}
		sc, err := c.dial(a)
		if err != nil {
			closeNew(next, c.conns)
			return err
		}
		next[a] = sc
	}
	for a, sc := range c.conns {
		if _, keep := next[a]; !keep {
			_ = sc.cc.Close()
		}
	}
	c.conns = next
	c.ring = hashring.New(0, addrs)
	return nil
}

func (c *Client) dial(addr string) (*schedulerConn, error) {
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, c.opts.dialOpts...)
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("scheduler %s: %w", addr, err)
	}
	return &schedulerConn{addr: addr, cc: cc, rpc: schedulerpb.NewSchedulerClient(cc)}, nil
}

// closeNew closes the connections in next that old does not share.
func closeNew(next, old map[string]*schedulerConn) {
	for a, sc := range next {
		if _, shared := old[a]; !shared {
			_ = sc.cc.Close()
		}
	}
}

// Schedulers returns the current scheduler addresses, sorted.
func (c *Client) Schedulers() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ring.Members()
}

// Close closes every connection. The client must not be used afterwards.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, sc := range c.conns {
		errs = append(errs, sc.cc.Close())
	}
	c.conns = map[string]*schedulerConn{}
	c.ring = hashring.New(0, nil)
	return errors.Join(errs...)
}

// RouteKey returns the routing key of an object: backendID|bucket|key.
func RouteKey(backendID, bucket, key string) string {
	return backendID + "|" + bucket + "|" + key
}

// Owner returns the address of the scheduler that owns the object's
// routing key, or "" with no schedulers.
func (c *Client) Owner(backendID, bucket, key string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ring.Lookup(RouteKey(backendID, bucket, key))
}

// routed returns the schedulers for a routing key, owner first.
func (c *Client) routed(routeKey string) []*schedulerConn {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*schedulerConn
	for _, a := range c.ring.LookupN(routeKey, len(c.conns)) {
		out = append(out, c.conns[a])
	}
	return out
}

// all returns every scheduler, in address order.
func (c *Client) all() []*schedulerConn {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*schedulerConn, 0, len(c.conns))
	for _, sc := range c.conns {
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b *schedulerConn) int { return strings.Compare(a.addr, b.addr) })
	return out
}

// callRouted runs call on the owner of routeKey and, while a scheduler is
// Unavailable or times out, on the next ones. The caller's cancellation
// and any other error end the failover.
func (c *Client) callRouted(ctx context.Context, routeKey string, call func(context.Context, schedulerpb.SchedulerClient) error) error {
	targets := c.routed(routeKey)
	if len(targets) == 0 {
		return ErrNoScheduler
	}
	var errs []error
	for _, sc := range targets {
		err := c.callOne(ctx, sc, call)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("scheduler %s: %w", sc.addr, err))
		if ctx.Err() != nil || !retryable(err) {
			break
		}
	}
	return errors.Join(errs...)
}

func (c *Client) callOne(ctx context.Context, sc *schedulerConn, call func(context.Context, schedulerpb.SchedulerClient) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.timeout)
	defer cancel()
	return call(ctx, sc.rpc)
}

// retryable reports whether another scheduler may succeed where this one
// failed, because it is down or timed out.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}
