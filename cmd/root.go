// Package cmd holds tributary's command line: one file per command, each a
// thin layer that reads flags and calls a domain package.
package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"tributary/internal/exitcode"
	"tributary/internal/version"
)

const exitCodesHelp = `Exit codes:
  0    success (also: the file was already applied)
  1    failure (database unreachable, disk full, ...)
  2    usage or configuration error (unknown command, bad flag, bad map)
  3    input file rejected (corrupt, truncated, gap in sequence); master unchanged
  75   another run holds the lock; cron may simply try again later
  130  interrupted (Ctrl-C, SIGTERM); everything was rolled back`

// NewRootCommand builds the tributary command tree. stamped is the
// release version given at link time ("dev" when none was); the commit
// and its date come from the build information Go records.
func NewRootCommand(stamped string) *cobra.Command {
	build := version.Read(stamped)
	out := &outputOptions{}
	root := &cobra.Command{
		Use:   "tributary",
		Short: "Keep one master MySQL/MariaDB database filled with the data of many child databases",
		Long: `tributary keeps one master MySQL/MariaDB database filled with the data of
many child databases. Each child runs "tributary export" from cron and writes a
sync file; your own transport (rsync, scp) moves it; the master runs
"tributary import" from cron, which applies it and keeps one mapping table per
child prefix linking child IDs to master IDs.

` + exitCodesHelp,
		Version:       build.Short(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Runnable, so that cobra checks its arguments: a mistyped command
		// is a usage error (exit 2), and "tributary" alone shows the help.
		Args:                       unknownCommand,
		RunE:                       func(c *cobra.Command, _ []string) error { return c.Help() },
		SuggestionsMinimumDistance: 2,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			if err := applyOptionFiles(c); err != nil {
				return err
			}
			return out.Check()
		},
	}
	out.AddFlags(root.PersistentFlags())
	// --version stays long only: -v is --verbose in every command.
	root.Flags().Bool("version", false, "print the version, the commit and its date, and whether the tree was modified")
	root.SetVersionTemplate(build.String())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if !c.HasParent() && c.Flags().NArg() > 0 {
			// "tributary exprot --dsn ...": the command is what is wrong.
			return unknownCommand(c, c.Flags().Args())
		}
		return exitcode.Errorf(exitcode.Usage, "%v (see %s --help)", err, c.CommandPath())
	})
	root.AddCommand(newCheckCommand(), newExportCommand(), newImportCommand(), newStatusCommand(), newVerifyCommand(),
		newMapCommand(), newManCommand(build))
	return root
}

// unknownCommand refuses any argument of the root command: it can only be
// a command tributary does not have.
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := ""
	if near := c.SuggestionsFor(args[0]); len(near) > 0 {
		hint = "did you mean " + strings.Join(near, " or ") + "? "
	}
	return exitcode.Errorf(exitcode.Usage, "unknown command %q (%ssee %s --help)", args[0], hint, c.CommandPath())
}

// usageArgs wraps a positional-argument validator so its errors exit 2.
func usageArgs(validate cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := validate(c, args); err != nil {
			return exitcode.Errorf(exitcode.Usage, "%v (see %s --help)", err, c.CommandPath())
		}
		return nil
	}
}
