// Package repair knows what the master does behind an import's back and
// undoes it: ON UPDATE CURRENT_TIMESTAMP columns (statements that set only
// some columns keep them as they are) and triggers that assign columns of
// synced tables (once a file's writes are done, its rows get the file's
// values back). What the master's triggers do is read once per run
// (Load); the values to give back are gathered by the first pass
// (Values) and written by Restore, the last pass before the checks.
package repair

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"tributary/internal/database"
	"tributary/schema"
)

// Facts is what the import must know about the master beyond the map:
// columns the server or triggers change behind an UPDATE or INSERT, which
// would make the master's copy drift from the child's. A nil *Facts knows
// of none.
type Facts struct {
	// autoUpdate: ON UPDATE CURRENT_TIMESTAMP columns per synced table.
	// Statements that change only some columns (second pass, SET NULL)
	// set them to themselves, so they keep the child's value, as a child's
	// foreign-key action keeps it.
	autoUpdate map[string][]string
	// repair: per synced table, the columns that triggers on the master
	// assign (a BEFORE trigger setting NEW.created_date, an AFTER trigger on
	// civicrm_email bumping civicrm_contact.modified_date). Once a file is
	// applied, its rows of these tables get the file's values back.
	repair map[string][]string
	// opaque lists triggers touching synced tables whose effect could not be
	// read (compound bodies, inserts, deletes): they may change rows.
	opaque []string
}

var (
	setNewRE    = regexp.MustCompile("(?i)\\bNEW\\.`?([A-Za-z0-9_$]+)`?\\s*=")
	updateSetRE = regexp.MustCompile("(?is)^\\s*UPDATE\\s+`?([A-Za-z0-9_$]+)`?\\s+SET\\s+(.*?)(\\s+WHERE\\s.*)?$")
	assignRE    = regexp.MustCompile("(?:^|,)\\s*`?([A-Za-z0-9_$]+)`?\\s*=")
	blockRE     = regexp.MustCompile("(?is)^BEGIN\\s(.*)\\sEND$")
	// compoundRE: a statement that starts a block, a declaration, a
	// condition, a loop or a label (control flow decides what runs).
	compoundRE = regexp.MustCompile("(?i)^(?:(?:BEGIN|END|DECLARE|IF|ELSE|ELSEIF|CASE|WHEN|WHILE|LOOP|REPEAT|LEAVE|ITERATE|RETURN|SIGNAL|RESIGNAL|CALL|PREPARE|EXECUTE|OPEN|FETCH|CLOSE)\\b|`?[A-Za-z0-9_$]+`?\\s*:)")
)

// Load reads the master's auto-updated columns and triggers. Triggers are
// visible in information_schema only to an account with the TRIGGER
// privilege; without it none are seen and none are repaired.
func Load(ctx context.Context, db *sql.DB, s *schema.Schema) (*Facts, error) {
	f := &Facts{autoUpdate: map[string][]string{}, repair: map[string][]string{}}
	if err := f.loadAutoUpdate(ctx, db, s); err != nil {
		return nil, err
	}
	if err := f.loadTriggers(ctx, db, s); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Facts) loadAutoUpdate(ctx context.Context, db *sql.DB, s *schema.Schema) error {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND EXTRA LIKE ? ORDER BY TABLE_NAME, ORDINAL_POSITION`, "%on update%")
	if err != nil {
		return fmt.Errorf("read the master's columns: %w", err)
	}
	err = database.ScanRows(rows, func(rows *sql.Rows) error {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return err
		}
		if _, synced := s.Table(table); synced {
			f.autoUpdate[table] = append(f.autoUpdate[table], col)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the master's columns: %w", err)
	}
	return nil
}

func (f *Facts) loadTriggers(ctx context.Context, db *sql.DB, s *schema.Schema) error {
	rows, err := db.QueryContext(ctx, `SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, ACTION_STATEMENT
		FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME`)
	if err != nil {
		return fmt.Errorf("read the master's triggers: %w", err)
	}
	err = database.ScanRows(rows, func(rows *sql.Rows) error {
		var name, table, timing string
		var body sql.NullString // NULL: the account lacks TRIGGER and may not read it
		if err := rows.Scan(&name, &table, &timing, &body); err != nil {
			return err
		}
		if !body.Valid {
			if _, synced := s.Table(table); synced {
				f.opaque = append(f.opaque, name+" (hidden from this account: GRANT TRIGGER lets import read it)")
			}
			return nil
		}
		f.addTrigger(s, name, table, timing, body.String)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the master's triggers: %w", err)
	}
	for t := range f.repair {
		sort.Strings(f.repair[t])
		f.repair[t] = slices.Compact(f.repair[t])
	}
	return nil
}

// addTrigger learns what one trigger assigns: NEW.col in a BEFORE trigger
// of a synced table through a SET, or the columns of an UPDATE of a synced
// table. A body is one such statement, or a BEGIN ... END block of them,
// the form CiviCRM gives every trigger it creates. Any other trigger on,
// or naming, a synced table is opaque.
func (f *Facts) addTrigger(s *schema.Schema, name, table, timing, body string) {
	_, onSynced := s.Table(table)
	before := strings.EqualFold(timing, "BEFORE") && onSynced
	stmts, ok := triggerStatements(body)
	if !ok {
		if mentionsSynced(s, body) || (before && setNewRE.MatchString(body)) {
			f.opaque = append(f.opaque, name)
		}
		return
	}
	var repairs [][2]string
	for _, stmt := range stmts {
		isSet := strings.HasPrefix(strings.ToUpper(stmt), "SET ")
		switch m := updateSetRE.FindStringSubmatch(stmt); {
		case before && isSet:
			for _, a := range setNewRE.FindAllStringSubmatch(stmt, -1) {
				repairs = append(repairs, [2]string{table, a[1]})
			}
		case m != nil:
			if _, synced := s.Table(m[1]); synced {
				for _, a := range assignRE.FindAllStringSubmatch(m[2], -1) {
					repairs = append(repairs, [2]string{m[1], a[1]})
				}
			}
		case mentionsSynced(s, stmt) || (before && setNewRE.MatchString(stmt)):
			f.opaque = append(f.opaque, name)
			return
		}
	}
	for _, r := range repairs {
		f.addRepair(s, r[0], r[1])
	}
}

// triggerStatements splits a trigger body into its statements: the body
// itself, or the statements of a BEGIN ... END block. It refuses bodies
// with anything but plain statements (declarations, IF, loops, nested
// blocks, string literals that might hide a ';'), whose effect cannot be
// read off them.
func triggerStatements(body string) ([]string, bool) {
	trimmed := strings.TrimSpace(body)
	m := blockRE.FindStringSubmatch(trimmed)
	if m == nil {
		if strings.Contains(trimmed, ";") || compoundRE.MatchString(trimmed) {
			return nil, false
		}
		return []string{trimmed}, true
	}
	var stmts []string
	for _, part := range strings.Split(m[1], ";") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case compoundRE.MatchString(part) || strings.ContainsAny(part, `'"`):
			return nil, false
		default:
			stmts = append(stmts, part)
		}
	}
	return stmts, true
}

func (f *Facts) addRepair(s *schema.Schema, table, col string) {
	t, _ := s.Table(table)
	if _, synced := t.Column(col); synced && !slices.Contains(t.Key, col) {
		f.repair[table] = append(f.repair[table], col)
	}
}

// mentionsSynced reports whether a trigger body names a synced table as a
// whole word (log_civicrm_contact does not name civicrm_contact).
func mentionsSynced(s *schema.Schema, body string) bool {
	for _, t := range s.Tables {
		re := regexp.MustCompile("(?i)(^|[^A-Za-z0-9_$])" + regexp.QuoteMeta(t.Name) + "([^A-Za-z0-9_$]|$)")
		if re.MatchString(body) {
			return true
		}
	}
	return false
}

// AutoUpdate lists table's ON UPDATE CURRENT_TIMESTAMP columns: a
// statement that sets only some columns (second pass, SET NULL, a repair)
// sets the others of these to themselves (see masterdb's keep), so they
// keep the child's value, as a child's foreign-key action keeps it.
func (f *Facts) AutoUpdate(table string) []string {
	if f == nil {
		return nil
	}
	return f.autoUpdate[table]
}

// Opaque lists the triggers touching synced tables whose effect could not
// be read: they may change rows in ways no repair undoes.
func (f *Facts) Opaque() []string {
	if f == nil {
		return nil
	}
	return f.opaque
}
