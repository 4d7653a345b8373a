#!/bin/sh
# deb.sh: build the Debian package of this tree and check it with lintian.
#   scripts/deb.sh [OUTDIR]
# Installs the build dependencies (debian/control) when run as root, builds
# a copy of the tree in a temporary directory with dpkg-buildpackage -us -uc -b
# (so this tree's own builds and generated files are left alone), runs
# lintian on the .changes (the .deb and the .buildinfo), fails on any lintian
# error, and leaves the .debs, .buildinfo and .changes in OUTDIR (default: the
# top of the tree). The last line of output is the .deb's path.
# DEB_BUILD_OPTIONS is passed through (nocheck, parallel=N).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)

# Called from make check (tests/integ/debian-package.sh), the enclosing make's
# MAKEFLAGS carry its TESTS= and TEST_LOGS= into the package build's make
# check, which would then run that test again, and so on: the package build
# inherits no make and no test environment. The marker stops any such loop.
if [ -n "${BACKLOGD_DEB_BUILD:-}" ]; then
	echo "deb.sh: already inside a package build of backlogd" >&2
	exit 1
fi
export BACKLOGD_DEB_BUILD=1
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS TESTS TEST_LOGS top_builddir top_srcdir
out=$(mkdir -p "${1:-$top}" && cd "${1:-$top}" && pwd)

# The tools, then what debian/control's Build-Depends names (apt reads it
# from the directory itself).
if [ "$(id -u)" = 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	tools="dpkg-dev debhelper lintian"
	missing=""
	for p in $tools; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] || apt-get install -y -q --no-install-recommends $missing
	if ! (cd "$top" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
		apt-get build-dep -y -q --no-install-recommends "$top"
	fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/backlogd-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src="$work/backlogd-$version"
mkdir "$src"
# The tracked and new files, not the ignored ones (build/, configure, a
# configured in-tree build that would stop dh_auto_configure); a tree that
# is not a git checkout (a release tarball) is copied whole.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# A tracked file deleted in the work tree is listed but absent: skipped.
	(cd "$top" && git ls-files -z -co --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$src"
else
	tar -C "$top" --exclude=./build --exclude=./build-sanitize --exclude=./_build -cf - . |
		tar -xf - -C "$src"
fi

# As many jobs as cores unless DEB_BUILD_OPTIONS says (parallel=1 on a busy machine).
case " ${DEB_BUILD_OPTIONS:-} " in
*" parallel="*) ;;
*) DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc)"; export DEB_BUILD_OPTIONS ;;
esac

(cd "$src" && dpkg-buildpackage -us -uc -b)

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes="$work/backlogd_${version}_${arch}.changes"
# --fail-on error: errors stop the build; warnings are fixed or explained in
# debian/changelog (tests/integ/debian-package.sh fails on any warning).
lintian --fail-on error --display-info "$changes"

# Every file the .changes names (the -dbgsym package too), and the .changes.
cp "$work"/*.deb "$work"/*.buildinfo "$changes" "$out/"
echo "$out/backlogd_${version}_${arch}.deb"
