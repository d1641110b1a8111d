package piececache

import (
	"fmt"
	"hash/crc32"

	"github.com/dfcache/dfcache/digest"
)

// _castagnoli is the CRC-32C table; Go computes it with the CPU's CRC32
// instruction where there is one.
var _castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checkPiece compares piece i with its CRC-32C when crcs has one, else with
// its sha256 digest sum, and describes a mismatch.
func checkPiece(piece []byte, i int, sum string, crcs []uint32) (ok bool, reason string) {
	if i < len(crcs) {
		if got := crc32.Checksum(piece, _castagnoli); got != crcs[i] {
			return false, fmt.Sprintf("crc32c is %08x, expected %08x", got, crcs[i])
		}
		return true, ""
	}
	if got := digest.PieceSum(piece); got != sum {
		return false, fmt.Sprintf("sha256 is %s, expected %s", got, sum)
	}
	return true, ""
}
