// Package logging builds the slog logger of the commands from their log
// configuration.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// New returns a logger writing to out at level (debug, info, warn or
// error; anything else means info) in format "json" or, otherwise, text.
func New(level, format string, out io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}

// Config is the log section of the commands' configuration files.
type Config struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// DefaultConfig logs at info level as text.
func DefaultConfig() Config { return Config{Level: "info", Format: "text"} }

// Validate checks the level and format and names the key of a bad value.
func (c Config) Validate() error {
	switch strings.ToLower(c.Level) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Level)
	}
	if c.Format != "text" && c.Format != "json" {
		return fmt.Errorf("log.format: %q is not one of text, json", c.Format)
	}
	return nil
}
