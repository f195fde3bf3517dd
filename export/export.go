// Package export writes a child database's rows as a sync file (DESIGN.md
// sections 2 and 4): one window of changes, or everything, read in one
// consistent snapshot, closed under references, streamed row by row into a
// file that appears under its name only when complete, after which the
// child's state file moves on.
package export

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"tributary/childdb"
	"tributary/internal/exitcode"
	"tributary/schema"
	"tributary/syncfile"
)

// Options say what to export and where. The zero value of each optional
// field is its documented default.
type Options struct {
	Prefix    string // the child prefix, ^[a-z][a-z0-9_]{0,31}$
	OutDir    string // where the file goes; it must exist
	StatePath string // default OutDir/.tributary-<Prefix>.state
	Full      bool   // write every row, not one window
	// NewStream starts a new stream (a full file, sequence 1) whatever the
	// state file says: how an admin moves a child to another server or
	// database on purpose.
	NewStream bool
	Lag       time.Duration
	Overlap   time.Duration
	Gzip      bool
	SignKey   []byte // when set, the trailer carries an HMAC-SHA256
	// ToolVersion goes into the header's source.
	ToolVersion string
	// DateTimeZone is the zone DATETIME track columns are written in; empty
	// means the server's @@global.time_zone, what NOW() gives a session that
	// does not set its own.
	DateTimeZone string
	// Progress, when set, hears how far the export is.
	Progress func(Progress)
	// Warn, when set, hears each thing an admin should know that does not
	// stop the export; each warning is one line. A warning that would come
	// back on every run (no PROCESS privilege, rows left out) is given once
	// per change of its content (see notices.go); with Verbose, always.
	Warn    func(string)
	Verbose bool
	// AuditEvery: track tables with detect: checksum are audited (their
	// digests compared, changed chunks sent) every AuditEvery files; 0
	// means every file, a negative value never.
	AuditEvery int

	// HeldLock is the prefix's lock when the caller took it (LockState);
	// otherwise Run takes it itself.
	HeldLock *StateLock
}

// Progress is one progress report: Rows rows of Table written so far;
// Done when the table is complete. Index counts tables from 1.
type Progress struct {
	Table         string
	Index, Tables int
	Rows          int64
	Done          bool
}

// Result describes the file written.
type Result struct {
	Path    string
	State   State // the state after this file
	Mode    string
	Since   time.Time // zero for a full file
	Until   time.Time
	Records int64
	Tables  []TableResult // in apply order
	// Checksum counts, per table with detect: checksum that was compared,
	// the chunks whose digests changed; -1 when the last digests could not
	// be used and the table went whole.
	Checksum map[string]int
}

// TableResult is what one table contributed to the file.
type TableResult struct {
	Name        string
	Role        schema.Role
	Rows        int64            // upserts written
	LiveIDs     int64            // IDs in the live ranges (track tables)
	LiveRecords int              // live records written (track tables)
	LeftOut     map[string]int64 // rows left out, by reason
	InvalidUTF8 []InvalidText    // values whose invalid UTF-8 was replaced
}

// InvalidText counts a column's values that were not valid UTF-8.
type InvalidText struct {
	Column string
	Values int64
}

func (o *Options) check() error {
	if !childdb.PrefixPattern.MatchString(o.Prefix) {
		return exitcode.Errorf(exitcode.Usage, "prefix %q is not valid: a lower-case letter, then up to 31 of a-z, 0-9, _", o.Prefix)
	}
	if o.Lag < 0 || o.Overlap < 0 {
		return exitcode.Errorf(exitcode.Usage, "lag and overlap must not be negative")
	}
	info, err := os.Stat(o.OutDir)
	if err != nil || !info.IsDir() {
		return exitcode.Errorf(exitcode.Usage, "output directory %q does not exist or is not a directory", o.OutDir)
	}
	if o.StatePath == "" {
		o.StatePath = DefaultStatePath(o.OutDir, o.Prefix)
	}
	return nil
}

func (o *Options) warn(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, args...))
	}
}

// Run writes one sync file of the child database db, described by s, and
// then updates the state file. It holds the prefix's lock throughout (a
// busy lock is exitcode.Locked at once). On any error, and when ctx is
// cancelled, no file appears and the state is unchanged.
func Run(ctx context.Context, db *sqlx.DB, s *schema.Schema, opts Options) (Result, error) {
	if err := opts.check(); err != nil {
		return Result{}, err
	}
	if opts.HeldLock == nil {
		lock, err := acquireLock(opts.StatePath + ".lock")
		if err != nil {
			return Result{}, err
		}
		defer lock.release()
	}
	prev, err := LoadState(opts.StatePath, opts.Prefix)
	if err != nil {
		return Result{}, err
	}
	removeStaleTemps(opts.OutDir, opts.Prefix, opts.StatePath)
	if opts.NewStream {
		prev = nil
	} else if prev, err = recoverCommitted(&opts, prev); err != nil {
		return Result{}, err
	}
	e := &exporter{db: db.DB, s: s, opts: &opts, prev: prev, said: map[string]string{}}
	res, err := e.run(ctx)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return Result{}, fmt.Errorf("export %s: %w", opts.Prefix, err)
	}
	return res, nil
}

// exporter is one run of Run, after the lock and the state are in hand.
type exporter struct {
	db   *sql.DB
	s    *schema.Schema
	opts *Options
	prev *State
	sess *session
	// origin is the database the session reaches.
	origin childdb.Origin
	said   map[string]string // warnings given or kept quiet this run (see notices.go)
}

func (e *exporter) run(ctx context.Context) (res Result, err error) {
	if e.sess, err = openSession(ctx, e.db); err != nil {
		return res, err
	}
	defer func() {
		if endErr := e.sess.end(ctx, err == nil); err == nil {
			err = endErr
		}
	}()
	if e.origin, err = readOrigin(ctx, e.sess.conn); err != nil {
		return res, err
	}
	if err := e.checkOrigin(); err != nil {
		return res, err
	}
	win, err := e.startSnapshot(ctx)
	if err != nil {
		return res, err
	}
	next, err := e.nextState(win)
	if err != nil {
		return res, err
	}
	det, err := e.detect(ctx, win, next)
	if err != nil {
		return res, err
	}
	sel, left, err := e.selectRows(ctx, win, det)
	if err != nil {
		return res, err
	}
	res, err = e.write(ctx, win, next, sel, left, det)
	if err != nil {
		return res, err
	}
	if det != nil {
		// The digests before the state: killed in between, the state still
		// names the file before, the next export adopts this file
		// (recoverCommitted), and these digests, of this file, are used.
		// Killed before, the digests name the file before this one, and
		// the next export sends the tables whole.
		res.Checksum = det.changed
		if err := SaveDigests(DigestPath(e.opts.StatePath), det.next); err != nil {
			return res, fmt.Errorf("%s is complete, but the digest file could not be written (the next export sends the tables with detect: checksum whole): %w", res.Path, err)
		}
	}
	e.warnings(res)
	next.Said = e.remembered(win.full)
	res.State.Said = next.Said
	if err := SaveState(e.opts.StatePath, next); err != nil {
		return res, fmt.Errorf("%s is complete, but the state file could not be updated (the next export will adopt the file): %w", res.Path, err)
	}
	return res, nil
}

// startSnapshot reads the clock and the oldest open transaction, then at
// once starts the snapshot: a transaction that commits in between is
// visible to it, and one still open is after the window.
func (e *exporter) startSnapshot(ctx context.Context) (window, error) {
	conn := e.sess.conn
	clk, err := readClock(ctx, conn)
	if err != nil {
		return window{}, err
	}
	if err := e.sess.begin(ctx); err != nil {
		return window{}, err
	}
	if !clk.trxKnown {
		if e.notice(topicProcess, "") {
			e.opts.warn("this account cannot read information_schema.INNODB_TRX (it needs the PROCESS privilege), so a transaction still open cannot hold the window back; relying on --lag and --overlap")
		}
	}
	win, warnings := planWindow(clk, e.prev, e.opts.Full, e.opts.Lag, e.opts.Overlap)
	for _, w := range warnings {
		e.opts.warn("%s", w)
	}
	return win, nil
}

// detect computes the digests of the tables with detect: checksum in this
// snapshot and compares them with the last file's; nil when the map has
// no such table.
func (e *exporter) detect(ctx context.Context, win window, next *State) (*detection, error) {
	tables := checksumTables(e.s)
	if len(tables) == 0 {
		return nil, nil
	}
	path := DigestPath(e.opts.StatePath)
	var prev *Digests
	why := ""
	if !win.full {
		if prev, why = LoadDigests(path); prev != nil {
			if why = prev.usableWith(e.prev); why != "" {
				prev = nil
			}
		}
	}
	d := &detector{q: e.sess.conn, s: e.s, full: win.full, seq: next.Sequence, audit: auditDue(e.opts.AuditEvery, prev, next.Sequence)}
	det, err := d.detect(ctx, prev, why)
	if err != nil {
		return nil, err
	}
	det.next.Prefix, det.next.Stream = next.Prefix, next.Stream
	if det.unusable != "" {
		var whole []string
		for _, t := range tables {
			if det.changed[t.Name] < 0 {
				whole = append(whole, t.Name)
			}
		}
		e.opts.warn("digest file %s cannot be used (%s): this file carries these tables whole, to miss no change: %s", path, det.unusable, strings.Join(whole, ", "))
	}
	return det, nil
}

// auditDue reports whether this file audits the track tables with
// detect: checksum: every `every` files (0: every file; negative: never),
// counted from the last audit the digests record.
func auditDue(every int, prev *Digests, seq uint64) bool {
	switch {
	case every < 0:
		return false
	case every == 0 || prev == nil:
		return true
	}
	return seq-prev.Audited >= uint64(every)
}

// selectRows picks the file's rows and the rows to leave out of it.
func (e *exporter) selectRows(ctx context.Context, win window, det *detection) (*selection, *leftOut, error) {
	q := e.sess.conn
	if win.full {
		left, err := findLeftOut(ctx, q, e.s, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("find rows to leave out: %w", err)
		}
		return newSelection(e.s, true, nil), left, nil
	}
	bounds, err := e.trackBounds(ctx, win)
	if err != nil {
		return nil, nil, err
	}
	sel, err := selectIncremental(ctx, q, e.s, bounds, det)
	if err != nil {
		return nil, nil, fmt.Errorf("select rows: %w", err)
	}
	scopes, err := reach(ctx, q, e.s, sel)
	if err != nil {
		return nil, nil, fmt.Errorf("find rows to leave out: %w", err)
	}
	left, err := findLeftOut(ctx, q, e.s, scopes)
	if err != nil {
		return nil, nil, fmt.Errorf("find rows to leave out: %w", err)
	}
	return sel, left, nil
}

// trackBounds gives each track table its window as SQL literals: UTC for
// TIMESTAMP columns (the session runs in UTC), the DATETIME zone's wall
// clock for DATETIME columns.
func (e *exporter) trackBounds(ctx context.Context, win window) (map[*schema.Table]trackBounds, error) {
	bounds := map[*schema.Table]trackBounds{}
	var local *trackBounds
	for _, t := range e.s.Tables {
		if t.Role != schema.RoleTrack {
			continue
		}
		if c, _ := t.Column(t.Track); c == nil || c.DataType != "datetime" {
			bounds[t] = trackBounds{lo: quoteTime(win.since), hi: quoteTime(win.until)}
			continue
		}
		if local == nil {
			b, err := e.localBounds(ctx, win)
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", t.Name, err)
			}
			local = &b
		}
		bounds[t] = *local
	}
	return bounds, nil
}

func (e *exporter) localBounds(ctx context.Context, win window) (trackBounds, error) {
	zone := e.opts.DateTimeZone
	if zone == "" {
		if err := e.sess.conn.QueryRowContext(ctx, "SELECT @@global.time_zone").Scan(&zone); err != nil {
			return trackBounds{}, fmt.Errorf("read the server's time zone: %w", err)
		}
	}
	return localBounds(ctx, e.sess.conn, zone, win)
}

// nextState is the state this file leads to: the next sequence of the
// stream, or sequence 1 of a new stream.
func (e *exporter) nextState(win window) (*State, error) {
	next := &State{}
	if e.prev != nil {
		*next = *e.prev
	} else {
		st, err := newState(e.opts.Prefix)
		if err != nil {
			return nil, err
		}
		next = st
	}
	next.Sequence++
	next.Until = win.until.UTC().Format(time.RFC3339)
	origin := e.origin
	next.Source = &origin
	return next, nil
}

// write writes the file and commits it (rename included). Every error path
// aborts the writer, which removes the temporary file.
func (e *exporter) write(ctx context.Context, win window, next *State, sel *selection, left *leftOut, det *detection) (Result, error) {
	header, err := e.header(ctx, win, next, det)
	if err != nil {
		return Result{}, err
	}
	name := syncfile.FileName(e.opts.Prefix, next.Sequence, header.Mode, e.opts.Gzip)
	w, err := syncfile.Create(e.opts.OutDir, name, syncfile.WriterOptions{Gzip: e.opts.Gzip, SignKey: e.opts.SignKey})
	if err != nil {
		return Result{}, err
	}
	defer w.Abort()
	if err := w.WriteHeader(header); err != nil {
		return Result{}, err
	}
	out := newPipe(w)
	defer out.finish() // before the Abort above: the writer goroutine must be done with w
	res := Result{State: *next, Mode: header.Mode, Since: win.since, Until: win.until}
	fw := &fileWriter{conn: e.sess.conn, out: out, sel: sel, left: left, progress: e.opts.Progress}
	for i, t := range e.s.Tables {
		if det.leavesOut(t) {
			continue
		}
		tr, err := fw.table(ctx, t, i+1, len(e.s.Tables))
		if err != nil {
			return Result{}, fmt.Errorf("table %s: %w", t.Name, err)
		}
		res.Tables = append(res.Tables, tr)
	}
	if err := out.finish(); err != nil {
		return Result{}, err
	}
	// Every read is done: end the snapshot before the file becomes visible.
	if err := e.sess.end(ctx, true); err != nil {
		return Result{}, err
	}
	res.Records = w.Records()
	if res.Path, err = w.Commit(); err != nil {
		return Result{}, err
	}
	return res, nil
}

func (e *exporter) header(ctx context.Context, win window, next *State, det *detection) (*syncfile.Header, error) {
	h := &syncfile.Header{
		Prefix:   next.Prefix,
		Stream:   next.Stream,
		Sequence: next.Sequence,
		Mode:     syncfile.ModeIncremental,
		Until:    next.Until,
		Created:  time.Now().UTC().Format(time.RFC3339),
		Source:   syncfile.Source{Database: e.origin.Database, Host: e.origin.Host, Fingerprint: e.s.Fingerprint, Tool: e.opts.ToolVersion},
		Tables:   map[string]syncfile.TableInfo{},
	}
	if win.full {
		h.Mode = syncfile.ModeFull
	} else {
		h.Since = win.since.UTC().Format(time.RFC3339)
	}
	if err := e.sess.conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&h.Source.Server); err != nil {
		return nil, fmt.Errorf("read server version: %w", err)
	}
	for _, t := range e.s.Tables {
		// An unchanged snapshot is left out of the header too: a snapshot
		// table in the header with no rows would tell the master that the
		// child deleted them all.
		if !det.leavesOut(t) {
			h.Tables[t.Name] = tableInfo(t)
		}
	}
	return h, nil
}

// warnings tells the admin about rows left out (when a table leaves rows
// out for a reason not given before, see notices.go) and text that was not
// UTF-8 (every time: it is about this file's rows).
func (e *exporter) warnings(res Result) {
	for _, t := range res.Tables {
		var total int64
		reasons := make([]string, 0, len(t.LeftOut))
		tell := false
		for why, n := range t.LeftOut {
			total += n
			reasons = append(reasons, fmt.Sprintf("%d: %s", n, why))
			if e.notice(leftOutTopic(t.Name, why), why) {
				tell = true
			}
		}
		if total > 0 && tell {
			sort.Strings(reasons)
			e.opts.warn("table %s: %d rows left out of the file (%s)", t.Name, total, strings.Join(reasons, "; "))
		}
		for _, bad := range t.InvalidUTF8 {
			e.opts.warn("table %s: column %s: %d values were not valid UTF-8; the invalid bytes were sent as U+FFFD", t.Name, bad.Column, bad.Values)
		}
	}
}
