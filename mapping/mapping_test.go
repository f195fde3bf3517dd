package mapping

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"tributary/internal/dbtest"
)

func TestTableName(t *testing.T) {
	if name, err := TableName("nyc_2"); err != nil || name != "mapping_master_nyc_2" {
		t.Errorf("TableName = %q, %v", name, err)
	}
	for _, bad := range []string{"", "NYC", "1abc", "a-b", "a`b", "abcdefghijklmnopqrstuvwxyz0123456"} {
		if _, err := TableName(bad); !errors.Is(err, ErrBadPrefix) {
			t.Errorf("TableName(%q) accepted", bad)
		}
	}
}

func TestEnsureCreatesOnceAndStoreWorks(t *testing.T) {
	ctx := context.Background()
	db, _ := dbtest.NewDatabase(t)
	created, err := Ensure(ctx, db, "nyc")
	if err != nil || !slices.Equal(created, []string{LedgerTable, "mapping_master_nyc", HoldersTable, NoticesTable}) {
		t.Fatalf("Ensure = %v, %v", created, err)
	}
	if created, err = Ensure(ctx, db, "nyc"); err != nil || len(created) != 0 {
		t.Fatalf("second Ensure = %v, %v: it must not issue DDL again", created, err)
	}
	if prefixes, err := Prefixes(ctx, db); err != nil || !slices.Equal(prefixes, []string{"nyc"}) {
		t.Errorf("Prefixes = %v, %v", prefixes, err)
	}
	s, err := NewStore(db, "nyc")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// More pairs than one statement carries, with IDs beyond 32 bits.
	var pairs []Pair
	for i := int64(1); i <= 2500; i++ {
		pairs = append(pairs, Pair{Child: i * 3, Master: 1<<40 + i})
	}
	if err := s.Insert(ctx, "contact", pairs); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, "note", []Pair{{Child: 3, Master: 7}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, "contact", []Pair{{Child: 3, Master: 99}}); err == nil {
		t.Error("a second mapping of one child ID was accepted")
	}
	var ask []int64
	for i := int64(0); i <= 7600; i++ {
		ask = append(ask, i)
	}
	got, err := s.Lookup(ctx, "contact", ask)
	if err != nil || len(got) != 2500 || got[3] != 1<<40+1 || got[7500] != 1<<40+2500 {
		t.Fatalf("Lookup: %d found, %v", len(got), err)
	}
	back, err := s.LookupMaster(ctx, "contact", []int64{1<<40 + 1, 7})
	if err != nil || len(back) != 1 || back[1<<40+1] != 3 {
		t.Errorf("LookupMaster = %v, %v", back, err)
	}
	if has, _ := s.Any(ctx, "note"); !has {
		t.Error("Any(note) = false")
	}
	if has, _ := s.Any(ctx, "email"); has {
		t.Error("Any(email) = true")
	}

	var scanned []int64
	if err := s.Scan(ctx, "contact", func(p Pair) error { scanned = append(scanned, p.Child); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(scanned) != 2500 || !slices.IsSorted(scanned) {
		t.Errorf("Scan: %d pairs, sorted %t", len(scanned), slices.IsSorted(scanned))
	}
	var inRanges []int64
	err = s.ScanRanges(ctx, "contact", [][2]int64{{1, 6}, {7499, 9000}}, func(p Pair) error { inRanges = append(inRanges, p.Child); return nil })
	if err != nil || !slices.Equal(inRanges, []int64{3, 6, 7500}) {
		t.Errorf("ScanRanges = %v, %v", inRanges, err)
	}

	if err := s.Remap(ctx, "contact", 3, 42); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteMaster(ctx, "contact", []int64{42, 1<<40 + 2, 123456})
	if err != nil || n != 2 {
		t.Errorf("DeleteMaster = %d, %v", n, err)
	}
	counts, err := s.Counts(ctx)
	if err != nil || counts["contact"] != 2498 || counts["note"] != 1 {
		t.Errorf("Counts = %v, %v", counts, err)
	}
}

func TestLedger(t *testing.T) {
	ctx := context.Background()
	db, _ := dbtest.NewDatabase(t)
	// Before the first import there is no ledger: nothing was applied.
	if last, err := LedgerLast(ctx, db, "nyc"); last != nil || err != nil {
		t.Fatalf("LedgerLast without a ledger = %v, %v", last, err)
	}
	if _, err := Ensure(ctx, db, "nyc"); err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339Nano, s); return tm }
	since := at("2024-05-01T12:00:00.1234567Z")
	entries := []*LedgerEntry{
		{Prefix: "nyc", Stream: "s1", Sequence: 1, Mode: "full", Until: at("2024-05-01T12:00:00.1234567Z"), SHA256: "aa", Records: 3, FileName: "nyc-0000000001-full.jsonl"},
		{Prefix: "nyc", Stream: "s1", Sequence: 2, Mode: "incremental", Since: &since, Until: at("2024-05-01T13:00:00Z"), SHA256: "bb", Records: 1, Inserted: 1, FileName: "nyc-0000000002-incr.jsonl"},
		{Prefix: "bos", Stream: "x", Sequence: 9, Mode: "full", Until: at("2025-01-01T00:00:00Z"), SHA256: "cc"},
	}
	for _, e := range entries {
		if err := LedgerRecord(ctx, db, e, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := LedgerRecord(ctx, db, entries[0], false); err == nil {
		t.Error("a duplicate ledger entry was accepted")
	}
	last, err := LedgerLast(ctx, db, "nyc")
	if err != nil || last.Sequence != 2 || !last.Since.Equal(LedgerTime(since)) || last.Inserted != 1 {
		t.Fatalf("LedgerLast = %+v, %v", last, err)
	}
	// Times come back at microsecond precision, so they compare equal to
	// what the import computes with LedgerTime.
	first, err := LedgerFind(ctx, db, "nyc", "s1", 1)
	if err != nil || !first.Until.Equal(LedgerTime(entries[0].Until)) || first.Since != nil {
		t.Fatalf("LedgerFind = %+v, %v", first, err)
	}
	if seen, _ := LedgerStreamSeen(ctx, db, "nyc", "s2"); seen {
		t.Error("stream s2 seen")
	}
	all, err := LedgerEntries(ctx, db, "")
	if err != nil || len(all) != 3 || all[0].Prefix != "bos" {
		t.Errorf("LedgerEntries = %d, %v", len(all), err)
	}
	entries[0].SHA256 = "dd"
	if err := LedgerRecord(ctx, db, entries[0], true); err != nil {
		t.Fatal(err)
	}
	if e, _ := LedgerFind(ctx, db, "nyc", "s1", 1); e.SHA256 != "dd" {
		t.Error("replace did not replace")
	}
}

// A ledger made by an older tributary gains the source columns on the next
// Ensure; its rows keep NULL there and still read back.
func TestEnsureUpgradesAnOldLedger(t *testing.T) {
	ctx := context.Background()
	db, _ := dbtest.NewDatabase(t)
	dbtest.Exec(t, db, `CREATE TABLE tributary_ledger (
		prefix VARCHAR(32) NOT NULL, stream VARCHAR(64) NOT NULL, sequence BIGINT UNSIGNED NOT NULL,
		mode VARCHAR(16) NOT NULL, since DATETIME(6) NULL, until DATETIME(6) NOT NULL, sha256 CHAR(64) NOT NULL,
		records BIGINT UNSIGNED NOT NULL, inserted BIGINT UNSIGNED NOT NULL DEFAULT 0,
		updated BIGINT UNSIGNED NOT NULL DEFAULT 0, deleted BIGINT UNSIGNED NOT NULL DEFAULT 0,
		file_name VARCHAR(1024) NOT NULL, applied_at DATETIME(6) NOT NULL,
		PRIMARY KEY (prefix, stream, sequence), KEY I_prefix_until (prefix, until))`,
		`INSERT INTO tributary_ledger VALUES ('nyc', 's', 1, 'full', NULL, '2026-01-01 00:00:00', 'abc', 3, 3, 0, 0, 'f', '2026-01-01 00:00:01')`)
	if _, err := Ensure(ctx, db, "nyc"); err != nil {
		t.Fatal(err)
	}
	last, err := LedgerLast(ctx, db, "nyc")
	if err != nil || last == nil || last.Sequence != 1 || last.Source.Database != "" {
		t.Fatalf("old entry after the upgrade: %+v, %v", last, err)
	}
	if _, ok, err := LedgerStreamOrigin(ctx, db, "nyc", "s"); ok || err != nil {
		t.Errorf("an old entry claims an origin: %v, %v", ok, err)
	}
}

// TestLookupReturnsOnlyWhatWasAsked: a dense set of IDs is read as a
// range of the key and a sparse one as a list; either way the result holds
// exactly the asked IDs that have a mapping, whatever their order or
// repeats, never a neighbour inside the range.
func TestLookupReturnsOnlyWhatWasAsked(t *testing.T) {
	ctx := context.Background()
	db, _ := dbtest.NewDatabase(t)
	if _, err := Ensure(ctx, db, "nyc"); err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(db, "nyc")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pairs []Pair
	for i := int64(1); i <= 3000; i++ {
		pairs = append(pairs, Pair{Child: i, Master: 10000 + i})
	}
	if err := s.Insert(ctx, "contact", pairs); err != nil {
		t.Fatal(err)
	}
	check := func(name string, ask []int64) {
		t.Helper()
		want := map[int64]int64{}
		for _, id := range ask {
			if id >= 1 && id <= 3000 {
				want[id] = 10000 + id
			}
		}
		got, err := s.Lookup(ctx, "contact", ask)
		if err != nil || !maps.Equal(got, want) {
			t.Errorf("%s: Lookup gave %d pairs (%v), want %d", name, len(got), err, len(want))
		}
	}
	var dense, sparse []int64
	for i := int64(2600); i >= -5; i-- { // descending, past both ends of the mapped IDs
		if i%3 != 0 {
			dense = append(dense, i, i)
		}
	}
	for i := int64(1); i <= 3000; i += 37 {
		sparse = append(sparse, i)
	}
	check("dense", dense)
	check("sparse", sparse)
	if _, ok := s.stmts["lookup-range"]; !ok {
		t.Error("the dense IDs were not read as a range")
	}
	if _, ok := s.stmts["lookup-128"]; !ok {
		t.Error("the sparse IDs were not read as a list")
	}
}
