package verify

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"tributary/internal/database"
	"tributary/mapping"
	"tributary/schema"
)

// afterKey is the keyset condition "key > (?, ...)" written so the range
// optimizer uses the primary key: a > ? OR (a = ? AND b > ?) OR ...
func afterKey(key []string, prefix string) string {
	var ors []string
	for i := range key {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, prefix+database.QuoteIdent(key[j])+" = ?")
		}
		ands = append(ands, prefix+database.QuoteIdent(key[i])+" > ?")
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// afterArgs are afterKey's arguments for the last key read.
func afterArgs(last []value) []any {
	var args []any
	for i := range last {
		for j := 0; j <= i; j++ {
			args = append(args, *last[j])
		}
	}
	return args
}

// anyKey matches any of n keys.
func anyKey(key []string, n int) string {
	one := make([]string, len(key))
	for i, k := range key {
		one[i] = database.QuoteIdent(k) + " = ?"
	}
	tuple := "(" + strings.Join(one, " AND ") + ")"
	parts := make([]string, n)
	for i := range parts {
		parts[i] = tuple
	}
	return strings.Join(parts, " OR ")
}

// pages reads rows in key order, chunk by chunk, with keyset pagination,
// and calls fn with each chunk. from is "<table> t" or a join on it, where
// a condition on it; args are theirs.
func (c *comparer) pages(ctx context.Context, db *sql.DB, t *schema.Table, cols []string, from, where string, fromArgs []any, fn func([][]value) error) error {
	order := make([]string, len(t.Key))
	for i, k := range t.Key {
		order[i] = "t." + database.QuoteIdent(k)
	}
	sel := make([]string, len(cols))
	for i, col := range cols {
		sel[i] = "t." + database.QuoteIdent(col)
	}
	var last []value
	for {
		query := "SELECT " + strings.Join(sel, ", ") + " FROM " + from + " WHERE " + where
		args := append([]any(nil), fromArgs...)
		if last != nil {
			query += " AND " + afterKey(t.Key, "t.")
			args = append(args, afterArgs(last)...)
		}
		query += " ORDER BY " + strings.Join(order, ", ") + " LIMIT " + strconv.Itoa(c.chunk)
		rows, err := readRows(ctx, db, query, args...)
		if err != nil || len(rows) == 0 {
			return err
		}
		if err := fn(rows); err != nil {
			return err
		}
		lastRow := rows[len(rows)-1]
		last = make([]value, len(t.Key))
		for i, k := range t.Key {
			last[i] = lastRow[index(cols, k)]
		}
	}
}

// compositeRows compares the child's rows of a composite-key table with
// the master rows whose key is the child's key rewritten to master IDs.
func (c *comparer) compositeRows(ctx context.Context, t *schema.Table) error {
	cols := t.ColumnNames()
	return c.pages(ctx, c.child, t, cols, database.QuoteIdent(t.Name)+" t", "TRUE", nil, func(rows [][]value) error {
		return c.compositeChunk(ctx, t, cols, rows)
	})
}

func (c *comparer) compositeChunk(ctx context.Context, t *schema.Table, cols []string, rows [][]value) error {
	tr, err := c.newTranslator(ctx, t, cols, rows)
	if err != nil {
		return err
	}
	type pending struct {
		child []value
		key   string
	}
	var want []pending
	var args []any
	for _, r := range rows {
		if tr.leftOut(r) {
			continue
		}
		mk, ok := tr.masterKey(r)
		if !ok {
			c.add(Difference{Table: t.Name, Key: keyText(t, cols, r), Kind: Missing})
			continue
		}
		want = append(want, pending{child: r, key: joinKey(mk)})
		for _, v := range mk {
			args = append(args, *v)
		}
	}
	if len(want) == 0 {
		return nil
	}
	masters, err := c.rowsByKey(ctx, c.master, t, cols, len(want), args)
	if err != nil {
		return err
	}
	for _, w := range want {
		mr, ok := masters[w.key]
		if !ok {
			c.add(Difference{Table: t.Name, Key: keyText(t, cols, w.child), Kind: Missing})
			continue
		}
		if diff := tr.diffColumns(w.child, mr); len(diff) > 0 {
			c.add(Difference{Table: t.Name, Key: keyText(t, cols, w.child), Kind: Changed, Columns: diff})
		}
	}
	return nil
}

// masterKey is the child row's key rewritten to master IDs.
func (tr *translator) masterKey(row []value) ([]value, bool) {
	out := make([]value, len(tr.t.Key))
	for i, k := range tr.t.Key {
		v, ok := tr.expected(row, index(tr.cols, k))
		if !ok || v == nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

func joinKey(parts []value) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		if p != nil {
			s[i] = *p
		}
	}
	return strings.Join(s, "\x1f")
}

// rowsByKey reads the rows with any of n keys (args hold n keys' values),
// by their joined key.
func (c *comparer) rowsByKey(ctx context.Context, db *sql.DB, t *schema.Table, cols []string, n int, args []any) (map[string][]value, error) {
	rows, err := readRows(ctx, db, "SELECT "+database.QuoteIdents(cols)+" FROM "+database.QuoteIdent(t.Name)+" WHERE "+anyKey(t.Key, n), args...)
	if err != nil {
		return nil, err
	}
	out := map[string][]value{}
	for _, r := range rows {
		key := make([]value, len(t.Key))
		for i, k := range t.Key {
			key[i] = r[index(cols, k)]
		}
		out[joinKey(key)] = r
	}
	return out, nil
}

// compositeExtras reads the master rows that belong to the prefix (their
// first synced key reference points at a row the prefix maps), turns their
// keys back into child keys and reports those the child does not have.
func (c *comparer) compositeExtras(ctx context.Context, t *schema.Table) error {
	via, target := prefixColumn(t)
	if via == "" {
		return nil // a key of shared references only: rows cannot be told apart by prefix
	}
	mapTable, err := mappingTable(c)
	if err != nil {
		return err
	}
	from := database.QuoteIdent(t.Name) + " t JOIN " + database.QuoteIdent(mapTable) +
		" m ON m.entity_table = ? AND m.master_entity_id = t." + database.QuoteIdent(via)
	return c.pages(ctx, c.master, t, t.Key, from, "TRUE", []any{target}, func(rows [][]value) error {
		return c.extraKeys(ctx, t, rows)
	})
}

// prefixColumn is the first key column that references a synced table.
func prefixColumn(t *schema.Table) (string, string) {
	for _, k := range t.Key {
		if ref := t.Ref(k); ref != nil && !ref.Shared && !ref.Polymorphic() {
			return k, ref.Table
		}
	}
	return "", ""
}

func (c *comparer) extraKeys(ctx context.Context, t *schema.Table, masterKeys [][]value) error {
	childKeys, ok, err := c.childKeys(ctx, t, masterKeys)
	if err != nil {
		return err
	}
	var args []any
	n := 0
	for i, k := range childKeys {
		if !ok[i] {
			c.add(Difference{Table: t.Name, Key: "master " + keyText(t, t.Key, masterKeys[i]), Kind: Extra})
			continue
		}
		n++
		for _, v := range k {
			args = append(args, *v)
		}
	}
	if n == 0 {
		return nil
	}
	live, err := c.rowsByKey(ctx, c.child, t, t.Key, n, args)
	if err != nil {
		return err
	}
	for i, k := range childKeys {
		if ok[i] {
			if _, found := live[joinKey(k)]; !found {
				c.add(Difference{Table: t.Name, Key: keyText(t, t.Key, k), Kind: Extra})
			}
		}
	}
	return nil
}

// childKeys turns master keys back into child keys through the mapping;
// ok is false for a key with a part no mapping of the prefix explains.
func (c *comparer) childKeys(ctx context.Context, t *schema.Table, keys [][]value) ([][]value, []bool, error) {
	rev := map[string]map[int64]int64{}
	for i, k := range t.Key {
		ref := t.Ref(k)
		if ref == nil || ref.Shared {
			continue
		}
		var ids []int64
		for _, key := range keys {
			if id, ok := asID(key[i]); ok {
				ids = append(ids, id)
			}
		}
		m, err := c.store.LookupMaster(ctx, ref.Table, ids)
		if err != nil {
			return nil, nil, err
		}
		rev[k] = m
	}
	out := make([][]value, len(keys))
	ok := make([]bool, len(keys))
	for j, key := range keys {
		out[j], ok[j] = make([]value, len(key)), true
		for i, k := range t.Key {
			m, isRef := rev[k]
			if !isRef {
				out[j][i] = key[i]
				continue
			}
			id, _ := asID(key[i])
			child, found := m[id]
			if !found {
				ok[j] = false
				break
			}
			out[j][i] = idText(child)
		}
	}
	return out, ok, nil
}

func mappingTable(c *comparer) (string, error) {
	return mapping.TableName(c.prefix)
}
