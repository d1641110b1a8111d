// Command dfdaemon runs a peer: the object storage HTTP API in front of a
// piece cache and a backend object store.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/dfcache/dfcache/internal/logging"

	"github.com/spf13/cobra"

	"github.com/dfcache/dfcache/daemon"
	"github.com/dfcache/dfcache/daemon/config"
)

// Set with -ldflags "-X main.version=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "dfdaemon:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "dfdaemon",
		Short: "Run a peer of the P2P object storage cache",
		Long: `dfdaemon serves the object storage HTTP API (default 127.0.0.1:65004),
keeps objects in a piece cache under dataDir and writes them to the backend.
Without --config it runs with the defaults: an fs backend under ~/.dfdaemon.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), configPath)
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "path of the YAML configuration file")
	cmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "dfdaemon %s (commit %s)\n", version, commit)
		},
	})
	return cmd
}

func run(ctx context.Context, configPath string) error {
	cfg := config.Default()
	if configPath != "" {
		var err error
		if cfg, err = config.Load(configPath); err != nil {
			return err
		}
	}
	log := newLogger(cfg.Log)
	if os.Getenv("GOMEMLIMIT") == "" && cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(int64(cfg.MemoryLimit))
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := daemon.New(cfg, log)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

func newLogger(c config.Log) *slog.Logger {
	return logging.New(c.Level, c.Format, os.Stderr)
}
