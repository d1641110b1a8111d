package s3backend

import "testing"

func TestMetaValueIgnoresCase(t *testing.T) {
	for _, meta := range []map[string]string{
		{"digest": "md5:1"},
		{"Digest": "md5:1"},
		{"DIGEST": "md5:1", "other": "x"},
	} {
		if got := metaValue(meta, _digestMetaKey); got != "md5:1" {
			t.Errorf("metaValue(%v) = %q, want md5:1", meta, got)
		}
	}
	if got := metaValue(map[string]string{"other": "x"}, _digestMetaKey); got != "" {
		t.Errorf("metaValue without digest = %q, want empty", got)
	}
}

func TestCopySourceEscapes(t *testing.T) {
	got := copySource("bucket", "dir/a b+c%d=é")
	if want := "bucket/dir/a%20b%2Bc%25d=%C3%A9"; got != want {
		t.Errorf("copySource = %q, want %q", got, want)
	}
}
