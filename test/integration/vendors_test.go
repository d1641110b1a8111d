package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/backend/obsbackend/obsfake"
	"github.com/dfcache/dfcache/backend/ossbackend/ossfake"
)

// TestVendorBackendsThroughCLI runs a dfdaemon on the OSS and OBS fakes,
// which check every request's signature, and drives it with dfstore.
func TestVendorBackendsThroughCLI(t *testing.T) {
	creds := ossfake.Credentials{AccessKey: "vendor-ak", SecretKey: "vendor-secret"}
	cases := []struct {
		name    string
		sigVer  string
		start   func(t *testing.T) *ossfake.Server
		region  string
		wantSig string
	}{
		{"oss-v4", "", func(t *testing.T) *ossfake.Server {
			return ossfake.New(t, ossfake.Options{Credentials: creds, Region: "cn-hangzhou"})
		}, "cn-hangzhou", ossfake.SchemeV4},
		{"oss-v1", "v1", func(t *testing.T) *ossfake.Server {
			return ossfake.New(t, ossfake.Options{Credentials: creds, Region: "cn-hangzhou"})
		}, "cn-hangzhou", ossfake.SchemeV1},
		{"obs", "", func(t *testing.T) *ossfake.Server {
			return obsfake.New(t, obsfake.Options{Credentials: creds, Region: "cn-north-4"})
		}, "cn-north-4", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := c.start(t)
			srv.CreateBucket("vendor")
			name := strings.SplitN(c.name, "-", 2)[0]
			p := startPeer(t, peerOptions{backend: backend.Config{
				Name: name, Region: c.region, Endpoint: srv.URL,
				AccessKey: creds.AccessKey, SecretKey: creds.SecretKey,
				SignatureVersion: c.sigVer, MultipartThreshold: 6 << 20, PartSize: 5 << 20,
			}})
			vendorRoundTrip(t, p, srv)
			if c.wantSig != "" && srv.Count(c.wantSig) == 0 {
				t.Errorf("the fake saw no request signed with %s", c.wantSig)
			}
			if srv.Count("Rejected") != 0 {
				t.Errorf("the fake rejected %d requests", srv.Count("Rejected"))
			}
			md, err := p.client.BackendMetadata(context.Background())
			if err != nil || md.Name != name || md.Region != c.region || md.Endpoint == "" {
				t.Errorf("GET /metadata = %+v (err %v), want name %s region %s", md, err, name, c.region)
			}
		})
	}
}

func vendorRoundTrip(t *testing.T, p *peer, srv *ossfake.Server) {
	src, sum := writeFile(t, 21, 7<<20+5)
	url := "dfs://vendor/dir/with space+plus.bin"
	if _, stderr, code := dfstore(t, nil, "cp", "-m", "writeback", "-e", p.URL, src, url); code != 0 {
		t.Fatalf("cp up: exit %d: %s", code, stderr)
	}
	if srv.Count("UploadPart") < 2 {
		t.Errorf("the fake saw %d UploadPart requests, want a multipart upload", srv.Count("UploadPart"))
	}
	dst := filepath.Join(t.TempDir(), "copy")
	if _, stderr, code := dfstore(t, nil, "cp", "-e", p.URL, url, dst); code != 0 {
		t.Fatalf("cp down: exit %d: %s", code, stderr)
	}
	if got := fileMD5(t, dst); got != sum {
		t.Errorf("downloaded md5 %s, want %s", got, sum)
	}
	out, _, code := dfstore(t, nil, "stat", "-e", p.URL, url)
	if code != 0 || !strings.Contains(out, sum) {
		t.Errorf("stat: exit %d, output %q lacks digest %s", code, out, sum)
	}
	out, _, code = dfstore(t, nil, "ls", "-e", p.URL, "dfs://vendor/dir/")
	if code != 0 || !strings.Contains(out, "with space+plus.bin") {
		t.Errorf("ls: exit %d, output %q", code, out)
	}
	if _, stderr, code := dfstore(t, nil, "rm", "-e", p.URL, url); code != 0 {
		t.Errorf("rm: exit %d: %s", code, stderr)
	}
	if _, stderr, code := dfstore(t, nil, "stat", "-e", p.URL, url); code == 0 {
		t.Errorf("stat after rm succeeded, want not found: %s", stderr)
	}
	if _, err := p.client.StatObject(context.Background(), "vendor", "missing"); err == nil {
		t.Errorf("HEAD of a missing key succeeded, want 404")
	}
}
