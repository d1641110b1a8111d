package objectapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
)

func (h *Handler) listObjects(w http.ResponseWriter, r *http.Request, bucket string) error {
	q := r.URL.Query()
	opts := backend.ListOptions{
		Prefix:    q.Get("prefix"),
		Marker:    q.Get("marker"),
		Delimiter: q.Get("delimiter"),
		Limit:     api.MaxListLimit,
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return statusErrorf(http.StatusUnprocessableEntity, "query parameter limit: invalid value %q, want an integer from 1 to %d", s, api.MaxListLimit)
		}
		if n > 0 {
			opts.Limit = min(n, api.MaxListLimit)
		}
	}
	res, err := h.svc.List(r.Context(), bucket, opts)
	if err != nil {
		return fmt.Errorf("list bucket %s: %w", bucket, err)
	}
	out := api.ListResponse{
		CommonPrefixes: append([]string{}, res.CommonPrefixes...),
		Metadatas:      make([]api.ObjectMetadata, 0, len(res.Objects)),
		NextMarker:     res.NextMarker,
	}
	for _, o := range res.Objects {
		out.Metadatas = append(out.Metadatas, objectMetadata(o))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
