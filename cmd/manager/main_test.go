package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dfcache/dfcache/internal/testenv"
)

// TestMain runs the command itself when the test binary is started as a
// child manager process by TestSIGTERMStopsGracefully.
func TestMain(m *testing.M) {
	if os.Getenv("MANAGER_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"manager"}, strings.Fields(os.Getenv("MANAGER_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	cmd := newRootCommand(&out)
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("version: %v", err)
	}
	if got := out.String(); got != "manager dev (commit unknown)\n" {
		t.Errorf("version output = %q; want %q", got, "manager dev (commit unknown)\n")
	}
}

// writeConfig writes a config on free 127.0.0.1 ports and returns its path
// and the status URL.
func writeConfig(t *testing.T) (string, string) {
	t.Helper()
	statusPort := testenv.FreePort(t)
	yaml := fmt.Sprintf("server: {port: %d}\nstatus: {port: %d}\nkeepAliveTTL: 5s\n", testenv.FreePort(t), statusPort)
	path := filepath.Join(t.TempDir(), "manager.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, fmt.Sprintf("http://127.0.0.1:%d", statusPort)
}

func TestRunStopsOnCancel(t *testing.T) {
	path, statusURL := writeConfig(t)
	var logs bytes.Buffer
	cmd := newRootCommand(&logs)
	cmd.SetArgs([]string{"--config", path})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	testenv.WaitHTTP(t, statusURL+"/healthy", 10*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("manager returned %v after cancel; want nil", err)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manager.yaml")
	if err := os.WriteFile(path, []byte("server: {port: 0}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newRootCommand(&bytes.Buffer{})
	cmd.SetArgs([]string{"--config", path})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "server.port") {
		t.Errorf("error = %v; want one naming server.port", err)
	}
}

func TestSIGTERMStopsGracefully(t *testing.T) {
	path, statusURL := writeConfig(t)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "MANAGER_TEST_RUN_MAIN=1", "MANAGER_TEST_ARGS=--config "+path)
	var stderr bytes.Buffer
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	// Kill fails harmlessly when the child has already exited.
	t.Cleanup(func() { _ = child.Process.Kill() })

	testenv.WaitHTTP(t, statusURL+"/healthy", 10*time.Second)
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("manager exited with %v after SIGTERM; want status 0; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "manager stopped") {
		t.Errorf("stderr does not log the stop:\n%s", stderr.String())
	}
}
