#!/usr/bin/env bash
# The cluster tests (docs/cluster.md): starts a throwaway
# 3-node MariaDB Galera cluster on loopback (installing Debian's galera-4
# first when it is missing and this runs as root), runs the tests of
# cmd/cluster_test.go against it with one DSN per node, and stops every
# node on exit. .ci/run calls it after scripts/test.sh. Extra arguments go
# to "go test" (e.g. -run TestClusterRoundTrip).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/galera.sh

galera_start
export TRIBUTARY_CLUSTER_DSNS="$GALERA_DSNS"
# The single-server helpers (child databases, the binary) use node 1.
export TRIBUTARY_TEST_DSN="${GALERA_DSNS%%,*}"
export TRIBUTARY_TEST_REQUIRE_DB=1
echo "== go test -race -tags cluster (nodes: $GALERA_DSNS)" >&2
go test -race -count=1 -p 1 -timeout 30m -tags cluster -run 'TestCluster' -v "$@" ./cmd |
	grep -v '^=== ' || { echo "cluster tests failed" >&2; exit 1; }
