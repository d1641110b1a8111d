package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// _versitygwInstall is the command that installs the S3 server dfbench uses.
const _versitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 (or make tools)"

// S3 credentials of the benchmark's own versitygw; it listens on 127.0.0.1 only.
const (
	_s3AccessKey = "dfbench-access"
	_s3SecretKey = "dfbench-secret-key"
	_s3Region    = "us-east-1"
)

// findVersitygw returns the versitygw binary from PATH or $(go env GOPATH)/bin.
func findVersitygw() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "versitygw")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("versitygw not found in PATH or $(go env GOPATH)/bin: install it with %s", _versitygwInstall)
}

// startS3 runs versitygw in posix mode over dir on a free loopback port and
// returns the process and its endpoint "http://127.0.0.1:PORT".
func startS3(ctx context.Context, dir string) (*process, string, error) {
	bin, err := findVersitygw()
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, "", fmt.Errorf("create versitygw directory: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := startProcess("versitygw", filepath.Join(dir, "versitygw.log"), bin,
		"--quiet", "--access", _s3AccessKey, "--secret", _s3SecretKey,
		"--region", _s3Region, "--port", addr, "posix", filepath.Join(dir, "data"))
	if err != nil {
		return nil, "", err
	}
	endpoint := "http://" + addr
	if err := p.waitReady(ctx, endpoint+"/", false); err != nil {
		p.stop(5 * time.Second)
		return nil, "", err
	}
	return p, endpoint, nil
}

// newS3Client returns an SDK client for endpoint with static credentials,
// path-style addressing and checksums only where S3 requires them. It reads
// no shared configuration, so it never reaches any other host. concurrency
// sizes its connection pool.
func newS3Client(endpoint string, concurrency int) *s3.Client {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.Proxy = nil
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
		t.MaxIdleConns = concurrency * 2
		t.MaxIdleConnsPerHost = concurrency * 2
	})
	cfg := aws.Config{
		Region:                     _s3Region,
		Credentials:                credentials.NewStaticCredentialsProvider(_s3AccessKey, _s3SecretKey, ""),
		HTTPClient:                 httpClient,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
}

// createBucket creates bucket; an existing bucket of ours is not an error.
func createBucket(ctx context.Context, c *s3.Client, bucket string) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) && coded.ErrorCode() == "BucketAlreadyOwnedByYou" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create bucket %q: %w", bucket, err)
	}
	return nil
}

// waitObject polls the S3 server until bucket/key exists, for write-backs
// that finish after the peer responded.
func waitObject(ctx context.Context, c *s3.Client, bucket, key string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("object %s/%s did not reach the S3 server within %s: %w", bucket, key, timeout, err)
		case <-tick.C:
		}
	}
}

// countObjects returns how many keys under prefix the S3 server lists.
func countObjects(ctx context.Context, c *s3.Client, bucket, prefix string) (int, error) {
	n := 0
	pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("list %s/%s: %w", bucket, prefix, err)
		}
		n += len(page.Contents)
	}
	return n, nil
}
