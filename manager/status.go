package manager

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/dfcache/dfcache/rpc/managerpb"
)

// statusResponse is the body of GET /api/v1/status. It never carries the
// backend credentials.
type statusResponse struct {
	ObjectStorage statusObjectStorage `json:"objectStorage"`
	Schedulers    []statusMember      `json:"schedulers"`
	SeedPeers     []statusMember      `json:"seedPeers"`
	Peers         []statusMember      `json:"peers"`
}

type statusObjectStorage struct {
	Enable   bool   `json:"enable"`
	Name     string `json:"name,omitempty"`
	Region   string `json:"region,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
}

type statusMember struct {
	ID         string    `json:"id"`
	Hostname   string    `json:"hostname"`
	IP         string    `json:"ip"`
	RPCPort    int32     `json:"rpcPort,omitempty"`
	UploadPort int32     `json:"uploadPort,omitempty"`
	ObjectPort int32     `json:"objectPort,omitempty"`
	LastSeen   time.Time `json:"lastSeen"`
}

// StatusHandler serves GET /api/v1/status (JSON members by type and the
// backend name, region and endpoint) and GET /healthy (JSON "OK").
func (s *Server) StatusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthy", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, "OK")
	})
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, s.status())
	})
	return mux
}

func (s *Server) status() statusResponse {
	store := s.cfg.ObjectStorage
	resp := statusResponse{
		ObjectStorage: statusObjectStorage{Enable: store.Enable},
		Schedulers:    []statusMember{},
		SeedPeers:     []statusMember{},
		Peers:         []statusMember{},
	}
	if store.Enable {
		resp.ObjectStorage.Name = store.Name
		resp.ObjectStorage.Region = store.Region
		resp.ObjectStorage.Endpoint = store.Endpoint
	}
	for _, m := range s.members.list(managerpb.MemberType_MEMBER_TYPE_UNSPECIFIED) {
		sm := statusMember{
			ID: m.Id, Hostname: m.Hostname, IP: m.Ip,
			RPCPort: m.RpcPort, UploadPort: m.UploadPort, ObjectPort: m.ObjectPort,
			LastSeen: time.UnixMilli(m.LastSeenUnixMs).UTC(),
		}
		switch m.Type {
		case managerpb.MemberType_MEMBER_TYPE_SCHEDULER:
			resp.Schedulers = append(resp.Schedulers, sm)
		case managerpb.MemberType_MEMBER_TYPE_SEED_PEER:
			resp.SeedPeers = append(resp.SeedPeers, sm)
		default:
			resp.Peers = append(resp.Peers, sm)
		}
	}
	return resp
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	// An encoding error here means the client went away; nothing to do.
	_ = json.NewEncoder(w).Encode(v)
}
