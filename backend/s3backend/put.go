package s3backend

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dfcache/dfcache/backend"
)

// PutObject stores exactly size bytes of r. Below the multipart threshold
// it sends one PutObject request. From the threshold on it runs a
// multipart upload of PartSize parts, _uploadConcurrency at a time. An
// object no larger than one part still goes in a single request, which
// only happens when the threshold is below the part size.
//
// Memory: when r is an io.ReaderAt and io.Seeker (such as *os.File), parts
// are read from it in place and nothing is buffered. A plain io.Reader is
// buffered part by part in a pool of _uploadConcurrency+1 part buffers
// (80 MiB with the default 16 MiB parts) per upload in flight. A single
// PutObject of a plain reader is sent with an unsigned payload, because
// the body cannot be read twice to hash it.
//
// A body shorter than size fails with io.ErrUnexpectedEOF and leaves no
// object; bytes after size are not read. opts.Digest goes in the user
// metadata "digest".
func (b *Backend) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts backend.PutOptions) (backend.ObjectInfo, error) {
	if size < 0 {
		return backend.ObjectInfo{}, fmt.Errorf("put object %q: size %d is negative: %w", key, size, backend.ErrInvalidArgument)
	}
	body, err := newBody(r, size)
	if err != nil {
		return backend.ObjectInfo{}, fmt.Errorf("put object %q in bucket %q: %w", key, bucket, err)
	}
	var etag *string
	if size < b.threshold {
		etag, err = b.putSingle(ctx, bucket, key, body, size, opts)
	} else {
		etag, err = b.putMultipart(ctx, bucket, key, body, opts)
	}
	if body.short() {
		return backend.ObjectInfo{}, fmt.Errorf("put object %q in bucket %q: body ended after %d of %d bytes: %w",
			key, bucket, body.read, size, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return backend.ObjectInfo{}, mapError(err, "put object %q in bucket %q", key, bucket)
	}
	return putInfo(key, size, etag, opts), nil
}

func (b *Backend) putSingle(ctx context.Context, bucket, key string, body *body, size int64, opts backend.PutOptions) (*string, error) {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          body.reader(),
		ContentLength: aws.Int64(size),
	}
	setPutOptions(in, opts)
	var optFns []func(*s3.Options)
	if !body.seekable() {
		optFns = append(optFns, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	}
	out, err := b.client.PutObject(ctx, in, optFns...)
	if err != nil {
		return nil, err
	}
	return out.ETag, nil
}

func (b *Backend) putMultipart(ctx context.Context, bucket, key string, body *body, opts backend.PutOptions) (*string, error) {
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: body.reader()}
	setPutOptions(in, opts)
	out, err := b.uploader.Upload(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.ETag, nil
}

func setPutOptions(in *s3.PutObjectInput, opts backend.PutOptions) {
	if opts.Digest != "" {
		in.Metadata = map[string]string{_digestMetaKey: opts.Digest}
	}
	in.ContentType = optional(opts.ContentType)
	in.ContentDisposition = optional(opts.ContentDisposition)
	in.ContentEncoding = optional(opts.ContentEncoding)
	in.ContentLanguage = optional(opts.ContentLanguage)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// readerAtSeeker is a body the uploader reads parts from without buffering.
type readerAtSeeker interface {
	io.ReaderAt
	io.ReadSeeker
}

// body is the request body of one put: a section of exactly size bytes of
// a seekable source, or a plain reader limited to size bytes that notes
// when it ends early.
type body struct {
	section *io.SectionReader
	plain   io.Reader
	size    int64
	read    int64
	eof     bool
}

// newBody wraps r. For a seekable source it checks up front that size
// bytes remain after the current offset.
func newBody(r io.Reader, size int64) (*body, error) {
	ra, ok := r.(readerAtSeeker)
	if !ok {
		return &body{plain: r, size: size}, nil
	}
	offset, err := ra.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("seek body: %w", err)
	}
	end, err := ra.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("seek body: %w", err)
	}
	if _, err := ra.Seek(offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek body: %w", err)
	}
	if end-offset < size {
		return nil, fmt.Errorf("body has %d bytes, want %d: %w", end-offset, size, io.ErrUnexpectedEOF)
	}
	return &body{section: io.NewSectionReader(ra, offset, size), size: size}, nil
}

func (b *body) seekable() bool { return b.section != nil }

func (b *body) reader() io.Reader {
	if b.section != nil {
		return b.section
	}
	return b
}

// short reports whether a plain body ended before size bytes.
func (b *body) short() bool { return b.eof && b.read < b.size }

// Read reads from the plain reader, at most up to size bytes, and turns an
// early io.EOF into io.ErrUnexpectedEOF so that the SDK aborts instead of
// uploading a truncated object.
func (b *body) Read(p []byte) (int, error) {
	if left := b.size - b.read; left <= 0 {
		return 0, io.EOF
	} else if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.plain.Read(p)
	b.read += int64(n)
	if err == io.EOF {
		b.eof = true
		if b.read < b.size {
			return n, io.ErrUnexpectedEOF
		}
	}
	return n, err
}
