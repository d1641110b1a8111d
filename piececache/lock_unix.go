//go:build unix

package piececache

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive flock on path, so that a second process or
// Cache cannot clear the staging files of the first. Closing the returned
// file releases the lock.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("lock cache directory: %s is in use by another cache; close it or use another directory", path)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock cache directory: %w", err)
	}
	return f, nil
}
