package ossfake

import (
	"encoding/xml"
	"strconv"
	"strings"
	"time"
)

// maxKeysLimit is the largest max-keys a listing accepts; larger values are
// rejected with InvalidArgument, so clients must page.
const maxKeysLimit = 1000

type listResult struct {
	XMLName        xml.Name       `xml:"ListBucketResult"`
	Name           string         `xml:"Name"`
	Prefix         string         `xml:"Prefix"`
	Marker         string         `xml:"Marker"`
	MaxKeys        int            `xml:"MaxKeys"`
	Delimiter      string         `xml:"Delimiter"`
	IsTruncated    bool           `xml:"IsTruncated"`
	NextMarker     string         `xml:"NextMarker,omitempty"`
	Contents       []listEntry    `xml:"Contents"`
	CommonPrefixes []commonPrefix `xml:"CommonPrefixes"`
}

type listEntry struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Type         string `xml:"Type"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

func (q *request) listObjects() *Error {
	q.srv.count("ListObjects")
	query := q.r.URL.Query()
	maxKeys := q.srv.cfg.DefaultMaxKeys
	if v := query.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxKeysLimit {
			return errInvalidArgument("max-keys %q must be 0 to %d", v, maxKeysLimit)
		}
		maxKeys = n
	}
	prefix, delimiter := query.Get("prefix"), query.Get("delimiter")
	keys, objects, e := q.srv.store.sortedKeys(q.res.Bucket, prefix, query.Get("marker"))
	if e != nil {
		return e
	}
	out := listResult{Name: q.res.Bucket, Prefix: prefix, Marker: query.Get("marker"), MaxKeys: maxKeys, Delimiter: delimiter}
	out.fill(keys, objects)
	return q.writeXML(out)
}

// fill adds the keys, already filtered by prefix and marker and sorted, to
// the page. With a delimiter, keys that share the part up to the first
// delimiter after the prefix roll up into one common prefix, and each entry
// counts once against MaxKeys.
func (out *listResult) fill(keys []string, objects map[string]*object) {
	last := ""
	for _, key := range keys {
		entry, isPrefix := key, false
		if out.Delimiter != "" {
			if i := strings.Index(key[len(out.Prefix):], out.Delimiter); i >= 0 {
				entry, isPrefix = key[:len(out.Prefix)+i+len(out.Delimiter)], true
			}
		}
		// A key that rolls up into the marker's prefix was listed on an
		// earlier page.
		if entry == last || entry <= out.Marker {
			continue
		}
		if len(out.Contents)+len(out.CommonPrefixes) == out.MaxKeys {
			out.IsTruncated, out.NextMarker = true, last
			return
		}
		last = entry
		if isPrefix {
			out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: entry})
			continue
		}
		obj := objects[key]
		out.Contents = append(out.Contents, listEntry{
			Key: key, LastModified: obj.modified.Format(time.RFC3339), ETag: `"` + obj.etag + `"`,
			Type: "Normal", Size: obj.size, StorageClass: obj.storageClass,
		})
	}
}
