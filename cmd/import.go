package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tributary/importer"
	"tributary/internal/exitcode"
	"tributary/internal/progress"
	"tributary/schema"
)

type importOptions struct {
	conn            *connectionOptions
	mapName         string
	rebuild         bool
	verbose         bool
	signKeyFile     string
	lockWaitTimeout time.Duration
}

func (o *importOptions) AddFlags(flags *pflag.FlagSet) {
	o.conn.AddFlags(flags)
	flags.StringVar(&o.mapName, "map", "", "sync map file, or a built-in preset name ("+strings.Join(schema.PresetNames(), ", ")+")")
	flags.BoolVar(&o.rebuild, "rebuild", false, "delete the prefix's rows and mapping first, then insert its full file afresh (new master IDs)")
	flags.BoolVarP(&o.verbose, "verbose", "v", false, "print each table's inserted, updated and deleted rows on standard error")
	flags.StringVar(&o.signKeyFile, "sign-key-file", "", "file holding the key children sign with: unsigned or wrongly signed files are rejected (must not be readable by others)")
	flags.DurationVar(&o.lockWaitTimeout, "lock-wait-timeout", 0, "how long one statement waits for a row lock held by another session before the file is tried again (default: the server's innodb_lock_wait_timeout)")
}

func (o *importOptions) Check(args []string) error {
	switch {
	case o.mapName == "":
		return exitcode.Errorf(exitcode.Usage, "--map is required")
	case len(args) == 0:
		return exitcode.Errorf(exitcode.Usage, "name at least one sync file (see tributary import --help)")
	case o.lockWaitTimeout < 0:
		return exitcode.Errorf(exitcode.Usage, "--lock-wait-timeout must not be negative")
	}
	for _, path := range args {
		if _, err := os.Stat(path); err != nil {
			return exitcode.Errorf(exitcode.Usage, "sync file %s: %v", path, errors.Unwrap(err))
		}
	}
	return nil
}

func newImportCommand() *cobra.Command {
	opts := &importOptions{conn: newConnectionOptions("master", "", "TRIBUTARY_DSN")}
	c := &cobra.Command{
		Use:   "import --dsn DSN --map MAP [--rebuild] [-v] FILE...",
		Short: "Apply sync files on the master",
		Long:  importHelp,
		Args:  usageArgs(cobra.ArbitraryArgs),
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.Check(args); err != nil {
				return err
			}
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
value or a reference the master cannot store. A file applied before is
recognised and skipped (exit 0). Imports of one prefix never run at the same
time: the second exits 75 at once. A deadlock or lock wait timeout is tried
again up to three times.

The mapping and ledger tables are created on the first import; after that an
account with SELECT, INSERT, UPDATE and DELETE on the database is enough.
Each file's outcome is one line on standard error; -v adds one line per table.

From cron, every ten minutes, moving applied files out of the inbox:

  */10 * * * * cd /var/spool/tributary/inbox && ls *.jsonl* >/dev/null 2>&1 && tributary import --defaults-file /etc/tributary/master.cnf --map civicrm *.jsonl* && mv *.jsonl* ../done/

` + exitCodesHelp

func runImport(ctx context.Context, c *cobra.Command, opts *importOptions, files []string) error {
	stderr := c.ErrOrStderr()
	m, err := schema.LoadMap(opts.mapName)
	if err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	key, err := readSignKey(opts.signKeyFile)
	if err != nil {
		return err
	}
	db, err := opts.conn.open(ctx, c.Flags(), stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := schema.Resolve(ctx, db, m)
	if err != nil {
		return err
	}
	bar := progress.ForTerminal(stderr)
	results, err := importer.Run(ctx, db.DB, s, files, importer.Options{
		Rebuild:         opts.rebuild,
		SignKey:         key,
		LockWaitTimeout: opts.lockWaitTimeout,
		Progress:        importProgress(bar),
		Warn:            func(msg string) { fmt.Fprintf(stderr, "tributary: %s\n", msg) },
	})
	bar.End()
	printResults(stderr, results, opts.verbose)
	if err != nil {
		return exitcode.Wrap(exitcode.Code(err), fmt.Errorf("%d of %d files not applied (see above)", failed(results), len(results)))
	}
	return nil
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

// printResults writes one line per file, and with verbose one per table.
func printResults(w io.Writer, results []importer.Result, verbose bool) {
	for _, r := range results {
		name := filepath.Base(r.Path)
		switch {
		case r.Err != nil:
			fmt.Fprintf(w, "tributary: %v\n", r.Err)
		case r.Skipped:
			fmt.Fprintf(w, "tributary: %s: already applied (prefix %s, sequence %d); nothing changed\n", name, r.Prefix, r.Sequence)
		default:
			fmt.Fprintf(w, "tributary: %s: applied prefix %s sequence %d (%s, %d records): %d inserted, %d updated, %d deleted in %.2f s\n",
				name, r.Prefix, r.Sequence, r.Mode, r.Records, r.Inserted, r.Updated, r.Deleted, r.Duration.Seconds())
			if verbose {
				for _, t := range r.Tables {
					fmt.Fprintf(w, "  %-40s %8d inserted %8d updated %8d deleted\n", t.Table, t.Inserted, t.Updated, t.Deleted)
				}
			}
		}
	}
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
