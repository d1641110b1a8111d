package scheduler

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Server.ListenAddr(); got != "127.0.0.1:8002" {
		t.Errorf("listen address = %s; want 127.0.0.1:8002", got)
	}
	if cfg.HostKeepAlive != 5*time.Second {
		t.Errorf("hostKeepAlive = %s; want 5s", cfg.HostKeepAlive)
	}
	if cfg.MaxParents != 5 {
		t.Errorf("maxParents = %d; want 5", cfg.MaxParents)
	}
	if len(cfg.Manager.NetAddrs) != 0 {
		t.Errorf("manager.netAddrs = %v; want none", cfg.Manager.NetAddrs)
	}
}

func TestParseConfigFull(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
server: {listen: 127.0.0.1, port: 18002}
manager:
  netAddrs:
    - {type: tcp, addr: "127.0.0.1:65003"}
  keepAlive: 2s
hostKeepAlive: 1s
maxParents: 8
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Manager.ManagerAddrs(); len(got) != 1 || got[0] != "127.0.0.1:65003" {
		t.Errorf("manager addresses = %v; want [127.0.0.1:65003]", got)
	}
	if cfg.Server.Port != 18002 || cfg.Manager.KeepAlive != 2*time.Second || cfg.HostKeepAlive != time.Second || cfg.MaxParents != 8 {
		t.Errorf("config = %+v; want port 18002, keepAlive 2s, hostKeepAlive 1s, maxParents 8", cfg)
	}
}

func TestParseConfigRejects(t *testing.T) {
	cases := map[string]string{
		"unknown key":     "maxParent: 3",
		"bad listen":      "server: {listen: localhost}",
		"bad port":        "server: {port: 70000}",
		"bad addr type":   "manager: {netAddrs: [{type: unix, addr: '127.0.0.1:1'}]}",
		"addr no port":    "manager: {netAddrs: [{type: tcp, addr: manager}]}",
		"negative alive":  "hostKeepAlive: -1s",
		"too many parent": "maxParents: 1000",
		"bad log level":   "log: {level: loud}",
	}
	wantKey := map[string]string{
		"unknown key": "maxParent", "bad listen": "server.listen", "bad port": "server.port",
		"bad addr type": "netAddrs[0].type", "addr no port": "netAddrs[0].addr",
		"negative alive": "hostKeepAlive", "too many parent": "maxParents", "bad log level": "log.level",
	}
	for name, yaml := range cases {
		_, err := ParseConfig([]byte(yaml))
		if err == nil {
			t.Errorf("%s: ParseConfig(%q) succeeded; want an error", name, yaml)
			continue
		}
		if !strings.Contains(err.Error(), wantKey[name]) {
			t.Errorf("%s: error %q does not name %s", name, err, wantKey[name])
		}
	}
}
