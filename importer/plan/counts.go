package plan

// TableCounts counts the rows of one table a file changed.
type TableCounts struct {
	Inserted int64
	Updated  int64
	Deleted  int64
	// Matched: rows mapped to a master row that holds their unique value
	// (a match policy) instead of being inserted; not in Inserted.
	Matched int64
	// Renamed: rows written with a unique value made unique with the
	// prefix (a rename policy) that the master did not hold in that form.
	Renamed int64
}

// Counts are the rows a pass changed, per table; each pass returns its
// own, and the import adds them up.
type Counts map[string]*TableCounts

// Of returns table's counts, made when missing.
func (c Counts) Of(table string) *TableCounts {
	tc := c[table]
	if tc == nil {
		tc = &TableCounts{}
		c[table] = tc
	}
	return tc
}

// Add adds other's counts to c.
func (c Counts) Add(other Counts) {
	for table, o := range other {
		tc := c.Of(table)
		tc.Inserted += o.Inserted
		tc.Updated += o.Updated
		tc.Deleted += o.Deleted
		tc.Matched += o.Matched
		tc.Renamed += o.Renamed
	}
}
