package cluster

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// _throttleChunk is how many response bytes the throttle sends between
// pauses.
const _throttleChunk = 64 << 10

// throttle is a reverse proxy on 127.0.0.1 that can slow down the bodies
// of GET responses, so a test can act while a backend download is still
// running. It keeps the client's Host header, so SigV4 signatures made for
// its address still verify behind it.
type throttle struct {
	URL string
	// bytesPerSecond is the GET body rate; 0 means no limit.
	bytesPerSecond atomic.Int64
	proxy          *httputil.ReverseProxy
}

func newThrottle(t *testing.T, target string) *throttle {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	th := &throttle{}
	th.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
		},
		FlushInterval: -1,
	}
	srv := httptest.NewServer(th)
	t.Cleanup(srv.Close)
	th.URL = srv.URL
	return th
}

// setRate limits GET bodies to bytesPerSecond from now on, also for
// responses already streaming; 0 removes the limit.
func (th *throttle) setRate(bytesPerSecond int64) { th.bytesPerSecond.Store(bytesPerSecond) }

func (th *throttle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		w = &slowWriter{ResponseWriter: w, th: th}
	}
	th.proxy.ServeHTTP(w, r)
}

type slowWriter struct {
	http.ResponseWriter
	th *throttle
}

func (w *slowWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), _throttleChunk)
		m, err := w.ResponseWriter.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
		if rate := w.th.bytesPerSecond.Load(); rate > 0 {
			time.Sleep(time.Duration(int64(n) * int64(time.Second) / rate))
		}
	}
	return written, nil
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (w *slowWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
