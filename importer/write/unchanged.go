package write

import (
	"context"
	"fmt"

	"tributary/importer/plan"
	"tributary/schema"
)

// A row the master already holds exactly as the file has it is not
// written: a periodic full export of a child where little changed then
// costs reads, not writes (and fires no master trigger). The master's rows
// of a batch are read in one statement per chunk of keys, the read that
// tells which rows exist, and compared value by value with plan.Same,
// which calls "different" whenever in doubt.

// current returns the master's values of the batch's columns, in the
// plan's column order, for the master IDs that exist in the table.
func (w *tableWriter) current(ctx context.Context, ids []int64) (map[int64][]any, error) {
	found := make(map[int64][]any, len(ids))
	t := w.tp.Table
	err := w.r.Tx.CurrentRows(ctx, t.Name, t.Key[0], w.tp.ColumnNames(), ids, func(id int64, vals []any) error {
		found[id] = vals
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("table %s: read the master's rows: %w", t.Name, err)
	}
	return found, nil
}

// sameAsStored reports whether the master's row (vals, from current)
// holds what writing row would leave there. A value under a rename policy
// is stored in its renamed form ("1234 (nyc)"), which the rename step
// keeps for a row whose child value did not change; compared with the
// file's bare value it would make every such row look changed, and cost
// an UPDATE (and its triggers) on every full file.
func (w *tableWriter) sameAsStored(row *plan.Row, vals []any) bool {
	if plan.SameRow(row.Vals, vals) {
		return true
	}
	pols := w.tp.Table.PolicyKeys(schema.PolicyRename)
	if len(pols) == 0 || len(vals) != len(row.Vals) {
		return false
	}
	stored := make([]any, len(row.Vals))
	copy(stored, row.Vals)
	prefix := w.r.Plan.Header.Prefix
	for _, p := range pols {
		idx, ok := w.tp.Index[p.Column]
		if !ok {
			continue
		}
		value, isText := row.Vals[idx].(string)
		form, isBytes := vals[idx].([]byte)
		if isText && isBytes && schema.IsRenamed(string(form), value, prefix, w.maxChars(p.Column)) {
			stored[idx] = string(form)
		}
	}
	return plan.SameRow(stored, vals)
}

// currentKeyed returns, by encoded master key, the master's values of a
// composite-key table's columns outside the key (in the plan's order) for
// the keys the table holds.
func (w *tableWriter) currentKeyed(ctx context.Context, keys [][]any) (map[string][]any, error) {
	found := make(map[string][]any, len(keys))
	t := w.tp.Table
	err := w.r.Tx.CurrentKeyed(ctx, t.Name, t.Key, w.valueColumns(), keys, func(key, vals []any) error {
		found[plan.EncodeKey(key)] = vals
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("table %s: read the master's rows: %w", t.Name, err)
	}
	return found, nil
}

// valueColumns lists a composite-key table's columns outside its key, in
// the plan's order; valueIndexes their indexes in the plan.
func (w *tableWriter) valueColumns() []string {
	var cols []string
	for _, i := range w.valueIndexes() {
		cols = append(cols, w.tp.Cols[i].Name)
	}
	return cols
}

func (w *tableWriter) valueIndexes() []int {
	var idx []int
	for i := range w.tp.Cols {
		if !isKey(w.tp, i) {
			idx = append(idx, i)
		}
	}
	return idx
}

func isKey(tp *plan.Table, i int) bool {
	for _, k := range tp.KeyIdx {
		if k == i {
			return true
		}
	}
	return false
}

// valuesAt picks row's values at idx.
func valuesAt(row *plan.Row, idx []int) []any {
	vals := make([]any, len(idx))
	for j, i := range idx {
		vals[j] = row.Vals[i]
	}
	return vals
}
