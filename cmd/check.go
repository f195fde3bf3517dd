package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tributary/internal/exitcode"
	"tributary/schema"
	"tributary/verify"
)

type checkOptions struct {
	files        optionFileOptions
	conn, master *connectionOptions
	mapName      string
	showMap      bool
}

func (o *checkOptions) AddFlags(flags *pflag.FlagSet) {
	o.files.AddFlags(flags, "check", true)
	o.conn.AddFlags(flags)
	o.master.AddFlags(flags)
	flags.StringVar(&o.mapName, "map", "", "sync map file, or a built-in preset name ("+strings.Join(schema.PresetNames(), ", ")+")")
	flags.BoolVar(&o.showMap, "show-map", false, "print the map as resolved against this database, as YAML (a map file of its own), instead of the summary")
}

func (o *checkOptions) Check() error {
	if o.mapName == "" {
		return exitcode.Errorf(exitcode.Usage, "--map is required")
	}
	return nil
}

// masterGiven: the master is checked when a master connection is named,
// on the command line, in an option file or in the environment.
func (o *checkOptions) masterGiven() bool {
	return o.master.dsn != "" || o.master.defaultsFile != "" || os.Getenv(o.master.envVar) != ""
}

func newCheckCommand() *cobra.Command {
	opts := &checkOptions{master: newConnectionOptions("master", "master-", "TRIBUTARY_MASTER_DSN")}
	opts.conn = newConnectionOptions("database", "", "TRIBUTARY_DSN").withOptionFiles(&opts.files)
	c := &cobra.Command{
		Use:   "check --dsn DSN --map MAP [--master-dsn DSN]",
		Short: "Validate a sync map against a live database, and a master against a child",
		Long: `check reads the sync map, resolves it against the database's own tables,
columns, keys and foreign keys, and prints what export and import will do:
the release of the application it recognised (for a preset such as
civicrm), the tables in apply order (parents first), each table's role and
key, its references, and the references filled in a second pass because
they close a cycle. A preset fits every release of its application: it
chooses each table's role from the columns this release has, and says
which tables it sends whole because the release has no usable time stamp.
When the map does not fit, check lists every problem found, each naming
the table and column, and exits 2.

With --master-dsn (or --master-defaults-file, or TRIBUTARY_MASTER_DSN),
--dsn names a child and check also checks the master that child will feed,
before its first file: the map fits the master with the same roles and
keys; every synced column exists there with a type that holds the child's
values; every column the master requires is sent; each shared table holds
the same rows on both (references to them are copied verbatim, so a row
with another ID would silently point at the wrong row); and no unique key
of the master lets two children collide. Every problem is listed, exit 2.

Run it on each child after writing or changing a map, and with
--master-dsn before a child's first import. --show-map prints the map as
it resolved, as YAML: the tables in apply order with their roles, excluded
columns and the references the map names; save it to start a map of your
own.

` + optionFileHelp("check") + `

` + exitCodesHelp,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := opts.Check(); err != nil {
				return err
			}
			return runCheck(c.Context(), c, opts)
		},
	}
	opts.AddFlags(c.Flags())
	return c
}

func runCheck(ctx context.Context, c *cobra.Command, opts *checkOptions) error {
	m, err := schema.LoadMap(opts.mapName)
	if err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	db, err := opts.conn.open(ctx, c.Flags(), outputOf(c))
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := schema.Resolve(ctx, db, m)
	if err != nil {
		return err
	}
	if opts.showMap {
		text, err := schema.MapYAML(s)
		if err != nil {
			return err
		}
		_, err = c.OutOrStdout().Write(text)
		return err
	}
	out := c.OutOrStdout()
	fmt.Fprint(out, schema.Summary(s, m.Source))
	if !opts.masterGiven() {
		return nil
	}
	master, err := opts.master.open(ctx, c.Flags(), outputOf(c))
	if err != nil {
		return err
	}
	defer master.Close()
	return checkMaster(ctx, out, db, master, m, s)
}

// checkMaster checks the master against the child's resolved schema and
// its shared tables' rows, prints what it found, and returns every problem
// as one error (exit 2).
func checkMaster(ctx context.Context, out io.Writer, child, master *sqlx.DB, m *schema.Map, s *schema.Schema) error {
	var name string
	if err := master.GetContext(ctx, &name, "SELECT DATABASE()"); err != nil {
		return exitcode.Wrap(exitcode.Failure, fmt.Errorf("master: %w", err))
	}
	ms, problems, err := schema.CheckMaster(ctx, master, m, s)
	if err != nil {
		return exitcode.Wrap(exitcode.Failure, fmt.Errorf("master %s: %w", name, err))
	}
	fmt.Fprintf(out, "\nmaster %s", name)
	if ms != nil && ms.Release != nil {
		fmt.Fprintf(out, ": %s", ms.Release)
	}
	fmt.Fprintln(out)
	if ms != nil {
		shared, notes, err := sharedProblems(ctx, child, master, s.Shared)
		if err != nil {
			return exitcode.Wrap(exitcode.Failure, err)
		}
		problems = append(problems, shared...)
		for _, n := range notes {
			fmt.Fprintln(out, n)
		}
	}
	if len(problems) > 0 {
		return &schema.MasterProblemsError{Master: name, Problems: problems}
	}
	fmt.Fprintf(out, "the master can take this child's files: the same roles and keys, columns that hold the child's values, the same rows in %d shared tables, and no unique key two children could collide on\n", len(s.Shared))
	return nil
}

// maxNamed is how many differing rows of a shared table a problem names.
const maxNamed = 5

// sharedProblems compares every shared table; rows the child has and the
// master lacks or holds otherwise are problems, rows only the master has
// are harmless to this child and only noted.
func sharedProblems(ctx context.Context, child, master *sqlx.DB, tables []string) ([]schema.Problem, []string, error) {
	var problems []schema.Problem
	var notes []string
	for _, table := range tables {
		diffs, err := verify.Shared(ctx, child.DB, master.DB, table)
		if err != nil {
			return nil, nil, err
		}
		var missing, changed []string
		extra := 0
		for _, d := range diffs {
			switch d.Kind {
			case verify.Missing:
				missing = append(missing, d.Key)
			case verify.Changed:
				changed = append(changed, d.Key+" ("+strings.Join(d.Columns, ", ")+")")
			default:
				extra++
			}
		}
		if len(missing)+len(changed) > 0 {
			problems = append(problems, schema.Problem{Table: table, Message: sharedMessage(missing, changed)})
		}
		if extra > 0 {
			notes = append(notes, fmt.Sprintf("note: %s: %d rows only on the master (harmless to this child)", table, extra))
		}
	}
	return problems, notes, nil
}

func sharedMessage(missing, changed []string) string {
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d rows of this child are not on the master: %s", len(missing), named(missing)))
	}
	if len(changed) > 0 {
		parts = append(parts, fmt.Sprintf("%d rows differ: %s", len(changed), named(changed)))
	}
	return "shared table differs: " + strings.Join(parts, "; ") +
		". References to it are copied verbatim, so they would point at no row or at the wrong one: give the master the same rows, with the same IDs, before the first import"
}

func named(rows []string) string {
	if len(rows) <= maxNamed {
		return strings.Join(rows, ", ")
	}
	return strings.Join(rows[:maxNamed], ", ") + fmt.Sprintf(" and %d more", len(rows)-maxNamed)
}
