package export

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// A transaction opened before an export and committed after it: the export
// cannot see its rows, so its window must end before them, and they appear
// in a later file. Without the innodb_trx cap the window would pass them
// and no file would ever carry them.
func TestOpenTransactionRowsComeInALaterFile(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	ctx := context.Background()
	f.export("") // the real clock from here on
	// A monitor polling INNODB_TRX more often than every 100 ms keeps
	// InnoDB from refreshing that table's cache, which then never shows the
	// transaction opened below: the export must see it all the same.
	stopPolling := pollInnodbTrx(t, f.db)
	conn, err := f.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO contact (id, name, modified) VALUES (100, 'slow', UTC_TIMESTAMP(6))"); err != nil {
		t.Fatal(err)
	}
	var stamped string
	if err := conn.QueryRowContext(ctx, "SELECT modified FROM contact WHERE id = 100").Scan(&stamped); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the row is now behind "now"
	_, during := f.export("")
	stopPolling() // the stale cache would now hold later windows back instead
	if during.Header.Until > strings.Replace(stamped[:19], " ", "T", 1)+"Z" {
		t.Errorf("window ends at %s, after the open transaction's row (%s)", during.Header.Until, stamped)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	// Other transactions on the same server (other tests, other sessions)
	// may hold later windows back for a while; that is safe, only slower.
	// What must never happen is a window passing the row without carrying it.
	rowAt := strings.Replace(stamped[:19], " ", "T", 1) + "Z"
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(1100 * time.Millisecond)
		_, later := f.export("")
		t.Logf("window [%s, %s)", later.Header.Since, later.Header.Until)
		if slices.Contains(later.ids("contact"), 100) {
			return
		}
		if later.Header.Since > rowAt {
			t.Fatalf("window [%s, %s) starts after the row (%s), which no file carried", later.Header.Since, later.Header.Until, stamped)
		}
	}
	t.Error("for two minutes, open transactions on the server kept every window before the committed row")
}

// TIMESTAMP values travel in UTC whatever zone the connection was opened
// with, so the two 01:30s of New York's fall-back night stay two instants,
// and the window is in UTC too.
func TestTimestampsTravelInUTC(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	ny := openInZone(t, f.cfg, "America/New_York")
	f.export("2024-11-03 04:00:00")
	if _, err := ny.Exec(`INSERT INTO contact (id, name, modified) VALUES (1, 'local 00:30 EDT', '2024-11-03 00:30:00')`); err != nil {
		t.Fatal(err)
	}
	f.exec(`INSERT INTO contact (id, name, modified) VALUES
		(2, 'first 01:30 (EDT)',  '2024-11-03 05:30:00'),
		(3, 'second 01:30 (EST)', '2024-11-03 06:30:00'),
		(4, 'after the window',   '2024-11-03 07:00:00')`)
	s := resolveMap(t, ny, testMap)
	opts := f.options()
	res, err := Run(context.Background(), atClock(t, inZone(f.cfg, "America/New_York"), "2024-11-03 07:00:00"), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	file := readFile(t, res.Path)
	want := []string{
		`{"name":"first 01:30 (EDT)","employer_id":null,"modified":"2024-11-03 05:30:00.000000"}`,
		`{"name":"local 00:30 EDT","employer_id":null,"modified":"2024-11-03 04:30:00.000000"}`,
		`{"name":"second 01:30 (EST)","employer_id":null,"modified":"2024-11-03 06:30:00.000000"}`,
	}
	if got := file.rows("contact"); !slices.Equal(got, want) {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// openInZone opens the test database with sessions in zone.
// inZone is cfg with its sessions in the time zone zone.
func inZone(cfg *mysql.Config, zone string) *mysql.Config {
	c := cfg.Clone()
	c.Params["time_zone"] = "'" + zone + "'"
	return c
}

func openInZone(t *testing.T, cfg *mysql.Config, zone string) *sqlx.DB {
	t.Helper()
	connector, err := mysql.NewConnector(inZone(cfg, zone))
	if err != nil {
		t.Fatal(err)
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "mysql")
	t.Cleanup(func() { db.Close() })
	var got string
	if err := db.QueryRow("SELECT @@session.time_zone").Scan(&got); err != nil || got != zone {
		t.Fatalf("session zone %q, %v", got, err)
	}
	return db
}

// DATETIME track columns hold wall-clock time: the window is converted to
// the DATETIME zone, widened where the offset changes inside it. In New
// York's fall-back night a window from 01:45 EDT to 01:00 EST is empty on
// the wall clock; a row stamped 01:50 EDT must still be in it.
func TestDatetimeTrackAcrossFallBack(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	zone := func(o *Options) { o.DateTimeZone = "America/New_York" }
	f.exec(`INSERT INTO contact (id, name, modified) VALUES (1, 'Ann', '2024-11-03 00:00:00')`)
	f.export("2024-11-03 05:45:00", zone)
	f.exec(`INSERT INTO activity (id, subject, source_contact_id, modified) VALUES
		(1, 'at 01:50 EDT (05:50Z)', 1, '2024-11-03 01:50:00'),
		(2, 'at 01:05 EST (06:05Z)', 1, '2024-11-03 01:05:00')`)
	_, f2 := f.export("2024-11-03 06:00:00", zone) // [05:45Z, 06:00Z)
	_, f3 := f.export("2024-11-03 06:15:00", zone) // [06:00Z, 06:15Z) = [01:00, 01:15) EST
	if !slices.Contains(f2.ids("activity"), 1) {
		t.Errorf("file 2 activities = %v: the row stamped 01:50 EDT is lost", f2.ids("activity"))
	}
	if got := f3.ids("activity"); !eqIDs(got, 2) {
		t.Errorf("file 3 activities = %v, want [2]", got)
	}
	_, f4 := f.export("2024-11-03 06:30:00", zone)
	if got := f4.ids("activity"); len(got) != 0 {
		t.Errorf("file 4 activities = %v, want none", got)
	}
}

// pollInnodbTrx reads information_schema.INNODB_TRX every 20 ms until the
// returned function is called.
func pollInnodbTrx(t *testing.T, db *sqlx.DB) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ticker := time.NewTicker(20 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				var n int
				_ = db.QueryRow("SELECT COUNT(*) FROM information_schema.INNODB_TRX").Scan(&n)
			}
		}
	}()
	return func() { close(done); <-finished }
}
