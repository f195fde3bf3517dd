package verify

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"

	"tributary/internal/database"
	"tributary/mapping"
	"tributary/schema"
)

// value is one column's value as comparable text; nil is NULL.
type value = *string

// readRows runs a query and returns its rows as comparable text. Both
// sides are read the same way, so the same stored value gives the same text.
func readRows(ctx context.Context, db *sql.DB, query string, args ...any) ([][]value, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]value
	for rows.Next() {
		raw := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		vals := make([]value, len(cols))
		for i, v := range raw {
			vals[i] = text(v)
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

func text(v any) value {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		s = string(x)
	case string:
		s = x
	case int64:
		s = strconv.FormatInt(x, 10)
	case uint64:
		s = strconv.FormatUint(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		s = strconv.FormatFloat(float64(x), 'g', -1, 32)
	default:
		s = fmt.Sprint(x)
	}
	return &s
}

func same(a, b value) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func asID(v value) (int64, bool) {
	if v == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(*v, 10, 64)
	return n, err == nil
}

func idText(n int64) value {
	s := strconv.FormatInt(n, 10)
	return &s
}

// translator rewrites the child's reference values of one chunk of rows
// to the master IDs the master should hold, through the mapping.
type translator struct {
	c    *comparer
	t    *schema.Table
	cols []string
	maps map[string]map[int64]int64 // target table -> child ID -> master ID
}

// newTranslator looks up, in one query per target table, every reference
// value of the chunk.
func (c *comparer) newTranslator(ctx context.Context, t *schema.Table, cols []string, rows [][]value) (*translator, error) {
	tr := &translator{c: c, t: t, cols: cols, maps: map[string]map[int64]int64{}}
	need := map[string][]int64{}
	for _, row := range rows {
		for i, col := range cols {
			target, id, ok := tr.target(row, col, row[i])
			if ok && target != "" {
				need[target] = append(need[target], id)
			}
		}
	}
	for target, ids := range need {
		m, err := c.store.Lookup(ctx, target, ids)
		if err != nil {
			return nil, err
		}
		tr.maps[target] = m
	}
	return tr, nil
}

// target returns the synced table a reference value points at (empty for
// a shared table, copied verbatim); ok is false for NULL or a non-reference.
func (tr *translator) target(row []value, col string, v value) (string, int64, bool) {
	ref := tr.t.Ref(col)
	id, isID := asID(v)
	if ref == nil || !isID {
		return "", 0, false
	}
	switch {
	case ref.Shared:
		return "", id, true
	case ref.Polymorphic():
		disc := row[index(tr.cols, ref.TableFrom)]
		if disc == nil || tr.c.s.IsShared(*disc) {
			return "", id, true
		}
		return *disc, id, true
	}
	return ref.Table, id, true
}

// leftOut reports whether export leaves the row out: a polymorphic
// reference naming a table that is neither synced nor shared.
func (tr *translator) leftOut(row []value) bool {
	for _, ref := range tr.t.Refs {
		if !ref.Polymorphic() || row[index(tr.cols, ref.Column)] == nil {
			continue
		}
		disc := row[index(tr.cols, ref.TableFrom)]
		if disc == nil {
			return true
		}
		if _, synced := tr.c.s.Table(*disc); !synced && !tr.c.s.IsShared(*disc) {
			return true
		}
	}
	return false
}

// expected is what the master should hold in column i of the child's row;
// ok is false when a reference has no mapping (the master cannot match).
func (tr *translator) expected(row []value, i int) (value, bool) {
	target, id, isRef := tr.target(row, tr.cols[i], row[i])
	if !isRef || target == "" {
		return row[i], true
	}
	m, ok := tr.maps[target][id]
	if !ok {
		return nil, false
	}
	return idText(m), true
}

// diffColumns lists the synced columns (keys of mapped tables aside) that
// differ between the child's row and the master's.
func (tr *translator) diffColumns(childRow, masterRow []value) []string {
	var cols []string
	for i, col := range tr.cols {
		if tr.t.Mapped && col == tr.t.Key[0] {
			continue
		}
		want, ok := tr.expected(childRow, i)
		if !ok || !same(want, masterRow[i]) && !tr.renamed(col, want, masterRow[i]) {
			cols = append(cols, col)
		}
	}
	return cols
}

// renamed reports whether the master holds the child's value of a rename
// column in one of its renamed forms (schema.Renamed), as import stores it.
func (tr *translator) renamed(col string, child, master value) bool {
	if child == nil || master == nil {
		return false
	}
	for _, p := range tr.t.PolicyKeys(schema.PolicyRename) {
		if p.Column != col {
			continue
		}
		var max int64
		if c, ok := tr.t.Column(col); ok {
			max = c.MaxChars
		}
		return schema.IsRenamed(*master, *child, tr.c.prefix, max)
	}
	return false
}

func index(cols []string, name string) int {
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	return -1
}

// inList is "(?, ?, ?)" with ids as arguments.
func inList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(" + database.Placeholders(len(ids)) + ")", args
}

// mappedRows compares the child's rows of a mapped table, chunk by chunk
// in key order, with the master rows their mappings point at.
func (c *comparer) mappedRows(ctx context.Context, t *schema.Table) error {
	cols := t.ColumnNames()
	key := t.Key[0]
	ki := index(cols, key)
	query := "SELECT " + database.QuoteIdents(cols) + " FROM " + database.QuoteIdent(t.Name) +
		" WHERE " + database.QuoteIdent(key) + " > ? ORDER BY " + database.QuoteIdent(key) + " LIMIT " + strconv.Itoa(c.chunk)
	last := int64(math.MinInt64)
	for {
		rows, err := readRows(ctx, c.child, query, last)
		if err != nil || len(rows) == 0 {
			return err
		}
		if err := c.mappedChunk(ctx, t, cols, ki, rows); err != nil {
			return err
		}
		last, _ = asID(rows[len(rows)-1][ki])
	}
}

func (c *comparer) mappedChunk(ctx context.Context, t *schema.Table, cols []string, ki int, rows [][]value) error {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i], _ = asID(r[ki])
	}
	m, err := c.store.Lookup(ctx, t.Name, ids)
	if err != nil {
		return err
	}
	masters, err := c.masterRows(ctx, t, cols, ki, m)
	if err != nil {
		return err
	}
	tr, err := c.newTranslator(ctx, t, cols, rows)
	if err != nil {
		return err
	}
	kept, err := c.keptByOthers(ctx, t, m)
	if err != nil {
		return err
	}
	for i, r := range rows {
		if tr.leftOut(r) {
			continue
		}
		mid, mapped := m[ids[i]]
		mr, onMaster := masters[mid]
		switch {
		case !mapped || !onMaster:
			c.add(Difference{Table: t.Name, ChildID: ids[i], MasterID: mid, Kind: Missing})
		default:
			diff := tr.diffColumns(r, mr)
			if kept[mid] {
				diff = matchColumns(t, diff)
			}
			if len(diff) > 0 {
				c.add(Difference{Table: t.Name, ChildID: ids[i], MasterID: mid, Kind: Changed, Columns: diff})
			}
		}
	}
	return nil
}

// keptByOthers returns the mapped master rows of a table with match keys
// that another prefix (or the master) created: this prefix shares them
// but does not write them, so only their match keys must agree.
func (c *comparer) keptByOthers(ctx context.Context, t *schema.Table, m map[int64]int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(t.PolicyKeys(schema.PolicyMatch)) == 0 || len(m) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(m))
	for _, id := range m {
		ids = append(ids, id)
	}
	creators, err := mapping.ReadCreators(ctx, c.master, t.Name, ids)
	if err != nil {
		return nil, err
	}
	for id, creator := range creators {
		if creator != c.prefix {
			out[id] = true
		}
	}
	return out, nil
}

// matchColumns keeps the columns of diff that are in a match key.
func matchColumns(t *schema.Table, diff []string) []string {
	var out []string
	for _, col := range diff {
		for _, p := range t.PolicyKeys(schema.PolicyMatch) {
			if contains(p.Key.Columns, col) {
				out = append(out, col)
				break
			}
		}
	}
	return out
}

// masterRows reads the master rows of the mapped IDs, by master ID.
func (c *comparer) masterRows(ctx context.Context, t *schema.Table, cols []string, ki int, m map[int64]int64) (map[int64][]value, error) {
	out := map[int64][]value{}
	if len(m) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(m))
	for _, id := range m {
		ids = append(ids, id)
	}
	in, args := inList(ids)
	rows, err := readRows(ctx, c.master, "SELECT "+database.QuoteIdents(cols)+" FROM "+database.QuoteIdent(t.Name)+
		" WHERE "+database.QuoteIdent(t.Key[0])+" IN "+in, args...)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		id, _ := asID(r[ki])
		out[id] = r
	}
	return out, nil
}

// mappedExtras walks the prefix's mappings of the table: a mapping whose
// child row is gone means the master holds a row the child deleted.
func (c *comparer) mappedExtras(ctx context.Context, t *schema.Table) error {
	var batch []mapping.Pair
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.extrasChunk(ctx, t, batch)
		batch = batch[:0]
		return err
	}
	err := c.store.Scan(ctx, t.Name, func(p mapping.Pair) error {
		batch = append(batch, p)
		if len(batch) >= c.chunk {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

func (c *comparer) extrasChunk(ctx context.Context, t *schema.Table, pairs []mapping.Pair) error {
	ids := make([]int64, len(pairs))
	for i, p := range pairs {
		ids[i] = p.Child
	}
	in, args := inList(ids)
	key := database.QuoteIdent(t.Key[0])
	rows, err := readRows(ctx, c.child, "SELECT "+key+" FROM "+database.QuoteIdent(t.Name)+" WHERE "+key+" IN "+in, args...)
	if err != nil {
		return err
	}
	live := map[int64]bool{}
	for _, r := range rows {
		id, _ := asID(r[0])
		live[id] = true
	}
	for _, p := range pairs {
		if !live[p.Child] {
			c.add(Difference{Table: t.Name, ChildID: p.Child, MasterID: p.Master, Kind: Extra})
		}
	}
	return nil
}

// keyText names a composite row by its key columns (IDs only).
func keyText(t *schema.Table, cols []string, row []value) string {
	parts := make([]string, len(t.Key))
	for i, k := range t.Key {
		v := row[index(cols, k)]
		s := "NULL"
		if v != nil {
			s = *v
		}
		parts[i] = k + "=" + s
	}
	return strings.Join(parts, ",")
}
