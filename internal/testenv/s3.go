package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dfcache/dfcache/backend"
)

// _versitygwInstall is the command that installs the S3 server the tests use.
const _versitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// S3Server is a versitygw process serving a fresh directory over the S3 API
// on 127.0.0.1, in single-account mode with static credentials.
type S3Server struct {
	// Endpoint is "http://127.0.0.1:PORT".
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
	// Dir is the directory versitygw stores buckets in, one subdirectory
	// per bucket.
	Dir string
}

// StartS3 starts versitygw on a free loopback port, waits until it responds,
// and kills it (by its pid) when the test ends. It sets
// AWS_EC2_METADATA_DISABLED for the test, so no SDK client probes the
// instance metadata service. The binary comes from PATH or from
// $(go env GOPATH)/bin.
func StartS3(t testing.TB) *S3Server {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	bin := findVersitygw(t)
	srv := &S3Server{
		AccessKey: "testenv-access",
		SecretKey: "testenv-secret-key",
		Region:    "us-east-1",
		Dir:       t.TempDir(),
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		// Another process may take the port between FreePort and the
		// server's bind, so try a few ports.
		if lastErr = srv.start(t, bin, FreePort(t)); lastErr == nil {
			return srv
		}
	}
	t.Fatalf("start versitygw: %v", lastErr)
	return nil
}

func findVersitygw(t testing.TB) string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "versitygw")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Fatalf("versitygw not found in PATH or $(go env GOPATH)/bin: install it with %q", _versitygwInstall)
	return ""
}

// start runs versitygw on port and waits for it. On failure the process is
// gone and the error carries the server's output.
func (s *S3Server) start(t testing.TB, bin string, port int) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var output bytes.Buffer
	cmd := exec.Command(bin, "--quiet", "--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", s.Region, "--port", addr, "posix", s.Dir)
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	s.Endpoint = "http://" + addr
	if err := waitHTTP(s.Endpoint+"/", 15*time.Second, exited); err != nil {
		stopProcess(cmd, exited)
		return fmt.Errorf("%w; output:\n%s", err, output.String())
	}
	t.Cleanup(func() { stopProcess(cmd, exited) })
	return nil
}

// stopProcess kills cmd by its pid unless it already exited, and waits.
func stopProcess(cmd *exec.Cmd, exited chan error) {
	select {
	case err := <-exited:
		exited <- err
		return
	default:
	}
	_ = cmd.Process.Kill()
	err := <-exited
	exited <- err
}

// Config returns a backend configuration for the "s3" backend that reaches
// this server with path-style addressing. It first creates each named
// bucket, and panics when that fails (it has no testing.TB to fail).
func (s *S3Server) Config(buckets ...string) backend.Config {
	for _, b := range buckets {
		if err := s.createBucket(b); err != nil {
			panic(fmt.Sprintf("testenv: %v", err))
		}
	}
	return backend.Config{
		Name:             "s3",
		Region:           s.Region,
		Endpoint:         s.Endpoint,
		AccessKey:        s.AccessKey,
		SecretKey:        s.SecretKey,
		S3ForcePathStyle: true,
	}
}

// Client returns an SDK client for this server, independent of the code
// under test, to check what the server really stores. It never loads shared
// configuration files.
func (s *S3Server) Client() *s3.Client {
	cfg := aws.Config{
		Region:                     s.Region,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.Endpoint)
		o.UsePathStyle = true
	})
}

// CreateBucket creates bucket through the SDK directly and fails the test
// on error. An existing bucket is not an error.
func (s *S3Server) CreateBucket(t testing.TB, bucket string) {
	t.Helper()
	if err := s.createBucket(bucket); err != nil {
		t.Fatal(err)
	}
}

func (s *S3Server) createBucket(bucket string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned interface{ ErrorCode() string }
	if errors.As(err, &owned) && owned.ErrorCode() == "BucketAlreadyOwnedByYou" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create bucket %q on %s: %w", bucket, s.Endpoint, err)
	}
	return nil
}
