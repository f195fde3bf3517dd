#!/usr/bin/env bash
# The import tests once more on the path that MySQL 8 and TiDB take: no
# INSERT ... RETURNING (TRIBUTARY_NO_RETURNING=1 makes MariaDB take it too),
# each new row's master ID read from its own INSERT, on a throwaway server
# with innodb_autoinc_lock_mode=2 (MySQL 8's default: a multi-row INSERT's
# IDs need not be consecutive). .ci/run calls it after scripts/test.sh.
# Extra arguments go to "go test".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/mariadb.sh

MARIADB_EXTRA_ARGS="--innodb-autoinc-lock-mode=2"
mariadb_start
mode=$(mariadb --no-defaults -uroot --socket="$MARIADB_SOCKET" -N -B -e 'SELECT @@innodb_autoinc_lock_mode')
if [ "$mode" != 2 ]; then
	echo "the test server runs with innodb_autoinc_lock_mode=$mode, not 2" >&2
	exit 1
fi
export TRIBUTARY_TEST_DSN="$MARIADB_DSN" TRIBUTARY_TEST_REQUIRE_DB=1 TRIBUTARY_NO_RETURNING=1
echo "== go test -race, without RETURNING, innodb_autoinc_lock_mode=2 (database: root@...)" >&2
go test -race -count=1 -p 1 -timeout 30m "$@" ./importer/... ./cmd/...
