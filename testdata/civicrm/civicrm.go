// Package civicrm holds CiviCRM-shaped test schemas, one per generation of
// CiviCRM whose change stamps differ, and a deterministic generator of
// realistic data for them. Tests, the demo and the benchmark use them as
// child and master databases; nothing in tributary itself depends on them.
package civicrm

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"tributary/internal/database"
)

// Generations of the schema, named by the first CiviCRM release of each.
// Within a generation the columns that decide a table's role are the same.
const (
	Generation46  = "4.6"  // 4.3 to 4.7.24: only contacts carry a stamp; a note's is a DATE
	Generation519 = "5.19" // 4.7.25 to 5.23: activities carry a stamp
	Generation524 = "5.24" // 5.24 to 5.46: a note's stamp is a TIMESTAMP
	Generation547 = "5.47" // 5.47 to 5.66: relationships carry a stamp
	Generation5   = "5.68" // 5.68 and later, 6.x included: the current shape
)

// Generations lists every generation, oldest first.
var Generations = []string{Generation46, Generation519, Generation524, Generation547, Generation5}

// Releases maps each generation to the release its civicrm_domain row
// names: a real release whose schema the generation's file follows.
var Releases = map[string]string{
	Generation46:  "4.6.23",
	Generation519: "5.19.4",
	Generation524: "5.24.5",
	Generation547: "5.47.0",
	Generation5:   "6.17.2",
}

//go:embed schema-*.sql seed.sql triggers.sql
var schemaFiles embed.FS

// Statements returns the statements of a schema generation, in the order
// they must run, without their final delimiter: the generation's tables,
// the seed rows, then CiviCRM's triggers. "5" is accepted for the current
// generation.
func Statements(generation string) ([]string, error) {
	if generation == "5" {
		generation = Generation5
	}
	if _, ok := Releases[generation]; !ok {
		return nil, fmt.Errorf("civicrm: unknown schema generation %q (want one of %s)", generation, strings.Join(Generations, ", "))
	}
	var all []string
	for _, name := range []string{"schema-" + generation + ".sql", "seed.sql", "triggers.sql"} {
		data, err := schemaFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("civicrm: %w", err)
		}
		stmts, err := splitStatements(string(data))
		if err != nil {
			return nil, fmt.Errorf("civicrm: %s: %w", name, err)
		}
		all = append(all, stmts...)
	}
	return all, nil
}

// splitStatements cuts a schema file into statements: one ends at a line
// whose last non-blank characters are the delimiter, ';' until a
// "DELIMITER //" line changes it (as the mysql client reads a dump, so
// that trigger bodies may hold ';'), and '--' lines are comments.
func splitStatements(text string) ([]string, error) {
	var stmts, current []string
	delimiter := ";"
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || (trimmed == "" && len(current) == 0) {
			continue
		}
		if d, ok := strings.CutPrefix(trimmed, "DELIMITER "); ok && len(current) == 0 {
			delimiter = strings.TrimSpace(d)
			continue
		}
		current = append(current, line)
		if strings.HasSuffix(trimmed, delimiter) {
			stmt := strings.TrimSpace(strings.Join(current, "\n"))
			stmts = append(stmts, strings.TrimSpace(strings.TrimSuffix(stmt, delimiter)))
			current = current[:0]
		}
	}
	if len(current) > 0 {
		return nil, fmt.Errorf("statement without a final %q: %s", delimiter, firstLine(strings.Join(current, "\n")))
	}
	return stmts, nil
}

// CreateSchema creates the tables, triggers and seed rows of a schema
// generation in db, which is connected to the (empty) target database.
func CreateSchema(ctx context.Context, db *sql.DB, generation string) error {
	stmts, err := Statements(generation)
	if err != nil {
		return err
	}
	// Seed rows take CURRENT_TIMESTAMP defaults: a pinned clock keeps two
	// schemas created at different moments identical.
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	restore, err := pinSession(ctx, conn)
	if err != nil {
		return err
	}
	defer restore()
	if _, err := conn.ExecContext(ctx, "SET timestamp = ?", baseTime.Unix()); err != nil {
		return err
	}
	for i, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("civicrm %s schema: statement %d (%s): %w", generation, i+1, firstLine(stmt), err)
		}
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// Counts maps a table name to a number of rows: rows inserted by Generate,
// rows inserted, updated or deleted by Mutate's own statements (rows that
// foreign-key actions cascade to are not counted).
type Counts map[string]int64

// Total is the sum over all tables.
func (c Counts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// Tables lists the tables in name order.
func (c Counts) Tables() []string {
	names := make([]string, 0, len(c))
	for t := range c {
		names = append(names, t)
	}
	sort.Strings(names)
	return names
}

// GenerateOptions says how much to generate.
type GenerateOptions struct {
	Contacts int   // Individuals, Organizations and Households, about 80/15/5
	Seed     int64 // the same seed on the same schema gives the same rows
}

// Generate fills a database made by CreateSchema (any generation) with
// Contacts contacts and their related rows, about eleven rows per contact in
// all. The result is deterministic for a seed: IDs are assigned explicitly
// and the session clock is pinned, so even trigger-written timestamps
// repeat (they fall in early 2024, one step of six hours per thousand
// contacts). Rows are written with foreign-key checks on, which proves
// every reference. Generate adds to an empty schema; run it once. It uses
// two connections of db's pool at once.
func Generate(ctx context.Context, db *sql.DB, opts GenerateOptions) (Counts, error) {
	if opts.Contacts < 0 {
		return nil, fmt.Errorf("civicrm generate: negative contact count %d", opts.Contacts)
	}
	var conns [2]*sql.Conn
	for i := range conns {
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("civicrm generate: %w", err)
		}
		defer conn.Close()
		restore, err := pinSession(ctx, conn)
		if err != nil {
			return nil, fmt.Errorf("civicrm generate: %w", err)
		}
		defer restore()
		conns[i] = conn
	}
	cols, err := loadColumns(ctx, conns[0])
	if err != nil {
		return nil, fmt.Errorf("civicrm generate: %w", err)
	}
	g := newGenerator(opts, cols)
	if err := g.run(ctx, conns); err != nil {
		return nil, fmt.Errorf("civicrm generate: %w", err)
	}
	return g.counts(), nil
}

// chunkSize contacts, with everything that hangs off them, are written per
// step (in two transactions, see firstTables): large enough for few
// commits, small enough to stay cheap.
const chunkSize = 1000

// baseTime is where the generated clock starts; chunkStep is how far it
// moves per chunk, so modification times spread like real history.
var baseTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const chunkStep = 6 * time.Hour

// pinSession sets UTC on the pinned connection and returns a function that
// undoes what Generate changes, because the connection goes back to the
// caller's pool afterwards.
func pinSession(ctx context.Context, conn *sql.Conn) (func(), error) {
	var zone string
	if err := conn.QueryRowContext(ctx, "SELECT @@session.time_zone").Scan(&zone); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SET time_zone = '+00:00'"); err != nil {
		return nil, err
	}
	return func() {
		// A fresh context: the caller's may already be cancelled.
		bg, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(bg, "SET timestamp = DEFAULT")
		_, _ = conn.ExecContext(bg, "SET time_zone = ?", zone)
	}, nil
}

// The server spends most of the time, on one core per connection, so a
// chunk's rows go out on two connections, in order of their foreign keys:
// firstTables of chunk k on one while secondTables of chunk k-1 go on the
// other. The split keeps the two transactions off each other's locks:
// the triggers of the first write-lock only chunk k's contacts, and rows
// of the second refer only to contacts of chunk k-1 and before.
var (
	firstTables = []string{
		"civicrm_contact", "civicrm_saved_search", "civicrm_group", "civicrm_group_nesting",
		"civicrm_group_organization", "civicrm_tag", "civicrm_address", "civicrm_email",
		"civicrm_phone", "civicrm_im", "civicrm_website", "civicrm_loc_block",
	}
	secondTables = []string{
		"civicrm_relationship", "civicrm_note", "civicrm_group_contact", "civicrm_entity_tag",
		"civicrm_activity", "civicrm_activity_contact",
	}
)

// batch is a chunk's rows for some tables, with the clock to write them at.
type batch struct {
	at   time.Time
	bufs []*rowBuf
}

func (g *generator) run(ctx context.Context, conns [2]*sql.Conn) error {
	chunks := max(1, (g.n+chunkSize-1)/chunkSize)
	var later *batch
	for chunk := 0; chunk <= chunks; chunk++ {
		var now, next *batch
		if chunk < chunks {
			g.fill(chunk)
			now, next = g.take(firstTables), g.take(secondTables)
		}
		if err := parallel(
			func() error { return g.writers[0].write(ctx, conns[0], now) },
			func() error { return g.writers[1].write(ctx, conns[1], later) },
		); err != nil {
			return err
		}
		later = next
	}
	return nil
}

// fill generates one chunk's contacts and everything that hangs off them.
func (g *generator) fill(chunk int) {
	g.now = baseTime.Add(time.Duration(chunk) * chunkStep)
	first := chunk*chunkSize + 1
	last := min(g.n, first+chunkSize-1)
	for id := first; id <= last; id++ {
		g.contact(id)
	}
	if chunk == 0 {
		g.setup()
	}
}

// take moves the buffered rows of tables into a batch.
func (g *generator) take(tables []string) *batch {
	b := &batch{at: g.now}
	for _, t := range tables {
		buf := *g.bufs[t]
		b.bufs = append(b.bufs, &buf)
		g.bufs[t].rows = nil
	}
	return b
}

func parallel(fns ...func() error) error {
	errs := make(chan error, len(fns))
	for _, fn := range fns {
		go func() { errs <- fn() }()
	}
	var all []error
	for range fns {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

func (g *generator) counts() Counts {
	total := Counts{}
	for _, w := range g.writers {
		for t, n := range w.counts {
			total[t] += n
		}
	}
	return total
}

// --- writing rows --------------------------------------------------------

// column is what the generator needs to know of a live column.
type column struct {
	dataType string // "date", "varchar", ...
	narrow   bool   // a 3-byte utf8 column: no characters beyond U+FFFF
}

// loadColumns reads the columns of the current database's tables, so one
// generator serves every generation: it writes only columns that exist.
func loadColumns(ctx context.Context, conn *sql.Conn) (map[string]map[string]column, error) {
	rows, err := conn.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COALESCE(CHARACTER_SET_NAME, '')
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()`)
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	defer rows.Close()
	cols := map[string]map[string]column{}
	for rows.Next() {
		var table, name, dataType, charset string
		if err := rows.Scan(&table, &name, &dataType, &charset); err != nil {
			return nil, fmt.Errorf("read columns: %w", err)
		}
		if cols[table] == nil {
			cols[table] = map[string]column{}
		}
		cols[table][name] = column{dataType: dataType, narrow: charset == "utf8mb3" || charset == "utf8"}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	if len(cols["civicrm_contact"]) == 0 {
		return nil, errors.New("no civicrm_contact table in this database: run CreateSchema first")
	}
	return cols, nil
}

// rowBuf collects one table's rows for the current chunk. cols is every
// column the generator may set for the table in any generation.
type rowBuf struct {
	table string
	cols  []string
	index map[string]int
	rows  [][]any
}

func newRowBuf(table string, cols ...string) *rowBuf {
	b := &rowBuf{table: table, cols: cols, index: map[string]int{}}
	for i, c := range cols {
		b.index[c] = i
	}
	return b
}

// add appends a row given by column name; columns left out are NULL.
func (b *rowBuf) add(values map[string]any) {
	row := make([]any, len(b.cols))
	for name, v := range values {
		i, ok := b.index[name]
		if !ok {
			panic(fmt.Sprintf("civicrm: generator sets undeclared column %s.%s", b.table, name))
		}
		row[i] = v
	}
	b.rows = append(b.rows, row)
}

type writer struct {
	schema  map[string]map[string]column
	counts  Counts
	queries map[string]string
}

// maxRowsPerInsert keeps statements big enough to be fast and within the
// protocol's 65535 placeholders.
const maxRowsPerInsert = 1000

// write inserts a batch in one transaction, with the session clock set to
// the batch's time so defaults and triggers stamp it; nil writes nothing.
func (w *writer) write(ctx context.Context, conn *sql.Conn, b *batch) error {
	if b == nil {
		return nil
	}
	if _, err := conn.ExecContext(ctx, "SET timestamp = ?", b.at.Unix()); err != nil {
		return err
	}
	return database.WithTx(ctx, conn, nil, func(tx *sql.Tx) error {
		for _, buf := range b.bufs {
			if err := w.flush(ctx, tx, buf); err != nil {
				return err
			}
		}
		return nil
	})
}

func (w *writer) flush(ctx context.Context, tx *sql.Tx, b *rowBuf) error {
	if len(b.rows) == 0 {
		return nil
	}
	live := w.schema[b.table]
	var keep []int
	var names []string
	for i, c := range b.cols {
		if _, ok := live[c]; ok {
			keep = append(keep, i)
			names = append(names, c)
		}
	}
	per := min(maxRowsPerInsert, 60000/len(keep))
	for start := 0; start < len(b.rows); start += per {
		batch := b.rows[start:min(start+per, len(b.rows))]
		args := make([]any, 0, len(batch)*len(keep))
		for _, row := range batch {
			for j, i := range keep {
				args = append(args, adapt(row[i], live[names[j]]))
			}
		}
		if _, err := tx.ExecContext(ctx, w.insertSQL(b.table, names, len(batch)), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", b.table, err)
		}
	}
	w.counts[b.table] += int64(len(b.rows))
	return nil
}

func (w *writer) insertSQL(table string, cols []string, n int) string {
	key := fmt.Sprintf("%s/%d/%d", table, len(cols), n)
	if q, ok := w.queries[key]; ok {
		return q
	}
	tuple := "(" + database.Placeholders(len(cols)) + ")"
	q := "INSERT INTO " + database.QuoteIdent(table) + " (" + database.QuoteIdents(cols) + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(tuple+",", n), ",")
	w.queries[key] = q
	return q
}

// adapt fits a value to the live column: before 5.24 a note's modified_date
// is a DATE, and before 5.33 tables were installed in 3-byte utf8, which
// cannot hold emoji.
func adapt(v any, col column) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	if col.dataType == "date" && len(s) > 10 {
		return s[:10]
	}
	if col.narrow {
		return narrowString(s)
	}
	return s
}

// narrowString replaces characters outside the Basic Multilingual Plane
// with U+FFFD, as a utf8mb3 column can store nothing else.
func narrowString(s string) string {
	for _, r := range s {
		if r > 0xFFFF {
			var b strings.Builder
			for _, r := range s {
				if r > 0xFFFF {
					r = utf8.RuneError
				}
				b.WriteRune(r)
			}
			return b.String()
		}
	}
	return s
}

// --- the generator --------------------------------------------------------

type generator struct {
	rng     *rand.Rand
	n       int
	now     time.Time
	bufs    map[string]*rowBuf
	writers [2]*writer
	next    map[string]int // next ID per table

	individuals, organizations, households []int

	staff          []int       // early individuals: sources of activities, authors of notes
	householdAddr  map[int]int // household contact -> its first address, for shared addresses
	lastActivityOf map[int]int // contact -> its latest activity, for follow-ups

	// The latest email, phone and relationship and whose they are, so a
	// membership or an activity can point at one of its contact's rows.
	lastEmail, lastEmailOwner               int
	lastPhone, lastPhoneOwner               int
	lastRelationship, lastRelationshipOwner int
}

func newGenerator(opts GenerateOptions, cols map[string]map[string]column) *generator {
	g := &generator{
		rng:            rand.New(rand.NewPCG(uint64(opts.Seed), 0x7472696275746172)),
		n:              opts.Contacts,
		bufs:           map[string]*rowBuf{},
		next:           map[string]int{},
		householdAddr:  map[int]int{},
		lastActivityOf: map[int]int{},
	}
	for _, b := range tableColumns() {
		g.bufs[b.table] = b
	}
	for i := range g.writers {
		g.writers[i] = &writer{schema: cols, counts: Counts{}, queries: map[string]string{}}
	}
	return g
}

// tableColumns declares, per table, every column the generator sets in
// any generation; loadColumns decides which of them exist.
func tableColumns() []*rowBuf {
	return []*rowBuf{
		newRowBuf("civicrm_contact", "id", "contact_type", "external_identifier", "display_name",
			"organization_name", "contact_sub_type", "first_name", "middle_name", "last_name",
			"do_not_email", "do_not_phone", "do_not_mail", "do_not_sms", "do_not_trade", "is_opt_out",
			"legal_identifier", "sort_name", "nick_name", "legal_name", "image_URL",
			"preferred_communication_method", "preferred_language", "hash", "api_key", "source",
			"prefix_id", "suffix_id", "formal_title", "email_greeting_id", "email_greeting_display",
			"postal_greeting_id", "postal_greeting_display", "addressee_id", "addressee_display",
			"job_title", "gender_id", "birth_date", "is_deceased", "deceased_date", "household_name",
			"primary_contact_id", "sic_code", "employer_id", "is_deleted"),
		newRowBuf("civicrm_address", "id", "contact_id", "location_type_id", "is_primary", "is_billing",
			"street_address", "street_number", "street_number_suffix", "street_name", "street_type",
			"street_unit", "supplemental_address_1", "city", "county_id", "state_province_id",
			"postal_code", "country_id", "geo_code_1", "geo_code_2", "manual_geo_code", "name", "master_id"),
		newRowBuf("civicrm_email", "id", "contact_id", "location_type_id", "email", "is_primary",
			"is_billing", "on_hold", "is_bulkmail", "hold_date", "signature_text"),
		newRowBuf("civicrm_phone", "id", "contact_id", "location_type_id", "is_primary", "is_billing",
			"phone", "phone_ext", "phone_numeric", "phone_type_id"),
		newRowBuf("civicrm_im", "id", "contact_id", "location_type_id", "name", "provider_id", "is_primary", "is_billing"),
		newRowBuf("civicrm_website", "id", "contact_id", "url", "website_type_id"),
		newRowBuf("civicrm_loc_block", "id", "address_id", "email_id", "phone_id", "im_id"),
		newRowBuf("civicrm_note", "id", "entity_table", "entity_id", "note", "contact_id", "note_date",
			"created_date", "modified_date", "subject", "privacy"),
		newRowBuf("civicrm_relationship", "id", "contact_id_a", "contact_id_b", "relationship_type_id",
			"start_date", "end_date", "is_active", "description", "is_permission_a_b", "is_permission_b_a", "case_id"),
		newRowBuf("civicrm_saved_search", "id", "name", "label", "form_values", "mapping_id",
			"search_custom_id", "api_entity", "api_params", "created_id", "modified_id",
			"where_clause", "select_tables", "where_tables", "description"),
		newRowBuf("civicrm_group", "id", "name", "title", "description", "source", "saved_search_id",
			"is_active", "visibility", "group_type", "cache_date", "parents", "children", "is_hidden",
			"is_reserved", "created_id", "modified_id", "frontend_title"),
		newRowBuf("civicrm_group_contact", "id", "group_id", "contact_id", "status", "location_id", "email_id"),
		newRowBuf("civicrm_group_nesting", "id", "child_group_id", "parent_group_id"),
		newRowBuf("civicrm_group_organization", "id", "group_id", "organization_id"),
		newRowBuf("civicrm_tag", "id", "name", "label", "description", "parent_id", "is_selectable",
			"is_reserved", "is_tagset", "used_for", "created_id", "color", "created_date"),
		newRowBuf("civicrm_entity_tag", "id", "entity_table", "entity_id", "tag_id"),
		newRowBuf("civicrm_activity", "id", "activity_type_id", "subject", "activity_date_time",
			"duration", "location", "phone_id", "phone_number", "details", "status_id", "priority_id",
			"parent_id", "is_test", "medium_id", "is_auto", "relationship_id", "is_current_revision",
			"original_id", "result", "is_deleted", "campaign_id", "engagement_level", "is_star"),
		newRowBuf("civicrm_activity_contact", "id", "activity_id", "contact_id", "record_type_id"),
	}
}

// id hands out the next ID of a table: explicit IDs let rows refer to
// each other before anything is written.
func (g *generator) id(table string) int {
	g.next[table]++
	return g.next[table]
}

func (g *generator) add(table string, values map[string]any) {
	g.bufs[table].add(values)
}

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *generator) pickID(ids []int) int { return ids[g.rng.IntN(len(ids))] }

// pickDistinct returns up to k different elements of ids.
func (g *generator) pickDistinct(ids []int, k int) []int {
	k = min(k, len(ids))
	chosen := make([]int, 0, k)
	for _, i := range g.rng.Perm(len(ids))[:k] {
		chosen = append(chosen, ids[i])
	}
	return chosen
}

// ago is a time before the chunk's clock, within the given number of days.
func (g *generator) ago(days int) string {
	return stamp(g.now.Add(-time.Duration(g.rng.IntN(days*24*3600)+1) * time.Second))
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

func (g *generator) hash() string {
	return fmt.Sprintf("%016x%016x", g.rng.Uint64(), g.rng.Uint64())
}

// nullable returns v with probability p and NULL otherwise.
func (g *generator) nullable(p float64, v any) any {
	if g.chance(p) {
		return v
	}
	return nil
}

// --- contacts ----------------------------------------------------------------

func (g *generator) contact(id int) {
	switch r := g.rng.Float64(); {
	case id == 1 || (r >= 0.80 && r < 0.95):
		g.organization(id)
	case r >= 0.95:
		g.household(id)
	default:
		g.individual(id)
	}
	g.groupsAndTags(id)
	g.notes(id)
	g.activities(id)
}

func (g *generator) baseContact(id int, kind, display, sort string) map[string]any {
	return map[string]any{
		"id": id, "contact_type": kind, "display_name": display, "sort_name": sort,
		"do_not_email": b2i(g.chance(0.03)), "do_not_phone": b2i(g.chance(0.05)),
		"do_not_mail": b2i(g.chance(0.02)), "do_not_sms": 0, "do_not_trade": 0,
		"is_opt_out": b2i(g.chance(0.04)), "is_deceased": 0, "hash": g.hash(),
		"api_key":             g.nullable(0.01, g.hash()),
		"external_identifier": g.nullable(0.1, fmt.Sprintf("EXT-%07d", id)),
		"source":              g.nullable(0.3, g.pick(sources)),
		"preferred_communication_method": g.nullable(0.25,
			"\x01"+g.pick([]string{"1", "2", "3", "1\x012", "2\x015"})+"\x01"),
		"preferred_language": g.pick(languages),
		"is_deleted":         b2i(g.chance(0.02)),
	}
}

func (g *generator) individual(id int) {
	first, last := g.pick(firstNames), g.pick(lastNames)
	c := g.baseContact(id, "Individual", first+" "+last, last+", "+first)
	c["first_name"], c["last_name"] = first, last
	c["middle_name"] = g.nullable(0.1, initial(g.pick(firstNames)))
	c["gender_id"] = g.nullable(0.8, g.rng.IntN(3)+1)
	c["prefix_id"] = g.nullable(0.2, g.rng.IntN(4)+1)
	c["birth_date"] = g.nullable(0.6, fmt.Sprintf("%04d-%02d-%02d", 1940+g.rng.IntN(66), g.rng.IntN(12)+1, g.rng.IntN(28)+1))
	c["email_greeting_id"], c["email_greeting_display"] = 1, "Dear "+first
	c["postal_greeting_id"], c["postal_greeting_display"] = 1, "Dear "+first
	c["addressee_id"], c["addressee_display"] = 1, first+" "+last
	c["is_deceased"] = b2i(g.chance(0.01))
	c["contact_sub_type"] = g.nullable(0.05, "\x01Student\x01")
	if len(g.organizations) > 0 && g.chance(0.4) {
		employer := g.pickID(g.organizations)
		c["employer_id"], c["job_title"] = employer, g.pick(jobTitles)
		g.relationship(id, employer, 4, nil)
	}
	g.add("civicrm_contact", c)
	g.individuals = append(g.individuals, id)
	if len(g.staff) < 50 {
		g.staff = append(g.staff, id)
	}
	g.individualLinks(id)
	g.individualLocations(id, first, last)
}

// individualLinks adds family ties: household membership, spouses, and
// volunteering for an organization.
func (g *generator) individualLinks(id int) {
	if len(g.households) > 0 && g.chance(0.1) {
		g.relationship(id, g.pickID(g.households), 7, nil)
	}
	if len(g.individuals) > 1 && g.chance(0.05) {
		g.relationship(id, g.pickID(g.individuals[:len(g.individuals)-1]), 2, nil)
	}
	if len(g.organizations) > 0 && g.chance(0.05) {
		var caseID any
		if g.chance(0.2) {
			caseID = g.rng.IntN(5) + 1
		}
		g.relationship(id, g.pickID(g.organizations), 5, caseID)
	}
}

func (g *generator) individualLocations(id int, first, last string) {
	var master any
	if len(g.households) > 0 && g.chance(0.05) {
		if addr, ok := g.householdAddr[g.pickID(g.households)]; ok {
			master = addr
		}
	}
	if g.chance(0.9) {
		g.address(id, 1, true, master)
		if g.chance(0.1) {
			g.address(id, 2, false, nil)
		}
	}
	local := strings.ToLower(asciiOnly(first) + "." + asciiOnly(last))
	if g.chance(0.85) {
		g.email(id, 1, true, fmt.Sprintf("%s%d@%s", local, id, g.pick(mailDomains)))
		if g.chance(0.15) {
			g.email(id, 2, false, fmt.Sprintf("%s@work%d.example.com", local, id%97))
		}
	}
	if g.chance(0.75) {
		g.phone(id, 1, true, 1)
		if g.chance(0.3) {
			g.phone(id, 1, false, 2)
		}
	}
	if g.chance(0.12) {
		g.add("civicrm_im", map[string]any{"id": g.id("civicrm_im"), "contact_id": id, "location_type_id": 1,
			"name": local + g.pick([]string{"", "_", "42"}), "provider_id": g.rng.IntN(6) + 1,
			"is_primary": 1, "is_billing": 0})
	}
	if g.chance(0.05) {
		g.website(id, fmt.Sprintf("https://blog.example.net/~%s-%d", local, id))
	}
}

func (g *generator) organization(id int) {
	p := g.pick2(places)
	name := p.city + " " + g.pick(orgNouns) + " " + g.pick(orgSuffixes)
	c := g.baseContact(id, "Organization", name, name)
	c["organization_name"], c["legal_name"] = name, g.nullable(0.5, name+" (registered)")
	c["sic_code"] = g.nullable(0.2, fmt.Sprintf("%04d", g.rng.IntN(9999)))
	c["email_greeting_display"], c["postal_greeting_display"] = "Dear "+name, "Dear "+name
	c["addressee_id"], c["addressee_display"] = 3, name
	c["image_URL"] = g.nullable(0.1, fmt.Sprintf("https://img.example.org/logo/%d.png", id))
	g.add("civicrm_contact", c)
	g.organizations = append(g.organizations, id)
	if g.chance(0.95) {
		g.address(id, 3, true, nil)
	}
	if g.chance(0.7) {
		g.email(id, 3, true, fmt.Sprintf("info%d@%s", id, g.pick(mailDomains)))
	}
	if g.chance(0.8) {
		g.phone(id, 3, true, 1)
	}
	if g.chance(0.8) {
		g.website(id, fmt.Sprintf("https://www.org%d.example.org/", id))
	}
}

func (g *generator) household(id int) {
	name := g.pick(householdNames) + " " + g.pick(lastNames)
	c := g.baseContact(id, "Household", name, name)
	c["household_name"] = name
	c["addressee_id"], c["addressee_display"] = 2, name
	var head int
	if len(g.individuals) > 0 && g.chance(0.7) {
		head = g.pickID(g.individuals)
		c["primary_contact_id"] = head
	}
	g.add("civicrm_contact", c)
	g.households = append(g.households, id)
	if head != 0 {
		g.relationship(head, id, 6, nil)
	}
	g.householdAddr[id] = g.address(id, 1, true, nil)
	if g.chance(0.3) {
		g.phone(id, 1, true, 1)
	}
}

// --- locations ---------------------------------------------------------------

func (g *generator) pick2(list []place) place { return list[g.rng.IntN(len(list))] }

// address adds one address and returns its ID; contact may be nil for an
// event location that belongs to no contact.
func (g *generator) address(contact any, locationType int, primary bool, master any) int {
	id := g.id("civicrm_address")
	p := g.pick2(places)
	number := g.rng.IntN(400) + 1
	street := g.pick(streets)
	a := map[string]any{
		"id": id, "contact_id": contact, "location_type_id": locationType, "is_primary": b2i(primary),
		"is_billing": b2i(primary && g.chance(0.1)), "street_address": fmt.Sprintf("%d %s", number, street),
		"street_number": number, "street_name": street, "city": p.city,
		"postal_code": fmt.Sprintf("%s%02d", p.postal, g.rng.IntN(100)),
		"geo_code_1":  p.lat + g.rng.Float64()/10, "geo_code_2": p.lon + g.rng.Float64()/10,
		"manual_geo_code": 0, "master_id": master,
		"street_unit":            g.nullable(0.1, fmt.Sprintf("Apt %d", g.rng.IntN(40)+1)),
		"supplemental_address_1": g.nullable(0.05, "c/o "+g.pick(lastNames)),
	}
	if g.chance(0.97) {
		a["country_id"], a["state_province_id"] = p.country, p.state
		if p.county != 0 {
			a["county_id"] = p.county
		}
	}
	g.add("civicrm_address", a)
	return id
}

func (g *generator) email(contact any, locationType int, primary bool, email string) int {
	id := g.id("civicrm_email")
	onHold := 0
	var holdDate any
	if g.chance(0.02) {
		onHold, holdDate = 1, g.ago(200)
	}
	g.add("civicrm_email", map[string]any{"id": id, "contact_id": contact, "location_type_id": locationType,
		"email": email, "is_primary": b2i(primary), "is_billing": 0, "on_hold": onHold,
		"is_bulkmail": b2i(primary && g.chance(0.2)), "hold_date": holdDate,
		"signature_text": g.nullable(0.02, "--\nSent from the branch office")})
	if c, ok := contact.(int); ok {
		g.lastEmail, g.lastEmailOwner = id, c
	}
	return id
}

func (g *generator) phone(contact any, locationType int, primary bool, phoneType int) int {
	id := g.id("civicrm_phone")
	digits := fmt.Sprintf("%03d%04d", g.rng.IntN(1000), g.rng.IntN(10000))
	g.add("civicrm_phone", map[string]any{"id": id, "contact_id": contact, "location_type_id": locationType,
		"is_primary": b2i(primary), "is_billing": 0, "phone": digits[:3] + "-" + digits[3:],
		"phone_ext": g.nullable(0.05, fmt.Sprint(g.rng.IntN(900)+100)), "phone_numeric": digits,
		"phone_type_id": phoneType})
	if c, ok := contact.(int); ok {
		g.lastPhone, g.lastPhoneOwner = id, c
	}
	return id
}

func (g *generator) website(contact int, url string) {
	g.add("civicrm_website", map[string]any{"id": g.id("civicrm_website"), "contact_id": contact,
		"url": url, "website_type_id": g.rng.IntN(4) + 1})
}

func (g *generator) relationship(a, b, relType int, caseID any) int {
	id := g.id("civicrm_relationship")
	active := g.chance(0.9)
	var end any
	if !active {
		end = g.ago(300)[:10]
	}
	g.add("civicrm_relationship", map[string]any{"id": id, "contact_id_a": a, "contact_id_b": b,
		"relationship_type_id": relType, "start_date": g.nullable(0.6, g.ago(3000)[:10]), "end_date": end,
		"is_active": b2i(active), "description": g.nullable(0.1, "Met at the "+g.pick(events)),
		"is_permission_a_b": b2i(relType == 4 && g.chance(0.2)), "is_permission_b_a": 0, "case_id": caseID})
	g.lastRelationship, g.lastRelationshipOwner = id, a
	if g.chance(0.02) {
		g.note("civicrm_relationship", id, "Relationship confirmed by phone.")
	}
	return id
}

// --- groups, tags, notes, activities -------------------------------------------

// groupsAndTags puts a contact in up to three static groups and gives it
// up to two tags; now and then the membership names the email to use or
// an event location.
func (g *generator) groupsAndTags(id int) {
	for _, group := range g.pickDistinct(staticGroups, g.rng.IntN(4)) {
		gc := map[string]any{"id": g.id("civicrm_group_contact"), "group_id": group, "contact_id": id,
			"status": g.groupStatus()}
		if g.lastEmailOwner == id && g.chance(0.02) {
			gc["email_id"] = g.lastEmail
		}
		if g.chance(0.005) {
			gc["location_id"] = 1
		}
		g.add("civicrm_group_contact", gc)
	}
	for _, tag := range g.pickDistinct(taggable, g.rng.IntN(3)) {
		g.entityTag("civicrm_contact", id, tag)
	}
}

func (g *generator) entityTag(table string, id, tag int) {
	g.add("civicrm_entity_tag", map[string]any{"id": g.id("civicrm_entity_tag"), "entity_table": table,
		"entity_id": id, "tag_id": tag})
}

func (g *generator) notes(id int) {
	n := 0
	switch r := g.rng.Float64(); {
	case r < 0.05:
		n = 2
	case r < 0.35:
		n = 1
	}
	for range n {
		note := g.note("civicrm_contact", id, g.pick(noteTexts))
		if g.chance(0.1) {
			g.note("civicrm_note", note, g.pick(comments))
		}
	}
}

func (g *generator) note(table string, entity int, text string) int {
	id := g.id("civicrm_note")
	var author any
	if len(g.staff) > 0 {
		author = g.pickID(g.staff)
	}
	written := g.ago(400)
	g.add("civicrm_note", map[string]any{"id": id, "entity_table": table, "entity_id": entity, "note": text,
		"contact_id": author, "note_date": written, "created_date": written, "modified_date": g.ago(30),
		"subject": g.nullable(0.7, g.pick(noteSubjects)), "privacy": "0"})
	return id
}

func (g *generator) activities(id int) {
	n := 0
	switch r := g.rng.Float64(); {
	case r < 0.15:
		n = 2
	case r < 0.85:
		n = 1
	}
	for range n {
		g.activity(id)
	}
}

func (g *generator) activity(target int) {
	id := g.id("civicrm_activity")
	kind := activityKinds[g.rng.IntN(len(activityKinds))]
	a := map[string]any{"id": id, "activity_type_id": kind.typeID, "subject": g.pick(kind.subjects),
		"activity_date_time": g.ago(700), "duration": g.nullable(0.5, 5*(g.rng.IntN(24)+1)),
		"details": g.details(), "status_id": g.rng.IntN(3) + 1,
		"priority_id": 2, "is_test": 0, "medium_id": g.nullable(0.3, g.rng.IntN(4)+1), "is_auto": 0,
		"is_current_revision": 1, "is_deleted": b2i(g.chance(0.02)), "is_star": b2i(g.chance(0.03)),
		"campaign_id": g.nullable(0.1, g.rng.IntN(3)+1), "engagement_level": g.nullable(0.1, g.rng.IntN(5)+1),
		"location": g.nullable(0.1, g.pick2(places).city)}
	if kind.typeID == 2 && g.lastPhoneOwner == target {
		a["phone_id"] = g.lastPhone
	}
	if g.lastRelationshipOwner == target && g.chance(0.05) {
		a["relationship_id"] = g.lastRelationship
	}
	if prev, ok := g.lastActivityOf[target]; ok && g.chance(0.1) {
		a["parent_id"] = prev
		if g.chance(0.2) {
			a["original_id"] = prev
		}
	}
	g.add("civicrm_activity", a)
	g.lastActivityOf[target] = id
	g.activityContacts(id, target)
	if g.chance(0.03) {
		g.entityTag("civicrm_activity", id, g.pickID(taggable))
	}
}

// details is an activity's text: often none, now and then pages of minutes.
func (g *generator) details() any {
	switch r := g.rng.Float64(); {
	case r < 0.4:
		return nil
	case r < 0.41:
		return longDetails
	default:
		return g.pick(activityDetails)
	}
}

// activityContacts records who did it (source, 2), to whom (target, 3)
// and, sometimes, who must follow up (assignee, 1).
func (g *generator) activityContacts(activity, target int) {
	source := target
	if len(g.staff) > 0 {
		source = g.pickID(g.staff)
	}
	g.activityContact(activity, source, 2)
	g.activityContact(activity, target, 3)
	if len(g.staff) > 0 && g.chance(0.2) {
		g.activityContact(activity, g.pickID(g.staff), 1)
	}
}

func (g *generator) activityContact(activity, contact, recordType int) {
	g.add("civicrm_activity_contact", map[string]any{"id": g.id("civicrm_activity_contact"),
		"activity_id": activity, "contact_id": contact, "record_type_id": recordType})
}

// --- setup: the rows every branch creates once ----------------------------------

// setup writes saved searches, groups, tags, event locations and notes on
// cases; it runs in the first chunk, after its contacts.
func (g *generator) setup() {
	g.savedSearches()
	g.groups()
	g.tags()
	g.eventLocations()
	for c := 1; c <= 5; c++ {
		g.note("civicrm_case", c, "Case review: next steps agreed with the client.")
	}
}

// someContact returns an existing staff contact, or NULL when there is none.
func (g *generator) someContact() any {
	if len(g.staff) == 0 {
		return nil
	}
	return g.pickID(g.staff)
}

func (g *generator) savedSearches() {
	for i, s := range savedSearchSpecs {
		g.add("civicrm_saved_search", map[string]any{"id": i + 1, "name": s.name, "label": s.label,
			"form_values": s.formValues, "mapping_id": s.mappingID, "search_custom_id": s.customID,
			"api_entity": s.apiEntity, "api_params": s.apiParams, "created_id": g.someContact(),
			"modified_id": g.someContact(), "where_clause": s.where, "select_tables": s.tables,
			"where_tables": s.tables, "description": s.label})
	}
}

func (g *generator) groups() {
	for i, s := range groupSpecs {
		id := i + 1
		grp := map[string]any{"id": id, "name": s.name, "title": s.title, "frontend_title": s.title,
			"description": s.description, "source": g.nullable(0.3, "import"), "is_active": 1,
			"visibility": s.visibility, "group_type": s.groupType, "is_hidden": 0, "is_reserved": b2i(id == 1),
			"created_id": g.someContact(), "modified_id": g.someContact()}
		if s.savedSearch != 0 {
			grp["saved_search_id"], grp["cache_date"] = s.savedSearch, stamp(g.now.Add(-time.Hour))
		}
		if s.parent != 0 {
			grp["parents"] = fmt.Sprint(s.parent)
			g.add("civicrm_group_nesting", map[string]any{"id": g.id("civicrm_group_nesting"),
				"child_group_id": id, "parent_group_id": s.parent})
		}
		g.add("civicrm_group", grp)
	}
	for _, org := range g.pickDistinct(g.organizations, 2) {
		g.add("civicrm_group_organization", map[string]any{"id": g.id("civicrm_group_organization"),
			"group_id": g.rng.IntN(len(staticGroups)) + 1, "organization_id": org})
	}
}

func (g *generator) tags() {
	for i, s := range tagSpecs {
		var parent any
		if s.parent != 0 {
			parent = s.parent
		}
		g.add("civicrm_tag", map[string]any{"id": i + 1, "name": s.name, "label": s.name,
			"description": s.description, "parent_id": parent, "is_selectable": b2i(!s.tagset),
			"is_reserved": 0, "is_tagset": b2i(s.tagset), "used_for": "civicrm_contact,civicrm_activity",
			"created_id": g.someContact(), "color": s.color, "created_date": g.ago(900)})
	}
}

// eventLocations adds two event venues: their address, email and phone
// rows belong to no contact, as in a real CiviCRM with events.
func (g *generator) eventLocations() {
	for i := 1; i <= 2; i++ {
		lb := map[string]any{"id": g.id("civicrm_loc_block"), "address_id": g.address(nil, 1, false, nil)}
		if i == 1 {
			lb["email_id"] = g.email(nil, 1, false, "events@branch.example.org")
			lb["phone_id"] = g.phone(nil, 1, false, 1)
		}
		g.add("civicrm_loc_block", lb)
	}
}

func (g *generator) groupStatus() string {
	switch r := g.rng.Float64(); {
	case r < 0.90:
		return "Added"
	case r < 0.97:
		return "Removed"
	default:
		return "Pending"
	}
}

// initial is the first letter of a name and a period.
func initial(name string) string {
	r, _ := utf8.DecodeRuneInString(name)
	return string(r) + "."
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// asciiOnly keeps the ASCII letters of a name, for email local parts.
func asciiOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "contact"
	}
	return b.String()
}

// --- sample data ---------------------------------------------------------------

// place ties a city to its seeded state, country and (sometimes) county.
type place struct {
	city                   string
	state, country, county int
	postal                 string
	lat, lon               float64
}

var places = []place{
	{"Los Angeles", 1004, 1228, 1, "900", 34.05, -118.24},
	{"San Francisco", 1004, 1228, 2, "941", 37.77, -122.42},
	{"Chicago", 1012, 1228, 3, "606", 41.88, -87.63},
	{"Brooklyn", 1031, 1228, 4, "112", 40.68, -73.94},
	{"New York", 1031, 1228, 0, "100", 40.71, -74.01},
	{"Toronto", 1100, 1039, 0, "M5V ", 43.65, -79.38},
	{"Montréal", 1101, 1039, 0, "H2X ", 45.50, -73.57},
	{"Berlin", 1200, 1082, 0, "101", 52.52, 13.40},
	{"München", 1201, 1082, 0, "803", 48.14, 11.58},
	{"Paris", 1300, 1076, 0, "750", 48.86, 2.35},
	{"東京", 1400, 1107, 0, "100-00", 35.68, 139.69},
	{"London", 1500, 1226, 0, "SW1A ", 51.50, -0.13},
	{"Wien", 1600, 1014, 0, "10", 48.21, 16.37},
	{"Sydney", 1700, 1013, 0, "20", -33.87, 151.21},
}

var firstNames = []string{
	"Anna", "Ben", "Chiara", "David", "Élodie", "Fatima", "Georg", "Hiroshi", "Ingrid", "Jürgen",
	"Kofi", "Lena", "Mateo", "Nadia", "Olivier", "Priya", "Quentin", "Rosa", "Søren", "Tomás",
	"Ursula", "Viktor", "Wen", "Xavier", "Yuki", "Zoë", "Łukasz", "Ana María", "Björn", "Chloé",
	"François", "Gökhan", "Håkon", "Ines", "José", "Małgorzata", "Noémie", "Renée", "Siobhán",
	"太郎", "花子", "Мария", "Δημήτρης", "Sarah", "James", "Emily", "Michael", "Olivia", "Daniel",
}

var lastNames = []string{
	"Adams", "Bauer", "Çelik", "Dubois", "Eriksen", "Fernández", "García", "Hoffmann", "Ibrahim",
	"Jansen", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Peña", "Quinn", "Rossi",
	"Schröder", "Großmann", "Weiß", "Tanaka", "Van der Berg", "Wójcik", "Yılmaz", "Zimmermann",
	"山田", "佐藤", "Иванова", "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis",
	"Wilson", "Taylor", "Anderson", "Moore", "Martin", "Lee", "Walker", "Hall", "Young", "King",
}

var (
	orgNouns = []string{"Community", "Arts", "Health", "Literacy", "Food Bank", "Youth", "Environmental",
		"Housing", "Music", "Legal Aid", "Wildlife", "Refugee", "Senior", "Sports", "Science"}
	orgSuffixes = []string{"Association", "Alliance", "Center", "Collective", "Fund", "Foundation",
		"Network", "Trust", "e.V.", "GmbH", "Inc.", "Ltd", "Society", "Initiative", "協会"}
	householdNames = []string{"Familie", "Famille", "Household", "Casa", "The"}
	streets        = []string{"Main St", "Oak Ave", "Maple Rd", "Hauptstraße", "Rue de Rivoli", "Königsallee",
		"High Street", "Elm St", "Chūō-dōri", "Park Lane", "Lindenstraße", "Calle Mayor", "Ringstraße"}
	mailDomains = []string{"example.org", "example.com", "example.net", "beispiel.de", "exemple.fr"}
	languages   = []string{"en_US", "en_US", "en_GB", "de_DE", "fr_FR", "ja_JP", "es_ES"}
	jobTitles   = []string{"Director", "Volunteer Coordinator", "Accountant", "Teacher", "Nurse",
		"Software Engineer", "Geschäftsführerin", "Chargé de mission", "Program Manager", "Intern"}
	sources = []string{"Import 2019", "Online donation", "Event sign-up", "Petition", "Newsletter form"}
	events  = []string{"spring gala", "summer fair", "Weihnachtsmarkt", "AGM", "open day"}
)

var (
	noteTexts = []string{
		"Prefers contact by email after 6pm.",
		"Met at the spring gala 🎉 — very keen to volunteer.",
		"Spoke with Jürgen about the Straße project; follow up in März.",
		"Asked us not to call on weekends.\nSecond line of the note.",
		"東京支部のイベントに参加予定。",
		`Said "maybe" about the board seat; check again in Q3.`,
		"Donation pledged: 250 € (to be confirmed)",
		`Back-slash test: C:\Users\shared\notes.txt`,
		"",
	}
	comments     = []string{"Agreed.", "Done ✔", "Called back, no answer.", "👍 confirmed"}
	noteSubjects = []string{"Call notes", "Volunteer interest", "Données personnelles", "Follow-up", "要確認"}
	longDetails  = strings.Repeat("Minutes of the meeting, item by item. ", 150)

	activityDetails = []string{
		"<p>Discussed the <b>annual report</b>.</p>",
		"Left a message with the receptionist.",
		"Wants the newsletter in French — envoyer en français.",
		"Emoji check: 🌍🌱",
	}
)

// activityKind is an activity type (an option value in CiviCRM) and the
// subjects such activities get.
type activityKind struct {
	typeID   int
	subjects []string
}

var activityKinds = []activityKind{
	{1, []string{"Quarterly check-in", "Volunteer orientation", "Board meeting"}},
	{2, []string{"Follow-up call", "Thank-you call", "Left voicemail"}},
	{3, []string{"Re: your donation", "Event reminder", "Newsletter sign-up confirmation"}},
	{4, []string{"SMS reminder"}},
}

type savedSearchSpec struct {
	name, label, formValues, where, tables, apiEntity, apiParams string
	mappingID, customID                                          any
}

// savedSearchSpecs: a search-builder search, a custom search and three
// SearchKit searches. Their form values and parameters hold group IDs and
// names, as real ones do.
var savedSearchSpecs = []savedSearchSpec{
	{name: "Volunteers_by_city", label: "Volunteers by city", formValues: `a:1:{s:8:"group_id";a:1:{i:0;s:1:"3";}}`,
		where:  "(contact_a.id IN (SELECT contact_id FROM civicrm_group_contact WHERE group_id IN (3)))",
		tables: `a:1:{s:15:"civicrm_contact";i:1;}`, mappingID: 1},
	{name: "Students", label: "Students", formValues: `a:1:{s:16:"contact_sub_type";s:7:"Student";}`,
		where: "(contact_a.contact_sub_type LIKE '%Student%')", customID: 15},
	{name: "Lapsed_donors", label: "Lapsed donors", apiEntity: "Contact",
		apiParams: `{"version":4,"select":["id","display_name"],"where":[["groups:name","IN",["donors_2023"]],["groups:name","NOT IN",["donors_2024"]]]}`},
	{name: "New_contacts_this_month", label: "New contacts this month", apiEntity: "Contact",
		apiParams: `{"version":4,"select":["id","sort_name"],"where":[["created_date",">=","this.month"]]}`},
	{name: "Opted_out", label: "Opted out of bulk email", apiEntity: "Contact",
		apiParams: `{"version":4,"select":["id"],"where":[["is_opt_out","=",true]]}`},
}

type groupSpec struct {
	name, title, description, visibility, groupType string
	savedSearch, parent                             int
}

const (
	accessControl = "\x011\x01"
	mailingList   = "\x012\x01"
	public        = "Public Pages"
	adminOnly     = "User and User Admin Only"
)

// groupSpecs: fifteen static groups, then five smart groups built on the
// saved searches; parent makes a nesting.
var groupSpecs = []groupSpec{
	{"Administrators", "Administrators", "Contacts in this group are assigned Administrator role permissions.", adminOnly, accessControl, 0, 0},
	{"newsletter_subscribers", "Newsletter Subscribers", "Monthly newsletter", public, mailingList, 0, 0},
	{"summer_program_volunteers", "Summer Program Volunteers", "", public, mailingList, 0, 0},
	{"advisory_board", "Advisory Board", "", adminOnly, "", 0, 0},
	{"advisory_board_finance", "Advisory Board: Finance", "", adminOnly, "", 0, 4},
	{"advisory_board_programs", "Advisory Board: Programs", "", adminOnly, "", 0, 4},
	{"donors_2023", "Donors 2023", "", adminOnly, mailingList, 0, 0},
	{"donors_2024", "Donors 2024", "", adminOnly, mailingList, 0, 0},
	{"major_donors", "Major Donors", "Gave more than 1000 in a year", adminOnly, "", 0, 8},
	{"benevoles_idf", "Bénévoles Île-de-France", "Réseau des bénévoles", public, mailingList, 0, 0},
	{"tokyo_branch", "東京支部", "Tokyo branch members", public, mailingList, 0, 0},
	{"spender_muenchen", "Spender:innen München", "", adminOnly, "", 0, 0},
	{"press_contacts", "Press Contacts", "", adminOnly, "", 0, 0},
	{"board_of_directors", "Board of Directors", "", adminOnly, accessControl, 0, 0},
	{"event_attendees_2024", "Event Attendees 2024", "", adminOnly, "", 0, 0},
	{"volunteers_by_city", "Volunteers by city (smart)", "", adminOnly, "", 1, 3},
	{"students", "Students (smart)", "", adminOnly, "", 2, 0},
	{"lapsed_donors", "Lapsed donors (smart)", "", adminOnly, mailingList, 3, 7},
	{"new_this_month", "New contacts this month", "", adminOnly, "", 4, 0},
	{"opted_out", "Opted out of bulk email", "", adminOnly, "", 5, 0},
}

// staticGroups are the groups contacts are added to by hand.
var staticGroups = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

type tagSpec struct {
	name, description string
	parent            int
	tagset            bool
	color             any
}

var tagSpecs = []tagSpec{
	{"Non-profit", "Any not-for-profit organization.", 0, false, nil},
	{"Company", "For-profit organization.", 0, false, nil},
	{"Government Entity", "Any governmental entity.", 0, false, nil},
	{"Major Donor", "High-value supporter of our organization.", 0, false, "#d4af37"},
	{"Volunteer", "Active volunteers.", 0, false, nil},
	{"Interests", "What a contact cares about", 0, true, nil},
	{"Environment", "", 6, false, "#2e7d32"},
	{"Education", "", 6, false, nil},
	{"Early childhood", "", 8, false, nil},
	{"Adult literacy", "", 8, false, nil},
	{"Health", "", 6, false, nil},
	{"Skills", "What a contact can help with", 0, true, nil},
	{"Translation", "", 12, false, nil},
	{"Accounting", "", 12, false, nil},
	{"Événementiel", "Organisation d'événements", 12, false, nil},
	{"Sprachen: Deutsch", "", 13, false, nil},
	{"日本語", "", 13, false, nil},
	{"Press", "", 0, false, nil},
	{"VIP", "", 0, false, "#7b1fa2"},
	{"Do not solicit", "", 0, false, "#cc0000"},
}

// taggable are the tags that are not tag sets.
var taggable = func() []int {
	var ids []int
	for i, t := range tagSpecs {
		if !t.tagset {
			ids = append(ids, i+1)
		}
	}
	return ids
}()

// --- Mutate ------------------------------------------------------------------------

// MutateOptions says how much to change.
type MutateOptions struct {
	Fraction float64 // share of the live contacts to change, in (0, 1]; 0.01 is a busy day
	Seed     int64   // the same seed on the same data makes the same choices
}

// Mutate changes about Fraction of the live contacts the way a branch's
// users do, in one transaction: renames and profile edits (with a group
// joined and a tag swapped), phones and addresses added, edited and
// removed, emails edited, contacts moved to the trash or deleted with what
// CiviCRM deletes alongside, and new contacts with an address and an
// email; it also ends some relationships and edits some notes and
// activities. It uses the real clock, so an incremental export after it
// sees the changes. Foreign-key checks stay on.
func Mutate(ctx context.Context, db *sql.DB, opts MutateOptions) (Counts, error) {
	if !(opts.Fraction > 0 && opts.Fraction <= 1) {
		return nil, fmt.Errorf("civicrm mutate: fraction %g is not in (0, 1]", opts.Fraction)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("civicrm mutate: %w", err)
	}
	defer conn.Close()
	cols, err := loadColumns(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("civicrm mutate: %w", err)
	}
	m := &mutator{
		rng:     rand.New(rand.NewPCG(uint64(opts.Seed), 0x6d7574617465)),
		seed:    opts.Seed,
		cols:    cols,
		counts:  Counts{},
		deleted: map[int]bool{},
	}
	err = database.WithTx(ctx, conn, nil, func(tx *sql.Tx) error {
		m.tx = tx
		return m.run(ctx, opts.Fraction)
	})
	if err != nil {
		return nil, fmt.Errorf("civicrm mutate: %w", err)
	}
	return m.counts, nil
}

type mutator struct {
	rng     *rand.Rand
	seed    int64
	tx      *sql.Tx
	cols    map[string]map[string]column
	counts  Counts
	deleted map[int]bool // contacts deleted in this run

	groups, tags []int // static groups and tags that are not tag sets
	orgs         []int // live organizations, for new employees
}

type liveContact struct {
	id   int
	kind string
}

func (m *mutator) run(ctx context.Context, fraction float64) error {
	contacts, err := m.load(ctx)
	if err != nil || len(contacts) == 0 {
		return err
	}
	k := max(1, int(fraction*float64(len(contacts))+0.5))
	for i, idx := range m.rng.Perm(len(contacts))[:min(k, len(contacts))] {
		if err := m.change(ctx, contacts[idx], i); err != nil {
			return err
		}
	}
	for i := range max(1, k/10) {
		if err := m.newContact(ctx, i); err != nil {
			return err
		}
	}
	if err := m.touchTracked(ctx, max(1, k/20), contacts); err != nil {
		return err
	}
	// In the older generations an activity delete cascades to its
	// follow-ups, leaving their tags behind.
	_, err = m.exec(ctx, "civicrm_entity_tag", `DELETE et FROM civicrm_entity_tag et
		LEFT JOIN civicrm_activity a ON a.id = et.entity_id
		WHERE et.entity_table = 'civicrm_activity' AND a.id IS NULL`)
	return err
}

// load reads the live contacts, in ID order so the seed picks the same
// ones each time, and the groups and tags a profile edit may use.
func (m *mutator) load(ctx context.Context) ([]liveContact, error) {
	rows, err := m.tx.QueryContext(ctx, "SELECT id, COALESCE(contact_type, '') FROM civicrm_contact WHERE is_deleted = 0 ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var contacts []liveContact
	for rows.Next() {
		var c liveContact
		if err := rows.Scan(&c.id, &c.kind); err != nil {
			return nil, err
		}
		contacts = append(contacts, c)
		if c.kind == "Organization" {
			m.orgs = append(m.orgs, c.id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if m.groups, err = m.ids(ctx, "SELECT id FROM civicrm_group WHERE saved_search_id IS NULL ORDER BY id"); err != nil {
		return nil, err
	}
	m.tags, err = m.ids(ctx, "SELECT id FROM civicrm_tag WHERE COALESCE(is_tagset, 0) = 0 ORDER BY id")
	return contacts, err
}

func (m *mutator) ids(ctx context.Context, query string, args ...any) ([]int, error) {
	rows, err := m.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// exec runs one statement and counts the rows it changed against table.
func (m *mutator) exec(ctx context.Context, table, query string, args ...any) (int64, error) {
	res, err := m.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %w", table, firstLine(query), err)
	}
	n, err := res.RowsAffected()
	m.counts[table] += n
	return n, err
}

// execIn runs query with "(?, ...)" for ids appended; nothing when ids is empty.
func (m *mutator) execIn(ctx context.Context, table, query string, ids []int) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	_, err := m.exec(ctx, table, query+" ("+database.Placeholders(len(ids))+")", args...)
	return err
}

// change applies one user action, chosen by weight, to a contact.
func (m *mutator) change(ctx context.Context, c liveContact, i int) error {
	switch r := m.rng.IntN(100); {
	case r < 36:
		return m.rename(ctx, c)
	case r < 46:
		return m.profileEdit(ctx, c, i)
	case r < 58:
		return m.addPhone(ctx, c.id)
	case r < 66:
		return m.updatePhone(ctx, c.id)
	case r < 71:
		_, err := m.exec(ctx, "civicrm_phone", "DELETE FROM civicrm_phone WHERE contact_id = ? ORDER BY id DESC LIMIT 1", c.id)
		return err
	case r < 81:
		return m.updateAddress(ctx, c.id)
	case r < 85:
		return m.addAddress(ctx, c.id)
	case r < 88:
		_, err := m.exec(ctx, "civicrm_address", "DELETE FROM civicrm_address WHERE contact_id = ? ORDER BY id DESC LIMIT 1", c.id)
		return err
	case r < 92:
		return m.updateEmail(ctx, c.id)
	case r < 97:
		return m.hardDelete(ctx, c.id)
	default:
		_, err := m.exec(ctx, "civicrm_contact", "UPDATE civicrm_contact SET is_deleted = 1 WHERE id = ?", c.id)
		return err
	}
}

func (m *mutator) pick(list []string) string { return list[m.rng.IntN(len(list))] }

func (m *mutator) rename(ctx context.Context, c liveContact) error {
	switch c.kind {
	case "Individual":
		first, last := m.pick(firstNames), m.pick(lastNames)
		_, err := m.exec(ctx, "civicrm_contact", `UPDATE civicrm_contact
			SET first_name = ?, last_name = ?, display_name = ?, sort_name = ? WHERE id = ?`,
			first, last, first+" "+last, last+", "+first, c.id)
		return err
	case "Organization":
		name := m.pick2(places).city + " " + m.pick(orgNouns) + " " + m.pick(orgSuffixes)
		_, err := m.exec(ctx, "civicrm_contact", `UPDATE civicrm_contact
			SET organization_name = ?, display_name = ?, sort_name = ? WHERE id = ?`, name, name, name, c.id)
		return err
	default:
		name := m.pick(householdNames) + " " + m.pick(lastNames)
		_, err := m.exec(ctx, "civicrm_contact", `UPDATE civicrm_contact
			SET household_name = ?, display_name = ?, sort_name = ? WHERE id = ?`, name, name, name, c.id)
		return err
	}
}

func (m *mutator) pick2(list []place) place { return list[m.rng.IntN(len(list))] }

// profileEdit is a save of the contact form: the contact row changes (so
// its modified_date moves) together with a group joined and a tag swapped.
// A membership or tag changed on its own does not touch the contact.
func (m *mutator) profileEdit(ctx context.Context, c liveContact, i int) error {
	if _, err := m.exec(ctx, "civicrm_contact", "UPDATE civicrm_contact SET job_title = ?, source = ? WHERE id = ?",
		m.pick(jobTitles), fmt.Sprintf("profile edit %d/%d", m.seed, i), c.id); err != nil {
		return err
	}
	if len(m.groups) > 0 {
		if _, err := m.exec(ctx, "civicrm_group_contact", `INSERT INTO civicrm_group_contact (group_id, contact_id, status)
			VALUES (?, ?, 'Added') ON DUPLICATE KEY UPDATE status = 'Added'`,
			m.groups[m.rng.IntN(len(m.groups))], c.id); err != nil {
			return err
		}
	}
	if _, err := m.exec(ctx, "civicrm_entity_tag", `DELETE FROM civicrm_entity_tag
		WHERE entity_table = 'civicrm_contact' AND entity_id = ? ORDER BY id LIMIT 1`, c.id); err != nil {
		return err
	}
	if len(m.tags) == 0 {
		return nil
	}
	_, err := m.exec(ctx, "civicrm_entity_tag", `INSERT INTO civicrm_entity_tag (entity_table, entity_id, tag_id)
		VALUES ('civicrm_contact', ?, ?) ON DUPLICATE KEY UPDATE tag_id = tag_id`, c.id, m.tags[m.rng.IntN(len(m.tags))])
	return err
}

func (m *mutator) phoneNumber() (string, string) {
	digits := fmt.Sprintf("%03d%04d", m.rng.IntN(1000), m.rng.IntN(10000))
	return digits[:3] + "-" + digits[3:], digits
}

func (m *mutator) addPhone(ctx context.Context, contact int) error {
	phone, digits := m.phoneNumber()
	_, err := m.exec(ctx, "civicrm_phone", `INSERT INTO civicrm_phone
		(contact_id, location_type_id, is_primary, is_billing, phone, phone_numeric, phone_type_id)
		VALUES (?, 1, 0, 0, ?, ?, 2)`, contact, phone, digits)
	return err
}

func (m *mutator) updatePhone(ctx context.Context, contact int) error {
	phone, digits := m.phoneNumber()
	n, err := m.exec(ctx, "civicrm_phone", `UPDATE civicrm_phone SET phone = ?, phone_numeric = ?
		WHERE contact_id = ? ORDER BY id LIMIT 1`, phone, digits, contact)
	if err != nil || n > 0 {
		return err
	}
	return m.addPhone(ctx, contact)
}

// addressValues are the columns a moved or new address sets, and their values.
func (m *mutator) addressValues() ([]string, []any) {
	p := m.pick2(places)
	number, street := m.rng.IntN(400)+1, m.pick(streets)
	var county any
	if p.county != 0 {
		county = p.county
	}
	return []string{"street_address", "street_number", "street_name", "city", "postal_code",
			"state_province_id", "country_id", "county_id"},
		[]any{fmt.Sprintf("%d %s", number, street), number, street, p.city,
			fmt.Sprintf("%s%02d", p.postal, m.rng.IntN(100)), p.state, p.country, county}
}

func (m *mutator) updateAddress(ctx context.Context, contact int) error {
	cols, args := m.addressValues()
	n, err := m.exec(ctx, "civicrm_address", "UPDATE civicrm_address SET "+strings.Join(cols, " = ?, ")+
		" = ? WHERE contact_id = ? ORDER BY id LIMIT 1", append(args, contact)...)
	if err != nil || n > 0 {
		return err
	}
	return m.addAddress(ctx, contact)
}

func (m *mutator) addAddress(ctx context.Context, contact int) error {
	cols, args := m.addressValues()
	cols = append(cols, "contact_id", "location_type_id", "is_primary", "is_billing", "manual_geo_code")
	args = append(args, contact, 4, 0, 0, 0)
	_, err := m.exec(ctx, "civicrm_address", "INSERT INTO civicrm_address ("+strings.Join(cols, ", ")+
		") VALUES ("+database.Placeholders(len(cols))+")", args...)
	return err
}

func (m *mutator) updateEmail(ctx context.Context, contact int) error {
	email := fmt.Sprintf("changed%d.%d@%s", contact, m.rng.IntN(1000), m.pick(mailDomains))
	n, err := m.exec(ctx, "civicrm_email", `UPDATE civicrm_email SET email = ?, on_hold = 0, hold_date = NULL
		WHERE contact_id = ? ORDER BY id LIMIT 1`, email, contact)
	if err != nil || n > 0 {
		return err
	}
	_, err = m.exec(ctx, "civicrm_email", `INSERT INTO civicrm_email
		(contact_id, location_type_id, email, is_primary, is_billing, on_hold, is_bulkmail)
		VALUES (?, 1, ?, 1, 0, 0, 0)`, contact, email)
	return err
}

// hardDelete removes a contact the way CiviCRM's delete does: the rows
// that refer to it without a foreign key (notes and tags) and the
// activities that were only about it go first; foreign keys cascade the
// rest (addresses, emails, phones, relationships, memberships, ...) and
// set NULL where others merely pointed at it (employer_id, created_id).
func (m *mutator) hardDelete(ctx context.Context, contact int) error {
	notes, err := m.ids(ctx, `SELECT id FROM civicrm_note WHERE entity_table = 'civicrm_contact' AND entity_id = ?
		UNION SELECT n.id FROM civicrm_note n JOIN civicrm_relationship r
			ON n.entity_table = 'civicrm_relationship' AND n.entity_id = r.id
		WHERE r.contact_id_a = ? OR r.contact_id_b = ?`, contact, contact, contact)
	if err != nil {
		return err
	}
	if err := m.execIn(ctx, "civicrm_note", "DELETE FROM civicrm_note WHERE entity_table = 'civicrm_note' AND entity_id IN", notes); err != nil {
		return err
	}
	if err := m.execIn(ctx, "civicrm_note", "DELETE FROM civicrm_note WHERE id IN", notes); err != nil {
		return err
	}
	if err := m.deleteOwnActivities(ctx, contact); err != nil {
		return err
	}
	if _, err := m.exec(ctx, "civicrm_entity_tag", "DELETE FROM civicrm_entity_tag WHERE entity_table = 'civicrm_contact' AND entity_id = ?", contact); err != nil {
		return err
	}
	// group_contact.email_id has no ON DELETE action: a membership naming
	// one of the contact's emails would block the cascade.
	if _, err := m.exec(ctx, "civicrm_group_contact", `UPDATE civicrm_group_contact gc
		JOIN civicrm_email e ON e.id = gc.email_id SET gc.email_id = NULL WHERE e.contact_id = ?`, contact); err != nil {
		return err
	}
	m.deleted[contact] = true
	_, err = m.exec(ctx, "civicrm_contact", "DELETE FROM civicrm_contact WHERE id = ?", contact)
	return err
}

// deleteOwnActivities deletes the activities whose only participant is
// the contact, and their tags.
func (m *mutator) deleteOwnActivities(ctx context.Context, contact int) error {
	own, err := m.ids(ctx, `SELECT activity_id FROM civicrm_activity_contact
		WHERE activity_id IN (SELECT activity_id FROM civicrm_activity_contact WHERE contact_id = ?)
		GROUP BY activity_id HAVING COUNT(DISTINCT contact_id) = 1`, contact)
	if err != nil {
		return err
	}
	if err := m.execIn(ctx, "civicrm_entity_tag", "DELETE FROM civicrm_entity_tag WHERE entity_table = 'civicrm_activity' AND entity_id IN", own); err != nil {
		return err
	}
	return m.execIn(ctx, "civicrm_activity", "DELETE FROM civicrm_activity WHERE id IN", own)
}

// newContact adds an individual with a home address and an email, and
// sometimes an employer.
func (m *mutator) newContact(ctx context.Context, i int) error {
	first, last := m.pick(firstNames), m.pick(lastNames)
	var employer any
	if org := m.liveOrg(); org != 0 && m.rng.IntN(3) == 0 {
		employer = org
	}
	res, err := m.tx.ExecContext(ctx, `INSERT INTO civicrm_contact
		(contact_type, first_name, last_name, display_name, sort_name, hash, source, employer_id, is_opt_out)
		VALUES ('Individual', ?, ?, ?, ?, ?, ?, ?, 0)`, first, last, first+" "+last, last+", "+first,
		fmt.Sprintf("%016x%016x", m.rng.Uint64(), m.rng.Uint64()), fmt.Sprintf("mutate %d/%d", m.seed, i), employer)
	if err != nil {
		return fmt.Errorf("civicrm_contact: insert: %w", err)
	}
	m.counts["civicrm_contact"]++
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if err := m.addAddress(ctx, int(id)); err != nil {
		return err
	}
	if err := m.updateEmail(ctx, int(id)); err != nil {
		return err
	}
	if employer == nil {
		return nil
	}
	_, err = m.exec(ctx, "civicrm_relationship", `INSERT INTO civicrm_relationship
		(contact_id_a, contact_id_b, relationship_type_id, is_active, is_permission_a_b, is_permission_b_a)
		VALUES (?, ?, 4, 1, 0, 0)`, id, employer)
	return err
}

func (m *mutator) liveOrg() int {
	for range 5 {
		if len(m.orgs) == 0 {
			return 0
		}
		if org := m.orgs[m.rng.IntN(len(m.orgs))]; !m.deleted[org] {
			return org
		}
	}
	return 0
}

// touchTracked changes rows of the tables that carry their own
// modified_date in 5.x: relationships end, notes and activities are
// edited, and a few contacts get a new phone-call activity.
func (m *mutator) touchTracked(ctx context.Context, n int, contacts []liveContact) error {
	noteEdit := "UPDATE civicrm_note SET note = CONCAT(COALESCE(note, ''), ' (edited)') WHERE id = ?"
	if m.cols["civicrm_note"]["modified_date"].dataType == "date" {
		// Before 5.24 there is no automatic stamp: the application writes the day.
		noteEdit = "UPDATE civicrm_note SET note = CONCAT(COALESCE(note, ''), ' (edited)'), modified_date = CURRENT_DATE WHERE id = ?"
	}
	edits := []struct{ table, query string }{
		{"civicrm_relationship", "UPDATE civicrm_relationship SET is_active = 0, end_date = CURRENT_DATE WHERE id = ? AND is_active = 1"},
		{"civicrm_note", noteEdit},
		{"civicrm_activity", "UPDATE civicrm_activity SET status_id = IF(status_id = 2, 1, 2) WHERE id = ?"},
	}
	for _, e := range edits {
		if err := m.editRandom(ctx, e.table, e.query, n); err != nil {
			return err
		}
	}
	for range n {
		c := contacts[m.rng.IntN(len(contacts))]
		if !m.deleted[c.id] {
			if err := m.newActivity(ctx, c.id); err != nil {
				return err
			}
		}
	}
	return nil
}

// editRandom runs query for n IDs drawn from the table's ID range; an ID
// with no row (deleted, or filtered out by the query) changes nothing.
func (m *mutator) editRandom(ctx context.Context, table, query string, n int) error {
	var maxID int
	if err := m.tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM "+database.QuoteIdent(table)).Scan(&maxID); err != nil {
		return err
	}
	for range n {
		if maxID == 0 {
			return nil
		}
		if _, err := m.exec(ctx, table, query, m.rng.IntN(maxID)+1); err != nil {
			return err
		}
	}
	return nil
}

func (m *mutator) newActivity(ctx context.Context, contact int) error {
	res, err := m.tx.ExecContext(ctx, `INSERT INTO civicrm_activity
		(activity_type_id, subject, activity_date_time, status_id, priority_id, is_test, is_auto, is_current_revision, is_deleted)
		VALUES (2, 'Follow-up call', NOW(), 2, 2, 0, 0, 1, 0)`)
	if err != nil {
		return fmt.Errorf("civicrm_activity: insert: %w", err)
	}
	m.counts["civicrm_activity"]++
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	_, err = m.exec(ctx, "civicrm_activity_contact", `INSERT INTO civicrm_activity_contact
		(activity_id, contact_id, record_type_id) VALUES (?, ?, 2), (?, ?, 3)`, id, contact, id, contact)
	return err
}
