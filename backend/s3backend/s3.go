// Package s3backend stores objects in Amazon S3 or an S3-compatible server
// through aws-sdk-go-v2; it registers itself as "s3".
//
// The client is built from backend.Config alone: it never reads shared AWS
// configuration files, environment credentials or the EC2 instance
// metadata service.
package s3backend

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dfcache/dfcache/backend"
)

// Name is the backend name this package registers.
const Name = "s3"

func init() {
	backend.Register(Name, func(cfg backend.Config) (backend.Backend, error) {
		return New(cfg)
	})
}

// _uploadConcurrency is how many parts of one multipart upload are in
// flight at once.
const _uploadConcurrency = 4

// Backend is a backend.Backend on one S3 endpoint.
type Backend struct {
	client    *s3.Client
	uploader  *manager.Uploader
	info      backend.Info
	threshold int64
	partSize  int64
}

var _ backend.Backend = (*Backend)(nil)

// New builds a client for cfg. It sends no request. Region is required;
// Endpoint is "host[:port]" (HTTPS), "http://host[:port]" or
// "https://host[:port]", or empty for the AWS endpoint of the region.
// Empty AccessKey and SecretKey mean anonymous requests.
func New(cfg backend.Config) (*Backend, error) {
	client, endpoint, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("s3 backend: %w", err)
	}
	b := &Backend{
		client:    client,
		info:      backend.Info{Name: Name, Region: cfg.Region, Endpoint: endpoint},
		threshold: cfg.MultipartThreshold,
		partSize:  max(cfg.PartSize, backend.MinPartSize),
	}
	if b.threshold <= 0 {
		b.threshold = backend.DefaultMultipartThreshold
	}
	if cfg.PartSize <= 0 {
		b.partSize = backend.DefaultPartSize
	}
	b.uploader = manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize = b.partSize
		u.Concurrency = _uploadConcurrency
		u.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	return b, nil
}

// Info returns Name "s3", the region and the endpoint URL ("" for AWS).
func (b *Backend) Info() backend.Info { return b.info }

// CreateBucket creates the bucket in the configured region. A bucket that
// the caller already owns is not an error.
func (b *Backend) CreateBucket(ctx context.Context, bucket string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if b.info.Region != "us-east-1" {
		// us-east-1 is the default location and rejects an explicit one.
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(b.info.Region),
		}
	}
	_, err := b.client.CreateBucket(ctx, in)
	if errorCode(err) == "BucketAlreadyOwnedByYou" {
		return nil
	}
	return mapBucketError(err, "create bucket %q", bucket)
}

// HeadBucket returns nil when the bucket exists and the credentials may
// use it.
func (b *Backend) HeadBucket(ctx context.Context, bucket string) error {
	_, err := b.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	return mapBucketError(err, "head bucket %q", bucket)
}

// DeleteObject removes the object; a missing object is not an error.
func (b *Backend) DeleteObject(ctx context.Context, bucket, key string) error {
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	err = mapError(err, "delete object %q in bucket %q", key, bucket)
	if errors.Is(err, backend.ErrNotFound) {
		return nil
	}
	return err
}
