package schema

import (
	"fmt"
	"sort"
	"strings"

	"tributary/internal/exitcode"
)

// Problem is one way a map does not fit the database.
type Problem struct {
	Table   string
	Column  string // empty when the problem is the table's
	Message string
}

func (p Problem) String() string {
	switch {
	case p.Table == "":
		return p.Message
	case p.Column == "":
		return fmt.Sprintf("%s: %s", p.Table, p.Message)
	default:
		return fmt.Sprintf("%s.%s: %s", p.Table, p.Column, p.Message)
	}
}

// ProblemsError lists every problem found, not just the first, so that an
// admin can fix a map in one go.
type ProblemsError struct {
	Source   string
	Problems []Problem
}

// ExitCode makes a map that does not fit a configuration error (exit 2).
func (e *ProblemsError) ExitCode() int { return exitcode.Usage }

func (e *ProblemsError) Error() string {
	return fmt.Sprintf("map %s does not fit the database (%d problems):\n%s", e.Source, len(e.Problems), listProblems(e.Problems))
}

// listProblems puts each problem on an indented line of its own.
func listProblems(ps []Problem) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  " + p.String()
	}
	return strings.Join(lines, "\n")
}

type problems []Problem

func (ps *problems) add(table, column, format string, args ...any) {
	*ps = append(*ps, Problem{Table: table, Column: column, Message: fmt.Sprintf(format, args...)})
}

func (ps problems) sorted() []Problem {
	out := append([]Problem(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Column < out[j].Column
	})
	return out
}
