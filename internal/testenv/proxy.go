package testenv

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// RequestRecord is one request that reached the proxy.
type RequestRecord struct {
	Method string
	// Path is the URL path without the query.
	Path string
	// UploadID and PartNumber report whether the query carried uploadId or
	// partNumber, so tests can tell multipart requests apart: an
	// UploadPart is a PUT with both.
	UploadID   bool
	PartNumber bool
	// Status is the status code sent to the client; 0 when the connection
	// was closed without a response.
	Status int
	// Injected is true when the proxy failed the request itself (FailNext
	// or SetDown) and the request never reached the target.
	Injected bool
}

// Proxy is a reverse proxy on 127.0.0.1 that records requests and injects
// faults. It keeps the client's Host header, so SigV4 signatures made for
// the proxy's address still verify at the target.
type Proxy struct {
	// URL is "http://127.0.0.1:PORT".
	URL string

	target *url.URL
	proxy  *httputil.ReverseProxy

	mu         sync.Mutex // guards the fields below
	records    []RequestRecord
	failLeft   int
	failStatus int
	down       bool
}

// NewProxy starts a proxy in front of target (such as S3Server.Endpoint)
// and closes it when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("proxy target %q is not an absolute URL: %v", target, err)
	}
	p := &Proxy{target: u}
	p.proxy = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host
	}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// FailNext makes the next n requests fail with status and an S3 XML error
// body, without reaching the target.
func (p *Proxy) FailNext(n, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failLeft, p.failStatus = n, status
}

// SetDown makes every request fail, while down is true, by closing the
// connection without a response.
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// Reset clears the records and the injected faults.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records, p.failLeft, p.down = nil, 0, false
}

// Requests returns a copy of the records, oldest first.
func (p *Proxy) Requests() []RequestRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]RequestRecord(nil), p.records...)
}

// Count returns how many requests with method reached the proxy, injected
// failures included.
func (p *Proxy) Count(method string) int {
	return p.countWhere(func(r RequestRecord) bool { return r.Method == method })
}

// CountPath returns how many requests with method and URL path (without
// query, such as "/bucket/key") reached the proxy.
func (p *Proxy) CountPath(method, path string) int {
	return p.countWhere(func(r RequestRecord) bool { return r.Method == method && r.Path == path })
}

// CountUploadParts returns how many UploadPart requests (PUT with uploadId
// and partNumber) reached the proxy.
func (p *Proxy) CountUploadParts() int {
	return p.countWhere(func(r RequestRecord) bool {
		return r.Method == http.MethodPut && r.UploadID && r.PartNumber
	})
}

func (p *Proxy) countWhere(match func(RequestRecord) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.records {
		if match(r) {
			n++
		}
	}
	return n
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rec := RequestRecord{Method: r.Method, Path: r.URL.Path, UploadID: q.Has("uploadId"), PartNumber: q.Has("partNumber")}
	down, failStatus := p.takeFault()
	switch {
	case down:
		rec.Injected = true
		closeConnection(w)
	case failStatus != 0:
		rec.Injected, rec.Status = true, failStatus
		writeS3Error(w, r, failStatus)
	default:
		sw := &statusWriter{ResponseWriter: w}
		p.proxy.ServeHTTP(sw, r)
		rec.Status = sw.status
	}
	p.mu.Lock()
	p.records = append(p.records, rec)
	p.mu.Unlock()
}

// takeFault returns the fault to inject into the current request and
// consumes one FailNext count.
func (p *Proxy) takeFault() (down bool, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return true, 0
	}
	if p.failLeft > 0 {
		p.failLeft--
		return false, p.failStatus
	}
	return false, 0
}

func closeConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "proxy is down", http.StatusServiceUnavailable)
		return
	}
	conn.Close()
}

// writeS3Error drains the request body, so the client sees the response
// rather than a reset while it still writes, and sends an S3 error.
func writeS3Error(w http.ResponseWriter, r *http.Request, status int) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>injected by the test proxy</Message><Resource>%s</Resource><RequestId>testenv</RequestId></Error>`,
		s3ErrorCode(status), r.URL.Path)
}

func s3ErrorCode(status int) string {
	switch status {
	case http.StatusForbidden:
		return "AccessDenied"
	case http.StatusNotFound:
		return "NoSuchKey"
	case http.StatusInternalServerError:
		return "InternalError"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	default:
		return "InjectedFault"
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
