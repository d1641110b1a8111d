package s3backend

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dfcache/dfcache/backend"
)

// HTTP timeouts. There is no overall request timeout, because it would cut
// off a long streaming body; the caller's context bounds a request.
const (
	_dialTimeout           = 10 * time.Second
	_tlsHandshakeTimeout   = 10 * time.Second
	_responseHeaderTimeout = 60 * time.Second
	_idleConnTimeout       = 90 * time.Second
)

// _maxAttempts is how often the SDK sends a request that fails with a
// retryable error (5xx, throttling, connection errors) before it gives up.
const _maxAttempts = 3

// newClient builds an S3 client by hand from cfg, and returns it with the
// normalised endpoint URL.
func newClient(cfg backend.Config) (*s3.Client, string, error) {
	if cfg.Region == "" {
		return nil, "", fmt.Errorf("region is empty: set objectStorage.backend.region to the bucket's region, such as us-east-1: %w", backend.ErrInvalidArgument)
	}
	endpoint, err := normaliseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, "", err
	}
	creds, err := credentialsProvider(cfg)
	if err != nil {
		return nil, "", err
	}
	awsCfg := aws.Config{
		Region:      cfg.Region,
		Credentials: creds,
		HTTPClient:  newHTTPClient(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = _maxAttempts
				// The client-side retry quota would turn a burst of
				// failures into errors that never reached the server.
				o.RateLimiter = ratelimit.None
			})
		},
		// S3-compatible servers often reject the CRC checksums that the
		// SDK would otherwise add to every request.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = cfg.S3ForcePathStyle
	})
	return client, endpoint, nil
}

// normaliseEndpoint turns "host[:port]" into "https://host[:port]" and
// checks that the result is a bare http or https URL.
func normaliseEndpoint(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	withScheme := raw
	if !strings.Contains(raw, "://") {
		withScheme = "https://" + raw
	}
	u, err := url.Parse(withScheme)
	if err != nil {
		return "", fmt.Errorf("invalid endpoint %q: %w: %w", raw, backend.ErrInvalidArgument, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("invalid endpoint %q: want host[:port], http://host[:port] or https://host[:port]: %w", raw, backend.ErrInvalidArgument)
	}
	return u.Scheme + "://" + u.Host, nil
}

func credentialsProvider(cfg backend.Config) (aws.CredentialsProvider, error) {
	switch {
	case cfg.AccessKey == "" && cfg.SecretKey == "":
		if cfg.SecurityToken != "" {
			return nil, fmt.Errorf("securityToken is set without accessKey and secretKey: set all three for temporary credentials: %w", backend.ErrInvalidArgument)
		}
		return aws.AnonymousCredentials{}, nil
	case cfg.AccessKey == "" || cfg.SecretKey == "":
		return nil, fmt.Errorf("only one of accessKey and secretKey is set: set both, or neither for anonymous access: %w", backend.ErrInvalidArgument)
	}
	return aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, cfg.SecurityToken)), nil
}

// newHTTPClient returns a client with connection and response-header
// timeouts, and no overall timeout.
func newHTTPClient() aws.HTTPClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = _dialTimeout }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = _tlsHandshakeTimeout
			tr.ResponseHeaderTimeout = _responseHeaderTimeout
			tr.IdleConnTimeout = _idleConnTimeout
			tr.ExpectContinueTimeout = time.Second
		}).
		WithTimeout(0)
}
