// Command manager runs the cluster manager: it hands peers the backend
// configuration over gRPC and lists the live members built from their
// keepalives.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/dfcache/dfcache/internal/logging"

	"github.com/spf13/cobra"

	"github.com/dfcache/dfcache/manager"
)

// Set with -ldflags "-X main.version=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	if err := newRootCommand(os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

// newRootCommand builds the command, which writes its logs to logOut.
func newRootCommand(logOut io.Writer) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the cluster manager",
		Long: `manager serves gRPC on 127.0.0.1:65003 and a read-only JSON status on
127.0.0.1:65005 (GET /api/v1/status, GET /healthy). It stops gracefully on
SIGINT or SIGTERM. Without --config object storage is disabled, because
every backend, fs included, needs at least an endpoint.`,
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
			fmt.Fprintf(cmd.OutOrStdout(), "manager %s (commit %s)\n", version, commit)
		},
	})
	return cmd
}

func run(ctx context.Context, configPath string, logOut io.Writer) error {
	cfg := manager.Default()
	if configPath != "" {
		var err error
		if cfg, err = manager.Load(configPath); err != nil {
			return err
		}
	}
	log := newLogger(cfg.Log, logOut)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	rpcLis, err := net.Listen("tcp", cfg.Server.Addr())
	if err != nil {
		return fmt.Errorf("listen server: %w", err)
	}
	statusLis, err := net.Listen("tcp", cfg.Status.Addr())
	if err != nil {
		rpcLis.Close()
		return fmt.Errorf("listen status: %w", err)
	}
	return manager.NewServer(cfg, manager.WithLogger(log)).Serve(ctx, rpcLis, statusLis)
}

func newLogger(c manager.Log, out io.Writer) *slog.Logger {
	return logging.New(c.Level, c.Format, out)
}
