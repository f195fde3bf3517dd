package export

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"tributary/schema"
)

func TestAppendInt(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"zero", "0", "0"},
		{"negative", "-42", "-42"},
		{"zerofill padding dropped", "00042", "42"},
		{"zerofill zero", "0000", "0"},
		{"2^53 is exact", "9007199254740992", "9007199254740992"},
		{"-2^53 is exact", "-9007199254740992", "-9007199254740992"},
		{"2^53+1 is a string", "9007199254740993", `"9007199254740993"`},
		{"-2^53-1 is a string", "-9007199254740993", `"-9007199254740993"`},
		{"bigint unsigned max", "18446744073709551615", `"18446744073709551615"`},
		{"bigint min", "-9223372036854775808", `"-9223372036854775808"`},
		{"16 digits below 2^53", "1000000000000000", "1000000000000000"},
		// Not an integer at all: never produce an invalid number.
		{"garbage", "12a", `"12a"`},
		{"empty", "", `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendInt(nil, []byte(tt.in))); got != tt.want {
				t.Errorf("appendInt(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsCanonicalInt(t *testing.T) {
	good := []string{"0", "7", "-7", "123456", "9223372036854775807", "-9223372036854775808"}
	bad := []string{"", "-", "-0", "007", "+7", "7a", "9223372036854775808", "-9223372036854775809", "18446744073709551615", "1.0"}
	for _, s := range good {
		if !isCanonicalInt([]byte(s)) {
			t.Errorf("isCanonicalInt(%q) = false", s)
		}
	}
	for _, s := range bad {
		if isCanonicalInt([]byte(s)) {
			t.Errorf("isCanonicalInt(%q) = true", s)
		}
	}
}

func TestIsJSONNumber(t *testing.T) {
	good := []string{"0", "-0", "1.5", "3.14159", "1e38", "1e+38", "-1.7976931348623157e308", "2.2250738585072014e-308", "10"}
	bad := []string{"", "-", "01", ".5", "5.", "1e", "inf", "-inf", "nan", "NaN", "1.5.3", "+1", "0x10", "1e+"}
	for _, s := range good {
		if !isJSONNumber([]byte(s)) {
			t.Errorf("isJSONNumber(%q) = false", s)
		}
	}
	for _, s := range bad {
		if isJSONNumber([]byte(s)) {
			t.Errorf("isJSONNumber(%q) = true", s)
		}
	}
}

func TestAppendText(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string // the decoded JSON string
		wantOK bool
	}{
		{"plain", "Ann", "Ann", true},
		{"quotes and backslash", `a"b\c`, `a"b\c`, true},
		{"controls", "a\nb\tc\rd\x00e\x1f", "a\nb\tc\rd\x00e\x1f", true},
		{"unicode", "Zoë 日本 🎉 \u2028", "Zoë 日本 🎉 \u2028", true},
		{"invalid utf-8 replaced", "a\xffb\xc3", "a\ufffdb\ufffd", false},
		{"latin1 byte alone", "caf\xe9", "caf\ufffd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ok := appendText(nil, []byte(tt.in))
			if !json.Valid(out) {
				t.Fatalf("not valid JSON: %q", out)
			}
			var got string
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("appendText(%q) = %q ok=%v, want %q ok=%v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func testTable() *schema.Table {
	return &schema.Table{
		Name: "con`tact", Role: schema.RoleTrack, Track: "modified", Key: []string{"id"}, Mapped: true,
		Columns: []schema.Column{
			{Name: "id", DataType: "int"},
			{Name: "name", DataType: "varchar"},
			{Name: "big", DataType: "bigint"},
			{Name: "amount", DataType: "decimal"},
			{Name: "ratio", DataType: "double"},
			{Name: "photo", DataType: "blob", Binary: true},
			{Name: "modified", DataType: "timestamp"},
			{Name: `we"ird`, DataType: "text"},
		},
	}
}

func TestAppendUpsert(t *testing.T) {
	c := newCodec(testTable())
	vals := []sql.RawBytes{[]byte("7"), []byte("Ann \"A\""), []byte("9007199254740993"), []byte("10.50"), []byte("0.1"), {0, 1, 2, 255}, []byte("0000-00-00 00:00:00"), nil}
	got, err := c.appendUpsert(nil, vals)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"t":"con` + "`" + `tact","op":"upsert","id":7,"row":{"name":"Ann \"A\"","big":"9007199254740993","amount":"10.50","ratio":0.1,"photo":"AAEC/w==","modified":"0000-00-00 00:00:00","we\"ird":null}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Error("not valid JSON")
	}
}

func TestAppendUpsertRejectsBadKey(t *testing.T) {
	c := newCodec(testTable())
	vals := make([]sql.RawBytes, 8)
	vals[0] = []byte("007")
	if _, err := c.appendUpsert(nil, vals); err == nil || !strings.Contains(err.Error(), "key column id") {
		t.Errorf("err = %v", err)
	}
}

func TestAppendUpsertComposite(t *testing.T) {
	tab := &schema.Table{Name: "group_contact", Key: []string{"group_id", "contact_id"},
		Columns: []schema.Column{{Name: "group_id", DataType: "int"}, {Name: "contact_id", DataType: "int"}, {Name: "status", DataType: "enum"}}}
	got, err := newCodec(tab).appendUpsert(nil, []sql.RawBytes{[]byte("1"), []byte("2"), []byte("Added")})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"t":"group_contact","op":"upsert","row":{"group_id":1,"contact_id":2,"status":"Added"}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func BenchmarkAppendUpsert(b *testing.B) {
	c := newCodec(testTable())
	vals := []sql.RawBytes{[]byte("123456"), []byte("Ann Example-Longername"), []byte("42"), []byte("1234.50"), []byte("0.25"), []byte("\x00\x01binary"), []byte("2024-05-01 12:00:00"), []byte("Some longer note text, with a comma and \"quotes\".")}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = c.appendUpsert(buf[:0], vals)
	}
	b.SetBytes(int64(len(buf)))
}
