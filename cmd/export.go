package cmd

import (
	"github.com/spf13/cobra"

	"tributary/internal/exitcode"
)

// newExportCommand is being written (issue 3); until then it says so.
func newExportCommand() *cobra.Command {
	return &cobra.Command{Use: "export", Short: "Write a sync file of a child's changes", RunE: func(*cobra.Command, []string) error {
		return exitcode.Errorf(exitcode.Usage, "export is not available in this build")
	}}
}
