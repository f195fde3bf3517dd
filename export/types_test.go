package export

import (
	"context"
	"database/sql"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"tributary/syncfile"
)

var typesSchema = []string{`CREATE TABLE alltypes (
	id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
	ti tinyint, tiu tinyint unsigned, si smallint, mi mediumint, i int, iz int(8) unsigned zerofill,
	bi bigint, biu bigint unsigned,
	de decimal(30,10), dz decimal(8,2) unsigned zerofill, fl float, do double,
	b1 bit(1), b64 bit(64),
	d date, dt datetime, dt6 datetime(6), ts timestamp NULL DEFAULT NULL, ts6 timestamp(6) NULL DEFAULT NULL,
	tm time, tm3 time(3), yr year,
	ch char(10), vc varchar(100), vcl varchar(100) CHARACTER SET latin1, tt tinytext, tx text, mt mediumtext, lt longtext,
	bn binary(4), vb varbinary(16), tb tinyblob, bl blob, mb mediumblob, lb longblob,
	en enum('a','b c','ü'), st set('x','y','z'), js json,
	ge geometry NULL, pt point NULL,
	uu uuid NULL, i6 inet6 NULL, i4 inet4 NULL
) DEFAULT CHARSET=utf8mb4`}

var typesRows = []string{
	// Ordinary values.
	`INSERT INTO alltypes VALUES (1,
		-5, 200, -300, 70000, 123456, 42, -9000000000, 9000000000,
		'12345.6789000000', 12.5, 3.14, 0.1,
		b'1', b'1010',
		'2024-05-01', '2024-05-01 12:34:56', '2024-05-01 12:34:56.123456', '2024-05-01 12:34:56', '2024-05-01 12:34:56.5',
		'12:34:56', '-01:02:03.250', 2024,
		'chär', 'Zoë "quoted" \\ back\nslash\ttab', 'café crème', 'tiny', 'text 日本', 'medium 🎉', 'long \0 nul',
		0x00FF10, 0xDEADBEEF, 'tiny blob', 0x000102, 'medium', 'long',
		'ü', 'x,z', '{"a": [1, 2.5, "x"]}',
		ST_GeomFromText('LINESTRING(0 0, 1 1)'), ST_GeomFromText('POINT(1 2)'),
		'123e4567-e89b-12d3-a456-426614174000', '2001:db8::1', '192.0.2.1')`,
	// Extremes: ranges, 2^53 on both sides, zero dates, the TIME range.
	`INSERT INTO alltypes VALUES (2,
		-128, 255, -32768, -8388608, -2147483648, 99999999, -9223372036854775808, 18446744073709551615,
		'-99999999999999999999.9999999999', 0, -3.4e38, -1.7976931348623157e308,
		b'0', b'1111111111111111111111111111111111111111111111111111111111111111',
		'0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', '1970-01-01 00:00:01.000001',
		'-838:59:59', '838:59:59.999', 1901,
		'', '', '', '', '', '', '',
		X'', X'', X'', X'', X'', X'',
		'', '', 'null',
		NULL, NULL, NULL, NULL, NULL)`,
	`INSERT INTO alltypes (id, bi, biu, do, fl) VALUES (3, 9007199254740992, 9007199254740993, 1e-300, 1e-10)`,
	`INSERT INTO alltypes (id) VALUES (4)`,
}

// Every MySQL column type goes through the file and comes back as the
// database prints it: the file holds exactly what a text-protocol read
// returns, with the documented JSON form for each kind.
func TestEveryColumnTypeEndToEnd(t *testing.T) {
	f := newFixture(t, typesSchema, "tables:\n  alltypes: { snapshot: true }\n")
	ctx := context.Background()
	conn, err := f.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Zero dates need a permissive mode.
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ''"); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range typesRows {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt[:40], err)
		}
	}
	conn.Close()
	_, file := f.export("2001-01-01 00:00:10")
	rows := map[int64]gjson.Result{}
	for _, r := range file.Records {
		if r.Op == "upsert" {
			rows[r.ID] = gjson.Parse(r.Row)
		}
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows in the file", len(rows))
	}
	binary := map[string]bool{}
	for _, c := range file.Header.Tables["alltypes"].Binary {
		binary[c] = true
	}
	for _, c := range []string{"b1", "b64", "bn", "vb", "tb", "bl", "mb", "lb", "ge", "pt"} {
		if !binary[c] {
			t.Errorf("header does not list %s as binary", c)
		}
	}
	compareWithDatabase(t, f, rows, binary)

	// Spot checks written out, so the test does not only agree with itself.
	spot := []struct {
		id          int64
		column, raw string // the JSON as written in the file
	}{
		{1, "ti", `-5`},
		{1, "iz", `42`}, // ZEROFILL padding is display only
		{1, "de", `"12345.6789000000"`},
		{1, "dz", `"000012.50"`}, // DECIMAL keeps its printed digits
		{1, "fl", `3.14`},
		{1, "do", `0.1`},
		{1, "b1", `"AQ=="`},
		{1, "b64", `"AAAAAAAAAAo="`},
		{1, "dt6", `"2024-05-01 12:34:56.123456"`},
		{1, "ts6", `"2024-05-01 12:34:56.500000"`},
		{1, "tm3", `"-01:02:03.250"`},
		{1, "yr", `"2024"`},
		{1, "vc", `"Zoë \"quoted\" \\ back\nslash\ttab"`},
		{1, "vcl", `"café crème"`}, // latin1 column, converted to UTF-8 by the server
		{1, "lt", `"long \u0000 nul"`},
		{1, "bn", `"AP8QAA=="`}, // BINARY(4) is padded with a zero byte
		{1, "en", `"ü"`},
		{1, "st", `"x,z"`},
		{1, "js", `"{\"a\": [1, 2.5, \"x\"]}"`},
		{1, "uu", `"123e4567-e89b-12d3-a456-426614174000"`},
		{1, "i6", `"2001:db8::1"`},
		{2, "bi", `"-9223372036854775808"`},
		{2, "biu", `"18446744073709551615"`},
		{2, "de", `"-99999999999999999999.9999999999"`},
		{2, "dz", `"000000.00"`},
		{2, "d", `"0000-00-00"`},
		{2, "dt", `"0000-00-00 00:00:00"`},
		{2, "ts", `"0000-00-00 00:00:00"`},
		{2, "tm", `"-838:59:59"`},
		{2, "vb", `""`},
		{2, "js", `"null"`},
		{3, "bi", `9007199254740992`},
		{3, "biu", `"9007199254740993"`},
		{4, "ti", `null`},
		{4, "js", `null`},
		{4, "ge", `null`},
	}
	for _, s := range spot {
		if got := rows[s.id].Get(s.column).Raw; got != s.raw {
			t.Errorf("row %d %s = %s, want %s", s.id, s.column, got, s.raw)
		}
	}
}

// compareWithDatabase reads every value again over the text protocol and
// checks the file's value against it, by the documented rule of its kind.
func compareWithDatabase(t *testing.T, f *fixture, rows map[int64]gjson.Result, binary map[string]bool) {
	t.Helper()
	table, _ := f.s.Table("alltypes")
	res, err := f.db.Query("SELECT " + selectList(table) + " FROM alltypes")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	vals, ptrs := rawRow(res)
	for res.Next() {
		if err := res.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		id, _ := strconv.ParseInt(string(vals[0]), 10, 64)
		for i, col := range table.Columns[1:] {
			v := vals[i+1]
			got := rows[id].Get(col.Name)
			if !got.Exists() {
				t.Errorf("row %d: column %s missing", id, col.Name)
				continue
			}
			if why := mismatch(v, got, kindOf(col), binary[col.Name]); why != "" {
				t.Errorf("row %d %s (%s): file %s, database %q: %s", id, col.Name, col.ColumnType, got.Raw, v, why)
			}
		}
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
}

func mismatch(db sql.RawBytes, file gjson.Result, k syncfile.Kind, binary bool) string {
	switch {
	case db == nil:
		if file.Type != gjson.Null {
			return "want null"
		}
		return ""
	case binary:
		if file.Type != gjson.String || file.Str != base64.StdEncoding.EncodeToString(db) {
			return "want base64 of the bytes"
		}
	case k == syncfile.KindInt:
		n, err := strconv.ParseInt(strings.TrimLeft(string(db), "0"), 10, 64)
		small := err == nil && n <= 1<<53 && n >= -(1<<53)
		if small && (file.Type != gjson.Number || file.Int() != n) {
			return "want the same number"
		}
		if !small && file.Type != gjson.String {
			return "want a string beyond 2^53"
		}
	case k == syncfile.KindFloat:
		if file.Raw != string(db) {
			return "want the number as printed"
		}
	default:
		if file.Type != gjson.String || (utf8.Valid(db) && file.Str != string(db)) {
			return "want the same string"
		}
	}
	return ""
}
