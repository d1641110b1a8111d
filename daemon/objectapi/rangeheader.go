package objectapi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// parseRange parses a Range header against an object of size bytes and
// returns the offset and length to send. An empty header selects the whole
// object (partial false). One range is supported: "a-b", "a-" or "-n".
// Anything else, or a range outside the object, is an error for a 416.
func parseRange(header string, size int64) (off, n int64, partial bool, err error) {
	if header == "" {
		return 0, size, false, nil
	}
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok {
		return 0, 0, false, fmt.Errorf("invalid range %q: only byte ranges (bytes=a-b) are supported", header)
	}
	if strings.Contains(spec, ",") {
		return 0, 0, false, fmt.Errorf("invalid range %q: multiple ranges are not supported", header)
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, 0, false, fmt.Errorf("invalid range %q: want bytes=a-b, bytes=a- or bytes=-n", header)
	}
	if size == 0 {
		return 0, 0, false, errors.New("range not satisfiable: the object is empty")
	}
	if first == "" {
		return suffixRange(header, last, size)
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false, fmt.Errorf("invalid range %q: bad start %q", header, first)
	}
	end := size - 1
	if last != "" {
		if end, err = strconv.ParseInt(last, 10, 64); err != nil || end < start {
			return 0, 0, false, fmt.Errorf("invalid range %q: the end must be a number not below the start", header)
		}
	}
	if start >= size {
		return 0, 0, false, fmt.Errorf("range %q not satisfiable: the object has %d bytes", header, size)
	}
	end = min(end, size-1)
	return start, end - start + 1, true, nil
}

func suffixRange(header, last string, size int64) (off, n int64, partial bool, err error) {
	n, err = strconv.ParseInt(last, 10, 64)
	if err != nil || n <= 0 {
		return 0, 0, false, fmt.Errorf("invalid range %q: bad suffix length %q", header, last)
	}
	n = min(n, size)
	return size - n, n, true, nil
}

func contentRange(off, n, size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size)
}
