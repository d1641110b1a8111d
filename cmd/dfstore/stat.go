package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dfcache/dfcache/client"
)

func newStatCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "stat dfs://BUCKET/KEY",
		Short:   "Print an object's size, digest, ETag, content type and last modification time",
		Example: "  dfstore stat dfs://bucket/photos/photo.jpg",
		Args:    exactArgs(1, "one dfs://BUCKET/KEY URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, bucket, key, err := a.objectCommand(cmd, args[0])
			if err != nil {
				return err
			}
			info, err := c.StatObject(cmd.Context(), bucket, key)
			if err != nil {
				return objectError{url: args[0], missing: "object", err: err}
			}
			return printInfo(a.stdout, args[0], info)
		},
	}
}

func printInfo(w io.Writer, url string, info client.ObjectInfo) error {
	lastModified := "-"
	if !info.LastModified.IsZero() {
		lastModified = info.LastModified.UTC().Format(time.RFC3339)
	}
	size := "unknown"
	if info.Size >= 0 {
		size = fmt.Sprintf("%d bytes (%s)", info.Size, formatBytes(float64(info.Size)))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := [][2]string{
		{"URL", url},
		{"Size", size},
		{"Digest", orDash(info.Digest)},
		{"ETag", orDash(info.ETag)},
		{"Content-Type", orDash(info.ContentType)},
		{"Last-Modified", lastModified},
		{"Storage-Class", orDash(info.StorageClass)},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// objectCommand parses the dfs://BUCKET/KEY argument of a command on one
// object and returns a client of the peer.
func (a *app) objectCommand(cmd *cobra.Command, url string) (*client.Client, string, string, error) {
	bucket, key, err := client.ParseURL(url)
	if err != nil {
		return nil, "", "", usageError{err.Error()}
	}
	if key == "" {
		return nil, "", "", usageError{fmt.Sprintf("invalid object URL %q: missing object key, want dfs://BUCKET/KEY", url)}
	}
	c, err := a.newClient(cmd)
	if err != nil {
		return nil, "", "", err
	}
	a.started = true
	return c, bucket, key, nil
}
