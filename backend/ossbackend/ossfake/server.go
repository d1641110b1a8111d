// Package ossfake is an in-process Alibaba Cloud OSS endpoint for tests. It
// listens on 127.0.0.1 only, keeps object bytes in a temporary directory,
// and checks the signature of every request (OSS signature v1 and v4) with
// the secret it was given, as OSS does.
//
// It speaks the part of the OSS REST API that a cache backend uses: bucket
// create and info, object PUT, GET with Range, HEAD, DELETE, server-side
// copy, ListObjects (v1) and multipart upload. Huawei OBS shares this
// S3-derived request shape, so the OBS fake reuses Server through NewServer
// and brings its own signature check.
package ossfake

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Credentials are the keys the server accepts. A non-empty SecurityToken
// must be sent with every request, as with STS credentials.
type Credentials struct {
	AccessKey, SecretKey, SecurityToken string
}

// Resource is the bucket and decoded object key a request addresses.
type Resource struct {
	Bucket, Key string
	// VirtualHost is true when the bucket came from the Host header.
	VirtualHost bool
}

// Authenticator verifies the signature of a request.
type Authenticator interface {
	// Authenticate returns how the request was signed, or the error to send.
	Authenticate(r *http.Request, res Resource) (Signed, *Error)
}

// Signed describes an authenticated request.
type Signed struct {
	// Prefix is the header prefix of the request's dialect, such as
	// "x-oss-"; user metadata arrives as Prefix+"meta-NAME".
	Prefix string
	// Scheme names the signature, such as "OSS4-HMAC-SHA256"; Count(Scheme)
	// returns how many requests used it.
	Scheme string
}

// Error is a protocol error, sent as the XML <Error> document.
type Error struct {
	Status        int
	Code, Message string
	// StringToSign is included in SignatureDoesNotMatch errors, as OSS does,
	// to help find the difference.
	StringToSign string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Config describes a server built with NewServer.
type Config struct {
	// Domain, when set, makes Host "BUCKET.Domain[:port]" address BUCKET
	// (virtual-hosted style). Other requests use path style.
	Domain string
	// DefaultMaxKeys is the page size of a listing without max-keys.
	DefaultMaxKeys int
	// MinPartSize is the smallest part, except the last, that completing a
	// multipart upload accepts.
	MinPartSize int64
	// Vendor names the request id and error headers: "oss" or "obs".
	Vendor string
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is "http://127.0.0.1:PORT".
	URL string
	// Addr is "127.0.0.1:PORT".
	Addr string

	auth  Authenticator
	cfg   Config
	store *store

	mu       sync.Mutex // guards the fields below
	counts   map[string]int
	failures []*Error
	seq      int
}

// NewServer starts a server that checks requests with auth, and stops it
// when the test ends.
func NewServer(t testing.TB, auth Authenticator, cfg Config) *Server {
	t.Helper()
	s := &Server{auth: auth, cfg: cfg, store: newStore(t.TempDir()), counts: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: s}}
	srv.Start()
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.Addr = ln.Addr().String()
	return s
}

// CreateBucket adds an empty bucket without a request.
func (s *Server) CreateBucket(name string) { s.store.createBucket(name) }

// Count returns how many authenticated requests of the operation were
// served, such as "PutObject", "UploadPart" or "ListObjects". It also counts
// requests by signature scheme (see Signed) and "Rejected" requests, which
// failed authentication.
func (s *Server) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

// FailNext makes the next n authenticated requests fail with status and
// code, for testing retries and error mapping.
func (s *Server) FailNext(n, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, &Error{Status: status, Code: code, Message: "injected failure"})
	}
}

func (s *Server) count(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[op]++
}

func (s *Server) nextFailure() *Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return nil
	}
	e := s.failures[0]
	s.failures = s.failures[1:]
	return e
}

func (s *Server) requestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("FAKE%020d", s.seq)
}

// ServeHTTP authenticates the request and dispatches it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-"+s.cfg.Vendor+"-request-id", s.requestID())
	res := s.resource(r)
	signed, authErr := s.auth.Authenticate(r, res)
	if authErr != nil {
		s.count("Rejected")
		s.writeError(w, r, authErr)
		return
	}
	s.count(signed.Scheme)
	if e := s.nextFailure(); e != nil {
		s.writeError(w, r, e)
		return
	}
	req := &request{w: w, r: r, res: res, prefix: signed.Prefix, srv: s}
	if e := req.dispatch(); e != nil {
		s.writeError(w, r, e)
	}
}

// resource splits the request into bucket and key, from the Host header in
// virtual-hosted style and from the path otherwise.
func (s *Server) resource(r *http.Request) Resource {
	path := strings.TrimPrefix(r.URL.Path, "/")
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if s.cfg.Domain != "" && strings.HasSuffix(host, "."+s.cfg.Domain) {
		return Resource{Bucket: strings.TrimSuffix(host, "."+s.cfg.Domain), Key: path, VirtualHost: true}
	}
	bucket, key, _ := strings.Cut(path, "/")
	return Resource{Bucket: bucket, Key: key}
}

type errorDocument struct {
	XMLName      xml.Name `xml:"Error"`
	Code         string   `xml:"Code"`
	Message      string   `xml:"Message"`
	RequestID    string   `xml:"RequestId"`
	HostID       string   `xml:"HostId"`
	StringToSign string   `xml:"StringToSign,omitempty"`
}

// writeError sends e as XML. A HEAD response has no body, so OSS sends the
// document base64-encoded in the x-oss-err header, and OBS sends the code
// and message in x-obs-error-code and x-obs-error-message on every error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	doc := errorDocument{
		Code: e.Code, Message: e.Message, StringToSign: e.StringToSign,
		RequestID: w.Header().Get("x-" + s.cfg.Vendor + "-request-id"), HostID: r.Host,
	}
	body, _ := xml.Marshal(doc)
	body = append([]byte(xml.Header), body...)
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	if s.cfg.Vendor == "obs" {
		h.Set("x-obs-error-code", e.Code)
		h.Set("x-obs-error-message", e.Message)
	} else {
		h.Set("x-oss-ec", e.Code)
	}
	if r.Method == http.MethodHead {
		if s.cfg.Vendor != "obs" {
			h.Set("x-oss-err", base64.StdEncoding.EncodeToString(body))
		}
		w.WriteHeader(e.Status)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
}

func errNoSuchBucket(bucket string) *Error {
	return &Error{Status: 404, Code: "NoSuchBucket", Message: "The specified bucket does not exist: " + bucket}
}

func errNoSuchKey(key string) *Error {
	return &Error{Status: 404, Code: "NoSuchKey", Message: "The specified key does not exist: " + key}
}

func errInvalidArgument(format string, args ...any) *Error {
	return &Error{Status: 400, Code: "InvalidArgument", Message: fmt.Sprintf(format, args...)}
}

func errInternal(err error) *Error {
	return &Error{Status: 500, Code: "InternalError", Message: err.Error()}
}
