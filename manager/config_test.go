package manager

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseEmptyGivesDefaults(t *testing.T) {
	cfg, err := Parse(nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := cfg.Server.Addr(); got != "127.0.0.1:65003" {
		t.Errorf("server addr = %s; want 127.0.0.1:65003", got)
	}
	if got := cfg.Status.Addr(); got != "127.0.0.1:65005" {
		t.Errorf("status addr = %s; want 127.0.0.1:65005", got)
	}
	if cfg.KeepAliveTTL != 30*time.Second {
		t.Errorf("keepAliveTTL = %s; want 30s", cfg.KeepAliveTTL)
	}
	if cfg.ObjectStorage.Enable {
		t.Error("objectStorage.enable = true; want false without a config")
	}
}

func TestParseDragonflyKeys(t *testing.T) {
	cfg, err := Parse([]byte(`
server: {listen: 127.0.0.1, port: 7003}
status: {listen: 127.0.0.1, port: 7005}
keepAliveTTL: 45s
objectStorage:
  enable: true
  name: s3
  region: us-east-2
  endpoint: s3.us-east-2.amazonaws.com
  accessKey: AK
  secretKey: SK
  s3ForcePathStyle: true
  securityToken: TOKEN
  multipartThreshold: 134217728
  partSize: 8388608
  signatureVersion: v4
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	st := cfg.ObjectStorage
	if !st.Enable || st.Name != "s3" || st.Region != "us-east-2" || st.Endpoint != "s3.us-east-2.amazonaws.com" {
		t.Errorf("objectStorage = %+v; want enabled s3 us-east-2 s3.us-east-2.amazonaws.com", st)
	}
	if st.AccessKey != "AK" || st.SecretKey != "SK" || st.SecurityToken != "TOKEN" || !st.S3ForcePathStyle {
		t.Errorf("credentials or path style not read: %+v", st.Config)
	}
	if st.MultipartThreshold != 128<<20 || st.PartSize != 8<<20 || st.SignatureVersion != "v4" {
		t.Errorf("multipart keys = %d %d %q; want 134217728 8388608 v4", st.MultipartThreshold, st.PartSize, st.SignatureVersion)
	}
	if cfg.Server.Port != 7003 || cfg.Status.Port != 7005 || cfg.KeepAliveTTL != 45*time.Second {
		t.Errorf("server/status/ttl = %d %d %s; want 7003 7005 45s", cfg.Server.Port, cfg.Status.Port, cfg.KeepAliveTTL)
	}
}

func TestParseErrorsNameKey(t *testing.T) {
	cases := []struct {
		name, yaml, key string
	}{
		{"unknown top key", "keepalive: 30s", "keepalive"},
		{"unknown nested key", "objectStorage:\n  enable: true\n  bucket: x", "objectStorage.bucket"},
		{"port out of range", "server: {port: 70000}", "server.port"},
		{"port zero", "status: {port: 0}", "status.port"},
		{"listen not ip", "server: {listen: localhost}", "server.listen"},
		{"same address", "status: {port: 65003}", "status"},
		{"ttl too short", "keepAliveTTL: 10ms", "keepAliveTTL"},
		{"ttl not duration", "keepAliveTTL: soon", "keepAliveTTL"},
		{"ttl bare number", "keepAliveTTL: 30", "keepAliveTTL"},
		{"size not number", "objectStorage:\n  enable: true\n  partSize: big", "objectStorage.partSize"},
		{"name missing", "objectStorage: {enable: true, endpoint: e}", "objectStorage.name"},
		{"name unknown", "objectStorage: {enable: true, name: gcs, endpoint: e}", "objectStorage.name"},
		{"endpoint missing", "objectStorage: {enable: true, name: s3}", "objectStorage.endpoint"},
		{"secret without access", "objectStorage: {enable: true, name: s3, endpoint: e, secretKey: s}", "objectStorage.accessKey"},
		{"negative threshold", "objectStorage: {enable: true, name: s3, endpoint: e, multipartThreshold: -1}", "objectStorage.multipartThreshold"},
		{"small part", "objectStorage: {enable: true, name: s3, endpoint: e, partSize: 1024}", "objectStorage.partSize"},
		{"bad signature", "objectStorage: {enable: true, name: oss, endpoint: e, signatureVersion: v2}", "objectStorage.signatureVersion"},
		{"enable not bool", "objectStorage:\n  enable: maybe", "objectStorage.enable"},
		{"log level", "log: {level: loud}", "log.level"},
		{"log format", "log: {format: xml}", "log.format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse(%q) succeeded; want an error naming %s", tc.yaml, tc.key)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("error %q does not name %s", err, tc.key)
			}
		})
	}
}

func TestParseDisabledSkipsBackendChecks(t *testing.T) {
	if _, err := Parse([]byte("objectStorage: {enable: false, name: placeholder}")); err != nil {
		t.Errorf("Parse with disabled objectStorage: %v; want no error", err)
	}
}

func TestLoadNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manager.yaml")
	if err := os.WriteFile(path, []byte("keepAliveTTL: 0s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "keepAliveTTL") {
		t.Errorf("Load error = %v; want one naming %s and keepAliveTTL", err, path)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
