// Package childdb names a child database the way every part of tributary
// must agree on it: the prefix its rows go under on the master (DESIGN.md
// section 1) and the origin its files record (DESIGN.md section 2). Export,
// the sync file, the import and the master's ledger all use it, so it
// imports nothing of tributary and stands beside the flow from child to
// master.
package childdb

import (
	"fmt"
	"regexp"
)

// PrefixPattern is what a child prefix must look like: it becomes part of
// master table names (DESIGN.md section 1).
var PrefixPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ValidPrefix reports whether p matches PrefixPattern.
func ValidPrefix(p string) bool { return PrefixPattern.MatchString(p) }

// Origin is what identifies a child database across its files: the
// server's own name for itself with its port, and the database name. A
// restart keeps it; another server or another database is another origin.
type Origin struct {
	Host     string `json:"host"`
	Database string `json:"database"`
}

// String names the origin for messages: database "civicrm" on db1:3306.
func (o Origin) String() string {
	if o.Host == "" {
		return fmt.Sprintf("database %q (server not recorded)", o.Database)
	}
	return fmt.Sprintf("database %q on %s", o.Database, o.Host)
}

// Differs reports whether two origins name different databases. A host
// that one side did not record (a file or state written before hosts were
// recorded) is not compared.
func (o Origin) Differs(other Origin) bool {
	if o.Database != other.Database {
		return true
	}
	return o.Host != "" && other.Host != "" && o.Host != other.Host
}
