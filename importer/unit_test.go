package importer

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"tributary/mapping"
	"tributary/schema"
	"tributary/syncfile"
)

func fold(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestSQLBuilders(t *testing.T) {
	tests := []struct {
		name string
		got  func() (string, error)
		want string
	}{
		{"insert returning", func() (string, error) { return insertSQL("we`ird", []string{"a", "b`c"}, 2, "id") },
			"INSERT INTO `we``ird` (`a`, `b``c`) VALUES (?, ?), (?, ?) RETURNING `id`"},
		{"insert", func() (string, error) { return insertSQL("t", []string{"a"}, 1, "") }, "INSERT INTO `t` (`a`) VALUES (?)"},
		{"update by composite key", func() (string, error) { return updateSQL("t", []string{"x", "y"}, []string{"k1", "k2"}) },
			"UPDATE `t` SET `x` = ?, `y` = ? WHERE `k1` = ? AND `k2` = ?"},
		{"update many by CASE", func() (string, error) { return updateCaseSQL("we`ird", []string{"a", "b`c"}, "id", 2) },
			"UPDATE `we``ird` SET `a` = CASE `id` WHEN ? THEN ? WHEN ? THEN ? END, `b``c` = CASE `id` WHEN ? THEN ? WHEN ? THEN ? END WHERE `id` IN (?, ?)"},
		{"select in", func() (string, error) { return selectInSQL("t", []string{"id"}, "owner", 3) },
			"SELECT `id` FROM `t` WHERE `owner` IN (?, ?, ?)"},
		{"select polymorphic", func() (string, error) { return selectPolySQL("note", []string{"id"}, "entity_table", "entity_id", 2) },
			"SELECT `id` FROM `note` WHERE `entity_id` IN (?, ?) AND `entity_table` = ?"},
		{"select keys", func() (string, error) { return selectKeysSQL("ct", []string{"a", "b"}, 2) },
			"SELECT `a`, `b` FROM `ct` WHERE (`a` = ? AND `b` = ?) OR (`a` = ? AND `b` = ?)"},
		{"delete in", func() (string, error) { return deleteInSQL("t", "id", 2) }, "DELETE FROM `t` WHERE `id` IN (?, ?)"},
		{"delete keys", func() (string, error) { return deleteKeysSQL("t", []string{"a"}, 2) }, "DELETE FROM `t` WHERE (`a` = ?) OR (`a` = ?)"},
		{"set null", func() (string, error) { return setNullInSQL("t", []string{"p", "q"}, "id", 1) },
			"UPDATE `t` SET `p` = NULL, `q` = NULL WHERE `id` IN (?)"},
		{"joined", func() (string, error) { return selectJoinedSQL("ct", []string{"a", "b"}, "a", "mapping_master_nyc") },
			"SELECT t.`a`, t.`b` FROM `ct` t JOIN `mapping_master_nyc` m ON m.entity_table = ? AND m.master_entity_id = t.`a`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if err != nil {
				t.Fatal(err)
			}
			if fold(got) != fold(tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []func() (string, error){
		func() (string, error) { return insertSQL("t", nil, 1, "") },
		func() (string, error) { return insertSQL("t", []string{"a"}, 0, "") },
		func() (string, error) { return updateSQL("t", []string{"a"}, nil) },
		func() (string, error) { return deleteKeysSQL("t", nil, 1) },
		func() (string, error) { return updateCaseSQL("t", nil, "id", 2) },
		func() (string, error) { return updateCaseSQL("t", []string{"a"}, "", 2) },
		func() (string, error) { return updateCaseSQL("t", []string{"a"}, "id", 0) },
	} {
		if _, err := bad(); err == nil {
			t.Error("a builder accepted empty input")
		}
	}
}

func TestGaps(t *testing.T) {
	const lo, hi = math.MinInt64, math.MaxInt64
	tests := []struct {
		name   string
		ranges [][2]int64
		want   [][2]int64
	}{
		{"no live row: everything is a gap", nil, [][2]int64{{lo, hi}}},
		{"one range", [][2]int64{{5, 9}}, [][2]int64{{lo, 4}, {10, hi}}},
		{"unsorted, touching and overlapping", [][2]int64{{20, 30}, {1, 10}, {11, 12}, {25, 40}}, [][2]int64{{lo, 0}, {13, 19}, {41, hi}}},
		{"up to the largest ID", [][2]int64{{1, hi}}, [][2]int64{{lo, 0}}},
		{"from the smallest ID", [][2]int64{{lo, 3}}, [][2]int64{{4, hi}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gaps(tt.ranges); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("gaps(%v) = %v, want %v", tt.ranges, got, tt.want)
			}
		})
	}
}

func TestCheckOrder(t *testing.T) {
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	last := &mapping.LedgerEntry{Prefix: "nyc", Stream: "A", Sequence: 5, Until: at("2024-05-01T12:00:00Z")}
	header := func(stream string, seq uint64, mode string) *syncfile.Header {
		return &syncfile.Header{Prefix: "nyc", Stream: stream, Sequence: seq, Mode: mode}
	}
	from := func(h *syncfile.Header, host, db string) *syncfile.Header {
		h.Source = syncfile.Source{Host: host, Database: db}
		return h
	}
	origin := func(host, db string) *syncfile.Origin { return &syncfile.Origin{Host: host, Database: db} }
	win := func(since, until string) window {
		w := window{until: at(until)}
		if since != "" {
			s := at(since)
			w.since = &s
		}
		return w
	}
	tests := []struct {
		name     string
		h        *syncfile.Header
		w        window
		v        ledgerView
		sentinel error
	}{
		{"next file", header("A", 6, "incremental"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: true}, nil},
		{"overlapping window", header("A", 6, "incremental"), win("2024-05-01T11:59:00Z", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: true}, nil},
		// export never lets a window end before the last; a quiet second
		// gives an empty window ending where the last one did
		{"empty window", header("A", 6, "incremental"), win("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"), ledgerView{last: last, streamSeen: true}, nil},
		{"window starts late", header("A", 6, "incremental"), win("2024-05-01T12:00:01Z", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: true}, ErrGap},
		{"sequence skipped", header("A", 7, "incremental"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: true}, ErrGap},
		{"older sequence", header("A", 4, "incremental"), win("2024-05-01T11:00:00Z", "2024-05-01T11:50:00Z"), ledgerView{last: last, streamSeen: true}, ErrStale},
		{"first file incremental", header("A", 1, "incremental"), win("2024-05-01T11:00:00Z", "2024-05-01T11:50:00Z"), ledgerView{last: nil, streamSeen: false}, ErrGap},
		{"stream never started", header("B", 2, "incremental"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: false}, ErrGap},
		{"stream replaced", header("B", 9, "incremental"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: true}, ErrStale},
		{"first full", header("A", 1, "full"), win("", "2024-05-01T11:00:00Z"), ledgerView{last: nil, streamSeen: false}, nil},
		{"new stream full", header("C", 1, "full"), win("", "2024-05-01T12:00:01Z"), ledgerView{last: last, streamSeen: false}, nil},
		{"full in the same second", header("A", 6, "full"), win("", "2024-05-01T12:00:00Z"), ledgerView{last: last, streamSeen: true}, nil},
		{"older full", header("C", 1, "full"), win("", "2024-05-01T11:00:00Z"), ledgerView{last: last, streamSeen: false}, ErrStale},
		{"other stream's full at the same moment", header("C", 1, "full"), win("", "2024-05-01T12:00:00Z"), ledgerView{last: last, streamSeen: false}, ErrStale},
		{"same origin", from(header("A", 6, "incremental"), "db1:3306", "civi"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: true, streamOrigin: origin("db1:3306", "civi")}, nil},
		{"other database", from(header("A", 6, "incremental"), "db1:3306", "civi2"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: true, streamOrigin: origin("db1:3306", "civi")}, ErrSource},
		{"other server", from(header("A", 6, "incremental"), "db2:3306", "civi"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: true, streamOrigin: origin("db1:3306", "civi")}, ErrSource},
		// a full file of the stream from another database is refused too
		{"other database, full", from(header("A", 6, "full"), "db1:3306", "civi2"), win("", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: true, streamOrigin: origin("db1:3306", "civi")}, ErrSource},
		// a file from a child that does not record its server yet
		{"host not recorded", from(header("A", 6, "incremental"), "", "civi"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), ledgerView{last: last, streamSeen: true, streamOrigin: origin("db1:3306", "civi")}, nil},
		// a new stream may come from anywhere (the guards are --max-delete and a warning)
		{"new stream from another database", from(header("C", 1, "full"), "db2:3306", "civi2"), win("", "2024-05-01T12:00:01Z"), ledgerView{last: last, streamSeen: false}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkOrder(tt.h, tt.w, tt.v)
			if (tt.sentinel == nil) != (err == nil) || (err != nil && !errors.Is(err, tt.sentinel)) {
				t.Errorf("checkOrder = %v, want %v", err, tt.sentinel)
			}
		})
	}
}

func TestScrubMessageKeepsNamesDropsValues(t *testing.T) {
	tests := []struct {
		number   uint16
		msg      string
		want     string
		mustDrop string
	}{
		{1062, "Duplicate entry 'ann@example.org-O'Brien' for key 'UI_email'", "duplicate value in unique key 'UI_email': the master already has a row with that value (of this child, of another child, or its own)", "ann@"},
		{1366, "Incorrect decimal value: 'twelve' for column `db`.`contact`.`amount` at row 3", "incorrect decimal value for column 'amount'", "twelve"},
		{1292, "Truncated incorrect DOUBLE value: 'abc'", "a value had to be truncated to fit its type", "abc"},
		{1406, "Data too long for column 'display_name' at row 1", "Data too long for column 'display_name' at row 1", ""},
		{1300, "Invalid utf8mb4 character string: 'F09F'", "invalid character string for the column's character set", "F09F"},
		{9999, "Some value: 'secret' in column 'c'", "Some value: '…' in column 'c'", "secret"},
	}
	for _, tt := range tests {
		got := scrubMessage(tt.number, tt.msg)
		if got != tt.want {
			t.Errorf("%d: got %q, want %q", tt.number, got, tt.want)
		}
		if tt.mustDrop != "" && strings.Contains(got, tt.mustDrop) {
			t.Errorf("%d: %q leaks a value", tt.number, got)
		}
	}
}

func TestLockName(t *testing.T) {
	if got := LockName("master", "nyc"); got != "tributary:master:nyc" {
		t.Errorf("LockName = %q", got)
	}
	long := LockName(strings.Repeat("d", 64), "p")
	if len(long) > 64 || !strings.HasPrefix(long, "tributary:") || long == LockName(strings.Repeat("d", 64), "q") {
		t.Errorf("long LockName = %q", long)
	}
}

func TestBindValue(t *testing.T) {
	row := gjson.Parse(`{"n":12345678901234567890,"d":"0.10","s":"a\"b","z":"0000-00-00","b":"AP8=","e":"","null":null,"t":true}`)
	tests := []struct {
		key    string
		binary bool
		want   any
		err    bool
	}{
		{key: "n", want: "12345678901234567890"}, // the exact JSON text, never a float
		{key: "d", want: "0.10"},
		{key: "s", want: `a"b`},
		{key: "z", want: "0000-00-00"},
		{key: "b", binary: true, want: []byte{0, 0xff}},
		{key: "e", binary: true, want: []byte{}}, // empty, not NULL
		{key: "null", want: nil},
		{key: "t", err: true},
		{key: "n", binary: true, err: true},
		{key: "s", binary: true, err: true},
	}
	for _, tt := range tests {
		got, err := bindValue(row.Get(tt.key), tt.binary)
		if (err != nil) != tt.err || (!tt.err && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("bindValue(%s, binary=%t) = %#v, %v; want %#v", tt.key, tt.binary, got, err, tt.want)
		}
	}
	if id, ok, _ := refValue(gjson.Parse(`"9007199254740993"`)); !ok || id != 9007199254740993 {
		t.Errorf("a reference beyond 2^53 as a string: %d %t", id, ok)
	}
	if _, ok, _ := refValue(gjson.Parse(`1.5`)); ok {
		t.Error("a fractional reference was accepted")
	}
	if encodeKey([]any{int64(7), "7", []byte("07"), uint64(7)}) != "7\x1f7\x1f7\x1f7" {
		t.Error("key parts are not canonical")
	}
}

// FuzzParseRow: no row a file can carry makes the row parser panic; it
// either converts the row or rejects it.
func FuzzParseRow(f *testing.F) {
	tp := &tablePlan{
		t:     &schema.Table{Name: "t", Key: []string{"id"}, Mapped: true},
		index: map[string]int{"a": 0, "b": 1, "c": 2, "d": 3},
		cols: []colPlan{
			{name: "a", nullable: true},
			{name: "b", binary: true, nullable: true},
			{name: "c", kind: refPlain, target: "t", nullable: true},
			{name: "d", kind: refPoly, disc: 0},
		},
	}
	for _, seed := range []string{
		`{"a":"x","b":"AP8=","c":5,"d":"7"}`,
		`{"a":null,"b":null,"c":null,"d":null}`,
		`{"a":1e400,"b":"!!","c":"9007199254740993","d":true}`,
		`{"a":"x","a":"y","b":"","c":1,"d":2}`,
		`{"id":1,"a":"x","b":"","c":-1,"d":0}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		row := gjson.Parse(data)
		if !gjson.Valid(data) || !row.IsObject() {
			return // the reader rejects these before a row is parsed
		}
		r, err := tp.parseRow(&syncfile.Record{Line: 1, Table: "t", Op: syncfile.OpUpsert, ID: 1, HasID: true, Row: row})
		if err == nil && len(r.vals) != len(tp.cols) {
			t.Fatalf("row of %d values for %d columns", len(r.vals), len(tp.cols))
		}
	})
}
