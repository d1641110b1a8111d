package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

// endpointEnv names the environment variable that sets the peer endpoint
// when --endpoint is not given.
const endpointEnv = "DFSTORE_ENDPOINT"

// Exit statuses.
const (
	exitFailure = 1
	exitUsage   = 2
)

// app is the state that the commands of one run share.
type app struct {
	endpoint string
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	// started is set once a command has validated its arguments, so that
	// later errors are failures rather than usage errors.
	started bool
}

// run executes dfstore with args and returns the exit status: 0 on
// success, exitUsage for invalid arguments, exitFailure otherwise. Errors
// are printed as one line on stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCommand(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var usage usageError
	if errors.As(err, &usage) || !a.started {
		fmt.Fprintf(stderr, "%v\nRun '%s --help' for usage.\n", err, commandPath(root, args))
		return exitUsage
	}
	fmt.Fprintln(stderr, describeError(err))
	return exitFailure
}

// commandPath returns the path of the command that args select, such as
// "dfstore cp", or "dfstore" when they select none.
func commandPath(root *cobra.Command, args []string) string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		return root.Name()
	}
	return cmd.CommandPath()
}

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "dfstore",
		Short:         "Copy objects to and from the object storage of a dfdaemon peer",
		Long:          "dfstore copies objects between local files and dfs://BUCKET/KEY objects stored through a dfdaemon peer,\nand lists, inspects and removes them.",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	root.PersistentFlags().StringVarP(&a.endpoint, "endpoint", "e", api.DefaultEndpoint,
		"URL of the dfdaemon object storage service; the "+endpointEnv+" environment variable sets it when this flag is not given")
	root.AddCommand(newCpCommand(a), newRmCommand(a), newStatCommand(a), newLsCommand(a), newVersionCommand(a))
	return root
}

// newClient returns a client of the endpoint that --endpoint, or else
// DFSTORE_ENDPOINT, names.
func (a *app) newClient(cmd *cobra.Command) (*client.Client, error) {
	endpoint := a.endpoint
	if env := os.Getenv(endpointEnv); env != "" && !cmd.Flags().Changed("endpoint") {
		endpoint = env
	}
	c, err := client.New(endpoint)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return c, nil
}

// exactArgs is cobra.ExactArgs with a usage error that names the arguments.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Sprintf("%s needs %s, got %d arguments", cmd.CommandPath(), names, len(args))}
		}
		return nil
	}
}
