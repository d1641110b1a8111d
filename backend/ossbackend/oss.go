// Package ossbackend stores objects in Alibaba Cloud OSS through
// github.com/aliyun/alibabacloud-oss-go-sdk-v2.
//
// The client only ever contacts Config.Endpoint: it is built with a static
// credentials provider (never the ECS metadata service) and never derives an
// endpoint from the region. Importing the package registers it as "oss".
package ossbackend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/dfcache/dfcache/backend"
)

// Name is the backend name used in configuration and in Info.
const Name = "oss"

// maxPageKeys is the largest max-keys one OSS ListObjects request accepts.
const maxPageKeys = 1000

func init() {
	backend.Register(Name, func(cfg backend.Config) (backend.Backend, error) { return New(cfg) })
}

// Backend is an OSS bucket store. It is safe for concurrent use.
type Backend struct {
	client    *oss.Client
	info      backend.Info
	threshold int64
	partSize  int64
}

var _ backend.Backend = (*Backend)(nil)

// New checks cfg and builds a client for cfg.Endpoint, which may be
// "host:port" (HTTPS is assumed) or a URL with an http or https scheme.
//
// Requests are signed with signature v4 unless cfg.SignatureVersion is "v1";
// v4 needs cfg.Region. cfg.SecurityToken, when set, is sent with the access
// key as STS credentials. An IP endpoint or cfg.S3ForcePathStyle selects
// path-style URLs; otherwise the bucket is a subdomain of the endpoint.
func New(cfg backend.Config) (*Backend, error) {
	settings, err := resolveConfig(cfg)
	if err != nil {
		return nil, err
	}
	provider := credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, cfg.SecurityToken)
	ossCfg := oss.NewConfig().
		WithEndpoint(cfg.Endpoint).
		WithRegion(cfg.Region).
		WithCredentialsProvider(provider).
		WithSignatureVersion(settings.signature).
		WithUsePathStyle(cfg.S3ForcePathStyle).
		WithConnectTimeout(10 * time.Second).
		WithReadWriteTimeout(time.Minute)
	return &Backend{
		client:    oss.NewClient(ossCfg),
		info:      backend.Info{Name: Name, Region: cfg.Region, Endpoint: cfg.Endpoint},
		threshold: settings.threshold,
		partSize:  settings.partSize,
	}, nil
}

type settings struct {
	signature oss.SignatureVersionType
	threshold int64
	partSize  int64
}

// resolveConfig validates cfg and fills in the documented defaults.
func resolveConfig(cfg backend.Config) (settings, error) {
	s := settings{signature: oss.SignatureVersionV4, threshold: cfg.MultipartThreshold, partSize: cfg.PartSize}
	switch cfg.SignatureVersion {
	case "", "v4":
	case "v1":
		s.signature = oss.SignatureVersionV1
	default:
		return s, invalidConfig("signatureVersion %q is not supported: use \"v4\" or \"v1\"", cfg.SignatureVersion)
	}
	if cfg.Endpoint == "" {
		return s, invalidConfig("endpoint is empty: set it to the OSS endpoint, such as oss-cn-hangzhou.aliyuncs.com")
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return s, invalidConfig("accessKey and secretKey are required")
	}
	if s.signature == oss.SignatureVersionV4 && cfg.Region == "" {
		return s, invalidConfig("region is empty: signature v4 needs the bucket region, such as cn-hangzhou, or set signatureVersion to \"v1\"")
	}
	if s.threshold == 0 {
		s.threshold = backend.DefaultMultipartThreshold
	}
	if s.partSize == 0 {
		s.partSize = backend.DefaultPartSize
	}
	if s.threshold < 0 || s.partSize < backend.MinPartSize {
		return s, invalidConfig("multipartThreshold %d or partSize %d is invalid: the threshold must not be negative and parts must be at least %d bytes",
			s.threshold, s.partSize, backend.MinPartSize)
	}
	return s, nil
}

func invalidConfig(format string, args ...any) error {
	return fmt.Errorf("oss config: %w: %s", backend.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// Info returns the backend name, region and endpoint as configured.
func (b *Backend) Info() backend.Info { return b.info }

// CreateBucket creates bucket with the account's default ACL and storage
// class. A bucket the caller already owns is not an error.
func (b *Backend) CreateBucket(ctx context.Context, bucket string) error {
	_, err := b.client.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(bucket)})
	if err != nil {
		var se *oss.ServiceError
		if errors.As(err, &se) && se.Code == "BucketAlreadyOwnedByYou" {
			return nil
		}
		return mapError("create bucket", bucket, "", err)
	}
	return nil
}

// HeadBucket checks that bucket exists and the credentials may read it, by
// fetching its bucket info.
func (b *Backend) HeadBucket(ctx context.Context, bucket string) error {
	_, err := b.client.GetBucketInfo(ctx, &oss.GetBucketInfoRequest{Bucket: oss.Ptr(bucket)})
	if err != nil {
		return mapError("head bucket", bucket, "", err)
	}
	return nil
}
