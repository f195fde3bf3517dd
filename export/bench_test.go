package export

import (
	"database/sql"
	"fmt"
	"testing"

	"tributary/schema"
)

// BenchmarkEncodeRow encodes CiviCRM-contact-like rows (integers, text
// with characters to escape and non-ASCII, a decimal, dates, NULLs, a
// binary column) into upsert records, the export's inner loop, and reports
// the rate in rows/s and in MB/s of JSON written.
//
//	go test ./export -run '^$' -bench EncodeRow -benchmem
func BenchmarkEncodeRow(b *testing.B) {
	t := &schema.Table{Name: "civicrm_contact", Key: []string{"id"}, Mapped: true}
	add := func(name, dataType string, binary bool) {
		t.Columns = append(t.Columns, schema.Column{Name: name, DataType: dataType, Binary: binary, Nullable: true})
	}
	add("id", "int", false)
	add("contact_type", "varchar", false)
	for _, n := range []string{"first_name", "middle_name", "last_name", "display_name", "sort_name", "nick_name", "legal_name", "job_title"} {
		add(n, "varchar", false)
	}
	add("employer_id", "int", false)
	add("is_deleted", "tinyint", false)
	add("birth_date", "date", false)
	add("created_date", "timestamp", false)
	add("modified_date", "timestamp", false)
	add("amount", "decimal", false)
	add("external_identifier", "varchar", false)
	add("hash", "varbinary", true)
	add("preferred_communication_method", "varchar", false)
	add("big", "bigint", false)
	const n = 1024
	rows := make([][]sql.RawBytes, n)
	for i := range rows {
		v := func(s string) sql.RawBytes { return sql.RawBytes(s) }
		rows[i] = []sql.RawBytes{
			v(fmt.Sprint(100000 + i)), v("Individual"),
			v("Ann"), nil, v(fmt.Sprintf("Müller-%d", i)), v(fmt.Sprintf("Ann Müller-%d", i)), v(fmt.Sprintf("Müller-%d, Ann", i)), nil, nil, v(`Head of "Data"`),
			v(fmt.Sprint(i * 7)), v("0"), v("1980-02-29"), v("2024-01-02 03:04:05"), v("2024-06-07 08:09:10"),
			v("12345.6700"), v(fmt.Sprintf("ext-%d", i)), v("\x00\x01\xfe\xff"), v("\x011\x012\x01"), v("18446744073709551615"),
		}
	}
	c := newCodec(t)
	var buf []byte
	var written int64
	for i := 0; b.Loop(); i++ {
		var err error
		buf, err = c.appendUpsert(buf[:0], rows[i%n])
		if err != nil {
			b.Fatal(err)
		}
		written += int64(len(buf))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(written)/1e6/b.Elapsed().Seconds(), "MB/s")
}
