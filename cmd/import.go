package cmd

import (
	"github.com/spf13/cobra"

	"tributary/internal/exitcode"
)

// newImportCommand is being written (issue 4); until then it says so.
func newImportCommand() *cobra.Command {
	return &cobra.Command{Use: "import", Short: "Apply sync files on the master", RunE: func(*cobra.Command, []string) error {
		return exitcode.Errorf(exitcode.Usage, "import is not available in this build")
	}}
}
