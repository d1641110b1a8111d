// Package config loads the dfdaemon YAML configuration. Keys follow
// Dragonfly's dfdaemon where they exist (manager, seedPeer,
// objectStorage.*); dataDir, cache and objectStorage.backend are additions.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/dfcache/dfcache/internal/logging"

	"github.com/dfcache/dfcache/internal/yamlconfig"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
)

// Config is the whole dfdaemon configuration.
type Config struct {
	// DataDir holds the piece cache and the write-back queue.
	DataDir       string        `yaml:"dataDir"`
	Manager       Manager       `yaml:"manager"`
	SeedPeer      SeedPeer      `yaml:"seedPeer"`
	ObjectStorage ObjectStorage `yaml:"objectStorage"`
	Cache         Cache         `yaml:"cache"`
	Log           Log           `yaml:"log"`
	Host          Host          `yaml:"host"`
	// MemoryLimit is the Go runtime's soft memory limit: the garbage
	// collector works harder as the daemon's Go memory nears it, so piece
	// buffers freed after a transfer are reused rather than piling up. The
	// GOMEMLIMIT environment variable overrides it; 0 sets no limit.
	MemoryLimit ByteSize  `yaml:"memoryLimit"`
	Upload      Upload    `yaml:"upload"`
	Scheduler   Scheduler `yaml:"scheduler"`
}

// Host identifies this peer in a cluster.
type Host struct {
	// ID distinguishes peers, also when several share a host. Empty means
	// "<hostname>-<object API port>".
	ID string `yaml:"id"`
	// AdvertiseIP is the address other peers and the scheduler use to
	// reach this peer's upload server.
	AdvertiseIP string `yaml:"advertiseIP"`
}

// Upload is the server that hands pieces to other peers.
type Upload struct {
	TCPListen TCPListen `yaml:"tcpListen"`
}

// Scheduler lists schedulers to use when no manager hands them out.
type Scheduler struct {
	NetAddrs []NetAddr `yaml:"netAddrs"`
	// KeepAlive is how often the peer announces itself to the schedulers.
	KeepAlive time.Duration `yaml:"keepAlive"`
}

// Clustered reports whether the peer works with other peers.
func (c *Config) Clustered() bool {
	return c.Manager.Enable || len(c.Scheduler.NetAddrs) > 0
}

// Manager points the peer at managers, which hand out the backend
// configuration. When Enable is false the peer uses ObjectStorage.Backend.
type Manager struct {
	Enable          bool          `yaml:"enable"`
	NetAddrs        []NetAddr     `yaml:"netAddrs"`
	RefreshInterval time.Duration `yaml:"refreshInterval"`
}

// NetAddr is a manager address.
type NetAddr struct {
	Type string `yaml:"type"`
	Addr string `yaml:"addr"`
}

// SeedPeer makes this daemon a seed peer.
type SeedPeer struct {
	Enable bool `yaml:"enable"`
}

// ObjectStorage configures the object storage HTTP API.
type ObjectStorage struct {
	Enable bool `yaml:"enable"`
	// Filter lists '&'-separated query parameter names that do not change
	// an object's identity. Identity here never comes from URLs, so the
	// value is accepted for compatibility and used as the default of the
	// PUT and GET filter field.
	Filter      string    `yaml:"filter"`
	MaxReplicas int       `yaml:"maxReplicas"`
	Security    Security  `yaml:"security"`
	TCPListen   TCPListen `yaml:"tcpListen"`
	// Backend is used when the manager is disabled.
	Backend backend.Config `yaml:"backend"`
	// MetadataTTL is how long a cached object is served without asking the
	// backend whether it changed. 0 checks on every GET and HEAD.
	MetadataTTL time.Duration `yaml:"metadataTTL"`
	WriteBack   WriteBack     `yaml:"writeBack"`
}

// Security is accepted for compatibility with Dragonfly's configuration.
type Security struct {
	Insecure  bool `yaml:"insecure"`
	TLSVerify bool `yaml:"tlsVerify"`
}

// TCPListen is the address of the object storage HTTP API.
type TCPListen struct {
	Listen string `yaml:"listen"`
	Port   int    `yaml:"port"`
}

// Addr returns host:port.
func (t TCPListen) Addr() string {
	return net.JoinHostPort(t.Listen, fmt.Sprint(t.Port))
}

// WriteBack tunes the AsyncWriteBack upload queue.
type WriteBack struct {
	Workers    int           `yaml:"workers"`
	MinBackoff time.Duration `yaml:"minBackoff"`
	MaxBackoff time.Duration `yaml:"maxBackoff"`
	// Attempts is how many times a WriteBack (mode 1) PUT tries the backend
	// before it fails the request.
	Attempts int `yaml:"attempts"`
}

// Cache sizes the piece cache.
type Cache struct {
	// DiskQuota is the most bytes of object data kept under DataDir.
	DiskQuota ByteSize `yaml:"diskQuota"`
	// PieceSize is the size of a piece, the unit of digests and transfers.
	PieceSize ByteSize `yaml:"pieceSize"`
}

// Log selects log level and format.
type Log = logging.Config

// Defaults.
const (
	DefaultPort       = 65004
	DefaultUploadPort = 65002
	// DefaultMemoryLimit kept every daemon of an 8-peer benchmark under
	// 64 MiB of peak RSS while it moved 512 MiB objects (docs/benchmarks.md).
	DefaultMemoryLimit = 40 << 20
	DefaultDiskQuota   = 20 << 30
	DefaultPieceSize   = 4 << 20
)

// Default returns a complete configuration: a standalone peer on
// 127.0.0.1:65004 with an fs backend under its data directory.
func Default() Config {
	return Config{
		DataDir: defaultDataDir(),
		Manager: Manager{RefreshInterval: 10 * time.Second},
		ObjectStorage: ObjectStorage{
			Enable:      true,
			Filter:      "Expires&Signature&ns",
			MaxReplicas: api.DefaultMaxReplicas,
			TCPListen:   TCPListen{Listen: "127.0.0.1", Port: DefaultPort},
			Backend:     backend.Config{Name: "fs"},
			WriteBack:   WriteBack{Workers: 4, MinBackoff: time.Second, MaxBackoff: time.Minute, Attempts: 4},
		},
		Cache:       Cache{DiskQuota: DefaultDiskQuota, PieceSize: DefaultPieceSize},
		MemoryLimit: DefaultMemoryLimit,
		Log:         Log{Level: "info", Format: "text"},
		Host:        Host{AdvertiseIP: "127.0.0.1"},
		Upload:      Upload{TCPListen: TCPListen{Listen: "127.0.0.1", Port: DefaultUploadPort}},
		Scheduler:   Scheduler{KeepAlive: 5 * time.Second},
	}
}

func defaultDataDir() string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".dfdaemon")
	}
	return "dfdaemon-data"
}

// Load reads a YAML file over the defaults. Unknown keys and invalid values
// are errors that name the key.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML over the defaults and validates the result.
func Parse(data []byte) (Config, error) {
	cfg := Default()
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
	b := &c.ObjectStorage.Backend
	if b.Name == "fs" && b.Endpoint == "" {
		b.Endpoint = filepath.Join(c.DataDir, "backend")
	}
}

// Validate checks every value and names the key of the first invalid one.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("dataDir: must not be empty")
	}
	st := c.ObjectStorage
	if st.TCPListen.Port < 1 || st.TCPListen.Port > 65535 {
		return fmt.Errorf("objectStorage.tcpListen.port: %d is not a port number (1-65535)", st.TCPListen.Port)
	}
	if st.TCPListen.Listen != "" && net.ParseIP(st.TCPListen.Listen) == nil {
		return fmt.Errorf("objectStorage.tcpListen.listen: %q is not an IP address", st.TCPListen.Listen)
	}
	if st.MaxReplicas < api.MinReplicas || st.MaxReplicas > api.MaxReplicas {
		return fmt.Errorf("objectStorage.maxReplicas: %d is out of range %d-%d", st.MaxReplicas, api.MinReplicas, api.MaxReplicas)
	}
	if st.MetadataTTL < 0 {
		return fmt.Errorf("objectStorage.metadataTTL: %s must not be negative", st.MetadataTTL)
	}
	if err := c.validateBackend(); err != nil {
		return err
	}
	if err := validateWriteBack(st.WriteBack); err != nil {
		return err
	}
	if c.Cache.PieceSize < 64<<10 || c.Cache.PieceSize > 64<<20 {
		return fmt.Errorf("cache.pieceSize: %s is out of range 64KiB-64MiB", c.Cache.PieceSize)
	}
	if c.Cache.DiskQuota < 0 {
		return fmt.Errorf("cache.diskQuota: %s must not be negative", c.Cache.DiskQuota)
	}
	if err := c.validateCluster(); err != nil {
		return err
	}
	if c.Manager.Enable && len(c.Manager.NetAddrs) == 0 {
		return errors.New("manager.netAddrs: must list at least one manager when manager.enable is true")
	}
	if err := c.Log.Validate(); err != nil {
		return err
	}
	return nil
}

func (c *Config) validateBackend() error {
	b := c.ObjectStorage.Backend
	if c.Manager.Enable {
		return nil
	}
	switch b.Name {
	case "fs", "s3", "oss", "obs":
	case "":
		return errors.New("objectStorage.backend.name: missing; set fs, s3, oss or obs")
	default:
		return fmt.Errorf("objectStorage.backend.name: %q is not one of fs, s3, oss, obs", b.Name)
	}
	if b.Endpoint == "" {
		return fmt.Errorf("objectStorage.backend.endpoint: missing for backend %q", b.Name)
	}
	if b.Name != "fs" && (b.AccessKey == "") != (b.SecretKey == "") {
		return errors.New("objectStorage.backend: accessKey and secretKey must be set together")
	}
	if b.MultipartThreshold < 0 {
		return fmt.Errorf("objectStorage.backend.multipartThreshold: %d must not be negative", b.MultipartThreshold)
	}
	if b.PartSize != 0 && b.PartSize < backend.MinPartSize {
		return fmt.Errorf("objectStorage.backend.partSize: %d is below the 5 MiB minimum of S3, OSS and OBS", b.PartSize)
	}
	if v := b.SignatureVersion; v != "" && v != "v1" && v != "v4" {
		return fmt.Errorf("objectStorage.backend.signatureVersion: %q is not one of v1, v4", v)
	}
	return nil
}

func validateWriteBack(w WriteBack) error {
	if w.Workers < 1 || w.Workers > 256 {
		return fmt.Errorf("objectStorage.writeBack.workers: %d is out of range 1-256", w.Workers)
	}
	if w.MinBackoff <= 0 || w.MaxBackoff < w.MinBackoff {
		return fmt.Errorf("objectStorage.writeBack: minBackoff %s and maxBackoff %s must be positive with min <= max", w.MinBackoff, w.MaxBackoff)
	}
	if w.Attempts < 1 {
		return fmt.Errorf("objectStorage.writeBack.attempts: %d must be at least 1", w.Attempts)
	}
	return nil
}

func (c *Config) validateCluster() error {
	up := c.Upload.TCPListen
	if up.Port < 0 || up.Port > 65535 {
		return fmt.Errorf("upload.tcpListen.port: %d is not a port number (0-65535)", up.Port)
	}
	if up.Listen != "" && net.ParseIP(up.Listen) == nil {
		return fmt.Errorf("upload.tcpListen.listen: %q is not an IP address", up.Listen)
	}
	if net.ParseIP(c.Host.AdvertiseIP) == nil {
		return fmt.Errorf("host.advertiseIP: %q is not an IP address", c.Host.AdvertiseIP)
	}
	for i, a := range append(append([]NetAddr{}, c.Manager.NetAddrs...), c.Scheduler.NetAddrs...) {
		if _, _, err := net.SplitHostPort(a.Addr); err != nil {
			return fmt.Errorf("netAddrs[%d].addr: %q is not host:port: %v", i, a.Addr, err)
		}
		if a.Type != "" && a.Type != "tcp" {
			return fmt.Errorf("netAddrs[%d].type: %q is not supported, use tcp", i, a.Type)
		}
	}
	if c.Manager.Enable && c.Manager.RefreshInterval <= 0 {
		return fmt.Errorf("manager.refreshInterval: %s must be positive", c.Manager.RefreshInterval)
	}
	if c.Scheduler.KeepAlive <= 0 {
		return fmt.Errorf("scheduler.keepAlive: %s must be positive", c.Scheduler.KeepAlive)
	}
	return nil
}
