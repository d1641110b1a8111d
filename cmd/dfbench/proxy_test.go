package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProxyCountsRequestsAndGetBytes(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 3*_rateBurst+5)
	var gotHost string
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost = r.Host
		if r.Method == http.MethodGet {
			w.Write(body)
		}
	}))
	defer origin.Close()
	p, err := startProxy(origin.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	p.setRate(1 << 30)

	for range 2 {
		resp, err := http.Get(p.url + "/bucket/key")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != int64(len(body)) {
			t.Fatalf("GET through the proxy read %d bytes, want %d", n, len(body))
		}
	}
	if resp, err := http.Head(p.url + "/bucket/key"); err == nil {
		resp.Body.Close()
	}
	req, _ := http.NewRequest(http.MethodPut, p.url+"/bucket/key", strings.NewReader("data"))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	c := p.counts()
	if c.Gets != 2 {
		t.Errorf("GET count = %d, want 2", c.Gets)
	}
	if c.Heads != 1 {
		t.Errorf("HEAD count = %d, want 1", c.Heads)
	}
	if c.Puts != 1 {
		t.Errorf("PUT count = %d, want 1", c.Puts)
	}
	if c.Others != 0 {
		t.Errorf("other request count = %d, want 0", c.Others)
	}
	if c.GetBytes != 2*int64(len(body)) {
		t.Errorf("GET bytes = %d, want %d", c.GetBytes, 2*len(body))
	}
	if want := strings.TrimPrefix(p.url, "http://"); gotHost != want {
		t.Errorf("origin saw Host %q, want the proxy's %q so signatures verify", gotHost, want)
	}
	p.reset()
	if c := p.counts(); c != (originCounts{}) {
		t.Errorf("counts after reset = %+v, want zero", c)
	}
}

func TestProxyRejectsRelativeTarget(t *testing.T) {
	if _, err := startProxy("127.0.0.1:9000"); err == nil {
		t.Error("startProxy accepted a target without scheme")
	}
}
