package objectapi

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
)

// _copyBuffers holds buffers for streaming bodies, so a busy peer does not
// allocate one per request.
var _copyBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func (h *Handler) headObject(w http.ResponseWriter, r *http.Request, bucket, key string) error {
	info, err := h.svc.Head(r.Context(), bucket, key)
	if err != nil {
		return err
	}
	setObjectHeaders(w.Header(), info)
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getObject(w http.ResponseWriter, r *http.Request, bucket, key string) error {
	obj, err := h.svc.Get(r.Context(), bucket, key)
	if err != nil {
		return err
	}
	defer obj.Close()

	size := obj.Info.Size
	off, n, partial, err := parseRange(r.Header.Get("Range"), size)
	if err != nil {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		return withStatus(http.StatusRequestedRangeNotSatisfiable, err)
	}
	body, err := obj.NewReader(off, n)
	if err != nil {
		return err
	}
	if c, ok := body.(io.Closer); ok {
		defer c.Close()
	}
	// Read the first bytes before sending the status, so a download that
	// fails at once gets an error status instead of a cut body.
	buf := _copyBuffers.Get().(*[]byte)
	defer _copyBuffers.Put(buf)
	first := 0
	if n > 0 {
		if first, err = io.ReadAtLeast(body, (*buf)[:min(n, int64(len(*buf)))], 1); err != nil {
			return fmt.Errorf("read %s/%s: %w", bucket, key, err)
		}
	}

	hdr := w.Header()
	setObjectHeaders(hdr, obj.Info)
	hdr.Set(api.HeaderSource, obj.Source)
	hdr.Set("Accept-Ranges", "bytes")
	hdr.Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if partial {
		hdr.Set("Content-Range", contentRange(off, n, size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)

	sent, err := copyBody(w, body, (*buf)[:first], *buf)
	if h.metrics != nil {
		h.metrics.BytesServed.WithLabelValues(obj.Source).Add(float64(sent))
	}
	if err != nil {
		h.log.Error("object body aborted", "bucket", bucket, "key", key, "sent", sent, "of", n, "err", err)
		// Abort the connection, so the client sees a failed transfer
		// instead of a short body it might take for the object.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// copyBody writes head, then the rest of body, and returns the bytes sent.
func copyBody(w io.Writer, body io.Reader, head, buf []byte) (int64, error) {
	k, err := w.Write(head)
	if err != nil {
		return int64(k), err
	}
	// The buffer is free again once head is written.
	n, err := io.CopyBuffer(w, body, buf)
	return int64(k) + n, err
}

func setObjectHeaders(h http.Header, info backend.ObjectInfo) {
	contentType := info.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", info.ContentDisposition)
	h.Set("Content-Encoding", info.ContentEncoding)
	h.Set("Content-Language", info.ContentLanguage)
	h.Set("ETag", `"`+info.ETag+`"`)
	h.Set(api.HeaderDigest, info.Digest)
	h.Set(api.HeaderStorageClass, info.StorageClass)
	if !info.LastModified.IsZero() {
		lm := info.LastModified.UTC().Format(http.TimeFormat)
		h.Set("Last-Modified", lm)
		h.Set(api.HeaderLastModified, lm)
	}
}

func objectMetadata(info backend.ObjectInfo) api.ObjectMetadata {
	return api.ObjectMetadata{
		Key:                info.Key,
		ContentDisposition: info.ContentDisposition,
		ContentEncoding:    info.ContentEncoding,
		ContentLanguage:    info.ContentLanguage,
		ContentLength:      info.Size,
		ContentType:        info.ContentType,
		ETag:               info.ETag,
		Digest:             info.Digest,
		LastModifiedTime:   info.LastModified.UTC().Truncate(time.Second),
		StorageClass:       info.StorageClass,
	}
}
