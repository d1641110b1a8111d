package config

import (
	"strings"
	"testing"
)

func TestParseErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		yaml string
		key  string
	}{
		{"objectStorage:\n  tcpListen:\n    port: 70000\n", "objectStorage.tcpListen.port"},
		{"objectStorage:\n  maxReplicas: 0\n", "objectStorage.maxReplicas"},
		{"objectStorage:\n  backend:\n    name: gcs\n    endpoint: x\n", "objectStorage.backend.name"},
		{"objectStorage:\n  backend:\n    name: s3\n", "objectStorage.backend.endpoint"},
		{"objectStorage:\n  bakend: {}\n", "bakend"},
		{"cache:\n  diskQuota: 12 parsecs\n", "invalid size"},
		{"cache:\n  pieceSize: 1KiB\n", "cache.pieceSize"},
		{"manager:\n  enable: true\n", "manager.netAddrs"},
		{"log:\n  level: loud\n", "log.level"},
		{"host:\n  advertiseIP: somewhere\n", "host.advertiseIP"},
		{"scheduler:\n  netAddrs:\n  - addr: nohostport\n", "netAddrs[0].addr"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml))
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error naming %s", c.yaml, c.key)
			continue
		}
		if !strings.Contains(err.Error(), c.key) {
			t.Errorf("Parse(%q) = %q, want it to name %s", c.yaml, err, c.key)
		}
	}
}

func TestParseDefaultsAndSizes(t *testing.T) {
	cfg, err := Parse([]byte("dataDir: /tmp/x\ncache:\n  diskQuota: 2GiB\n  pieceSize: 1MiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cache.DiskQuota != 2<<30 || cfg.Cache.PieceSize != 1<<20 {
		t.Errorf("sizes = %d, %d", cfg.Cache.DiskQuota, cfg.Cache.PieceSize)
	}
	if got := cfg.ObjectStorage.TCPListen.Addr(); got != "127.0.0.1:65004" {
		t.Errorf("default listen address %s, want 127.0.0.1:65004", got)
	}
	if cfg.ObjectStorage.Backend.Name != "fs" || cfg.ObjectStorage.Backend.Endpoint != "/tmp/x/backend" {
		t.Errorf("default backend %+v, want fs under dataDir", cfg.ObjectStorage.Backend)
	}
	if cfg.Clustered() {
		t.Errorf("default config is clustered, want standalone")
	}
}

func TestDragonflyKeysAccepted(t *testing.T) {
	doc := `
manager:
  enable: false
  netAddrs:
    - type: tcp
      addr: manager-service:65003
  refreshInterval: 10s
objectStorage:
  enable: true
  filter: 'Expires&Signature&ns'
  maxReplicas: 3
  security:
    insecure: true
    tlsVerify: true
  tcpListen:
    listen: 0.0.0.0
    port: 65004
seedPeer:
  enable: true
`
	cfg, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.SeedPeer.Enable || cfg.ObjectStorage.Filter != "Expires&Signature&ns" {
		t.Errorf("parsed %+v", cfg)
	}
}

func TestByteSizeString(t *testing.T) {
	for in, want := range map[ByteSize]string{4 << 20: "4MiB", 1536: "1536B", 3 << 30: "3GiB", 0: "0B"} {
		if got := in.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(in), got, want)
		}
	}
}
