package export

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"tributary/internal/database"
	"tributary/schema"
)

// Change detection by digests (`detect: checksum`, DESIGN.md section 3).
// The child's server hashes the rows in bulk, in the export's snapshot,
// with one GROUP BY per table (database.RowHash); export compares the
// chunks with the digests the last file left and puts in the file:
//   - owner tables: chunks of owner IDs (ownerChunk of them); a changed
//     chunk sends the owner rows of that chunk, which bring their whole
//     owned sets, which the master already makes equal;
//   - snapshot tables: one digest of the table, of the tables it owns
//     (they go whole with it) and of the rows polymorphic owner tables hang
//     on it; the group is sent whole when one of them changed and is
//     otherwise left out of the file, header included, so the master
//     keeps its rows;
//   - track tables (an audit, every --audit-every files): chunks of IDs
//     (auditChunk of them); a changed chunk sends its rows, and the live
//     ranges every incremental file carries delete the vanished ones.
//
// Digests that cannot be compared (missing, damaged, from another file)
// make every chunk count as changed: owner tables send every owner row,
// snapshots go whole, audited track tables send every row.
const (
	ownerChunk = 10
	auditChunk = 1000
	// chunksPerQuery bounds the ID ranges one look-up of a changed chunk's
	// rows names.
	chunksPerQuery = 500
)

// detection is what the digests decided for one export.
type detection struct {
	// quiet are the tables of unchanged snapshot groups: they stay out of
	// the file.
	quiet map[*schema.Table]bool
	// pulls read IDs of rows that go into the file because their chunk
	// changed.
	pulls []pull
	// next are the digests of this snapshot, saved once the file is.
	next *Digests
	// changed counts, per table with checksum detection, the chunks that
	// changed (-1: everything, the old digests could not be compared).
	changed map[string]int
	// unusable says why the old digests could not be used ("" if they
	// could, or there were none to use).
	unusable string
}

// pull is a query of IDs of table t whose rows go into the file.
type pull struct {
	t     *schema.Table
	query string
}

// checksumTables lists the tables with detect: checksum.
func checksumTables(s *schema.Schema) []*schema.Table {
	var out []*schema.Table
	for _, t := range s.Tables {
		if t.Checksum {
			out = append(out, t)
		}
	}
	return out
}

// snapshotRoot is the snapshot table a table goes whole with (itself for
// a snapshot), or nil.
func snapshotRoot(s *schema.Schema, t *schema.Table) *schema.Table {
	for depth := 0; depth <= len(s.Tables); depth++ {
		switch {
		case t.Role == schema.RoleSnapshot:
			return t
		case t.Role != schema.RoleOwner:
			return nil
		}
		ref := t.Ref(t.Owner)
		if ref == nil || ref.Polymorphic() {
			return nil
		}
		owner, ok := s.Table(ref.Table)
		if !ok {
			return nil
		}
		t = owner
	}
	return nil
}

// detector computes one export's digests.
type detector struct {
	q     querier
	s     *schema.Schema
	full  bool
	audit bool   // audit the track tables this time
	seq   uint64 // the sequence of the file being written
}

// detect computes the digests of this snapshot and compares them with
// prev (nil when they cannot be used, why says why).
func (d *detector) detect(ctx context.Context, prev *Digests, why string) (*detection, error) {
	det := &detection{quiet: map[*schema.Table]bool{}, changed: map[string]int{}}
	next := &Digests{Sequence: d.seq, Tables: map[string]*TableDigests{}}
	det.next = next
	switch {
	case d.audit || d.full:
		next.Audited = d.seq
	case prev != nil:
		next.Audited = prev.Audited
	}
	for _, t := range checksumTables(d.s) {
		var (
			cur *TableDigests
			err error
		)
		switch {
		case t.Role == schema.RoleSnapshot:
			cur, err = d.snapshotDigests(ctx, t)
		case t.Role == schema.RoleOwner:
			if snapshotRoot(d.s, t) != nil {
				continue // it goes whole with its snapshot, whose digest covers it
			}
			cur, err = d.ownerDigests(ctx, t)
		case t.Role == schema.RoleTrack && (d.audit || d.full):
			cur, err = d.auditDigests(ctx, t)
		default:
			// Not audited this time: the last audit's digests stay the base
			// of the next one.
			if prev != nil && prev.Tables[t.Name] != nil {
				next.Tables[t.Name] = prev.Tables[t.Name]
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("table %s: digests: %w", t.Name, err)
		}
		next.Tables[t.Name] = cur
		if d.full {
			continue
		}
		var old *TableDigests
		if prev != nil {
			old = prev.Tables[t.Name]
		}
		if old == nil || old.Shape != cur.Shape {
			det.changed[t.Name] = -1
			if why == "" {
				why = "it has no digests of table " + t.Name + " as the map now describes it"
			}
			if det.unusable == "" {
				det.unusable = why
			}
			d.whole(det, t)
			continue
		}
		keys := changedChunks(old, cur)
		det.changed[t.Name] = len(keys)
		if err := d.changedRows(det, t, keys); err != nil {
			return nil, fmt.Errorf("table %s: %w", t.Name, err)
		}
	}
	return det, nil
}

// changedChunks lists the chunks whose digests differ, or that are only
// on one side.
func changedChunks(old, cur *TableDigests) []string {
	var keys []string
	for k, v := range cur.Chunks {
		if old.Chunks[k] != v {
			keys = append(keys, k)
		}
	}
	for k := range old.Chunks {
		if _, ok := cur.Chunks[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// whole puts everything the table's detection covers into the file.
func (d *detector) whole(det *detection, t *schema.Table) {
	switch t.Role {
	case schema.RoleSnapshot:
		// not quiet: it goes whole, as without detection
	case schema.RoleTrack:
		det.pulls = append(det.pulls, pull{t: t, query: liveIDs(t)})
	case schema.RoleOwner:
		for _, o := range d.ownerTargets(t, "") {
			det.pulls = append(det.pulls, pull{t: o, query: liveIDs(o)})
		}
	}
}

// ownerTargets lists the mapped tables whose rows may own rows of owner
// table t: the reference's table, or for a polymorphic one the table disc
// names (every mapped table when disc is "").
func (d *detector) ownerTargets(t *schema.Table, disc string) []*schema.Table {
	ref := t.Ref(t.Owner)
	var out []*schema.Table
	for _, o := range d.s.Tables {
		switch {
		case !o.Mapped:
		case !ref.Polymorphic() && o.Name == ref.Table,
			ref.Polymorphic() && (disc == "" || disc == o.Name):
			out = append(out, o)
		}
	}
	return out
}

// changedRows turns changed chunks into what goes into the file.
func (d *detector) changedRows(det *detection, t *schema.Table, keys []string) error {
	if len(keys) == 0 {
		if t.Role == schema.RoleSnapshot {
			for _, m := range d.s.Tables {
				if snapshotRoot(d.s, m) == t {
					det.quiet[m] = true
				}
			}
		}
		return nil
	}
	size := int64(ownerChunk)
	if t.Role == schema.RoleTrack {
		size = auditChunk
	}
	byTable := map[*schema.Table][]int64{}
	for _, key := range keys {
		disc, num, _ := strings.Cut(key, "/")
		if t.Role != schema.RoleOwner || !t.Ref(t.Owner).Polymorphic() {
			disc, num = "", key
		}
		if t.Role == schema.RoleSnapshot {
			return nil // the group goes whole
		}
		k, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return fmt.Errorf("chunk %q: %w", key, err)
		}
		targets := []*schema.Table{t}
		if t.Role == schema.RoleOwner {
			targets = d.ownerTargets(t, disc)
		}
		for _, o := range targets {
			byTable[o] = append(byTable[o], k)
		}
	}
	for _, o := range d.s.Tables { // a fixed order
		chunks := byTable[o]
		for len(chunks) > 0 {
			n := min(len(chunks), chunksPerQuery)
			det.pulls = append(det.pulls, pull{t: o, query: chunkIDs(o, chunks[:n], size)})
			chunks = chunks[n:]
		}
	}
	return nil
}

// chunkIDs reads the IDs of t in the chunks given (chunk k holds the IDs
// from k*size to k*size+size-1), in ranges the primary key serves.
func chunkIDs(t *schema.Table, chunks []int64, size int64) string {
	key := q(t.Key[0])
	conds := make([]string, len(chunks))
	for i, k := range chunks {
		lo := k * size
		conds[i] = "(" + key + " BETWEEN " + strconv.FormatInt(lo, 10) + " AND " + strconv.FormatInt(lo+size-1, 10) + ")"
	}
	return "SELECT " + key + " FROM " + q(t.Name) + " WHERE " + strings.Join(conds, " OR ")
}

// hashExprs are the quoted synced columns of t, what its digests hash:
// an excluded column never leaves the child, so its changes do not count.
func hashExprs(t *schema.Table) []string {
	names := t.ColumnNames()
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = q(n)
	}
	return out
}

func shape(kind string, t *schema.Table) string {
	return kind + " " + strings.Join(t.ColumnNames(), ",")
}

// ownerDigests hashes an owner table in chunks of owner IDs (per
// discriminator value for a polymorphic owner).
func (d *detector) ownerDigests(ctx context.Context, t *schema.Table) (*TableDigests, error) {
	ref := t.Ref(t.Owner)
	owner := q(t.Owner)
	size := strconv.Itoa(ownerChunk)
	sel, group := owner+" DIV "+size, "1"
	if ref.Polymorphic() {
		sel, group = q(ref.TableFrom)+", "+sel, "1, 2"
	}
	query := "SELECT " + sel + ", " + database.RowHash(hashExprs(t)) + " FROM " + q(t.Name) +
		" WHERE " + owner + " IS NOT NULL GROUP BY " + group
	td := &TableDigests{Shape: shape("owner "+t.Owner+" DIV "+size, t), Chunks: map[string]string{}}
	rows, err := d.q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			disc  sql.NullString
			k     int64
			n     int64
			hash  uint64
			dests = []any{&k, &n, &hash}
		)
		if ref.Polymorphic() {
			dests = append([]any{&disc}, dests...)
		}
		if err := rows.Scan(dests...); err != nil {
			return nil, err
		}
		key := strconv.FormatInt(k, 10)
		if ref.Polymorphic() {
			if !disc.Valid {
				continue // no owner: never sent
			}
			key = disc.String + "/" + key
		}
		td.Chunks[key] = digestValue(n, hash)
	}
	return td, rows.Err()
}

// auditDigests hashes a track table in chunks of IDs.
func (d *detector) auditDigests(ctx context.Context, t *schema.Table) (*TableDigests, error) {
	size := strconv.Itoa(auditChunk)
	query := "SELECT " + q(t.Key[0]) + " DIV " + size + ", " + database.RowHash(hashExprs(t)) + " FROM " + q(t.Name) + " GROUP BY 1"
	td := &TableDigests{Shape: shape("track "+t.Key[0]+" DIV "+size, t), Chunks: map[string]string{}}
	rows, err := d.q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k, n int64
		var hash uint64
		if err := rows.Scan(&k, &n, &hash); err != nil {
			return nil, err
		}
		td.Chunks[strconv.FormatInt(k, 10)] = digestValue(n, hash)
	}
	return td, rows.Err()
}

// snapshotDigests hashes a snapshot table with everything that goes whole
// with it: the tables it owns, and the rows polymorphic owner tables hang
// on it.
func (d *detector) snapshotDigests(ctx context.Context, t *schema.Table) (*TableDigests, error) {
	td := &TableDigests{Chunks: map[string]string{}}
	var shapes []string
	one := func(key, query string, args ...any) error {
		var n int64
		var hash uint64
		if err := queryRow(ctx, d.q, query, args, &n, &hash); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		td.Chunks[key] = digestValue(n, hash)
		return nil
	}
	for _, m := range d.s.Tables {
		var err error
		switch {
		case snapshotRoot(d.s, m) == t:
			shapes = append(shapes, shape(m.Name, m))
			err = one(m.Name, "SELECT "+database.RowHash(hashExprs(m))+" FROM "+q(m.Name))
		case m.Role == schema.RoleOwner && m.Ref(m.Owner).Polymorphic() && snapshotRoot(d.s, m) == nil:
			ref := m.Ref(m.Owner)
			shapes = append(shapes, shape(m.Name+"@"+ref.TableFrom, m))
			err = one(m.Name+"@", "SELECT "+database.RowHash(hashExprs(m))+" FROM "+q(m.Name)+
				" WHERE "+q(ref.TableFrom)+" = ? AND "+q(m.Owner)+" IS NOT NULL", t.Name)
		}
		if err != nil {
			return nil, err
		}
	}
	td.Shape = "snapshot " + strings.Join(shapes, "; ")
	return td, nil
}

func queryRow(ctx context.Context, qr querier, query string, args []any, dest ...any) error {
	rows, err := qr.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

func digestValue(rows int64, hash uint64) string {
	return strconv.FormatInt(rows, 10) + ":" + strconv.FormatUint(hash, 16)
}

// leavesOut reports whether table t stays out of the file: an unchanged
// snapshot group.
func (det *detection) leavesOut(t *schema.Table) bool {
	return det != nil && det.quiet[t]
}
