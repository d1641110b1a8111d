package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dfcache/dfcache/client/clienttest"
)

func TestEndpointFromEnvironment(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "k", []byte("x"))
	t.Setenv(endpointEnv, srv.URL)

	res := runCLI(t, nil, "stat", "dfs://bkt/k")

	if res.code != 0 || len(srv.Requests()) != 1 {
		t.Errorf("exit status %d with %d requests to %s, want 0 and 1", res.code, len(srv.Requests()), endpointEnv)
	}
}

func TestEndpointFlagOverridesEnvironment(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "k", []byte("x"))
	t.Setenv(endpointEnv, closedEndpoint(t))

	res := runCLI(t, nil, "stat", "--endpoint", srv.URL, "dfs://bkt/k")

	if res.code != 0 || len(srv.Requests()) != 1 {
		t.Errorf("exit status %d, stderr %q, %d requests to --endpoint; want 0 and 1", res.code, res.stderr, len(srv.Requests()))
	}
}

func TestRmRemovesObject(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "dir/a b", []byte("x"))

	res := runCLI(t, nil, "rm", "-e", srv.URL, "dfs://bkt/dir/a b")

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	if _, ok := srv.Object("bkt", "dir/a b"); ok {
		t.Error("object still exists after rm")
	}
	if req := srv.Requests()[0]; req.Method != http.MethodDelete || req.EscapedPath != "/buckets/bkt/objects/dir/a%20b" {
		t.Errorf("request = %s %s, want DELETE /buckets/bkt/objects/dir/a%%20b", req.Method, req.EscapedPath)
	}
}

func TestRmUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"rm"}, {"rm", "dfs://bkt"}, {"rm", "/local/file"}, {"rm", "dfs://bkt/a", "dfs://bkt/b"}} {
		res := runCLI(t, nil, args...)
		if res.code != 2 || res.stderr == "" {
			t.Errorf("%v: exit status %d, stderr %q; want 2 and a reason", args, res.code, res.stderr)
		}
	}
}

func TestStatPrintsMetadata(t *testing.T) {
	srv := clienttest.New(t)
	obj := srv.PutObject("bkt", "k", []byte("12345"))

	res := runCLI(t, nil, "stat", "-e", srv.URL, "dfs://bkt/k")

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	for _, want := range []string{
		"URL:            dfs://bkt/k\n",
		"Size:           5 bytes (5 B)\n",
		"Digest:         " + obj.Digest + "\n",
		"ETag:           " + obj.ETag + "\n",
		"Content-Type:   application/octet-stream\n",
		"Last-Modified:  " + obj.LastModified.UTC().Format(time.RFC3339) + "\n",
		"Storage-Class:  STANDARD\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stat output = %q, want line %q", res.stdout, want)
		}
	}
}

func TestStatNotFound(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")

	res := runCLI(t, nil, "stat", "-e", srv.URL, "dfs://bkt/nope")

	if res.code != 1 || res.stderr != "dfs://bkt/nope: object not found\n" {
		t.Errorf("exit status %d, stderr %q; want 1 and dfs://bkt/nope: object not found", res.code, res.stderr)
	}
}

func TestLsOneLevel(t *testing.T) {
	srv := clienttest.New(t)
	obj := srv.PutObject("bkt", "photos/a.jpg", []byte("aaa"))
	srv.PutObject("bkt", "photos/2024/b.jpg", []byte("b"))
	srv.PutObject("bkt", "readme", []byte("r"))

	res := runCLI(t, nil, "ls", "-e", srv.URL, "dfs://bkt/photos/")

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	modified := obj.LastModified.UTC().Format(time.DateTime)
	want := fmt.Sprintf("%19s  %12s  photos/2024/\n%s  %12d  photos/a.jpg\n", "", "PRE", modified, 3)
	if res.stdout != want {
		t.Errorf("ls output =\n%s\nwant\n%s", res.stdout, want)
	}
	if got := srv.Requests()[0].Query.Get("delimiter"); got != "/" {
		t.Errorf("delimiter = %q, want /", got)
	}
}

func TestLsRecursivePagesThroughAll(t *testing.T) {
	srv := clienttest.New(t)
	srv.OmitNextMarker()
	const count = 1005
	for i := range count {
		srv.PutObject("bkt", fmt.Sprintf("d/%04d", i), []byte("x"))
	}

	res := runCLI(t, nil, "ls", "-r", "-e", srv.URL, "dfs://bkt")

	if res.code != 0 {
		t.Fatalf("exit status %d, stderr %q", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != count {
		t.Fatalf("ls printed %d lines, want %d", len(lines), count)
	}
	if !strings.HasSuffix(lines[count-1], "  d/1004") {
		t.Errorf("last line = %q, want key d/1004", lines[count-1])
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Query.Get("delimiter") != "" {
		t.Errorf("got %d requests (first delimiter %q), want 2 pages without a delimiter", len(reqs), reqs[0].Query.Get("delimiter"))
	}
}

func TestLsBucketNotFound(t *testing.T) {
	srv := clienttest.New(t)

	res := runCLI(t, nil, "ls", "-e", srv.URL, "dfs://nobucket")

	if res.code != 1 || res.stderr != "dfs://nobucket: bucket not found\n" {
		t.Errorf("exit status %d, stderr %q; want 1 and dfs://nobucket: bucket not found", res.code, res.stderr)
	}
}

func TestVersion(t *testing.T) {
	res := runCLI(t, nil, "version")
	if res.code != 0 || res.stdout != "dfstore dev\n" {
		t.Errorf("version = %d %q, want 0 and %q", res.code, res.stdout, "dfstore dev\n")
	}

	version, commit = "1.2.3", "abc123"
	t.Cleanup(func() { version, commit = "dev", "" })
	res = runCLI(t, nil, "version")
	if res.stdout != "dfstore 1.2.3 (commit abc123)\n" {
		t.Errorf("version = %q, want %q", res.stdout, "dfstore 1.2.3 (commit abc123)\n")
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[float64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1 << 30: "1.0 GiB", 320 << 20: "320.0 MiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%.0f) = %q, want %q", n, got, want)
		}
	}
}
