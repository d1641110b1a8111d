package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dfcache/dfcache/client"
)

func (a *app) download(ctx context.Context, c *client.Client, bucket, key, target string, opts cpOptions) error {
	url := client.Scheme + bucket + "/" + key
	obj, err := c.GetObject(ctx, bucket, key, client.GetObjectOptions{Filter: opts.filter})
	if err != nil {
		return objectError{url: url, missing: "object", err: err}
	}
	defer obj.Close()

	progress := newTransfer(a.stderr, opts.quiet, obj.Info.Size, "downloading")
	src := progress.reader(obj)
	var n int64
	where := "from " + url
	if target == "-" {
		n, err = io.Copy(a.stdout, src)
	} else {
		path := downloadPath(target, key)
		where += " to " + path
		n, err = writeFileAtomic(path, src)
	}
	if err != nil {
		progress.abort()
		return err
	}
	if obj.Source != "" {
		progress.suffix = ", source " + obj.Source
	}
	progress.finish("downloaded", n, where)
	return nil
}

// writeFileAtomic copies r to a temporary file next to path and renames it
// to path once r has returned io.EOF, so path either keeps its old content
// or gets all of r. The temporary file is removed on any failure.
func writeFileAtomic(path string, r io.Reader) (int64, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".dfstore-*")
	if err != nil {
		return 0, fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	n, err := io.Copy(tmp, r)
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	// CreateTemp makes the file readable by its owner only; a downloaded
	// file gets the usual permissions of a new file instead.
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		removeErr := os.Remove(tmp.Name())
		return n, errors.Join(fmt.Errorf("write %s: %w", path, err), ignoreNotExist(removeErr))
	}
	return n, nil
}

func ignoreNotExist(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
