package masterdb

import (
	"reflect"
	"strings"
	"testing"
)

func fold(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestBuilders compares whole statements and their arguments.
func TestBuilders(t *testing.T) {
	type built struct {
		q    string
		args []any
		err  error
	}
	b := func(q string, args []any, err error) built { return built{q, args, err} }
	tests := []struct {
		name     string
		got      built
		want     string
		wantArgs []any
	}{
		{"insert returning", b(Insert("we`ird", []string{"a", "b`c"}, [][]any{{1, "x"}, {2, "y"}}, "id")),
			"INSERT INTO `we``ird` (`a`, `b``c`) VALUES (?, ?), (?, ?) RETURNING `id`", []any{1, "x", 2, "y"}},
		{"insert", b(Insert("t", []string{"a"}, [][]any{{nil}}, "")), "INSERT INTO `t` (`a`) VALUES (?)", []any{nil}},
		{"update by composite key", b(UpdateByKey("t", []string{"x", "y"}, []any{"1", "2"}, []string{"k1", "k2"}, []any{int64(3), int64(4)}, nil)),
			"UPDATE `t` SET `x` = ?, `y` = ? WHERE `k1` = ? AND `k2` = ?", []any{"1", "2", int64(3), int64(4)}},
		// The ON UPDATE column the statement does not set keeps its value;
		// a WHERE in a column's name changes nothing.
		{"update keeping an auto-updated column", b(UpdateByKey("t", []string{"a WHERE b"}, []any{int64(7)}, []string{"id"}, []any{int64(1)}, []string{"a WHERE b", "modified"})),
			"UPDATE `t` SET `a WHERE b` = ?, `modified` = `modified` WHERE `id` = ?", []any{int64(7), int64(1)}},
		{"update many by CASE", b(UpdateCase("we`ird", "id", []string{"a", "b`c"}, []any{int64(1), int64(2)}, [][]any{{"a1", "b1"}, {"a2", "b2"}}, nil)),
			"UPDATE `we``ird` SET `a` = CASE `id` WHEN ? THEN ? WHEN ? THEN ? END, `b``c` = CASE `id` WHEN ? THEN ? WHEN ? THEN ? END WHERE `id` IN (?, ?)",
			[]any{int64(1), "a1", int64(2), "a2", int64(1), "b1", int64(2), "b2", int64(1), int64(2)}},
		{"CASE keeping an auto-updated column", b(UpdateCase("t", "id", []string{"p"}, []any{int64(5)}, [][]any{{int64(9)}}, []string{"modified", "p"})),
			"UPDATE `t` SET `p` = CASE `id` WHEN ? THEN ? END, `modified` = `modified` WHERE `id` IN (?)", []any{int64(5), int64(9), int64(5)}},
		{"select the holder of a unique value", b(SelectHolder("ta`g", "id", []string{"name", "pa`rent"}, []any{"x", int64(4)})),
			"SELECT `id` FROM `ta``g` WHERE `name` = ? AND `pa``rent` = ? LIMIT 1 FOR UPDATE", []any{"x", int64(4)}},
		{"lock in", b(LockIn("t", "id", []any{1, 2})), "SELECT `id` FROM `t` WHERE `id` IN (?, ?) FOR UPDATE", []any{1, 2}},
		{"select in", b(SelectIn("t", []string{"id"}, "owner", []any{1, 2, 3})),
			"SELECT `id` FROM `t` WHERE `owner` IN (?, ?, ?)", []any{1, 2, 3}},
		{"select polymorphic", b(SelectPolyIn("note", []string{"id"}, "entity_id", []any{1, 2}, "entity_table", "contact")),
			"SELECT `id` FROM `note` WHERE `entity_id` IN (?, ?) AND `entity_table` = ?", []any{1, 2, "contact"}},
		{"select keys", b(SelectKeys("ct", []string{"a", "b"}, [][]any{{1, 2}, {3, 4}})),
			"SELECT `a`, `b` FROM `ct` WHERE (`a` = ? AND `b` = ?) OR (`a` = ? AND `b` = ?)", []any{1, 2, 3, 4}},
		{"delete in", b(DeleteIn("t", "id", []any{1, 2})), "DELETE FROM `t` WHERE `id` IN (?, ?)", []any{1, 2}},
		{"delete keys", b(DeleteKeys("t", []string{"a"}, [][]any{{1}, {2}})), "DELETE FROM `t` WHERE (`a` = ?) OR (`a` = ?)", []any{1, 2}},
		{"set null", b(SetNullIn("t", []string{"p", "q"}, "id", []any{int64(1)}, nil)),
			"UPDATE `t` SET `p` = NULL, `q` = NULL WHERE `id` IN (?)", []any{int64(1)}},
		{"set null keeping an auto-updated column", b(SetNullIn("t", []string{"p"}, "id", []any{int64(1)}, []string{"modified"})),
			"UPDATE `t` SET `p` = NULL, `modified` = `modified` WHERE `id` IN (?)", []any{int64(1)}},
		{"joined", b(SelectJoined("ct", []string{"a", "b"}, "a", "mapping_master_nyc", "contact")),
			"SELECT t.`a`, t.`b` FROM `ct` t JOIN `mapping_master_nyc` m ON m.entity_table = ? AND m.master_entity_id = t.`a`", []any{"contact"}},
		{"count joined", b(CountJoined("ct", "a", "mapping_master_nyc", "contact")),
			"SELECT COUNT(*) FROM `ct` t JOIN `mapping_master_nyc` m ON m.entity_table = ? AND m.master_entity_id = t.`a`", []any{"contact"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.err != nil {
				t.Fatal(tt.got.err)
			}
			if fold(tt.got.q) != fold(tt.want) {
				t.Errorf("got  %s\nwant %s", tt.got.q, tt.want)
			}
			if !reflect.DeepEqual(tt.got.args, tt.wantArgs) {
				t.Errorf("args %v, want %v", tt.got.args, tt.wantArgs)
			}
		})
	}
	for i, bad := range []func() (string, []any, error){
		func() (string, []any, error) { return Insert("t", nil, [][]any{{}}, "") },
		func() (string, []any, error) { return Insert("t", []string{"a"}, nil, "") },
		func() (string, []any, error) { return Insert("t", []string{"a"}, [][]any{{1, 2}}, "") },
		func() (string, []any, error) { return UpdateByKey("t", []string{"a"}, []any{1}, nil, nil, nil) },
		func() (string, []any, error) {
			return UpdateByKey("t", []string{"a"}, nil, []string{"id"}, []any{1}, nil)
		},
		func() (string, []any, error) { return DeleteKeys("t", nil, [][]any{{1}}) },
		func() (string, []any, error) { return DeleteKeys("t", []string{"a"}, [][]any{{1, 2}}) },
		func() (string, []any, error) { return UpdateCase("t", "id", nil, []any{1, 2}, [][]any{{}, {}}, nil) },
		func() (string, []any, error) {
			return UpdateCase("t", "", []string{"a"}, []any{1, 2}, [][]any{{1}, {2}}, nil)
		},
		func() (string, []any, error) { return UpdateCase("t", "id", []string{"a"}, nil, nil, nil) },
		func() (string, []any, error) {
			return UpdateCase("t", "id", []string{"a"}, []any{1}, [][]any{{1, 2}}, nil)
		},
		func() (string, []any, error) { return SelectPolyIn("t", []string{"id"}, "e", []any{1}, "", "x") },
	} {
		if _, _, err := bad(); err == nil {
			t.Errorf("builder %d accepted input that makes a broken statement", i)
		}
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
		got := ScrubMessage(tt.number, tt.msg)
		if got != tt.want {
			t.Errorf("%d: got %q, want %q", tt.number, got, tt.want)
		}
		if tt.mustDrop != "" && strings.Contains(got, tt.mustDrop) {
			t.Errorf("%d: %q leaks a value", tt.number, got)
		}
	}
}
