package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	cmd := newRootCommand(&bytes.Buffer{})
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "scheduler dev") {
		t.Errorf("version output = %q; want it to start with %q", out.String(), "scheduler dev")
	}
}

func TestBadConfigRejected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scheduler.yaml")
	if err := os.WriteFile(path, []byte("maxParents: 0\nunknownKey: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newRootCommand(&bytes.Buffer{})
	cmd.SetArgs([]string{"--config", path})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "unknownKey") {
		t.Errorf("Execute with an unknown key = %v; want an error naming unknownKey", err)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scheduler.yaml")
	if err := os.WriteFile(path, []byte("server: {listen: 127.0.0.1, port: 0}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, path, &logs) }()

	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "scheduler started") {
		if time.Now().After(deadline) {
			t.Fatalf("no start log within 5 s; log: %s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel = %v; want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return within 15 s of cancel")
	}
	if !strings.Contains(logs.String(), "scheduler stopped") {
		t.Errorf("log lacks the stop line: %s", logs.String())
	}
}
