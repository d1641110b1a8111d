package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// transfer tracks the bytes of one copy: it feeds a progress bar when
// stderr is a terminal and prints a summary line at the end.
type transfer struct {
	stderr io.Writer
	quiet  bool
	bar    *progressbar.ProgressBar
	start  time.Time
	// suffix ends the summary line, such as ", source peer".
	suffix string
}

// newTransfer starts tracking a copy of size bytes, or of an unknown size
// when size is negative.
func newTransfer(stderr io.Writer, quiet bool, size int64, description string) *transfer {
	t := &transfer{stderr: stderr, quiet: quiet, start: time.Now()}
	if !quiet && isTerminal(stderr) {
		t.bar = progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(description),
			progressbar.OptionShowBytes(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return t
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// reader returns r, counting what it yields on the progress bar.
func (t *transfer) reader(r io.Reader) io.Reader {
	if t.bar == nil {
		return r
	}
	return &countingReader{r: r, bar: t.bar}
}

// finish removes the progress bar and, unless quiet, prints
// "<verb> <size> <where> in <duration> (<rate>)".
func (t *transfer) finish(verb string, size int64, where string) {
	if t.bar != nil {
		t.bar.Finish()
	}
	if t.quiet {
		return
	}
	elapsed := time.Since(t.start)
	fmt.Fprintf(t.stderr, "%s %s %s in %s (%s/s)%s\n", verb, formatBytes(float64(size)), where,
		formatDuration(elapsed), formatBytes(float64(size)/max(elapsed.Seconds(), 1e-9)), t.suffix)
}

// abort removes the progress bar after a failure, leaving the line free
// for the error message.
func (t *transfer) abort() {
	if t.bar != nil {
		t.bar.Exit()
	}
}

type countingReader struct {
	r   io.Reader
	bar *progressbar.ProgressBar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.bar.Add(n)
	return n, err
}

// formatBytes formats n bytes with IEC units: "512 B", "1.5 KiB", "3.0 GiB".
func formatBytes(n float64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	if n < 1024 {
		return fmt.Sprintf("%.0f B", n)
	}
	unit := -1
	for n >= 1024 && unit < len(units)-1 {
		n /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %s", n, units[unit])
}

func formatDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
