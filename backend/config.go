package backend

import (
	"fmt"
	"sort"
	"sync"
)

// Config selects and configures a store. The YAML keys are those of the
// manager's objectStorage section; the last three are additions.
type Config struct {
	Name      string `yaml:"name"`
	Region    string `yaml:"region"`
	Endpoint  string `yaml:"endpoint"`
	AccessKey string `yaml:"accessKey"`
	SecretKey string `yaml:"secretKey"`
	// SecurityToken goes with temporary (STS) credentials.
	SecurityToken    string `yaml:"securityToken"`
	S3ForcePathStyle bool   `yaml:"s3ForcePathStyle"`
	// MultipartThreshold is the object size in bytes from which uploads
	// use multipart; 0 means DefaultMultipartThreshold.
	MultipartThreshold int64 `yaml:"multipartThreshold"`
	// PartSize is the multipart part size in bytes; 0 means DefaultPartSize.
	PartSize int64 `yaml:"partSize"`
	// SignatureVersion selects the OSS request signature, "v4" (default)
	// or "v1".
	SignatureVersion string `yaml:"signatureVersion"`
}

// Multipart defaults.
const (
	DefaultMultipartThreshold = 64 << 20
	DefaultPartSize           = 16 << 20
	// MinPartSize is the smallest part S3, OSS and OBS accept (except the
	// last part).
	MinPartSize = 5 << 20
)

// String hides the credentials, so a Config can be logged.
func (c Config) String() string {
	return fmt.Sprintf("{name=%s region=%s endpoint=%s}", c.Name, c.Region, c.Endpoint)
}

// Factory builds a backend from its configuration.
type Factory func(Config) (Backend, error)

var (
	_mu        sync.RWMutex
	_factories = map[string]Factory{}
)

// Register makes a backend available to Open under name. It panics when
// name is registered twice.
func Register(name string, f Factory) {
	_mu.Lock()
	defer _mu.Unlock()
	if _, dup := _factories[name]; dup {
		panic("backend: Register called twice for " + name)
	}
	_factories[name] = f
}

// Open builds the backend named by cfg.Name.
func Open(cfg Config) (Backend, error) {
	_mu.RLock()
	f, ok := _factories[cfg.Name]
	_mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown backend name %q: use one of %v", cfg.Name, Names())
	}
	return f(cfg)
}

// Names lists the registered backends.
func Names() []string {
	_mu.RLock()
	defer _mu.RUnlock()
	names := make([]string, 0, len(_factories))
	for n := range _factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
