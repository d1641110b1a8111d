package ossfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

type completeRequest struct {
	Parts []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName xml.Name `xml:"CompleteMultipartUploadResult"`
	Bucket  string   `xml:"Bucket"`
	Key     string   `xml:"Key"`
	ETag    string   `xml:"ETag"`
}

func (q *request) initiateUpload() *Error {
	q.srv.count("InitiateMultipartUpload")
	if !q.srv.store.hasBucket(q.res.Bucket) {
		return errNoSuchBucket(q.res.Bucket)
	}
	id := fmt.Sprintf("%X", md5.Sum([]byte(q.srv.requestID())))
	q.srv.store.mu.Lock()
	q.srv.store.uploads[id] = &upload{bucket: q.res.Bucket, key: q.res.Key, template: q.templateFromHeaders(), parts: map[int]part{}}
	q.srv.store.mu.Unlock()
	return q.writeXML(initiateResult{Bucket: q.res.Bucket, Key: q.res.Key, UploadID: id})
}

// lookupUpload returns the upload named by the uploadId parameter, which
// must belong to the requested bucket and key.
func (q *request) lookupUpload() (string, *upload, *Error) {
	id := q.r.URL.Query().Get("uploadId")
	q.srv.store.mu.Lock()
	defer q.srv.store.mu.Unlock()
	u := q.srv.store.uploads[id]
	if u == nil || u.bucket != q.res.Bucket || u.key != q.res.Key {
		return "", nil, &Error{Status: 404, Code: "NoSuchUpload", Message: "The specified upload does not exist: " + id}
	}
	return id, u, nil
}

func (q *request) uploadPart() *Error {
	q.srv.count("UploadPart")
	_, u, e := q.lookupUpload()
	if e != nil {
		return e
	}
	number, err := strconv.Atoi(q.r.URL.Query().Get("partNumber"))
	if err != nil || number < 1 || number > 10000 {
		return errInvalidArgument("partNumber %q must be 1 to 10000", q.r.URL.Query().Get("partNumber"))
	}
	path, size, etag, e := q.srv.store.writeFile(q.r.Body, q.r.ContentLength)
	if e != nil {
		return e
	}
	etag = strings.ToUpper(etag)
	q.srv.store.mu.Lock()
	if old, ok := u.parts[number]; ok {
		os.Remove(old.path)
	}
	u.parts[number] = part{path: path, size: size, etag: etag}
	q.srv.store.mu.Unlock()
	q.w.Header().Set("ETag", `"`+etag+`"`)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (q *request) completeUpload() *Error {
	q.srv.count("CompleteMultipartUpload")
	id, u, e := q.lookupUpload()
	if e != nil {
		return e
	}
	var req completeRequest
	if err := xml.NewDecoder(io.LimitReader(q.r.Body, 1<<20)).Decode(&req); err != nil {
		return &Error{Status: 400, Code: "MalformedXML", Message: "complete request body: " + err.Error()}
	}
	parts, e := q.checkParts(u, req)
	if e != nil {
		return e
	}
	obj, e := q.concatenate(u, parts)
	if e != nil {
		return e
	}
	if e := q.srv.store.put(u.bucket, u.key, obj); e != nil {
		return e
	}
	q.srv.store.mu.Lock()
	delete(q.srv.store.uploads, id)
	q.srv.store.mu.Unlock()
	for _, p := range u.parts {
		os.Remove(p.path)
	}
	return q.writeXML(completeResult{Bucket: u.bucket, Key: u.key, ETag: `"` + obj.etag + `"`})
}

// checkParts validates the part list of a complete request: ascending
// numbers, uploaded parts with matching ETags, and all but the last part at
// least MinPartSize bytes.
func (q *request) checkParts(u *upload, req completeRequest) ([]part, *Error) {
	if len(req.Parts) == 0 {
		return nil, &Error{Status: 400, Code: "MalformedXML", Message: "the part list is empty"}
	}
	q.srv.store.mu.Lock()
	defer q.srv.store.mu.Unlock()
	parts := make([]part, 0, len(req.Parts))
	previous := 0
	for i, p := range req.Parts {
		stored, ok := u.parts[p.PartNumber]
		if p.PartNumber <= previous {
			return nil, &Error{Status: 400, Code: "InvalidPartOrder", Message: fmt.Sprintf("part %d follows part %d", p.PartNumber, previous)}
		}
		if !ok || !strings.EqualFold(strings.Trim(p.ETag, `"`), stored.etag) {
			return nil, &Error{Status: 400, Code: "InvalidPart", Message: fmt.Sprintf("part %d with ETag %s was not uploaded", p.PartNumber, p.ETag)}
		}
		if i < len(req.Parts)-1 && stored.size < q.srv.cfg.MinPartSize {
			return nil, &Error{Status: 400, Code: "EntityTooSmall", Message: fmt.Sprintf("part %d has %d bytes, less than %d", p.PartNumber, stored.size, q.srv.cfg.MinPartSize)}
		}
		previous = p.PartNumber
		parts = append(parts, stored)
	}
	return parts, nil
}

// concatenate streams the parts into one new data file. The ETag is the md5
// of the part md5s followed by "-" and the part count, as S3-style stores
// compute it.
func (q *request) concatenate(u *upload, parts []part) (*object, *Error) {
	path := q.srv.store.newFile()
	f, err := os.Create(path)
	if err != nil {
		return nil, errInternal(err)
	}
	defer f.Close()
	sums := md5.New()
	var size int64
	for _, p := range parts {
		if err := appendFile(f, p.path); err != nil {
			os.Remove(path)
			return nil, errInternal(err)
		}
		raw, _ := hex.DecodeString(p.etag)
		sums.Write(raw)
		size += p.size
	}
	obj := u.template
	obj.path, obj.size, obj.modified = path, size, time.Now().UTC()
	obj.etag = strings.ToUpper(hex.EncodeToString(sums.Sum(nil))) + "-" + strconv.Itoa(len(parts))
	return &obj, nil
}

func appendFile(dst io.Writer, path string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(dst, src)
	return err
}

func (q *request) abortUpload() *Error {
	q.srv.count("AbortMultipartUpload")
	id, u, e := q.lookupUpload()
	if e != nil {
		return e
	}
	q.srv.store.mu.Lock()
	delete(q.srv.store.uploads, id)
	q.srv.store.mu.Unlock()
	for _, p := range u.parts {
		os.Remove(p.path)
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
