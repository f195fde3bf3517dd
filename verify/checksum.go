package verify

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"tributary/internal/database"
	"tributary/mapping"
	"tributary/schema"
)

// The checksum pass (Options.Checksums) compares a mapped table as
// pt-table-checksum does: the child's keys are cut into chunks of about
// Options.Chunk keys; for each chunk both servers compute a row count and a
// 64-bit hash of the chunk's rows (the XOR of each row's MD5), the master
// with its references translated back to child IDs by joining the mapping
// table, so equal data hashes equally. Only the chunks whose sums differ
// are read row by row, by the same code as the plain comparison, to tell
// which rows differ and how. The chunks cover every child ID from the
// smallest to the largest integer, so master rows the child no longer has
// fall into some chunk too.

// chunkRange is one chunk of child keys: lo < key <= hi.
type chunkRange struct{ lo, hi int64 }

type chunkSum struct {
	rows int64
	hash uint64
}

// checksumPlan is one mapped table's two checksum statements.
type checksumPlan struct {
	t              *schema.Table
	child, master  string
	childArgsFirst []any // arguments before the range's
	masterArgs     []any
}

// childBounds reads the child's keys in order and cuts them into chunks
// of c.chunk keys; it returns the chunks and the number of keys.
func (c *comparer) childBounds(ctx context.Context, t *schema.Table) ([]chunkRange, int64, error) {
	key := database.QuoteIdent(t.Key[0])
	rows, err := c.child.QueryContext(ctx, "SELECT "+key+" FROM "+database.QuoteIdent(t.Name)+" ORDER BY "+key)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []chunkRange
	lo := int64(math.MinInt64)
	var n int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, 0, err
		}
		n++
		if n%int64(c.chunk) == 0 {
			out = append(out, chunkRange{lo, id})
			lo = id
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return append(out, chunkRange{lo, math.MaxInt64}), n, nil
}

// newChecksumPlan builds both sides' statements for a mapped table.
func (c *comparer) newChecksumPlan(t *schema.Table) (*checksumPlan, error) {
	mapTable, err := mapping.TableName(c.prefix)
	if err != nil {
		return nil, err
	}
	mt := database.QuoteIdent(mapTable)
	cols := t.ColumnNames()
	key := t.Key[0]
	var childExprs, masterExprs, joins, leftOut []string
	var joinArgs, leftArgs []any
	synced := c.syncedNames()
	renames := map[string]bool{}
	for _, p := range t.PolicyKeys(schema.PolicyRename) {
		renames[p.Column] = true
	}
	for i, col := range cols {
		q := "t." + database.QuoteIdent(col)
		childExprs = append(childExprs, q)
		ref := t.Ref(col)
		switch {
		case col == key:
			masterExprs = append(masterExprs, "m.child_entity_id")
		case ref == nil && renames[col]:
			// The renamed forms ("Members (nyc)", "(nyc 2)") without their
			// suffix; a value cut to fit differs here and is judged row by
			// row when the chunk is drilled into.
			masterExprs = append(masterExprs, "REGEXP_REPLACE("+q+", ?, '')")
			joinArgs = append(joinArgs, ` \(`+c.prefix+`( [0-9]+)?\)$`)
		case ref == nil || ref.Shared:
			masterExprs = append(masterExprs, q)
		case ref.Polymorphic():
			alias := "r" + strconv.Itoa(i)
			disc := "t." + database.QuoteIdent(ref.TableFrom)
			joins = append(joins, "LEFT JOIN "+mt+" "+alias+" ON "+alias+".entity_table = CONVERT("+disc+" USING utf8mb4) COLLATE utf8mb4_bin AND "+alias+".master_entity_id = "+q)
			in := "(" + database.Placeholders(len(synced)) + ")"
			masterExprs = append(masterExprs, "CASE WHEN CAST("+disc+" AS BINARY) IN "+in+" THEN "+alias+".child_entity_id ELSE "+q+" END")
			for _, s := range synced {
				// placeholders of the CASE, in the select list: bound first
				joinArgs = append(joinArgs, s)
			}
			// export leaves out rows whose discriminator names a table that
			// is neither synced nor shared
			known := append(append([]string(nil), synced...), c.s.Shared...)
			leftOut = append(leftOut, "("+q+" IS NULL OR ("+disc+" IS NOT NULL AND CAST("+disc+" AS BINARY) IN ("+database.Placeholders(len(known))+")))")
			for _, s := range known {
				leftArgs = append(leftArgs, s)
			}
		default:
			alias := "r" + strconv.Itoa(i)
			joins = append(joins, "LEFT JOIN "+mt+" "+alias+" ON "+alias+".entity_table = ? AND "+alias+".master_entity_id = "+q)
			masterExprs = append(masterExprs, alias+".child_entity_id")
		}
	}
	// Arguments in the order their placeholders appear: select list (the
	// CASE lists), then the joins' entity tables, then the WHERE.
	var masterArgs []any
	masterArgs = append(masterArgs, joinArgs...)
	for _, col := range cols {
		ref := t.Ref(col)
		if col != key && ref != nil && !ref.Shared && !ref.Polymorphic() {
			masterArgs = append(masterArgs, ref.Table)
		}
	}
	masterArgs = append(masterArgs, t.Name)
	kq := "t." + database.QuoteIdent(key)
	childWhere := kq + " > ? AND " + kq + " <= ?"
	if owned, args := c.ownerFilter(t); owned != "" {
		leftOut = append(leftOut, owned)
		leftArgs = append(leftArgs, args...)
	}
	if len(leftOut) > 0 {
		childWhere = strings.Join(leftOut, " AND ") + " AND " + childWhere
	}
	p := &checksumPlan{
		t:     t,
		child: "SELECT " + database.RowHash(childExprs) + " FROM " + database.QuoteIdent(t.Name) + " t WHERE " + childWhere,
		master: "SELECT " + database.RowHash(masterExprs) + " FROM " + mt + " m JOIN " + database.QuoteIdent(t.Name) + " t ON " + kq + " = m.master_entity_id " +
			strings.Join(joins, " ") + " WHERE m.entity_table = ? AND m.child_entity_id > ? AND m.child_entity_id <= ?",
		childArgsFirst: leftArgs,
		masterArgs:     masterArgs,
	}
	return p, nil
}

func (c *comparer) syncedNames() []string {
	names := make([]string, len(c.s.Tables))
	for i, t := range c.s.Tables {
		names[i] = t.Name
	}
	return names
}

func (p *checksumPlan) sums(ctx context.Context, child, master *sql.DB, r chunkRange) (chunkSum, chunkSum, error) {
	var cs, ms chunkSum
	var cerr, merr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		args := append(append([]any(nil), p.childArgsFirst...), r.lo, r.hi)
		cerr = child.QueryRowContext(ctx, p.child, args...).Scan(&cs.rows, &cs.hash)
	}()
	args := append(append([]any(nil), p.masterArgs...), r.lo, r.hi)
	merr = master.QueryRowContext(ctx, p.master, args...).Scan(&ms.rows, &ms.hash)
	wg.Wait()
	if cerr != nil {
		return cs, ms, fmt.Errorf("checksum on the child: %w", cerr)
	}
	if merr != nil {
		return cs, ms, fmt.Errorf("checksum on the master: %w", merr)
	}
	return cs, ms, nil
}

// checksumTable compares a mapped table chunk by chunk and drills into the
// chunks whose sums differ.
func (c *comparer) checksumTable(ctx context.Context, t *schema.Table, chunks []chunkRange) error {
	p, err := c.newChecksumPlan(t)
	if err != nil {
		return err
	}
	workers := c.workers
	jobs := make(chan chunkRange)
	var mu sync.Mutex
	var differ []chunkRange
	var firstErr error
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				cs, ms, err := p.sums(ctx, c.child, c.master, r)
				mu.Lock()
				switch {
				case err != nil:
					if firstErr == nil {
						firstErr = err
						cancel()
					}
				case cs != ms:
					differ = append(differ, r)
				}
				mu.Unlock()
				c.report(t.Name, cs.rows)
			}
		}()
	}
	for _, r := range chunks {
		select {
		case jobs <- r:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sort.Slice(differ, func(i, j int) bool { return differ[i].lo < differ[j].lo })
	for _, r := range differ {
		if err := c.drill(ctx, t, r); err != nil {
			return err
		}
	}
	return nil
}

// drill compares one chunk row by row: the child's rows of the chunk with
// their master rows, and the chunk's mappings with the child's rows.
func (c *comparer) drill(ctx context.Context, t *schema.Table, r chunkRange) error {
	cols := t.ColumnNames()
	key := database.QuoteIdent(t.Key[0])
	ki := index(cols, t.Key[0])
	sel := make([]string, len(cols))
	for i, col := range cols {
		sel[i] = "t." + database.QuoteIdent(col)
	}
	where := "t." + key + " > ? AND t." + key + " <= ?"
	owned, ownedArgs := c.ownerFilter(t)
	if owned != "" {
		where = owned + " AND " + where
	}
	query := "SELECT " + strings.Join(sel, ", ") + " FROM " + database.QuoteIdent(t.Name) +
		" t WHERE " + where + " ORDER BY t." + key + " LIMIT " + strconv.Itoa(c.chunk)
	lo := r.lo
	for {
		rows, err := readRows(ctx, c.child, query, append(append([]any(nil), ownedArgs...), lo, r.hi)...)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		if err := c.mappedChunk(ctx, t, cols, ki, rows); err != nil {
			return err
		}
		lo, _ = asID(rows[len(rows)-1][ki])
	}
	var batch []mapping.Pair
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.extrasChunk(ctx, t, batch)
		batch = batch[:0]
		return err
	}
	if r.lo == math.MaxInt64 {
		return nil
	}
	err := c.store.ScanRange(ctx, t.Name, r.lo+1, r.hi, func(p mapping.Pair) error {
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

func (c *comparer) report(_ string, rows int64) {
	if c.progress != nil {
		c.mu.Lock()
		c.done += rows
		c.progress(c.done, c.total)
		c.mu.Unlock()
	}
}

// ownerFilter is the condition that a child row of an owner-role table has
// its owner row on the child: export sends owned rows only with their
// owner, so an orphan (its owner deleted without it, as a contact deleted
// by plain SQL leaves its tags) never reaches the master and is not a
// difference. It is empty for other roles.
func (c *comparer) ownerFilter(t *schema.Table) (string, []any) {
	if t.Role != schema.RoleOwner {
		return "", nil
	}
	ref := t.Ref(t.Owner)
	if ref == nil || ref.Shared {
		return "", nil
	}
	col := "t." + database.QuoteIdent(t.Owner)
	exists := func(target string) string {
		ot, ok := c.s.Table(target)
		if !ok || len(ot.Key) != 1 {
			return "TRUE"
		}
		return "EXISTS (SELECT 1 FROM " + database.QuoteIdent(ot.Name) + " o WHERE o." + database.QuoteIdent(ot.Key[0]) + " = " + col + ")"
	}
	if !ref.Polymorphic() {
		return exists(ref.Table), nil
	}
	disc := "t." + database.QuoteIdent(ref.TableFrom)
	var ors []string
	var args []any
	for _, ot := range c.s.Tables {
		ors = append(ors, "(CAST("+disc+" AS BINARY) = ? AND "+exists(ot.Name)+")")
		args = append(args, ot.Name)
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}
