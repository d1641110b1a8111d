package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// _notesMarker starts the hand-written part of the output file, which
// dfbench keeps when it rewrites the file.
const _notesMarker = "<!-- dfbench keeps everything below this line -->"

// report is everything a run writes to its output file.
type report struct {
	command string
	mode    string
	reps    int
	started time.Time
	elapsed time.Duration
	machine []string
	rows    []rowResult
	notes   string
}

// writeMarkdown renders the report.
func (r *report) writeMarkdown(w io.Writer) error {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Benchmarks\n\n")
	fmt.Fprintf(&buf, "Written by `dfbench` (cmd/dfbench) on %s in %s mode, %d repetitions per measurement; the run took %s.\n\n",
		r.started.UTC().Format("2006-01-02 15:04 MST"), r.mode, r.reps, r.elapsed.Round(time.Second))
	fmt.Fprintf(&buf, "Command: `%s`\n\n", r.command)
	fmt.Fprintf(&buf, "## Machine\n\n")
	for _, m := range r.machine {
		fmt.Fprintf(&buf, "- %s\n", m)
	}
	buf.WriteString(_setupText)
	r.writeTable(&buf)
	r.writeReadings(&buf)
	fmt.Fprintf(&buf, "\n%s\n", _notesMarker)
	buf.WriteString(r.notes)
	_, err := w.Write(buf.Bytes())
	return err
}

const _setupText = `
## Setup

One versitygw S3 server (posix backend on the local disk) sits behind a
counting, rate-limiting reverse proxy that dfbench runs in-process. A
manager, a scheduler, 8 peers and 1 seed peer, all with the default
dfdaemon configuration, use that proxy as their S3 backend. Every
baseline client (aws-sdk-go-v2) goes through the same proxy, so both
sides pay the same extra hop. Everything listens on 127.0.0.1 and shares
the machine's cores with dfbench itself.

Each cell gives the median and, in brackets, the minimum and maximum of
the repetitions. The ratio is dfcache's median divided by the baseline's.

`

func (r *report) writeTable(buf *bytes.Buffer) {
	buf.WriteString("## Results\n\n")
	buf.WriteString("| row | metric | dfcache | baseline | baseline value | ratio | target | result |\n")
	buf.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, row := range r.rows {
		for _, l := range row.lines {
			fmt.Fprintf(buf, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", row.num, l.metric, l.ours,
				l.baseLabel, l.base, formatRatio(ratio(l.ours, l.base)), l.target, l.verdict)
		}
	}
	buf.WriteString("\n")
}

func (r *report) writeReadings(buf *bytes.Buffer) {
	buf.WriteString("## Reading the rows\n\n")
	for _, row := range r.rows {
		fmt.Fprintf(buf, "%d. **%s.** %s\n", row.num, row.title, row.reading)
	}
}

// keptNotes returns the part of the file at path after _notesMarker, or
// "" when the file or the marker is missing.
func keptNotes(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	_, after, found := strings.Cut(string(data), _notesMarker+"\n")
	if !found {
		return ""
	}
	return after
}

// describeMachine returns CPU model, cores, memory, the disk of dir, the
// Go version and the commit, from lscpu, nproc, free, df and git.
func describeMachine(dir string) []string {
	return []string{
		"CPU: " + lscpuModel(),
		"cores (nproc): " + commandOutput("nproc"),
		"memory (free -h, total): " + freeTotal(),
		"disk of the run directory (df -h): " + lastLine(commandOutput("df", "-h", "--output=source,fstype,size,avail", dir)),
		"Go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		"commit: " + commandOutput("git", "describe", "--always", "--dirty"),
	}
}

func lscpuModel() string {
	for line := range strings.Lines(commandOutput("lscpu")) {
		if rest, ok := strings.CutPrefix(line, "Model name:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return "unknown (lscpu gave no model name)"
}

func freeTotal() string {
	for line := range strings.Lines(commandOutput("free", "-h")) {
		if fields := strings.Fields(line); len(fields) > 1 && fields[0] == "Mem:" {
			return fields[1]
		}
	}
	return "unknown"
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(strings.Fields(lines[len(lines)-1]), " ")
}

// commandOutput runs name with args and returns its trimmed output, or a
// note that it failed.
func commandOutput(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return fmt.Sprintf("unknown (%s failed: %v)", name, err)
	}
	return strings.TrimSpace(string(out))
}
