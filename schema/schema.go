package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Role says how export picks a table's rows and how import deletes them.
type Role string

// The roles of DESIGN.md section 3. Shared tables are not in Schema.Tables.
const (
	RoleTrack    Role = "track"
	RoleOwner    Role = "owner"
	RoleSnapshot Role = "snapshot"
)

// Schema is a map resolved against a live database and found valid.
type Schema struct {
	Database string
	// Release is the application release the database holds, as far as
	// the map's release: section can tell (nil without one).
	Release *Release
	// Tables are the synced tables in apply order: every table comes after
	// the tables it references, except through deferred references.
	Tables      []*Table
	Shared      []string
	Fingerprint string

	byName map[string]*Table
	shared map[string]bool
}

// Table is one synced table.
type Table struct {
	Name string
	Role Role
	// RoleNote says why a preset chose this role over the one its map
	// names ("modified_date is a DATE"); empty when it is the map's.
	RoleNote string
	Track    string // track column (RoleTrack)
	// TrackIndexed: an index starts with the track column, so an
	// incremental export reads only the changed rows; RowsEstimate is the
	// server's estimate of the table's rows (for check's advice).
	TrackIndexed bool
	RowsEstimate int64
	Owner        string // reference column naming the owner row (RoleOwner)
	// Checksum: `detect: checksum`. Export keeps digests of the table's
	// rows in chunks and sends the rows of every chunk whose digest
	// changed, so changes that move no stamp reach the master.
	Checksum bool
	Key      []string
	// Mapped is true for a single AUTO_INCREMENT integer key: the master
	// assigns its own IDs and the mapping table links them. A composite key
	// (made of references only) is rewritten instead and nothing is mapped.
	Mapped  bool
	Columns []Column // synced columns in table order; excluded ones are absent
	Exclude []string
	Refs    []*Reference // reference columns in table order
	Order   int          // position in Schema.Tables
	// Unique are the table's unique keys other than the primary key, as
	// this database declares them.
	Unique []UniqueKey
	// Policies are the map's unique: entries, resolved to this database's
	// unique keys.
	Policies []UniquePolicy
	// all are every column of the table in this database, excluded ones
	// too, for the checks of a master (requiredColumns).
	all []Column
}

// Column is one column of a table as the database declares it.
type Column struct {
	Name          string
	DataType      string // lower-case DATA_TYPE: int, varchar, timestamp, ...
	ColumnType    string // full COLUMN_TYPE: int(10) unsigned, enum('a','b'), ...
	Nullable      bool
	AutoIncrement bool
	Binary        bool // bytes, not text: travels as base64
	// HasDefault: the column has a default (or is nullable or AUTO_INCREMENT),
	// so an INSERT that leaves it out succeeds.
	HasDefault bool
	Charset    string // character set of a text column, "" otherwise
	MaxChars   int64  // CHARACTER_MAXIMUM_LENGTH of a string column
	MaxBytes   int64  // CHARACTER_OCTET_LENGTH of a string column
	Precision  int64  // NUMERIC_PRECISION of a number, DATETIME_PRECISION of a time
	Scale      int64  // NUMERIC_SCALE of a number
}

// UniqueKey is a unique index of a table, other than its primary key.
type UniqueKey struct {
	Name    string
	Columns []string // in the index's order
}

// Reference is a column whose value is the key of another row.
type Reference struct {
	Column string
	// Table is the referenced table; empty for a polymorphic reference.
	Table string
	// TableFrom is the discriminator column of a polymorphic reference: it
	// holds the referenced table's name, row by row. A polymorphic target is
	// known only per row, so import resolves it when the target table has
	// already been applied and in its second pass otherwise.
	TableFrom string
	// Shared: the target is a shared table, so the value is copied verbatim.
	Shared bool
	// Deferred: the reference closes a cycle (or points at its own table);
	// import writes NULL first and fills it in a second pass.
	Deferred bool
	// Declared: the database enforces the reference with a foreign key.
	Declared bool
	// OnDelete is the declared foreign key's action (CASCADE, SET NULL,
	// RESTRICT, NO ACTION), empty when the reference exists only in the map
	// or the account may not read the action (a SELECT-only account).
	OnDelete string
	Nullable bool
}

// Polymorphic reports whether the target table is chosen per row.
func (r *Reference) Polymorphic() bool { return r.TableFrom != "" }

// Table returns the synced table of that name.
func (s *Schema) Table(name string) (*Table, bool) {
	t, ok := s.byName[name]
	return t, ok
}

// IsShared reports whether name is a shared table.
func (s *Schema) IsShared(name string) bool { return s.shared[name] }

// Column returns the synced column of that name.
func (t *Table) Column(name string) (*Column, bool) {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i], true
		}
	}
	return nil, false
}

// Ref returns the reference held in column name, or nil.
func (t *Table) Ref(column string) *Reference {
	for _, r := range t.Refs {
		if r.Column == column {
			return r
		}
	}
	return nil
}

// ColumnNames lists the synced columns in table order.
func (t *Table) ColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// Deferred lists the columns import fills in its second pass.
func (t *Table) Deferred() []string {
	var cols []string
	for _, r := range t.Refs {
		if r.Deferred {
			cols = append(cols, r.Column)
		}
	}
	return cols
}

// fingerprint hashes everything export and import agree on, so two sides
// can tell cheaply whether they see the same synced schema.
func (s *Schema) fingerprint() string {
	var b strings.Builder
	for _, t := range s.Tables {
		fmt.Fprintf(&b, "table %s role=%s track=%s owner=%s key=%s\n", t.Name, t.Role, t.Track, t.Owner, strings.Join(t.Key, ","))
		for _, c := range t.Columns {
			fmt.Fprintf(&b, " col %s %s null=%t\n", c.Name, c.ColumnType, c.Nullable)
		}
		for _, r := range t.Refs {
			fmt.Fprintf(&b, " ref %s -> %s from=%s shared=%t deferred=%t\n", r.Column, r.Table, r.TableFrom, r.Shared, r.Deferred)
		}
	}
	for _, name := range s.Shared {
		fmt.Fprintf(&b, "shared %s\n", name)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}
