package write

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/importer/reject"
	"tributary/mapping"
	"tributary/schema"
)

// The unique: policies of DESIGN.md section 3 ("Values unique on the
// master"), applied to a batch of a mapped table before it is written:
//   - match: a row to insert whose value the master already holds is
//     mapped to the master row that holds it, and not inserted; a row
//     mapped to a shared row that another prefix (or the master) created
//     is not written either (Row.Kept). tributary_holders records who
//     created each shared row (mapping.HoldersTable).
//   - rename: the value is stored as "<value> (<prefix>)", or "(<prefix> 2)"
//     and on when that is taken, cut to fit the column; a row the master
//     holds keeps the form it has.
// A value the master refuses as a duplicate in a key without a policy
// rejects the file, naming the policy that would accept it.

// duplicateError rejects a file for a value the master holds already. It
// stays a duplicate-key error underneath (masterdb.IsUniqueConflict), so
// that a file whose collision a deletion of its own would clear is tried
// again with its deletions first.
type duplicateError struct {
	msg string
	err error
}

func (e *duplicateError) Error() string   { return e.msg }
func (e *duplicateError) Unwrap() []error { return []error{reject.ErrData, e.err} }

func duplicate(err error, format string, args ...any) error {
	return &duplicateError{msg: reject.ErrData.Error() + ": " + fmt.Sprintf(format, args...), err: masterdb.SQLError(err)}
}

// renameTry is where a rename of one value stands.
type renameTry struct {
	value string // the child's value
	n     int    // the form written (schema.Renamed)
}

// keepShared marks the rows of updates that are shared master rows
// another prefix (or the master) created: they stay mapped, but only
// their creator writes them. It returns the rows still to update.
func (w *tableWriter) keepShared(ctx context.Context, updates []*plan.Row) ([]*plan.Row, error) {
	t := w.tp.Table
	if len(t.PolicyKeys(schema.PolicyMatch)) == 0 || len(updates) == 0 {
		return updates, nil
	}
	ids := make([]int64, len(updates))
	for i, row := range updates {
		ids[i] = row.Master
	}
	creators, err := mapping.Creators(ctx, w.r.Tx.SQL(), t.Name, ids)
	if err != nil {
		return nil, err
	}
	prefix := w.r.Plan.Header.Prefix
	out := updates[:0:0]
	for _, row := range updates {
		if creator, shared := creators[row.Master]; shared && creator != prefix {
			row.Kept = true
			continue
		}
		out = append(out, row)
	}
	return out, nil
}

// matchInserts maps each row to insert whose value of a match key the
// master already holds to the row that holds it, and returns the rows
// still to insert.
func (w *tableWriter) matchInserts(ctx context.Context, inserts []*plan.Row) ([]*plan.Row, error) {
	keys := w.tp.Table.PolicyKeys(schema.PolicyMatch)
	if len(keys) == 0 {
		return inserts, nil
	}
	out := inserts[:0:0]
	for _, row := range inserts {
		id, found, err := w.holder(ctx, row, keys)
		if err != nil {
			return nil, err
		}
		if !found {
			out = append(out, row)
			continue
		}
		if err := w.matchTo(ctx, row, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// holder finds the master row that holds row's value in one of keys, and
// locks it (or the gap where it would go) until the transaction ends. A
// key with a NULL in the row holds nothing.
func (w *tableWriter) holder(ctx context.Context, row *plan.Row, keys []schema.UniquePolicy) (int64, bool, error) {
	t := w.tp.Table
	for _, k := range keys {
		vals := make([]any, len(k.Key.Columns))
		complete := true
		for i, col := range k.Key.Columns {
			idx, ok := w.tp.Index[col]
			if !ok || row.Vals[idx] == nil {
				complete = false
				break
			}
			vals[i] = row.Vals[idx]
		}
		if !complete {
			continue
		}
		q, args, err := masterdb.SelectHolder(t.Name, t.Key[0], k.Key.Columns, vals)
		if err != nil {
			return 0, false, fmt.Errorf("table %s: %w", t.Name, err)
		}
		var id int64
		found := false
		err = w.r.Tx.Query(ctx, q, args, func(scan func(...any) error) error {
			found = true
			return scan(&id)
		})
		if err != nil {
			return 0, false, fmt.Errorf("line %d: %s child ID %d: look up the row holding its value of key %s: %w", row.Line, t.Name, row.ID, k.Key.Name, err)
		}
		if found {
			return id, true, nil
		}
	}
	return 0, false, nil
}

// matchTo maps row to master row id, which holds its unique value, and
// records the row as shared (its creator: the prefix that maps it
// already, or "" for the master's own row).
func (w *tableWriter) matchTo(ctx context.Context, row *plan.Row, id int64) error {
	t := w.tp.Table.Name
	q := w.r.Tx.SQL()
	prefix := w.r.Plan.Header.Prefix
	own, err := w.r.Store.LookupMaster(ctx, t, []int64{id})
	if err != nil {
		return err
	}
	if other, ok := own[id]; ok {
		return duplicate(masterdb.UniqueConflict(w.tp.Table.Name), "line %d: %s child ID %d: the master row holding its unique value is already this child's row %d (match policy): the file brings two of the child's rows with one value; run `tributary export --full` on the child",
			row.Line, t, row.ID, other)
	}
	creators, err := mapping.Creators(ctx, q, t, []int64{id})
	if err != nil {
		return err
	}
	if _, shared := creators[id]; !shared {
		mappers, err := mapping.Mappers(ctx, q, prefix, t, []int64{id})
		if err != nil {
			return err
		}
		creator := ""
		if ps := mappers[id]; len(ps) > 0 {
			creator = ps[0]
		}
		if err := mapping.Share(ctx, q, t, id, creator); err != nil {
			return err
		}
	}
	if row.Master != 0 {
		err = w.r.Store.Remap(ctx, t, row.ID, id)
	} else {
		err = w.r.Store.Insert(ctx, t, []mapping.Pair{{Child: row.ID, Master: id}})
	}
	if err != nil {
		return err
	}
	row.Master, row.Kept = id, true
	w.r.IDs.Put(t, row.ID, id)
	w.r.out.Counts.Of(t).Matched++
	return nil
}

// rename puts the rows' values of rename keys in their renamed form. With
// existing set the rows are on the master already, and one whose stored
// value is a form of its value keeps it: an unchanged row is not renamed
// again.
func (w *tableWriter) rename(ctx context.Context, rows []*plan.Row, existing bool) error {
	t := w.tp.Table
	pols := t.PolicyKeys(schema.PolicyRename)
	if len(pols) == 0 || len(rows) == 0 {
		return nil
	}
	var current map[int64][]sql.NullString
	if existing {
		var err error
		if current, err = w.stored(ctx, rows, pols); err != nil {
			return err
		}
	}
	prefix := w.r.Plan.Header.Prefix
	for _, row := range rows {
		renamed := false
		for j, p := range pols {
			idx, ok := w.tp.Index[p.Column]
			if !ok {
				continue
			}
			v, isText := row.Vals[idx].(string)
			if !isText {
				continue // NULL collides with nothing
			}
			if cur := current[row.Master]; cur != nil && cur[j].Valid && schema.IsRenamed(cur[j].String, v, prefix, w.maxChars(p.Column)) {
				row.Vals[idx] = cur[j].String
				continue
			}
			if err := w.renameTo(row, idx, p, renameTry{value: v, n: 1}); err != nil {
				return err
			}
			renamed = true
		}
		if renamed {
			w.r.out.Counts.Of(t.Name).Renamed++
		}
	}
	return nil
}

// renameTo sets row's value in column idx to form try.n of try.value.
func (w *tableWriter) renameTo(row *plan.Row, idx int, p schema.UniquePolicy, try renameTry) error {
	t := w.tp.Table
	form, ok := schema.Renamed(try.value, w.r.Plan.Header.Prefix, try.n, w.maxChars(p.Column))
	if !ok {
		return reject.Errorf(reject.ErrData, "line %d: %s child ID %d: %s cannot hold its value renamed for key %s (rename policy): the column holds %d characters, too few for the value with \" (%s)\" after it; widen the column on the master or use a shorter prefix",
			row.Line, t.Name, row.ID, p.Column, p.Key.Name, w.maxChars(p.Column), w.r.Plan.Header.Prefix)
	}
	row.Vals[idx] = form
	if w.renames == nil {
		w.renames = map[*plan.Row]map[int]renameTry{}
	}
	if w.renames[row] == nil {
		w.renames[row] = map[int]renameTry{}
	}
	w.renames[row][idx] = try
	return nil
}

func (w *tableWriter) maxChars(column string) int64 {
	if c, ok := w.tp.Table.Column(column); ok {
		return c.MaxChars
	}
	return 0
}

// stored reads the master's values of the rename columns of rows.
func (w *tableWriter) stored(ctx context.Context, rows []*plan.Row, pols []schema.UniquePolicy) (map[int64][]sql.NullString, error) {
	t := w.tp.Table
	cols := []string{t.Key[0]}
	for _, p := range pols {
		cols = append(cols, p.Column)
	}
	ids := make([]int64, len(rows))
	for i, row := range rows {
		ids[i] = row.Master
	}
	out := map[int64][]sql.NullString{}
	err := masterdb.Padded(ids, func(chunk []any) error {
		q, args, err := masterdb.SelectIn(t.Name, cols, t.Key[0], chunk)
		if err != nil {
			return err
		}
		return w.r.Tx.Query(ctx, q, args, func(scan func(...any) error) error {
			var id int64
			vals := make([]sql.NullString, len(pols))
			dest := []any{&id}
			for i := range vals {
				dest = append(dest, &vals[i])
			}
			if err := scan(dest...); err != nil {
				return err
			}
			out[id] = vals
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("table %s: read the stored forms of renamed values: %w", t.Name, err)
	}
	return out, nil
}

// onDuplicate decides what becomes of a row the master refused for a
// value another row holds in a unique key: under rename, the next form
// is tried (retry); under match, an insert maps to the row that holds the
// value (holder, when another import inserted it meanwhile); without a
// policy the file is rejected, naming the policy that would accept it.
func (w *tableWriter) onDuplicate(ctx context.Context, row *plan.Row, op string, err error) (retry bool, holder int64, _ error) {
	t := w.tp.Table
	key, ok := masterdb.DuplicateKey(err)
	if !ok {
		return false, 0, w.rowError(row, op, err)
	}
	p, has := t.PolicyByIndex(key)
	switch {
	case !has:
		k := schema.UniqueKey{Name: key, Columns: []string{key}}
		for _, u := range t.Unique {
			if strings.EqualFold(u.Name, key) {
				k = u
			}
		}
		return false, 0, duplicate(err, "line %d: %s %s child ID %d: the master already holds its value in unique key %s (%s), in a row of another child or its own, and the map gives that key no policy; to accept such rows add to table %s in the map %s",
			row.Line, op, t.Name, row.ID, k.Name, strings.Join(k.Columns, ", "), t.Name, schema.PolicyHint(k))
	case p.Policy == schema.PolicyRename:
		idx := w.tp.Index[p.Column]
		try, renamed := w.renames[row][idx]
		if !renamed {
			return false, 0, w.rowError(row, op, err)
		}
		if try.n >= schema.RenameTries {
			return false, 0, duplicate(err, "line %d: %s %s child ID %d: every renamed form of its value in key %s, up to \"(%s %d)\", is taken on the master (rename policy); rename the row on the child or free one of those values on the master",
				row.Line, op, t.Name, row.ID, p.Key.Name, w.r.Plan.Header.Prefix, schema.RenameTries)
		}
		try.n++
		return true, 0, w.renameTo(row, idx, p, try)
	case op == "insert":
		id, found, lerr := w.holder(ctx, row, []schema.UniquePolicy{p})
		if lerr != nil {
			return false, 0, lerr
		}
		if found {
			return false, id, nil
		}
	}
	return false, 0, duplicate(err, "line %d: %s %s child ID %d: its new value in key %s (match policy) is held by another master row: a row's value cannot change into one another row holds; change it back on the child, or delete the other row",
		row.Line, op, t.Name, row.ID, p.Key.Name)
}
