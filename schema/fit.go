package schema

import (
	"fmt"
	"slices"
	"strings"
)

// holds says why a master column cannot store every value of a child's
// column, or "" when it can: the master would reject a file that brings
// such a value (import stops at the first and rolls the file back).
func holds(child, master Column) string {
	if child.Binary != master.Binary {
		return "binary on one side, text on the other"
	}
	why := ""
	switch {
	case isIntegerType(child.DataType) && isIntegerType(master.DataType):
		why = holdsInteger(child, master)
	case isStringType(child.DataType) && isStringType(master.DataType):
		why = holdsString(child, master)
	case child.DataType == "decimal" && master.DataType == "decimal":
		if master.Scale < child.Scale || master.Precision-master.Scale < child.Precision-child.Scale {
			why = "fewer digits on the master"
		}
	case isTemporalType(child.DataType) && isTemporalType(master.DataType):
		why = holdsTemporal(child, master)
	case child.DataType == "float" && master.DataType == "double":
	case child.DataType != master.DataType:
		why = "a different kind of value"
	case child.DataType == "bit":
		if child.ColumnType != master.ColumnType {
			why = "other values"
		}
	}
	if why == "" && child.Nullable && !master.Nullable {
		why = "a NULL would be rejected there"
	}
	return why
}

func holdsInteger(child, master Column) string {
	cu, mu := strings.Contains(child.ColumnType, "unsigned"), strings.Contains(master.ColumnType, "unsigned")
	cb, mb := integerBytes[child.DataType], integerBytes[master.DataType]
	switch {
	case !cu && mu:
		return "signed here, unsigned on the master: negative values do not fit"
	case cu && !mu && mb <= cb, cu == mu && mb < cb:
		return "a smaller range on the master"
	}
	return ""
}

var integerBytes = map[string]int{"tinyint": 1, "smallint": 2, "mediumint": 3, "int": 4, "integer": 4, "bigint": 8}

// holdsString compares lengths in characters between CHAR and VARCHAR
// columns, in bytes otherwise (TEXT types are limited in bytes), and the
// character sets: utf8mb4 holds every character; utf8mb3 none beyond the
// Basic Multilingual Plane (emoji).
func holdsString(child, master Column) string {
	if child.DataType == "enum" || child.DataType == "set" {
		if child.DataType == master.DataType {
			theirs := members(master.ColumnType)
			for _, m := range members(child.ColumnType) {
				if !slices.Contains(theirs, m) {
					return "other values on the master"
				}
			}
		}
	}
	cs, ms := charsetName(child.Charset), charsetName(master.Charset)
	if cs != ms && ms != "utf8mb4" && cs != "ascii" && cs != "" && ms != "" {
		return fmt.Sprintf("character set %s here, %s on the master: some characters do not fit", cs, ms)
	}
	chars := func(c Column) bool { return c.DataType == "char" || c.DataType == "varchar" }
	switch {
	case chars(child) && chars(master):
		if master.MaxChars < child.MaxChars {
			return "longer values here than the master holds"
		}
	case master.MaxBytes < child.MaxBytes && master.MaxBytes > 0:
		return "longer values here than the master holds"
	}
	return ""
}

// members lists an ENUM's or SET's values from its column type.
func members(columnType string) []string {
	open, end := strings.IndexByte(columnType, '('), strings.LastIndexByte(columnType, ')')
	if open < 0 || end < open {
		return nil
	}
	var out []string
	for _, m := range strings.Split(columnType[open+1:end], ",") {
		out = append(out, strings.Trim(m, "'"))
	}
	return out
}

func charsetName(cs string) string {
	if cs == "utf8" {
		return "utf8mb3"
	}
	return cs
}

// holdsTemporal: the same type, or a TIMESTAMP into a DATETIME (a DATETIME
// into a TIMESTAMP fails outside 1970 to 2038), with as many fractional
// digits.
func holdsTemporal(child, master Column) string {
	if child.DataType != master.DataType && !(child.DataType == "timestamp" && master.DataType == "datetime") {
		return "a different kind of time"
	}
	if master.Precision < child.Precision {
		return "fewer fractional seconds on the master"
	}
	return ""
}

func isStringType(dataType string) bool {
	switch dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		return true
	}
	return false
}

func isTemporalType(dataType string) bool {
	switch dataType {
	case "date", "datetime", "timestamp", "time", "year":
		return true
	}
	return false
}
