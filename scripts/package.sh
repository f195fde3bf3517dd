#!/usr/bin/env bash
# Builds the Debian package: scripts/package.sh [OUTDIR] writes
# OUTDIR/tributary_<version>_<arch>.deb (OUTDIR defaults to dist/) and prints
# its path as the last line. Needs Go and dpkg-deb (Debian's dpkg), nothing
# else; it never runs as root and never touches the system.
#
# The version is $TRIBUTARY_VERSION when set, else the newest v* tag of the
# checkout ("v1.2.0" -> 1.2.0, "v1.2.0-3-gabc1234" -> 1.2.0+git3.abc1234),
# else 0~git<commit date>.<commit>. GOARCH picks another architecture.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-dist}
maintainer=${TRIBUTARY_MAINTAINER:-"tributary maintainers <tributary@localhost>"}

for tool in go dpkg-deb gzip; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "package: $tool is needed (Debian: apt-get install dpkg gzip; Go from go.dev)" >&2
		exit 2
	fi
done

version=${TRIBUTARY_VERSION:-}
if [ -z "$version" ]; then
	if ! git rev-parse --git-dir >/dev/null 2>&1; then
		echo "package: not a git checkout: set TRIBUTARY_VERSION" >&2
		exit 2
	fi
	if described=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
		version=${described#v}
		version=$(printf '%s' "$version" | sed -E 's/-([0-9]+)-g([0-9a-f]+)$/+git\1.\2/')
	else
		version="0~git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S).$(git rev-parse --short=12 HEAD)"
	fi
	if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
		version="$version+modified"
	fi
fi
if ! [[ $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]]; then
	echo "package: version $version is not a Debian version (it must start with a digit)" >&2
	exit 2
fi

goarch=${GOARCH:-$(go env GOARCH)}
case $goarch in
amd64 | arm64 | riscv64 | ppc64le | s390x) arch=$goarch ;;
386) arch=i386 ;;
arm) arch=armhf ;;
*)
	echo "package: no Debian architecture for GOARCH=$goarch" >&2
	exit 2
	;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
umask 022

# The binary: static, without local paths, stamped with the version and
# the commit (the toolchain records the commit itself only in a checkout
# whose .git is a directory, not in a git worktree).
stamp="-X main.version=$version"
if commit=$(git rev-parse HEAD 2>/dev/null); then
	modified=false
	[ -n "$(git status --porcelain --untracked-files=no)" ] && modified=true
	stamp="$stamp -X tributary/internal/version.commit=$commit"
	stamp="$stamp -X tributary/internal/version.commitTime=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)"
	stamp="$stamp -X tributary/internal/version.modified=$modified"
fi
mkdir -p "$root/usr/bin"
CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOFLAGS=-buildvcs=auto \
	go build -trimpath -ldflags "-s -w $stamp" -o "$root/usr/bin/tributary" .

# Manual pages and completions come from the command itself, so they say
# what this build does. A cross build runs a native build for them.
gen=$root/usr/bin/tributary
if [ "$goarch" != "$(go env GOHOSTARCH)" ]; then
	gen=$work/tributary-native
	GOFLAGS=-buildvcs=auto go build -trimpath -ldflags "$stamp" -o "$gen" .
fi
man=$root/usr/share/man/man1
mkdir -p "$man"
"$gen" man "$man"
gzip -9n "$man"/*.1
install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
	"$root/usr/share/fish/vendor_completions.d"
"$gen" completion bash >"$root/usr/share/bash-completion/completions/tributary"
"$gen" completion zsh >"$root/usr/share/zsh/vendor-completions/_tributary"
"$gen" completion fish >"$root/usr/share/fish/vendor_completions.d/tributary.fish"

# systemd units, the account and the spool directories.
install -d "$root/usr/lib/systemd/system" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d" "$root/etc/tributary"
install -m 644 packaging/systemd/* "$root/usr/lib/systemd/system/"
install -m 644 packaging/sysusers.d/tributary.conf "$root/usr/lib/sysusers.d/"
install -m 644 packaging/tmpfiles.d/tributary.conf "$root/usr/lib/tmpfiles.d/"

# Documentation: README and the docs it links to, option file examples,
# copyright, changelog.
doc=$root/usr/share/doc/tributary
install -d "$doc/examples" "$doc/docs"
install -m 644 README.md "$doc/"
install -m 644 docs/*.md "$doc/docs/"
gzip -9n "$doc/README.md" "$doc"/docs/*.md
install -m 644 packaging/examples/*.cnf "$doc/examples/"
install -m 644 packaging/debian/copyright "$doc/"
date=$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
printf 'tributary (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n' \
	"$version" "${commit:-unknown}" "$maintainer" "$date" | gzip -9n >"$doc/changelog.Debian.gz"

# Control files.
install -d "$root/DEBIAN"
install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: tributary
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Section: database
Priority: optional
Suggests: rsync, mariadb-client, prometheus-node-exporter
Description: keep one MySQL/MariaDB master filled with many child databases
 Each child runs "tributary export" and writes a sync file of the rows
 changed since its last run; your own transport (rsync, scp) moves it; the
 master runs "tributary import", which applies it in one transaction and
 keeps one mapping table per child linking child IDs to master IDs.
 .
 The package holds the binary, its manual pages, shell completions, and
 systemd timers for export (tributary-export@PREFIX.timer), import and a
 health check, reading their flags from /etc/tributary/*.cnf.
EOF
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/tributary_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
