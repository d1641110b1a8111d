package main

import (
	"github.com/spf13/cobra"
)

func newRmCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm dfs://BUCKET/KEY",
		Short:   "Remove an object from the peer's cache and the backend",
		Example: "  dfstore rm dfs://bucket/photos/photo.jpg",
		Args:    exactArgs(1, "one dfs://BUCKET/KEY URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, bucket, key, err := a.objectCommand(cmd, args[0])
			if err != nil {
				return err
			}
			if err := c.RemoveObject(cmd.Context(), bucket, key); err != nil {
				return objectError{url: args[0], missing: "object", err: err}
			}
			return nil
		},
	}
}
