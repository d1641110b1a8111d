package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// _rateBurst is the most response bytes the rate limiter lets through at
// once; writes larger than this are split.
const _rateBurst = 256 << 10

// originCounts is the requests and bytes the proxy counted between two
// resets.
type originCounts struct {
	Gets, Heads, Puts, Others int64
	// GetBytes is the response body bytes sent for GET requests.
	GetBytes int64
}

// originProxy is a reverse proxy on 127.0.0.1 in front of the S3 server. It
// counts requests and GET response bytes, and can limit the rate of all
// response bodies together, as a slow origin would. It keeps the client's
// Host header, so SigV4 signatures made for the proxy's address verify at
// the S3 server.
type originProxy struct {
	url    string
	server *http.Server
	proxy  *httputil.ReverseProxy

	gets, heads, puts, others, getBytes atomic.Int64

	mu      sync.Mutex // guards limiter
	limiter *rate.Limiter
}

// startProxy listens on a free loopback port and forwards to target.
func startProxy(target string) (*originProxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("proxy target %q is not an absolute URL: %v", target, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the origin proxy: %w", err)
	}
	p := &originProxy{url: "http://" + l.Addr().String()}
	p.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second},
	}
	p.server = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = p.server.Serve(l) }()
	return p, nil
}

// setRate limits response bodies to bytesPerSecond in total; 0 removes
// the limit.
func (p *originProxy) setRate(bytesPerSecond int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limiter = nil
	if bytesPerSecond > 0 {
		p.limiter = rate.NewLimiter(rate.Limit(bytesPerSecond), _rateBurst)
	}
}

func (p *originProxy) currentLimiter() *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limiter
}

// reset zeroes the counters.
func (p *originProxy) reset() {
	for _, c := range []*atomic.Int64{&p.gets, &p.heads, &p.puts, &p.others, &p.getBytes} {
		c.Store(0)
	}
}

func (p *originProxy) counts() originCounts {
	return originCounts{
		Gets: p.gets.Load(), Heads: p.heads.Load(), Puts: p.puts.Load(),
		Others: p.others.Load(), GetBytes: p.getBytes.Load(),
	}
}

func (p *originProxy) close() error { return p.server.Close() }

func (p *originProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w, ctx: r.Context(), limiter: p.currentLimiter()}
	switch r.Method {
	case http.MethodGet:
		p.gets.Add(1)
		cw.counter = &p.getBytes
	case http.MethodHead:
		p.heads.Add(1)
	case http.MethodPut:
		p.puts.Add(1)
	default:
		p.others.Add(1)
	}
	p.proxy.ServeHTTP(cw, r)
}

// countingWriter adds the body bytes it writes to counter (when set) and
// waits for limiter (when set) before each chunk.
type countingWriter struct {
	http.ResponseWriter
	ctx     context.Context
	counter *atomic.Int64
	limiter *rate.Limiter
}

func (w *countingWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		chunk := b[:min(len(b), _rateBurst)]
		if w.limiter != nil {
			if err := w.limiter.WaitN(w.ctx, len(chunk)); err != nil {
				return written, fmt.Errorf("wait for rate limit: %w", err)
			}
		}
		n, err := w.ResponseWriter.Write(chunk)
		written += n
		if w.counter != nil {
			w.counter.Add(int64(n))
		}
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
