package manager

import (
	"fmt"
	"log/slog"
	"net"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/dfcache/dfcache/rpc/managerpb"
)

// Clock is the time source of member expiry; tests inject a fake one.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Limits of the strings in a member, so that a misbehaving member cannot
// make the table grow without bound through one entry.
const (
	maxIDLen       = 256
	maxHostnameLen = 255
)

// registry is the in-memory member table built from keepalives. It never
// persists anything: a restarted manager lists members again as their next
// keepalives arrive, within one TTL.
type registry struct {
	ttl   time.Duration
	clock Clock
	log   *slog.Logger

	mu sync.Mutex
	// members maps member id to its latest keepalive; guarded by mu.
	members map[string]memberEntry
}

type memberEntry struct {
	member   *managerpb.Member
	lastSeen time.Time
}

func newRegistry(ttl time.Duration, clock Clock, log *slog.Logger) *registry {
	return &registry{ttl: ttl, clock: clock, log: log, members: map[string]memberEntry{}}
}

// touch records a keepalive from m, which must be valid. It keeps a copy,
// so the caller may reuse m.
func (r *registry) touch(m *managerpb.Member) {
	m = proto.Clone(m).(*managerpb.Member)
	m.LastSeenUnixMs = 0

	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked()
	if _, ok := r.members[m.Id]; !ok {
		r.log.Info("member joined", memberAttrs(m)...)
	}
	r.members[m.Id] = memberEntry{member: m, lastSeen: r.clock.Now()}
}

// list returns copies of the live members of type t, or of every type when
// t is unspecified, sorted by type then id, with LastSeenUnixMs set.
func (r *registry) list(t managerpb.MemberType) []*managerpb.Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked()
	out := make([]*managerpb.Member, 0, len(r.members))
	for _, e := range r.members {
		if t != managerpb.MemberType_MEMBER_TYPE_UNSPECIFIED && e.member.Type != t {
			continue
		}
		m := proto.Clone(e.member).(*managerpb.Member)
		m.LastSeenUnixMs = e.lastSeen.UnixMilli()
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Id < out[j].Id
	})
	return out
}

// expire drops the members whose last keepalive is older than the TTL.
func (r *registry) expire() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked()
}

func (r *registry) expireLocked() {
	now := r.clock.Now()
	for id, e := range r.members {
		if now.Sub(e.lastSeen) <= r.ttl {
			continue
		}
		delete(r.members, id)
		attrs := append(memberAttrs(e.member), "lastSeen", e.lastSeen)
		r.log.Info("member left", attrs...)
	}
}

func memberAttrs(m *managerpb.Member) []any {
	return []any{"id", m.Id, "type", m.Type.String(), "hostname", m.Hostname, "ip", m.Ip}
}

// validateMember checks the fields a member of its type needs. The message
// names the field and the accepted values.
func validateMember(m *managerpb.Member) error {
	if m == nil {
		return fmt.Errorf("member: missing")
	}
	if m.Id == "" || len(m.Id) > maxIDLen {
		return fmt.Errorf("member.id: must be 1-%d bytes, got %d", maxIDLen, len(m.Id))
	}
	if len(m.Hostname) > maxHostnameLen {
		return fmt.Errorf("member.hostname: must be at most %d bytes, got %d", maxHostnameLen, len(m.Hostname))
	}
	if net.ParseIP(m.Ip) == nil {
		return fmt.Errorf("member.ip: %q is not an IP address", m.Ip)
	}
	switch m.Type {
	case managerpb.MemberType_MEMBER_TYPE_SCHEDULER:
		return validatePort("member.rpc_port", m.RpcPort, true)
	case managerpb.MemberType_MEMBER_TYPE_SEED_PEER, managerpb.MemberType_MEMBER_TYPE_PEER:
		if err := validatePort("member.upload_port", m.UploadPort, true); err != nil {
			return err
		}
		return validatePort("member.object_port", m.ObjectPort, false)
	default:
		return fmt.Errorf("member.type: %s is not one of MEMBER_TYPE_SCHEDULER, MEMBER_TYPE_SEED_PEER, MEMBER_TYPE_PEER", m.Type)
	}
}

// validatePort accepts 0 only when the port is optional, meaning no server.
func validatePort(field string, port int32, required bool) error {
	if port == 0 && !required {
		return nil
	}
	if port < 1 || port > 65535 {
		return fmt.Errorf("%s: %d is not a port number (1-65535)", field, port)
	}
	return nil
}
