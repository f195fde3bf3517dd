package schema

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// CollidingKeys lists the unique keys of a synced table whose values two
// children, or a child and the master's own rows, may both hold (two
// branches each with a group named "Members"). A key is safe when one of
// its columns holds a master ID that only one child's rows can have: the
// row's own mapped key, a reference to a mapped table, or a polymorphic
// reference together with its discriminator. On the master, a file that
// brings a value the master already holds in such a key is rejected.
func (s *Schema) CollidingKeys(t *Table) []UniqueKey {
	var keys []UniqueKey
	for _, k := range t.Unique {
		if !s.separatesChildren(t, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func (s *Schema) separatesChildren(t *Table, k UniqueKey) bool {
	for _, col := range k.Columns {
		if t.Mapped && col == t.Key[0] {
			return true
		}
		ref := t.Ref(col)
		switch {
		case ref == nil || ref.Shared:
		case ref.Polymorphic():
			if slices.Contains(k.Columns, ref.TableFrom) {
				return true
			}
		default:
			if target, ok := s.Table(ref.Table); ok && target.Mapped {
				return true
			}
		}
	}
	return false
}

// The policies of a unique: entry (DESIGN.md section 3, "Values unique on
// the master").
const (
	// PolicyMatch: the same value is the same row; a child's row whose
	// value the master holds is mapped to that master row.
	PolicyMatch = "match"
	// PolicyRename: the master stores the child's value made unique with
	// its prefix ("Members (nyc)").
	PolicyRename = "rename"
)

// UniquePolicy is a unique key of a table with the policy the map gives it.
type UniquePolicy struct {
	Key    UniqueKey
	Policy string
	// Column is the column a rename changes: the key's first text column
	// (empty for match).
	Column string
}

// Policy returns the policy the map gives to unique key k, or "".
func (t *Table) Policy(k UniqueKey) string {
	for _, p := range t.Policies {
		if p.Key.Name == k.Name {
			return p.Policy
		}
	}
	return ""
}

// PolicyKeys returns the table's unique keys under the given policy.
func (t *Table) PolicyKeys(policy string) []UniquePolicy {
	var out []UniquePolicy
	for _, p := range t.Policies {
		if p.Policy == policy {
			out = append(out, p)
		}
	}
	return out
}

// PolicyByIndex returns the policy of the unique index named name.
func (t *Table) PolicyByIndex(name string) (UniquePolicy, bool) {
	for _, p := range t.Policies {
		if strings.EqualFold(p.Key.Name, name) {
			return p, true
		}
	}
	return UniquePolicy{}, false
}

// PolicyHint says, for a message, which unique: entry would accept a
// collision on k: keyed by its column, or by the index for several.
func PolicyHint(k UniqueKey) string {
	name := k.Name
	if len(k.Columns) == 1 {
		name = k.Columns[0]
	}
	return fmt.Sprintf("`unique: {%s: match}` (the same value is the same row) or `unique: {%s: rename}` (the child's value is stored with its prefix)", name, name)
}

// checkPolicies accepts only the two policies, so that a typo never
// silently leaves a key without one.
func (m *Map) checkPolicies() error {
	for name, spec := range m.Tables {
		for key, policy := range spec.Unique {
			if policy != PolicyMatch && policy != PolicyRename {
				return fmt.Errorf("table %s: unique: %s: %q is not a policy (match or rename)", name, key, policy)
			}
		}
	}
	return nil
}

// policies resolves a table's unique: entries against the database's
// unique keys: a key is named by its index, or by its column when a
// unique index has that column alone. Every column of the key must be
// synced; a rename needs a text column to rename. A preset names keys
// some releases lack, and skips those.
func (r *resolver) policies(t *Table, spec TableSpec) {
	if len(spec.Unique) > 0 && !t.Mapped {
		r.problems.add(t.Name, "", "unique: policies need a table with a single integer key, whose rows the master maps")
		return
	}
	keys := make([]string, 0, len(spec.Unique))
	for k := range spec.Unique {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		policy := spec.Unique[name]
		k, ok := findUnique(t.Unique, name)
		if !ok {
			if !r.m.preset {
				r.problems.add(t.Name, name, "unique: no unique key of that name, and no unique key of that column alone, in database %s", r.cat.database)
			}
			continue
		}
		up := UniquePolicy{Key: k, Policy: policy}
		bad := false
		for _, col := range k.Columns {
			if _, synced := t.Column(col); !synced {
				r.problems.add(t.Name, col, "unique: key %s has this column, which is not synced (excluded): the policy cannot see its values", k.Name)
				bad = true
			}
		}
		if policy == PolicyRename {
			for _, col := range k.Columns {
				if c, ok := t.Column(col); ok && isTextType(c.DataType) {
					up.Column = col
					break
				}
			}
			if up.Column == "" && !bad {
				r.problems.add(t.Name, name, "unique: rename needs a text column in key %s to add the prefix to (it has %s); use match", k.Name, strings.Join(k.Columns, ", "))
				bad = true
			}
		}
		if !bad {
			t.Policies = append(t.Policies, up)
		}
	}
}

// findUnique finds a unique key by its index name, or the unique key made
// of that one column.
func findUnique(keys []UniqueKey, name string) (UniqueKey, bool) {
	for _, k := range keys {
		if k.Name == name {
			return k, true
		}
	}
	for _, k := range keys {
		if len(k.Columns) == 1 && k.Columns[0] == name {
			return k, true
		}
	}
	return UniqueKey{}, false
}

func isTextType(dataType string) bool {
	switch dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		return true
	}
	return false
}

// RenameTries is how many forms a rename tries before it gives up:
// "<value> (<prefix>)", then "<value> (<prefix> 2)" up to 20.
const RenameTries = 20

// Renamed returns value made unique with prefix, form n (from 1):
// "<value> (<prefix>)", and "<value> (<prefix> n)" for n > 1. When the
// whole is longer than maxChars characters (0: no limit), the value is cut,
// by characters, never inside one, so that it fits. ok is false when no
// character of a non-empty value would fit.
func Renamed(value, prefix string, n int, maxChars int64) (string, bool) {
	suffix := " (" + prefix + ")"
	if n > 1 {
		suffix = fmt.Sprintf(" (%s %d)", prefix, n)
	}
	if maxChars <= 0 {
		return value + suffix, true
	}
	room := maxChars - int64(utf8.RuneCountInString(suffix))
	chars := int64(utf8.RuneCountInString(value))
	switch {
	case room < 0 || (room == 0 && chars > 0):
		return "", false
	case chars > room:
		value = string([]rune(value)[:room])
	}
	return value + suffix, true
}

// IsRenamed reports whether stored is one of the forms Renamed gives value.
func IsRenamed(stored, value, prefix string, maxChars int64) bool {
	for n := 1; n <= RenameTries; n++ {
		if form, ok := Renamed(value, prefix, n, maxChars); ok && form == stored {
			return true
		}
	}
	return false
}
