package piececache

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

const crashDirEnv = "PIECECACHE_CRASH_DIR"

// crashData returns the bytes of commit i in the crash test, from 0 to
// about 5 pieces long.
func crashData(i int) []byte {
	return testData((i*7919)%(5*testPieceSize), uint64(i))
}

// TestCrashKeepsCommittedVersions runs a child process that commits objects
// as fast as it can and prints each finished commit. It kills the child with
// SIGKILL at an arbitrary point and checks that the reopened cache has every
// reported commit intact and no partial write.
func TestCrashKeepsCommittedVersions(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		runCrashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsCommittedVersions$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	reported := 0
	for reported < 300 && lines.Scan() {
		if n, err := strconv.Atoi(lines.Text()); err == nil {
			reported = n + 1
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if reported < 300 {
		t.Fatalf("child reported %d commits before it stopped; want 300", reported)
	}

	c := openTestCache(t, dir, Options{})
	for i := range reported {
		checkCrashEntry(t, c, testKey(fmt.Sprintf("k%d", i)), crashData(i))
	}
	// hot is rewritten after every commit, so it must hold one whole write
	// from the last reported iteration or a later one.
	hot, ok := c.Lookup(testKey("hot"))
	if !ok {
		t.Fatal("hot is missing")
	}
	got := readAll(t, c, testKey("hot"), hot.Version)
	last, err := strconv.Atoi(string(got))
	if err != nil || last < reported-1 {
		t.Errorf("hot holds %q; want a number >= %d", got, reported-1)
	}
	if n := stagingEntries(t, c); n != 0 {
		t.Errorf("%d staging entries after Open; want 0", n)
	}
}

func checkCrashEntry(t *testing.T, c *Cache, key Key, want []byte) {
	t.Helper()
	m, ok := c.Lookup(key)
	if !ok {
		t.Errorf("committed %s is missing", key.Object)
		return
	}
	if got := readAll(t, c, key, m.Version); !bytes.Equal(got, want) {
		t.Errorf("committed %s has %d bytes that differ from the %d written", key.Object, len(got), len(want))
	}
}

// runCrashChild commits k0, k1, ... and rewrites hot after each, printing
// the number of every finished commit, until it is killed.
func runCrashChild(dir string) {
	c, err := Open(dir, Options{PieceSize: testPieceSize})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		if err := commitBytes(c, testKey(fmt.Sprintf("k%d", i)), crashData(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := commitBytes(c, testKey("hot"), []byte(strconv.Itoa(i))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(i)
	}
}

func commitBytes(c *Cache, key Key, data []byte) error {
	w, err := c.Create(key)
	if err != nil {
		return err
	}
	for chunk := range slicesChunk(data, 1000) {
		if _, err := w.Write(chunk); err != nil {
			return err
		}
	}
	_, err = w.Commit(Meta{}, CommitOptions{})
	return err
}
