package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"tributary/internal/database"
)

// ChunkSize is the most IDs one look-up or delete statement carries. Short
// chunks are padded (repeating an ID in an IN list changes nothing) to the
// next of the chunk sizes (SizeFor), so a few prepared statements serve
// every chunk of a kind, and a look-up of a handful of IDs does not bind a
// thousand.
const ChunkSize = 1000

// chunkSizes are the statement sizes chunks are padded to, ascending; the
// last is ChunkSize.
var chunkSizes = [...]int{16, 128, ChunkSize}

// SizeFor returns the statement size for a chunk of n IDs (n <= ChunkSize).
func SizeFor(n int) int {
	for _, s := range chunkSizes {
		if n <= s {
			return s
		}
	}
	return ChunkSize
}

// Pair links one child ID to one master ID.
type Pair struct {
	Child, Master int64
}

// Store reads and writes one prefix's mapping table through q, normally
// the import's transaction. It prepares each statement once and reuses it;
// Close releases them. A Store is not safe for concurrent use.
type Store struct {
	q     Querier
	table string // quoted mapping table name
	stmts map[string]*sql.Stmt
	added map[string]int64 // per entity: mappings inserted less mappings deleted
}

// NewStore returns a Store for prefix's mapping table.
func NewStore(q Querier, prefix string) (*Store, error) {
	name, err := TableName(prefix)
	if err != nil {
		return nil, err
	}
	return &Store{q: q, table: database.QuoteIdent(name), stmts: map[string]*sql.Stmt{}, added: map[string]int64{}}, nil
}

// Close releases the prepared statements.
func (s *Store) Close() error {
	var first error
	for key, st := range s.stmts {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.stmts, key)
	}
	return first
}

func (s *Store) stmt(ctx context.Context, key, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts[key]; ok {
		return st, nil
	}
	st, err := s.q.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.stmts[key] = st
	return st, nil
}

// chunks calls fn for each chunk of ids, padded to its statement size.
func chunks(ids []int64, fn func(size int, args []any) error) error {
	for start := 0; start < len(ids); start += ChunkSize {
		end := min(start+ChunkSize, len(ids))
		size := SizeFor(end - start)
		args := make([]any, 0, size+1)
		for _, id := range ids[start:end] {
			args = append(args, id)
		}
		for len(args) < size {
			args = append(args, ids[end-1])
		}
		if err := fn(size, args); err != nil {
			return err
		}
	}
	return nil
}

// Lookup returns the master IDs of the given child IDs of entity; child IDs
// without a mapping are absent from the result.
func (s *Store) Lookup(ctx context.Context, entity string, child []int64) (map[int64]int64, error) {
	out, err := s.pairs(ctx, "lookup", "child_entity_id", "master_entity_id", entity, child)
	if err != nil {
		return nil, fmt.Errorf("mapping look-up for %s: %w", entity, err)
	}
	return out, nil
}

// LookupMaster returns the child IDs of the given master IDs of entity
// (master ID -> child ID); master IDs that no child row of this prefix
// maps to are absent.
func (s *Store) LookupMaster(ctx context.Context, entity string, master []int64) (map[int64]int64, error) {
	out, err := s.pairs(ctx, "lookup-master", "master_entity_id", "child_entity_id", entity, master)
	if err != nil {
		return nil, fmt.Errorf("reverse mapping look-up for %s: %w", entity, err)
	}
	return out, nil
}

// pairs looks ids up in column by, returning by -> want. The IDs are
// taken in ascending order, a chunk at a time; a chunk whose IDs are dense
// (a full file's rows come in ID order, and most of a child's IDs are
// taken) is read as one range of the key, which costs the server a scan
// instead of a look-up per ID, and the rows of IDs not asked for are left
// out. A sparse chunk goes as an IN list.
func (s *Store) pairs(ctx context.Context, key, by, want, entity string, ids []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	sorted := slices.Compact(slices.Sorted(slices.Values(ids)))
	inQuery := "SELECT " + by + ", " + want + " FROM " + s.table + " WHERE entity_table = ? AND " + by + " IN ("
	rangeQuery := "SELECT " + by + ", " + want + " FROM " + s.table + " WHERE entity_table = ? AND " + by + " BETWEEN ? AND ?"
	for start := 0; start < len(sorted); start += ChunkSize {
		chunk := sorted[start:min(start+ChunkSize, len(sorted))]
		var err error
		if dense(chunk) {
			err = s.scanPairs(ctx, key+"-range", rangeQuery, []any{entity, chunk[0], chunk[len(chunk)-1]}, func(k, v int64) {
				if _, asked := slices.BinarySearch(chunk, k); asked {
					out[k] = v
				}
			})
		} else {
			err = chunks(chunk, func(size int, args []any) error {
				return s.scanPairs(ctx, key+"-"+strconv.Itoa(size), inQuery+database.Placeholders(size)+")", append([]any{entity}, args...), func(k, v int64) { out[k] = v })
			})
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dense reports whether a sorted chunk of IDs covers at least half of the
// range it spans (and is worth a range read: a few IDs go as a list).
func dense(sorted []int64) bool {
	n := int64(len(sorted))
	return n >= 64 && sorted[n-1]-sorted[0] < 2*n
}

// scanPairs runs a prepared statement that returns two integer columns.
func (s *Store) scanPairs(ctx context.Context, key, query string, args []any, fn func(k, v int64)) error {
	st, err := s.stmt(ctx, key, query)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	return database.ScanRows(rows, func(rows *sql.Rows) error {
		var k, v int64
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		fn(k, v)
		return nil
	})
}

// Insert records new mappings of entity, many rows per statement.
func (s *Store) Insert(ctx context.Context, entity string, pairs []Pair) error {
	const perStatement = 1000
	for start := 0; start < len(pairs); start += perStatement {
		batch := pairs[start:min(start+perStatement, len(pairs))]
		n := len(batch)
		st, err := s.stmt(ctx, "insert-"+strconv.Itoa(n), insertSQL(s.table, n))
		if err != nil {
			return fmt.Errorf("record mappings of %s: %w", entity, err)
		}
		args := make([]any, 0, 3*n)
		for _, p := range batch {
			args = append(args, entity, p.Child, p.Master)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("record mappings of %s: %w", entity, err)
		}
		s.added[entity] += int64(n)
	}
	return nil
}

func insertSQL(table string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (entity_table, child_entity_id, master_entity_id) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
	}
	return b.String()
}

// Remap points an existing mapping of entity's child ID at another master ID.
func (s *Store) Remap(ctx context.Context, entity string, child, master int64) error {
	st, err := s.stmt(ctx, "remap", "UPDATE "+s.table+" SET master_entity_id = ? WHERE entity_table = ? AND child_entity_id = ?")
	if err == nil {
		_, err = st.ExecContext(ctx, master, entity, child)
	}
	if err != nil {
		return fmt.Errorf("remap %s child ID %d: %w", entity, child, err)
	}
	return nil
}

// DeleteMaster removes the mappings of the given master IDs of entity and
// reports how many it removed.
func (s *Store) DeleteMaster(ctx context.Context, entity string, master []int64) (int64, error) {
	if len(master) == 0 {
		return 0, nil
	}
	var total int64
	err := chunks(master, func(size int, args []any) error {
		st, err := s.stmt(ctx, "delete-master-"+strconv.Itoa(size), "DELETE FROM "+s.table+
			" WHERE entity_table = ? AND master_entity_id IN ("+database.Placeholders(size)+")")
		if err != nil {
			return err
		}
		res, err := st.ExecContext(ctx, append([]any{entity}, args...)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		total += n
		s.added[entity] -= n
		return err
	})
	if err != nil {
		return total, fmt.Errorf("delete mappings of %s: %w", entity, err)
	}
	return total, nil
}

// DeleteAll removes every mapping of the prefix (used by --rebuild, after
// the rows themselves are gone).
func (s *Store) DeleteAll(ctx context.Context) (int64, error) {
	res, err := s.q.ExecContext(ctx, "DELETE FROM "+s.table)
	if err != nil {
		return 0, fmt.Errorf("delete mappings: %w", err)
	}
	return res.RowsAffected()
}

// Count returns how many mappings entity has.
func (s *Store) Count(ctx context.Context, entity string) (int64, error) {
	var n int64
	rows, err := s.q.QueryContext(ctx, "SELECT COUNT(*) FROM "+s.table+" WHERE entity_table = ?", entity)
	if err == nil {
		err = database.ScanRows(rows, func(rows *sql.Rows) error { return rows.Scan(&n) })
	}
	if err != nil {
		return 0, fmt.Errorf("count mappings of %s: %w", entity, err)
	}
	return n, nil
}

// Added is how many mappings of entity this Store inserted less how many
// it deleted (DeleteAll aside): with Count, what the table held before.
func (s *Store) Added(entity string) int64 { return s.added[entity] }

// Any reports whether entity has at least one mapping.
func (s *Store) Any(ctx context.Context, entity string) (bool, error) {
	rows, err := s.q.QueryContext(ctx, "SELECT 1 FROM "+s.table+" WHERE entity_table = ? LIMIT 1", entity)
	if err != nil {
		return false, fmt.Errorf("mapping of %s: %w", entity, err)
	}
	found := false
	err = database.ScanRows(rows, func(*sql.Rows) error {
		found = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("mapping of %s: %w", entity, err)
	}
	return found, nil
}

// Scan calls fn for every mapping of entity in child-ID order, reading
// ScanChunk rows per statement so that no result set grows with the table.
func (s *Store) Scan(ctx context.Context, entity string, fn func(Pair) error) error {
	return s.ScanRange(ctx, entity, minInt64, maxInt64, fn)
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
	// ScanChunk is how many mappings one Scan statement reads.
	ScanChunk = 10000
)

// ScanRange is Scan restricted to child IDs in [lo, hi].
func (s *Store) ScanRange(ctx context.Context, entity string, lo, hi int64, fn func(Pair) error) error {
	query := "SELECT child_entity_id, master_entity_id FROM " + s.table +
		" WHERE entity_table = ? AND child_entity_id >= ? AND child_entity_id <= ? ORDER BY child_entity_id LIMIT " + strconv.Itoa(ScanChunk)
	st, err := s.stmt(ctx, "scan", query)
	if err != nil {
		return fmt.Errorf("read mappings of %s: %w", entity, err)
	}
	for {
		page, err := scanPage(ctx, st, entity, lo, hi)
		if err != nil {
			return fmt.Errorf("read mappings of %s: %w", entity, err)
		}
		for _, p := range page {
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(page) < ScanChunk || page[len(page)-1].Child == hi {
			return nil
		}
		lo = page[len(page)-1].Child + 1
	}
}

// RangesPerStatement bounds the ID ranges one ScanRanges statement matches.
const RangesPerStatement = 200

// ScanRanges calls fn for every mapping of entity whose child ID lies in
// one of the ranges ([lo, hi], inclusive): used to find the mapped rows
// that fall between a track table's live ranges. The cost grows with the
// number of ranges and of matches, not with the mapping table.
func (s *Store) ScanRanges(ctx context.Context, entity string, ranges [][2]int64, fn func(Pair) error) error {
	if len(ranges) == 0 {
		return nil
	}
	conds := make([]string, RangesPerStatement)
	for i := range conds {
		conds[i] = "child_entity_id BETWEEN ? AND ?"
	}
	query := "SELECT child_entity_id, master_entity_id FROM " + s.table +
		" WHERE entity_table = ? AND (" + strings.Join(conds, " OR ") + ")"
	st, err := s.stmt(ctx, "scan-ranges", query)
	if err != nil {
		return fmt.Errorf("read mappings of %s: %w", entity, err)
	}
	for start := 0; start < len(ranges); start += RangesPerStatement {
		end := min(start+RangesPerStatement, len(ranges))
		args := []any{entity}
		for i := start; i < start+RangesPerStatement; i++ {
			r := ranges[min(i, end-1)]
			args = append(args, r[0], r[1])
		}
		page, err := queryPairs(ctx, st, args)
		if err != nil {
			return fmt.Errorf("read mappings of %s: %w", entity, err)
		}
		for _, p := range page {
			if err := fn(p); err != nil {
				return err
			}
		}
	}
	return nil
}

func queryPairs(ctx context.Context, st *sql.Stmt, args []any) ([]Pair, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	var page []Pair
	err = database.ScanRows(rows, func(rows *sql.Rows) error {
		var p Pair
		if err := rows.Scan(&p.Child, &p.Master); err != nil {
			return err
		}
		page = append(page, p)
		return nil
	})
	return page, err
}

func scanPage(ctx context.Context, st *sql.Stmt, entity string, lo, hi int64) ([]Pair, error) {
	return queryPairs(ctx, st, []any{entity, lo, hi})
}

// Counts returns the number of mappings per entity table.
func (s *Store) Counts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.q.QueryContext(ctx, "SELECT entity_table, COUNT(*) FROM "+s.table+" GROUP BY entity_table")
	if err != nil {
		return nil, fmt.Errorf("count mappings: %w", err)
	}
	out := map[string]int64{}
	err = database.ScanRows(rows, func(rows *sql.Rows) error {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return err
		}
		out[name] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count mappings: %w", err)
	}
	return out, nil
}
