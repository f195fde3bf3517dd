package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tributary/childdb"
	"tributary/export"
	"tributary/internal/exitcode"
	"tributary/internal/progress"
	"tributary/schema"
)

type exportOptions struct {
	files   optionFileOptions
	conn    *connectionOptions
	prefix  string
	mapName string
	out     string
	state   string
	full    bool
	newStrm bool
	lag     time.Duration
	overlap time.Duration
	noGzip  bool
	signKey string
	metrics string
	audit   int
}

func (o *exportOptions) AddFlags(flags *pflag.FlagSet) {
	o.files.AddFlags(flags, "export", true)
	o.conn.AddFlags(flags)
	flags.StringVar(&o.prefix, "prefix", "", "child prefix: a lower-case letter, then up to 31 of a-z, 0-9, _ (part of the master's table names)")
	flags.StringVar(&o.mapName, "map", "", "sync map file, or a built-in preset name ("+strings.Join(schema.PresetNames(), ", ")+")")
	flags.StringVar(&o.out, "out", "", "directory the sync file is written to (it must exist)")
	flags.StringVar(&o.state, "state", "", "state file (default OUT/.tributary-PREFIX.state)")
	flags.BoolVar(&o.full, "full", false, "write every row, not only the changes since the last file")
	flags.BoolVar(&o.newStrm, "new-stream", false, "start a new stream with a full file, whatever the state file says: after the child moved to another server or database on purpose")
	flags.DurationVar(&o.lag, "lag", 5*time.Second, "end the window this long before the database's clock")
	flags.DurationVar(&o.overlap, "overlap", 0, "re-read this long before the previous window's end")
	flags.BoolVar(&o.noGzip, "no-gzip", false, "write plain .jsonl instead of .jsonl.gz")
	flags.StringVar(&o.signKey, "sign-key-file", "", "file holding the key shared with the master: the file's trailer carries an HMAC made with it (must not be readable by others)")
	flags.IntVar(&o.audit, "audit-every", 1, "compare the digests of track tables with detect: checksum every N files (0: never)")
	flags.StringVar(&o.metrics, "metrics-file", "", "write Prometheus metrics to this file (for node_exporter's textfile collector), atomically")
}

func (o *exportOptions) Check() error {
	switch {
	case o.prefix == "":
		return exitcode.Errorf(exitcode.Usage, "--prefix is required")
	case !childdb.PrefixPattern.MatchString(o.prefix):
		return exitcode.Errorf(exitcode.Usage, "--prefix %q is not valid: a lower-case letter, then up to 31 of a-z, 0-9, _", o.prefix)
	case o.mapName == "":
		return exitcode.Errorf(exitcode.Usage, "--map is required")
	case o.out == "":
		return exitcode.Errorf(exitcode.Usage, "--out is required")
	case o.lag < 0:
		return exitcode.Errorf(exitcode.Usage, "--lag must not be negative")
	case o.overlap < 0:
		return exitcode.Errorf(exitcode.Usage, "--overlap must not be negative")
	case o.audit < 0:
		return exitcode.Errorf(exitcode.Usage, "--audit-every must not be negative")
	}
	if info, err := os.Stat(o.out); err != nil || !info.IsDir() {
		return exitcode.Errorf(exitcode.Usage, "--out %s: not an existing directory", o.out)
	}
	return nil
}

func newExportCommand() *cobra.Command {
	opts := &exportOptions{}
	opts.conn = newConnectionOptions("child", "", "TRIBUTARY_DSN").withOptionFiles(&opts.files)
	c := &cobra.Command{
		Use:   "export [--defaults-file FILE] --dsn DSN --prefix P --map MAP --out DIR [--state FILE] [--full] [--new-stream] [--lag D] [--overlap D]",
		Short: "Write a sync file of a child's changes",
		Long:  exportHelp + "\n\n" + optionFileHelp("export") + "\n\n" + exitCodesHelp,
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			return runExport(c.Context(), c, opts)
		},
	}
	opts.AddFlags(c.Flags())
	return c
}

const exportHelp = `export writes one sync file of the child database into --out and prints
its path as the last line of standard output. Run it from cron; move the
files to the master with your own transport; the master runs import.

The window. An incremental file holds the rows whose track column falls in
[since, until). since is the previous file's until (minus --overlap); until
is the database's own clock minus --lag, in whole seconds, and never later
than the start of the oldest transaction still open, so a long transaction
that commits later cannot hide rows behind the window. Open transactions are
read from information_schema.INNODB_TRX and SHOW ENGINE INNODB STATUS,
which need the PROCESS privilege; without it export says so on standard error and relies on --lag and
--overlap. TIMESTAMP track columns are compared in UTC. DATETIME track
columns hold wall-clock time as the application wrote it: export compares
them in the server's time zone (@@global.time_zone), widening the window
where a daylight-saving change falls inside it. If your application writes
them in a zone behind the server's, set --overlap to at least the
difference. Owned rows travel with their owner, snapshot tables whole, and
every row the file references that no earlier file can have carried travels
too.

Changes that move no stamp. For a table with detect: checksum the server
hashes the rows in chunks (owner tables by 10 owner IDs, snapshots whole,
track tables by 1000 IDs) and export keeps the digests beside the state
file (STATE.digests, mode 0600). A chunk whose digest changed is sent:
the owners with their owned rows, the snapshot whole (an unchanged snapshot
is left out), the track rows. Track tables are audited every --audit-every
files (default 1, 0 never). A missing, damaged or outdated digest file
makes the next export send those tables whole and say so. All reads happen in one consistent read-only snapshot: an account with
SELECT on the database is enough.

The state file (--state, default OUT/.tributary-PREFIX.state, mode 0600)
holds the prefix, a random stream id, the last sequence number and the end
of the last window. It changes only after the sync file is complete, fsynced
and renamed into place, so a crash leaves the old state or the new state
with its file. Without a state file (the first run, or after you delete a
damaged one) export starts a new stream with a full file; --full writes a
full file in the current stream.

A state file belongs to one database: it records the server (its own
@@hostname and @@port, whatever address the DSN uses) and the database
name. An export whose connection reaches another server or database refuses
to run (exit 2): a mistyped --dsn must never produce a file that makes the
master delete a branch. When the child really moved (a new server, a
renamed database), run once with --new-stream: it starts a new stream with
a full file, which the master applies like any full file (keeping its IDs,
and refusing mass deletions unless import is given --max-delete). A lock beside it (STATE.lock) keeps two
exports of one prefix from running at once: the second exits 75 at once.

An export with no changes still writes a small file: it keeps the sequence
contiguous and tells the master the child is alive. Files are written as
.NAME.tmp and renamed when complete. The state and lock files live in OUT
by default, so never move dotfiles: move the sync files only, and let the
master's "import --inbox" pick them up:

  */15 * * * * tributary export --defaults-file /etc/tributary/nyc.cnf >/dev/null && rsync -a --remove-source-files --exclude '.*' --exclude '*.tmp' /var/spool/tributary/out/ master:/var/spool/tributary/inbox/

with /etc/tributary/nyc.cnf (chmod 640) holding [client] (the child's
connection), [tributary] map=civicrm and [tributary-export] prefix=nyc,
out=/var/spool/tributary/out. The package's tributary-export@nyc.timer runs
the same export every 15 minutes.

--sign-key-file FILE signs each file (an HMAC-SHA256 in its trailer) with a
key shared with the master, which then rejects unsigned or forged files.
--metrics-file FILE writes Prometheus metrics for node_exporter's textfile
collector (see docs/monitoring.md).`

// runExport exports and then writes the metrics file, whatever the
// outcome, usage errors (exit 2) included; only a run without a valid
// prefix writes none, since every export metric is labelled with it.
func runExport(ctx context.Context, c *cobra.Command, opts *exportOptions) error {
	started := time.Now()
	out := outputOf(c)
	var res *export.Result
	err := opts.Check()
	if err == nil {
		res, err = exportOnce(ctx, c, opts, out)
	}
	if opts.metrics != "" && childdb.PrefixPattern.MatchString(opts.prefix) {
		if merr := writeExportMetrics(opts.metrics, opts.prefix, res, err, time.Since(started)); merr != nil {
			out.Warn(merr.Error())
		}
	}
	return err
}

func exportOnce(ctx context.Context, c *cobra.Command, opts *exportOptions, out *output) (*export.Result, error) {
	m, err := schema.LoadMap(opts.mapName)
	if err != nil {
		return nil, exitcode.Wrap(exitcode.Usage, err)
	}
	key, err := readSignKey(opts.signKey)
	if err != nil {
		return nil, err
	}
	// The lock first: a second export of the prefix exits 75 at once, even
	// while the database is slow or down.
	statePath := opts.state
	if statePath == "" {
		statePath = export.DefaultStatePath(opts.out, opts.prefix)
	}
	lock, err := export.LockState(statePath)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	db, err := opts.conn.open(ctx, c.Flags(), out)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s, err := schema.Resolve(ctx, db, m)
	if err != nil {
		return nil, err
	}
	res, err := export.Run(ctx, db, s, export.Options{
		Prefix:      opts.prefix,
		OutDir:      opts.out,
		StatePath:   statePath,
		HeldLock:    lock,
		Full:        opts.full,
		NewStream:   opts.newStrm,
		Lag:         opts.lag,
		Overlap:     opts.overlap,
		AuditEvery:  auditEvery(opts.audit),
		Gzip:        !opts.noGzip,
		SignKey:     key,
		ToolVersion: c.Root().Version,
		Progress:    progressTo(out.progress()),
		Warn:        out.WarnFunc(),
		Verbose:     out.verbose,
	})
	if err != nil {
		return nil, err
	}
	if out.verbose {
		printSummary(out, res)
	}
	fmt.Fprintln(c.OutOrStdout(), res.Path)
	return &res, nil
}

// progressTo shows each table as a phase of the terminal's progress bar.
func progressTo(r progress.Reporter) func(export.Progress) {
	var table string
	var done int64
	return func(p export.Progress) {
		if p.Table != table {
			table, done = p.Table, 0
			r.Begin(fmt.Sprintf("%d/%d %s", p.Index, p.Tables, p.Table), -1)
		}
		r.Add(p.Rows - done)
		done = p.Rows
		if p.Done {
			r.End()
			table = ""
		}
	}
}

// exportedTable is one table of a -v summary in JSON logs.
type exportedTable struct {
	Table   string `json:"table"`
	Role    string `json:"role"`
	Rows    int64  `json:"rows"`
	LiveIDs *int64 `json:"live_ids,omitempty"`
	LeftOut int64  `json:"left_out"`
}

// printSummary tells what went into the file, table by table: a table on
// standard error, or one JSON record with the tables as a field.
func printSummary(out *output, res export.Result) {
	if !out.text() {
		tables := make([]exportedTable, 0, len(res.Tables))
		for _, t := range res.Tables {
			et := exportedTable{Table: t.Name, Role: string(t.Role), Rows: t.Rows}
			if t.Role == schema.RoleTrack {
				live := t.LiveIDs
				et.LiveIDs = &live
			}
			for _, n := range t.LeftOut {
				et.LeftOut += n
			}
			tables = append(tables, et)
		}
		attrs := []any{"file", filepath.Base(res.Path), "sequence", res.State.Sequence, "mode", res.Mode,
			"until", res.Until.Format(time.RFC3339), "records", res.Records, "tables", tables}
		if !res.Since.IsZero() {
			attrs = append(attrs, "since", res.Since.Format(time.RFC3339))
		}
		out.Info(fmt.Sprintf("%s: exported sequence %d (%s, %d records)", filepath.Base(res.Path), res.State.Sequence, res.Mode, res.Records), attrs...)
		return
	}
	var buf strings.Builder
	w := &buf
	defer func() { out.Detail("%s", buf.String()) }()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROLE\tROWS\tLIVE IDS\tLEFT OUT")
	for _, t := range res.Tables {
		live := "-"
		if t.Role == schema.RoleTrack {
			live = fmt.Sprint(t.LiveIDs)
		}
		var left int64
		for _, n := range t.LeftOut {
			left += n
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\n", t.Name, t.Role, t.Rows, live, left)
	}
	tw.Flush()
	window := "everything until " + res.Until.Format(time.RFC3339)
	if !res.Since.IsZero() {
		window = "[" + res.Since.Format(time.RFC3339) + ", " + res.Until.Format(time.RFC3339) + ")"
	}
	fmt.Fprintf(w, "sequence %d (%s, %s): %d records\n", res.State.Sequence, res.Mode, window, res.Records)
}

// auditEvery turns --audit-every (0: never) into export.Options.AuditEvery
// (0: every file, negative: never).
func auditEvery(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
