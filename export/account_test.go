package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"tributary/internal/database"
	"tributary/schema"
)

// Export is read-only: an account with nothing but SELECT on the child
// database exports, and says that it cannot see open transactions: on its
// first run, not on every cron run after, and again when that comes back
// after the account could see them.
func TestSelectOnlyAccount(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(`INSERT INTO contact (id, name, modified) VALUES (1, 'Ann', '2001-01-01 00:00:01')`,
		`INSERT INTO note (id, entity_table, entity_id, note, modified) VALUES (1, 'contact', 1, 'hi', '2001-01-01 00:00:02')`,
		`INSERT INTO activity (id, subject, source_contact_id, modified) VALUES (1, 'call', 1, '2001-01-01 00:00:02')`)
	ro, account, cfg := selectOnlyUser(t, f)
	// MariaDB shows a SELECT-only account no rows of
	// REFERENTIAL_CONSTRAINTS: the map must still resolve to the schema the
	// admin sees, foreign keys included, or closure would miss references.
	ctx := context.Background()
	roSchema := resolveMap(t, ro, testMap)
	if roSchema.Fingerprint != f.s.Fingerprint {
		t.Fatalf("a SELECT-only account resolves another schema:\n%s\nthan the admin:\n%s", schema.Summary(roSchema, "ro"), schema.Summary(f.s, "admin"))
	}
	for i, step := range []struct {
		grant string // run as the admin first
		warns bool
	}{
		{"", true},
		{"", false}, // said on the run before
		{"GRANT PROCESS ON *.* TO " + account, false},
		{"REVOKE PROCESS ON *.* FROM " + account, true}, // back again: said again
		{"", false},
	} {
		if step.grant != "" {
			f.exec(step.grant)
			ro = openConfig(t, cfg) // global privileges are read at login
		}
		f.warnings = nil
		res, err := Run(ctx, atClock(t, cfg, fmt.Sprintf("2001-01-01 00:00:%02d", 10*(i+1))), roSchema, f.options())
		if err != nil {
			t.Fatalf("export %d as a SELECT-only account: %v", i+1, err)
		}
		readFile(t, res.Path)
		if warned := f.warned("cannot read information_schema.INNODB_TRX"); warned != step.warns || len(f.warnings) != map[bool]int{true: 1}[step.warns] {
			t.Errorf("export %d: warnings = %q, want the one about INNODB_TRX: %t", i+1, f.warnings, step.warns)
		}
	}
}

// selectOnlyUser creates an account with only SELECT on the fixture's
// database and opens it; both go when the test ends. It returns the
// account's name ('user'@'%') and configuration too.
func selectOnlyUser(t *testing.T, f *fixture) (*sqlx.DB, string, *mysql.Config) {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	user, pass := "trib_ro_"+hex.EncodeToString(b[:]), hex.EncodeToString(b[:])+"Pw!"
	account := fmt.Sprintf("'%s'@'%%'", user) // names made here, not input
	f.exec(fmt.Sprintf("CREATE USER %s IDENTIFIED BY '%s'", account, pass),
		fmt.Sprintf("GRANT SELECT ON %s.* TO %s", database.QuoteIdent(f.cfg.DBName), account))
	t.Cleanup(func() { f.db.Exec("DROP USER " + account) })
	cfg := f.cfg.Clone()
	cfg.User, cfg.Passwd = user, pass
	return openConfig(t, cfg), account, cfg
}

func openConfig(t *testing.T, cfg *mysql.Config) *sqlx.DB {
	t.Helper()
	db, err := database.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
