package schema

import "slices"

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
