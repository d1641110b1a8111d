package fsbackend_test

import (
	"testing"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/backend/backendtest"
	"github.com/dfcache/dfcache/backend/fsbackend"
)

func newBackend(t *testing.T) *fsbackend.Backend {
	t.Helper()
	b, err := fsbackend.New(backend.Config{Name: "fs", Endpoint: t.TempDir()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

func TestContract(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newBackend(t) }, backendtest.Options{
		MultipartThreshold: 6 << 20,
	})
}
