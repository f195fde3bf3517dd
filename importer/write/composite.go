package write

import (
	"context"
	"fmt"
	"slices"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
)

// flushComposite applies a batch of a table whose key is made of
// references: the key is rewritten to master IDs, rows with that key are
// updated, the others inserted. Nothing is mapped for such rows.
func (w *tableWriter) flushComposite(ctx context.Context) error {
	pend, err := w.resolve(ctx)
	if err != nil {
		return err
	}
	keys := make([][]any, len(w.rows))
	for i, row := range w.rows {
		keys[i] = w.tp.KeyValues(row)
		row.Key = plan.EncodeKey(keys[i])
	}
	cur, err := w.currentKeyed(ctx, keys)
	if err != nil {
		return err
	}
	pointing := pendingLines(pend)
	idx := w.valueIndexes()
	var inserts, updates []*plan.Row
	for _, row := range w.rows {
		vals, exists := cur[row.Key]
		switch {
		case !exists:
			inserts = append(inserts, row)
		case pointing[row.Line] || !plan.SameRow(valuesAt(row, idx), vals):
			updates = append(updates, row)
		}
	}
	if err := w.updateComposite(ctx, updates, pointing); err != nil {
		return err
	}
	if err := w.insertComposite(ctx, inserts); err != nil {
		return err
	}
	name := w.tp.Table.Name
	sent := w.r.out.Carried.SentKeys[name]
	if sent == nil {
		sent = map[string]bool{}
		w.r.out.Carried.SentKeys[name] = sent
	}
	for _, row := range w.rows {
		sent[row.Key] = true
	}
	w.pendingFor(pend)
	return nil
}

// updateComposite updates rows whose key the master holds and counts the
// rows the server changed, as update does for mapped tables.
func (w *tableWriter) updateComposite(ctx context.Context, rows []*plan.Row, pointing map[int64]bool) error {
	var cols []string
	var idx []int
	for i, c := range w.tp.Cols {
		if !slices.Contains(w.tp.KeyIdx, i) {
			cols = append(cols, c.Name)
			idx = append(idx, i)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if len(cols) == 0 {
		return nil // the key is the whole row: a row found is a row unchanged
	}
	t := w.tp.Table
	var changed int64
	for _, row := range rows {
		vals := make([]any, 0, len(idx))
		for _, i := range idx {
			vals = append(vals, row.Vals[i])
		}
		q, args, err := masterdb.UpdateByKey(t.Name, cols, vals, t.Key, w.tp.KeyValues(row), nil)
		if err != nil {
			return err
		}
		n, err := w.r.Tx.Exec(ctx, q, args)
		if err != nil {
			return w.rowError(row, "update", err)
		}
		if err := w.r.Tx.CheckWarnings(ctx, t.Name); err != nil {
			return fmt.Errorf("line %d: %w", row.Line, err)
		}
		if pointing[row.Line] {
			n = 1
		}
		changed += n
	}
	w.r.out.Counts.Of(t.Name).Updated += changed
	return nil
}

func (w *tableWriter) insertComposite(ctx context.Context, rows []*plan.Row) error {
	if len(rows) == 0 {
		return nil
	}
	q, args, err := masterdb.Insert(w.tp.Table.Name, w.tp.ColumnNames(), valuesOf(rows), "")
	if err != nil {
		return err
	}
	if _, err := w.r.Tx.Exec(ctx, q, args); err != nil {
		return w.batchError("insert", err)
	}
	if err := w.r.Tx.CheckWarnings(ctx, w.tp.Table.Name); err != nil {
		return w.batchError("insert", err)
	}
	w.r.out.Counts.Of(w.tp.Table.Name).Inserted += int64(len(rows))
	return nil
}
