package dbtest

import (
	"database/sql"
	"slices"
	"sort"
	"testing"

	"github.com/jmoiron/sqlx"

	"tributary/internal/database"
)

// Checksums returns CHECKSUM TABLE of every base table of the database,
// tributary's own tables included, for "nothing changed" assertions.
func Checksums(tb testing.TB, db *sqlx.DB) map[string]string {
	tb.Helper()
	var tables []string
	if err := db.Select(&tables, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"); err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range tables {
		var table string
		var sum sql.NullString
		if err := db.QueryRow("CHECKSUM TABLE "+database.QuoteIdent(name)).Scan(&table, &sum); err != nil {
			tb.Fatal(err)
		}
		out[name] = sum.String
	}
	return out
}

// AssertSameTables fails when a table of before (checksums from Checksums)
// changed or is gone in after. A table made since passes while it is empty:
// an import creates the mapping and ledger tables before the first
// transaction of a prefix, and their rows are what counts. Tables named in
// ignore are not compared.
func AssertSameTables(tb testing.TB, before, after map[string]string, ignore ...string) {
	tb.Helper()
	for _, name := range tableNames(before, after) {
		sum, existed := before[name]
		now, exists := after[name]
		switch {
		case slices.Contains(ignore, name):
		case !existed && now == "0":
		case existed && !exists:
			tb.Errorf("table %s is gone", name)
		case sum != now:
			tb.Errorf("table %s changed (checksum %q -> %q)", name, sum, now)
		}
	}
}

// AssertIdenticalTables fails when any table was made, even empty (which
// AssertSameTables lets pass), dropped or changed.
func AssertIdenticalTables(tb testing.TB, before, after map[string]string) {
	tb.Helper()
	if len(after) != len(before) {
		tb.Errorf("tables before %d, after %d", len(before), len(after))
	}
	for name, sum := range before {
		if after[name] != sum {
			tb.Errorf("table %s changed (checksum %s -> %s)", name, sum, after[name])
		}
	}
}

func tableNames(maps ...map[string]string) []string {
	seen := map[string]bool{}
	var names []string
	for _, m := range maps {
		for name := range m {
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	sort.Strings(names)
	return names
}

// LockHolder returns the connection that holds the named lock (GET_LOCK),
// 0 when none does.
func LockHolder(tb testing.TB, db *sqlx.DB, lock string) int64 {
	tb.Helper()
	var id sql.NullInt64
	if err := db.Get(&id, "SELECT IS_USED_LOCK(?)", lock); err != nil {
		tb.Fatal(err)
	}
	return id.Int64
}
