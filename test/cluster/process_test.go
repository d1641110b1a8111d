package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// _stopTimeout bounds how long a stopped process may take to exit before
// it is killed.
const _stopTimeout = 20 * time.Second

// process is one member of the cluster run from a binary in binDir with a
// YAML configuration file. Its stdout and stderr go to a log file that is
// printed when the test fails.
type process struct {
	t       *testing.T
	name    string
	binary  string
	cfgPath string
	logPath string

	cmd    *exec.Cmd
	exited chan error
}

// newProcess writes cfg under dir and returns a process that is not
// started yet. Cleanup stops it and prints its log if the test failed.
func newProcess(t *testing.T, dir, name, binary string, cfg map[string]any) *process {
	t.Helper()
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatalf("encode %s config: %v", name, err)
	}
	p := &process{
		t:       t,
		name:    name,
		binary:  binary,
		cfgPath: filepath.Join(dir, binary+".yaml"),
		logPath: filepath.Join(dir, binary+".log"),
	}
	if err := os.WriteFile(p.cfgPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			p.dumpLog()
		}
	})
	return p
}

// start runs the binary; the log file is appended to across restarts.
func (p *process) start() {
	p.t.Helper()
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	defer logFile.Close()
	p.cmd = exec.Command(filepath.Join(binDir, p.binary), "--config", p.cfgPath)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	p.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan error) { exited <- cmd.Wait() }(p.cmd, p.exited)
}

// running reports whether the process was started and has not exited.
func (p *process) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		return false
	default:
		return true
	}
}

// stop ends the process with SIGTERM, and SIGKILL after _stopTimeout.
func (p *process) stop() { p.signal(syscall.SIGTERM) }

// kill ends the process with SIGKILL, as a crash would.
func (p *process) kill() { p.signal(syscall.SIGKILL) }

func (p *process) signal(sig syscall.Signal) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(_stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

// logContains reports whether the log file contains s.
func (p *process) logContains(s string) bool {
	data, err := os.ReadFile(p.logPath)
	return err == nil && strings.Contains(string(data), s)
}

// logHasLine reports whether a log line contains prefix followed by a
// space or the end of the line, so that "host=peer-1" does not match
// "host=peer-10".
func (p *process) logHasLine(prefix string) bool {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return false
	}
	text := string(data)
	for {
		i := strings.Index(text, prefix)
		if i < 0 {
			return false
		}
		text = text[i+len(prefix):]
		if text == "" || text[0] == ' ' || text[0] == '\n' {
			return true
		}
	}
}

// logLineHas reports whether a log line that contains prefix also
// contains field.
func (p *process) logLineHas(prefix, field string) bool {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, prefix) && strings.Contains(line, field) {
			return true
		}
	}
	return false
}

func (p *process) dumpLog() {
	data, _ := os.ReadFile(p.logPath)
	const tail = 12000
	if len(data) > tail {
		data = data[len(data)-tail:]
	}
	p.t.Logf("%s log (last %d bytes of %s):\n%s", p.name, tail, p.logPath, data)
}

// waitFor polls cond every 50 ms until it is true, and fails the test,
// naming what it waited for, when timeout passes first.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
