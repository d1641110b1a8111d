// Package testenv starts the servers that tests across the module run
// against: a real S3-compatible server (versitygw) on loopback, and a
// counting, fault-injecting reverse proxy to put in front of it.
//
// Every server binds 127.0.0.1 and is stopped with t.Cleanup.
package testenv

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before the caller binds it, so callers that
// start a server on it should retry on "address in use".
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitHTTP polls url with GET until the server sends any HTTP response
// (whatever the status), and fails the test when timeout passes first.
func WaitHTTP(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	if err := waitHTTP(url, timeout, nil); err != nil {
		t.Fatal(err)
	}
}

// waitHTTP polls url until it responds, timeout passes, or exited
// delivers (the server process ended). exited may be nil.
func waitHTTP(url string, timeout time.Duration, exited <-chan error) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-deadline.C:
			return &waitError{url: url, timeout: timeout, last: err}
		case err := <-exited:
			return &exitError{url: url, err: err}
		case <-tick.C:
		}
	}
}

type waitError struct {
	url     string
	timeout time.Duration
	last    error
}

func (e *waitError) Error() string {
	return "server at " + e.url + " did not respond within " + e.timeout.String() + ": " + e.last.Error()
}

func (e *waitError) Unwrap() error { return e.last }

type exitError struct {
	url string
	err error
}

func (e *exitError) Error() string {
	msg := "server for " + e.url + " exited before it responded"
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *exitError) Unwrap() error { return e.err }
