package export

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"tributary/schema"
)

// eachInt runs fn for the integer in the first column of every row.
func (c *closer) eachInt(ctx context.Context, query string, fn func(int64)) error {
	rows, err := c.q.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	var v sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return err
		}
		id, err := parseID(v)
		if err != nil {
			return err
		}
		fn(id)
	}
	return rows.Err()
}

// eachOwned runs fn for the key of each row read as (key, owner[, disc])
// whose owner is a row of table owner.
func (c *closer) eachOwned(ctx context.Context, o *schema.Table, owner string, fn func(int64), query string, args ...any) error {
	rows, err := c.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals, ptrs := rawRow(rows)
	poly := o.Ref(o.Owner).Polymorphic()
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if poly && string(vals[2]) != owner {
			continue // it hangs on a row of another table
		}
		id, err := parseID(vals[0])
		if err != nil {
			return err
		}
		fn(id)
	}
	return rows.Err()
}

// followed lists the references refColumns reads, in its order.
func followed(t *schema.Table) []*schema.Reference {
	var refs []*schema.Reference
	for _, r := range t.Refs {
		if !r.Shared {
			refs = append(refs, r)
		}
	}
	return refs
}

// refScan reads references: the query's columns are refs in order, each
// polymorphic one followed by its discriminator.
type refScan struct {
	query string
	args  []any
	refs  []*schema.Reference
	// owner and only: skip rows whose polymorphic owner reference names
	// another table than only (they hang on another owner).
	owner *schema.Reference
	only  string
	// pull brings the referenced rows in whatever their track value: they
	// are the owners of rows the file needs.
	pull bool
}

// target is one referenced row.
type target struct {
	table string
	id    int64
}

func (c *closer) scanRefs(ctx context.Context, rs refScan) error {
	return scanTargets(ctx, c.q, rs, func(f target) {
		if rs.pull {
			c.pull(f.table, f.id)
		} else {
			c.reference(f.table, f.id)
		}
	})
}

// scanTargets runs fn for every row a refScan's query references.
func scanTargets(ctx context.Context, q querier, rs refScan, fn func(target)) error {
	rows, err := q.QueryContext(ctx, rs.query, rs.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals, ptrs := rawRow(rows)
	var found []target
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if found, err = rs.targets(vals, found[:0]); err != nil {
			return err
		}
		for _, f := range found {
			fn(f)
		}
	}
	return rows.Err()
}

// targets lists the rows one row read by scanRefs references.
func (rs *refScan) targets(vals []sql.RawBytes, found []target) ([]target, error) {
	i := 0
	for _, r := range rs.refs {
		v, name := vals[i], r.Table
		i++
		if r.Polymorphic() {
			name = string(vals[i])
			i++
			if r == rs.owner && name != rs.only {
				return found[:0], nil
			}
		}
		if v == nil {
			continue
		}
		id, err := parseID(v)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", r.Column, err)
		}
		found = append(found, target{name, id})
	}
	return found, nil
}

// rawRow makes the scan destinations for a row of raw values.
func rawRow(rows *sql.Rows) ([]sql.RawBytes, []any) {
	cols, _ := rows.Columns()
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, ptrs
}

// parseID reads an integer the server printed.
func parseID(v []byte) (int64, error) {
	id, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("a reference or key is not an integer that fits 64 bits")
	}
	return id, nil
}
