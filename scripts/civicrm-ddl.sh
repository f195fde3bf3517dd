#!/usr/bin/env bash
# Checks the civicrm preset against CiviCRM's real schema, one release at a
# time: scripts/civicrm-ddl.sh [--group] DIR
#
# DIR holds one DDL file per release, as CiviCRM generates it
# (sql/civicrm.mysql of a release tarball), named RELEASE.mysql,
# civicrm-RELEASE.mysql or RELEASE/civicrm.mysql. For each release, on a
# throwaway MariaDB, the script loads the DDL into an empty database,
# records the release in civicrm_domain as an installed CiviCRM does, runs
# `tributary check --map civicrm`, and prints one row of a Markdown table:
# the release, whether the preset fits, the releases its columns say it
# is, and the tables it tracks (the others are owned or sent whole, the
# same in every release). --group folds consecutive releases with the
# same outcome into one row.
#
# The DDL is CiviCRM's code: keep it outside this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/mariadb.sh

group=0
if [ "${1:-}" = "--group" ]; then
	group=1
	shift
fi
dir=${1:-}
if [ -z "$dir" ] || [ ! -d "$dir" ] || [ $# -ne 1 ]; then
	echo "usage: scripts/civicrm-ddl.sh [--group] DIR   (DIR holds RELEASE.mysql files)" >&2
	exit 2
fi

# releases prints "RELEASE<TAB>FILE" for every DDL file of DIR, oldest first.
releases() {
	local f name
	for f in "$dir"/*.mysql "$dir"/*/civicrm.mysql; do
		[ -f "$f" ] || continue
		case $f in
		*/civicrm.mysql) name=$(basename "$(dirname "$f")") ;;
		*) name=$(basename "$f" .mysql) ;;
		esac
		name=${name#civicrm-}
		printf '%s\t%s\n' "$name" "$f"
	done | sort -V -k1,1
}

if [ -z "$(releases)" ]; then
	echo "no RELEASE.mysql files in $dir" >&2
	exit 2
fi

work=$(mktemp -d /tmp/tributary-civicrm-ddl.XXXXXX)
mariadb_start
cleanup() { mariadb_stop; rm -rf "$work"; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
sql() { mariadb --no-defaults -uroot --socket="$MARIADB_SOCKET" "$@"; }
go build -o "$work/tributary" .

# checkRelease prints "RELEASE|FITS|COLUMNS|TRACKED" for one DDL file.
checkRelease() {
	local release=$1 file=$2 db=civicrm_ddl out code fits columns tracked
	sql -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8mb4"
	if ! sql "$db" <"$file" 2>"$work/load.err"; then
		printf '%s|no: the DDL does not load (%s)|-|-\n' "$release" "$(head -c 120 "$work/load.err" | tr '\n|' '  ')"
		return
	fi
	sql "$db" -e "INSERT INTO civicrm_domain (name, version) VALUES ('Default Domain Name', '$release')"
	code=0
	"$work/tributary" check --dsn "root@tcp(127.0.0.1:$MARIADB_PORT)/$db" --map civicrm >"$work/out" 2>"$work/err" || code=$?
	columns=$(sed -n 's/^release: .*its columns are those of \(.*\))$/\1/p' "$work/out")
	if [ "$code" = 0 ]; then
		fits=yes
		grep -q '^warning:' "$work/out" && fits="yes, but $(sed -n 's/^warning: //p' "$work/out" | head -1)"
		tracked=$(awk '$3 == "track" { sub(/^civicrm_/, "", $2); printf "%s%s", sep, $2; sep = ", " }' "$work/out")
	else
		fits="no (exit $code): $(sed -n '2p' "$work/err" | sed 's/^ *//' | cut -c1-160)"
		tracked=-
	fi
	printf '%s|%s|%s|%s\n' "$release" "$fits" "${columns:--}" "$tracked"
}

rows=$work/rows
releases | while IFS=$'\t' read -r release file; do
	echo "== $release" >&2
	checkRelease "$release" "$file" >>"$rows"
done
sql -e "DROP DATABASE IF EXISTS civicrm_ddl"

echo "| release | fits | its columns are those of | tracked (the other tables are owned or sent whole) |"
echo "|---|---|---|---|"
if [ "$group" = 0 ]; then
	awk -F'|' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$rows"
	exit 0
fi
# Fold runs of releases whose outcome is the same (the fits column without
# the release's own version in it).
awk -F'|' '
function flush() {
	if (n == 0) return
	name = (n == 1) ? first : first " to " last " (" n " releases)"
	printf "| %s | %s | %s | %s |\n", name, fits, cols, tracked
}
{
	outcome = $2; gsub(/[0-9]+\.[0-9]+\.[0-9]+(\.[a-z0-9]+)?/, "X", outcome)
	key = outcome "|" $3 "|" $4
	if (key != prev) { flush(); n = 0; first = $1; fits = $2; cols = $3; tracked = $4; prev = key }
	n++; last = $1
}
END { flush() }' "$rows"
