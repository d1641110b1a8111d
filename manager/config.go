package manager

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/dfcache/dfcache/internal/logging"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/internal/yamlconfig"
)

// Config is the whole manager configuration. Parse and Load fill the keys a
// file leaves out from Default.
type Config struct {
	// Server is the gRPC address that members and clients dial.
	Server Listen `yaml:"server"`
	// Status is the read-only HTTP status address.
	Status Listen `yaml:"status"`
	// KeepAliveTTL is how long a member stays listed after its last
	// keepalive. Members should send one at least every TTL/3.
	KeepAliveTTL  time.Duration `yaml:"keepAliveTTL"`
	ObjectStorage ObjectStorage `yaml:"objectStorage"`
	Log           Log           `yaml:"log"`
}

// Listen is an IP address and TCP port to bind.
type Listen struct {
	Listen string `yaml:"listen"`
	Port   int    `yaml:"port"`
}

// Addr returns host:port for net.Listen.
func (l Listen) Addr() string {
	return net.JoinHostPort(l.Listen, strconv.Itoa(l.Port))
}

// ObjectStorage is the backend configuration handed to every peer. The keys
// other than enable are those of backend.Config.
type ObjectStorage struct {
	// Enable false makes GetObjectStorage fail with FailedPrecondition.
	Enable         bool `yaml:"enable"`
	backend.Config `yaml:",inline"`
}

// Log selects the log level and format.
type Log = logging.Config

// Defaults and limits of the configuration.
const (
	DefaultPort       = 65003
	DefaultStatusPort = 65005
	DefaultTTL        = 30 * time.Second
	MinTTL            = time.Second
	MaxTTL            = 24 * time.Hour
)

// Default returns a manager on 127.0.0.1:65003 (gRPC) and 127.0.0.1:65005
// (status) with object storage disabled, because no backend can be guessed:
// even the fs backend needs an endpoint directory.
func Default() Config {
	return Config{
		Server:       Listen{Listen: "127.0.0.1", Port: DefaultPort},
		Status:       Listen{Listen: "127.0.0.1", Port: DefaultStatusPort},
		KeepAliveTTL: DefaultTTL,
		Log:          Log{Level: "info", Format: "text"},
	}
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
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks every value and names the key of the first invalid one.
func (c *Config) Validate() error {
	if err := c.Server.validate("server"); err != nil {
		return err
	}
	if err := c.Status.validate("status"); err != nil {
		return err
	}
	if c.Server == c.Status {
		return fmt.Errorf("status: %s is also the server address; pick another port", c.Status.Addr())
	}
	if c.KeepAliveTTL < MinTTL || c.KeepAliveTTL > MaxTTL {
		return fmt.Errorf("keepAliveTTL: %s is out of range %s-%s", c.KeepAliveTTL, MinTTL, MaxTTL)
	}
	if err := c.ObjectStorage.validate(); err != nil {
		return err
	}
	if err := c.Log.Validate(); err != nil {
		return err
	}
	return nil
}

func (l Listen) validate(key string) error {
	if net.ParseIP(l.Listen) == nil {
		return fmt.Errorf("%s.listen: %q is not an IP address", key, l.Listen)
	}
	if l.Port < 1 || l.Port > 65535 {
		return fmt.Errorf("%s.port: %d is not a port number (1-65535)", key, l.Port)
	}
	return nil
}

// validate checks the backend keys only when enabled, so a disabled section
// may keep placeholder values.
func (o ObjectStorage) validate() error {
	if !o.Enable {
		return nil
	}
	switch o.Name {
	case "fs", "s3", "oss", "obs":
	case "":
		return errors.New("objectStorage.name: missing; set s3, oss, obs or fs")
	default:
		return fmt.Errorf("objectStorage.name: %q is not one of s3, oss, obs, fs", o.Name)
	}
	if o.Endpoint == "" {
		return fmt.Errorf("objectStorage.endpoint: missing for backend %q", o.Name)
	}
	if (o.AccessKey == "") != (o.SecretKey == "") {
		return errors.New("objectStorage.accessKey, objectStorage.secretKey: set both or neither")
	}
	if o.MultipartThreshold < 0 {
		return fmt.Errorf("objectStorage.multipartThreshold: %d must not be negative", o.MultipartThreshold)
	}
	if o.PartSize != 0 && o.PartSize < backend.MinPartSize {
		return fmt.Errorf("objectStorage.partSize: %d is below the 5 MiB minimum of S3, OSS and OBS", o.PartSize)
	}
	if v := o.SignatureVersion; v != "" && v != "v1" && v != "v4" {
		return fmt.Errorf("objectStorage.signatureVersion: %q is not one of v1, v4", v)
	}
	return nil
}
