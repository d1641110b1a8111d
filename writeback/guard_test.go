package writeback

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var _succeed = UploaderFunc(func(context.Context, Record) error { return nil })

func TestOpenRejectsBadInput(t *testing.T) {
	tests := []struct {
		name    string
		u       Uploader
		opts    Options
		wantErr string
	}{
		{"nil uploader", nil, Options{}, "nil Uploader"},
		{"negative workers", _succeed, Options{Workers: -1}, "invalid Workers -1"},
		{"min above max", _succeed, Options{MinBackoff: 2 * time.Second, MaxBackoff: time.Second}, "MinBackoff 2s is greater than MaxBackoff 1s"},
		{"negative timeout", _succeed, Options{AttemptTimeout: -time.Second}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Open(queuePath(t), tt.u, tt.opts)
			if err == nil {
				_ = q.Close()
				t.Fatalf("Open succeeded; want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open error %q; want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestAddRejectsInvalidRecord(t *testing.T) {
	q := openQueue(t, queuePath(t), _succeed, Options{})
	valid := testRecord("b", "k", "v1")
	tests := []struct {
		name    string
		change  func(*Record)
		wantErr string
	}{
		{"missing bucket", func(r *Record) { r.Bucket = "" }, "missing bucket"},
		{"missing key", func(r *Record) { r.Key = "" }, "missing key"},
		{"missing version", func(r *Record) { r.Version = "" }, "missing version"},
		{"negative size", func(r *Record) { r.Size = -1 }, "negative size -1"},
		{"bad digest", func(r *Record) { r.Digest = "md5:xyz" }, `invalid digest "md5:xyz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid
			tt.change(&r)
			err := q.Add(r)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Add error %v; want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if n := q.Len(); n != 0 {
		t.Errorf("Len after rejected Adds: %d; want 0", n)
	}
}

func TestClosedQueueReturnsErrClosed(t *testing.T) {
	q := openQueue(t, queuePath(t), _succeed, Options{})
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := q.Close(); err != nil {
		t.Errorf("second Close: %v; want nil", err)
	}
	q.Start()
	ctx := context.Background()
	_, _, getErr := q.Get("b", "k")
	_, listErr := q.List()
	_, _, cancelErr := q.Cancel(ctx, "b", "k")
	for name, err := range map[string]error{
		"Add":    q.Add(testRecord("b", "k", "v1")),
		"Get":    getErr,
		"List":   listErr,
		"Cancel": cancelErr,
		"Wait":   q.Wait(ctx, "b", "k"),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v; want ErrClosed", name, err)
		}
	}
}

func TestOpenLockedFile(t *testing.T) {
	saved := _openTimeout
	_openTimeout = 50 * time.Millisecond
	t.Cleanup(func() { _openTimeout = saved })

	path := queuePath(t)
	openQueue(t, path, _succeed, Options{})
	q, err := Open(path, _succeed, Options{})
	if err == nil {
		_ = q.Close()
		t.Fatal("second Open of the same file succeeded; want a lock error")
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("Open error %q; want it to say the file is locked", err)
	}
}

func TestOpenCorruptRecord(t *testing.T) {
	path := queuePath(t)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(_recordsBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(recordID("b", "k")), []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	q, err := Open(path, _succeed, Options{})
	if err == nil {
		_ = q.Close()
		t.Fatal("Open of a file with a corrupt record succeeded; want an error")
	}
	if !strings.Contains(err.Error(), "decode write-back record") {
		t.Errorf("Open error %q; want it to name the corrupt record", err)
	}
}

func TestWaitContextEnds(t *testing.T) {
	failing := UploaderFunc(func(context.Context, Record) error { return errors.New("backend unreachable") })
	q := openQueue(t, queuePath(t), failing, Options{MinBackoff: time.Hour, MaxBackoff: time.Hour})
	mustAdd(t, q, testRecord("b", "k", "v1"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Wait(ctx, "b", "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with ended context: %v; want context.Canceled", err)
	}
	if err := q.Wait(context.Background(), "b", "other"); err != nil {
		t.Errorf("Wait for a key without record: %v; want nil", err)
	}
}

func TestRecordIDUnambiguous(t *testing.T) {
	if recordID("a", "bc") == recordID("ab", "c") {
		t.Error(`recordID("a", "bc") equals recordID("ab", "c")`)
	}
}

func TestListSortedAndLen(t *testing.T) {
	q := openQueue(t, queuePath(t), _succeed, Options{})
	for _, bk := range [][2]string{{"b2", "a"}, {"b1", "z"}, {"b1", "a"}} {
		mustAdd(t, q, testRecord(bk[0], bk[1], "v1"))
	}
	mustAdd(t, q, testRecord("b1", "a", "v2"))
	records, err := q.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var got []string
	for _, r := range records {
		got = append(got, r.Bucket+"/"+r.Key+"@"+r.Version)
	}
	if want := "b1/a@v2 b1/z@v1 b2/a@v1"; strings.Join(got, " ") != want {
		t.Errorf("List = %v; want %s", got, want)
	}
	if n := q.Len(); n != 3 {
		t.Errorf("Len = %d; want 3", n)
	}
}

func TestCommitsAreSynced(t *testing.T) {
	q := openQueue(t, queuePath(t), _succeed, Options{})
	if q.store.db.NoSync {
		t.Error("bbolt NoSync is set; Add would return before the record is on disk")
	}
}
