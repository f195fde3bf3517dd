package export

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"tributary/schema"
	"tributary/syncfile"
)

// progressEvery is how many rows pass between progress reports.
const progressEvery = 10000

// fileWriter streams the selected rows of each table into the sync file,
// one row at a time: memory does not grow with the tables.
type fileWriter struct {
	conn     *sql.Conn // the session's: every read sees its snapshot
	out      *pipe
	sel      *selection
	left     *leftOut
	progress func(Progress)
	buf      []byte
}

// table writes one table's upserts in key order, then a track table's live
// IDs, and returns what it wrote.
func (fw *fileWriter) table(ctx context.Context, t *schema.Table, index, total int) (TableResult, error) {
	res := TableResult{Name: t.Name, Role: t.Role, LeftOut: map[string]int64{}}
	tw := &tableWriter{fw: fw, t: t, c: newCodec(t), res: &res, index: index, total: total}
	if err := tw.rows(ctx); err != nil {
		return res, err
	}
	if t.Role == schema.RoleTrack {
		if err := tw.live(ctx); err != nil {
			return res, fmt.Errorf("live IDs: %w", err)
		}
	}
	for i, n := range tw.c.enc.InvalidUTF8() {
		if n > 0 {
			res.InvalidUTF8 = append(res.InvalidUTF8, InvalidText{Column: tw.c.names[i], Values: n})
		}
	}
	fw.report(Progress{Table: t.Name, Index: index, Tables: total, Rows: res.Rows, Done: true})
	return res, nil
}

func (fw *fileWriter) report(p Progress) {
	if fw.progress != nil {
		fw.progress(p)
	}
}

type tableWriter struct {
	fw           *fileWriter
	t            *schema.Table
	c            *codec
	res          *TableResult
	index, total int
	// held: the live-ID records of a whole track table, built from the
	// keys of the rows as they are written (they are its live IDs), so
	// live need not read them again; nil otherwise.
	held *heldLive
}

// rows writes the upserts: a whole table in one ordered scan, picked IDs in
// ordered batches, a composite-key owner table by its owners.
func (tw *tableWriter) rows(ctx context.Context) error {
	sel, t := tw.fw.sel, tw.t
	switch {
	case sel.whole[t]:
		if t.Role == schema.RoleTrack {
			tw.held = newHeldLive(t.Name, maxHeldLiveBytes)
		}
		return tw.stream(ctx, rowsWhole(t), nil)
	case t.Mapped:
		for _, batch := range batches(sel.ids[t].sorted()) {
			if err := tw.stream(ctx, rowsByID(t, batch), nil); err != nil {
				return err
			}
		}
		return nil
	}
	owners := sel.owners[t]
	names := make([]string, 0, len(owners))
	for name := range owners {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := tw.byOwner(ctx, name, owners[name]); err != nil {
			return err
		}
	}
	return nil
}

// byOwner writes the rows that the owners in set (rows of table owner) own.
func (tw *tableWriter) byOwner(ctx context.Context, owner string, set idSet) error {
	t := tw.t
	var keep func([]sql.RawBytes) bool
	if ref := t.Ref(t.Owner); ref.Polymorphic() {
		disc := columnIndex(t, ref.TableFrom)
		keep = func(vals []sql.RawBytes) bool { return string(vals[disc]) == owner }
	}
	for _, batch := range batches(set.sorted()) {
		if err := tw.stream(ctx, rowsByOwner(t, batch), keep); err != nil {
			return err
		}
	}
	return nil
}

func columnIndex(t *schema.Table, name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// stream encodes and writes every row the query returns that keep accepts
// and that is not left out.
func (tw *tableWriter) stream(ctx context.Context, query string, keep func([]sql.RawBytes) bool) error {
	fw := tw.fw
	checkLeft := fw.left.has(tw.t)
	return eachRow(ctx, fw.conn, query, func(vals []sql.RawBytes) error {
		if keep != nil && !keep(vals) {
			return nil
		}
		if checkLeft {
			if why := fw.left.reason(tw.t, tw.key(vals)); why != "" {
				tw.res.LeftOut[why]++
				return nil
			}
		}
		var err error
		if fw.buf, err = tw.c.appendUpsert(fw.buf[:0], vals); err != nil {
			return err
		}
		if tw.held != nil {
			kept, err := tw.held.add(vals[tw.c.keyIdx[0]])
			if err != nil {
				return err
			}
			if !kept {
				tw.held = nil // too many gaps to hold: live reads the keys again
			}
		}
		if err := fw.out.add(fw.buf); err != nil {
			return err
		}
		tw.res.Rows++
		if tw.res.Rows%progressEvery == 0 {
			fw.report(Progress{Table: tw.t.Name, Index: tw.index, Tables: tw.total, Rows: tw.res.Rows})
		}
		return nil
	})
}

// key is a row's key as leftOut records it (see keyExpr).
func (tw *tableWriter) key(vals []sql.RawBytes) string {
	if len(tw.c.keyIdx) == 1 {
		return string(vals[tw.c.keyIdx[0]])
	}
	parts := make([]string, len(tw.c.keyIdx))
	for i, k := range tw.c.keyIdx {
		parts[i] = string(vals[k])
	}
	return strings.Join(parts, ",")
}

// live writes the table's complete set of live IDs as ranges: the records
// held while the whole table was written (the same rows, in the same
// snapshot), otherwise read in one ordered scan of the key. Rows left out
// are not live for the master.
func (tw *tableWriter) live(ctx context.Context) error {
	if tw.held != nil {
		err := tw.writeHeld()
		if !errors.Is(err, errHeldFull) {
			return err
		}
		tw.held = nil // the last record did not fit: read the keys again
	}
	fw := tw.fw
	lr := syncfile.NewLiveRanges(tw.t.Name, syncfile.MaxRangesPerRecord, fw.out.add)
	checkLeft := fw.left.has(tw.t)
	err := eachRow(ctx, fw.conn, liveIDs(tw.t), func(vals []sql.RawBytes) error {
		v := vals[0]
		if checkLeft && fw.left.reason(tw.t, string(v)) != "" {
			return nil
		}
		id, err := parseID(v)
		if err != nil {
			return err
		}
		tw.res.LiveIDs++
		return lr.Add(id)
	})
	if err != nil {
		return err
	}
	if err := lr.Finish(); err != nil {
		return err
	}
	tw.res.LiveRecords = lr.Records()
	return nil
}

// writeHeld writes the held records; errHeldFull when the last one would
// pass the bound (nothing is written then).
func (tw *tableWriter) writeHeld() error {
	lines, err := tw.held.finish()
	if err != nil {
		return err
	}
	for _, line := range lines {
		if err := tw.fw.out.add(line); err != nil {
			return err
		}
	}
	tw.res.LiveIDs, tw.res.LiveRecords = tw.held.ids, tw.held.lr.Records()
	return nil
}

// maxHeldLiveBytes bounds the live-ID records held while a table streams:
// a table whose deletions left more gaps than that falls back to reading
// its keys again, so memory does not grow with the table.
const maxHeldLiveBytes = 16 << 20

// heldLive builds a table's live-ID records from the keys of the rows
// written, in key order, and keeps them until the table's upserts are
// done (a table's records come after its rows).
type heldLive struct {
	lr    *syncfile.LiveRanges
	lines [][]byte
	bytes int
	max   int
	ids   int64
}

// errHeldFull stops a heldLive that would pass its bound.
var errHeldFull = errors.New("too many live-ID ranges to hold")

func newHeldLive(table string, maxBytes int) *heldLive {
	h := &heldLive{max: maxBytes}
	h.lr = syncfile.NewLiveRanges(table, syncfile.MaxRangesPerRecord, func(line []byte) error {
		if h.bytes+len(line) > h.max {
			return errHeldFull
		}
		h.bytes += len(line)
		h.lines = append(h.lines, bytes.Clone(line))
		return nil
	})
	return h
}

// add takes the key of the next row written. It reports false, and the
// held records are dropped, when they would pass the bound.
func (h *heldLive) add(key []byte) (bool, error) {
	id, err := parseID(key)
	if err != nil {
		return false, err
	}
	if err := h.lr.Add(id); err != nil {
		if errors.Is(err, errHeldFull) {
			h.lines = nil
			return false, nil
		}
		return false, err
	}
	h.ids++
	return true, nil
}

// finish completes the last record and returns them all.
func (h *heldLive) finish() ([][]byte, error) {
	if err := h.lr.Finish(); err != nil {
		return nil, err
	}
	return h.lines, nil
}
