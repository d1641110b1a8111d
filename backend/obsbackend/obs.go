// Package obsbackend stores objects in Huawei Cloud OBS through
// github.com/huaweicloud/huaweicloud-sdk-go-obs.
//
// Requests go only to Config.Endpoint: credentials are static, redirects are
// not followed, and the SDK's own retries are off, so its sleeps cannot
// ignore the caller's context. Failures worth repeating wrap
// backend.ErrRetryable for the caller's retry policy. Importing the package
// registers it as "obs".
package obsbackend

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/dfcache/dfcache/backend"
)

// Name is the backend name used in configuration and in Info.
const Name = "obs"

// Request timeouts, in seconds as the SDK takes them.
const (
	connectTimeoutSeconds = 10
	socketTimeoutSeconds  = 60
)

func init() {
	backend.Register(Name, func(cfg backend.Config) (backend.Backend, error) { return New(cfg) })
}

// Backend is an OBS bucket store. It is safe for concurrent use.
type Backend struct {
	cfg        backend.Config
	signature  obs.SignatureType
	pathStyle  bool
	threshold  int64
	partSize   int64
	httpClient *http.Client
}

var _ backend.Backend = (*Backend)(nil)

// New checks cfg and prepares clients for cfg.Endpoint, which may be
// "host:port" (HTTPS is assumed) or a URL with an http or https scheme.
//
// cfg.SignatureVersion selects the request dialect, and with it the header
// that carries the digest metadata:
//   - "" or "obs": OBS signature ("OBS AK:SIG") and x-obs-meta-digest, in
//     virtual-hosted style. The SDK switches to "v2" for path-style
//     requests, which an IP endpoint or cfg.S3ForcePathStyle selects.
//   - "v2": AWS signature v2 ("AWS AK:SIG") and x-amz-meta-digest.
//   - "v4": AWS signature v4 ("AWS4-HMAC-SHA256"), scoped to cfg.Region,
//     and x-amz-meta-digest.
//
// Either way OBS stores the same user metadata "digest". cfg.SecurityToken,
// when set, is sent as x-obs-security-token or x-amz-security-token.
func New(cfg backend.Config) (*Backend, error) {
	b := &Backend{cfg: cfg, pathStyle: cfg.S3ForcePathStyle, threshold: cfg.MultipartThreshold, partSize: cfg.PartSize}
	if err := b.resolveConfig(); err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: connectTimeoutSeconds * time.Second}
	b.httpClient = &http.Client{
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			ResponseHeaderTimeout: socketTimeoutSeconds * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   16,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return b, nil
}

// resolveConfig validates the configuration and fills in the defaults.
func (b *Backend) resolveConfig() error {
	switch b.cfg.SignatureVersion {
	case "", "obs", "OBS":
		b.signature = obs.SignatureObs
	case "v2":
		b.signature = obs.SignatureV2
	case "v4":
		b.signature = obs.SignatureV4
	default:
		return invalidConfig("signatureVersion %q is not supported: use \"obs\", \"v2\" or \"v4\"", b.cfg.SignatureVersion)
	}
	if b.cfg.Endpoint == "" {
		return invalidConfig("endpoint is empty: set it to the OBS endpoint, such as obs.cn-north-4.myhuaweicloud.com")
	}
	if b.cfg.AccessKey == "" || b.cfg.SecretKey == "" {
		return invalidConfig("accessKey and secretKey are required")
	}
	if b.signature == obs.SignatureV4 && b.cfg.Region == "" {
		return invalidConfig("region is empty: signature v4 needs the bucket region, such as cn-north-4")
	}
	if b.threshold == 0 {
		b.threshold = backend.DefaultMultipartThreshold
	}
	if b.partSize == 0 {
		b.partSize = backend.DefaultPartSize
	}
	if b.threshold < 0 || b.partSize < backend.MinPartSize {
		return invalidConfig("multipartThreshold %d or partSize %d is invalid: the threshold must not be negative and parts must be at least %d bytes",
			b.threshold, b.partSize, backend.MinPartSize)
	}
	return nil
}

func invalidConfig(format string, args ...any) error {
	return fmt.Errorf("obs config: %w: %s", backend.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// client returns an SDK client whose requests use ctx. The SDK takes the
// context per client, not per call, so each operation builds one; they
// share b.httpClient and its connections.
func (b *Backend) client(ctx context.Context) (*obs.ObsClient, error) {
	c, err := obs.New(b.cfg.AccessKey, b.cfg.SecretKey, b.cfg.Endpoint,
		obs.WithSignature(b.signature),
		obs.WithRegion(b.cfg.Region),
		obs.WithPathStyle(b.pathStyle),
		obs.WithSecurityToken(b.cfg.SecurityToken),
		obs.WithHttpClient(b.httpClient),
		obs.WithRequestContext(ctx),
		obs.WithMaxRetryCount(0),
		obs.WithMaxRedirectCount(0),
		obs.WithConnectTimeout(connectTimeoutSeconds),
		obs.WithSocketTimeout(socketTimeoutSeconds),
	)
	if err != nil {
		return nil, fmt.Errorf("obs client for %q: %w: %w", b.cfg.Endpoint, backend.ErrInvalidArgument, err)
	}
	return c, nil
}

// Info returns the backend name, region and endpoint as configured.
func (b *Backend) Info() backend.Info {
	return backend.Info{Name: Name, Region: b.cfg.Region, Endpoint: b.cfg.Endpoint}
}

// CreateBucket creates bucket in the configured region. A bucket the caller
// already owns is not an error.
func (b *Backend) CreateBucket(ctx context.Context, bucket string) error {
	c, err := b.client(ctx)
	if err != nil {
		return err
	}
	input := &obs.CreateBucketInput{Bucket: bucket}
	input.Location = b.cfg.Region
	_, err = c.CreateBucket(input)
	if err != nil && codeOf(err) != "BucketAlreadyOwnedByYou" {
		return mapError("create bucket", bucket, "", err, backend.ErrBucketNotFound)
	}
	return nil
}

// HeadBucket checks that bucket exists and the credentials may read it.
func (b *Backend) HeadBucket(ctx context.Context, bucket string) error {
	c, err := b.client(ctx)
	if err != nil {
		return err
	}
	if _, err := c.HeadBucket(bucket); err != nil {
		return mapError("head bucket", bucket, "", err, backend.ErrBucketNotFound)
	}
	return nil
}
