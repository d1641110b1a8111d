// Package client is the Go client of a dfdaemon peer's object storage API.
//
// It speaks the wire format of Dragonfly v2.1 peers, so it also works
// against them. Unlike their own client, it streams uploads instead of
// building them in memory, checks full reads against the object's md5
// digest, and keeps the server's message in errors.
package client

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dfcache/dfcache/api"
)

// Timeouts of the default HTTP client. There is no overall request timeout,
// because a transfer of a large object may take hours. Callers bound a
// request with its context.
const (
	dialTimeout         = 10 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	// responseHeaderTimeout runs from the end of the request body to the
	// response headers. A WriteBack upload gets its response only once the backend
	// has the whole object, so this has to cover a full backend upload.
	responseHeaderTimeout = 30 * time.Minute
	idleConnTimeout       = 90 * time.Second
)

// Client sends requests to one peer. It is safe for concurrent use.
type Client struct {
	endpoint   *url.URL
	httpClient *http.Client
}

// Option configures a Client in New.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests through hc. Without it
// the Client uses its own http.Client with dial, TLS handshake and response
// header timeouts and no overall timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.httpClient = hc }
}

// New returns a Client of the peer at endpoint, an http or https URL such as
// "http://127.0.0.1:65004" (api.DefaultEndpoint, used when endpoint is
// empty). A path in the URL is kept as a prefix of every route.
func New(endpoint string, opts ...Option) (*Client, error) {
	if endpoint == "" {
		endpoint = api.DefaultEndpoint
	}
	u, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	c := &Client{endpoint: u}
	for _, opt := range opts {
		opt(c)
	}
	if c.httpClient == nil {
		c.httpClient = newHTTPClient()
	}
	return c, nil
}

// Endpoint returns the peer URL that the Client sends requests to.
func (c *Client) Endpoint() string { return c.endpoint.String() }

func parseEndpoint(endpoint string) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("invalid endpoint %q: %w; want a URL such as %s", endpoint, err, api.DefaultEndpoint)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid endpoint %q: scheme must be http or https, as in %s", endpoint, api.DefaultEndpoint)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid endpoint %q: missing host, as in %s", endpoint, api.DefaultEndpoint)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid endpoint %q: must not contain user info, a query or a fragment", endpoint)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	return u, nil
}

func newHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		IdleConnTimeout:       idleConnTimeout,
		MaxIdleConnsPerHost:   16,
	}
	return &http.Client{Transport: transport}
}

// route is one request target: the escaped path below the endpoint and the
// bucket and key it names, kept for error messages.
type route struct {
	escapedPath string
	bucket, key string
}

func bucketRoute(bucket string) route {
	return route{escapedPath: "/buckets/" + url.PathEscape(bucket), bucket: bucket}
}

func objectRoute(bucket, key string) route {
	return route{
		escapedPath: "/buckets/" + url.PathEscape(bucket) + "/objects/" + escapeKey(key),
		bucket:      bucket,
		key:         key,
	}
}

// escapeKey escapes each '/'-separated segment of key, so that '/' stays a
// path separator and every other byte reaches the peer unchanged.
func escapeKey(key string) string {
	segments := strings.Split(key, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	return strings.Join(segments, "/")
}

func (c *Client) newRequest(ctx context.Context, method string, rt route, query url.Values, body io.Reader) (*http.Request, error) {
	u := *c.endpoint
	u.RawPath = c.endpoint.EscapedPath() + rt.escapedPath
	unescaped, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, fmt.Errorf("build request path %q: %w", u.RawPath, err)
	}
	u.Path = unescaped
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build %s request: %w", method, err)
	}
	return req, nil
}

// do sends req and returns the response if its status is 2xx. Any other
// status becomes an *ErrorResponse, with the body read and closed.
func (c *Client) do(req *http.Request, rt route) (*http.Response, error) {
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, c.transportError(req, rt, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, newErrorResponse(req.Method, rt, resp)
	}
	return resp, nil
}

// send is do for requests whose response body carries nothing the caller
// needs: it drains and closes the body.
func (c *Client) send(req *http.Request, rt route) error {
	resp, err := c.do(req, rt)
	if err != nil {
		return err
	}
	return drainAndClose(resp.Body)
}

// drainAndClose reads up to 64 KiB of what is left of body, so that the
// connection can be reused, and closes it.
func drainAndClose(body io.ReadCloser) error {
	_, err := io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	if closeErr := body.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("read response body: %w", err)
	}
	return nil
}
