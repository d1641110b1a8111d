package ossfake

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// request is one authenticated request being served.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	res    Resource
	prefix string // header prefix of the request's dialect, such as "x-oss-"
	srv    *Server
}

// _storedHeaders are the standard headers kept with an object.
var _storedHeaders = []string{"Content-Type", "Content-Disposition", "Content-Encoding", "Content-Language"}

func (q *request) has(param string) bool { return q.r.URL.Query().Has(param) }

func (q *request) dispatch() *Error {
	if q.res.Bucket == "" {
		return &Error{Status: 501, Code: "NotImplemented", Message: "service-level requests are not supported by the fake"}
	}
	if q.res.Key == "" {
		return q.dispatchBucket()
	}
	switch m := q.r.Method; {
	case m == http.MethodPut && q.has("partNumber") && q.has("uploadId"):
		return q.uploadPart()
	case m == http.MethodPut && q.r.Header.Get(q.prefix+"copy-source") != "":
		return q.copyObject()
	case m == http.MethodPut:
		return q.putObject()
	case m == http.MethodPost && q.has("uploads"):
		return q.initiateUpload()
	case m == http.MethodPost && q.has("uploadId"):
		return q.completeUpload()
	case m == http.MethodDelete && q.has("uploadId"):
		return q.abortUpload()
	case m == http.MethodDelete:
		return q.deleteObject()
	case m == http.MethodGet || m == http.MethodHead:
		return q.getObject()
	}
	return &Error{Status: 405, Code: "MethodNotAllowed", Message: q.r.Method + " is not supported on objects"}
}

func (q *request) dispatchBucket() *Error {
	bucket := q.res.Bucket
	switch {
	case q.r.Method == http.MethodPut:
		q.srv.count("CreateBucket")
		q.srv.store.createBucket(bucket)
		q.w.WriteHeader(http.StatusOK)
		return nil
	case q.r.Method == http.MethodHead:
		q.srv.count("HeadBucket")
		if !q.srv.store.hasBucket(bucket) {
			return errNoSuchBucket(bucket)
		}
		q.w.WriteHeader(http.StatusOK)
		return nil
	case q.r.Method == http.MethodGet && q.has("bucketInfo"):
		q.srv.count("GetBucketInfo")
		if !q.srv.store.hasBucket(bucket) {
			return errNoSuchBucket(bucket)
		}
		return q.writeXML(bucketInfo{Name: bucket, Location: "oss-fake", StorageClass: "Standard"})
	case q.r.Method == http.MethodGet:
		return q.listObjects()
	}
	return &Error{Status: 405, Code: "MethodNotAllowed", Message: q.r.Method + " is not supported on buckets"}
}

type bucketInfo struct {
	XMLName      xml.Name `xml:"BucketInfo"`
	Name         string   `xml:"Bucket>Name"`
	Location     string   `xml:"Bucket>Location"`
	StorageClass string   `xml:"Bucket>StorageClass"`
}

func (q *request) writeXML(v any) *Error {
	body, err := xml.Marshal(v)
	if err != nil {
		return errInternal(err)
	}
	q.w.Header().Set("Content-Type", "application/xml")
	q.w.WriteHeader(http.StatusOK)
	q.w.Write([]byte(xml.Header))
	q.w.Write(body)
	return nil
}

// templateFromHeaders collects the standard headers and user metadata of the
// request into an object without data.
func (q *request) templateFromHeaders() object {
	obj := object{header: map[string]string{}, meta: map[string]string{}, storageClass: "Standard"}
	for _, name := range _storedHeaders {
		if v := q.r.Header.Get(name); v != "" {
			obj.header[name] = v
		}
	}
	metaPrefix := q.prefix + "meta-"
	for name, values := range q.r.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, metaPrefix) {
			obj.meta[strings.TrimPrefix(lower, metaPrefix)] = strings.Join(values, ",")
		}
	}
	return obj
}

func (q *request) putObject() *Error {
	q.srv.count("PutObject")
	if !q.srv.store.hasBucket(q.res.Bucket) {
		return errNoSuchBucket(q.res.Bucket)
	}
	// A chunked body has no Content-Length (-1), which OSS and OBS accept.
	path, size, etag, e := q.srv.store.writeFile(q.r.Body, q.r.ContentLength)
	if e != nil {
		return e
	}
	obj := q.templateFromHeaders()
	obj.path, obj.size, obj.etag, obj.modified = path, size, strings.ToUpper(etag), time.Now().UTC()
	if e := q.srv.store.put(q.res.Bucket, q.res.Key, &obj); e != nil {
		return e
	}
	q.w.Header().Set("ETag", `"`+obj.etag+`"`)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (q *request) deleteObject() *Error {
	q.srv.count("DeleteObject")
	if e := q.srv.store.remove(q.res.Bucket, q.res.Key); e != nil {
		return e
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// copyObject serves a copy whose source header is "/BUCKET/KEY" or
// "BUCKET/KEY" with the key URL-encoded. OSS clients escape '+' as %2B and
// space as %20; the OBS SDK sends a space as '+', so the OBS dialect decodes
// the source as a query component.
func (q *request) copyObject() *Error {
	q.srv.count("CopyObject")
	source := strings.TrimPrefix(q.r.Header.Get(q.prefix+"copy-source"), "/")
	srcBucket, escapedKey, ok := strings.Cut(source, "/")
	unescape := url.PathUnescape
	if q.srv.cfg.Vendor == "obs" {
		unescape = url.QueryUnescape
	}
	srcKey, err := unescape(escapedKey)
	if !ok || err != nil || srcKey == "" {
		return errInvalidArgument("copy source %q is not /BUCKET/KEY with an URL-encoded key", source)
	}
	src, e := q.srv.store.get(srcBucket, srcKey)
	if e != nil {
		return e
	}
	path, e := q.srv.store.copyData(src)
	if e != nil {
		return e
	}
	dst := *src
	dst.path, dst.modified = path, time.Now().UTC()
	if strings.EqualFold(q.r.Header.Get(q.prefix+"metadata-directive"), "REPLACE") {
		template := q.templateFromHeaders()
		dst.header, dst.meta = template.header, template.meta
	}
	if e := q.srv.store.put(q.res.Bucket, q.res.Key, &dst); e != nil {
		return e
	}
	return q.writeXML(copyResult{ETag: `"` + dst.etag + `"`, LastModified: dst.modified.Format(time.RFC3339)})
}

type copyResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	ETag         string   `xml:"ETag"`
	LastModified string   `xml:"LastModified"`
}

func (q *request) getObject() *Error {
	if q.r.Method == http.MethodHead {
		q.srv.count("HeadObject")
	} else {
		q.srv.count("GetObject")
	}
	obj, e := q.srv.store.get(q.res.Bucket, q.res.Key)
	if e != nil {
		return e
	}
	start, end, partial, e := parseRange(q.r.Header.Get("Range"), obj.size)
	if e != nil {
		return e
	}
	q.writeObjectHeaders(obj)
	h := q.w.Header()
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	status := http.StatusOK
	if partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, obj.size))
		status = http.StatusPartialContent
	}
	if q.r.Method == http.MethodHead {
		q.w.WriteHeader(status)
		return nil
	}
	f, err := os.Open(obj.path)
	if err != nil {
		return errInternal(err)
	}
	defer f.Close()
	q.w.WriteHeader(status)
	io.Copy(q.w, io.NewSectionReader(f, start, end-start))
	return nil
}

func (q *request) writeObjectHeaders(obj *object) {
	h := q.w.Header()
	for name, v := range obj.header {
		h.Set(name, v)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/octet-stream")
	}
	for name, v := range obj.meta {
		h.Set(q.prefix+"meta-"+name, v)
	}
	h.Set("ETag", `"`+obj.etag+`"`)
	h.Set("Last-Modified", obj.modified.Format(http.TimeFormat))
	h.Set(q.prefix+"storage-class", obj.storageClass)
	h.Set("Accept-Ranges", "bytes")
}

// parseRange parses one "bytes=a-b", "bytes=a-" or "bytes=-n" range and
// returns the half-open interval [start, end). Without a Range header it
// returns the whole object; an unsatisfiable range is 416 InvalidRange.
func parseRange(header string, size int64) (start, end int64, partial bool, e *Error) {
	if header == "" {
		return 0, size, false, nil
	}
	spec, ok := strings.CutPrefix(header, "bytes=")
	first, last, dash := strings.Cut(spec, "-")
	if !ok || !dash || strings.Contains(spec, ",") {
		return 0, 0, false, &Error{Status: 416, Code: "InvalidRange", Message: "unsupported Range " + header}
	}
	a, errA := strconv.ParseInt(first, 10, 64)
	b, errB := strconv.ParseInt(last, 10, 64)
	switch {
	case first == "" && errB == nil && b > 0:
		start, end = max(size-b, 0), size
	case errA == nil && last == "":
		start, end = a, size
	case errA == nil && errB == nil && a <= b:
		start, end = a, min(b+1, size)
	default:
		return 0, 0, false, &Error{Status: 416, Code: "InvalidRange", Message: "invalid Range " + header}
	}
	if start >= size {
		return 0, 0, false, &Error{Status: 416, Code: "InvalidRange", Message: fmt.Sprintf("Range %s starts beyond the object size %d", header, size)}
	}
	return start, end, true, nil
}
