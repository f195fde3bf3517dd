package repair

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// The values kept to undo master triggers live in an arena: each row's
// values are encoded one after the other into blocks of bytes, and a row
// is found by its master ID through a list of (ID, offset) pairs. A kept
// row costs its values' bytes plus a few, not a slice, interface values
// and strings of its own: a file of millions of contacts keeps the
// import's memory flat (see TestRememberMemory).

// arenaBlock is the size of one block; a row larger than that gets a
// block of its own. Blocks are never moved or grown, so filling one
// copies nothing already kept.
const arenaBlock = 1 << 20

// The tags of the encoded values.
const (
	tagNull byte = iota
	tagString
	tagBytes
	tagInt
)

// arena keeps rows of values by master ID.
type arena struct {
	blocks [][]byte
	rows   []arenaRow // in the order remembered; sorted by seal
	sealed bool
}

// arenaRow places one row: its master ID, and its block and offset.
type arenaRow struct {
	id    int64
	block int32
	off   int32
}

// put keeps vals for master ID id; a later put of the same ID wins.
func (a *arena) put(id int64, vals []any) {
	size := 0
	for _, v := range vals {
		size += 1 + binary.MaxVarintLen64
		switch x := v.(type) {
		case string:
			size += len(x)
		case []byte:
			size += len(x)
		}
	}
	if len(a.blocks) == 0 || cap(a.blocks[len(a.blocks)-1])-len(a.blocks[len(a.blocks)-1]) < size {
		a.blocks = append(a.blocks, make([]byte, 0, max(arenaBlock, size)))
	}
	bi := len(a.blocks) - 1
	b := a.blocks[bi]
	a.rows = append(a.rows, arenaRow{id: id, block: int32(bi), off: int32(len(b))})
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b = append(b, tagNull)
		case string:
			b = append(b, tagString)
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		case []byte:
			b = append(b, tagBytes)
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		case int64:
			b = append(b, tagInt)
			b = binary.AppendVarint(b, x)
		default:
			// plan.Row holds no other kind of value; keep it as its
			// text so that nothing is lost if one ever appears.
			s := fmt.Sprint(x)
			b = append(b, tagString)
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	a.blocks[bi] = b
	a.sealed = false
}

// len is the number of rows kept (a row put twice counts once once
// sealed).
func (a *arena) len() int { return len(a.rows) }

// seal sorts the rows by master ID and drops all but the last put of each.
func (a *arena) seal() {
	if a.sealed {
		return
	}
	// Stable: of rows with one ID, the last put stays last.
	slices.SortStableFunc(a.rows, func(x, y arenaRow) int {
		switch {
		case x.id < y.id:
			return -1
		case x.id > y.id:
			return 1
		}
		return 0
	})
	out := a.rows[:0]
	for i, r := range a.rows {
		if i+1 < len(a.rows) && a.rows[i+1].id == r.id {
			continue
		}
		out = append(out, r)
	}
	a.rows = out
	a.sealed = true
}

// ids lists the kept master IDs in ascending order (after seal).
func (a *arena) ids() []int64 {
	a.seal()
	ids := make([]int64, len(a.rows))
	for i, r := range a.rows {
		ids[i] = r.id
	}
	return ids
}

// get decodes the n values kept for id; ok is false when none are.
func (a *arena) get(id int64, n int) (vals []any, ok bool) {
	a.seal()
	i, found := slices.BinarySearchFunc(a.rows, id, func(r arenaRow, id int64) int {
		switch {
		case r.id < id:
			return -1
		case r.id > id:
			return 1
		}
		return 0
	})
	if !found {
		return nil, false
	}
	r := a.rows[i]
	b := a.blocks[r.block][r.off:]
	vals = make([]any, n)
	for k := range vals {
		tag := b[0]
		b = b[1:]
		switch tag {
		case tagNull:
		case tagString, tagBytes:
			l, w := binary.Uvarint(b)
			b = b[w:]
			if tag == tagString {
				vals[k] = string(b[:l])
			} else {
				vals[k] = append([]byte{}, b[:l]...)
			}
			b = b[l:]
		case tagInt:
			x, w := binary.Varint(b)
			b = b[w:]
			vals[k] = x
		}
	}
	return vals, true
}
