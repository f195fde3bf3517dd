package export

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"tributary/schema"
)

// progressEvery is how many rows pass between progress reports.
const progressEvery = 10000

// fileWriter streams the selected rows of each table into the sync file,
// one row at a time: memory does not grow with the tables.
type fileWriter struct {
	ctx      context.Context
	conn     *sql.Conn // the session's: every read sees its snapshot
	out      *pipe
	sel      *selection
	left     *leftOut
	progress func(Progress)
	buf      []byte
}

// table writes one table's upserts in key order, then a track table's live
// IDs, and returns what it wrote.
func (fw *fileWriter) table(t *schema.Table, index, total int) (TableResult, error) {
	res := TableResult{Name: t.Name, Role: t.Role, LeftOut: map[string]int64{}}
	tw := &tableWriter{fw: fw, t: t, c: newCodec(t), res: &res, index: index, total: total}
	if err := tw.rows(); err != nil {
		return res, err
	}
	if t.Role == schema.RoleTrack {
		if err := tw.live(); err != nil {
			return res, fmt.Errorf("live IDs: %w", err)
		}
	}
	for i, n := range tw.c.invalid {
		if n > 0 {
			res.InvalidUTF8 = append(res.InvalidUTF8, InvalidText{Column: tw.c.cols[i].name, Values: n})
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
	// written: the keys of the rows written, when a whole track table is
	// streamed; they are its live IDs, so live need not read them again.
	written *idRuns
}

// rows writes the upserts: a whole table in one ordered scan, picked IDs in
// ordered batches, a composite-key owner table by its owners.
func (tw *tableWriter) rows() error {
	sel, t := tw.fw.sel, tw.t
	switch {
	case sel.whole[t]:
		if t.Role == schema.RoleTrack {
			tw.written = &idRuns{}
		}
		return tw.stream(rowsWhole(t), nil)
	case t.Mapped:
		for _, batch := range batches(sel.ids[t].sorted()) {
			if err := tw.stream(rowsByID(t, batch), nil); err != nil {
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
		if err := tw.byOwner(name, owners[name]); err != nil {
			return err
		}
	}
	return nil
}

// byOwner writes the rows that the owners in set (rows of table owner) own.
func (tw *tableWriter) byOwner(owner string, set idSet) error {
	t := tw.t
	var keep func([]sql.RawBytes) bool
	if ref := t.Ref(t.Owner); ref.Polymorphic() {
		disc := columnIndex(t, ref.TableFrom)
		keep = func(vals []sql.RawBytes) bool { return string(vals[disc]) == owner }
	}
	for _, batch := range batches(set.sorted()) {
		if err := tw.stream(rowsByOwner(t, batch), keep); err != nil {
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
func (tw *tableWriter) stream(query string, keep func([]sql.RawBytes) bool) error {
	fw := tw.fw
	checkLeft := fw.left.has(tw.t)
	return eachRow(fw.ctx, fw.conn, query, func(vals []sql.RawBytes) error {
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
		if tw.written != nil {
			kept, err := tw.written.add(vals[tw.c.keyIdx[0]])
			if err != nil {
				return err
			}
			if !kept {
				tw.written = nil // too many gaps to hold: live reads the keys again
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

// live writes the table's complete set of live IDs as ranges: the keys of
// the rows just written when the whole table was (the same rows, in the
// same snapshot), otherwise read in one ordered scan of the key. Rows left
// out are not live for the master.
func (tw *tableWriter) live() error {
	fw := tw.fw
	lr := newLiveRanges(tw.t.Name, maxRangesPerRecord, fw.out.add)
	add := func(id int64) error {
		tw.res.LiveIDs++
		return lr.add(id)
	}
	var err error
	if tw.written != nil {
		err = tw.written.each(add)
	} else {
		checkLeft := fw.left.has(tw.t)
		err = eachRow(fw.ctx, fw.conn, liveIDs(tw.t), func(vals []sql.RawBytes) error {
			v := vals[0]
			if checkLeft && fw.left.reason(tw.t, string(v)) != "" {
				return nil
			}
			id, err := parseID(v)
			if err != nil {
				return err
			}
			return add(id)
		})
	}
	if err != nil {
		return err
	}
	if err := lr.finish(); err != nil {
		return err
	}
	tw.res.LiveRecords = lr.records
	return nil
}

// idRuns keeps ascending IDs as runs of consecutive ones: a table's live
// IDs in a few KB however many rows it has, unless deletions left more
// than maxIDRuns gaps (16 MB of runs).
type idRuns struct{ runs [][2]int64 }

const maxIDRuns = 1 << 20

// add takes the key of the next row written, in key order. It reports
// false, and keeps nothing more, when the runs would pass maxIDRuns.
func (r *idRuns) add(key []byte) (bool, error) {
	id, err := parseID(key)
	if err != nil {
		return false, err
	}
	if n := len(r.runs); n > 0 && r.runs[n-1][1]+1 == id {
		r.runs[n-1][1] = id
		return true, nil
	}
	if len(r.runs) == maxIDRuns {
		r.runs = nil
		return false, nil
	}
	r.runs = append(r.runs, [2]int64{id, id})
	return true, nil
}

// each calls fn with every ID, ascending.
func (r *idRuns) each(fn func(int64) error) error {
	for _, run := range r.runs {
		for id := run[0]; ; id++ {
			if err := fn(id); err != nil {
				return err
			}
			if id == run[1] { // not id <= run[1]: the last may be MaxInt64
				break
			}
		}
	}
	return nil
}
