package repair

import (
	"context"
	"fmt"
	"slices"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/schema"
)

// Values holds, per table, the file's values of the columns master
// triggers assign, by master ID: what the first pass wrote, kept until the
// file's writes are done and Restore gives them back. It is the first
// pass's hand-off to the repair pass.
type Values struct {
	facts  *Facts
	tables map[string]*tableValues
}

// tableValues are one table's values to give back.
type tableValues struct {
	idx   []int    // the columns' indexes in the table's plan
	names []string // their names
	rows  arena    // the values of those columns, by master ID
}

// NewValues starts gathering the values of the columns f's triggers assign.
func NewValues(f *Facts) *Values {
	return &Values{facts: f, tables: map[string]*tableValues{}}
}

// of returns the table's values, or nil when no trigger of the master
// assigns its columns (only plain columns of mapped tables qualify).
func (v *Values) of(tp *plan.Table) *tableValues {
	if tv, ok := v.tables[tp.Table.Name]; ok {
		return tv
	}
	var tv *tableValues
	if tp.Table.Mapped && v.facts != nil {
		for _, col := range v.facts.repair[tp.Table.Name] {
			if i, ok := tp.Index[col]; ok && tp.Cols[i].Kind == plan.RefNone {
				if tv == nil {
					tv = &tableValues{}
				}
				tv.idx = append(tv.idx, i)
				tv.names = append(tv.names, col)
			}
		}
	}
	v.tables[tp.Table.Name] = tv
	return tv
}

// Remember keeps the written rows' values of the repaired columns; the
// rows' master IDs must be known.
func (v *Values) Remember(tp *plan.Table, rows []*plan.Row) {
	tv := v.of(tp)
	if tv == nil {
		return
	}
	vals := make([]any, len(tv.idx))
	for _, r := range rows {
		for i, k := range tv.idx {
			vals[i] = r.Vals[k]
		}
		tv.rows.put(r.Master, vals)
	}
}

// repairsPerStatement bounds the rows one repair statement sets.
const repairsPerStatement = 200

// Restore gives the file's rows back the values that master triggers
// overwrote while the file was applied. It reads the master's current
// values of those rows (one statement per chunk of IDs) and writes back
// only the rows, and in each only the columns, that differ from the file
// (plan.Same): a file that changed nothing fired no trigger and gets no
// repair. Rows that need the same columns are written a few hundred per
// statement. Tables go in reverse apply order: a repair is an UPDATE,
// which fires the table's own triggers, and those touch the rows a table
// points at (a phone's repair moves its contact's modified_date), so what
// they point at is read and repaired after them.
func Restore(ctx context.Context, tx *masterdb.Tx, s *schema.Schema, v *Values) error {
	for _, t := range slices.Backward(s.Tables) {
		tv := v.tables[t.Name]
		if tv == nil || tv.rows.len() == 0 {
			continue
		}
		if err := v.restoreTable(ctx, tx, t, tv); err != nil {
			return fmt.Errorf("table %s: restore columns that master triggers changed: %w", t.Name, err)
		}
	}
	return nil
}

// repairGroup is the rows of one table that need the same columns back.
type repairGroup struct {
	cols []int // indexes into the table's repaired columns
	ids  []any
	vals [][]any
}

func (v *Values) restoreTable(ctx context.Context, tx *masterdb.Tx, t *schema.Table, tv *tableValues) error {
	ids := tv.rows.ids()
	for start := 0; start < len(ids); start += restoreChunkRows {
		if err := v.restoreChunk(ctx, tx, t, tv, ids[start:min(start+restoreChunkRows, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}

// restoreChunkRows is how many rows are read, compared and written back
// at a time: what a table's repair holds in memory stays bounded by it, not by
// the file (a full file of 470,000 contacts, all stamped by the trigger,
// held every one of them before being written).
var restoreChunkRows = 5000

// restoreChunk repairs the rows with the given master IDs: reads their
// current values, then writes back, per set of differing columns, those
// that differ.
func (v *Values) restoreChunk(ctx context.Context, tx *masterdb.Tx, t *schema.Table, tv *tableValues, ids []int64) error {
	groups := map[string]*repairGroup{}
	err := tx.CurrentRows(ctx, t.Name, t.Key[0], tv.names, ids, func(id int64, cur []any) error {
		want, ok := tv.rows.get(id, len(tv.names))
		if !ok {
			return nil
		}
		cols := Differing(want, cur)
		if len(cols) == 0 {
			return nil
		}
		sig := fmt.Sprint(cols)
		g := groups[sig]
		if g == nil {
			g = &repairGroup{cols: cols}
			groups[sig] = g
		}
		vals := make([]any, len(cols))
		for i, c := range cols {
			vals[i] = want[c]
		}
		g.ids, g.vals = append(g.ids, id), append(g.vals, vals)
		return nil
	})
	if err != nil {
		return err
	}
	sigs := make([]string, 0, len(groups))
	for sig := range groups {
		sigs = append(sigs, sig)
	}
	slices.Sort(sigs)
	for _, sig := range sigs {
		g := groups[sig]
		names := make([]string, len(g.cols))
		for i, c := range g.cols {
			names[i] = tv.names[c]
		}
		for start := 0; start < len(g.ids); start += repairsPerStatement {
			end := min(start+repairsPerStatement, len(g.ids))
			q, args, err := masterdb.UpdateCase(t.Name, t.Key[0], names, g.ids[start:end], g.vals[start:end], v.facts.AutoUpdate(t.Name))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, q, args); err != nil {
				return err
			}
		}
	}
	return nil
}

// Differing lists the indexes of the values of want (the file's) that
// differ from the master's current values cur (plan.Same).
func Differing(want, cur []any) []int {
	var cols []int
	for i := range want {
		if i >= len(cur) || !plan.Same(want[i], cur[i]) {
			cols = append(cols, i)
		}
	}
	return cols
}
