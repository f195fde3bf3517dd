#!/usr/bin/env bash
# The one test command (README, .ci/run). Uses TRIBUTARY_TEST_DSN when set;
# otherwise starts a throwaway MariaDB in a temporary directory on a free
# port, runs vet and the race-enabled tests against it, and stops it on exit,
# also on failure. Extra arguments go to "go test" (e.g. -run TestExport).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/mariadb.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

# The Debian package's test (./packaging) builds the package with dpkg-deb.
if ! command -v dpkg-deb >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "== installing dpkg (dpkg-deb) for the package test" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpkg >/dev/null
fi

if [ -z "${TRIBUTARY_TEST_DSN:-}" ]; then
	mariadb_start
	export TRIBUTARY_TEST_DSN="$MARIADB_DSN"
fi
export TRIBUTARY_TEST_REQUIRE_DB=1

packages=(./... ./testdata/civicrm/...)
echo "== go vet" >&2
go vet "${packages[@]}"
echo "== go test -race (database: ${TRIBUTARY_TEST_DSN%%@*}@...)" >&2
# -p 1: packages one at a time. Export never lets a window pass the oldest
# transaction open anywhere on the server, so one package's long import
# would hold back another's windows and make its timing-free tests wait.
go test -race -count=1 -p 1 -timeout 30m "$@" "${packages[@]}"
