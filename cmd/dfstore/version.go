package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Build information, set with
// go build -ldflags "-X main.version=1.2.3 -X main.commit=$(git rev-parse HEAD)".
var (
	version = "dev"
	commit  = ""
)

func newVersionCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of dfstore",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a.started = true
			if commit == "" {
				_, err := fmt.Fprintf(a.stdout, "dfstore %s\n", version)
				return err
			}
			_, err := fmt.Fprintf(a.stdout, "dfstore %s (commit %s)\n", version, commit)
			return err
		},
	}
}
