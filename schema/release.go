package schema

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"tributary/internal/database"
)

// Release is what a database says of the application release it holds:
// the version the application recorded, and the range of releases whose
// columns it has.
type Release struct {
	Application string
	// Version is the release the application recorded ("" when the
	// version table is missing, empty or unreadable); VersionFrom names
	// where it was read (TABLE.COLUMN).
	Version, VersionFrom string
	// Since and Before bound the releases whose columns the database has:
	// Since or later, before Before ("" when unbounded).
	Since, Before string
	// Conflict says why the columns and the recorded version disagree (an
	// upgrade that did not finish, a hand-made change), or what they lack.
	Conflict string
	// TooOld: every release the database may hold comes before the first
	// the map fits (ReleaseSpec.First).
	TooOld bool
}

// String says it in one line: "CiviCRM 5.49.4 (civicrm_domain.version;
// its columns are those of 5.47 or later, before 5.67)".
func (r *Release) String() string {
	columns := r.columnRange()
	switch {
	case r.Version != "" && columns != "":
		return fmt.Sprintf("%s %s (%s; its columns are those of %s)", r.Application, r.Version, r.VersionFrom, columns)
	case r.Version != "":
		return fmt.Sprintf("%s %s (%s)", r.Application, r.Version, r.VersionFrom)
	case r.Since == "" && r.Before != "":
		return fmt.Sprintf("%s before %s (from its columns; %s holds no version)", r.Application, r.Before, r.VersionFrom)
	case columns != "":
		return fmt.Sprintf("%s %s (from its columns; %s holds no version)", r.Application, columns, r.VersionFrom)
	}
	return fmt.Sprintf("%s, release unknown (%s holds no version)", r.Application, r.VersionFrom)
}

func (r *Release) columnRange() string {
	switch {
	case r.Since != "" && r.Before != "":
		return r.Since + " or later, before " + r.Before
	case r.Since != "":
		return r.Since + " or later"
	case r.Before != "":
		return "a release before " + r.Before
	}
	return ""
}

// check validates a map's release section: names and versions well formed.
func (rs *ReleaseSpec) check() error {
	if rs == nil {
		return nil
	}
	if rs.Application == "" {
		return errors.New("application: is required")
	}
	if _, _, ok := splitColumn(rs.Version); !ok {
		return fmt.Errorf("version: %q is not TABLE.COLUMN", rs.Version)
	}
	if rs.First != "" && parseVersion(rs.First) == nil {
		return fmt.Errorf("first: %q is not a release number", rs.First)
	}
	for _, mark := range rs.Columns {
		if parseVersion(mark.Since) == nil {
			return fmt.Errorf("columns: since %q is not a release number", mark.Since)
		}
		if _, _, ok := splitColumn(mark.Column); !ok {
			return fmt.Errorf("columns: %q is not TABLE.COLUMN", mark.Column)
		}
	}
	return nil
}

func splitColumn(s string) (table, column string, ok bool) {
	table, column, ok = strings.Cut(s, ".")
	return table, column, ok && table != "" && column != ""
}

// recognise reads the recorded version and matches the catalog's columns
// against the release marks. A version that cannot be read is not an
// error: the columns still tell.
func recognise(ctx context.Context, db *sqlx.DB, cat *catalog, rs *ReleaseSpec) *Release {
	r := &Release{Application: rs.Application, VersionFrom: rs.Version}
	r.Version = readVersion(ctx, db, cat, rs.Version)
	r.matchColumns(cat, rs.Columns)
	switch {
	case rs.First == "":
	case parseVersion(r.Version) != nil:
		r.TooOld = compareVersions(r.Version, rs.First) < 0
	case r.Before != "":
		r.TooOld = compareVersions(r.Before, rs.First) <= 0
	}
	return r
}

func readVersion(ctx context.Context, db *sqlx.DB, cat *catalog, from string) string {
	table, column, _ := splitColumn(from)
	if !hasColumn(cat.columns[table], column) {
		return ""
	}
	order := ""
	if key := cat.primary[table]; len(key) > 0 {
		order = " ORDER BY " + database.QuoteIdents(key)
	}
	var version []string
	q := "SELECT COALESCE(" + database.QuoteIdent(column) + ", '') FROM " + database.QuoteIdent(table) + order + " LIMIT 1"
	if err := db.SelectContext(ctx, &version, q); err != nil || len(version) == 0 {
		return ""
	}
	return strings.TrimSpace(version[0])
}

// matchColumns narrows the release range by the marks: a mark present
// means its release or later; a mark missing means a release before it.
// Marks that contradict each other (a newer present, an older missing)
// are a conflict, and so is a recorded version outside the range.
func (r *Release) matchColumns(cat *catalog, marks []ReleaseMark) {
	sorted := append([]ReleaseMark(nil), marks...)
	sort.SliceStable(sorted, func(i, j int) bool { return compareVersions(sorted[i].Since, sorted[j].Since) < 0 })
	var missing []string
	for _, mark := range sorted {
		if markPresent(cat, mark) {
			r.Since = mark.Since
			continue
		}
		missing = append(missing, mark.Column+" ("+mark.Since+")")
		if r.Before == "" {
			r.Before = mark.Since
		}
	}
	if r.Since != "" && r.Before != "" && compareVersions(r.Since, r.Before) > 0 {
		r.Conflict = "its columns fit no single release: it has those of " + r.Since + " but lacks " + strings.Join(missing, ", ")
		r.Before = ""
		return
	}
	if r.Version == "" || parseVersion(r.Version) == nil {
		return
	}
	if r.Since != "" && compareVersions(r.Version, r.Since) < 0 || r.Before != "" && compareVersions(r.Version, r.Before) >= 0 {
		r.Conflict = fmt.Sprintf("%s says %s, but its columns are those of %s: an upgrade that did not finish, or a schema changed by hand?", r.VersionFrom, r.Version, r.columnRange())
	}
}

func markPresent(cat *catalog, mark ReleaseMark) bool {
	table, column, _ := splitColumn(mark.Column)
	for _, c := range cat.columns[table] {
		if c.Name == column {
			return mark.Type == "" || strings.EqualFold(c.DataType, mark.Type)
		}
	}
	return false
}

// parseVersion reads the leading numbers of a release ("5.39.beta1" is
// 5.39); nil when it starts with no number.
func parseVersion(v string) []int {
	var nums []int
	for _, part := range strings.Split(strings.TrimSpace(v), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			break
		}
		nums = append(nums, n)
	}
	return nums
}

// compareVersions orders releases by their numbers; a missing number is 0,
// so 5.47 and 5.47.0 are the same.
func compareVersions(a, b string) int {
	x, y := parseVersion(a), parseVersion(b)
	for len(x) < len(y) {
		x = append(x, 0)
	}
	for len(y) < len(x) {
		y = append(y, 0)
	}
	return slices.Compare(x, y)
}
