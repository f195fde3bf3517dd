package write

import (
	"context"
	"fmt"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/mapping"
)

// flushMapped applies a batch of a table with a single integer key: rows
// the mapping knows and the master still holds are updated, the others
// inserted and mapped.
func (w *tableWriter) flushMapped(ctx context.Context) error {
	pend, err := w.resolve(ctx)
	if err != nil {
		return err
	}
	pointing := pendingLines(pend)
	w.pointing = pointing
	inserts, updates, unchanged, err := w.split(ctx, pointing)
	if err != nil {
		return err
	}
	if updates, err = w.keepShared(ctx, updates); err != nil {
		return err
	}
	if inserts, err = w.matchInserts(ctx, inserts); err != nil {
		return err
	}
	if err := w.rename(ctx, updates, true); err != nil {
		return err
	}
	if err := w.rename(ctx, inserts, false); err != nil {
		return err
	}
	if err := w.update(ctx, updates, pointing); err != nil {
		return err
	}
	name := w.tp.Table.Name
	existed := plan.SetOf(w.r.out.Carried.Existed, name)
	for _, row := range updates {
		existed.Add(row.Master)
	}
	for _, row := range unchanged {
		existed.Add(row.Master)
	}
	if err := w.insert(ctx, inserts); err != nil {
		return err
	}
	rows := w.unlessAside(w.rows) // set aside: not on the master yet
	written := rows[:0:0]
	for _, row := range rows {
		if row.Kept {
			existed.Add(row.Master) // a shared row: it was on the master before the file
		} else {
			written = append(written, row)
		}
	}
	w.r.out.Restore.Remember(w.tp, written)
	sent := plan.SetOf(w.r.out.Carried.Sent, name)
	for _, row := range rows {
		sent.Add(row.Master)
	}
	w.pendingFor(pend)
	return nil
}

// split sorts the batch into rows to insert, rows to update and rows the
// master holds exactly as the file has them, which are not written (see
// unchanged.go). A row whose mapping points at a master row that no longer
// exists is inserted again and remapped (row.Master stays the old ID until
// then, marking it). A row with a reference waiting for the second pass
// (pointing[line]) is always updated: its placeholder is not the file's
// value.
func (w *tableWriter) split(ctx context.Context, pointing map[int64]bool) (inserts, updates, unchanged []*plan.Row, err error) {
	var mapped []int64
	for _, row := range w.rows {
		if m, ok := w.r.IDs.Get(w.tp.Table.Name, row.ID); ok {
			row.Master = m
			mapped = append(mapped, m)
		}
	}
	cur, err := w.current(ctx, mapped)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, row := range w.rows {
		vals, exists := cur[row.Master]
		switch {
		case row.Master == 0:
			inserts = append(inserts, row)
		case exists && !pointing[row.Line] && w.sameAsStored(row, vals):
			unchanged = append(unchanged, row)
		case exists:
			updates = append(updates, row)
		default:
			w.r.warn("table %s: child ID %d was mapped to master ID %d, which no longer exists on the master; inserting it again", w.tp.Table.Name, row.ID, row.Master)
			inserts = append(inserts, row)
		}
	}
	return inserts, updates, unchanged, nil
}

// update writes rows that exist on the master and counts those the server
// changed: an unchanged row is not an update. A row with a reference
// waiting for the second pass (pointing[line]) is counted as changed
// whatever its first write did: that reference goes to a row this file
// inserts, which no master row can have pointed at before.
func (w *tableWriter) update(ctx context.Context, rows []*plan.Row, pointing map[int64]bool) error {
	if len(rows) == 0 {
		return nil
	}
	var plain, later []*plan.Row
	for _, row := range rows {
		if pointing[row.Line] {
			later = append(later, row)
		} else {
			plain = append(plain, row)
		}
	}
	changed, err := w.updateBulk(ctx, plain)
	if err != nil {
		return err
	}
	if _, err := w.updateBulk(ctx, later); err != nil {
		return err
	}
	w.r.out.Counts.Of(w.tp.Table.Name).Updated += changed + int64(len(later))
	return nil
}

// updateSizes are the row counts a multi-row UPDATE is prepared for; a
// shorter chunk is padded to the next size by repeating its last row (a
// repeated WHEN gives the same value, a repeated IN value changes nothing),
// so a table needs only a few prepared statements.
var updateSizes = []int{4, 16, 64}

// updateBulk updates rows that exist on the master (the caller checked,
// by master ID) a chunk per statement: UPDATE ... SET c = CASE id WHEN ?
// THEN ? ... END WHERE id IN (...). Being an UPDATE, it can never insert a
// row, and triggers fire per row exactly as for one UPDATE per row. When
// a chunk's statement fails (a unique key, a value the master refuses),
// the server has rolled back that statement alone; the chunk is then
// applied one row at a time, as before, so that the outcome and the error
// (naming the row's line) are the per-row ones. It returns how many rows
// the server changed (the driver reports changed rows, not matched ones).
func (w *tableWriter) updateBulk(ctx context.Context, rows []*plan.Row) (int64, error) {
	var changed int64
	limit := updateSizes[len(updateSizes)-1]
	if perRow := 2*len(w.tp.Cols) + 1; limit*perRow > w.r.Limits.Params {
		limit = max(1, w.r.Limits.Params/perRow)
	}
	for start := 0; start < len(rows); {
		n := min(limit, len(rows)-start)
		size := limit
		for _, s := range updateSizes {
			if s >= n && s < size {
				size = s
			}
		}
		chunk := rows[start : start+n]
		start += n
		var n64 int64
		var err error
		if size < 2 || n < 2 {
			n64, err = w.updateRows(ctx, chunk)
		} else if n64, err = w.updateChunk(ctx, chunk, size); err != nil {
			if !masterdb.StatementRefused(ctx, err) {
				return 0, w.batchError("update", err)
			}
			n64, err = w.updateRows(ctx, chunk)
		}
		if err != nil {
			return 0, err
		}
		changed += n64
	}
	return changed, nil
}

// updateChunk updates rows with one statement padded to size rows (the
// padding repeats the last row, which changes nothing more) and returns
// how many rows it changed.
func (w *tableWriter) updateChunk(ctx context.Context, rows []*plan.Row, size int) (int64, error) {
	t := w.tp.Table
	ids := make([]any, size)
	vals := make([][]any, size)
	for i := range size {
		row := rows[min(i, len(rows)-1)]
		ids[i], vals[i] = row.Master, row.Vals
	}
	q, args, err := masterdb.UpdateCase(t.Name, t.Key[0], w.tp.ColumnNames(), ids, vals, nil)
	if err != nil {
		return 0, fmt.Errorf("table %s: %w", t.Name, err)
	}
	changed, err := w.r.Tx.Exec(ctx, q, args)
	if err != nil {
		return 0, err
	}
	if err := w.r.Tx.CheckWarnings(ctx, t.Name); err != nil {
		return 0, w.batchError("update", err)
	}
	return changed, nil
}

// updateRows updates rows one statement each and returns how many it
// changed.
func (w *tableWriter) updateRows(ctx context.Context, rows []*plan.Row) (int64, error) {
	t := w.tp.Table
	cols := w.tp.ColumnNames()
	var changed int64
	for i := 0; i < len(rows); i++ {
		row := rows[i]
		q, args, err := masterdb.UpdateByKey(t.Name, cols, row.Vals, t.Key, []any{row.Master}, nil)
		if err != nil {
			return 0, fmt.Errorf("table %s: %w", t.Name, err)
		}
		n, err := w.r.Tx.Exec(ctx, q, args)
		if err != nil && masterdb.IsUniqueConflict(err) {
			var retry bool
			if retry, _, err = w.onDuplicate(ctx, row, "update", err); retry {
				i-- // again, with the next renamed form
				continue
			}
			return 0, err
		}
		if err != nil {
			return 0, w.rowError(row, "update", err)
		}
		if err := w.r.Tx.CheckWarnings(ctx, t.Name); err != nil {
			return 0, fmt.Errorf("line %d: %w", row.Line, err)
		}
		changed += n
	}
	return changed, nil
}

// insert adds rows with INSERT ... RETURNING: the server tells each row's
// new ID in row order, so nothing assumes consecutive IDs. When the master
// refuses the batch for a value another row holds in a unique key (two
// imports matching one new value, a renamed form taken), the rows go one
// at a time, each as its key's policy says (onDuplicate). It then records
// the mappings (or fixes them for re-inserted rows).
func (w *tableWriter) insert(ctx context.Context, rows []*plan.Row) error {
	if len(rows) == 0 {
		return nil
	}
	t := w.tp.Table
	var ids []int64
	var err error
	if w.r.NoReturning {
		ids, err = w.insertEach(ctx, rows)
	} else if ids, err = w.insertRows(ctx, rows); err != nil && masterdb.IsUniqueConflict(err) && masterdb.StatementRefused(ctx, err) {
		ids, err = w.insertEach(ctx, rows)
	}
	if err != nil {
		return err
	}
	if len(ids) != len(rows) {
		return fmt.Errorf("table %s: insert returned %d IDs for %d rows", t.Name, len(ids), len(rows))
	}
	if err := w.r.Tx.CheckWarnings(ctx, t.Name); err != nil {
		return w.batchError("insert", err)
	}
	return w.recordInserted(ctx, rows, ids)
}

// insertRows inserts rows with one INSERT ... RETURNING and returns their
// master IDs in row order.
func (w *tableWriter) insertRows(ctx context.Context, rows []*plan.Row) ([]int64, error) {
	t := w.tp.Table
	ids := make([]int64, 0, len(rows))
	q, args, err := masterdb.Insert(t.Name, w.tp.ColumnNames(), valuesOf(rows), t.Key[0])
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.Name, err)
	}
	err = w.r.Tx.Query(ctx, q, args, func(scan func(...any) error) error {
		var id int64
		if err := scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, w.batchError("insert", err)
	}
	return ids, nil
}

// insertEach inserts rows one statement each, reading each master ID from
// the statement's LAST_INSERT_ID. A row refused for a duplicate value
// goes as its key's policy says; a row matched to another master row
// instead gets that row's ID and is marked Kept.
func (w *tableWriter) insertEach(ctx context.Context, rows []*plan.Row) ([]int64, error) {
	t := w.tp.Table
	ids := make([]int64, 0, len(rows))
	for _, row := range rows {
		for {
			q, args, err := masterdb.Insert(t.Name, w.tp.ColumnNames(), [][]any{row.Vals}, "")
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", t.Name, err)
			}
			id, err := w.r.Tx.InsertID(ctx, q, args)
			if err == nil {
				ids = append(ids, id)
				break
			}
			if !masterdb.IsUniqueConflict(err) || !masterdb.StatementRefused(ctx, err) {
				return nil, w.rowError(row, "insert", err)
			}
			if w.deferrable(row, err) {
				w.setAside(row)
				ids = append(ids, 0) // not recorded: see recordInserted
				break
			}
			retry, holder, err := w.onDuplicate(ctx, row, "insert", err)
			if err != nil {
				return nil, err
			}
			if retry {
				continue
			}
			if err := w.matchTo(ctx, row, holder); err != nil {
				return nil, err
			}
			ids = append(ids, holder)
			break
		}
	}
	return ids, nil
}

func (w *tableWriter) recordInserted(ctx context.Context, rows []*plan.Row, ids []int64) error {
	t := w.tp.Table.Name
	pairs := make([]mapping.Pair, 0, len(rows))
	var inserted int64
	for i, row := range rows {
		if row.Kept || w.aside[row] {
			continue // matched instead (mapped by matchTo), or set aside
		}
		inserted++
		if row.Master != 0 {
			if err := w.r.Store.Remap(ctx, t, row.ID, ids[i]); err != nil {
				return err
			}
		} else {
			pairs = append(pairs, mapping.Pair{Child: row.ID, Master: ids[i]})
		}
		row.Master = ids[i]
		w.r.IDs.Put(t, row.ID, ids[i])
	}
	if err := w.r.Store.Insert(ctx, t, pairs); err != nil {
		return err
	}
	w.r.out.Counts.Of(t).Inserted += inserted
	return nil
}
