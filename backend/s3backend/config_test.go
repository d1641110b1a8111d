package s3backend_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/backend/s3backend"
)

func TestEndpointForms(t *testing.T) {
	for _, tc := range []struct{ endpoint, want string }{
		{"127.0.0.1:9000", "https://127.0.0.1:9000"},
		{"s3.us-east-2.amazonaws.com", "https://s3.us-east-2.amazonaws.com"},
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"https://127.0.0.1:9000/", "https://127.0.0.1:9000"},
	} {
		b, err := s3backend.New(backend.Config{Region: "us-east-1", Endpoint: tc.endpoint})
		if err != nil {
			t.Errorf("New(endpoint %q): %v", tc.endpoint, err)
			continue
		}
		if info := b.Info(); info != (backend.Info{Name: "s3", Region: "us-east-1", Endpoint: tc.want}) {
			t.Errorf("endpoint %q: Info() = %+v, want Endpoint %q", tc.endpoint, info, tc.want)
		}
	}
}

func TestInvalidConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     backend.Config
		mention string
	}{
		{"no region", backend.Config{Endpoint: "http://127.0.0.1:1"}, "region"},
		{"ftp endpoint", backend.Config{Region: "r", Endpoint: "ftp://127.0.0.1"}, "endpoint"},
		{"endpoint with path", backend.Config{Region: "r", Endpoint: "http://127.0.0.1/bucket"}, "endpoint"},
		{"access key alone", backend.Config{Region: "r", Endpoint: "http://127.0.0.1:1", AccessKey: "a"}, "secretKey"},
		{"token alone", backend.Config{Region: "r", Endpoint: "http://127.0.0.1:1", SecurityToken: "t"}, "securityToken"},
	} {
		_, err := s3backend.New(tc.cfg)
		if !errors.Is(err, backend.ErrInvalidArgument) {
			t.Errorf("%s: got %v, want ErrInvalidArgument", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.mention)
		}
	}
}

func TestOpenByName(t *testing.T) {
	b, err := backend.Open(backend.Config{Name: "s3", Region: "eu-west-1", Endpoint: "http://127.0.0.1:1",
		AccessKey: "a", SecretKey: "s", SecurityToken: "session"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got := b.Info().Name; got != "s3" {
		t.Errorf("Info().Name = %q, want s3", got)
	}
}
