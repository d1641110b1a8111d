package ossfake

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestUnsignedRequestRejected(t *testing.T) {
	srv := New(t, Options{Credentials: Credentials{AccessKey: "ak", SecretKey: "sk"}, Region: "cn-hangzhou"})
	srv.CreateBucket("bucket")

	resp, err := http.Get(srv.URL + "/bucket/key")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc errorDocument
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("error body %q is not an XML Error: %v", body, err)
	}
	if resp.StatusCode != http.StatusForbidden || doc.Code != "AccessDenied" {
		t.Errorf("unsigned GET = %d %s; want 403 AccessDenied", resp.StatusCode, doc.Code)
	}
	if n := srv.Count("Rejected"); n != 1 {
		t.Errorf("Rejected = %d; want 1", n)
	}
}

func TestForgedSignatureRejected(t *testing.T) {
	srv := New(t, Options{Credentials: Credentials{AccessKey: "ak", SecretKey: "sk"}, Region: "cn-hangzhou"})
	srv.CreateBucket("bucket")

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/bucket/key", nil)
	req.Header.Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
	req.Header.Set("Authorization", "OSS ak:bm90IGEgc2lnbmF0dXJl")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-oss-ec") != "RequestTimeTooSkewed" {
		t.Errorf("GET with a stale date = %d %s; want 403 RequestTimeTooSkewed", resp.StatusCode, resp.Header.Get("x-oss-ec"))
	}

	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-oss-ec") != "SignatureDoesNotMatch" {
		t.Errorf("GET with a forged signature = %d %s; want 403 SignatureDoesNotMatch", resp.StatusCode, resp.Header.Get("x-oss-ec"))
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		header     string
		start, end int64
		wantErr    bool
	}{
		{"", 0, 10, false},
		{"bytes=2-5", 2, 6, false},
		{"bytes=8-", 8, 10, false},
		{"bytes=-3", 7, 10, false},
		{"bytes=5-100", 5, 10, false},
		{"bytes=10-12", 0, 0, true},
		{"bytes=5-2", 0, 0, true},
		{"bytes=0-1,3-4", 0, 0, true},
		{"items=0-1", 0, 0, true},
	} {
		start, end, _, e := parseRange(tc.header, 10)
		if (e != nil) != tc.wantErr || (e == nil && (start != tc.start || end != tc.end)) {
			t.Errorf("parseRange(%q, 10) = %d, %d, %v; want %d, %d, error %v", tc.header, start, end, e, tc.start, tc.end, tc.wantErr)
		}
	}
}

func TestURIEncode(t *testing.T) {
	got := URIEncode("a b+c/é~*", false)
	if want := "a%20b%2Bc/%C3%A9~%2A"; got != want {
		t.Errorf("URIEncode = %q; want %q", got, want)
	}
	if got := URIEncode("a/b", true); !strings.Contains(got, "%2F") {
		t.Errorf("URIEncode with encodeSlash = %q; want the slash encoded", got)
	}
}
