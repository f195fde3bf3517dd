package schema

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"tributary/internal/database"
)

// Summary describes the resolved schema for people: the release the
// database holds, tables in apply order, role, key, references, the roles
// the release decided, and the columns filled in a second pass.
func Summary(s *Schema, source string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "map %s fits database %s: %d synced tables, %d shared\n", source, s.Database, len(s.Tables), len(s.Shared))
	if s.Release != nil {
		fmt.Fprintf(&b, "release: %s\n", s.Release)
		if s.Release.Conflict != "" {
			fmt.Fprintf(&b, "warning: %s\n", s.Release.Conflict)
		}
	}
	fmt.Fprintf(&b, "fingerprint %s\n\n", s.Fingerprint)
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "#\tTABLE\tROLE\tKEY\tREFERENCES")
	for _, t := range s.Tables {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", t.Order+1, t.Name, roleText(t)+detectText(t), keyText(t), refsText(t))
	}
	w.Flush()
	var notes []string
	for _, t := range s.Tables {
		if t.RoleNote != "" {
			notes = append(notes, fmt.Sprintf("  %s: %s", t.Name, t.RoleNote))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, "\nsent whole when they changed in this release (checksum; the map tracks them where the release has a time stamp):\n%s\n", strings.Join(notes, "\n"))
	}
	var deferred []string
	for _, t := range s.Tables {
		for _, col := range t.Deferred() {
			deferred = append(deferred, t.Name+"."+col)
		}
	}
	if len(deferred) > 0 {
		fmt.Fprintf(&b, "\nfilled in a second pass (they close a cycle): %s\n", strings.Join(deferred, ", "))
	}
	if len(s.Shared) > 0 {
		fmt.Fprintf(&b, "shared (copied verbatim, never exported): %s\n", strings.Join(s.Shared, ", "))
	}
	b.WriteString(trackIndexAdvice(s))
	return b.String()
}

// trackIndexAdvice names the track tables no index helps: every
// incremental export reads them whole to find what changed, which costs
// what the table holds rather than what changed. An index on the track
// column (any name; CiviCRM itself has one on civicrm_contact from 5.19)
// lets the server read only the window's rows.
func trackIndexAdvice(s *Schema) string {
	var lines []string
	for _, t := range s.Tables {
		if t.Role != RoleTrack || t.TrackIndexed {
			continue
		}
		lines = append(lines, fmt.Sprintf("  %s (about %d rows): CREATE INDEX %s ON %s (%s);",
			t.Name, t.RowsEstimate, database.QuoteIdent("tributary_"+t.Track), database.QuoteIdent(t.Name), database.QuoteIdent(t.Track)))
	}
	if len(lines) == 0 {
		return ""
	}
	return "\nno index starts with the track column of these tables, so every incremental export reads them whole;\n" +
		"on a large table an index lets it read only the changed rows (run on the child, at a quiet hour):\n" +
		strings.Join(lines, "\n") + "\n"
}

func roleText(t *Table) string {
	switch t.Role {
	case RoleTrack:
		return "track " + t.Track
	case RoleOwner:
		return "owner " + t.Owner
	}
	return string(t.Role)
}

// detectText marks a table whose changes detect: checksum finds too.
func detectText(t *Table) string {
	if t.Checksum {
		return " (checksum)"
	}
	return ""
}

func keyText(t *Table) string {
	if t.Mapped {
		return t.Key[0] + " (mapped)"
	}
	return "(" + strings.Join(t.Key, ", ") + ")"
}

func refsText(t *Table) string {
	if len(t.Refs) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(t.Refs))
	for _, r := range t.Refs {
		var target string
		switch {
		case r.Polymorphic():
			target = "table in " + r.TableFrom
		case r.Shared:
			target = r.Table + " (shared)"
		default:
			target = r.Table
		}
		if r.Deferred {
			target += " (2nd pass)"
		}
		parts = append(parts, r.Column+"->"+target)
	}
	return strings.Join(parts, ", ")
}
