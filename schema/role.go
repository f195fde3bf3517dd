package schema

// DetectChecksum is the value of a table's detect: key that turns on
// change detection by digests of its rows.
const DetectChecksum = "checksum"

// presetRole chooses the role of a preset's table whose map names a track
// column, from what the installed release has. A DATETIME or TIMESTAMP
// stamp finds changed rows: track. A stamp that is a DATE cannot place a
// change inside a window, and a table without the stamp has nothing to
// find changes by: the whole table travels (snapshot), and note says why.
// Any other type stays track, so that check reports the column.
//
// This is the one place where a release's columns decide a role. Such a
// snapshot also gets `detect: checksum` (resolver.table), so it travels
// only when it changed.
func presetRole(cols []Column, track string) (role Role, note string) {
	for _, c := range cols {
		if c.Name != track {
			continue
		}
		if c.DataType == "date" {
			return RoleSnapshot, track + " is a DATE in this release"
		}
		return RoleTrack, ""
	}
	return RoleSnapshot, "no " + track + " in this release"
}
