// Package logging builds the slog logger of the commands from their log
// configuration.
package logging

import (
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
