package masterdb

import (
	"context"

	"tributary/internal/database"
)

// SelectKeyed selects the key columns, then cols, of the rows with any of
// keys: a composite-key table's current rows.
func SelectKeyed(table string, key, cols []string, keys [][]any) (string, []any, error) {
	match, args, err := anyKeyMatch(key, keys)
	if err != nil {
		return "", nil, err
	}
	all := append(append(make([]string, 0, len(key)+len(cols)), key...), cols...)
	return "SELECT " + database.QuoteIdents(all) + " FROM " + database.QuoteIdent(table) + " WHERE " + match, args, nil
}

// CurrentRows reads the master's current values of cols for the rows of
// table whose one-column key is one of ids, one statement per chunk of
// ids, and calls fn with each row's key and values (in the order of cols,
// as the driver returns them: nil, int64, uint64, float32, float64 or
// []byte, copied, so fn may keep them). Rows that do not exist are not
// reported.
func (t *Tx) CurrentRows(ctx context.Context, table, key string, cols []string, ids []int64, fn func(id int64, vals []any) error) error {
	if len(ids) == 0 {
		return nil
	}
	all := append(append(make([]string, 0, len(cols)+1), key), cols...)
	return Padded(ids, func(chunk []any) error {
		q, args, err := SelectIn(table, all, key, chunk)
		if err != nil {
			return err
		}
		return t.Query(ctx, q, args, func(scan func(...any) error) error {
			var id int64
			vals, ptrs := scanRoom(len(cols))
			if err := scan(append([]any{&id}, ptrs...)...); err != nil {
				return err
			}
			return fn(id, vals)
		})
	})
}

// CurrentKeyed is CurrentRows for a table whose key is several columns:
// fn gets each found row's key values, then its values of cols.
func (t *Tx) CurrentKeyed(ctx context.Context, table string, key, cols []string, keys [][]any, fn func(key, vals []any) error) error {
	return PaddedKeys(keys, func(chunk [][]any) error {
		q, args, err := SelectKeyed(table, key, cols, chunk)
		if err != nil {
			return err
		}
		return t.Query(ctx, q, args, func(scan func(...any) error) error {
			vals, ptrs := scanRoom(len(key) + len(cols))
			if err := scan(ptrs...); err != nil {
				return err
			}
			return fn(vals[:len(key):len(key)], vals[len(key):])
		})
	})
}

// scanRoom returns n values and pointers to them for Scan; scanning into
// *any keeps the driver's value and copies its bytes.
func scanRoom(n int) ([]any, []any) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, ptrs
}
