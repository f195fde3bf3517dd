package schema

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"tributary/internal/exitcode"
)

// CheckMaster checks the master a child will feed, before its first file:
// the map is resolved on the master too, and every synced table must have
// the same role and key there; every column the child sends must exist on
// the master with a type that holds the child's values; every column the
// master requires must be sent; and no unique key of the master may let
// two children collide. It returns the master's schema (nil when the map
// does not fit the master at all) and every problem found; an error only
// when the master could not be read.
func CheckMaster(ctx context.Context, master *sqlx.DB, m *Map, child *Schema) (*Schema, []Problem, error) {
	ms, err := Resolve(ctx, master, m)
	var pe *ProblemsError
	if errors.As(err, &pe) {
		return nil, pe.Problems, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var ps problems
	for _, ct := range child.Tables {
		mt, ok := ms.Table(ct.Name)
		if !ok {
			continue // the same map resolved on both sides: cannot happen
		}
		compareTable(&ps, ct, mt)
		requiredColumns(&ps, ct, mt)
	}
	for _, mt := range ms.Tables {
		for _, k := range ms.CollidingKeys(mt) {
			if mt.Policy(k) != "" {
				continue
			}
			ps.add(mt.Name, "", "unique key %s (%s) on the master: two branches, or a branch and the master's own rows, may hold the same value, and the file that brings it second is rejected. Give the key a policy in the map under %s: %s",
				k.Name, strings.Join(k.Columns, ", "), mt.Name, PolicyHint(k))
		}
	}
	return ms, ps.sorted(), nil
}

// compareTable: the same role and key on both sides (import rejects a file
// whose header says otherwise), and every synced column there, able to
// hold the child's values.
func compareTable(ps *problems, child, master *Table) {
	if roleText(child) != roleText(master) {
		ps.add(child.Name, "", "%s here but %s on the master%s: the master would reject every file; run the same release on both, or one with the same change stamps",
			roleWithNote(child), roleText(master), noteText(master))
	}
	if !slices.Equal(child.Key, master.Key) {
		ps.add(child.Name, "", "key (%s) here but (%s) on the master: the master would reject every file", strings.Join(child.Key, ", "), strings.Join(master.Key, ", "))
	}
	for _, c := range child.Columns {
		mc, ok := master.Column(c.Name)
		if !ok {
			ps.add(child.Name, c.Name, "synced here but missing or excluded on the master: the master would reject every file")
			continue
		}
		if why := holds(c, *mc); why != "" {
			ps.add(child.Name, c.Name, "%s here, %s on the master: %s", columnText(c), columnText(*mc), why)
		}
	}
}

// requiredColumns: a master column that the child does not send (the
// child lacks it, or the map excludes it) is left to its default on
// insert; without one (NOT NULL, no DEFAULT) every insert of the table
// fails.
func requiredColumns(ps *problems, child, master *Table) {
	for _, mc := range master.all {
		if _, sent := child.Column(mc.Name); sent || mc.HasDefault {
			continue
		}
		ps.add(master.Name, mc.Name, "NOT NULL without a default on the master, and this child does not send it: every new row would be rejected")
	}
}

func roleWithNote(t *Table) string { return roleText(t) + noteText(t) }

func noteText(t *Table) string {
	if t.RoleNote == "" {
		return ""
	}
	return " (" + t.RoleNote + ")"
}

func columnText(c Column) string {
	s := c.ColumnType
	if c.Charset != "" {
		s += " " + charsetName(c.Charset)
	}
	if c.Nullable {
		return s + " NULL"
	}
	return s + " NOT NULL"
}

// MasterProblemsError lists everything that keeps a master from taking a
// child's files, so that an admin can fix the master in one go.
type MasterProblemsError struct {
	Master   string // the master database
	Problems []Problem
}

// ExitCode makes a master that does not fit a configuration error (exit 2).
func (e *MasterProblemsError) ExitCode() int { return exitcode.Usage }

func (e *MasterProblemsError) Error() string {
	return fmt.Sprintf("master %s is not ready for this child (%d problems):\n%s", e.Master, len(e.Problems), listProblems(e.Problems))
}
