package writeback

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRecordSurvivesReopen(t *testing.T) {
	path := queuePath(t)
	clock := newFakeClock()
	failed := make(chan struct{}, 1)
	failing := UploaderFunc(func(ctx context.Context, r Record) error {
		failed <- struct{}{}
		return errors.New("backend unreachable")
	})
	q := openQueue(t, path, failing, Options{Now: clock.Now, MinBackoff: time.Hour, MaxBackoff: 2 * time.Hour})
	want := testRecord("photos", "2025/a.jpg", "v1")
	mustAdd(t, q, want)
	q.Start()
	receive(t, failed, "the failing upload")
	eventually(t, "the failed attempt to be recorded", attemptsReach(q, want.Bucket, want.Key, 1))
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	done := make(chan Record, 1)
	var uploaded []Record
	succeeding := UploaderFunc(func(ctx context.Context, r Record) error {
		uploaded = append(uploaded, r)
		return nil
	})
	q2 := openQueue(t, path, succeeding, Options{Now: clock.Now, OnDone: func(r Record) { done <- r }})
	got := mustGet(t, q2, want.Bucket, want.Key)
	if got.Attempts != 1 || got.LastError != "backend unreachable" {
		t.Errorf("after reopen: attempts %d, last error %q; want 1, %q", got.Attempts, got.LastError, "backend unreachable")
	}
	if !got.NextAttempt.Equal(clock.Now()) {
		t.Errorf("after reopen: next attempt %v; want now (%v), despite the 1h backoff", got.NextAttempt, clock.Now())
	}

	q2.Start()
	finished := receive(t, done, "OnDone")
	assertSameObject(t, finished, want)
	if len(uploaded) != 1 {
		t.Fatalf("uploads after reopen: %d; want 1", len(uploaded))
	}
	assertSameObject(t, uploaded[0], want)
	if n := q2.Len(); n != 0 {
		t.Errorf("Len after upload: %d; want 0", n)
	}
	if err := q2.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	q3 := openQueue(t, path, succeeding, Options{})
	if n := q3.Len(); n != 0 {
		t.Errorf("Len after second reopen: %d; want 0, the removal must be on disk", n)
	}
}

// assertSameObject compares the fields that Add keeps.
func assertSameObject(t *testing.T, got, want Record) {
	t.Helper()
	if got.Bucket != want.Bucket || got.Key != want.Key || got.Version != want.Version ||
		got.Digest != want.Digest || got.Size != want.Size || got.ContentType != want.ContentType ||
		!got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("record = %+v; want object fields of %+v", got, want)
	}
}

// _crashChildEnv names the queue file for the child process of
// TestCrashAfterAddKeepsRecord.
const _crashChildEnv = "WRITEBACK_TEST_CRASH_CHILD_QUEUE"

// _crashChildReady is the line the child prints once Add returned.
const _crashChildReady = "writeback-child: added"

func TestCrashAfterAddKeepsRecord(t *testing.T) {
	if path := os.Getenv(_crashChildEnv); path != "" {
		runCrashChild(path)
		return
	}
	path := queuePath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashAfterAddKeepsRecord$")
	cmd.Env = append(os.Environ(), _crashChildEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	waitForLine(t, cmd, stdout, _crashChildReady)

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill child %d: %v", cmd.Process.Pid, err)
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child exit: %v; want killed by SIGKILL", err)
	}

	done := make(chan Record, 1)
	q := openQueue(t, path, UploaderFunc(func(context.Context, Record) error { return nil }),
		Options{OnDone: func(r Record) { done <- r }})
	want := testRecord("photos", "crash.jpg", "v7")
	assertSameObject(t, mustGet(t, q, want.Bucket, want.Key), want)
	q.Start()
	assertSameObject(t, receive(t, done, "upload of the record added before the crash"), want)
}

// waitForLine reads the child's output until want, so that the kill
// happens only after Add returned in the child.
func waitForLine(t *testing.T, cmd *exec.Cmd, stdout io.Reader, want string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if strings.TrimSpace(scanner.Text()) == want {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("child exited without printing %q", want)
		}
	case <-time.After(_testDeadline):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child did not print %q", want)
	}
}

// runCrashChild adds one record with uploads hanging, prints the ready
// line and blocks until the parent kills it. It exits if stdin closes,
// which happens when the parent dies.
func runCrashChild(path string) {
	hang := UploaderFunc(func(ctx context.Context, r Record) error {
		<-ctx.Done()
		return ctx.Err()
	})
	q, err := Open(path, hang, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	q.Start()
	if err := q.Add(testRecord("photos", "crash.jpg", "v7")); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	fmt.Println(_crashChildReady)
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(3)
}

func TestCloseDuringUploadKeepsRecord(t *testing.T) {
	path := queuePath(t)
	started := make(chan struct{}, 1)
	hang := UploaderFunc(func(ctx context.Context, r Record) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	q := openQueue(t, path, hang, Options{})
	mustAdd(t, q, testRecord("b", "k", "v1"))
	q.Start()
	receive(t, started, "the upload to start")
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	q2 := openQueue(t, path, hang, Options{})
	got := mustGet(t, q2, "b", "k")
	if got.Attempts != 0 || got.LastError != "" {
		t.Errorf("after Close during upload: attempts %d, last error %q; want 0 and empty, Close is no failed attempt",
			got.Attempts, got.LastError)
	}
}
