package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

type cpOptions struct {
	filter      string
	mode        string
	maxReplicas int
	quiet       bool
}

func newCpCommand(a *app) *cobra.Command {
	var opts cpOptions
	cmd := &cobra.Command{
		Use:   "cp SOURCE TARGET",
		Short: "Copy a local file or stdin to an object, or an object to a local file or stdout",
		Long: `cp uploads when TARGET is dfs://BUCKET/KEY and downloads when SOURCE is.
The other argument is a local path, or - for stdin or stdout.

An upload to a KEY ending in / takes the file's base name after it. A
download into a directory takes the key's base name. A download goes to a
temporary file in the target directory that is renamed on success, so a
failed download leaves no partial file.`,
		Example: `  dfstore cp ./photo.jpg dfs://bucket/photos/photo.jpg
  dfstore cp -m writeback --max-replicas 2 ./data.tar dfs://bucket/backups/
  dfstore cp dfs://bucket/photos/photo.jpg .
  tar c dir | dfstore cp - dfs://bucket/dir.tar`,
		Args: exactArgs(2, "SOURCE and TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.copyObject(cmd, args[0], args[1], opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.filter, "filter", "", "'&'-separated URL query parameter names that do not change an object's identity, such as Expires&Signature")
	// Mode 2 (ephemeral) is accepted but left out of the help text, because
	// peers use it to place replicas and users do not need it.
	flags.StringVarP(&opts.mode, "mode", "m", "0", "write mode of an upload: 0 or async (the peer responds once it has cached the object and uploads it to the backend afterwards), 1 or writeback (the peer responds once the backend has the object)")
	flags.IntVar(&opts.maxReplicas, "max-replicas", api.DefaultMaxReplicas, fmt.Sprintf("number of seed peers that receive a copy of an upload, %d to %d", api.MinReplicas, api.MaxReplicas))
	flags.BoolVarP(&opts.quiet, "quiet", "q", false, "print no progress bar and no summary line")
	return cmd
}

func (a *app) copyObject(cmd *cobra.Command, source, target string, opts cpOptions) error {
	upload := client.IsURL(target)
	if err := checkCopyArgs(source, target); err != nil {
		return err
	}
	mode, err := api.ParseMode(opts.mode)
	if err != nil {
		return usageError{fmt.Sprintf("invalid --mode %q: use 0 or async, 1 or writeback", opts.mode)}
	}
	if opts.maxReplicas < api.MinReplicas || opts.maxReplicas > api.MaxReplicas {
		return usageError{fmt.Sprintf("invalid --max-replicas %d: must be %d to %d", opts.maxReplicas, api.MinReplicas, api.MaxReplicas)}
	}
	remote := source
	if upload {
		remote = target
	}
	bucket, key, err := client.ParseURL(remote)
	if err != nil {
		return usageError{err.Error()}
	}
	c, err := a.newClient(cmd)
	if err != nil {
		return err
	}

	if upload {
		put := client.PutObjectOptions{Mode: mode, MaxReplicas: opts.maxReplicas, Filter: opts.filter}
		return a.upload(cmd.Context(), c, source, bucket, key, put, opts.quiet)
	}
	if key == "" {
		return usageError{fmt.Sprintf("invalid source %q: missing object key, want dfs://BUCKET/KEY", source)}
	}
	a.started = true
	return a.download(cmd.Context(), c, bucket, key, target, opts)
}

func checkCopyArgs(source, target string) error {
	switch {
	case client.IsURL(source) && client.IsURL(target):
		return usageError{"cp needs exactly one dfs:// URL, got two: copy between objects is not supported"}
	case !client.IsURL(source) && !client.IsURL(target):
		for _, arg := range []string{source, target} {
			if scheme, _, ok := strings.Cut(arg, "://"); ok {
				return usageError{fmt.Sprintf("cp does not take %s:// URLs: name objects as dfs://BUCKET/KEY; the peer reads and writes the backend for you", scheme)}
			}
		}
		return usageError{fmt.Sprintf("cp needs exactly one dfs:// URL, got two local paths %q and %q: use cp(1) for local copies", source, target)}
	}
	return nil
}

func (a *app) upload(ctx context.Context, c *client.Client, source, bucket, key string, opts client.PutObjectOptions, quiet bool) error {
	if key == "" || strings.HasSuffix(key, "/") {
		if source == "-" {
			return usageError{fmt.Sprintf("invalid target dfs://%s/%s: give an object key when reading stdin", bucket, key)}
		}
		key += filepath.Base(source)
	}
	url := client.Scheme + bucket + "/" + key
	a.started = true

	src, size, err := a.openSource(source)
	if err != nil {
		return err
	}
	defer src.Close()
	opts.Size = size
	progress := newTransfer(a.stderr, quiet, size, "uploading")
	info, err := c.PutObject(ctx, bucket, key, progress.reader(src), opts)
	if err != nil {
		progress.abort()
		return objectError{url: url, missing: "bucket", err: err}
	}
	progress.finish("uploaded", info.Size, "to "+url)
	return nil
}

// openSource opens the file to upload and returns its size, or -1 for
// stdin.
func (a *app) openSource(source string) (io.ReadCloser, int64, error) {
	if source == "-" {
		return io.NopCloser(a.stdin), -1, nil
	}
	f, err := os.Open(source)
	if err != nil {
		return nil, 0, fmt.Errorf("open upload source: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open upload source: %w", err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is a directory: cp uploads one file at a time", source)
	}
	return f, fi.Size(), nil
}

// downloadPath returns the file that a download of key to target writes:
// target itself, or the key's base name inside target when target is a
// directory or ends with a path separator.
func downloadPath(target, key string) string {
	if strings.HasSuffix(target, string(filepath.Separator)) || strings.HasSuffix(target, "/") {
		return filepath.Join(target, path.Base(key))
	}
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		return filepath.Join(target, path.Base(key))
	}
	return target
}
