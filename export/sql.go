package export

import (
	"strconv"
	"strings"
	"time"

	"tributary/internal/database"
	"tributary/schema"
)

// The statements that read rows carry their values in the SQL text instead
// of as bound parameters. Those values are integer IDs that the database
// gave us and times we formatted ourselves, never file or user input. Keeping
// them out of parameters keeps every row read on the text protocol, so each
// value arrives exactly as the server prints it whichever statement read it
// (a prepared statement switches to the binary protocol, where the driver
// re-formats FLOAT and DOUBLE), and it saves a prepare round trip per batch.
// Names are always quoted with database.QuoteIdent.

// batchSize bounds the IDs in one IN list: large enough to amortise round
// trips, small enough to stay far below max_allowed_packet.
const batchSize = 1000

// sqlTime is how a window bound is written in SQL: the session runs in UTC,
// so a TIMESTAMP column compares against it directly.
const sqlTime = "2006-01-02 15:04:05"

func quoteTime(t time.Time) string { return "'" + t.UTC().Format(sqlTime) + "'" }

func q(name string) string { return database.QuoteIdent(name) }

// selectList names the synced columns, in table order.
func selectList(t *schema.Table) string { return database.QuoteIdents(t.ColumnNames()) }

func orderByKey(t *schema.Table) string { return " ORDER BY " + database.QuoteIdents(t.Key) }

// inList renders IDs for an IN list.
func inList(ids []int64) string {
	var b strings.Builder
	b.Grow(len(ids) * 8)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// keyExpr is one string per row that identifies it: the ID of a mapped
// table, the key columns joined by commas otherwise.
func keyExpr(t *schema.Table, alias string) string {
	if len(t.Key) == 1 {
		return alias + q(t.Key[0])
	}
	parts := make([]string, len(t.Key))
	for i, k := range t.Key {
		parts[i] = alias + q(k)
	}
	return "CONCAT_WS(','," + strings.Join(parts, ",") + ")"
}

// rowsWhole reads a whole table in key order.
func rowsWhole(t *schema.Table) string {
	return "SELECT " + selectList(t) + " FROM " + q(t.Name) + orderByKey(t)
}

// rowsByID reads rows of a mapped table by ID.
func rowsByID(t *schema.Table, ids []int64) string {
	return "SELECT " + selectList(t) + " FROM " + q(t.Name) + " WHERE " + q(t.Key[0]) + " IN (" + inList(ids) + ")" + orderByKey(t)
}

// rowsByOwner reads the rows of an owner table that belong to the owners.
func rowsByOwner(t *schema.Table, owners []int64) string {
	return "SELECT " + selectList(t) + " FROM " + q(t.Name) + " WHERE " + q(t.Owner) + " IN (" + inList(owners) + ")" + orderByKey(t)
}

// liveIDs streams a track table's IDs in order.
func liveIDs(t *schema.Table) string {
	return "SELECT " + q(t.Key[0]) + " FROM " + q(t.Name) + orderByKey(t)
}

// windowIDs picks a track table's rows modified in [lo, hi).
func windowIDs(t *schema.Table, lo, hi string) string {
	return "SELECT " + q(t.Key[0]) + " FROM " + q(t.Name) + " WHERE " + q(t.Track) + " >= " + lo + " AND " + q(t.Track) + " < " + hi
}

// unsentIDs keeps the referenced IDs whose rows cannot have been sent in
// an earlier file: their track value is NULL or at or after the window end.
func unsentIDs(t *schema.Table, ids []int64, hi string) string {
	return "SELECT " + q(t.Key[0]) + " FROM " + q(t.Name) + " WHERE " + q(t.Key[0]) + " IN (" + inList(ids) + ") AND (" +
		q(t.Track) + " IS NULL OR " + q(t.Track) + " >= " + hi + ")"
}

// refColumns lists, for following references, each reference column and
// the discriminator of each polymorphic one.
func refColumns(t *schema.Table) []string {
	var cols []string
	for _, r := range t.Refs {
		if r.Shared {
			continue
		}
		cols = append(cols, r.Column)
		if r.Polymorphic() {
			cols = append(cols, r.TableFrom)
		}
	}
	return cols
}

// refsQuery reads the reference columns (and the owner column with its
// discriminator last) of a table's rows; where is "" or a WHERE clause.
func refsQuery(t *schema.Table, cols []string, where string) string {
	return "SELECT " + database.QuoteIdents(cols) + " FROM " + q(t.Name) + where
}

func whereIn(col string, ids []int64) string {
	return " WHERE " + q(col) + " IN (" + inList(ids) + ")"
}
