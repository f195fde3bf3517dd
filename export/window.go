package export

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"tributary/internal/database"
)

// dbTime is how the server prints DATETIME values on the text protocol.
const dbTime = "2006-01-02 15:04:05.999999"

// clock is what the database said just before the snapshot started.
type clock struct {
	now time.Time // UTC_TIMESTAMP(6)
	// oldest is the earliest moment (UTC) at which a transaction still open
	// may have stamped a row; zero when none is open or we cannot tell.
	oldest   time.Time
	trxKnown bool // false: the account may not read innodb_trx
}

// oldestTrxQuery finds the start of the oldest transaction that can still
// write, other than ours. Read-only transactions (another export, a backup
// started READ ONLY) and autocommit SELECTs can never commit a row, so they
// do not hold the window back.
//
// trx_started is printed in the server's system time zone whatever the
// session's, so it is converted from 'SYSTEM' to UTC. In the hour a
// daylight-saving change repeats, a local time is ambiguous; "ambiguous"
// detects that the same local time also names the instant an hour earlier,
// and the earlier one is then used (a smaller window is always safe).
const oldestTrxQuery = `SELECT UTC_TIMESTAMP(6), CONVERT_TZ(t.started, 'SYSTEM', '+00:00'),
	CONVERT_TZ(CONVERT_TZ(t.started, 'SYSTEM', '+00:00') - INTERVAL 1 HOUR, '+00:00', 'SYSTEM') = t.started
FROM (SELECT MIN(trx_started) AS started FROM information_schema.INNODB_TRX
	WHERE trx_mysql_thread_id <> CONNECTION_ID() AND trx_is_read_only = 0 AND trx_autocommit_non_locking = 0) AS t`

// readClock reads the database's clock and the oldest open transaction in
// one statement, so both describe the same moment.
func readClock(ctx context.Context, conn *sql.Conn) (clock, error) {
	var now string
	var started sql.NullString
	var ambiguous sql.NullBool
	err := conn.QueryRowContext(ctx, oldestTrxQuery).Scan(&now, &started, &ambiguous)
	if isAccessDenied(err) {
		c := clock{}
		if err := conn.QueryRowContext(ctx, "SELECT UTC_TIMESTAMP(6)").Scan(&now); err != nil {
			return clock{}, fmt.Errorf("read the database clock: %w", err)
		}
		c.now, err = time.Parse(dbTime, now)
		return c, err
	}
	if err != nil {
		return clock{}, fmt.Errorf("read the database clock and open transactions: %w", err)
	}
	c := clock{trxKnown: true}
	if c.now, err = time.Parse(dbTime, now); err != nil {
		return clock{}, fmt.Errorf("database clock %q: %w", now, err)
	}
	if started.Valid {
		t, err := time.Parse(dbTime, started.String)
		if err != nil {
			return clock{}, fmt.Errorf("transaction start %q: %w", started.String, err)
		}
		if ambiguous.Valid && ambiguous.Bool {
			t = t.Add(-time.Hour)
		}
		// trx_started has whole seconds and InnoDB registers a transaction
		// at its first row access, a moment after its statement began and
		// took its NOW(): one second of margin covers both.
		c.oldest = t.Add(-time.Second)
	}
	fromStatus, ok, err := oldestWriterFromStatus(ctx, conn)
	if err != nil {
		return clock{}, fmt.Errorf("read open transactions: %w", err)
	}
	if ok && !fromStatus.IsZero() && (c.oldest.IsZero() || fromStatus.Before(c.oldest)) {
		c.oldest = fromStatus
	}
	return c, nil
}

// isAccessDenied reports the errors of an account without the PROCESS
// privilege that innodb_trx needs.
func isAccessDenied(err error) bool {
	switch database.ErrorNumber(err) {
	case 1227, 1142, 1044:
		return true
	}
	return false
}

// window is the half-open interval [since, until) of one file, in UTC.
type window struct {
	full  bool
	since time.Time // zero for a full file
	until time.Time
}

// planWindow decides the window (DESIGN.md section 2): until is the
// database's clock minus lag, in whole seconds so that a second-precision
// track value never falls on both sides of a boundary, and never later
// than the oldest open transaction; since is the previous until minus
// overlap. A window never ends before the previous one did.
func planWindow(c clock, prev *State, full bool, lag, overlap time.Duration) (window, []string) {
	var warnings []string
	w := window{full: full || prev == nil}
	w.until = c.now.Add(-lag).Truncate(time.Second)
	if !c.oldest.IsZero() && c.oldest.Before(w.until) {
		w.until = c.oldest.Truncate(time.Second)
	}
	if prev == nil {
		return w, warnings
	}
	prevUntil := prev.until()
	if w.until.Before(prevUntil) {
		warnings = append(warnings, fmt.Sprintf("the window would end at %s, before the previous one (%s): the database clock went back, or a transaction has been open since before then; this file repeats the end of the last window and the next catches up",
			w.until.Format(time.RFC3339), prevUntil.Format(time.RFC3339)))
		w.until = prevUntil
	}
	if !w.full {
		w.since = prevUntil.Add(-overlap)
	}
	return w, warnings
}

// trackBounds are a track table's window bounds as SQL literals.
type trackBounds struct{ lo, hi string }

// localBounds converts the UTC window to the wall clock of zone, for DATETIME
// track columns, which hold local time as the application wrote it. Where
// the zone's offset differs at the two ends (a daylight-saving change in
// the window), the bounds are widened to the smaller offset at the start
// and the larger at the end: the window then covers every local time that
// any instant in it had, so a repeated hour is read twice, never skipped.
func localBounds(ctx context.Context, conn *sql.Conn, zone string, w window) (trackBounds, error) {
	var lo, hi sql.NullString
	err := conn.QueryRowContext(ctx, "SELECT CONVERT_TZ(?, '+00:00', ?), CONVERT_TZ(?, '+00:00', ?)",
		w.since.UTC().Format(sqlTime), zone, w.until.UTC().Format(sqlTime), zone).Scan(&lo, &hi)
	if err != nil {
		return trackBounds{}, fmt.Errorf("convert the window to time zone %s: %w", zone, err)
	}
	if !lo.Valid || !hi.Valid {
		return trackBounds{}, fmt.Errorf("the server cannot convert to time zone %q for DATETIME track columns: load its time zone tables (mysql_tzinfo_to_sql)", zone)
	}
	return widen(w, lo.String, hi.String)
}

// widen applies the rule of localBounds to the server's conversions.
func widen(w window, loLocal, hiLocal string) (trackBounds, error) {
	l, err := time.Parse(dbTime, loLocal)
	if err != nil {
		return trackBounds{}, fmt.Errorf("window start in local time %q: %w", loLocal, err)
	}
	h, err := time.Parse(dbTime, hiLocal)
	if err != nil {
		return trackBounds{}, fmt.Errorf("window end in local time %q: %w", hiLocal, err)
	}
	offLo, offHi := l.Sub(w.since), h.Sub(w.until)
	lo := w.since.Add(min(offLo, offHi))
	hi := w.until.Add(max(offLo, offHi))
	return trackBounds{lo: quoteTime(lo), hi: quoteTime(hi)}, nil
}
