package importer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tributary/internal/dbtest"
	"tributary/mapping"
)

// The master's columns may be narrower than the child's (an older
// schema, a column altered by hand). A value the master cannot store
// exactly fails the whole file with exit 3 and a message that names the
// table and the column, never the value (it is personal data); the master
// is left exactly as it was. Without strict sql_mode the server would
// store a cut or rounded value and only warn.
func TestValueMasterCannotStoreRejected(t *testing.T) {
	tests := []struct {
		name   string
		master string // how the master's column differs from the child's
		insert string // the child's one row
		column string
		value  []string // what must not appear in the message
	}{
		{
			name:   "emoji into a utf8mb3 column",
			master: `ALTER TABLE contact MODIFY display_name VARCHAR(128) CHARACTER SET utf8mb3 NULL`,
			insert: `INSERT INTO contact (id, display_name) VALUES (1, 'Zoë 🎉 Quinn')`,
			column: "display_name",
			value:  []string{"Zoë", "🎉", `\xF0\x9F`, "Quinn"},
		},
		{
			name:   "string longer than the master's VARCHAR",
			master: `ALTER TABLE contact MODIFY display_name VARCHAR(8) NULL`,
			insert: `INSERT INTO contact (id, display_name) VALUES (1, 'Bartholomew Quinn')`,
			column: "display_name",
			value:  []string{"Bartholomew", "Quinn"},
		},
		{
			name:   "integer out of the master's range",
			master: `ALTER TABLE contact MODIFY big INT UNSIGNED NULL`,
			insert: `INSERT INTO contact (id, big) VALUES (1, 9007199254740993)`,
			column: "big",
			value:  []string{"9007199254740993"},
		},
		{
			name:   "negative into an unsigned column",
			master: `ALTER TABLE contact MODIFY amount DECIMAL(14,4) UNSIGNED NULL`,
			insert: `INSERT INTO contact (id, amount) VALUES (1, '-4321.5678')`,
			column: "amount",
			value:  []string{"4321", "5678"},
		},
		{
			name:   "DECIMAL with more scale than the master's",
			master: `ALTER TABLE contact MODIFY amount DECIMAL(14,2) NULL`,
			insert: `INSERT INTO contact (id, amount) VALUES (1, '8765.4321')`,
			column: "amount",
			value:  []string{"8765", "4321"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			master := newSide(t)
			dbtest.Exec(t, master.db, tt.master)
			master = resolveAgain(t, master)
			c := newChild(t, "nyc")
			dbtest.Exec(t, c.db, tt.insert)
			file := c.export(t, true)

			before := dbtest.Checksums(t, master.db)
			_, err := Run(context.Background(), master.db.DB, master.s, []string{file}, Options{})
			expectRejectedErr(t, err, ErrData)
			dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, "contact") || !strings.Contains(msg, tt.column) {
				t.Errorf("message does not name table contact and column %s: %s", tt.column, msg)
			}
			for _, v := range tt.value {
				if strings.Contains(msg, v) {
					t.Errorf("message holds the value (%q): %s", v, msg)
				}
			}
		})
	}
}

// The same narrower columns take every value they can hold exactly: the
// check rejects what would change, not what merely differs in type.
func TestStorableValuesPassNarrowerMaster(t *testing.T) {
	master := newSide(t)
	dbtest.Exec(t, master.db,
		`ALTER TABLE contact MODIFY display_name VARCHAR(32) CHARACTER SET utf8mb3 NULL`,
		`ALTER TABLE contact MODIFY big INT UNSIGNED NULL`)
	master = resolveAgain(t, master)
	c := newChild(t, "nyc")
	dbtest.Exec(t, c.db, `INSERT INTO contact (id, display_name, big) VALUES (1, 'Zoë Ñúñez', 4294967295)`)
	importFiles(t, master, Options{}, c.export(t, true))
	assertMirrors(t, c, master)
}

// expectRejectedErr checks that err is a rejection (exit 3) around sentinel.
func expectRejectedErr(t *testing.T, err error, sentinel error) {
	t.Helper()
	if !isReject(err) {
		t.Fatalf("got %v, want a rejection (exit 3)", err)
	}
	if !strings.Contains(err.Error(), "rejected") {
		t.Errorf("message does not say the file was rejected: %v", err)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %v is not %v", err, sentinel)
	}
}

// Fractional seconds the master's temporal column cannot hold: MariaDB
// drops them without an error or even a warning, strict sql_mode or not
// (TIME_ROUND_FRACTIONAL would round instead: still not exact). The import
// must reject the file as it does a rounded DECIMAL.
func TestFractionalSecondsMasterWouldCut(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	dbtest.Exec(t, c.db, `ALTER TABLE contact MODIFY created DATETIME(3) NULL`)
	c.side = newSideOn(t, c.db)
	dbtest.Exec(t, c.db, `INSERT INTO contact (id, created) VALUES (1, '2020-02-29 12:34:56.789')`)
	file := c.export(t, true)
	before := dbtest.Checksums(t, master.db)
	_, err := Run(context.Background(), master.db.DB, master.s, []string{file}, Options{})
	expectRejectedErr(t, err, ErrData)
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)
	if err != nil && !strings.Contains(err.Error(), "created") {
		t.Errorf("message does not name the column: %v", err)
	}
}
