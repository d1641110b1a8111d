package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// _maxRSSPrefix starts the line on which the rusage helper reports its
// child's peak RSS in KiB.
const _maxRSSPrefix = "dfbench-maxrss-kib "

// newRusageCommand returns the hidden helper "rusage -- PROGRAM ARGS". It
// runs PROGRAM and prints its rusage Maxrss on stderr.
//
// dfbench needs this hop because Linux carries the peak RSS of the memory
// that a process replaced at exec into its Maxrss, and a child of a Go
// program starts out sharing the parent's memory (clone with CLONE_VM).
// Started from dfbench itself, every child would report at least
// dfbench's own peak, which holds data buffers. The helper is a small
// fresh process, so its children report at most the helper's own few MiB
// above their real peak.
func newRusageCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "rusage -- PROGRAM [ARGS]",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			child := exec.Command(args[0], args[1:]...)
			child.Stdout, child.Stderr = os.Stdout, os.Stderr
			err := child.Run()
			if child.ProcessState == nil {
				return err
			}
			if usage, ok := child.ProcessState.SysUsage().(*syscall.Rusage); ok {
				fmt.Fprintf(os.Stderr, "\n%s%d\n", _maxRSSPrefix, usage.Maxrss)
			}
			return err
		},
	}
}

// runMeasured runs program with args through the rusage helper and
// returns its peak RSS in bytes and its combined output without the
// helper's line.
func runMeasured(cmd *exec.Cmd) (int64, string, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, "", fmt.Errorf("find the dfbench binary for the rusage helper: %w", err)
	}
	cmd.Args = append([]string{self, "rusage", "--", cmd.Path}, cmd.Args[1:]...)
	cmd.Path = self
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	text, kib, found := strings.Cut(out.String(), _maxRSSPrefix)
	if !found {
		return 0, text, errors.Join(runErr, errors.New("the rusage helper reported no peak RSS"))
	}
	n, err := strconv.ParseInt(strings.TrimSpace(kib), 10, 64)
	if err != nil {
		return 0, text, fmt.Errorf("parse peak RSS %q from the rusage helper: %w", kib, err)
	}
	return n << 10, strings.TrimSpace(text), runErr
}
