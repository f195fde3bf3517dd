#!/usr/bin/env bash
# Checks that go.mod's go line is the Go release the project needs and no
# more: it builds and vets with exactly that release (fetched from the Go
# module proxy as golang.org/toolchain, once), go.mod has no toolchain line
# (which would make every other Go download one), and it names the modules
# whose own go line sets the floor. Needs the module proxy; not part of
# scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

floor=$(awk '$1 == "go" { print $2; exit }' go.mod)
if grep -q '^toolchain ' go.mod; then
	echo "go-floor: go.mod has a toolchain line; remove it (go mod edit -toolchain=none)" >&2
	exit 1
fi
echo "== go $floor: build and vet with go$floor" >&2
GOTOOLCHAIN=go$floor go build ./...
GOTOOLCHAIN=go$floor go vet ./... ./testdata/civicrm/...
echo "== modules whose go line is $floor (what keeps the floor there)" >&2
go list -m -f '{{if not .Main}}{{.Path}} {{.Version}} {{.GoVersion}}{{end}}' all |
	awk -v floor="$floor" '$3 == floor || $3 ".0" == floor'
echo "go-floor: go $floor builds tributary"
