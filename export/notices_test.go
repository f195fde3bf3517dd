package export

import (
	"fmt"
	"strings"
	"testing"
)

// TestLeftOutSaidOncePerReason: rows left out are reported when a table
// leaves rows out for a reason it had not given before, not on every cron
// run; a full file that no longer leaves rows out for a reason forgets it,
// so that it is given again should it come back. -v gives it every time.
func TestLeftOutSaidOncePerReason(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(
		`INSERT INTO contact (id, name, modified) VALUES (1, 'Ann', '2001-01-01 00:00:01')`,
		`INSERT INTO kase (id, subject) VALUES (1, 'case')`,
		`INSERT INTO note (id, entity_table, entity_id, note, modified) VALUES
			(1, 'contact', 1, 'on a contact', '2001-01-01 00:00:01'),
			(2, 'kase',    1, 'on a case',    '2001-01-01 00:00:01')`)
	full := func(o *Options) { o.Full = true }
	verbose := func(o *Options) { o.Verbose = true }
	for i, step := range []struct {
		name  string
		sql   string // run first
		edit  []func(*Options)
		warns bool
	}{
		{name: "first full file", edit: []func(*Options){full}, warns: true},
		{name: "the same again", edit: []func(*Options){full}},
		{name: "an incremental file with another note on a case",
			sql: `INSERT INTO note (id, entity_table, entity_id, note, modified) VALUES (3, 'kase', 1, 'again', '2001-01-01 00:00:25')`},
		{name: "a new reason: a note on a contact that is gone",
			sql:   `INSERT INTO note (id, entity_table, entity_id, note, modified) VALUES (4, 'contact', 99, 'gone', '2001-01-01 00:00:35')`,
			warns: true},
		{name: "-v says it every time", edit: []func(*Options){full, verbose}, warns: true},
		{name: "a full file without rows on cases forgets that reason", sql: `DELETE FROM note WHERE entity_table = 'kase'`, edit: []func(*Options){full}},
		{name: "so it is said when it comes back",
			sql:   `INSERT INTO note (id, entity_table, entity_id, note, modified) VALUES (5, 'kase', 1, 'back', '2001-01-01 00:01:05')`,
			warns: true},
	} {
		clock := 10 * (i + 1) // seconds; each step's rows are in its window
		if step.sql != "" {
			f.exec(step.sql)
		}
		f.warnings = nil
		f.export(fmt.Sprintf("2001-01-01 00:%02d:%02d", clock/60, clock%60), step.edit...)
		var said []string
		for _, w := range f.warnings {
			if strings.Contains(w, "rows left out") {
				said = append(said, w)
			}
		}
		if (len(said) > 0) != step.warns {
			t.Errorf("%s: left-out warnings %q, want any: %t", step.name, said, step.warns)
		}
	}
}
