package scheduler

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/dfcache/dfcache/internal/logging"

	"github.com/dfcache/dfcache/internal/yamlconfig"
)

// Config is the scheduler's YAML configuration. Unknown keys are rejected.
// Blank values take the defaults of DefaultConfig.
type Config struct {
	Server  ServerConfig  `yaml:"server"`
	Manager ManagerConfig `yaml:"manager"`
	// HostKeepAlive is how often hosts must announce themselves. A host
	// silent for three intervals is removed with its holdings. Default 5s.
	HostKeepAlive time.Duration `yaml:"hostKeepAlive"`
	// MaxParents caps the parents returned by FindParents. Default 5.
	MaxParents int       `yaml:"maxParents"`
	Log        LogConfig `yaml:"log"`
}

// ServerConfig is the gRPC listen address.
type ServerConfig struct {
	// Listen is the IP address to bind. Default 127.0.0.1.
	Listen string `yaml:"listen"`
	// Port is the gRPC port. Default 8002; 0 picks a free port (tests).
	Port int `yaml:"port"`
	// AdvertiseIP is the address registered with the manager, for when
	// Listen is 0.0.0.0 or ::. Default: Listen.
	AdvertiseIP string `yaml:"advertiseIP"`
}

// ManagerConfig lists the managers to register with. With no addresses
// the scheduler runs alone and peers must be configured with its address.
type ManagerConfig struct {
	NetAddrs []NetAddr `yaml:"netAddrs"`
	// KeepAlive is the interval between keepalives to the manager.
	// Default 5s.
	KeepAlive time.Duration `yaml:"keepAlive"`
}

// NetAddr is a network address; only type tcp is supported.
type NetAddr struct {
	Type string `yaml:"type"`
	Addr string `yaml:"addr"`
}

// LogConfig sets the log level (debug, info, warn, error) and format
// (text, json). Default info and text.
type LogConfig = logging.Config

// DefaultConfig returns a complete configuration for a scheduler on
// 127.0.0.1:8002 without a manager.
func DefaultConfig() Config {
	return Config{
		Server:        ServerConfig{Listen: "127.0.0.1", Port: 8002},
		Manager:       ManagerConfig{KeepAlive: 5 * time.Second},
		HostKeepAlive: 5 * time.Second,
		MaxParents:    5,
		Log:           LogConfig{Level: "info", Format: "text"},
	}
}

// LoadConfig reads and validates the YAML file at path.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes YAML over DefaultConfig and validates the result.
func ParseConfig(data []byte) (Config, error) {
	cfg := DefaultConfig()
	if err := yamlconfig.DecodeStrict(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("parse: %w", err)
	}
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c *Config) applyDefaults() {
	d := DefaultConfig()
	if c.Server.Listen == "" {
		c.Server.Listen = d.Server.Listen
	}
	if c.Manager.KeepAlive == 0 {
		c.Manager.KeepAlive = d.Manager.KeepAlive
	}
	if c.HostKeepAlive == 0 {
		c.HostKeepAlive = d.HostKeepAlive
	}
	if c.MaxParents == 0 {
		c.MaxParents = d.MaxParents
	}
	if c.Log.Level == "" {
		c.Log.Level = d.Log.Level
	}
	if c.Log.Format == "" {
		c.Log.Format = d.Log.Format
	}
}

// Validate checks every value and names the key of the first invalid one.
func (c *Config) Validate() error {
	if net.ParseIP(c.Server.Listen) == nil {
		return fmt.Errorf("server.listen: %q is not an IP address", c.Server.Listen)
	}
	if c.Server.Port < 0 || c.Server.Port > 65535 {
		return fmt.Errorf("server.port: %d is not a port number (0-65535)", c.Server.Port)
	}
	if ip := c.Server.AdvertiseIP; ip != "" && net.ParseIP(ip) == nil {
		return fmt.Errorf("server.advertiseIP: %q is not an IP address", ip)
	}
	for i, a := range c.Manager.NetAddrs {
		if a.Type != "tcp" {
			return fmt.Errorf("manager.netAddrs[%d].type: %q is not supported; use tcp", i, a.Type)
		}
		if _, _, err := net.SplitHostPort(a.Addr); err != nil {
			return fmt.Errorf("manager.netAddrs[%d].addr: %q is not host:port", i, a.Addr)
		}
	}
	if c.Manager.KeepAlive < 0 {
		return fmt.Errorf("manager.keepAlive: %s must be positive", c.Manager.KeepAlive)
	}
	if c.HostKeepAlive < 0 {
		return fmt.Errorf("hostKeepAlive: %s must be positive", c.HostKeepAlive)
	}
	if c.MaxParents < 1 || c.MaxParents > 100 {
		return fmt.Errorf("maxParents: %d is out of range 1-100", c.MaxParents)
	}
	if err := c.Log.Validate(); err != nil {
		return err
	}
	return nil
}

// ListenAddr returns the host:port to bind.
func (s ServerConfig) ListenAddr() string {
	return net.JoinHostPort(s.Listen, strconv.Itoa(s.Port))
}

// ManagerAddrs returns the manager addresses as host:port strings.
func (m ManagerConfig) ManagerAddrs() []string {
	out := make([]string, 0, len(m.NetAddrs))
	for _, a := range m.NetAddrs {
		out = append(out, a.Addr)
	}
	return out
}
