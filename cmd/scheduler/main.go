// Command scheduler runs the cluster scheduler. It tracks which hosts hold
// which object versions and returns to a downloading host the parents to
// fetch from.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/dfcache/dfcache/internal/logging"

	"github.com/spf13/cobra"

	"github.com/dfcache/dfcache/scheduler"
)

// Set with -ldflags "-X main.version=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	if err := newRootCommand(os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "scheduler:", err)
		os.Exit(1)
	}
}

// newRootCommand builds the command, which writes its logs to logOut.
func newRootCommand(logOut io.Writer) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Run the cluster scheduler",
		Long: `scheduler serves gRPC on 127.0.0.1:8002 and calls hosts back on their
upload port (POST /control/...). With manager.netAddrs set it registers
itself with the managers. It keeps its state in memory only, rebuilt from
host announcements, and stops gracefully on SIGINT or SIGTERM.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), configPath, logOut)
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "path of the YAML configuration file")
	cmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "scheduler %s (commit %s)\n", version, commit)
		},
	})
	return cmd
}

func run(ctx context.Context, configPath string, logOut io.Writer) error {
	cfg := scheduler.DefaultConfig()
	if configPath != "" {
		var err error
		if cfg, err = scheduler.LoadConfig(configPath); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := scheduler.NewServer(cfg, scheduler.Options{Logger: newLogger(cfg.Log, logOut)})
	if err != nil {
		return err
	}
	return srv.Serve(ctx)
}

func newLogger(c scheduler.LogConfig, out io.Writer) *slog.Logger {
	return logging.New(c.Level, c.Format, out)
}
