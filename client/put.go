package client

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/digest"
)

// PutObjectOptions are the settings of one upload.
type PutObjectOptions struct {
	// Mode is the write mode; the zero value is api.AsyncWriteBack.
	Mode api.Mode
	// MaxReplicas is how many seed peers receive a copy, from api.MinReplicas
	// to api.MaxReplicas; 0 means api.DefaultMaxReplicas.
	MaxReplicas int
	// Filter lists the '&'-separated URL query parameter names that do not
	// change the object's identity; empty leaves the peer's default.
	Filter string
	// Size is the number of bytes r yields, or -1 when unknown. It is not
	// sent. When Size > 0 and r yields a different number of bytes, the
	// upload is aborted before it completes, so the peer stores nothing.
	Size int64
}

// UploadInfo describes an object that PutObject stored.
type UploadInfo struct {
	Bucket string
	Key    string
	// Size is the number of bytes read from r and sent.
	Size int64
	// Digest is "md5:<hex>" of the bytes sent.
	Digest string
}

// PutObject uploads the bytes of r as bucket/key. The body is streamed as
// multipart/form-data: the fields mode, filter (when set) and maxReplicas,
// then the "file" part, then a "digest" field with the md5 computed while
// streaming, which the peer checks. Memory use does not depend on the
// object's size. Bytes reach the peer as they are read, so a reader that
// counts its bytes measures the progress of the upload to within about
// 40 KiB of buffers.
//
// PutObject returns once the peer has responded and the last Read on r has
// returned. It never closes r. The peer responds after storing the object
// in its cache (api.AsyncWriteBack, api.Ephemeral) or after the backend
// has it (api.WriteBack).
func (c *Client) PutObject(ctx context.Context, bucket, key string, r io.Reader, opts PutObjectOptions) (UploadInfo, error) {
	if err := validatePut(bucket, key, r, &opts); err != nil {
		return UploadInfo{}, err
	}
	rt := objectRoute(bucket, key)
	body, contentType, result := streamForm(r, key, opts)
	req, err := c.newRequest(ctx, http.MethodPut, rt, nil, body)
	if err != nil {
		body.CloseWithError(err)
		<-result
		return UploadInfo{}, err
	}
	req.Header.Set("Content-Type", contentType)

	sendErr := c.send(req, rt)
	// The transport closes the body on return, which unblocks the writer
	// unless it is inside r.Read.
	body.CloseWithError(errors.New("request ended"))
	written := <-result
	// An upload that the writer aborted failed because of its source,
	// whatever the transport reported after the abort. Otherwise the
	// request's error is the cause and the writer only saw a closed pipe.
	switch {
	case written.aborted:
		return UploadInfo{}, written.err
	case sendErr != nil:
		return UploadInfo{}, sendErr
	case written.err != nil:
		return UploadInfo{}, written.err
	}
	return UploadInfo{Bucket: bucket, Key: key, Size: written.size, Digest: written.digest}, nil
}

func validatePut(bucket, key string, r io.Reader, opts *PutObjectOptions) error {
	if err := api.ValidateBucket(bucket); err != nil {
		return err
	}
	if err := api.ValidateKey(key); err != nil {
		return err
	}
	if r == nil {
		return errors.New("put object: nil reader")
	}
	if opts.Mode < api.AsyncWriteBack || opts.Mode > api.Ephemeral {
		return fmt.Errorf("invalid mode %d: use api.AsyncWriteBack, api.WriteBack or api.Ephemeral", opts.Mode)
	}
	if opts.MaxReplicas == 0 {
		opts.MaxReplicas = api.DefaultMaxReplicas
	}
	if opts.MaxReplicas < api.MinReplicas || opts.MaxReplicas > api.MaxReplicas {
		return fmt.Errorf("invalid max replicas %d: must be %d to %d", opts.MaxReplicas, api.MinReplicas, api.MaxReplicas)
	}
	return nil
}

// formResult is the outcome of writing an upload form.
type formResult struct {
	size   int64
	digest string
	err    error
	// aborted is set when the writer stopped the upload on its own,
	// because reading the source failed or yielded the wrong size.
	aborted bool
}

// streamForm starts a goroutine that writes the upload form into a pipe
// and returns the pipe's reader, the form's content type and a channel
// that receives the outcome once the goroutine has stopped.
func streamForm(r io.Reader, key string, opts PutObjectOptions) (*io.PipeReader, string, <-chan formResult) {
	pr, pw := io.Pipe()
	form := multipart.NewWriter(pw)
	result := make(chan formResult, 1)
	go func() {
		res := writeForm(form, r, key, opts)
		pw.CloseWithError(res.err)
		result <- res
	}()
	return pr, form.FormDataContentType(), result
}

func writeForm(form *multipart.Writer, r io.Reader, key string, opts PutObjectOptions) formResult {
	fields := [][2]string{{api.FieldMode, strconv.Itoa(int(opts.Mode))}}
	if opts.Filter != "" {
		fields = append(fields, [2]string{api.FieldFilter, opts.Filter})
	}
	fields = append(fields, [2]string{api.FieldMaxReplicas, strconv.Itoa(opts.MaxReplicas)})
	for _, f := range fields {
		if err := form.WriteField(f[0], f[1]); err != nil {
			return formResult{err: fmt.Errorf("write form field %s: %w", f[0], err)}
		}
	}

	part, err := form.CreateFormFile(api.FieldFile, path.Base(key))
	if err != nil {
		return formResult{err: fmt.Errorf("write form file header: %w", err)}
	}
	sum := digest.NewMD5()
	size, err := copyFile(io.MultiWriter(part, sum), r)
	var readErr sourceError
	if errors.As(err, &readErr) {
		return formResult{size: size, err: fmt.Errorf("read upload source: %w", readErr.err), aborted: true}
	}
	if err != nil {
		return formResult{size: size, err: fmt.Errorf("send upload body: %w", err)}
	}
	if opts.Size > 0 && size != opts.Size {
		return formResult{size: size, aborted: true, err: fmt.Errorf("upload aborted: source yielded %d bytes but its size was given as %d; was it changed while being read?", size, opts.Size)}
	}
	return finishForm(form, sum, size)
}

// copyFile copies r to w in chunks of at most 32 KiB. A failed Read
// comes back as a sourceError.
func copyFile(w io.Writer, r io.Reader) (int64, error) {
	return io.Copy(w, readerOnly{r})
}

func finishForm(form *multipart.Writer, sum hash.Hash, size int64) formResult {
	objectDigest := digest.FormatMD5(sum.Sum(nil))
	if err := form.WriteField(api.FieldDigest, objectDigest); err != nil {
		return formResult{size: size, err: fmt.Errorf("write form field %s: %w", api.FieldDigest, err)}
	}
	if err := form.Close(); err != nil {
		return formResult{size: size, err: fmt.Errorf("close form: %w", err)}
	}
	return formResult{size: size, digest: objectDigest}
}

// readerOnly hides any WriterTo of the source, so that io.Copy reads it in
// small chunks, and marks its errors as source errors.
type readerOnly struct{ r io.Reader }

type sourceError struct{ err error }

func (e sourceError) Error() string { return e.err.Error() }
func (e sourceError) Unwrap() error { return e.err }

func (r readerOnly) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = sourceError{err}
	}
	return n, err
}
