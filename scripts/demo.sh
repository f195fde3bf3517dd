#!/usr/bin/env bash
# A guided tour: two CiviCRM branch databases (nyc, sf) synced into one
# master, on a throwaway MariaDB that is removed at the end. Needs nothing
# but this repository, Go, and (installed if missing, as root) MariaDB.
# It never touches another MariaDB running on this machine: it starts its
# own server on a free port, with its own socket and data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/mariadb.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
tell() { printf '%s\n' "$*" | fold -s -w 78; }
# run shows a command as you would type it (quoted, $DEMO for the demo's
# directory), then runs it.
run() {
	local shown=() arg
	for arg in "$@"; do
		if [[ $arg =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then shown+=("$arg"); else shown+=("'$arg'"); fi
	done
	printf '\n$ %s\n' "${shown[*]}" | sed "s#$work#\$DEMO#g"
	"$@"
}
# runsql DB SQL: shows and runs SQL on one of the demo's databases.
runsql() {
	printf '\n$ mariadb %s <<SQL\n%s\nSQL\n' "$1" "$2"
	sql "$1" -e "$2"
}

work=$(mktemp -d /tmp/tributary-demo.XXXXXX)
say "Starting a throwaway MariaDB server (it disappears when the demo ends)"
mariadb_start
cleanup() { mariadb_stop; rm -rf "$work"; }
trap cleanup EXIT # after mariadb_start, which sets its own trap
trap 'cleanup; exit 130' INT TERM
sql() { mariadb --no-defaults -uroot --socket="$MARIADB_SOCKET" "$@"; }
tell "Everything below lives in \$DEMO=$work and is removed at the end."

say "Building tributary and the CiviCRM test-data generator"
go build -o "$work/tributary" .
go build -o "$work/civgen" ./testdata/civicrm/cmd/civgen
trib="$work/tributary"

say "Creating two branch databases with CiviCRM's tables and generated contacts, and an empty master"
tell "Credentials go into MySQL option files readable only by their owner
(chmod 600), never on the command line where 'ps' shows them to everyone:
that is how you would set tributary up for cron."
for db in nyc sf master; do
	sql -e "CREATE DATABASE $db CHARACTER SET utf8mb4"
	printf '[client]\nuser=root\nhost=127.0.0.1\nport=%s\ndatabase=%s\n' "$MARIADB_PORT" "$db" >"$work/$db.cnf"
	chmod 600 "$work/$db.cnf"
done
"$work/civgen" --dsn "root@tcp(127.0.0.1:$MARIADB_PORT)/nyc" --create-schema --contacts 300 --seed 1 2>/dev/null
"$work/civgen" --dsn "root@tcp(127.0.0.1:$MARIADB_PORT)/sf" --create-schema --contacts 200 --seed 2 2>/dev/null
"$work/civgen" --dsn "root@tcp(127.0.0.1:$MARIADB_PORT)/master" --create-schema 2>/dev/null
tell "nyc has $(sql -N nyc -e 'SELECT COUNT(*) FROM civicrm_contact') contacts, sf has $(sql -N sf -e 'SELECT COUNT(*) FROM civicrm_contact'); the master has none."

say "Branches that name things alike"
tell "Each branch numbers its external identifiers from 1 and names its groups,
tags and saved searches alike ('Newsletter', 'Volunteers'). The master keeps
every CiviCRM unique key: the civicrm map matches tags (one 'Volunteers' tag
that every branch's contacts carry) and renames the rest ('Newsletter (nyc)',
'Newsletter (sf)'), so each branch's groups keep only its own members.
tributary never changes your schema."

say "Checking that the built-in civicrm map fits a branch database"
tell "'check' resolves the map against the live tables and prints the plan:
tables in apply order, their roles, and the references filled in a second
pass because they close a cycle (a contact's employer is a contact)."
run "$trib" check --defaults-file "$work/nyc.cnf" --map civicrm | sed -n 1,12p
echo "  ..."

mkdir -p "$work/nyc-out" "$work/sf-out" "$work/inbox"
# export_and_ship PREFIX: what cron does on a branch: export, then move the
# sync files (never the state, lock or temporary dotfiles) to the master.
export_and_ship() {
	run "$trib" export --defaults-file "$work/$1.cnf" --prefix "$1" --map civicrm --out "$work/$1-out" --lag 1s
	if command -v rsync >/dev/null 2>&1; then
		run rsync -a --remove-source-files --exclude '.*' --exclude '*.tmp' "$work/$1-out/" "$work/inbox/"
		return
	fi
	# No rsync here: do what it does, a temporary dot-name, then a rename.
	local f
	for f in "$work/$1-out"/*.jsonl*; do
		run cp "$f" "$work/inbox/.$(basename "$f").partial"
		run mv "$work/inbox/.$(basename "$f").partial" "$work/inbox/$(basename "$f")"
		rm "$f"
	done
}

say "First sync: each branch exports everything (it has no state file yet)"
tell "export writes one sync file and prints its path. The branch remembers
where it stopped in a small state file (.tributary-PREFIX.state, beside the
files); the next export sends only what changed since. rsync moves the
files, not the dotfiles, and writes under a temporary dot-name until a file
is complete, so the master never sees half a file."
export_and_ship nyc
export_and_ship sf
tell "(The warning is expected: a few generated notes are attached to CiviCRM
cases, which the civicrm map does not sync; export says how many rows it
left out, and why.)"
run ls -A "$work/nyc-out" "$work/inbox"

say "The master imports its inbox"
tell "Each file is applied in one transaction: all of it or nothing. Child IDs
become new master IDs, and one mapping table per branch
(mapping_master_nyc, mapping_master_sf) remembers which is which. Applied
files move to inbox/done/. Under cron this prints nothing when all is well;
here, on a terminal, it tells what it did."
run "$trib" import --defaults-file "$work/master.cnf" --map civicrm --inbox "$work/inbox" -v
tell "The master now has $(sql -N master -e 'SELECT COUNT(*) FROM civicrm_contact') contacts: both branches, side by side."
run ls "$work/inbox/done"

say "What the master knows about each branch"
tell "status shows, per branch, the last file applied, the window of time it
covers, how old the newest data is (lag), and the rows it holds per table.
(status --json gives the same for monitoring scripts.)"
run "$trib" status --defaults-file "$work/master.cnf"

say "Life goes on in the nyc branch: a name is corrected, a contact deleted, a new contact added with an address"
runsql nyc "UPDATE civicrm_contact SET first_name = 'Zoë', display_name = CONCAT('Zoë ', last_name)
  WHERE id = (SELECT id FROM (SELECT MIN(id) AS id FROM civicrm_contact WHERE contact_type = 'Individual') x);
SET @gone = (SELECT MAX(id) FROM civicrm_contact WHERE contact_type = 'Individual');
DELETE FROM civicrm_entity_tag WHERE entity_table = 'civicrm_contact' AND entity_id = @gone;
DELETE FROM civicrm_contact WHERE id = @gone;
INSERT INTO civicrm_contact (contact_type, first_name, last_name, display_name, sort_name)
  VALUES ('Individual', 'Ada', 'Lovelace', 'Ada Lovelace', 'Lovelace, Ada');
INSERT INTO civicrm_address (contact_id, location_type_id, is_primary, street_address, city, postal_code, country_id)
  VALUES (LAST_INSERT_ID(), 1, 1, '12 St James''s Square', 'London', 'SW1Y 4JH', 1226);"
tell "Done with plain SQL here, the way CiviCRM does it (deleting a contact
also removes its tags, which point at it by name and ID, without a foreign
key). The branch's triggers move each changed contact's modified_date, which
is how export finds the changes."
sleep 2 # the export window ends a moment in the past (--lag) so that commits in flight are not missed

say "Second sync: nyc exports only what changed since its last window"
tell "Before applying it for real, a dry run shows what the file would change
on the master, and changes nothing:"
export_and_ship nyc
file=$(ls "$work/inbox"/nyc-*.jsonl.gz)
run "$trib" import --defaults-file "$work/master.cnf" --map civicrm --dry-run "$file"
tell "Now for real, as cron would run it:"
run "$trib" import --defaults-file "$work/master.cnf" --map civicrm --inbox "$work/inbox" -v
run "$trib" status --defaults-file "$work/master.cnf"

say "Verifying that the master holds exactly nyc's rows"
tell "verify compares the branch with its rows on the master, through the
mapping table: both servers checksum chunks of rows, and only chunks that
differ are read row by row. It reports table, IDs and column names of any
difference, never the values (they are people's personal data)."
run "$trib" verify --child-defaults-file "$work/nyc.cnf" --master-defaults-file "$work/master.cnf" --prefix nyc --map civicrm

say "And what a difference looks like"
tell "Someone edits a branch's row directly on the master (the master's copy is
meant to be read-only):"
runsql master "UPDATE civicrm_contact SET nick_name = 'oops'
  WHERE id = (SELECT master_entity_id FROM mapping_master_sf
              WHERE entity_table = 'civicrm_contact' ORDER BY child_entity_id LIMIT 1);"
status=0
run "$trib" verify --child-defaults-file "$work/sf.cnf" --master-defaults-file "$work/master.cnf" --prefix sf --map civicrm || status=$?
tell "verify exited $status: 0 means equal, 1 means differences (as listed).
The next full export of sf (tributary export --full) would put it right."

say "Done"
tell "In production, cron runs export and rsync on each branch and
'import --inbox' on the master; see README.md for the cron lines,
the accounts each side needs, monitoring and what each exit code means.
The throwaway server and \$DEMO are removed now."
