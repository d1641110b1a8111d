package writeback

import (
	"fmt"
	"log/slog"
	"time"
)

// Default values of the zero Options fields.
const (
	DefaultWorkers    = 4
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = time.Minute
)

// Options tune a Queue. The zero value is ready to use.
type Options struct {
	// Workers is the number of concurrent uploads. 0 means DefaultWorkers.
	Workers int
	// MinBackoff and MaxBackoff bound the delay before a retry. The delay
	// doubles with each failed attempt. 0 means DefaultMinBackoff and
	// DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// AttemptTimeout limits one upload. A timeout counts as a failed
	// attempt. 0 means no limit, so a hung Uploader holds its worker until
	// it returns.
	AttemptTimeout time.Duration
	// Now returns the current time for scheduling. nil means time.Now.
	Now func() time.Time
	// Logger receives the queue's events. nil means slog.Default().
	Logger *slog.Logger
	// OnDone is called after a successful upload removed its record, from
	// the worker goroutine, so it should return quickly. It is not called
	// for a version whose record was replaced by a newer Add or removed by
	// Cancel.
	OnDone func(Record)
}

// withDefaults fills the zero fields and checks the others.
func (o Options) withDefaults() (Options, error) {
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case o.Workers < 0:
		return o, fmt.Errorf("invalid Workers %d: want 1 or more, or 0 for %d", o.Workers, DefaultWorkers)
	case o.MinBackoff < 0 || o.MaxBackoff < 0 || o.AttemptTimeout < 0:
		return o, fmt.Errorf("invalid backoff %v..%v or attempt timeout %v: durations must not be negative",
			o.MinBackoff, o.MaxBackoff, o.AttemptTimeout)
	case o.MinBackoff > o.MaxBackoff:
		return o, fmt.Errorf("invalid backoff: MinBackoff %v is greater than MaxBackoff %v", o.MinBackoff, o.MaxBackoff)
	}
	return o, nil
}
