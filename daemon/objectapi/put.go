package objectapi

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/daemon/objectservice"
	"github.com/dfcache/dfcache/digest"
	"github.com/dfcache/dfcache/piececache"
)

// _maxFieldSize bounds the form fields other than the file.
const _maxFieldSize = 64 << 10

// putForm is the parsed upload form.
type putForm struct {
	opts     objectservice.PutOptions
	filter   string
	upload   *objectservice.Upload
	received bool
}

// putObject streams the multipart body: the file part goes straight into
// the cache's staging area while its digests are computed, and the other
// fields may come before or after it. Nothing is visible until Commit.
func (h *Handler) putObject(w http.ResponseWriter, r *http.Request, bucket, key string) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return statusErrorf(http.StatusBadRequest, "invalid upload: the body must be multipart/form-data with a %q part: %v", api.FieldFile, err)
	}
	form := putForm{opts: objectservice.PutOptions{
		Mode:        api.AsyncWriteBack,
		MaxReplicas: api.DefaultMaxReplicas,
		Persisted:   r.Header.Get(api.HeaderPersisted) == "true",
	}}
	defer func() {
		if form.upload != nil {
			form.upload.Abort()
		}
	}()
	if err := h.readForm(mr, bucket, key, &form); err != nil {
		return err
	}
	if form.upload == nil {
		return statusErrorf(http.StatusUnprocessableEntity, "missing form field %q: the upload must contain the object as a file part named %q", api.FieldFile, api.FieldFile)
	}
	info, err := form.upload.Commit(r.Context(), form.opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, objectMetadata(info))
	return nil
}

func (h *Handler) readForm(mr *multipart.Reader, bucket, key string, form *putForm) error {
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return statusErrorf(http.StatusBadRequest, "read multipart body: %v; the body is truncated or malformed", err)
		}
		err = h.readPart(part, bucket, key, form)
		part.Close()
		if err != nil {
			return err
		}
	}
}

func (h *Handler) readPart(part *multipart.Part, bucket, key string, form *putForm) error {
	name := part.FormName()
	if name == api.FieldFile {
		return h.readFile(part, bucket, key, form)
	}
	value, err := readField(part)
	if err != nil {
		return err
	}
	switch name {
	case api.FieldMode:
		form.opts.Mode, err = api.ParseMode(value)
	case api.FieldMaxReplicas:
		form.opts.MaxReplicas, err = parseMaxReplicas(value)
	case api.FieldDigest:
		form.opts.Digest, err = parseMD5(value)
	case api.FieldFilter:
		form.filter = value
	}
	if err != nil {
		return withStatus(http.StatusUnprocessableEntity, fmt.Errorf("form field %q: %w", name, err))
	}
	return nil
}

func (h *Handler) readFile(part *multipart.Part, bucket, key string, form *putForm) error {
	if form.received {
		return statusErrorf(http.StatusUnprocessableEntity, "form field %q appears twice; send one file per upload", api.FieldFile)
	}
	form.received = true
	up, err := h.svc.NewUpload(bucket, key)
	if err != nil {
		return err
	}
	form.upload = up
	form.opts.ContentType = part.Header.Get("Content-Type")
	buf := _copyBuffers.Get().(*[]byte)
	defer _copyBuffers.Put(buf)
	if _, err := io.CopyBuffer(up, part, *buf); err != nil {
		if errors.Is(err, piececache.ErrQuotaExceeded) {
			return err
		}
		return statusErrorf(http.StatusBadRequest, "read file part after %d bytes: %v; the body is truncated or malformed", up.Written(), err)
	}
	return nil
}

func readField(part *multipart.Part) (string, error) {
	data, err := io.ReadAll(io.LimitReader(part, _maxFieldSize+1))
	if err != nil {
		return "", statusErrorf(http.StatusBadRequest, "read form field %q: %v; the body is truncated or malformed", part.FormName(), err)
	}
	if len(data) > _maxFieldSize {
		return "", statusErrorf(http.StatusUnprocessableEntity, "form field %q is longer than %d bytes", part.FormName(), _maxFieldSize)
	}
	return strings.TrimSpace(string(data)), nil
}

func parseMaxReplicas(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < api.MinReplicas || n > api.MaxReplicas {
		return 0, fmt.Errorf("invalid value %q: must be an integer from %d to %d", s, api.MinReplicas, api.MaxReplicas)
	}
	return n, nil
}

func parseMD5(s string) (string, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(d, digest.MD5+":") {
		return "", fmt.Errorf("invalid value %q: the object digest must be md5:<hex>", s)
	}
	return d, nil
}

func (h *Handler) copyObject(w http.ResponseWriter, r *http.Request, bucket, dstKey string) error {
	src := sourceKey(r)
	if src == "" {
		return statusErrorf(http.StatusUnprocessableEntity, "missing form field %q: a copy names its source object", api.FieldSourceObjectKey)
	}
	if err := api.ValidateKey(src); err != nil {
		return withStatus(http.StatusUnprocessableEntity, fmt.Errorf("form field %q: %w", api.FieldSourceObjectKey, err))
	}
	info, err := h.svc.Copy(r.Context(), bucket, src, dstKey)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, objectMetadata(info))
	return nil
}

// sourceKey reads source_object_key from a small multipart or urlencoded
// form body.
func sourceKey(r *http.Request) string {
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return ""
	}
	return r.FormValue(api.FieldSourceObjectKey)
}
