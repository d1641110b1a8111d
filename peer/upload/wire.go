package upload

// HeaderPieceDigest carries the "sha256:<hex>" digest of the piece in a
// GET /tasks/{id}/pieces/{n} response.
const HeaderPieceDigest = "X-Piece-Digest"

// QueryAfter is an optional query parameter of GET /tasks/{id}. With
// after=N the server holds the request (long poll, up to its piece wait)
// until the task lists more than N pieces or is complete, and then returns
// the task info. Servers that ignore it return at once.
const QueryAfter = "after"

// QueryFrom is an optional query parameter of GET /tasks/{id}. With from=N
// the info lists the digests from piece N on, and sets firstPiece to N, so
// that polling a large task in progress does not resend every digest.
const QueryFrom = "from"

// TaskInfo is the JSON body of GET /tasks/{id}.
type TaskInfo struct {
	TaskID string `json:"taskId"`
	// Length is the object size in bytes, or -1 while it is unknown.
	Length int64 `json:"length"`
	// PieceSize is the size in bytes of every piece but the last.
	PieceSize int64 `json:"pieceSize"`
	// FirstPiece is the index of the first digest in Pieces: 0 unless the
	// request has a from parameter.
	FirstPiece int `json:"firstPiece,omitempty"`
	// Pieces holds the "sha256:<hex>" digests of the pieces available
	// now, from piece FirstPiece on without gaps. It is never null.
	Pieces []string `json:"pieces"`
	// Complete is true when every piece is available.
	Complete bool `json:"complete"`
}
