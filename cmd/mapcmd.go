package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"tributary/internal/exitcode"
	"tributary/schema"
)

func newMapCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "map",
		Short: "Show the built-in sync maps",
		Long: `map shows the built-in sync maps (presets), to read what they sync or to
start a map of your own:

  tributary map list
  tributary map show civicrm > /etc/tributary/ourmap.yaml

Edit the copy and name it with --map /etc/tributary/ourmap.yaml. To see a
map as it resolves against one database (the roles and references a
preset chose for that release), run "tributary check --show-map".

` + exitCodesHelp,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the built-in sync maps",
		Long:  "list prints the name of every built-in sync map, one per line.\n\n" + exitCodesHelp,
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(c.OutOrStdout(), strings.Join(schema.PresetNames(), "\n"))
			return nil
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "show PRESET",
		Short: "Print a built-in sync map as YAML",
		Long: `show prints a built-in sync map (` + strings.Join(schema.PresetNames(), ", ") + `) as it
is written, comments included, on standard output.

` + exitCodesHelp,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			text, err := schema.PresetText(args[0])
			if err != nil {
				return exitcode.Wrap(exitcode.Usage, err)
			}
			_, err = c.OutOrStdout().Write(text)
			return err
		},
	})
	return c
}
