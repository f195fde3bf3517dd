package schema

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Resolve checks the map against the connected database and returns the
// resolved schema, or a *ProblemsError listing every problem found.
func Resolve(ctx context.Context, db *sqlx.DB, m *Map) (*Schema, error) {
	cat, err := loadCatalog(ctx, db)
	if err != nil {
		return nil, err
	}
	var release *Release
	if m.Release != nil {
		release = recognise(ctx, db, cat, m.Release)
	}
	return resolveCatalog(cat, m, release)
}

func resolveCatalog(cat *catalog, m *Map, release *Release) (*Schema, error) {
	r := &resolver{cat: cat, m: m}
	s := r.resolve()
	s.Release = release
	if release != nil && release.TooOld {
		r.problems.add("", "", "the database holds %s; map %s fits %s %s and later", release, m.Source, m.Release.Application, m.Release.First)
	}
	if len(r.problems) > 0 {
		return nil, &ProblemsError{Source: m.Source, Problems: r.problems.sorted()}
	}
	return s, nil
}

type resolver struct {
	cat      *catalog
	m        *Map
	problems problems
}

func (r *resolver) resolve() *Schema {
	s := &Schema{Database: r.cat.database, byName: map[string]*Table{}, shared: map[string]bool{}}
	for _, name := range r.m.Shared {
		if _, ok := r.cat.columns[name]; !ok {
			r.problems.add(name, "", "shared table not found in database %s", r.cat.database)
		}
		if _, synced := r.m.Tables[name]; synced {
			r.problems.add(name, "", "listed both under shared and under tables: choose one")
		}
		s.shared[name] = true
	}
	s.Shared = append([]string(nil), r.m.Shared...)
	sort.Strings(s.Shared)

	names := make([]string, 0, len(r.m.Tables))
	for name := range r.m.Tables {
		names = append(names, name)
	}
	sort.Strings(names)
	var tables []*Table
	for _, name := range names {
		if t := r.table(name, r.m.Tables[name]); t != nil {
			tables = append(tables, t)
		}
	}
	for _, t := range tables {
		s.byName[t.Name] = t
	}
	for _, t := range tables {
		r.references(s, t, r.m.Tables[t.Name])
	}
	for _, t := range tables {
		r.roleColumns(s, t)
		r.key(s, t)
		r.policies(t, r.m.Tables[t.Name])
	}
	s.Tables = r.order(tables)
	s.Fingerprint = s.fingerprint()
	return s
}

// table checks the table's existence, role and excluded columns.
func (r *resolver) table(name string, spec TableSpec) *Table {
	cols, ok := r.cat.columns[name]
	if !ok {
		r.problems.add(name, "", "table not found in database %s", r.cat.database)
		return nil
	}
	t := &Table{Name: name, Key: r.cat.primary[name], Unique: r.cat.unique[name], all: cols}
	if r.m.preset && spec.Track != "" {
		if role, note := presetRole(cols, spec.Track); role != RoleTrack {
			spec.Track, spec.Snapshot, t.RoleNote = "", true, note
			// Sent only when it changed: the digests find out.
			spec.Detect = DetectChecksum
		}
	}
	switch spec.Detect {
	case "":
	case DetectChecksum:
		t.Checksum = true
	default:
		r.problems.add(name, "", "detect: %q is not known (the one value is %q)", spec.Detect, DetectChecksum)
	}
	t.Track, t.Owner = spec.Track, spec.Owner
	roles := 0
	if spec.Track != "" {
		t.Role, roles = RoleTrack, roles+1
	}
	if spec.Owner != "" {
		t.Role, roles = RoleOwner, roles+1
	}
	if spec.Snapshot {
		t.Role, roles = RoleSnapshot, roles+1
	}
	if roles != 1 {
		r.problems.add(name, "", "needs exactly one role of track: COLUMN, owner: COLUMN or snapshot: true (has %d)", roles)
	}
	for _, ex := range spec.Exclude {
		if !hasColumn(cols, ex) {
			// A preset names what some release has; a user's map names
			// what this database has, and a typo must not send a column.
			if !r.m.preset {
				r.problems.add(name, ex, "excluded column not found")
			}
			continue
		}
		if slices.Contains(t.Key, ex) {
			r.problems.add(name, ex, "a primary key column cannot be excluded")
		}
		t.Exclude = append(t.Exclude, ex)
	}
	for _, c := range cols {
		if !slices.Contains(spec.Exclude, c.Name) {
			t.Columns = append(t.Columns, c)
		}
	}
	return t
}

// references merges the declared foreign keys with the map's references and
// checks that each points at a synced or shared table.
func (r *resolver) references(s *Schema, t *Table, spec TableSpec) {
	for _, col := range r.cat.multiFK[t.Name] {
		if _, synced := t.Column(col); synced {
			r.problems.add(t.Name, col, "part of a multi-column foreign key, which tributary cannot remap: exclude the column")
		}
	}
	for _, c := range t.Columns {
		fk, declared := r.cat.foreign[t.Name][c.Name]
		override, mapped := spec.References[c.Name]
		switch {
		case mapped:
			r.mapReference(s, t, c, override, fk.onDelete, declared && fk.refTable == override.Table)
		case declared:
			r.declaredReference(s, t, c, fk)
		}
	}
	for col := range spec.References {
		if _, ok := t.Column(col); !ok {
			r.problems.add(t.Name, col, "reference column not found (or excluded)")
		}
	}
}

func (r *resolver) mapReference(s *Schema, t *Table, c Column, spec RefSpec, onDelete string, declared bool) {
	ref := &Reference{Column: c.Name, Table: spec.Table, TableFrom: spec.TableFrom, OnDelete: onDelete, Nullable: c.Nullable, Declared: declared}
	switch {
	case spec.Table != "" && spec.TableFrom != "":
		r.problems.add(t.Name, c.Name, "reference gives both table and table_from: choose one")
		return
	case spec.Table == "" && spec.TableFrom == "":
		r.problems.add(t.Name, c.Name, "reference needs table: NAME or table_from: COLUMN")
		return
	case spec.TableFrom != "":
		if _, ok := t.Column(spec.TableFrom); !ok {
			r.problems.add(t.Name, c.Name, "polymorphic discriminator column %s not found (or excluded)", spec.TableFrom)
		}
		if !isIntegerType(c.DataType) {
			r.problems.add(t.Name, c.Name, "polymorphic reference must be an integer column, is %s", c.ColumnType)
		}
	default:
		r.checkTarget(s, t, c, ref, "")
	}
	t.Refs = append(t.Refs, ref)
}

func (r *resolver) declaredReference(s *Schema, t *Table, c Column, fk foreignKey) {
	if fk.refSchema != r.cat.database {
		r.problems.add(t.Name, c.Name, "references %s.%s in another database: exclude the column", fk.refSchema, fk.refTable)
		return
	}
	ref := &Reference{Column: c.Name, Table: fk.refTable, OnDelete: fk.onDelete, Nullable: c.Nullable, Declared: true}
	r.checkTarget(s, t, c, ref, fk.refColumn)
	t.Refs = append(t.Refs, ref)
}

// checkTarget accepts a reference to a shared table, or to the integer key of
// a synced table; anything else would leave a child ID on the master.
func (r *resolver) checkTarget(s *Schema, t *Table, c Column, ref *Reference, refColumn string) {
	if s.shared[ref.Table] {
		ref.Shared = true
		return
	}
	if _, synced := r.m.Tables[ref.Table]; !synced {
		r.problems.add(t.Name, c.Name, "references %s, which is neither synced nor shared: list %s under shared, add it to tables, or exclude the column", ref.Table, ref.Table)
		return
	}
	if !isIntegerType(c.DataType) {
		r.problems.add(t.Name, c.Name, "reference to %s must be an integer column, is %s", ref.Table, c.ColumnType)
	}
	if refColumn == "" {
		return
	}
	if key := r.cat.primary[ref.Table]; len(key) != 1 || key[0] != refColumn {
		r.problems.add(t.Name, c.Name, "references %s.%s, which is not that table's single-column primary key", ref.Table, refColumn)
	}
}

// roleColumns checks the track and owner columns.
func (r *resolver) roleColumns(s *Schema, t *Table) {
	switch t.Role {
	case RoleTrack:
		c, ok := t.Column(t.Track)
		switch {
		case !ok:
			r.problems.add(t.Name, t.Track, "track column not found (or excluded)")
		case c.DataType == "date":
			r.problems.add(t.Name, t.Track, "track column is a DATE: a window ending inside a day would lose that day's later changes; use owner or snapshot for this table")
		case c.DataType != "datetime" && c.DataType != "timestamp":
			r.problems.add(t.Name, t.Track, "track column must be DATETIME or TIMESTAMP, is %s", c.ColumnType)
		}
		t.TrackIndexed = r.cat.leads[t.Name][strings.ToLower(t.Track)]
		t.RowsEstimate = r.cat.rows[t.Name]
	case RoleOwner:
		ref := t.Ref(t.Owner)
		switch {
		case ref == nil:
			r.problems.add(t.Name, t.Owner, "owner column is not a reference (declare a foreign key or add it under references)")
		case ref.Shared:
			r.problems.add(t.Name, t.Owner, "owner column references shared table %s: an owner must be synced", ref.Table)
		case !ref.Polymorphic() && ref.Table == t.Name:
			r.problems.add(t.Name, t.Owner, "a table cannot own itself")
		}
	}
}

// key checks the primary key: a single AUTO_INCREMENT integer (mapped), or
// a composite key made only of references (rewritten, not mapped).
func (r *resolver) key(s *Schema, t *Table) {
	switch {
	case len(t.Key) == 0:
		r.problems.add(t.Name, "", "has no primary key")
	case len(t.Key) == 1:
		c, _ := t.Column(t.Key[0])
		switch {
		case c == nil:
		case !isIntegerType(c.DataType):
			r.problems.add(t.Name, c.Name, "primary key must be an integer, is %s", c.ColumnType)
		case !c.AutoIncrement:
			r.problems.add(t.Name, c.Name, "primary key is not AUTO_INCREMENT, so the master cannot assign its own IDs")
		default:
			t.Mapped = true
		}
	default:
		for _, col := range t.Key {
			if ref := t.Ref(col); ref == nil || ref.Polymorphic() {
				r.problems.add(t.Name, col, "composite primary key column is not a plain reference: a composite key must be made only of references")
			}
		}
		if t.Role == RoleTrack {
			r.problems.add(t.Name, "", "a table with a composite key cannot be tracked (its live IDs cannot be sent as ranges): use owner or snapshot")
		}
	}
}

func hasColumn(cols []Column, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}
