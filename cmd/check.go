package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tributary/internal/exitcode"
	"tributary/schema"
)

type checkOptions struct {
	files   optionFileOptions
	conn    *connectionOptions
	mapName string
	showMap bool
}

func (o *checkOptions) AddFlags(flags *pflag.FlagSet) {
	o.files.AddFlags(flags, "check", true)
	o.conn.AddFlags(flags)
	flags.StringVar(&o.mapName, "map", "", "sync map file, or a built-in preset name ("+strings.Join(schema.PresetNames(), ", ")+")")
	flags.BoolVar(&o.showMap, "show-map", false, "print the map as resolved against this database, as YAML (a map file of its own), instead of the summary")
}

func (o *checkOptions) Check() error {
	if o.mapName == "" {
		return exitcode.Errorf(exitcode.Usage, "--map is required")
	}
	return nil
}

func newCheckCommand() *cobra.Command {
	opts := &checkOptions{}
	opts.conn = newConnectionOptions("database", "", "TRIBUTARY_DSN").withOptionFiles(&opts.files)
	c := &cobra.Command{
		Use:   "check --dsn DSN --map MAP",
		Short: "Validate a sync map against a live database",
		Long: `check reads the sync map, resolves it against the database's own tables,
columns, keys and foreign keys, and prints what export and import will do:
the tables in apply order (parents first), each table's role and key, its
references, and the references filled in a second pass because they close a
cycle. When the map does not fit, check lists every problem found, each naming
the table and column, and exits 2.

Run it on a child after writing or changing a map, and on the master before
the first import. --show-map prints the map as it resolved, as YAML: the
tables in apply order with their roles, excluded columns and the references
the map names; save it to start a map of your own.

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
	fmt.Fprint(c.OutOrStdout(), schema.Summary(s, m.Source))
	return nil
}
