package write

import (
	"context"
	"fmt"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/importer/reject"
)

// tableWriter gathers one table's consecutive upserts into batches and
// applies each batch with a few multi-row statements: one mapping look-up
// per referenced table, one existence check, one INSERT ... RETURNING,
// one mapping insert, and UPDATEs of the rows that exist.
type tableWriter struct {
	r     *run
	tp    *plan.Table
	rows  []*plan.Row
	inBat map[string]bool // child keys in the batch: a repeat flushes first
	bytes int
	max   int // rows per batch for this table
	// renames: the batch's renamed values (a rename policy), per row and
	// column, so that a form found taken makes way for the next.
	renames map[*plan.Row]map[int]renameTry
	// pointing: the batch's rows (by line) with a reference waiting for
	// the second pass; aside: its rows set aside until the deletions
	// (deferred.go).
	pointing map[int64]bool
	aside    map[*plan.Row]bool
}

func (r *run) writer(tp *plan.Table) *tableWriter {
	maxRows := r.Limits.Rows
	if cols := len(tp.Cols) + 1; maxRows*cols > r.Limits.Params {
		maxRows = max(1, r.Limits.Params/cols)
	}
	return &tableWriter{r: r, tp: tp, inBat: map[string]bool{}, max: maxRows}
}

func (w *tableWriter) add(ctx context.Context, row *plan.Row) error {
	ck := w.tp.ChildKey(row)
	if w.inBat[ck] || w.bytes+row.Size > w.r.Limits.Bytes {
		// The same row twice in one batch would be inserted twice: apply
		// the first before looking the second up.
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	w.rows = append(w.rows, row)
	w.inBat[ck] = true
	w.bytes += row.Size
	if len(w.rows) >= w.max {
		return w.flush(ctx)
	}
	return nil
}

// flush applies the gathered rows; it is a no-op on a nil or empty writer.
func (w *tableWriter) flush(ctx context.Context) error {
	if w == nil || len(w.rows) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The table keeps its line in the summary even when no row changed.
	w.r.out.Counts.Of(w.tp.Table.Name)
	var err error
	if w.tp.Table.Mapped {
		err = w.flushMapped(ctx)
	} else {
		err = w.flushComposite(ctx)
	}
	if err != nil {
		return err
	}
	w.rows = w.rows[:0]
	clear(w.inBat)
	clear(w.renames)
	clear(w.aside)
	w.bytes = 0
	w.r.progress(w.tp.Table.Name)
	return nil
}

// lookups lists the child IDs this batch needs resolved, per table.
func (w *tableWriter) lookups() (map[string][]int64, error) {
	need := map[string][]int64{}
	t := w.tp.Table
	if t.Mapped {
		for _, row := range w.rows {
			need[t.Name] = append(need[t.Name], row.ID)
		}
	}
	for _, row := range w.rows {
		for i := range w.tp.Cols {
			target, child, ok, err := w.r.Plan.RefTarget(w.tp, row, i)
			if err != nil {
				return nil, err
			}
			if ok && target != "" {
				need[target] = append(need[target], child)
			}
		}
	}
	return need, nil
}

// resolve looks up the batch's child IDs and rewrites each reference's
// child ID to its master ID. A first-pass reference without a mapping
// rejects the file; a deferred or forward one gets a placeholder (NULL, or
// 0 for a NOT NULL polymorphic column, which has no foreign key) and is
// returned for the second pass.
func (w *tableWriter) resolve(ctx context.Context) ([]Pending, error) {
	need, err := w.lookups()
	if err != nil {
		return nil, err
	}
	if err := w.r.IDs.Resolve(ctx, need); err != nil {
		return nil, fmt.Errorf("table %s: %w", w.tp.Table.Name, err)
	}
	var pend []Pending
	for _, row := range w.rows {
		for i := range w.tp.Cols {
			target, child, ok, err := w.r.Plan.RefTarget(w.tp, row, i)
			if err != nil || !ok || target == "" {
				if err != nil {
					return nil, err
				}
				continue
			}
			c := &w.tp.Cols[i]
			m, found := w.r.IDs.Get(target, child)
			firstPass := c.Kind == plan.RefPlain || (c.Kind == plan.RefPoly && w.r.Plan.PolyFirstPass(w.tp, target))
			switch {
			case found:
				row.Vals[i] = m
			case firstPass:
				return nil, unresolved(w.tp, c, row.Line, target, child)
			default:
				row.Vals[i] = placeholder(c)
				pend = append(pend, Pending{Table: w.tp, Col: i, Target: target, Child: child, Line: row.Line})
			}
		}
	}
	return pend, nil
}

func placeholder(c *plan.Column) any {
	if c.Nullable {
		return nil
	}
	return int64(0)
}

func unresolved(tp *plan.Table, c *plan.Column, line int64, target string, child int64) error {
	return reject.Errorf(reject.ErrUnresolved, "line %d: %s.%s references %s child ID %d, which is neither in this file nor mapped on the master (the file is not closed under references, or the master lost that row: run `tributary export --full` on the child)",
		line, tp.Table.Name, c.Name, target, child)
}

// pendingFor ties the batch's waiting references to their rows' master IDs
// (or keys) and hands them on to the second pass.
func (w *tableWriter) pendingFor(pend []Pending) {
	if len(pend) == 0 {
		return
	}
	byLine := make(map[int64]*plan.Row, len(w.rows))
	for _, row := range w.rows {
		byLine[row.Line] = row
	}
	for _, p := range pend {
		row := byLine[p.Line]
		if row.Kept {
			continue // a shared row only its creator writes
		}
		p.Master = row.Master
		if !w.tp.Table.Mapped {
			p.Key = w.tp.KeyValues(row)
		}
		w.r.out.Pending = append(w.r.out.Pending, p)
	}
}

// pendingLines lists the lines of the rows with a reference waiting for
// the second pass.
func pendingLines(pend []Pending) map[int64]bool {
	lines := make(map[int64]bool, len(pend))
	for _, p := range pend {
		lines[p.Line] = true
	}
	return lines
}

// rowError names the row by its child ID and line, never by its values.
func (w *tableWriter) rowError(row *plan.Row, op string, err error) error {
	if w.tp.Table.Mapped {
		return fmt.Errorf("line %d: %s %s child ID %d: %w", row.Line, op, w.tp.Table.Name, row.ID, masterdb.SQLError(err))
	}
	return fmt.Errorf("line %d: %s %s: %w", row.Line, op, w.tp.Table.Name, masterdb.SQLError(err))
}

func (w *tableWriter) batchError(op string, err error) error {
	first, last := w.rows[0].Line, w.rows[len(w.rows)-1].Line
	return fmt.Errorf("lines %d-%d: %s into %s: %w", first, last, op, w.tp.Table.Name, masterdb.SQLError(err))
}

// valuesOf lists the rows' values, as the statement builders take them.
func valuesOf(rows []*plan.Row) [][]any {
	vals := make([][]any, len(rows))
	for i, row := range rows {
		vals[i] = row.Vals
	}
	return vals
}
