package importer

import (
	"context"
	"fmt"
	"strings"
)

// secondPass fills the references that could not be written when their row
// arrived: those closing a cycle, pointing at their own table, or pointing
// forward in the file (polymorphic ones included). Every row of the file is
// on the master by now, so a target without a mapping rejects the file.
func (f *fileRun) secondPass(ctx context.Context) error {
	if len(f.pending) == 0 {
		return nil
	}
	need := map[string][]int64{}
	for _, p := range f.pending {
		need[p.target] = append(need[p.target], p.child)
	}
	if err := f.cache.resolve(ctx, need); err != nil {
		return fmt.Errorf("second pass: %w", err)
	}
	for _, p := range f.pending {
		if _, ok := f.cache.get(p.target, p.child); !ok {
			return f.fill(ctx, p) // rejects the file, naming the line
		}
	}
	if err := f.fillMapped(ctx); err != nil {
		return err
	}
	for _, p := range f.pending {
		if !p.tp.t.Mapped {
			if err := f.fill(ctx, p); err != nil {
				return err
			}
		}
	}
	f.pending = nil
	return nil
}

// fillsPerStatement bounds the rows one second-pass statement sets: the
// server tries a CASE's WHENs one by one, so its cost grows with the
// square of the rows per statement.
const fillsPerStatement = 64

// fillMapped fills the pending references of mapped tables, grouped by
// table and column, many rows per statement: UPDATE t SET c = CASE id
// WHEN ? THEN ? ... END WHERE id IN (...). Each row's column is set once,
// as one UPDATE per reference would; a refused statement (rolled back by
// the server alone) is done again one reference at a time, so its error
// names the line.
func (f *fileRun) fillMapped(ctx context.Context) error {
	type group struct {
		tp  *tablePlan
		col int
	}
	groups := map[group][]pendingRef{}
	var order []group
	for _, p := range f.pending {
		if !p.tp.t.Mapped {
			continue
		}
		g := group{p.tp, p.col}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], p)
	}
	for _, g := range order {
		refs := groups[g]
		for start := 0; start < len(refs); start += fillsPerStatement {
			chunk := refs[start:min(start+fillsPerStatement, len(refs))]
			if err := f.fillChunk(ctx, g.tp, g.col, chunk); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *fileRun) fillChunk(ctx context.Context, tp *tablePlan, col int, refs []pendingRef) error {
	// One row may hold a column once only: repeats (none are expected) go
	// one at a time, after the rest.
	seen := make(map[int64]bool, len(refs))
	var once, again []pendingRef
	for _, p := range refs {
		if seen[p.master] {
			again = append(again, p)
			continue
		}
		seen[p.master] = true
		once = append(once, p)
	}
	if len(once) > 1 {
		t := tp.t
		c := tp.cols[col].name
		size := fillsPerStatement
		for _, s := range updateSizes {
			if len(once) <= s && s < size {
				size = s
			}
		}
		q, err := updateCaseSQL(t.Name, []string{c}, t.Key[0], size)
		if err != nil {
			return err
		}
		if keep := f.facts.keepAutoUpdate(t.Name, []string{c}); keep != "" {
			q = strings.Replace(q, " WHERE ", keep+" WHERE ", 1)
		}
		args := make([]any, 0, 3*size)
		for i := range size {
			p := once[min(i, len(once)-1)]
			m, _ := f.cache.get(p.target, p.child)
			args = append(args, p.master, m)
		}
		for i := range size {
			args = append(args, once[min(i, len(once)-1)].master)
		}
		_, err = f.exec(ctx, q, args)
		if err == nil {
			once = nil
		} else if !statementRefused(ctx, err) {
			return fmt.Errorf("second pass: set %s.%s: %w", t.Name, c, err)
		}
	}
	for _, p := range append(once, again...) {
		if err := f.fill(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (f *fileRun) fill(ctx context.Context, p pendingRef) error {
	c := &p.tp.cols[p.col]
	m, ok := f.cache.get(p.target, p.child)
	if !ok {
		return rejectf(ErrUnresolved, "line %d: %s.%s references %s child ID %d, which is neither in this file nor mapped on the master (the file is not closed under references, or the master lost that row: run `tributary export --full` on the child)",
			p.line, p.tp.t.Name, c.name, p.target, p.child)
	}
	t := p.tp.t
	q, err := updateSQL(t.Name, []string{c.name}, t.Key)
	if err != nil {
		return err
	}
	if keep := f.facts.keepAutoUpdate(t.Name, []string{c.name}); keep != "" {
		q = strings.Replace(q, " WHERE ", keep+" WHERE ", 1)
	}
	args := []any{m}
	if t.Mapped {
		args = append(args, p.master)
	} else {
		args = append(args, p.key...)
	}
	if _, err := f.exec(ctx, q, args); err != nil {
		return fmt.Errorf("line %d: second pass: set %s.%s: %w", p.line, t.Name, c.name, err)
	}
	return nil
}
