// Package verifytest holds the assertions that tests of several packages
// make with the verify engine: the master holds exactly a child's rows,
// and no row that no child explains.
package verifytest

import (
	"context"
	"database/sql"
	"testing"

	"tributary/schema"
	"tributary/verify"
)

// shown is how many differences an assertion lists before it only counts.
const shown = 20

// AssertMirrors fails the test when the master's rows of prefix differ
// from the child's rows, listing the first differences.
func AssertMirrors(tb testing.TB, child, master *sql.DB, s *schema.Schema, prefix string) {
	tb.Helper()
	r, err := verify.Compare(context.Background(), child, master, s, prefix, verify.Options{Keep: shown})
	if err != nil {
		tb.Fatalf("compare %s: %v", prefix, err)
	}
	for _, d := range r.Differences {
		tb.Errorf("%s: %s", prefix, d)
	}
	if r.Total > int64(len(r.Differences)) {
		tb.Errorf("... %d differences in all", r.Total)
	}
}

// AssertNoStrays fails the test when the master holds rows of synced
// tables that none of the prefixes' mappings explains.
func AssertNoStrays(tb testing.TB, master *sql.DB, s *schema.Schema, prefixes ...string) {
	tb.Helper()
	diffs, err := verify.Unmapped(context.Background(), master, s, prefixes, verify.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range diffs {
		tb.Errorf("stray master row: %s", d)
	}
}
