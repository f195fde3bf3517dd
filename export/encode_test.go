package export

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"tributary/schema"
)

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
