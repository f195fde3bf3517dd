// Package write is the import's write engine: the first pass applies a
// file's upserts in its order, batched per table, rewriting every
// reference to master IDs through the prefix's mapping (one look-up per
// referenced table per batch, one INSERT ... RETURNING, multi-row
// UPDATEs), and the second pass fills the references that could not be
// written when their row arrived. What the first pass learns (which rows
// the file carries, which existed, which references wait, which values
// master triggers may overwrite) it returns as its hand-off, Applied.
package write

import (
	"context"
	"errors"
	"io"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/importer/reject"
	"tributary/importer/repair"
	"tributary/mapping"
)

// Limits size the multi-row statements.
type Limits struct {
	Rows   int // rows per statement
	Bytes  int // bound bytes per statement, well under max_allowed_packet
	Params int // placeholders per statement (the protocol allows 65535)
}

// FirstPass applies a file's upserts. Its fields are what it writes
// through and what it needs to know; it keeps no state between runs.
type FirstPass struct {
	Tx     *masterdb.Tx
	Store  *mapping.Store
	IDs    *IDCache // the child-to-master IDs known so far; the second pass reads it
	Plan   *plan.Plan
	Facts  *repair.Facts
	Limits Limits
	// NoReturning: the server has no INSERT ... RETURNING (MySQL, TiDB,
	// MariaDB before 10.5), so new rows are inserted one per statement and
	// each master ID read from the statement's LAST_INSERT_ID: a multi-row
	// INSERT's IDs need not be consecutive (innodb_autoinc_lock_mode=2).
	NoReturning bool
	// Progress, when set, hears after each batch how many records were
	// read; Warn gets warnings about the file (no row values).
	Progress func(table string, records int64)
	Warn     func(format string, args ...any)
	// Defer: a new row of a full file refused for a unique value may wait
	// for the file's deletions (deferred.go); off when the deletions went
	// first already.
	Defer bool

	deferredRows int // set aside by the last Run (Deferred)
}

// Applied is what the first pass hands on.
type Applied struct {
	Carried Carried        // to the deletions
	Pending []Pending      // to the second pass
	Restore *repair.Values // to the repair pass
	Counts  plan.Counts    // rows inserted and updated, per table
	Records int64

	run *run // for InsertDeferred
}

// Carried is what a file carries, by master IDs, once its upserts are
// applied: what the deletions keep.
type Carried struct {
	// Sent: mapped tables: master IDs of the file's rows.
	Sent map[string]*plan.IDSet
	// Existed: mapped tables: master IDs of the file's rows that existed
	// before the file (the others were inserted by it and can own no older
	// rows).
	Existed map[string]*plan.IDSet
	// SentKeys: composite tables: encoded master keys of the file's rows.
	SentKeys map[string]map[string]bool
	// Live: track tables with a live record: the live child-ID ranges
	// (an empty, non-nil set means every row was deleted).
	Live map[string][][2]int64
}

// Carries reports whether the file carries the row with this master key.
func (c *Carried) Carries(t *plan.Table, key []any) bool {
	if !t.Table.Mapped {
		return c.SentKeys[t.Table.Name][plan.EncodeKey(key)]
	}
	id, err := plan.AsInt64(key[0])
	return err == nil && c.Sent[t.Table.Name].Has(id)
}

// Pending is a reference the second pass fills.
type Pending struct {
	Table  *plan.Table
	Col    int
	Master int64 // the row's master ID (mapped tables)
	Key    []any // the row's master key (composite tables)
	Target string
	Child  int64
	Line   int64
}

// run is one first pass under way.
type run struct {
	*FirstPass
	out      *Applied
	deferred []deferred // rows set aside, per table in file order
}

// Run applies the upserts in the file's order, batched per table, and
// gathers the live ranges. It returns only after the records' last read
// verified the trailer (count, checksum, signature).
func (fp *FirstPass) Run(ctx context.Context, records *plan.Records) (*Applied, error) {
	r := &run{FirstPass: fp, out: &Applied{
		Carried: Carried{Sent: map[string]*plan.IDSet{}, Existed: map[string]*plan.IDSet{}, SentKeys: map[string]map[string]bool{}, Live: map[string][][2]int64{}},
		Restore: repair.NewValues(fp.Facts),
		Counts:  plan.Counts{},
	}}
	r.out.run = r
	fp.deferredRows = 0
	var w *tableWriter
	lastOrder := -1 << 62
	for {
		items, err := records.Next(ctx)
		for i := range items {
			it := &items[i]
			r.out.Records++
			if it.Live {
				name := it.Table.Table.Name
				r.out.Carried.Live[name] = append(r.liveOf(name), it.Ranges...)
				continue
			}
			if it.Table.Order < lastOrder {
				return nil, reject.Errorf(reject.ErrBadRecord, "line %d: a row of %s after rows of a table the header orders later: records are not in apply order", it.Line, it.Table.Table.Name)
			}
			lastOrder = it.Table.Order
			if w == nil || w.tp != it.Table {
				if err := w.flush(ctx); err != nil {
					return nil, err
				}
				w = r.writer(it.Table)
			}
			if err := w.add(ctx, it.Row); err != nil {
				return nil, err
			}
		}
		if errors.Is(err, io.EOF) {
			if err := w.flush(ctx); err != nil {
				return nil, err
			}
			for _, s := range r.out.Carried.Sent {
				s.Seal()
			}
			for _, s := range r.out.Carried.Existed {
				s.Seal()
			}
			return r.out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// liveOf returns the table's ranges so far, never nil once a live record
// was seen (an empty set of ranges means every row was deleted).
func (r *run) liveOf(table string) [][2]int64 {
	if rs, ok := r.out.Carried.Live[table]; ok {
		return rs
	}
	return [][2]int64{}
}

func (r *run) progress(table string) {
	if r.Progress != nil {
		r.Progress(table, r.out.Records)
	}
}

func (r *run) warn(format string, args ...any) {
	if r.Warn != nil {
		r.Warn(format, args...)
	}
}
