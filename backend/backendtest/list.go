package backendtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/dfcache/dfcache/backend"
)

// _listKeys is the bucket content of the listing cases, in sorted order.
var _listKeys = []string{
	"list/a",
	"list/b/1",
	"list/b/2",
	"list/b0",
	"list/c",
	"list/d/x/y",
	"other/z",
}

func objectKeys(res backend.ListResult) []string {
	keys := make([]string, 0, len(res.Objects))
	for _, o := range res.Objects {
		keys = append(keys, o.Key)
	}
	return keys
}

func mustList(t *testing.T, b backend.Backend, bucket string, opts backend.ListOptions) backend.ListResult {
	t.Helper()
	res, err := b.ListObjects(context.Background(), bucket, opts)
	if err != nil {
		t.Fatalf("ListObjects(%+v): %v", opts, err)
	}
	return res
}

func (s *suite) testList(t *testing.T) {
	b, bucket := s.setup(t)
	for _, key := range _listKeys {
		mustPut(t, b, bucket, key, []byte(key))
	}
	for _, tc := range []struct {
		name     string
		opts     backend.ListOptions
		objects  []string
		prefixes []string
	}{
		{"all", backend.ListOptions{}, _listKeys, nil},
		{"prefix", backend.ListOptions{Prefix: "list/b"}, []string{"list/b/1", "list/b/2", "list/b0"}, nil},
		{"marker", backend.ListOptions{Prefix: "list/", Marker: "list/b/1"}, []string{"list/b/2", "list/b0", "list/c", "list/d/x/y"}, nil},
		{"delimiter", backend.ListOptions{Prefix: "list/", Delimiter: "/"}, []string{"list/a", "list/b0", "list/c"}, []string{"list/b/", "list/d/"}},
		{"delimiter at root", backend.ListOptions{Delimiter: "/"}, nil, []string{"list/", "other/"}},
		{"no match", backend.ListOptions{Prefix: "nothing/"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustList(t, b, bucket, tc.opts)
			if got := objectKeys(res); !slices.Equal(got, tc.objects) && len(got)+len(tc.objects) > 0 {
				t.Errorf("objects = %q, want %q", got, tc.objects)
			}
			if !slices.Equal(res.CommonPrefixes, tc.prefixes) && len(res.CommonPrefixes)+len(tc.prefixes) > 0 {
				t.Errorf("common prefixes = %q, want %q", res.CommonPrefixes, tc.prefixes)
			}
			if res.IsTruncated {
				t.Errorf("IsTruncated = true for a complete listing")
			}
		})
	}
	res := mustList(t, b, bucket, backend.ListOptions{Prefix: "list/a"})
	if len(res.Objects) != 1 || res.Objects[0].Size != int64(len("list/a")) || res.Objects[0].ETag == "" {
		t.Errorf("listed object list/a = %+v, want size %d and an ETag", res.Objects, len("list/a"))
	}
}

func (s *suite) testListPaging(t *testing.T) {
	b, bucket := s.setup(t)
	for _, key := range _listKeys {
		mustPut(t, b, bucket, key, []byte(key))
	}
	var got []string
	marker := ""
	for page := 0; page < len(_listKeys); page++ {
		res := mustList(t, b, bucket, backend.ListOptions{Marker: marker, Limit: 2})
		if len(res.Objects) > 2 {
			t.Fatalf("page %d has %d objects, want at most the limit 2", page, len(res.Objects))
		}
		got = append(got, objectKeys(res)...)
		if !res.IsTruncated {
			break
		}
		if res.NextMarker == "" {
			t.Fatalf("page %d is truncated but NextMarker is empty", page)
		}
		marker = res.NextMarker
	}
	if !slices.Equal(got, _listKeys) {
		t.Errorf("keys over all pages = %q, want %q", got, _listKeys)
	}
}

func (s *suite) testListDelimiterPaging(t *testing.T) {
	b, bucket := s.setup(t)
	for _, key := range _listKeys {
		mustPut(t, b, bucket, key, []byte(key))
	}
	want := []string{"list/a", "list/b/", "list/b0", "list/c", "list/d/"}
	var got []string
	marker := ""
	for page := 0; page < 2*len(want); page++ {
		res := mustList(t, b, bucket, backend.ListOptions{Prefix: "list/", Delimiter: "/", Marker: marker, Limit: 1})
		if n := len(res.Objects) + len(res.CommonPrefixes); n > 1 {
			t.Fatalf("page %d has %d entries, want at most the limit 1", page, n)
		}
		got = append(got, objectKeys(res)...)
		got = append(got, res.CommonPrefixes...)
		if !res.IsTruncated {
			break
		}
		marker = res.NextMarker
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries over all pages = %q, want %q", got, want)
	}
}

func (s *suite) testListAboveOneThousand(t *testing.T) {
	b, bucket := s.setup(t)
	keys := make([]string, 1100)
	for i := range keys {
		keys[i] = fmt.Sprintf("many/%05d", i)
	}
	putAll(t, b, bucket, keys)

	res := mustList(t, b, bucket, backend.ListOptions{Limit: 1100})
	if got := objectKeys(res); !slices.Equal(got, keys) || res.IsTruncated {
		t.Errorf("Limit 1100: got %d keys (truncated %v), want all 1100", len(got), res.IsTruncated)
	}
	res = mustList(t, b, bucket, backend.ListOptions{Limit: 1050})
	if got := objectKeys(res); !slices.Equal(got, keys[:1050]) || !res.IsTruncated || res.NextMarker != keys[1049] {
		t.Errorf("Limit 1050: got %d keys, truncated %v, next marker %q; want 1050, true, %q", len(got), res.IsTruncated, res.NextMarker, keys[1049])
	}
	res = mustList(t, b, bucket, backend.ListOptions{})
	if got := objectKeys(res); !slices.Equal(got, keys[:1000]) || !res.IsTruncated {
		t.Fatalf("Limit 0: got %d keys (truncated %v), want the first 1000 and truncated", len(got), res.IsTruncated)
	}
	res = mustList(t, b, bucket, backend.ListOptions{Marker: res.NextMarker})
	if got := objectKeys(res); !slices.Equal(got, keys[1000:]) || res.IsTruncated {
		t.Errorf("second page: got %d keys (truncated %v), want the last 100", len(got), res.IsTruncated)
	}
}

// putAll writes a small object under each key, 16 at a time.
func putAll(t *testing.T, b backend.Backend, bucket string, keys []string) {
	t.Helper()
	var g errgroup.Group
	g.SetLimit(16)
	for _, key := range keys {
		g.Go(func() error {
			_, err := b.PutObject(context.Background(), bucket, key, strings.NewReader(key), int64(len(key)), backend.PutOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("put %d objects: %v", len(keys), err)
	}
}
