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
		if err := f.fill(ctx, p); err != nil {
			return err
		}
	}
	f.pending = nil
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
