package importer

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestHasReturning(t *testing.T) {
	t.Setenv(noReturningEnv, "") // scripts/test-no-returning.sh sets it
	for _, tt := range []struct {
		version string
		want    bool
	}{
		{"10.11.19-MariaDB-0+deb12u1", true},
		{"10.5.0-MariaDB", true},
		{"11.4.2-MariaDB-log", true},
		{"10.4.32-MariaDB", false}, // RETURNING came with 10.5
		{"8.0.36", false},          // MySQL has none
		{"8.0.11-TiDB-v7.5.0", false},
		{"", false},
	} {
		if got := hasReturning(tt.version); got != tt.want {
			t.Errorf("hasReturning(%q) = %v, want %v", tt.version, got, tt.want)
		}
	}
	t.Setenv(noReturningEnv, "1")
	if hasReturning("10.11.19-MariaDB") {
		t.Errorf("%s=1 does not force the path without RETURNING", noReturningEnv)
	}
}

// The path of servers without INSERT ... RETURNING (MySQL, TiDB), forced
// on MariaDB: a session chooses it, and a child round-trips exactly.
// scripts/test-no-returning.sh runs every import test this way.
func TestWithoutReturning(t *testing.T) {
	t.Setenv(noReturningEnv, "1")
	master := newSide(t)
	ctx := context.Background()
	sess, err := openSession(ctx, master.db.DB, "nyc", &Options{})
	if err != nil {
		t.Fatal(err)
	}
	chosen := sess.noReturning
	sess.close(ctx)
	if !chosen {
		t.Fatal("the session did not choose the path without RETURNING")
	}
	c := newChild(t, "nyc")
	seedMany(t, c, 120)
	importFiles(t, master, Options{BatchRows: 50}, c.export(t, true))
	assertMirrors(t, c, master)
}

func TestWriteSetLimitNamed(t *testing.T) {
	for _, tt := range []struct {
		msg, want string
	}{
		{"wsrep_max_ws_rows exceeded", "wsrep_max_ws_rows"},
		{"Maximum writeset size exceeded", "wsrep_max_ws_size"},
		{"Deadlock found when trying to get lock; try restarting transaction", ""},
	} {
		err := fmt.Errorf("insert into t: %w", &mysql.MySQLError{Number: 1180, Message: tt.msg})
		if got := writeSetLimit(err); got != tt.want {
			t.Errorf("writeSetLimit(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}
