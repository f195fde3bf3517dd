package masterdb

import (
	"context"

	"tributary/mapping"
)

// Padded calls fn with chunks of ids, each padded (by repeating its last
// ID, which changes nothing in an IN list) to one of the mapping's
// statement sizes, so a few prepared statements serve every chunk.
func Padded(ids []int64, fn func(chunk []any) error) error {
	for start := 0; start < len(ids); start += mapping.ChunkSize {
		end := min(start+mapping.ChunkSize, len(ids))
		size := mapping.SizeFor(end - start)
		chunk := make([]any, 0, size+1)
		for _, id := range ids[start:end] {
			chunk = append(chunk, id)
		}
		for len(chunk) < size {
			chunk = append(chunk, ids[end-1])
		}
		if err := fn(chunk); err != nil {
			return err
		}
	}
	return nil
}

// KeysPerStatement bounds the composite keys matched by one statement;
// keySizes are the sizes a shorter chunk is padded to (ascending, the last
// is KeysPerStatement).
const KeysPerStatement = 200

var keySizes = []int{8, 40, KeysPerStatement}

// PaddedKeys calls fn with chunks of up to KeysPerStatement keys, each
// padded to one of keySizes by repeating its last key.
func PaddedKeys(keys [][]any, fn func(chunk [][]any) error) error {
	for start := 0; start < len(keys); start += KeysPerStatement {
		end := min(start+KeysPerStatement, len(keys))
		size := KeysPerStatement
		for _, s := range keySizes {
			if end-start <= s {
				size = s
				break
			}
		}
		chunk := make([][]any, 0, size)
		for i := start; i < start+size; i++ {
			chunk = append(chunk, keys[min(i, end-1)])
		}
		if err := fn(chunk); err != nil {
			return err
		}
	}
	return nil
}

// ScanKey returns a row callback for Query that collects key tuples of n
// columns into out.
func ScanKey(n int, out *[][]any) func(scan func(...any) error) error {
	return func(scan func(...any) error) error {
		key := make([]any, n)
		ptrs := make([]any, n)
		for i := range key {
			ptrs[i] = &key[i]
		}
		if err := scan(ptrs...); err != nil {
			return err
		}
		*out = append(*out, key)
		return nil
	}
}

// MatchKeys calls fn with the key of every row of table whose key (the
// columns keyCols) is one of keys.
func (t *Tx) MatchKeys(ctx context.Context, table string, keyCols []string, keys [][]any, fn func([]any)) error {
	return PaddedKeys(keys, func(chunk [][]any) error {
		q, args, err := SelectKeys(table, keyCols, chunk)
		if err != nil {
			return err
		}
		var found [][]any
		if err := t.Query(ctx, q, args, ScanKey(len(keyCols), &found)); err != nil {
			return err
		}
		for _, k := range found {
			fn(k)
		}
		return nil
	})
}
