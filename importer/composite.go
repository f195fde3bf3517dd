package importer

import (
	"context"
	"fmt"
	"slices"
)

// keysPerStatement bounds the composite keys matched by one statement;
// keySizes are the sizes a shorter chunk is padded to (ascending, the last
// is keysPerStatement).
const keysPerStatement = 200

var keySizes = []int{8, 40, keysPerStatement}

// flushComposite applies a batch of a table whose key is made of
// references: the key is rewritten to master IDs, rows with that key are
// updated, the others inserted. Nothing is mapped for such rows.
func (w *tableWriter) flushComposite(ctx context.Context) error {
	need, err := w.lookups()
	if err != nil {
		return err
	}
	if err := w.f.cache.resolve(ctx, need); err != nil {
		return fmt.Errorf("table %s: %w", w.tp.t.Name, err)
	}
	pend, err := w.rewrite()
	if err != nil {
		return err
	}
	keys := make([][]any, len(w.rows))
	for i, r := range w.rows {
		keys[i] = w.keyValues(r)
		r.key = encodeKey(keys[i])
	}
	exists, err := w.existingKeys(ctx, keys)
	if err != nil {
		return err
	}
	var inserts, updates []*row
	for _, r := range w.rows {
		if exists[r.key] {
			updates = append(updates, r)
		} else {
			inserts = append(inserts, r)
		}
	}
	if err := w.updateComposite(ctx, updates, pendingLines(pend)); err != nil {
		return err
	}
	if err := w.insertComposite(ctx, inserts); err != nil {
		return err
	}
	sent := w.f.sentKeys[w.tp.t.Name]
	if sent == nil {
		sent = map[string]bool{}
		w.f.sentKeys[w.tp.t.Name] = sent
	}
	byLine := make(map[int64]*row, len(w.rows))
	for _, r := range w.rows {
		sent[r.key] = true
		byLine[r.line] = r
	}
	w.pendingFor(pend, byLine)
	return nil
}

// existingKeys returns which of the master keys the table already holds.
func (w *tableWriter) existingKeys(ctx context.Context, keys [][]any) (map[string]bool, error) {
	found := map[string]bool{}
	err := w.f.matchKeys(ctx, w.tp.t.Name, w.tp.t.Key, keys, func(key []any) {
		found[encodeKey(key)] = true
	})
	if err != nil {
		return nil, fmt.Errorf("table %s: check rows: %w", w.tp.t.Name, err)
	}
	return found, nil
}

// matchKeys calls fn with the key of every row of table whose key is one
// of keys, padding each statement to one of keySizes.
func (f *fileRun) matchKeys(ctx context.Context, table string, keyCols []string, keys [][]any, fn func([]any)) error {
	return paddedKeys(keys, func(size int, args []any) error {
		q, err := selectKeysSQL(table, keyCols, size)
		if err != nil {
			return err
		}
		return f.query(ctx, q, args, func(scan func(...any) error) error {
			key := make([]any, len(keyCols))
			ptrs := make([]any, len(keyCols))
			for i := range key {
				ptrs[i] = &key[i]
			}
			if err := scan(ptrs...); err != nil {
				return err
			}
			fn(key)
			return nil
		})
	})
}

// paddedKeys flattens keys into chunks of up to keysPerStatement, each
// padded to one of keySizes by repeating its last key; fn gets the size.
func paddedKeys(keys [][]any, fn func(size int, args []any) error) error {
	for start := 0; start < len(keys); start += keysPerStatement {
		end := min(start+keysPerStatement, len(keys))
		size := keysPerStatement
		for _, s := range keySizes {
			if end-start <= s {
				size = s
				break
			}
		}
		var args []any
		for i := start; i < start+size; i++ {
			args = append(args, keys[min(i, end-1)]...)
		}
		if err := fn(size, args); err != nil {
			return err
		}
	}
	return nil
}

// updateComposite updates rows whose key the master holds and counts the
// rows the server changed, as update does for mapped tables.
func (w *tableWriter) updateComposite(ctx context.Context, rows []*row, pointing map[int64]bool) error {
	var cols []string
	var idx []int
	for i, c := range w.tp.cols {
		if !slices.Contains(w.tp.keyIdx, i) {
			cols = append(cols, c.name)
			idx = append(idx, i)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if len(cols) == 0 {
		return nil // the key is the whole row: a row found is a row unchanged
	}
	q, err := updateSQL(w.tp.t.Name, cols, w.tp.t.Key)
	if err != nil {
		return err
	}
	var changed int64
	for _, r := range rows {
		args := make([]any, 0, len(w.tp.cols))
		for _, i := range idx {
			args = append(args, r.vals[i])
		}
		args = append(args, w.keyValues(r)...)
		n, err := w.f.exec(ctx, q, args)
		if err != nil {
			return w.rowError(r, "update", err)
		}
		if err := w.f.checkWarnings(ctx, w.tp.t.Name); err != nil {
			return fmt.Errorf("line %d: %w", r.line, err)
		}
		if pointing[r.line] {
			n = 1
		}
		changed += n
	}
	w.f.tableStats(w.tp.t.Name).Updated += changed
	return nil
}

func (w *tableWriter) insertComposite(ctx context.Context, rows []*row) error {
	if len(rows) == 0 {
		return nil
	}
	q, err := insertSQL(w.tp.t.Name, w.colNames(), len(rows), "")
	if err != nil {
		return err
	}
	args := make([]any, 0, len(rows)*len(w.tp.cols))
	for _, r := range rows {
		args = append(args, r.vals...)
	}
	if _, err := w.f.exec(ctx, q, args); err != nil {
		return w.batchError("insert", err)
	}
	if err := w.f.checkWarnings(ctx, w.tp.t.Name); err != nil {
		return w.batchError("insert", err)
	}
	w.f.tableStats(w.tp.t.Name).Inserted += int64(len(rows))
	return nil
}
