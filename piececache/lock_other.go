//go:build !unix

package piececache

import (
	"fmt"
	"os"
)

// lockDir opens the lock file. NOTE: outside Unix it takes no lock, so two
// caches opened on one directory can delete each other's staging files.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	return f, nil
}
