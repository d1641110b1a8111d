package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// _startTimeout bounds how long a started server may take to respond.
const _startTimeout = 90 * time.Second

// process is one server that dfbench started. Only stop ends it, by its pid.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	// exited receives the result of Wait once; readers put it back.
	exited chan error
}

// startProcess runs bin with args, its output going to the file logPath.
func startProcess(name, logPath, bin string, args ...string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log of %s: %w", name, err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A process group of its own keeps a terminal's Ctrl-C from reaching
	// the server, so dfbench stops it in order; Pdeathsig ends it if
	// dfbench itself is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// running reports whether the process has not exited yet.
func (p *process) running() bool {
	select {
	case err := <-p.exited:
		p.exited <- err
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the process's pid, then SIGKILL after grace, and
// waits for it to exit.
func (p *process) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.exited <- err
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	err := <-p.exited
	p.exited <- err
}

// waitReady polls ready until it responds, the process exits or
// _startTimeout passes. ready is an HTTP URL (any status counts unless
// needOK) or "tcp://HOST:PORT".
func (p *process) waitReady(ctx context.Context, ready string, needOK bool) error {
	deadline := time.Now().Add(_startTimeout)
	hc := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		if probe(hc, ready, needOK) {
			return nil
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("%s exited during start-up (%v); see %s", p.name, err, p.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return fmt.Errorf("%s not ready after %s; see %s", p.name, _startTimeout, p.log)
}

func probe(hc *http.Client, ready string, needOK bool) bool {
	if addr, ok := strings.CutPrefix(ready, "tcp://"); ok {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	}
	resp, err := hc.Get(ready)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return !needOK || resp.StatusCode == http.StatusOK
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// resetPeakRSS resets VmHWM of pid to its current RSS by writing 5 to
// /proc/PID/clear_refs (Linux 4.0 and later).
func resetPeakRSS(pid int) error {
	path := "/proc/" + strconv.Itoa(pid) + "/clear_refs"
	if err := os.WriteFile(path, []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS of pid %d: %w", pid, err)
	}
	return nil
}

// peakRSS returns VmHWM of pid in bytes: its peak resident set size since
// start or since the last resetPeakRSS.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse VmHWM %q of pid %d: %w", rest, pid, err)
		}
		return kib << 10, nil
	}
	return 0, fmt.Errorf("no VmHWM line in /proc/%d/status", pid)
}

// stopGrace is how long a stopped server may take to exit after SIGTERM
// before it gets SIGKILL.
const stopGrace = 15 * time.Second
