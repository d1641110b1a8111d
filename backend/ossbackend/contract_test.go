package ossbackend_test

import (
	"testing"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/backend/backendtest"
	"github.com/dfcache/dfcache/backend/ossbackend"
	"github.com/dfcache/dfcache/backend/ossbackend/ossfake"
)

// _contractThreshold is a little above the minimum part size, so the suite's
// multipart object spans two parts and its range across the first part
// boundary stays inside the object.
const _contractThreshold = backend.MinPartSize + 1<<10

func TestContract(t *testing.T) {
	for _, version := range []string{"v1", "v4"} {
		t.Run("signature "+version, func(t *testing.T) {
			srv := ossfake.New(t, ossfake.Options{Credentials: _creds, Region: testRegion})
			newBackend := func(t *testing.T) backend.Backend {
				b, err := ossbackend.New(backend.Config{
					Endpoint: srv.URL, Region: testRegion, SignatureVersion: version,
					AccessKey: _creds.AccessKey, SecretKey: _creds.SecretKey,
					MultipartThreshold: _contractThreshold, PartSize: backend.MinPartSize,
				})
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return b
			}
			backendtest.Run(t, newBackend, backendtest.Options{TrailingSlashKeys: true, MultipartThreshold: _contractThreshold})
			if n := srv.Count("Rejected"); n != 0 {
				t.Errorf("fake rejected %d requests of the contract suite; want 0", n)
			}
		})
	}
}
