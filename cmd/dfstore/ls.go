package main

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

func newLsCommand(a *app) *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "ls dfs://BUCKET[/PREFIX]",
		Short: "List the objects of a bucket",
		Long: `ls lists the objects whose keys start with PREFIX, one per line:
the last modification time (UTC), the size in bytes and the key. Without
--recursive it lists one level, showing each deeper level once as a line
"PRE <prefix>/".`,
		Example: `  dfstore ls dfs://bucket
  dfstore ls dfs://bucket/photos/
  dfstore ls -r dfs://bucket/photos/`,
		Args: exactArgs(1, "one dfs://BUCKET[/PREFIX] URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.list(cmd, args[0], recursive)
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "list every key under the prefix instead of one level")
	return cmd
}

func (a *app) list(cmd *cobra.Command, url string, recursive bool) error {
	bucket, prefix, err := client.ParseURL(url)
	if err != nil {
		return usageError{err.Error()}
	}
	c, err := a.newClient(cmd)
	if err != nil {
		return err
	}
	a.started = true

	opts := client.ListObjectsOptions{Prefix: prefix}
	if !recursive {
		opts.Delimiter = "/"
	}
	out := bufio.NewWriter(a.stdout)
	err = c.WalkObjects(cmd.Context(), bucket, opts, func(m api.ObjectMetadata) error {
		_, err := out.WriteString(formatEntry(m, opts.Delimiter))
		return err
	})
	if flushErr := out.Flush(); err == nil {
		err = flushErr
	}
	if err != nil {
		return objectError{url: client.Scheme + bucket, missing: "bucket", err: err}
	}
	return nil
}

// formatEntry formats one listing line. WalkObjects passes a common prefix
// as an entry with only its Key set, which no stored object matches, since
// those always have an ETag.
func formatEntry(m api.ObjectMetadata, delimiter string) string {
	isPrefix := delimiter != "" && strings.HasSuffix(m.Key, delimiter) && m.ETag == "" && m.LastModifiedTime.IsZero()
	if isPrefix {
		return fmt.Sprintf("%19s  %12s  %s\n", "", "PRE", m.Key)
	}
	modified := "-"
	if !m.LastModifiedTime.IsZero() {
		modified = m.LastModifiedTime.UTC().Format(time.DateTime)
	}
	return fmt.Sprintf("%19s  %12d  %s\n", modified, m.ContentLength, m.Key)
}
