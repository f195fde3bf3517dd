package importer

import (
	"context"
	"database/sql"
	"fmt"

	"tributary/internal/database"
	"tributary/mapping"
)

// tableWriter gathers one table's consecutive upserts into batches and
// applies each batch with a few multi-row statements: one mapping look-up
// per referenced table, one existence check, one INSERT ... RETURNING,
// one mapping insert, and an UPDATE per changed row.
type tableWriter struct {
	f     *fileRun
	tp    *tablePlan
	rows  []*row
	inBat map[string]bool // child keys in the batch: a repeat flushes first
	bytes int
	max   int // rows per batch for this table
}

func (f *fileRun) writer(tp *tablePlan) *tableWriter {
	maxRows := f.limits.rows
	if cols := len(tp.cols) + 1; maxRows*cols > f.limits.params {
		maxRows = max(1, f.limits.params/cols)
	}
	return &tableWriter{f: f, tp: tp, inBat: map[string]bool{}, max: maxRows}
}

func (w *tableWriter) add(ctx context.Context, r *row) error {
	ck := w.childKey(r)
	if w.inBat[ck] || w.bytes+r.size > w.f.limits.bytes {
		// The same row twice in one batch would be inserted twice: apply
		// the first before looking the second up.
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	w.rows = append(w.rows, r)
	w.inBat[ck] = true
	w.bytes += r.size
	if len(w.rows) >= w.max {
		return w.flush(ctx)
	}
	return nil
}

// childKey identifies a row within the file: its child ID, or its child key.
func (w *tableWriter) childKey(r *row) string {
	if w.tp.t.Mapped {
		return keyPart(r.id)
	}
	parts := make([]any, len(w.tp.keyIdx))
	for i, k := range w.tp.keyIdx {
		parts[i] = r.vals[k]
	}
	return encodeKey(parts)
}

// flush applies the gathered rows; it is a no-op on a nil or empty writer.
func (w *tableWriter) flush(ctx context.Context) error {
	if w == nil || len(w.rows) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if w.tp.t.Mapped {
		err = w.flushMapped(ctx)
	} else {
		err = w.flushComposite(ctx)
	}
	if err != nil {
		return err
	}
	w.rows = w.rows[:0]
	clear(w.inBat)
	w.bytes = 0
	w.f.progress(w.tp.t.Name)
	return nil
}

// lookups lists the child IDs this batch needs resolved, per table.
func (w *tableWriter) lookups() (map[string][]int64, error) {
	need := map[string][]int64{}
	if w.tp.t.Mapped {
		for _, r := range w.rows {
			need[w.tp.t.Name] = append(need[w.tp.t.Name], r.id)
		}
	}
	for _, r := range w.rows {
		for i := range w.tp.cols {
			target, child, ok, err := w.refTarget(r, i)
			if err != nil {
				return nil, err
			}
			if ok && target != "" {
				need[target] = append(need[target], child)
			}
		}
	}
	return need, nil
}

// refTarget returns the synced table and child ID a reference column of r
// points at; ok is false for a NULL or a non-reference. A polymorphic
// reference to a shared table has no target (it is copied verbatim).
func (w *tableWriter) refTarget(r *row, i int) (target string, child int64, ok bool, err error) {
	c := &w.tp.cols[i]
	if c.kind != refPlain && c.kind != refDeferred && c.kind != refPoly {
		return "", 0, false, nil
	}
	child, isID := r.vals[i].(int64)
	if !isID {
		return "", 0, false, nil
	}
	if c.kind != refPoly {
		return c.target, child, true, nil
	}
	disc, _ := r.vals[c.disc].(string)
	s := w.f.plan.s
	if s.IsShared(disc) {
		return "", child, true, nil
	}
	t, synced := s.Table(disc)
	if !synced || !t.Mapped {
		return "", 0, false, rejectf(ErrMismatch, "line %d: %s.%s points at table %q (by %s), which the master's map does not sync with a single-column key", r.line, w.tp.t.Name, c.name, disc, w.tp.cols[c.disc].name)
	}
	return disc, child, true, nil
}

// rewrite replaces each reference's child ID with its master ID. A
// first-pass reference without a mapping rejects the file; a deferred or
// forward one gets a placeholder (NULL, or 0 for a NOT NULL polymorphic
// column, which has no foreign key) and is queued for the second pass.
func (w *tableWriter) rewrite() ([]pendingRef, error) {
	var pend []pendingRef
	for _, r := range w.rows {
		for i := range w.tp.cols {
			target, child, ok, err := w.refTarget(r, i)
			if err != nil || !ok || target == "" {
				if err != nil {
					return nil, err
				}
				continue
			}
			c := &w.tp.cols[i]
			m, found := w.f.cache.get(target, child)
			firstPass := c.kind == refPlain || (c.kind == refPoly && w.f.plan.polyFirstPass(w.tp, target))
			switch {
			case found:
				r.vals[i] = m
			case firstPass:
				return nil, w.unresolved(r, c, target, child)
			default:
				r.vals[i] = placeholder(c)
				pend = append(pend, pendingRef{tp: w.tp, col: i, target: target, child: child, line: r.line})
			}
		}
	}
	return pend, nil
}

func placeholder(c *colPlan) any {
	if c.nullable {
		return nil
	}
	return int64(0)
}

func (w *tableWriter) unresolved(r *row, c *colPlan, target string, child int64) error {
	return rejectf(ErrUnresolved, "line %d: %s.%s references %s child ID %d, which is neither in this file nor mapped on the master (the file is not closed under references, or the master lost that row: run `tributary export --full` on the child)",
		r.line, w.tp.t.Name, c.name, target, child)
}

// pendingFor ties the batch's queued references to their rows' master IDs.
func (w *tableWriter) pendingFor(pend []pendingRef, byLine map[int64]*row) {
	for _, p := range pend {
		r := byLine[p.line]
		p.master = r.master
		if !w.tp.t.Mapped {
			p.key = w.keyValues(r)
		}
		w.f.pending = append(w.f.pending, p)
	}
}

func (w *tableWriter) keyValues(r *row) []any {
	key := make([]any, len(w.tp.keyIdx))
	for i, k := range w.tp.keyIdx {
		key[i] = r.vals[k]
	}
	return key
}

func (w *tableWriter) colNames() []string {
	names := make([]string, len(w.tp.cols))
	for i, c := range w.tp.cols {
		names[i] = c.name
	}
	return names
}

func (w *tableWriter) flushMapped(ctx context.Context) error {
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
	inserts, updates, err := w.split(ctx)
	if err != nil {
		return err
	}
	if err := w.update(ctx, updates, pendingLines(pend)); err != nil {
		return err
	}
	existed := setOf(w.f.updated, w.tp.t.Name)
	for _, r := range updates {
		existed.add(r.master)
	}
	if err := w.insert(ctx, inserts); err != nil {
		return err
	}
	w.f.remember(w.tp, w.rows)
	byLine := make(map[int64]*row, len(w.rows))
	sent := w.f.sentSet(w.tp.t.Name)
	for _, r := range w.rows {
		byLine[r.line] = r
		sent.add(r.master)
	}
	w.pendingFor(pend, byLine)
	return nil
}

// split sorts the batch into rows to insert and rows to update. A row
// whose mapping points at a master row that no longer exists is inserted
// again and remapped (r.master stays the old ID until then, marking it).
func (w *tableWriter) split(ctx context.Context) (inserts, updates []*row, err error) {
	var mapped []int64
	for _, r := range w.rows {
		if m, ok := w.f.cache.get(w.tp.t.Name, r.id); ok {
			r.master = m
			mapped = append(mapped, m)
		}
	}
	exists, err := w.existing(ctx, mapped)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range w.rows {
		switch {
		case r.master == 0:
			inserts = append(inserts, r)
		case exists[r.master]:
			updates = append(updates, r)
		default:
			w.f.warn("table %s: child ID %d was mapped to master ID %d, which no longer exists on the master; inserting it again", w.tp.t.Name, r.id, r.master)
			inserts = append(inserts, r)
		}
	}
	return inserts, updates, nil
}

// existing returns which of the master IDs exist in the table.
func (w *tableWriter) existing(ctx context.Context, ids []int64) (map[int64]bool, error) {
	found := map[int64]bool{}
	if len(ids) == 0 {
		return found, nil
	}
	key := w.tp.t.Key[0]
	err := padded(ids, func(size int, args []any) error {
		q, err := selectInSQL(w.tp.t.Name, []string{key}, key, size)
		if err != nil {
			return err
		}
		return w.f.query(ctx, q, args, func(scan func(...any) error) error {
			var id int64
			if err := scan(&id); err != nil {
				return err
			}
			found[id] = true
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("table %s: check rows: %w", w.tp.t.Name, err)
	}
	return found, nil
}

// update writes rows that exist on the master and counts those the server
// changed: an unchanged row is not an update. A row with a reference
// queued for the second pass (pointing[line]) is counted as changed
// whatever its first write did: that reference goes to a row this file
// inserts, which no master row can have pointed at before.
func (w *tableWriter) update(ctx context.Context, rows []*row, pointing map[int64]bool) error {
	if len(rows) == 0 {
		return nil
	}
	var plain, later []*row
	for _, r := range rows {
		if pointing[r.line] {
			later = append(later, r)
		} else {
			plain = append(plain, r)
		}
	}
	changed, err := w.updateBulk(ctx, plain)
	if err != nil {
		return err
	}
	if _, err := w.updateBulk(ctx, later); err != nil {
		return err
	}
	w.f.tableStats(w.tp.t.Name).Updated += changed + int64(len(later))
	return nil
}

// pendingLines lists the lines of the rows with a reference queued for the
// second pass.
func pendingLines(pend []pendingRef) map[int64]bool {
	lines := make(map[int64]bool, len(pend))
	for _, p := range pend {
		lines[p.line] = true
	}
	return lines
}

// updateSizes are the row counts a multi-row UPDATE is prepared for; a
// shorter chunk is padded to the next size by repeating its last row (a
// repeated WHEN gives the same value, a repeated IN value changes nothing),
// so a table needs only a few prepared statements.
var updateSizes = []int{4, 16, 64}

// updateBulk updates rows that exist on the master (the caller checked,
// by master ID) a chunk per statement: UPDATE ... SET c = CASE id WHEN ?
// THEN ? ... END WHERE id IN (...). Being an UPDATE, it can never insert a
// row, and triggers fire per row exactly as for one UPDATE per row. When
// a chunk's statement fails (a unique key, a value the master refuses),
// the server has rolled back that statement alone; the chunk is then
// applied one row at a time, as before, so that the outcome and the error
// (naming the row's line) are the per-row ones. It returns how many rows
// the server changed (the driver reports changed rows, not matched ones).
func (w *tableWriter) updateBulk(ctx context.Context, rows []*row) (int64, error) {
	var changed int64
	limit := updateSizes[len(updateSizes)-1]
	if perRow := 2*len(w.tp.cols) + 1; limit*perRow > w.f.limits.params {
		limit = max(1, w.f.limits.params/perRow)
	}
	for start := 0; start < len(rows); {
		n := min(limit, len(rows)-start)
		size := limit
		for _, s := range updateSizes {
			if s >= n && s < size {
				size = s
			}
		}
		chunk := rows[start : start+n]
		start += n
		var n64 int64
		var err error
		if size < 2 || n < 2 {
			n64, err = w.updateRows(ctx, chunk)
		} else if n64, err = w.updateChunk(ctx, chunk, size); err != nil {
			if !statementRefused(ctx, err) {
				return 0, w.batchError("update", err)
			}
			n64, err = w.updateRows(ctx, chunk)
		}
		if err != nil {
			return 0, err
		}
		changed += n64
	}
	return changed, nil
}

// updateChunk updates rows with one statement padded to size rows (the
// padding repeats the last row, which changes nothing more) and returns
// how many rows it changed.
func (w *tableWriter) updateChunk(ctx context.Context, rows []*row, size int) (int64, error) {
	t := w.tp.t
	q, err := updateCaseSQL(t.Name, w.colNames(), t.Key[0], size)
	if err != nil {
		return 0, fmt.Errorf("table %s: %w", t.Name, err)
	}
	at := func(i int) *row { return rows[min(i, len(rows)-1)] }
	args := make([]any, 0, size*(2*len(w.tp.cols)+1))
	for c := range w.tp.cols {
		for i := range size {
			r := at(i)
			args = append(args, r.master, r.vals[c])
		}
	}
	for i := range size {
		args = append(args, at(i).master)
	}
	changed, err := w.f.exec(ctx, q, args)
	if err != nil {
		return 0, err
	}
	if err := w.f.checkWarnings(ctx, t.Name); err != nil {
		return 0, w.batchError("update", err)
	}
	return changed, nil
}

// statementRefused reports an error after which the transaction goes on:
// the server refused one statement's values (a unique key, strict mode, a
// foreign key) and rolled back that statement alone. A deadlock, a lock
// wait timeout or a lost connection is not one: nothing may follow those.
func statementRefused(ctx context.Context, err error) bool {
	return ctx.Err() == nil && dataErrors[database.ErrorNumber(err)]
}

// updateRows updates rows one statement each and returns how many it
// changed.
func (w *tableWriter) updateRows(ctx context.Context, rows []*row) (int64, error) {
	q, err := updateSQL(w.tp.t.Name, w.colNames(), w.tp.t.Key)
	if err != nil {
		return 0, fmt.Errorf("table %s: %w", w.tp.t.Name, err)
	}
	st, err := w.f.stmts.get(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("table %s: %w", w.tp.t.Name, err)
	}
	var changed int64
	for _, r := range rows {
		args := append(append(make([]any, 0, len(r.vals)+1), r.vals...), r.master)
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return 0, w.rowError(r, "update", err)
		}
		if err := w.f.checkWarnings(ctx, w.tp.t.Name); err != nil {
			return 0, fmt.Errorf("line %d: %w", r.line, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, w.rowError(r, "update", err)
		}
		changed += n
	}
	return changed, nil
}

// insert adds rows with INSERT ... RETURNING: the server tells each row's
// new ID in row order, so nothing assumes consecutive IDs. It then records
// the mappings (or fixes them for re-inserted rows).
func (w *tableWriter) insert(ctx context.Context, rows []*row) error {
	if len(rows) == 0 {
		return nil
	}
	t := w.tp.t
	q, err := insertSQL(t.Name, w.colNames(), len(rows), t.Key[0])
	if err != nil {
		return fmt.Errorf("table %s: %w", t.Name, err)
	}
	args := make([]any, 0, len(rows)*len(w.tp.cols))
	for _, r := range rows {
		args = append(args, r.vals...)
	}
	ids := make([]int64, 0, len(rows))
	err = w.f.query(ctx, q, args, func(scan func(...any) error) error {
		var id int64
		if err := scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return w.batchError("insert", err)
	}
	if len(ids) != len(rows) {
		return fmt.Errorf("table %s: insert returned %d IDs for %d rows", t.Name, len(ids), len(rows))
	}
	if err := w.f.checkWarnings(ctx, t.Name); err != nil {
		return w.batchError("insert", err)
	}
	return w.recordInserted(ctx, rows, ids)
}

func (w *tableWriter) recordInserted(ctx context.Context, rows []*row, ids []int64) error {
	t := w.tp.t.Name
	pairs := make([]mapping.Pair, 0, len(rows))
	for i, r := range rows {
		if r.master != 0 {
			if err := w.f.store.Remap(ctx, t, r.id, ids[i]); err != nil {
				return err
			}
		} else {
			pairs = append(pairs, mapping.Pair{Child: r.id, Master: ids[i]})
		}
		r.master = ids[i]
		w.f.cache.put(t, r.id, ids[i])
	}
	if err := w.f.store.Insert(ctx, t, pairs); err != nil {
		return err
	}
	w.f.tableStats(t).Inserted += int64(len(rows))
	return nil
}

// rowError names the row by its child ID and line, never by its values.
func (w *tableWriter) rowError(r *row, op string, err error) error {
	if w.tp.t.Mapped {
		return fmt.Errorf("line %d: %s %s child ID %d: %w", r.line, op, w.tp.t.Name, r.id, sqlError(err))
	}
	return fmt.Errorf("line %d: %s %s: %w", r.line, op, w.tp.t.Name, sqlError(err))
}

func (w *tableWriter) batchError(op string, err error) error {
	first, last := w.rows[0].line, w.rows[len(w.rows)-1].line
	return fmt.Errorf("lines %d-%d: %s into %s: %w", first, last, op, w.tp.t.Name, sqlError(err))
}

// padded calls fn with chunks of ids, each padded (by repeating its last
// ID) to one of mapping.ChunkSizes, so a few prepared statements serve
// every chunk; fn gets the size to build its statement for.
func padded(ids []int64, fn func(size int, args []any) error) error {
	for start := 0; start < len(ids); start += mapping.ChunkSize {
		end := min(start+mapping.ChunkSize, len(ids))
		size := mapping.SizeFor(end - start)
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

// query runs a prepared query and calls each for every row, after which
// the result set is closed (the transaction's connection is then free).
func (f *fileRun) query(ctx context.Context, q string, args []any, each func(scan func(...any) error) error) error {
	st, err := f.stmts.get(ctx, q)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return sqlError(err)
	}
	return sqlError(database.ScanRows(rows, func(rows *sql.Rows) error { return each(rows.Scan) }))
}

// exec runs a prepared statement and returns the rows it affected.
func (f *fileRun) exec(ctx context.Context, q string, args []any) (int64, error) {
	st, err := f.stmts.get(ctx, q)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, sqlError(err)
	}
	return res.RowsAffected()
}
