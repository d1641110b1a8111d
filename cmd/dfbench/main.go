// Command dfbench measures what the cache saves and costs against talking
// to S3 directly: origin traffic of a fan-out, fan-out time behind a slow
// origin, cache-hit throughput, write latency, small-object rates and peak
// memory. It starts versitygw, a counting and rate-limiting proxy and a
// local cluster from the binaries in --bin, all on 127.0.0.1, and stops
// every process it started, by pid, when it ends, fails or gets Ctrl-C.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

type options struct {
	quick  bool
	out    string
	binDir string
	dir    string
	keep   bool
	reps   int
	rows   []int
}

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "dfbench:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	opts := options{binDir: "bin", reps: 3, rows: []int{1, 2, 3, 4, 5, 6}}
	cmd := &cobra.Command{
		Use:   "dfbench",
		Short: "Measure origin traffic, latency, throughput and memory of a local cluster against S3",
		Long: `dfbench starts versitygw (from PATH or $(go env GOPATH)/bin), a counting
and rate-limiting proxy in front of it, and a manager, a scheduler, 8 peers
and 1 seed peer from the binaries in --bin, all on 127.0.0.1. It measures
six rows, each against a baseline in the same run, and writes a Markdown
report. Full mode moves objects of up to 4 GiB and needs about 25 GiB of
free disk under --dir; --quick uses objects of up to 512 MiB.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.AddCommand(newRusageCommand())
	f := cmd.Flags()
	f.BoolVar(&opts.quick, "quick", false, "use smaller objects and fewer operations (about two minutes)")
	f.StringVar(&opts.out, "out", "", "write the Markdown report to this file, keeping its hand-written notes (default: standard output)")
	f.StringVar(&opts.binDir, "bin", opts.binDir, "directory with the dfdaemon, dfstore, manager and scheduler binaries")
	f.StringVar(&opts.dir, "dir", "", "directory for data, configuration and logs (default: a new directory under $TMPDIR, removed at the end)")
	f.BoolVar(&opts.keep, "keep", false, "keep --dir at the end, for reading the logs")
	f.IntVar(&opts.reps, "reps", opts.reps, "repetitions of each measurement, at least 3")
	f.IntSliceVar(&opts.rows, "rows", opts.rows, "rows to measure, 1 to 6")
	return cmd
}

func (o *options) validate() error {
	if o.reps < 3 {
		return fmt.Errorf("--reps %d: must be at least 3, so that a median and a spread mean something", o.reps)
	}
	for _, r := range o.rows {
		if r < 1 || r > 6 {
			return fmt.Errorf("--rows: row %d does not exist; rows are 1 to 6", r)
		}
	}
	for _, name := range []string{"dfdaemon", "dfstore", "manager", "scheduler"} {
		if _, err := os.Stat(filepath.Join(o.binDir, name)); err != nil {
			return fmt.Errorf("binary %s not found in %s: run `make build` or pass --bin", name, o.binDir)
		}
	}
	bin, err := filepath.Abs(o.binDir)
	if err != nil {
		return fmt.Errorf("--bin %s: %w", o.binDir, err)
	}
	o.binDir = bin
	_, err = findVersitygw()
	return err
}

func run(ctx context.Context, opts options, stdout, log io.Writer) error {
	if err := opts.validate(); err != nil {
		return err
	}
	// The AWS SDK must never look for credentials on a metadata endpoint.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if err := prepareDir(&opts); err != nil {
		return err
	}
	if !opts.keep {
		defer os.RemoveAll(opts.dir)
	}
	rep := &report{command: strings.Join(os.Args, " "), mode: "full", reps: opts.reps, started: time.Now()}
	b := &bench{opts: opts, scale: _fullScale, log: log}
	if opts.quick {
		b.scale, rep.mode = _quickScale, "quick"
	}
	rep.machine = describeMachine(opts.dir)
	defer b.tearDown()
	if err := b.setUp(ctx); err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	if err := b.runRows(ctx, rep); err != nil {
		return err
	}
	rep.elapsed = time.Since(rep.started)
	return writeReport(rep, opts.out, stdout)
}

func prepareDir(opts *options) error {
	if opts.dir == "" {
		dir, err := os.MkdirTemp("", "dfbench-")
		if err != nil {
			return fmt.Errorf("create run directory: %w", err)
		}
		opts.dir = dir
		return nil
	}
	dir, err := filepath.Abs(opts.dir)
	if err != nil {
		return fmt.Errorf("--dir %s: %w", opts.dir, err)
	}
	opts.dir = dir
	return os.MkdirAll(dir, 0o755)
}

// runRows measures the selected rows in order and adds them to rep.
func (b *bench) runRows(ctx context.Context, rep *report) error {
	rows := []func(context.Context) (rowResult, error){
		b.rowOrigin, b.rowSlowOrigin, b.rowHit, b.rowWrite, b.rowSmall, b.rowMemory,
	}
	for i, measure := range rows {
		if !slices.Contains(b.opts.rows, i+1) {
			continue
		}
		fmt.Fprintf(b.log, "row %d\n", i+1)
		row, err := measure(ctx)
		if err != nil {
			return fmt.Errorf("row %d: %w", i+1, err)
		}
		rep.rows = append(rep.rows, row)
	}
	return nil
}

func writeReport(rep *report, out string, stdout io.Writer) error {
	if out == "" {
		return rep.writeMarkdown(stdout)
	}
	rep.notes = keptNotes(out)
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	if err := rep.writeMarkdown(f); err != nil {
		f.Close()
		return fmt.Errorf("write report %s: %w", out, err)
	}
	return f.Close()
}
