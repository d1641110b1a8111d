package api

import (
	"fmt"
	"strconv"
	"strings"
)

// Mode is the write mode of a PUT.
type Mode int

// Write modes, numbered as on the wire.
const (
	// AsyncWriteBack responds once the object is in the peer's cache and a
	// write-back record is durable on disk; the backend upload follows.
	AsyncWriteBack Mode = 0
	// WriteBack responds once the backend has the object.
	WriteBack Mode = 1
	// Ephemeral stores the object on the peer only.
	Ephemeral Mode = 2
)

// String returns the name used in flags and logs.
func (m Mode) String() string {
	switch m {
	case AsyncWriteBack:
		return "async"
	case WriteBack:
		return "writeback"
	case Ephemeral:
		return "ephemeral"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode accepts the wire numbers 0, 1 and 2 and the names async,
// writeback and ephemeral.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "0", "async", "asyncwriteback":
		return AsyncWriteBack, nil
	case "1", "writeback":
		return WriteBack, nil
	case "2", "ephemeral":
		return Ephemeral, nil
	}
	return 0, fmt.Errorf("invalid mode %q: use 0 (async), 1 (writeback) or 2 (ephemeral)", s)
}
