package download

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dfcache/dfcache/digest"
)

// The wire format of the peer upload server (package peer/upload), which
// this package does not import so that a client does not depend on the
// server. The tests run against that server.
const (
	headerPieceDigest = "X-Piece-Digest"
	queryAfter        = "after"
	queryFrom         = "from"
	// maxInfoBytes bounds a task info body. At about 75 bytes per digest,
	// it fits the digests of a 1 TiB object in 4 MiB pieces.
	maxInfoBytes = 32 << 20
)

// taskInfo is the JSON body of GET /tasks/{id}.
type taskInfo struct {
	TaskID     string   `json:"taskId"`
	Length     int64    `json:"length"`
	PieceSize  int64    `json:"pieceSize"`
	FirstPiece int      `json:"firstPiece"`
	Pieces     []string `json:"pieces"`
	Complete   bool     `json:"complete"`
}

// listed returns the number of pieces info covers from piece 0.
func (info *taskInfo) listed() int { return info.FirstPiece + len(info.Pieces) }

type pieceResult struct {
	index  int
	from   *parent // nil for the backend
	buf    []byte  // the buffer lent to the fetch
	data   []byte  // the verified piece, within buf
	digest string
	err    error
}

type infoResult struct {
	from *parent
	info taskInfo
	err  error
}

// errNoTask means that a parent returned 404 for the whole task.
var errNoTask = errors.New("parent does not hold the task")

// startPiece fetches piece i from p, or from the backend when p is nil.
func (r *run) startPiece(i int, s *slot, p *parent) {
	s.fetching = true
	r.pending++
	buf := r.getBuffer()
	size, want := r.pieceLen(i), r.knownDigest(i)
	ctx := r.ctx
	if p != nil {
		p.inflight++
		ctx = p.ctx
	}
	r.wg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, r.d.opts.PieceTimeout)
		defer cancel()
		res := pieceResult{index: i, from: p, buf: buf}
		if p != nil {
			res.data, res.digest, res.err = r.getPiece(ctx, p, i, buf[:size], want)
		} else {
			res.data, res.digest, res.err = r.readBackend(ctx, i, buf[:size], want)
		}
		r.pieceDone <- res
	})
}

// getPiece fetches piece i from p into piece, which has its exact size,
// and checks it against want, the digest from the parents' task info. A
// parent is asked only for pieces its task info listed, so want is known.
func (r *run) getPiece(ctx context.Context, p *parent, i int, piece []byte, want string) ([]byte, string, error) {
	if want == "" {
		return nil, "", fmt.Errorf("piece %d from parent %s: digest unknown", i, p.id)
	}
	u := fmt.Sprintf("%s/tasks/%s/pieces/%d", p.url, url.PathEscape(r.task.GetId()), i)
	resp, err := r.get(ctx, u)
	if err != nil {
		return nil, "", fmt.Errorf("get piece %d from parent %s: %w", i, p.id, err)
	}
	defer resp.Body.Close()

	if header := resp.Header.Get(headerPieceDigest); header != "" && header != want {
		return nil, "", fmt.Errorf("piece %d from parent %s: digest header %s, expected %s", i, p.id, header, want)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != int64(len(piece)) {
		return nil, "", fmt.Errorf("piece %d from parent %s: %d bytes, expected %d", i, p.id, resp.ContentLength, len(piece))
	}
	if err := readExactly(resp.Body, piece); err != nil {
		return nil, "", fmt.Errorf("read piece %d from parent %s: %w", i, p.id, err)
	}
	if got := digest.PieceSum(piece); got != want {
		return nil, "", fmt.Errorf("piece %d from parent %s: sha256 is %s, expected %s", i, p.id, got, want)
	}
	return piece, want, nil
}

// readBackend reads piece i from the fallback into piece. It checks the
// digest only when one is known, because the backend is the source of
// truth and the caller checks the md5 of the whole object.
func (r *run) readBackend(ctx context.Context, i int, piece []byte, want string) ([]byte, string, error) {
	off := int64(i) * r.pieceSize
	rc, err := r.fallback(ctx, off, int64(len(piece)))
	if err != nil {
		return nil, "", fmt.Errorf("read piece %d (%d bytes at %d) from backend: %w", i, len(piece), off, err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, piece); err != nil {
		return nil, "", fmt.Errorf("read piece %d (%d bytes at %d) from backend: %w", i, len(piece), off, err)
	}
	if got := digest.PieceSum(piece); want != "" && got != want {
		return nil, "", fmt.Errorf("piece %d from backend: sha256 is %s, expected %s from the parents: the backend object differs from their copy", i, got, want)
	}
	return piece, "", nil
}

// readExactly fills p from r and checks that r ends there.
func readExactly(r io.Reader, p []byte) error {
	if _, err := io.ReadFull(r, p); err != nil {
		return err
	}
	var extra [1]byte
	if n, _ := r.Read(extra[:]); n > 0 {
		return fmt.Errorf("body longer than %d bytes", len(p))
	}
	return nil
}

// get sends a GET and returns the response when its status is 200. Other
// statuses become errors carrying the server's message; 404 wraps
// errNoTask.
func (r *run) get(ctx context.Context, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.d.opts.Client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	err = fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	if resp.StatusCode == http.StatusNotFound {
		err = fmt.Errorf("%w: %w", errNoTask, err)
	}
	return nil, err
}

// startInfo requests the task info of p, listing the digests from piece
// after on. With after >= 0 the parent holds the request until it has more
// than after pieces.
func (r *run) startInfo(p *parent, after int, delay bool) {
	p.polling = true
	r.pending++
	u := fmt.Sprintf("%s/tasks/%s", p.url, url.PathEscape(r.task.GetId()))
	if after >= 0 {
		u += fmt.Sprintf("?%s=%d&%s=%d", queryAfter, after, queryFrom, after)
	}
	r.wg.Go(func() {
		res := infoResult{from: p}
		if delay && !sleep(p.ctx, r.d.opts.PollInterval) {
			res.err = p.ctx.Err()
		} else {
			res.info, res.err = r.getInfo(p, u)
		}
		r.infoDone <- res
	})
}

func (r *run) getInfo(p *parent, u string) (taskInfo, error) {
	ctx, cancel := context.WithTimeout(p.ctx, r.d.opts.PieceTimeout)
	defer cancel()
	var info taskInfo
	resp, err := r.get(ctx, u)
	if err != nil {
		return info, fmt.Errorf("get task info from parent %s: %w", p.id, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxInfoBytes)).Decode(&info); err != nil {
		return info, fmt.Errorf("decode task info from parent %s: %w", p.id, err)
	}
	return info, nil
}
