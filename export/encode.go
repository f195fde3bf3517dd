package export

import (
	"database/sql"

	"tributary/schema"
	"tributary/syncfile"
)

// kindOf says how a column's values travel in a file.
func kindOf(c schema.Column) syncfile.Kind {
	if c.Binary {
		return syncfile.KindBinary
	}
	switch c.DataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return syncfile.KindInt
	case "decimal", "numeric":
		return syncfile.KindDecimal
	case "float", "double", "real", "double precision":
		return syncfile.KindFloat
	}
	// Dates, times and YEAR travel as printed (zero dates included), and
	// types this code does not know (UUID, INET6, ...) arrive as text.
	return syncfile.KindText
}

// codec turns one table's rows, as the server printed them, into upsert
// records (syncfile owns their form), and knows where the key columns are.
type codec struct {
	enc    *syncfile.Upserts
	names  []string // the selected columns, in table order
	keyIdx []int    // positions of the key columns among them
}

func newCodec(t *schema.Table) *codec {
	c := &codec{}
	cols := make([]syncfile.Column, len(t.Columns))
	for i, col := range t.Columns {
		cols[i] = syncfile.Column{Name: col.Name, Kind: kindOf(col)}
		c.names = append(c.names, col.Name)
		for _, k := range t.Key {
			if k == col.Name {
				c.keyIdx = append(c.keyIdx, i)
			}
		}
	}
	id := -1
	if t.Mapped {
		id = c.keyIdx[0]
	}
	c.enc = syncfile.NewUpserts(t.Name, cols, id)
	return c
}

// appendUpsert appends the upsert record of one row. For a mapped table the
// key travels as "id" and the row holds every other column; a composite-key
// row holds all its columns.
func (c *codec) appendUpsert(buf []byte, vals []sql.RawBytes) ([]byte, error) {
	return c.enc.Append(buf, vals)
}

// tableInfo is the header's description of a table.
func tableInfo(t *schema.Table) syncfile.TableInfo {
	info := syncfile.TableInfo{Order: t.Order, Role: string(t.Role), Key: t.Key, Columns: t.ColumnNames()}
	for _, c := range t.Columns {
		if c.Binary {
			info.Binary = append(info.Binary, c.Name)
		}
	}
	return info
}
