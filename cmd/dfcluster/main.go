// Command dfcluster runs a local cluster on 127.0.0.1 for trying the
// system out: a manager, a scheduler, seed peers and peers, each with its
// own data directory, ports and log file, on the fs backend (or an S3
// server given by flags). It prints the endpoints and stops everything on
// Ctrl-C.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "dfcluster:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	opts := defaultOptions()
	cmd := &cobra.Command{
		Use:   "dfcluster",
		Short: "Run a local cluster: manager, scheduler, seed peers and peers on 127.0.0.1",
		Long: `dfcluster starts a manager, a scheduler, seed peers and peers on 127.0.0.1,
each with its own data directory and log file under --dir, on the fs backend
unless --s3-endpoint is given. Peer 1 serves the object API on the default
port 65004, so dfstore works without --endpoint. Ctrl-C stops the cluster.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, opts, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.dir, "dir", opts.dir, "directory for configuration, data and logs")
	f.StringVar(&opts.binDir, "bin", opts.binDir, "directory with the dfdaemon, manager and scheduler binaries")
	f.IntVar(&opts.peers, "peers", opts.peers, "number of peers")
	f.IntVar(&opts.seeds, "seed-peers", opts.seeds, "number of seed peers")
	f.IntVar(&opts.portOffset, "port-offset", opts.portOffset, "added to every port, to run beside another cluster")
	f.StringVar(&opts.s3.Endpoint, "s3-endpoint", "", "use this S3 server as the backend instead of the fs backend")
	f.StringVar(&opts.s3.Region, "s3-region", "us-east-1", "S3 region")
	f.StringVar(&opts.s3.AccessKey, "s3-access-key", "", "S3 access key")
	f.StringVar(&opts.s3.SecretKey, "s3-secret-key", "", "S3 secret key")
	return cmd
}

func run(ctx context.Context, opts options, out io.Writer) error {
	if err := opts.validate(); err != nil {
		return err
	}
	c, err := start(ctx, opts)
	if err != nil {
		return err
	}
	defer c.stop()
	c.printEndpoints(out)
	return c.wait(ctx, out)
}
