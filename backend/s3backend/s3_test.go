package s3backend_test

import (
	"testing"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/backend/backendtest"
	"github.com/dfcache/dfcache/backend/s3backend"
	"github.com/dfcache/dfcache/internal/testenv"
)

// Small multipart settings, so the contract's multipart case stays fast.
const (
	_threshold = 5 << 20
	_partSize  = 5 << 20
)

func newBackend(t *testing.T, cfg backend.Config) *s3backend.Backend {
	t.Helper()
	cfg.MultipartThreshold, cfg.PartSize = _threshold, _partSize
	b, err := s3backend.New(cfg)
	if err != nil {
		t.Fatalf("New(%v): %v", cfg, err)
	}
	return b
}

func TestContract(t *testing.T) {
	srv := testenv.StartS3(t)
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newBackend(t, srv.Config()) }, backendtest.Options{
		TrailingSlashKeys:  true,
		MultipartThreshold: _threshold,
	})
}
