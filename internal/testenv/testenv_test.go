package testenv

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestStartS3ServesBuckets(t *testing.T) {
	srv := StartS3(t)
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q, want http://127.0.0.1:PORT", srv.Endpoint)
	}
	srv.CreateBucket(t, "made-by-testenv")
	srv.CreateBucket(t, "made-by-testenv") // an owned bucket is not an error
	_, err := srv.Client().HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("made-by-testenv")})
	if err != nil {
		t.Errorf("HeadBucket of the created bucket: %v", err)
	}
	if cfg := srv.Config(); cfg.Name != "s3" || !cfg.S3ForcePathStyle || cfg.Endpoint != srv.Endpoint {
		t.Errorf("Config() = %v, want s3 with path style at %s", cfg, srv.Endpoint)
	}
}

func TestProxyCountsAndForwards(t *testing.T) {
	srv := StartS3(t)
	srv.CreateBucket(t, "bucket")
	proxy := NewProxy(t, srv.Endpoint)
	client := s3.NewFromConfig(aws.Config{Region: srv.Region, Credentials: srv.Client().Options().Credentials}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(proxy.URL)
		o.UsePathStyle = true
	})
	ctx := context.Background()
	_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: strings.NewReader("data")})
	if err != nil {
		t.Fatalf("PutObject through the proxy (a signature failure means the Host header changed): %v", err)
	}
	if got := proxy.CountPath(http.MethodPut, "/bucket/k"); got != 1 {
		t.Errorf("CountPath(PUT, /bucket/k) = %d, want 1", got)
	}
	records := proxy.Requests()
	if len(records) != 1 || records[0].Status != http.StatusOK || records[0].Injected {
		t.Errorf("Requests() = %+v, want one forwarded PUT with status 200", records)
	}
	proxy.Reset()
	if got := len(proxy.Requests()); got != 0 {
		t.Errorf("records after Reset = %d, want 0", got)
	}
}

func TestProxyFailNext(t *testing.T) {
	srv := StartS3(t)
	proxy := NewProxy(t, srv.Endpoint)
	proxy.FailNext(2, http.StatusServiceUnavailable)
	for i := 0; i < 2; i++ {
		resp, err := http.Get(proxy.URL + "/bucket/key?uploadId=1&partNumber=2")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "<Code>ServiceUnavailable</Code>") {
			t.Errorf("request %d: status %d body %q, want 503 with an S3 error", i, resp.StatusCode, body)
		}
	}
	resp, err := http.Get(proxy.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable {
		t.Errorf("third request was failed too; FailNext(2) should fail two")
	}
	records := proxy.Requests()
	if len(records) != 3 || !records[0].Injected || !records[0].UploadID || !records[0].PartNumber || records[2].Injected {
		t.Errorf("Requests() = %+v, want two injected multipart records and one forwarded", records)
	}
}

func TestProxySetDown(t *testing.T) {
	srv := StartS3(t)
	proxy := NewProxy(t, srv.Endpoint)
	proxy.SetDown(true)
	if resp, err := http.Get(proxy.URL + "/"); err == nil {
		resp.Body.Close()
		t.Errorf("GET while down: got status %d, want a closed connection", resp.StatusCode)
	}
	proxy.SetDown(false)
	resp, err := http.Get(proxy.URL + "/")
	if err != nil {
		t.Fatalf("GET after SetDown(false): %v", err)
	}
	resp.Body.Close()
	if got := proxy.Count(http.MethodGet); got != 2 {
		t.Errorf("Count(GET) = %d, want 2", got)
	}
}

func TestWaitHTTPClosedPort(t *testing.T) {
	url := "http://127.0.0.1:" + strconv.Itoa(FreePort(t)) + "/"
	err := waitHTTP(url, 100*time.Millisecond, nil)
	var waitErr *waitError
	if !errors.As(err, &waitErr) {
		t.Errorf("waitHTTP on a closed port: got %v, want a waitError", err)
	}
}
