// Command dfstore copies objects between local files and the object
// storage of a dfdaemon peer, and lists, inspects and removes them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Cancelling the context on an interrupt lets a download remove its
	// temporary file before the process exits.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
