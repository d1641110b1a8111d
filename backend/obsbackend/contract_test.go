package obsbackend

import (
	"testing"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/backend/backendtest"
)

// _contractThreshold is a little above the minimum part size, so the suite's
// multipart object spans two parts and its range across the first part
// boundary stays inside the object.
const _contractThreshold = backend.MinPartSize + 1<<10

func TestContract(t *testing.T) {
	for _, m := range _modes {
		t.Run(m.name, func(t *testing.T) {
			srv := newFake(t, _creds)
			newContractBackend := func(t *testing.T) backend.Backend {
				return newBackend(t, srv, m, backend.Config{MultipartThreshold: _contractThreshold, PartSize: backend.MinPartSize})
			}
			backendtest.Run(t, newContractBackend, backendtest.Options{TrailingSlashKeys: true, MultipartThreshold: _contractThreshold})
			if n := srv.Count("Rejected"); n != 0 {
				t.Errorf("fake rejected %d requests of the contract suite; want 0", n)
			}
		})
	}
}
