package syncfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// benchRecords is the size of the generated file: about what a full export
// of a 9,000-contact CiviCRM branch holds.
const benchRecords = 100_000

// BenchmarkReader reads a generated sync file of CiviCRM-like upserts from
// start to verified trailer, the way import does, and reports the rate in
// uncompressed MB/s and in records/s. The gzip variant is what export
// writes by default; the plain one shows the reader's own cost.
//
//	go test ./syncfile -run '^$' -bench Reader -benchmem
func BenchmarkReader(b *testing.B) {
	dir := b.TempDir()
	// Both files hold the same records; the plain one's size is the
	// uncompressed stream, so MB/s compares the variants fairly.
	plain := writeBenchFile(b, dir, false)
	zipped := writeBenchFile(b, dir, true)
	info, err := os.Stat(plain)
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct{ name, path string }{{"gzip", zipped}, {"plain", plain}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(info.Size())
			var records int64
			for b.Loop() {
				records = readBenchFile(b, v.path)
			}
			if records != benchRecords {
				b.Fatalf("read %d records, want %d", records, benchRecords)
			}
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// readBenchFile reads every record and returns how many there were; only a
// verified trailer (io.EOF) counts as success.
func readBenchFile(b *testing.B, path string) int64 {
	r, err := Open(path, ReaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var n int64
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// writeBenchFile writes benchRecords generated records into dir and
// returns the file's path. The generator is seeded: every call writes the
// same records.
func writeBenchFile(b *testing.B, dir string, gz bool) string {
	b.Helper()
	gen := newBenchGen()
	h := gen.header()
	w, err := Create(dir, FileName(h.Prefix, h.Sequence, h.Mode, gz), WriterOptions{Gzip: gz})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Abort()
	if err := w.WriteHeader(h); err != nil {
		b.Fatal(err)
	}
	for w.Records() < benchRecords {
		for _, line := range gen.contact(benchRecords - int(w.Records())) {
			if err := w.WriteRecord(line); err != nil {
				b.Fatal(err)
			}
		}
	}
	path, err := w.Commit()
	if err != nil {
		b.Fatal(err)
	}
	return path
}

// benchGen makes rows shaped like the CiviCRM test data (testdata/civicrm):
// a contact with its addresses, emails, phones, group memberships, notes
// and activities, about eleven records per contact. The values are varied
// enough that gzip does not flatter the numbers.
type benchGen struct {
	rng *rand.Rand
	ids map[string]int64
}

func newBenchGen() *benchGen {
	return &benchGen{rng: rand.New(rand.NewPCG(1, 2)), ids: map[string]int64{}}
}

// benchTables lists each table's columns in the order CiviCRM declares them.
var benchTables = []struct {
	name, role string
	columns    []string
}{
	{"civicrm_contact", "track", []string{"id", "contact_type", "contact_sub_type", "do_not_email", "do_not_phone",
		"do_not_mail", "do_not_sms", "do_not_trade", "is_opt_out", "legal_identifier", "external_identifier",
		"sort_name", "display_name", "nick_name", "legal_name", "image_URL", "preferred_communication_method",
		"preferred_language", "source", "first_name", "middle_name", "last_name", "prefix_id", "suffix_id",
		"email_greeting_id", "email_greeting_display", "postal_greeting_id", "postal_greeting_display",
		"addressee_id", "addressee_display", "job_title", "gender_id", "birth_date", "is_deceased",
		"employer_id", "is_deleted", "created_date", "modified_date"}},
	{"civicrm_address", "owner", []string{"id", "contact_id", "location_type_id", "is_primary", "is_billing",
		"street_address", "supplemental_address_1", "city", "county_id", "state_province_id", "postal_code",
		"country_id", "geo_code_1", "geo_code_2", "manual_geo_code", "master_id"}},
	{"civicrm_email", "owner", []string{"id", "contact_id", "location_type_id", "email", "is_primary",
		"is_billing", "on_hold", "is_bulkmail", "hold_date", "reset_date"}},
	{"civicrm_phone", "owner", []string{"id", "contact_id", "location_type_id", "is_primary", "is_billing",
		"phone", "phone_ext", "phone_numeric", "phone_type_id"}},
	{"civicrm_group_contact", "owner", []string{"id", "group_id", "contact_id", "status", "email_id"}},
	{"civicrm_note", "track", []string{"id", "entity_table", "entity_id", "note", "contact_id", "note_date",
		"created_date", "modified_date", "subject", "privacy"}},
	{"civicrm_activity", "track", []string{"id", "activity_type_id", "subject", "activity_date_time", "duration",
		"location", "details", "status_id", "priority_id", "is_test", "is_deleted", "created_date", "modified_date"}},
	{"civicrm_activity_contact", "owner", []string{"id", "activity_id", "contact_id", "record_type_id"}},
}

func (g *benchGen) header() *Header {
	h := &Header{
		Prefix: "bench", Stream: "0123456789abcdef", Sequence: 1, Mode: ModeFull,
		Until: "2026-11-22T10:15:00Z", Created: "2026-11-22T10:15:05Z",
		Tables: map[string]TableInfo{},
	}
	for i, t := range benchTables {
		h.Tables[t.name] = TableInfo{Order: i, Role: t.role, Key: []string{"id"}, Columns: t.columns}
	}
	return h
}

var (
	benchFirst  = []string{"Ann", "Zoë", "Jürgen", "María", "Siobhán", "Kwame", "Li", "Ólafur", "Priya", "Tom"}
	benchLast   = []string{"Smith", "Müller", "García", "O'Brien", "Nguyen", "Okafor", "Kowalski", "Søren", "Lee", "Brown"}
	benchCities = []string{"Brooklyn", "São Paulo", "Zürich", "Kraków", "Lagos", "Montréal", "Oakland", "Leeds"}
	benchWords  = []string{"called", "about", "the", "renewal", "newsletter", "volunteer", "event", "donation",
		"follow", "up", "next", "week", "prefers", "email", "\"urgent\"", "line\nbreak"}
)

func (g *benchGen) next(table string) int64 { g.ids[table]++; return g.ids[table] }

func (g *benchGen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *benchGen) date() string {
	return fmt.Sprintf("20%02d-%02d-%02d %02d:%02d:%02d", 15+g.rng.IntN(11), 1+g.rng.IntN(12),
		1+g.rng.IntN(28), g.rng.IntN(24), g.rng.IntN(60), g.rng.IntN(60))
}

func (g *benchGen) text(words int) string {
	s := g.pick(benchWords)
	for range words - 1 {
		s += " " + g.pick(benchWords)
	}
	return s
}

// nullable returns nil with probability p: many CiviCRM columns are mostly
// empty.
func (g *benchGen) nullable(p float64, v any) any {
	if g.rng.Float64() < p {
		return nil
	}
	return v
}

// contact returns the record lines of one contact and what hangs off it,
// at most limit of them.
func (g *benchGen) contact(limit int) [][]byte {
	var lines [][]byte
	add := func(table string, id int64, row map[string]any) {
		if len(lines) >= limit {
			return
		}
		line, err := json.Marshal(map[string]any{"t": table, "op": OpUpsert, "id": id, "row": row})
		if err != nil {
			panic(err)
		}
		lines = append(lines, line)
	}
	id := g.next("civicrm_contact")
	first, last := g.pick(benchFirst), g.pick(benchLast)
	add("civicrm_contact", id, map[string]any{
		"id": id, "contact_type": "Individual", "contact_sub_type": g.nullable(0.95, "\x01Student\x01"),
		"do_not_email": 0, "do_not_phone": g.rng.IntN(2), "do_not_mail": 0, "do_not_sms": 0, "do_not_trade": 0,
		"is_opt_out": 0, "legal_identifier": nil, "external_identifier": g.nullable(0.9, fmt.Sprintf("EXT-%07d", id)),
		"sort_name": last + ", " + first, "display_name": first + " " + last, "nick_name": nil, "legal_name": nil,
		"image_URL": nil, "preferred_communication_method": g.nullable(0.3, "\x011\x012\x01"),
		"preferred_language": "en_US", "source": g.nullable(0.5, "Spring gala 2024"),
		"first_name": first, "middle_name": g.nullable(0.8, "J."), "last_name": last,
		"prefix_id": g.nullable(0.7, 1+g.rng.IntN(4)), "suffix_id": nil,
		"email_greeting_id": 1, "email_greeting_display": "Dear " + first,
		"postal_greeting_id": 1, "postal_greeting_display": "Dear " + first,
		"addressee_id": 1, "addressee_display": first + " " + last, "job_title": g.nullable(0.6, "Coordinator"),
		"gender_id": g.nullable(0.2, 1+g.rng.IntN(3)), "birth_date": g.nullable(0.4, g.date()[:10]),
		"is_deceased": 0, "employer_id": g.nullable(0.6, 1+g.rng.Int64N(id)), "is_deleted": 0,
		"created_date": g.date(), "modified_date": g.date(),
	})
	for i := range 1 + g.rng.IntN(2) {
		aid := g.next("civicrm_address")
		add("civicrm_address", aid, map[string]any{
			"id": aid, "contact_id": id, "location_type_id": 1 + i, "is_primary": btoi(i == 0), "is_billing": 0,
			"street_address":         fmt.Sprintf("%d %s Street", 1+g.rng.IntN(999), g.pick(benchLast)),
			"supplemental_address_1": g.nullable(0.8, "Apt 4B"), "city": g.pick(benchCities), "county_id": nil,
			"state_province_id": 1000 + g.rng.IntN(60), "postal_code": fmt.Sprintf("%05d", g.rng.IntN(99999)),
			"country_id": 1228, "geo_code_1": fmt.Sprintf("%.6f", g.rng.Float64()*180-90),
			"geo_code_2": fmt.Sprintf("%.6f", g.rng.Float64()*360-180), "manual_geo_code": 0, "master_id": nil,
		})
	}
	eid := g.next("civicrm_email")
	add("civicrm_email", eid, map[string]any{
		"id": eid, "contact_id": id, "location_type_id": 1, "email": fmt.Sprintf("%s.%s%d@example.org", first, last, id),
		"is_primary": 1, "is_billing": 0, "on_hold": 0, "is_bulkmail": 0, "hold_date": nil, "reset_date": nil,
	})
	for i := range g.rng.IntN(3) {
		pid := g.next("civicrm_phone")
		phone := fmt.Sprintf("555-%03d-%04d", g.rng.IntN(1000), g.rng.IntN(10000))
		add("civicrm_phone", pid, map[string]any{
			"id": pid, "contact_id": id, "location_type_id": 1, "is_primary": btoi(i == 0), "is_billing": 0,
			"phone": phone, "phone_ext": nil, "phone_numeric": phone[:3] + phone[4:7] + phone[8:], "phone_type_id": 1 + i,
		})
	}
	for range g.rng.IntN(3) {
		gid := g.next("civicrm_group_contact")
		add("civicrm_group_contact", gid, map[string]any{
			"id": gid, "group_id": 1 + g.rng.IntN(20), "contact_id": id, "status": "Added", "email_id": nil,
		})
	}
	if g.rng.IntN(3) == 0 {
		nid := g.next("civicrm_note")
		add("civicrm_note", nid, map[string]any{
			"id": nid, "entity_table": "civicrm_contact", "entity_id": id, "note": g.text(20), "contact_id": 1,
			"note_date": g.date(), "created_date": g.date(), "modified_date": g.date(), "subject": g.text(3), "privacy": "0",
		})
	}
	for range 1 + g.rng.IntN(2) {
		actID := g.next("civicrm_activity")
		add("civicrm_activity", actID, map[string]any{
			"id": actID, "activity_type_id": 1 + g.rng.IntN(50), "subject": g.text(4), "activity_date_time": g.date(),
			"duration": g.nullable(0.7, 30), "location": nil, "details": g.nullable(0.5, g.text(30)),
			"status_id": 2, "priority_id": 2, "is_test": 0, "is_deleted": 0, "created_date": g.date(), "modified_date": g.date(),
		})
		for _, who := range []struct {
			contact int64
			kind    int
		}{{1, 2}, {id, 3}} {
			acID := g.next("civicrm_activity_contact")
			add("civicrm_activity_contact", acID, map[string]any{
				"id": acID, "activity_id": actID, "contact_id": who.contact, "record_type_id": who.kind,
			})
		}
	}
	return lines
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
