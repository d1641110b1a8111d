package client

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/digest"
)

// GetObjectOptions are the settings of one download.
type GetObjectOptions struct {
	// Range is an HTTP byte range such as "bytes=0-1023"; empty reads the
	// whole object.
	Range string
	// Filter lists the '&'-separated URL query parameter names that do not
	// change the object's identity; empty leaves the peer's default.
	Filter string
}

// Object is the response of GetObject. The caller must close it.
type Object struct {
	io.ReadCloser
	Info ObjectInfo
	// Source is the origin of the bytes as the peer reports it:
	// api.SourceLocal, api.SourcePeer, api.SourceSeedPeer,
	// api.SourceBackend, or empty.
	Source       string
	ContentRange string
	StatusCode   int
}

// GetObject starts a download of bucket/key and returns once the headers
// have arrived; the bytes are read from the returned Object.
//
// The reader checks what arrives. It returns an error wrapping
// ErrIncompleteBody if the connection ends before Content-Length bytes
// were read. For a full read (no Range, status 200) of an object with a
// digest, it returns an error wrapping ErrDigestMismatch in place of io.EOF
// if the md5 of the bytes differs. A caller that writes the bytes somewhere
// must therefore treat them as valid only once Read has returned io.EOF.
func (c *Client) GetObject(ctx context.Context, bucket, key string, opts GetObjectOptions) (*Object, error) {
	if err := validateObject(bucket, key); err != nil {
		return nil, err
	}
	if opts.Range != "" && !strings.HasPrefix(opts.Range, "bytes=") {
		return nil, fmt.Errorf("invalid range %q: want bytes=FIRST-LAST, such as bytes=0-1023", opts.Range)
	}
	rt := objectRoute(bucket, key)
	var query url.Values
	if opts.Filter != "" {
		query = url.Values{api.FieldFilter: {opts.Filter}}
	}
	req, err := c.newRequest(ctx, http.MethodGet, rt, query, nil)
	if err != nil {
		return nil, err
	}
	if opts.Range != "" {
		req.Header.Set("Range", opts.Range)
	}
	resp, err := c.do(req, rt)
	if err != nil {
		return nil, err
	}
	obj, err := newObject(bucket, key, resp, opts.Range == "")
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	return obj, nil
}

func newObject(bucket, key string, resp *http.Response, fullRead bool) (*Object, error) {
	info, err := parseObjectInfo(bucket, key, resp)
	if err != nil {
		return nil, err
	}
	body := &checkedBody{
		body: resp.Body,
		name: "dfs://" + bucket + "/" + key,
		want: resp.ContentLength,
	}
	if fullRead && resp.StatusCode == http.StatusOK && strings.HasPrefix(info.Digest, digest.MD5+":") {
		body.wantSum = info.Digest
		body.sum = digest.NewMD5()
	}
	return &Object{
		ReadCloser:   body,
		Info:         info,
		Source:       resp.Header.Get(api.HeaderSource),
		ContentRange: resp.Header.Get("Content-Range"),
		StatusCode:   resp.StatusCode,
	}, nil
}

// checkedBody counts the bytes of a response body and, when sum is set,
// hashes them. It reports a short body or a wrong digest at the end.
type checkedBody struct {
	body io.ReadCloser
	name string
	// want is the Content-Length, or -1 when unknown.
	want    int64
	got     int64
	sum     hash.Hash
	wantSum string
	// err is the sticky result once the body has ended.
	err error
}

func (b *checkedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.body.Read(p)
	b.got += int64(n)
	if b.sum != nil {
		b.sum.Write(p[:n])
	}
	switch {
	case err == io.EOF:
		b.err = b.finish()
	case errors.Is(err, io.ErrUnexpectedEOF):
		b.err = b.incomplete()
	case err != nil:
		b.err = fmt.Errorf("read %s: %w", b.name, err)
	}
	return n, b.err
}

func (b *checkedBody) finish() error {
	if b.want >= 0 && b.got != b.want {
		return b.incomplete()
	}
	if b.sum == nil {
		return io.EOF
	}
	got := digest.FormatMD5(b.sum.Sum(nil))
	if got != b.wantSum {
		return fmt.Errorf("read %s: %w: received bytes have %s, the object's digest is %s; the copy is corrupt, retry the download",
			b.name, ErrDigestMismatch, got, b.wantSum)
	}
	return io.EOF
}

func (b *checkedBody) incomplete() error {
	if b.want < 0 {
		return fmt.Errorf("read %s: %w: the connection ended after %d bytes, retry the download",
			b.name, ErrIncompleteBody, b.got)
	}
	return fmt.Errorf("read %s: %w: got %d of %d bytes; the connection ended early, retry the download",
		b.name, ErrIncompleteBody, b.got, b.want)
}

func (b *checkedBody) Close() error { return b.body.Close() }
