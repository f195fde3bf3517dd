package importer

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

// masterFacts is what the import must know about the master beyond the
// map: columns the server or triggers change behind an UPDATE or INSERT,
// which would make the master's copy drift from the child's.
type masterFacts struct {
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

// loadFacts reads the master's auto-updated columns and triggers. Triggers
// are visible in information_schema only to an account with the TRIGGER
// privilege; without it none are seen and none are repaired.
func loadFacts(ctx context.Context, db *sql.DB, s *schema.Schema) (*masterFacts, error) {
	f := &masterFacts{autoUpdate: map[string][]string{}, repair: map[string][]string{}}
	if err := f.loadAutoUpdate(ctx, db, s); err != nil {
		return nil, err
	}
	if err := f.loadTriggers(ctx, db, s); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *masterFacts) loadAutoUpdate(ctx context.Context, db *sql.DB, s *schema.Schema) error {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND EXTRA LIKE ? ORDER BY TABLE_NAME, ORDINAL_POSITION`, "%on update%")
	if err != nil {
		return fmt.Errorf("read the master's columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return err
		}
		if _, synced := s.Table(table); synced {
			f.autoUpdate[table] = append(f.autoUpdate[table], col)
		}
	}
	return rows.Err()
}

func (f *masterFacts) loadTriggers(ctx context.Context, db *sql.DB, s *schema.Schema) error {
	rows, err := db.QueryContext(ctx, `SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, ACTION_STATEMENT
		FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME`)
	if err != nil {
		return fmt.Errorf("read the master's triggers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, table, timing string
		var body sql.NullString // NULL: the account lacks TRIGGER and may not read it
		if err := rows.Scan(&name, &table, &timing, &body); err != nil {
			return err
		}
		if !body.Valid {
			if _, synced := s.Table(table); synced {
				f.opaque = append(f.opaque, name+" (hidden from this account: GRANT TRIGGER lets import read it)")
			}
			continue
		}
		f.addTrigger(s, name, table, timing, body.String)
	}
	if err := rows.Err(); err != nil {
		return err
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
func (f *masterFacts) addTrigger(s *schema.Schema, name, table, timing, body string) {
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

func (f *masterFacts) addRepair(s *schema.Schema, table, col string) {
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

// keepAutoUpdate is the ", `c` = `c`" to append to a partial UPDATE of
// table, for its auto-updated columns that the UPDATE does not set.
func (f *masterFacts) keepAutoUpdate(table string, setting []string) string {
	var b strings.Builder
	for _, c := range f.autoUpdate[table] {
		if !slices.Contains(setting, c) {
			q := database.QuoteIdent(c)
			b.WriteString(", " + q + " = " + q)
		}
	}
	return b.String()
}

// repairSet holds, for one table, the file's values of the columns master
// triggers assign, by master ID, until the file's writes are done.
type repairSet struct {
	idx   []int    // the columns' indexes in the table's plan
	names []string // their names
	rows  map[int64][]any
}

// repairFor returns the table's repair set, or nil when no trigger of the
// master assigns its columns (only plain columns of mapped tables qualify).
func (f *fileRun) repairFor(tp *tablePlan) *repairSet {
	if rs, ok := f.repairs[tp.t.Name]; ok {
		return rs
	}
	var rs *repairSet
	if tp.t.Mapped {
		for _, col := range f.facts.repair[tp.t.Name] {
			if i, ok := tp.index[col]; ok && tp.cols[i].kind == refNone {
				if rs == nil {
					rs = &repairSet{rows: map[int64][]any{}}
				}
				rs.idx = append(rs.idx, i)
				rs.names = append(rs.names, col)
			}
		}
	}
	f.repairs[tp.t.Name] = rs
	return rs
}

// remember keeps the written rows' values of the repaired columns.
func (f *fileRun) remember(tp *tablePlan, rows []*row) {
	rs := f.repairFor(tp)
	if rs == nil {
		return
	}
	for _, r := range rows {
		vals := make([]any, len(rs.idx))
		for i, k := range rs.idx {
			vals[i] = r.vals[k]
		}
		rs.rows[r.master] = vals
	}
}

// repairsPerStatement bounds the rows one repair statement sets.
const repairsPerStatement = 200

// runRepairs gives the file's rows back the values that master triggers
// overwrote while the file was applied, a few hundred rows per statement.
// Tables go in reverse apply order: a repair is an UPDATE, which fires the
// table's own triggers, and those touch the rows a table points at (a
// phone's repair moves its contact's modified_date), so what they point
// at is repaired after them.
func (f *fileRun) runRepairs(ctx context.Context) error {
	for _, t := range slices.Backward(f.plan.s.Tables) {
		rs := f.repairs[t.Name]
		if rs == nil || len(rs.rows) == 0 {
			continue
		}
		ids := make([]int64, 0, len(rs.rows))
		for id := range rs.rows {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for start := 0; start < len(ids); start += repairsPerStatement {
			chunk := ids[start:min(start+repairsPerStatement, len(ids))]
			if err := f.repairChunk(ctx, t, rs, chunk); err != nil {
				return fmt.Errorf("table %s: restore columns that master triggers changed: %w", t.Name, err)
			}
		}
	}
	return nil
}

func (f *fileRun) repairChunk(ctx context.Context, t *schema.Table, rs *repairSet, ids []int64) error {
	key := database.QuoteIdent(t.Key[0])
	var sets []string
	var args []any
	for c, name := range rs.names {
		var b strings.Builder
		b.WriteString(database.QuoteIdent(name) + " = CASE " + key)
		for _, id := range ids {
			b.WriteString(" WHEN ? THEN ?")
			args = append(args, id, rs.rows[id][c])
		}
		b.WriteString(" END")
		sets = append(sets, b.String())
	}
	for _, id := range ids {
		args = append(args, id)
	}
	q := "UPDATE " + database.QuoteIdent(t.Name) + " SET " + strings.Join(sets, ", ") + f.facts.keepAutoUpdate(t.Name, rs.names) +
		" WHERE " + key + " IN (" + database.Placeholders(len(ids)) + ")"
	_, err := f.exec(ctx, q, args)
	return err
}

// triggersTopic is the notices topic of the triggers warning.
const triggersTopic = "triggers import cannot undo"

// loadFactsWarn loads the master's facts and warns about triggers whose
// effect on synced tables import cannot undo: once, and again when the
// list changes (see notices), not on every cron run.
func loadFactsWarn(ctx context.Context, db *sql.DB, s *schema.Schema, opts *Options) (*masterFacts, error) {
	facts, err := loadFacts(ctx, db, s)
	if err != nil {
		return nil, err
	}
	book := notices{db: db, dryRun: opts.DryRun}
	if len(facts.opaque) == 0 {
		book.gone(ctx, triggersTopic)
		return facts, nil
	}
	msg := fmt.Sprintf("warning: triggers of the master (%s) change synced tables in ways import cannot undo; the master's copy may differ from the children there", strings.Join(facts.opaque, ", "))
	if opts.Warn != nil && (opts.Verbose || book.tell(ctx, triggersTopic, msg)) {
		opts.Warn(msg)
	}
	return facts, nil
}
