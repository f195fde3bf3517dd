package repair

import (
	"context"
	"fmt"
	"testing"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/internal/dbtest"
	"tributary/schema"
)

// TestDiffering: the repair writes back only the columns whose value the
// master no longer holds exactly.
func TestDiffering(t *testing.T) {
	tests := []struct {
		name      string
		want, cur []any
		cols      string
	}{
		{"nothing moved", []any{"2020-01-01 00:00:00", nil}, []any{[]byte("2020-01-01 00:00:00"), nil}, "[]"},
		{"the stamp moved", []any{"2020-01-01 00:00:00", nil}, []any{[]byte("2024-05-05 10:00:00"), nil}, "[0]"},
		{"a NULL was filled", []any{"2020-01-01 00:00:00", nil}, []any{[]byte("2020-01-01 00:00:00"), []byte("2024-05-05 10:00:00")}, "[1]"},
		{"both", []any{"a", nil}, []any{[]byte("b"), []byte("")}, "[0 1]"},
		{"a value the master does not return", []any{"a", "b"}, []any{[]byte("a")}, "[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Differing(tt.want, tt.cur)
			if got == nil {
				got = []int{}
			}
			if fmt.Sprint(got) != tt.cols {
				t.Errorf("Differing = %v, want %s", got, tt.cols)
			}
		})
	}
}

// TestRestoreInChunks: rows are read, compared and written back a chunk
// at a time; every row of every chunk gets the file's values back, and a
// row already right is not written.
func TestRestoreInChunks(t *testing.T) {
	defer func(n int) { restoreChunkRows = n }(restoreChunkRows)
	restoreChunkRows = 3
	ctx := context.Background()
	db, _ := dbtest.NewDatabase(t)
	dbtest.Exec(t, db, `CREATE TABLE civicrm_contact (id INT PRIMARY KEY, display_name VARCHAR(64), created_date DATETIME, modified_date DATETIME)`,
		`INSERT INTO civicrm_contact SELECT seq, CONCAT('c', seq), '2030-01-01 00:00:00', '2030-01-01 00:00:00' FROM seq_1_to_10`,
		`UPDATE civicrm_contact SET created_date = '2020-01-01 00:00:00', modified_date = '2020-01-02 00:00:00' WHERE id = 4`)
	table := &schema.Table{Name: "civicrm_contact", Key: []string{"id"}, Mapped: true}
	tp := &plan.Table{
		Table: table,
		Cols:  []plan.Column{{Name: "display_name"}, {Name: "created_date"}, {Name: "modified_date"}},
		Index: map[string]int{"display_name": 0, "created_date": 1, "modified_date": 2},
	}
	v := NewValues(&Facts{repair: map[string][]string{"civicrm_contact": {"created_date", "modified_date"}}})
	var rows []*plan.Row
	for id := int64(1); id <= 10; id++ {
		rows = append(rows, &plan.Row{ID: id, Master: id, Vals: []any{fmt.Sprintf("c%d", id), "2020-01-01 00:00:00", "2020-01-02 00:00:00"}})
	}
	v.Remember(tp, rows)

	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sqlTx.Rollback()
	if err := Restore(ctx, masterdb.NewTx(sqlTx, false), &schema.Schema{Tables: []*schema.Table{table}}, v); err != nil {
		t.Fatal(err)
	}
	var wrong int
	if err := sqlTx.QueryRowContext(ctx, `SELECT COUNT(*) FROM civicrm_contact WHERE created_date <> '2020-01-01 00:00:00' OR modified_date <> '2020-01-02 00:00:00'`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d of 10 rows kept the values the trigger wrote", wrong)
	}
}
