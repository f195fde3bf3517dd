package export

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"tributary/schema"
)

// querier is what the export reads through: the session's pinned connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// leftOut holds the rows no file may carry, each with the reason why.
//
// A row is left out when a polymorphic reference names a table that is
// neither synced nor shared (DESIGN.md section 3); when a reference the
// database does not enforce (one added by the map, or polymorphic) points
// at a row that does not exist; and when it references a row left out. The
// master could not resolve such a reference, and one such row would make
// every file of the prefix fail on import. The sets are small: they hold
// only these anomalies, never the rows that are fine.
type leftOut struct {
	rows map[*schema.Table]map[string]string // table -> row key -> reason
}

func (l *leftOut) has(t *schema.Table) bool { return len(l.rows[t]) > 0 }

// reason says why the row with this key is left out; "" when it is not.
func (l *leftOut) reason(t *schema.Table, key string) string { return l.rows[t][key] }

func (l *leftOut) add(t *schema.Table, key, reason string) bool {
	if l.rows[t] == nil {
		l.rows[t] = map[string]string{}
	}
	if _, seen := l.rows[t][key]; seen {
		return false
	}
	l.rows[t][key] = reason
	return true
}

// scope is the part of a table the left-out checks look at: all of it, or
// the rows whose column col holds one of ids (the key of a mapped table,
// the owner column of a composite-key one).
type scope struct {
	all bool
	col string
	ids idSet
}

// conds restricts a query on alias to the scope: one condition per batch
// of IDs, or a single empty one for the whole table.
func (sc *scope) conds(alias string) []string {
	if sc.all {
		return []string{""}
	}
	var out []string
	for _, b := range batches(sc.ids.sorted()) {
		out = append(out, " AND "+alias+q(sc.col)+" IN ("+inList(b)+")")
	}
	return out
}

// finder computes the left-out rows inside the export's snapshot.
type finder struct {
	q   querier
	s   *schema.Schema
	out *leftOut
	// fresh are the mapped rows left out since their referrers were last
	// looked for: leaving a row out leaves out the rows that reference it.
	fresh map[*schema.Table][]int64
}

// findLeftOut finds the rows to leave out. A full file checks every row
// (scopes nil); an incremental file only the rows in scopes (see reach),
// so that its cost follows the file, not the tables. Leaving a row out
// always leaves out every row that references it, table-wide.
func findLeftOut(ctx context.Context, q querier, s *schema.Schema, scopes map[*schema.Table]*scope) (*leftOut, error) {
	out := &leftOut{rows: map[*schema.Table]map[string]string{}}
	f := &finder{q: q, s: s, out: out, fresh: map[*schema.Table][]int64{}}
	for _, t := range s.Tables {
		sc := &scope{all: true}
		if scopes != nil {
			sc = scopes[t]
		}
		if sc == nil || (!sc.all && len(sc.ids) == 0) {
			continue
		}
		for _, r := range t.Refs {
			var err error
			switch {
			case r.Shared:
			case r.Polymorphic():
				err = f.polymorphic(ctx, t, r, sc)
			case !enforced(r):
				if target, ok := s.Table(r.Table); ok {
					err = f.dangling(ctx, t, r, target, sc)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("table %s: column %s: %w", t.Name, r.Column, err)
			}
		}
	}
	if err := f.propagate(ctx); err != nil {
		return nil, err
	}
	return f.out, nil
}

// enforced reports whether the database guarantees that r points at an
// existing row: it is a declared foreign key, which schema marks with its
// ON DELETE action (empty when the reference exists only in the map).
func enforced(r *schema.Reference) bool { return r.Declared }

// polymorphic checks each table a discriminator names. Values are compared
// byte for byte, as import will compare them.
func (f *finder) polymorphic(ctx context.Context, t *schema.Table, r *schema.Reference, sc *scope) error {
	names := map[sql.NullString]bool{}
	for _, cond := range sc.conds("") {
		query := "SELECT DISTINCT CAST(" + q(r.TableFrom) + " AS BINARY) FROM " + q(t.Name) + " WHERE " + q(r.Column) + " IS NOT NULL" + cond
		if err := f.distinct(ctx, query, names); err != nil {
			return err
		}
	}
	for name := range names {
		if err := f.discriminated(ctx, t, r, name, sc); err != nil {
			return err
		}
	}
	return nil
}

// distinct adds the values of a one-column query to names.
func (f *finder) distinct(ctx context.Context, query string, names map[sql.NullString]bool) error {
	rows, err := f.q.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n sql.NullString
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names[n] = true
	}
	return rows.Err()
}

func (f *finder) discriminated(ctx context.Context, t *schema.Table, r *schema.Reference, name sql.NullString, sc *scope) error {
	if name.Valid && f.s.IsShared(name.String) {
		return nil
	}
	if target, ok := f.s.Table(name.String); ok && name.Valid && target.Mapped {
		return f.dangling(ctx, t, r, target, sc)
	}
	reason := fmt.Sprintf("%s is NULL", r.TableFrom)
	where := " WHERE " + q(r.TableFrom) + " IS NULL"
	var args []any
	if name.Valid {
		reason = fmt.Sprintf("%s names %s, which is neither synced nor shared", r.TableFrom, name.String)
		where = " WHERE " + q(r.TableFrom) + " = ?"
		args = append(args, name.String)
	}
	for _, cond := range sc.conds("") {
		query := "SELECT " + keyExpr(t, "") + ", " + q(r.TableFrom) + " FROM " + q(t.Name) + where + " AND " + q(r.Column) + " IS NOT NULL" + cond
		if err := f.collect(ctx, t, name, reason, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// dangling finds rows whose reference to target points at no row.
func (f *finder) dangling(ctx context.Context, t *schema.Table, r *schema.Reference, target *schema.Table, sc *scope) error {
	disc, where := "NULL", ""
	var args []any
	if r.Polymorphic() {
		disc, where = "c."+q(r.TableFrom), " AND c."+q(r.TableFrom)+" = ?"
		args = append(args, target.Name)
	}
	reason := fmt.Sprintf("%s references a %s row that does not exist", r.Column, target.Name)
	for _, cond := range sc.conds("c.") {
		query := "SELECT " + keyExpr(t, "c.") + ", " + disc + " FROM " + q(t.Name) + " AS c LEFT JOIN " + q(target.Name) + " AS p ON p." + q(target.Key[0]) + " = c." + q(r.Column) +
			" WHERE c." + q(r.Column) + " IS NOT NULL" + where + " AND p." + q(target.Key[0]) + " IS NULL" + cond
		if err := f.collect(ctx, t, sql.NullString{String: target.Name, Valid: r.Polymorphic()}, reason, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// collect leaves out the rows a query returns as (key, discriminator),
// keeping only those whose discriminator is exactly disc when disc is set.
func (f *finder) collect(ctx context.Context, t *schema.Table, disc sql.NullString, reason, query string, args ...any) error {
	rows, err := f.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var d sql.NullString
		if err := rows.Scan(&key, &d); err != nil {
			return err
		}
		if disc.Valid && d.String != disc.String {
			continue // another spelling; it has a check of its own
		}
		if err := f.leave(t, key, reason); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (f *finder) leave(t *schema.Table, key, reason string) error {
	if !f.out.add(t, key, reason) || !t.Mapped {
		return nil // only a mapped row can be referenced
	}
	id, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return fmt.Errorf("key %q is not an integer", key)
	}
	f.fresh[t] = append(f.fresh[t], id)
	return nil
}

// propagate leaves out every row that references a row left out, until
// nothing changes.
func (f *finder) propagate(ctx context.Context) error {
	for len(f.fresh) > 0 {
		fresh := f.fresh
		f.fresh = map[*schema.Table][]int64{}
		for _, target := range f.s.Tables { // in order, so reasons are stable
			if ids := fresh[target]; len(ids) > 0 {
				if err := f.referrers(ctx, target, ids); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (f *finder) referrers(ctx context.Context, target *schema.Table, ids []int64) error {
	for _, t := range f.s.Tables {
		for _, r := range t.Refs {
			if r.Shared || (!r.Polymorphic() && r.Table != target.Name) {
				continue
			}
			disc := "NULL"
			var args []any
			where := ""
			if r.Polymorphic() {
				disc, where = q(r.TableFrom), " AND "+q(r.TableFrom)+" = ?"
				args = append(args, target.Name)
			}
			reason := fmt.Sprintf("%s references a %s row that is left out", r.Column, target.Name)
			for _, batch := range batches(ids) {
				query := "SELECT " + keyExpr(t, "") + ", " + disc + " FROM " + q(t.Name) + whereIn(r.Column, batch) + where
				err := f.collect(ctx, t, sql.NullString{String: target.Name, Valid: r.Polymorphic()}, reason, query, args...)
				if err != nil {
					return fmt.Errorf("table %s: column %s: %w", t.Name, r.Column, err)
				}
			}
		}
	}
	return nil
}

// batches cuts ids into IN lists of at most batchSize.
func batches(ids []int64) [][]int64 {
	var out [][]int64
	for len(ids) > batchSize {
		out = append(out, ids[:batchSize])
		ids = ids[batchSize:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
