#!/bin/bash
# SPDX-License-Identifier: MIT
#
# nestd under a real systemd as PID 1: a Debian 12 minbase root with systemd-sysv (built once by
# nspawn-root.sh, cached), copied, nestd installed into the copy with `cmake --install` (DESTDIR),
# the sockets enabled as `systemctl enable` would, booted with
#   systemd-nspawn -D ROOT -b --register=no --keep-unit
# The unit nestd-systemd-test.service runs nspawn-inside.sh in the container (sockets, activation,
# hardening from /proc, STATUS=, reload, the journal's NEST_* fields, restart with an attached VMM,
# the watchdog) and powers off; its results come back through a bind-mounted directory.
# Exit 77 (SKIP) with the reason when nspawn cannot run here; under CI=true that is a failure.
#   check-nspawn.sh BUILD_DIR NSPAWN_CLIENT
set -uo pipefail

BUILD=$1
CLIENT=$2
HERE=$(cd "$(dirname "$0")" && pwd)

skip() {
	if [[ "${CI:-}" == true ]]; then
		echo "FAIL: the systemd-as-PID-1 test cannot run and CI=true forbids skipping: $*"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (systemd-nspawn)"
command -v systemd-nspawn >/dev/null 2>&1 || skip "systemd-nspawn not installed (package systemd-container, scripts/deps)"
[[ -d /sys/fs/cgroup ]] || skip "no cgroup file system on this host"
[[ -x "$CLIENT" ]] || skip "nspawn-client not built"

t0=$SECONDS
root=$("$HERE/nspawn-root.sh")
rc=$?
[[ $rc -eq 77 ]] && skip "no Debian 12 root (see above)"
[[ $rc -eq 0 && -d "$root" ]] || { echo "FAIL: nspawn-root.sh exit $rc"; exit 1; }

T=$(mktemp -d /var/tmp/nestd-nspawn.XXXXXX)
trap 'rm -rf "$T"' EXIT
R=$T/root
cp -a "$root" "$R" || { echo "FAIL: copying the root"; exit 1; }
mkdir -p "$T/results"

# nestd as a package would install it, and the test's own pieces.
if ! DESTDIR=$R cmake --install "$BUILD" --prefix /usr >"$T/install.log" 2>&1; then
	cat "$T/install.log"
	echo "FAIL: cmake --install into the root"
	exit 1
fi
install -m 0755 "$CLIENT" "$R/usr/local/bin/nspawn-client"
install -m 0755 "$HERE/nspawn-inside.sh" "$R/usr/local/bin/nspawn-inside"
mkdir -p "$R/etc/nestd/nestd.conf.d"
cat >"$R/etc/nestd/nestd.conf.d/10-test.conf" <<'CONF'
[Daemon]
Backend=sim

[VM]
Name=vm0
Owner=4242
Device=dsa0 id=1 ats=yes pasid-bits=20
Device=iax0 id=2 ats=no pasid-bits=20
PASIDQuota=16
Checker=yes
CONF
cat >"$R/etc/systemd/system/nestd-systemd-test.service" <<'UNIT'
[Unit]
Description=nestd test under systemd (tests/systemd/check-nspawn.sh)
After=sockets.target systemd-sysusers.service systemd-tmpfiles-setup.service

[Service]
Type=exec
ExecStart=/usr/local/bin/nspawn-inside

[Install]
WantedBy=multi-user.target
UNIT
# what `systemctl enable nestd.socket nestd-admin.socket` does ([Install] WantedBy=sockets.target)
mkdir -p "$R/etc/systemd/system/sockets.target.wants" "$R/etc/systemd/system/multi-user.target.wants"
for u in nestd.socket nestd-admin.socket; do
	[[ -f "$R/usr/lib/systemd/system/$u" ]] || { echo "FAIL: $u not installed"; exit 1; }
	ln -s "/usr/lib/systemd/system/$u" "$R/etc/systemd/system/sockets.target.wants/$u"
done
ln -s /etc/systemd/system/nestd-systemd-test.service \
	"$R/etc/systemd/system/multi-user.target.wants/nestd-systemd-test.service"
# no login prompt on the console
ln -sf /dev/null "$R/etc/systemd/system/console-getty.service"

echo "root ready in $((SECONDS - t0))s; booting it"
# CAP_IPC_LOCK and CAP_SYS_RESOURCE are not in nspawn's default set; nestd.service keeps them.
# A machine name of its own: nspawn keeps per-machine state under /run/systemd/nspawn/ by name.
timeout 150 systemd-nspawn -q -D "$R" -M "nestd-test-${T##*.}" -b --register=no --keep-unit \
	--console=read-only \
	--capability=CAP_IPC_LOCK,CAP_SYS_RESOURCE \
	--bind="$T/results:/results" >"$T/console.log" 2>&1 </dev/null
rc=$?
echo "container exited ($rc) after $((SECONDS - t0))s"
if [[ ! -s "$T/results/log" ]]; then
	sed 's/\x1b\[[0-9;]*m//g' "$T/console.log" | tail -n 60
	if grep -q -i -E 'cgroup|Operation not permitted|Failed to .* namespace' "$T/console.log" &&
		! grep -q 'Welcome to' "$T/console.log"; then
		skip "systemd-nspawn cannot boot a container here (console above)"
	fi
	echo "FAIL: the test inside the container wrote nothing"
	exit 1
fi
cat "$T/results/log"
if ! grep -q '^DONE 0$' "$T/results/log"; then
	grep -q '^DONE' "$T/results/log" || echo "FAIL: the test inside did not finish (timeout?)"
	echo "--- console"
	sed 's/\x1b\[[0-9;]*m//g' "$T/console.log" | tail -n 40
	exit 1
fi
echo "systemd as PID 1: all checks passed in $((SECONDS - t0))s"
