// Package clienttest runs an in-memory fake of a peer's object storage API
// on 127.0.0.1, for tests of the client and of programs built on it. The
// fake records every request (path, query, headers, form parts in order)
// and checks uploads the way a peer does: field values, the md5 digest
// field against the received bytes, and the bucket's existence.
package clienttest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfcache/dfcache/api"
)

// Object is an object stored in the fake.
type Object struct {
	Data         []byte
	ContentType  string
	Digest       string
	ETag         string
	StorageClass string
	LastModified time.Time
}

// Request is a request as the fake received it.
type Request struct {
	Method string
	// EscapedPath is the path as sent on the wire, before unescaping.
	EscapedPath string
	Bucket      string
	Key         string
	Query       url.Values
	Header      http.Header
	// Form lists the parts of a multipart/form-data body in the order
	// they arrived, including those of an upload that failed halfway.
	Form []FormPart
}

// FormPart is one part of a multipart form. Value is the field's value or
// the file's bytes.
type FormPart struct {
	Name     string
	FileName string
	Value    string
}

// Server is the fake peer. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the fake, such as http://127.0.0.1:41234.
	URL string

	httpServer   *httptest.Server
	fileSeen     chan struct{}
	fileSeenOnce sync.Once

	mu             sync.Mutex // guards the fields below
	buckets        map[string]bool
	objects        map[string]Object
	requests       []Request
	intercept      func(http.ResponseWriter, *http.Request) bool
	omitNextMarker bool
}

// New starts a fake on a free port of 127.0.0.1 and stops it when the
// test ends.
func New(t testing.TB) *Server {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	s := &Server{
		fileSeen: make(chan struct{}),
		buckets:  make(map[string]bool),
		objects:  make(map[string]Object),
	}
	s.httpServer = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.httpServer.Listener.Close()
	s.httpServer.Listener = listener
	s.httpServer.Start()
	s.URL = s.httpServer.URL
	t.Cleanup(s.httpServer.Close)
	return s
}

// CreateBucket adds an empty bucket, as POST /buckets/BUCKET does.
func (s *Server) CreateBucket(bucket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[bucket] = true
}

// PutObject stores data as bucket/key, creating the bucket if needed.
func (s *Server) PutObject(bucket, key string, data []byte) Object {
	obj := newObject(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[bucket] = true
	s.objects[bucket+"/"+key] = obj
	return obj
}

// Object returns bucket/key and whether it exists.
func (s *Server) Object(bucket, key string) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj, ok := s.objects[bucket+"/"+key]
	return obj, ok
}

// SetObjectDigest replaces the digest that the fake sends for bucket/key,
// to make it send a wrong one.
func (s *Server) SetObjectDigest(bucket, key, digest string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj := s.objects[bucket+"/"+key]
	obj.Digest = digest
	s.objects[bucket+"/"+key] = obj
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Intercept makes fn see every request first. When fn returns true it has
// written the response and the fake does nothing more; the request is
// still recorded, without its form.
func (s *Server) Intercept(fn func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intercept = fn
}

// OmitNextMarker makes listings leave NextMarker empty, as Dragonfly v2.1
// peers do, so clients must find the next page on their own.
func (s *Server) OmitNextMarker() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.omitNextMarker = true
}

// FileDataSeen returns a channel that is closed once the fake has read the
// first bytes of an upload's file part.
func (s *Server) FileDataSeen() <-chan struct{} { return s.fileSeen }

func (s *Server) record(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	req := Request{
		Method:      r.Method,
		EscapedPath: r.URL.EscapedPath(),
		Query:       r.URL.Query(),
		Header:      r.Header.Clone(),
	}
	defer func() { s.record(req) }()

	s.mu.Lock()
	intercept := s.intercept
	s.mu.Unlock()
	if intercept != nil && intercept(w, r) {
		return
	}
	s.route(w, r, &req)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, req *Request) {
	switch {
	case req.EscapedPath == "/healthy" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, "OK")
		return
	case req.EscapedPath == "/metadata" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, api.BackendMetadata{Name: "s3", Region: "us-east-1", Endpoint: "127.0.0.1"})
		return
	}
	rest, ok := strings.CutPrefix(req.EscapedPath, "/buckets/")
	if !ok {
		writeError(w, http.StatusNotFound, "no route "+r.Method+" "+req.EscapedPath)
		return
	}
	bucket, rest, _ := strings.Cut(rest, "/")
	req.Bucket, _ = url.PathUnescape(bucket)
	switch {
	case rest == "" && r.Method == http.MethodPost:
		s.CreateBucket(req.Bucket)
		w.WriteHeader(http.StatusOK)
	case rest == "metadatas" && r.Method == http.MethodGet:
		s.list(w, req)
	case strings.HasPrefix(rest, "objects/"):
		key, err := url.PathUnescape(strings.TrimPrefix(rest, "objects/"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid key escaping: "+err.Error())
			return
		}
		req.Key = key
		s.serveObject(w, r, req)
	default:
		writeError(w, http.StatusNotFound, "no route "+r.Method+" "+req.EscapedPath)
	}
}

func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, req *Request) {
	if !s.hasBucket(req.Bucket) {
		writeError(w, http.StatusNotFound, "bucket "+req.Bucket+" not found")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.get(w, r, req)
	case http.MethodPut:
		if r.Header.Get(api.HeaderOperation) == api.CopyOperation {
			s.copy(w, r, req)
			return
		}
		s.upload(w, r, req)
	case http.MethodDelete:
		s.remove(w, req)
	default:
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
	}
}

func (s *Server) hasBucket(bucket string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buckets[bucket]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, api.ErrorBody{Errors: message})
}
