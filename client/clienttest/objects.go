package clienttest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/digest"
)

func newObject(data []byte) Object {
	sum := md5.Sum(data)
	return Object{
		Data:         data,
		ContentType:  "application/octet-stream",
		Digest:       digest.FormatMD5(sum[:]),
		ETag:         hex.EncodeToString(sum[:]),
		StorageClass: "STANDARD",
		LastModified: time.Now().UTC().Truncate(time.Second),
	}
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, req *Request) {
	obj, ok := s.Object(req.Bucket, req.Key)
	if !ok {
		writeError(w, http.StatusNotFound, "object "+req.Key+" not found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", obj.ContentType)
	h.Set("ETag", `"`+obj.ETag+`"`)
	h.Set(api.HeaderDigest, obj.Digest)
	h.Set(api.HeaderStorageClass, obj.StorageClass)
	h.Set(api.HeaderLastModified, obj.LastModified.Format(http.TimeFormat))
	h.Set(api.HeaderSource, api.SourceLocal)
	http.ServeContent(w, r, "", obj.LastModified, bytes.NewReader(obj.Data))
}

func (s *Server) remove(w http.ResponseWriter, req *Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, req.Bucket+"/"+req.Key)
	w.WriteHeader(http.StatusOK)
}

// formError is an invalid form, which the fake rejects with 422 as a peer does.
type formError struct{ message string }

func (e formError) Error() string { return e.message }

func (s *Server) upload(w http.ResponseWriter, r *http.Request, req *Request) {
	data, err := s.readUpload(r, req)
	var invalid formError
	switch {
	case errors.As(err, &invalid):
		writeError(w, http.StatusUnprocessableEntity, invalid.message)
	case err != nil:
		writeError(w, http.StatusBadRequest, "read upload: "+err.Error())
	default:
		s.PutObject(req.Bucket, req.Key, data)
		w.WriteHeader(http.StatusOK)
	}
}

// readUpload reads the parts of an upload form in order and returns the
// file's bytes once the form has ended and every field is valid.
func (s *Server) readUpload(r *http.Request, req *Request) ([]byte, error) {
	parts, err := r.MultipartReader()
	if err != nil {
		return nil, formError{"invalid form: " + err.Error()}
	}
	var data []byte
	var haveFile bool
	sum := md5.New()
	for {
		part, err := parts.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		value, err := s.readPart(part, sum)
		req.Form = append(req.Form, FormPart{Name: part.FormName(), FileName: part.FileName(), Value: string(value)})
		if err != nil {
			return nil, err
		}
		if part.FormName() == api.FieldFile {
			data, haveFile = value, true
			continue
		}
		if err := checkField(part.FormName(), string(value), sum, haveFile); err != nil {
			return nil, err
		}
	}
	if !haveFile {
		return nil, formError{"missing form file " + api.FieldFile}
	}
	return data, nil
}

// readPart reads a part; the file part is also hashed into sum and closes
// the FileDataSeen channel as soon as its first bytes arrive.
func (s *Server) readPart(part *multipart.Part, sum io.Writer) ([]byte, error) {
	if part.FormName() != api.FieldFile {
		return io.ReadAll(part)
	}
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	for {
		n, err := part.Read(chunk)
		if n > 0 {
			buf.Write(chunk[:n])
			sum.Write(chunk[:n])
			s.fileSeenOnce.Do(func() { close(s.fileSeen) })
		}
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return buf.Bytes(), err
		}
	}
}

func checkField(name, value string, sum interface{ Sum([]byte) []byte }, haveFile bool) error {
	switch name {
	case api.FieldMode:
		if value != "0" && value != "1" && value != "2" {
			return formError{fmt.Sprintf("invalid mode %q: want 0, 1 or 2", value)}
		}
	case api.FieldMaxReplicas:
		n, err := strconv.Atoi(value)
		if err != nil || n < api.MinReplicas || n > api.MaxReplicas {
			return formError{fmt.Sprintf("invalid maxReplicas %q: want %d to %d", value, api.MinReplicas, api.MaxReplicas)}
		}
	case api.FieldDigest:
		if !haveFile {
			return formError{"digest field arrived before the file part"}
		}
		if got := digest.FormatMD5(sum.Sum(nil)); got != value {
			return formError{fmt.Sprintf("digest mismatch: the received bytes have %s but the digest field is %s", got, value)}
		}
	}
	return nil
}

func (s *Server) copy(w http.ResponseWriter, r *http.Request, req *Request) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid form: "+err.Error())
		return
	}
	srcKey := r.FormValue(api.FieldSourceObjectKey)
	req.Form = append(req.Form, FormPart{Name: api.FieldSourceObjectKey, Value: srcKey})
	src, ok := s.Object(req.Bucket, srcKey)
	if !ok {
		writeError(w, http.StatusNotFound, "source object "+srcKey+" not found")
		return
	}
	s.PutObject(req.Bucket, req.Key, src.Data)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) list(w http.ResponseWriter, req *Request) {
	if !s.hasBucket(req.Bucket) {
		writeError(w, http.StatusNotFound, "bucket "+req.Bucket+" not found")
		return
	}
	limit := api.MaxListLimit
	if raw := req.Query.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("invalid limit %q", raw))
			return
		}
		limit = min(n, api.MaxListLimit)
	}
	writeJSON(w, http.StatusOK, s.listPage(req.Bucket, req.Query.Get("prefix"), req.Query.Get("marker"), req.Query.Get("delimiter"), limit))
}

func (s *Server) listPage(bucket, prefix, marker, delimiter string, limit int) api.ListResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for name := range s.objects {
		key, ok := strings.CutPrefix(name, bucket+"/")
		if ok && strings.HasPrefix(key, prefix) && key > marker {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)

	page := api.ListResponse{CommonPrefixes: []string{}, Metadatas: []api.ObjectMetadata{}}
	seen := map[string]bool{}
	for _, key := range keys {
		common, isCommon := commonPrefix(key, prefix, delimiter)
		if isCommon && (seen[common] || common <= marker) {
			continue
		}
		if len(page.CommonPrefixes)+len(page.Metadatas) == limit {
			if !s.omitNextMarker {
				page.NextMarker = lastEntry(page)
			}
			break
		}
		if isCommon {
			seen[common] = true
			page.CommonPrefixes = append(page.CommonPrefixes, common)
			continue
		}
		page.Metadatas = append(page.Metadatas, metadataOf(key, s.objects[bucket+"/"+key]))
	}
	return page
}

func commonPrefix(key, prefix, delimiter string) (string, bool) {
	if delimiter == "" {
		return "", false
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return "", false
	}
	return key[:len(prefix)+i+len(delimiter)], true
}

func lastEntry(page api.ListResponse) string {
	var last string
	if n := len(page.Metadatas); n > 0 {
		last = page.Metadatas[n-1].Key
	}
	if n := len(page.CommonPrefixes); n > 0 && page.CommonPrefixes[n-1] > last {
		last = page.CommonPrefixes[n-1]
	}
	return last
}

func metadataOf(key string, obj Object) api.ObjectMetadata {
	return api.ObjectMetadata{
		Key:              key,
		ContentLength:    int64(len(obj.Data)),
		ContentType:      obj.ContentType,
		ETag:             obj.ETag,
		Digest:           obj.Digest,
		LastModifiedTime: obj.LastModified,
		StorageClass:     obj.StorageClass,
	}
}
