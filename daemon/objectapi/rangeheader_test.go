package objectapi

import "testing"

func TestParseRange(t *testing.T) {
	cases := []struct {
		header  string
		size    int64
		off, n  int64
		partial bool
		wantErr bool
	}{
		{"", 10, 0, 10, false, false},
		{"bytes=0-0", 5, 0, 1, true, false},
		{"bytes=4-5", 5, 4, 1, true, false},
		{"bytes=-3", 5, 2, 3, true, false},
		{"bytes=-10", 5, 0, 5, true, false},
		{"bytes=0-", 10, 0, 10, true, false},
		{"bytes=100-", 10 << 20, 100, 10<<20 - 100, true, false},
		{"bytes=6-7", 5, 0, 0, false, true},
		{"bytes=3-1", 5, 0, 0, false, true},
		{"bytes=0-0", 0, 0, 0, false, true},
		{"bytes=-0", 5, 0, 0, false, true},
		{"bytes=0-1,3-4", 5, 0, 0, false, true},
		{"items=0-1", 5, 0, 0, false, true},
		{"bytes=a-b", 5, 0, 0, false, true},
		{"bytes=5", 5, 0, 0, false, true},
	}
	for _, c := range cases {
		off, n, partial, err := parseRange(c.header, c.size)
		if (err != nil) != c.wantErr {
			t.Errorf("parseRange(%q, %d) error = %v, want error %v", c.header, c.size, err, c.wantErr)
			continue
		}
		if err == nil && (off != c.off || n != c.n || partial != c.partial) {
			t.Errorf("parseRange(%q, %d) = %d, %d, %v; want %d, %d, %v", c.header, c.size, off, n, partial, c.off, c.n, c.partial)
		}
	}
}
