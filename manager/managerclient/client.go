// Package managerclient is the Go client of the manager's gRPC API. It
// takes several manager addresses: reads fail over from one manager to the
// next, and keepalives go to every manager, because managers share no state
// and each lists only the members that keep alive to it.
package managerclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/rpc/managerpb"
)

// DefaultTimeout bounds each RPC to one manager.
const DefaultTimeout = 5 * time.Second

// ErrObjectStorageDisabled is returned by GetObjectStorage when the manager
// has objectStorage.enable set to false.
var ErrObjectStorageDisabled = errors.New("object storage is disabled on the manager")

// Client calls a list of managers. It is safe for concurrent use.
type Client struct {
	addrs   []string
	conns   []*grpc.ClientConn
	rpcs    []managerpb.ManagerClient
	timeout time.Duration
	log     *slog.Logger
	// preferred is the index of the manager that served the last read, and
	// the next read starts there.
	preferred atomic.Int32
}

// Option changes a Client built by New.
type Option func(*options)

type options struct {
	timeout time.Duration
	log     *slog.Logger
	dial    []grpc.DialOption
}

// WithTimeout sets the time limit of each RPC to one manager (default
// DefaultTimeout). A failover gives the next manager a fresh limit.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithLogger sets the logger of RunKeepAlive. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// WithDialOptions adds gRPC dial options after the default insecure
// transport credentials.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, opts...) }
}

// New returns a client of the managers at addrs ("host:port" each). It
// connects lazily, on the first call to each manager. The transport has no
// TLS, so addrs should be loopback or a trusted network.
func New(addrs []string, opts ...Option) (*Client, error) {
	if len(addrs) == 0 {
		return nil, errors.New("manager client: missing manager address: give at least one host:port")
	}
	o := options{timeout: DefaultTimeout, log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("manager client: timeout %s must be positive", o.timeout)
	}
	c := &Client{timeout: o.timeout, log: o.log}
	dial := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, o.dial...)
	for _, addr := range addrs {
		if err := checkAddr(addr); err != nil {
			c.Close()
			return nil, err
		}
		conn, err := grpc.NewClient(addr, dial...)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("manager client: address %q: %w", addr, err)
		}
		c.addrs = append(c.addrs, addr)
		c.conns = append(c.conns, conn)
		c.rpcs = append(c.rpcs, managerpb.NewManagerClient(conn))
	}
	return c, nil
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("manager client: address %q: %w; use host:port", addr, err)
	}
	if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("manager client: address %q: want host:port with a port 1-65535", addr)
	}
	return nil
}

// Close closes the connections to every manager.
func (c *Client) Close() error {
	var errs []error
	for _, conn := range c.conns {
		errs = append(errs, conn.Close())
	}
	return errors.Join(errs...)
}

// Addrs returns the manager addresses in the order given to New.
func (c *Client) Addrs() []string {
	return append([]string(nil), c.addrs...)
}

// GetObjectStorage returns the backend configuration, credentials included.
// It returns an error wrapping ErrObjectStorageDisabled when the manager has
// object storage disabled.
func (c *Client) GetObjectStorage(ctx context.Context) (backend.Config, error) {
	var resp *managerpb.ObjectStorage
	err := c.failover(ctx, "get object storage", func(ctx context.Context, rpc managerpb.ManagerClient) error {
		var err error
		resp, err = rpc.GetObjectStorage(ctx, &managerpb.GetObjectStorageRequest{})
		return err
	})
	if status.Code(err) == codes.FailedPrecondition {
		return backend.Config{}, fmt.Errorf("%w: %w", ErrObjectStorageDisabled, err)
	}
	if err != nil {
		return backend.Config{}, err
	}
	if !resp.GetEnable() {
		return backend.Config{}, fmt.Errorf("get object storage: %w", ErrObjectStorageDisabled)
	}
	return backend.Config{
		Name:               resp.GetName(),
		Region:             resp.GetRegion(),
		Endpoint:           resp.GetEndpoint(),
		AccessKey:          resp.GetAccessKey(),
		SecretKey:          resp.GetSecretKey(),
		SecurityToken:      resp.GetSecurityToken(),
		S3ForcePathStyle:   resp.GetS3ForcePathStyle(),
		MultipartThreshold: resp.GetMultipartThreshold(),
		PartSize:           resp.GetPartSize(),
		SignatureVersion:   resp.GetSignatureVersion(),
	}, nil
}

// ListMembers returns the live members of type t (every type when t is
// MEMBER_TYPE_UNSPECIFIED) as one manager sees them, sorted by type then id.
func (c *Client) ListMembers(ctx context.Context, t managerpb.MemberType) ([]*managerpb.Member, error) {
	var resp *managerpb.ListMembersResponse
	err := c.failover(ctx, "list members", func(ctx context.Context, rpc managerpb.ManagerClient) error {
		var err error
		resp, err = rpc.ListMembers(ctx, &managerpb.ListMembersRequest{Type: t})
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp.GetMembers(), nil
}
