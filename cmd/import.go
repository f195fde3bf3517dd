package cmd

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tributary/importer"
	"tributary/internal/exitcode"
	"tributary/internal/progress"
	"tributary/schema"
)

type importOptions struct {
	files           optionFileOptions
	conn            *connectionOptions
	mapName         string
	inbox           string
	rebuild         bool
	dryRun          bool
	signKeyFile     string
	metricsFile     string
	lockWaitTimeout time.Duration
	maxDelete       string
	keepDone        time.Duration
}

func (o *importOptions) AddFlags(flags *pflag.FlagSet) {
	o.files.AddFlags(flags, "import", true)
	o.conn.AddFlags(flags)
	flags.StringVar(&o.mapName, "map", "", "sync map file, or a built-in preset name ("+strings.Join(schema.PresetNames(), ", ")+")")
	flags.StringVar(&o.inbox, "inbox", "", "apply every complete sync file in this directory and move each to DIR/done/ or DIR/failed/ (instead of naming files)")
	flags.BoolVar(&o.rebuild, "rebuild", false, "delete the prefix's rows and mapping first, then insert its full file afresh (new master IDs)")
	flags.BoolVar(&o.dryRun, "dry-run", false, "run every check and all the work, then roll back: print what would change, change nothing")
	flags.StringVar(&o.metricsFile, "metrics-file", "", "write Prometheus metrics to this file (for node_exporter's textfile collector), atomically")
	flags.StringVar(&o.signKeyFile, "sign-key-file", "", "file holding the key children sign with: unsigned or wrongly signed files are rejected (must not be readable by others)")
	flags.StringVar(&o.maxDelete, "max-delete", "10%", "refuse a file that would delete more than this share of the rows a prefix holds in any table (and more than 100 rows); 100% allows everything")
	flags.DurationVar(&o.keepDone, "keep-done", 0, "with --inbox: remove files from DIR/done/ once they and their application are older than this (e.g. 720h); never a file the ledger does not show as applied (default: keep all)")
	flags.DurationVar(&o.lockWaitTimeout, "lock-wait-timeout", 0, "how long one statement waits for a row lock held by another session before the file is tried again (default: the server's innodb_lock_wait_timeout)")
}

// filesOverInbox lets files named on the command line win over an inbox
// that comes from an option file: a shared "inbox=" must not stop
// "tributary import --defaults-file master.cnf FILE" (the command that
// applies a file --max-delete refused, say). A --keep-done from a file
// then has no done/ to clean.
func (o *importOptions) filesOverInbox(flags *pflag.FlagSet, files []string) {
	if len(files) == 0 || o.inbox == "" || setOnCommandLine(flags, "inbox") {
		return
	}
	o.inbox = ""
	if !setOnCommandLine(flags, "keep-done") {
		o.keepDone = 0
	}
}

func (o *importOptions) Check(args []string) error {
	switch {
	case o.mapName == "":
		return exitcode.Errorf(exitcode.Usage, "--map is required")
	case o.inbox != "" && len(args) > 0:
		return exitcode.Errorf(exitcode.Usage, "give either --inbox DIR or sync files, not both")
	case o.inbox != "" && o.rebuild:
		return exitcode.Errorf(exitcode.Usage, "--rebuild cannot be combined with --inbox: name the full file to rebuild from (tributary import --rebuild FILE)")
	case o.inbox == "" && len(args) == 0:
		return exitcode.Errorf(exitcode.Usage, "name at least one sync file, or --inbox DIR (see tributary import --help)")
	case o.lockWaitTimeout < 0:
		return exitcode.Errorf(exitcode.Usage, "--lock-wait-timeout must not be negative")
	case o.keepDone < 0:
		return exitcode.Errorf(exitcode.Usage, "--keep-done must not be negative")
	case o.keepDone > 0 && o.inbox == "":
		return exitcode.Errorf(exitcode.Usage, "--keep-done cleans the done/ directory of --inbox DIR: give --inbox too")
	}
	if _, err := importer.ParseDeleteLimit(o.maxDelete); err != nil {
		return err
	}
	if o.inbox != "" {
		if info, err := os.Stat(o.inbox); err != nil || !info.IsDir() {
			return exitcode.Errorf(exitcode.Usage, "--inbox %s: not an existing directory", o.inbox)
		}
	}
	for _, path := range args {
		if _, err := os.Stat(path); err != nil {
			return exitcode.Errorf(exitcode.Usage, "sync file %s: %v", path, errors.Unwrap(err))
		}
	}
	return nil
}

func newImportCommand() *cobra.Command {
	opts := &importOptions{}
	opts.conn = newConnectionOptions("master", "", "TRIBUTARY_DSN").withOptionFiles(&opts.files)
	c := &cobra.Command{
		Use:   "import [--defaults-file FILE] --dsn DSN --map MAP [--rebuild] [--dry-run] [-v] FILE... | --inbox DIR",
		Short: "Apply sync files on the master",
		Long:  importHelp + "\n\n" + optionFileHelp("import") + "\n\n" + exitCodesHelp,
		Args:  usageArgs(cobra.ArbitraryArgs),
		RunE: func(c *cobra.Command, args []string) error {
			opts.filesOverInbox(c.Flags(), args)
			return runImport(c.Context(), c, opts, args)
		},
	}
	opts.AddFlags(c.Flags())
	return c
}

const importHelp = `import applies sync files written by "tributary export" to the master
database. Files may be named in any order: they are applied in order of
(prefix, sequence). Each file is applied in one transaction, all of it or
nothing, and recorded in the table tributary_ledger.

For every row, import looks its child ID up in the prefix's mapping table
(mapping_master_PREFIX): a row seen before is updated in place, a new row is
inserted with an ID the master assigns, and the link is recorded. Every
reference is rewritten to master IDs; references to shared tables are
copied as they are. Rows the child deleted are deleted, with the rows they
own, and the child's ON DELETE SET NULL and CASCADE effects are repeated on
the master. A full file makes the prefix's rows equal to it, keeping the
master IDs of rows that survive; --rebuild deletes the prefix's rows and
mapping first and inserts everything afresh.

A file is rejected (exit 3), with the master unchanged, when it is damaged or
truncated, of an unknown format version, names a table or column the master's
map does not sync, leaves a gap after the last applied file (run
"tributary export --full" on the child to repair), claims a sequence already
applied with other content, is older than what the master holds, or holds a
value or a reference the master cannot store, or comes from another
database than the earlier files of its stream. A file that would delete more
than --max-delete (default 10%, and more than 100 rows) of the rows a prefix
holds in any table is refused the same way: a child restored from an empty
backup must not empty its branch; the message gives the counts and the
command that applies the file anyway. A file applied before is
recognised and skipped (exit 0). Imports of one prefix never run at the same
time: the second exits 75 at once. A deadlock or lock wait timeout is tried
again up to three times.

The mapping and ledger tables are created on the first import; after that an
account with SELECT, INSERT, UPDATE and DELETE on the database is enough.
Each file's outcome is one line on standard error ("updated" counts the
rows the server changed); -v adds one line per table, and gives warnings
that are otherwise given once (see docs/operations.md, Warnings once).

--inbox DIR applies every complete sync file in DIR, in order of (prefix,
sequence), ignoring dotfiles, *.tmp and other names (rsync and scp use those
while a transfer is in flight); names that hold ".jsonl" but are not sync
file names are listed in one warning. Before anything is applied it makes
sure files can move into DIR/done/ and DIR/failed/ (exit 2 if not). Each
applied or already applied file moves to DIR/done/; each rejected one to
DIR/failed/, with NAME.why beside it saying what went wrong, when, and
what to do. A file refused by --max-delete stays in DIR with NAME.why
beside it, and its prefix's later files wait behind it. A prefix stops at
its first file that is not applied (its later files wait in the inbox)
while other prefixes go on; a prefix whose lock is busy, or a failure that
is not the file's fault, leaves its files for the next run. The exit code
is 0 only when nothing failed. From cron, only problems are printed (-v
prints every file).

--keep-done DURATION (with --inbox) removes from DIR/done/ each file that
is older than DURATION and that the ledger shows as applied more than
DURATION ago, with the same checksum; a file the ledger does not show
(after the master was restored from a backup, say) is never removed, and a
warning names it.

--dry-run does every check and all the work of each file, then rolls it back
and prints, per table, what would change; the master's rows stay exactly as
they were (only AUTO_INCREMENT counters move, as with any rolled-back insert).
Of several files of one prefix only the first that would change something is
tried, since the next builds on it. With --inbox, nothing is moved.

--metrics-file FILE writes Prometheus metrics (last success and window end
per prefix, rows by table and operation, duration, rejected files) for
node_exporter's textfile collector; see docs/monitoring.md.

From cron, every ten minutes:

  */10 * * * * tributary import --defaults-file /etc/tributary/master.cnf

with /etc/tributary/master.cnf (chmod 640) holding [client] (the master's
connection) and [tributary-import] map=civicrm,
inbox=/var/spool/tributary/inbox. The package's tributary-import.timer runs
the same import every 10 minutes.`

// runImport imports and then writes the metrics file, whatever the
// outcome: a run that stops at a usage error (exit 2) is recorded too.
func runImport(ctx context.Context, c *cobra.Command, opts *importOptions, files []string) error {
	out := outputOf(c)
	started := time.Now()
	run := &importRun{opts: opts, out: out}
	err := run.do(ctx, c, files)
	if run.db != nil {
		defer run.db.Close()
	}
	if opts.metricsFile != "" && !opts.dryRun {
		var db *sql.DB
		if run.db != nil {
			db = run.db.DB
		}
		if merr := writeImportMetrics(ctx, opts.metricsFile, db, run.results, err, time.Since(started)); merr != nil {
			out.Warn(merr.Error())
		}
	}
	return err
}

// importRun is one import run: the connection it opened (closed by the
// caller, after the metrics) and each file's result.
type importRun struct {
	opts    *importOptions
	out     *output
	db      *sqlx.DB
	results []importer.Result
}

func (run *importRun) do(ctx context.Context, c *cobra.Command, files []string) error {
	opts, out := run.opts, run.out
	if err := opts.Check(files); err != nil {
		return err
	}
	m, err := schema.LoadMap(opts.mapName)
	if err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	key, err := readSignKey(opts.signKeyFile)
	if err != nil {
		return err
	}
	db, err := opts.conn.open(ctx, c.Flags(), out)
	if err != nil {
		return err
	}
	run.db = db
	s, err := schema.Resolve(ctx, db, m)
	if err != nil {
		return err
	}
	bar := out.progress()
	_, noTerminal := bar.(progress.Nop)
	limit, err := importer.ParseDeleteLimit(opts.maxDelete)
	if err != nil {
		return err
	}
	iopts := importer.Options{
		Rebuild:         opts.rebuild,
		DryRun:          opts.dryRun,
		MaxDelete:       limit,
		ApplyAnyway:     applyAnywayCommand(c.Flags()),
		SignKey:         key,
		LockWaitTimeout: opts.lockWaitTimeout,
		Progress:        importProgress(bar),
		Warn:            out.WarnFunc(),
		Verbose:         out.verbose,
	}
	var results []importer.Result
	if opts.inbox != "" {
		var inbox []importer.InboxFile
		inbox, err = importer.RunInbox(ctx, db.DB, s, opts.inbox, iopts)
		bar.End()
		printInbox(out, inbox, (out.verbose || !noTerminal) && !opts.dryRun)
		for _, f := range inbox {
			r := f.Result
			if f.Waiting && r.Err == nil {
				r.NotTried = true // left in the inbox, untouched
			}
			results = append(results, r)
		}
	} else {
		results, err = importer.Run(ctx, db.DB, s, files, iopts)
		bar.End()
		printResults(out, results, out.verbose || out.text(), opts.dryRun)
	}
	if opts.keepDone > 0 && !opts.dryRun && ctx.Err() == nil {
		pruneDone(ctx, out, db.DB, opts.inbox, opts.keepDone)
	}
	run.results = results
	if opts.dryRun {
		printDryRun(c.OutOrStdout(), results)
	}
	if err != nil && failed(results) == 0 {
		return err // it happened before any file: no line above says why
	}
	if err != nil && quietOnly(results) && !out.verbose {
		return exitcode.Told(exitcode.Code(err), err) // stale files told about on an earlier run
	}
	if err != nil {
		return exitcode.Wrap(exitcode.Code(err), fmt.Errorf("%d of %d files not applied (see above)", failed(results), len(results)))
	}
	return nil
}

// quietOnly reports whether every file that was not applied is a stale
// file told about on an earlier run.
func quietOnly(results []importer.Result) bool {
	for _, r := range results {
		if r.Err != nil && !r.Quiet {
			return false
		}
	}
	return true
}

// printInbox says what happened to each file of the inbox: problems
// always, applied files only when verbose (a quiet cron mail means all is
// well).
func printInbox(out *output, files []importer.InboxFile, verbose bool) {
	waiting := map[string]int{}
	for _, f := range files {
		name := filepath.Base(f.Path)
		switch {
		case f.Quiet && !verbose:
			// A stale file told about when it first came, sent again.
		case f.NotTried:
			out.Info(fmt.Sprintf("%s: not tried in this dry run (it follows a file of prefix %s whose changes a dry run does not keep)", name, f.Prefix), "file", name, "prefix", f.Prefix)
		case f.Err != nil && f.Why != "" && f.MovedTo == "" && out.text():
			out.Error(f.Err.Error())
			out.Error(fmt.Sprintf("%s stays in the inbox, and the later files of prefix %s wait behind it; %s says what to do", name, f.Prefix, f.Why))
		case f.Err != nil && f.Why != "" && f.MovedTo == "":
			out.Error(f.Err.Error(), "file", name, "prefix", f.Prefix, "sequence", f.Sequence, "exit_code", exitcode.Code(f.Err), "why", f.Why)
		case f.Err != nil && f.Why != "" && out.text():
			out.Error(f.Err.Error())
			out.Error(fmt.Sprintf("moved %s to %s; %s says what to do", name, filepath.Dir(f.MovedTo), f.Why))
		case f.Err != nil && f.Why != "":
			out.Error(f.Err.Error(), "file", name, "prefix", f.Prefix, "sequence", f.Sequence, "exit_code", exitcode.Code(f.Err), "moved_to", f.MovedTo, "why", f.Why)
		case f.Err != nil:
			out.Error(f.Err.Error(), "file", name, "prefix", f.Prefix, "sequence", f.Sequence, "exit_code", exitcode.Code(f.Err))
		case f.Waiting:
		case verbose:
			printResults(out, []importer.Result{f.Result}, true, false)
		}
		if f.Waiting && !f.NotTried {
			waiting[f.Prefix]++
		}
	}
	for _, prefix := range sortedKeys(waiting) {
		out.Warn(fmt.Sprintf("prefix %s: %d file(s) left in the inbox for the next run", prefix, waiting[prefix]), "prefix", prefix, "files", waiting[prefix])
	}
}

// pruneDone applies --keep-done. Its failures are warnings: the files it
// could not remove are still there for the next run.
func pruneDone(ctx context.Context, out *output, db *sql.DB, inbox string, keep time.Duration) {
	res, err := importer.PruneDone(ctx, db, inbox, keep, time.Now())
	if err != nil {
		out.Warn(err.Error())
	}
	if len(res.Removed) > 0 && out.verbose {
		out.Info(fmt.Sprintf("--keep-done: removed %d applied file(s) older than %s from %s", len(res.Removed), keep, filepath.Join(inbox, importer.DoneDir)),
			"removed", len(res.Removed))
	}
	for _, k := range res.Kept {
		out.FileWarn(k.Path, "kept in done/ although older than --keep-done: "+k.Reason)
	}
}

// printDryRun tells, per file and table, what an import would change.
func printDryRun(w io.Writer, results []importer.Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range results {
		name := filepath.Base(r.Path)
		switch {
		case r.NotTried:
			fmt.Fprintf(tw, "%s: not tried (it follows an earlier file of prefix %s)\n", name, r.Prefix)
		case r.Err != nil:
			fmt.Fprintf(tw, "%s: would be rejected or fail: %v\n", name, r.Err)
		case r.Skipped:
			fmt.Fprintf(tw, "%s: already applied; nothing would change\n", name)
		default:
			fmt.Fprintf(tw, "%s: would apply prefix %s sequence %d (%s): %d inserted, %d updated, %d deleted%s\n",
				name, r.Prefix, r.Sequence, r.Mode, r.Inserted, r.Updated, r.Deleted, sharedCounts(r.Matched, r.Renamed))
			fmt.Fprintln(tw, "  TABLE\tINSERT\tUPDATE\tDELETE\tMATCH\tRENAME")
			for _, t := range r.Tables {
				fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\n", t.Table, t.Inserted, t.Updated, t.Deleted, t.Matched, t.Renamed)
			}
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "dry run: everything was rolled back; the master is unchanged")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// readSignKey reads the shared signing key; like an option file, it must
// not be readable by other users.
func readSignKey(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "--sign-key-file: %v", err)
	}
	if info.Mode().Perm()&0o004 != 0 {
		return nil, exitcode.Errorf(exitcode.Usage, "--sign-key-file %s is readable by every user (mode %04o): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "--sign-key-file: %v", err)
	}
	key := []byte(strings.TrimSpace(string(b)))
	if len(key) == 0 {
		return nil, exitcode.Errorf(exitcode.Usage, "--sign-key-file %s is empty", path)
	}
	return key, nil
}

// importProgress shows each file as a phase of the terminal's progress bar.
func importProgress(r progress.Reporter) func(importer.Progress) {
	var path string
	var done int64
	return func(p importer.Progress) {
		if p.Path != path {
			if path != "" {
				r.End()
			}
			path, done = p.Path, 0
			r.Begin(filepath.Base(p.Path), -1)
		}
		r.Add(p.Records - done)
		done = p.Records
	}
}

// importedTable is one table of a file's record in JSON logs (-v).
type importedTable struct {
	Table    string `json:"table"`
	Inserted int64  `json:"inserted"`
	Updated  int64  `json:"updated"`
	Deleted  int64  `json:"deleted"`
	Matched  int64  `json:"matched,omitempty"`
	Renamed  int64  `json:"renamed,omitempty"`
}

// sharedCounts tells, after the usual counts, the rows a unique: policy
// matched to a master row (not inserted) or renamed; nothing when none.
func sharedCounts(matched, renamed int64) string {
	var s string
	if matched > 0 {
		s += fmt.Sprintf(", %d matched", matched)
	}
	if renamed > 0 {
		s += fmt.Sprintf(", %d renamed", renamed)
	}
	return s
}

// printResults writes each file's error and, when shown is set, a line
// per file applied, with -v one per table (in JSON logs: one record per
// file, its tables as a field). In a dry run only errors are written here
// (printDryRun tells the rest).
func printResults(out *output, results []importer.Result, shown, dryRun bool) {
	for _, r := range results {
		name := filepath.Base(r.Path)
		switch {
		case r.Quiet && !out.verbose:
		case r.Err != nil:
			out.Error(r.Err.Error(), "file", name, "prefix", r.Prefix, "sequence", r.Sequence, "exit_code", exitcode.Code(r.Err))
		case dryRun || r.NotTried || !shown:
		case r.Skipped:
			out.Info(fmt.Sprintf("%s: already applied (prefix %s, sequence %d); nothing changed", name, r.Prefix, r.Sequence),
				"file", name, "prefix", r.Prefix, "sequence", r.Sequence, "result", "already applied")
		default:
			attrs := []any{"file", name, "prefix", r.Prefix, "sequence", r.Sequence, "result", "applied", "mode", r.Mode,
				"records", r.Records, "inserted", r.Inserted, "updated", r.Updated, "deleted", r.Deleted, "seconds", r.Duration.Seconds()}
			if out.verbose {
				tables := make([]importedTable, 0, len(r.Tables))
				for _, t := range r.Tables {
					tables = append(tables, importedTable{Table: t.Table, Inserted: t.Inserted, Updated: t.Updated, Deleted: t.Deleted, Matched: t.Matched, Renamed: t.Renamed})
				}
				attrs = append(attrs, "tables", tables)
			}
			if r.Matched > 0 || r.Renamed > 0 {
				attrs = append(attrs, "matched", r.Matched, "renamed", r.Renamed)
			}
			out.Info(fmt.Sprintf("%s: applied prefix %s sequence %d (%s, %d records): %d inserted, %d updated, %d deleted in %.2f s%s",
				name, r.Prefix, r.Sequence, r.Mode, r.Records, r.Inserted, r.Updated, r.Deleted, r.Duration.Seconds(), sharedCounts(r.Matched, r.Renamed)), attrs...)
			if out.verbose {
				for _, t := range r.Tables {
					out.Detail("  %-40s %8d inserted %8d updated %8d deleted%s", t.Table, t.Inserted, t.Updated, t.Deleted, sharedCounts(t.Matched, t.Renamed))
				}
			}
		}
	}
}

// applyAnywayCommand renders the command that applies one file that
// --max-delete refused: this run's own flags as given (a password in a DSN
// hidden), without those that choose other files or only report, then
// --max-delete 100% and the file.
func applyAnywayCommand(flags *pflag.FlagSet) func(path string) string {
	args := []string{"tributary", "import"}
	flags.Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "inbox", "max-delete", "dry-run", "verbose", "rebuild", "metrics-file", "help", "keep-done":
			return
		}
		if _, fromFile := f.Annotations[fromOptionFile]; fromFile {
			return // --defaults-file, which is among these flags, sets it again
		}
		if f.Value.Type() == "bool" {
			args = append(args, "--"+f.Name)
			return
		}
		value := f.Value.String()
		if strings.HasSuffix(f.Name, "dsn") {
			value = hidePassword(value)
		}
		args = append(args, "--"+f.Name, shellQuote(value))
	})
	return func(path string) string {
		return strings.Join(args, " ") + " --max-delete 100% " + shellQuote(path)
	}
}

// hidePassword replaces a DSN's password with ***.
func hidePassword(dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil || cfg.Passwd == "" {
		return dsn
	}
	cfg.Passwd = "***"
	return cfg.FormatDSN()
}

// shellQuote quotes s for a POSIX shell when it holds anything but the
// characters of ordinary paths and names.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func failed(results []importer.Result) int {
	n := 0
	for _, r := range results {
		if r.Err != nil {
			n++
		}
	}
	return n
}
