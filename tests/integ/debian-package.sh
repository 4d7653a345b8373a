#!/bin/bash
# debian-package.sh: scripts/deb.sh builds the Debian package
# (dpkg-buildpackage -us -uc -b, the unit tests only, lintian without an error)
# and the .deb holds what the README promises: backlogd, backlogctl, the unit
# enabled on install, the sysusers snippet creating user and group backlogd,
# the journal catalog, the three man pages, the completion and the example
# configuration as a conffile at the path backlogd reads by default. Then it
# is installed into a throwaway root (dpkg --root, maintainer scripts run
# with DPKG_ROOT) and purged: the host's users, units and dpkg database are
# not touched, and no daemon starts (own network and mount namespaces, where
# /run/systemd is hidden so the postinst does not ask systemd to start it).
. "$(dirname "$0")/lib.sh"
require_tools dpkg-buildpackage dpkg-checkbuilddeps dpkg-deb lintian journalctl systemd-sysusers
[ -z "${BACKLOGD_DEB_BUILD:-}" ] || fail "run from within a package build (its dh_auto_test must run the unit tests only)"
(cd "$top_srcdir" && dpkg-checkbuilddeps) ||
	skip "the package's build dependencies are missing (scripts/quickstart.sh deps installs them)"
enter_ns "-n -m"
setup_work

note "build and lintian"
# One version: configure's (backlogd --version, the tarball) is the package's.
want=$(sed -n 's/^AC_INIT(\[backlogd\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
got=$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" -S Version)
[ -n "$want" ] && [ "$got" = "$want" ] ||
	fail "debian/changelog's version $got is not configure.ac's ${want:-(unreadable)}: add a changelog entry (dch -v $want)"
# The unit tests run in the package build: this checks that its override
# runs them and nothing else (they already ran in this make check).
"$top_srcdir/scripts/deb.sh" "$WORK/out" >"$WORK/build.log" 2>&1 ||
	{ tail -n 40 "$WORK/build.log"; fail "scripts/deb.sh failed"; }
deb=$(tail -n 1 "$WORK/build.log")
[ -f "$deb" ] || fail "scripts/deb.sh did not print the .deb's path (last line: $deb)"
grep -q '^PASS: tests/unit/test_diagnose' "$WORK/build.log" ||
	fail "the package build did not run the unit tests"
! grep -q '^[A-Z]*: tests/integ/' "$WORK/build.log" ||
	fail "the package build ran integration tests (root and namespaces; dh_auto_test must not)"
# deb.sh stops on an error; a warning must be fixed or overridden with a reason.
lintian --fail-on warning "$WORK"/out/*.changes >"$WORK/lintian.log" 2>&1 ||
	{ cat "$WORK/lintian.log"; fail "lintian warns about the package"; }

note "contents"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$WORK/files"
for f in /usr/sbin/backlogd /usr/bin/backlogctl \
	/lib/systemd/system/backlogd.service \
	/usr/lib/sysusers.d/backlogd-sysusers.conf \
	/usr/lib/systemd/catalog/backlogd.catalog \
	/usr/share/man/man8/backlogd.8.gz /usr/share/man/man8/backlogctl.8.gz \
	/usr/share/man/man5/backlogd.conf.5.gz \
	/usr/share/bash-completion/completions/backlogctl \
	/etc/backlogd/backlogd.conf \
	/usr/share/doc/backlogd/README.md /usr/share/doc/backlogd/copyright \
	/usr/share/doc/backlogd/backlogd-metrics.conf \
	/usr/share/backlogd/prometheus/backlogd-alerts.yml \
	/usr/share/backlogd/prometheus/backlogd-alerts.test.yml \
	/usr/share/backlogd/grafana/backlogd-dashboard.json; do
	grep -qx "$f" "$WORK/files" || fail "the .deb lacks $f"
done
dpkg-deb -e "$deb" "$WORK/control"
# backlogd -m dlopen()s libmicrohttpd: shlibs cannot see it, the control file must say it.
grep -q '^Recommends:.*libmicrohttpd12' "$WORK/control/control" ||
	fail "the package does not recommend libmicrohttpd12 (backlogd -m loads it)"
grep -qx /etc/backlogd/backlogd.conf "$WORK/control/conffiles" ||
	fail "/etc/backlogd/backlogd.conf is not a conffile"
grep -q "deb-systemd-helper enable 'backlogd.service'" "$WORK/control/postinst" ||
	fail "the postinst does not enable backlogd.service"
grep -q 'systemd-sysusers .*backlogd-sysusers.conf' "$WORK/control/postinst" ||
	fail "the postinst does not run systemd-sysusers"

# What the files say agrees with where they are.
dpkg-deb -x "$deb" "$WORK/x"
x=$WORK/x
grep -qx 'ExecStart=/usr/sbin/backlogd' "$x/lib/systemd/system/backlogd.service" ||
	fail "the unit does not start /usr/sbin/backlogd"
"$x/usr/sbin/backlogd" --help 2>&1 | grep -q '/etc/backlogd/backlogd.conf' ||
	fail "backlogd's default configuration is not /etc/backlogd/backlogd.conf"
"$x/usr/sbin/backlogd" -n -f "$x/etc/backlogd/backlogd.conf" >"$WORK/conf.log" 2>&1 ||
	{ cat "$WORK/conf.log"; fail "backlogd rejects the packaged example configuration"; }
! grep -qE '^[a-z_]+ *=' "$x/etc/backlogd/backlogd.conf" ||
	fail "the packaged configuration sets a key (it should leave every one at its default)"
grep -q 'file:///usr/share/doc/backlogd/README.md' "$x/usr/lib/systemd/catalog/backlogd.catalog" ||
	fail "the catalog no longer links the README the package installs: update the test"
bash -c ". '$x/usr/share/bash-completion/completions/backlogctl' && complete -p backlogctl" >/dev/null 2>&1 ||
	fail "the packaged completion registers nothing for backlogctl"

note "install into a throwaway root"
root=$WORK/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
: >"$root/var/lib/dpkg/status"
# Hidden: the postinst starts the unit only where /run/systemd/system exists.
[ ! -d /run/systemd ] || mount -t tmpfs tmpfs /run/systemd || fail "cannot hide /run/systemd"
# Its dependencies (libraries, systemd) are on the host, not in the root.
dpkg_root() { dpkg --root="$root" --force-script-chrootless --force-depends "$@"; }
dpkg_root -i "$deb" >"$WORK/install.log" 2>&1 ||
	{ cat "$WORK/install.log"; fail "dpkg -i into the throwaway root failed"; }
grep -q '^backlogd:' "$root/etc/group" || fail "installing did not create the group backlogd"
grep -q '^backlogd:.*:/usr/sbin/nologin$' "$root/etc/passwd" ||
	fail "installing did not create the user backlogd (no login shell)"
[ -L "$root/etc/systemd/system/multi-user.target.wants/backlogd.service" ] ||
	fail "installing did not enable backlogd.service"
dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Conffiles}\n' backlogd |
	grep -q '/etc/backlogd/backlogd.conf' || fail "dpkg does not list the configuration as a conffile"
# systemd's package runs journalctl --update-catalog when a package adds a
# file to its catalog directory (a dpkg file trigger): the catalog is
# updated on install. Here: that trigger exists and the file compiles.
if [ -f /var/lib/dpkg/info/systemd.triggers ]; then
	grep -q 'interest-noawait /usr/lib/systemd/catalog' /var/lib/dpkg/info/systemd.triggers ||
		fail "systemd's package no longer triggers on /usr/lib/systemd/catalog"
fi
journalctl --root="$root" --update-catalog || fail "journalctl --update-catalog failed on the catalog"
id=$(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$x/usr/lib/systemd/catalog/backlogd.catalog" | head -n 1)
journalctl --root="$root" --list-catalog "$id" 2>/dev/null | grep -q backlogd ||
	fail "the updated catalog lacks MESSAGE_ID $id"

note "purge"
dpkg_root --purge backlogd >"$WORK/purge.log" 2>&1 ||
	{ cat "$WORK/purge.log"; fail "dpkg --purge in the throwaway root failed"; }
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/backlogd.service" ] ||
	fail "purging left the unit enabled"
[ ! -e "$root/etc/backlogd/backlogd.conf" ] || fail "purging left the conffile"
[ ! -e "$root/usr/sbin/backlogd" ] || fail "purging left /usr/sbin/backlogd"

echo "PASS: $(basename "$deb") builds, passes lintian, installs and purges"
