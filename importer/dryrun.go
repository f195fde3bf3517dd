package importer

import "errors"

// errDryRun ends a dry run's transaction: returned from inside it, it makes
// the transaction roll back after all the work was done and counted.
var errDryRun = errors.New("dry run: rolled back")

// dryRunRest marks the files after a dry-run file of the same prefix as not
// tried: each builds on the one before, whose changes a dry run does not keep.
func dryRunRest(rest []Result) {
	for i := range rest {
		rest[i].NotTried = true
	}
}
