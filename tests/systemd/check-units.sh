#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Lint the systemd integration (ECOSYSTEM.md §1-§2):
#  - systemd-analyze verify on the socket + service units must print NOTHING (on systemd 252 it
#    exits 0 even for unknown keys or types, so stderr is what counts);
#  - systemd-analyze security --offline: exposure of nestd.service <= 1.5;
#  - the fd names and socket paths agree with what nestd expects;
#  - sysusers and tmpfiles snippets applied to a temporary --root;
#  - the shipped default nestd.conf parses (nestd --dump-config), when both exist.
#   check-units.sh UNIT_SRC_DIR CONFIG_H NESTD_BINARY|"" NESTCTL_BINARY|""
set -uo pipefail

SRC=$1
CONFIG_H=$2
NESTD=${3:-}
NESTCTL=${4:-}
THRESHOLD=15 # systemd-analyze's 0-100 scale: 15 = displayed exposure 1.5

T=$(mktemp -d /tmp/nestd-units.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
ok() { echo "ok: $*"; }

# --- verify ---------------------------------------------------------------------------------
if [[ -z "$NESTD" ]]; then
	echo "note: nestd is not built in this tree; ExecStart= points at /bin/true for the lint"
	NESTD=/bin/true
fi
[[ -n "$NESTCTL" ]] || NESTCTL=/bin/true
sed -e "s#^ExecStart=/usr/sbin/nestd#ExecStart=$NESTD#" \
	-e "s#^ExecReload=/usr/bin/nestctl#ExecReload=$NESTCTL#" "$SRC/nestd.service" >"$T/nestd.service"
cp "$SRC/nestd.socket" "$SRC/nestd-admin.socket" "$T/"
grep -q "^ExecStart=$NESTD\$" "$T/nestd.service" || fail "ExecStart= substitution did not apply"

systemd-analyze verify --man=no "$T/nestd.socket" "$T/nestd-admin.socket" "$T/nestd.service" \
	>"$T/verify.out" 2>"$T/verify.err"
rc=$?
if [[ $rc -ne 0 || -s "$T/verify.err" || -s "$T/verify.out" ]]; then
	cat "$T/verify.out" "$T/verify.err"
	fail "systemd-analyze verify (exit $rc) printed the above"
else
	ok "systemd-analyze verify: silent"
fi

# nestd keeps nothing on disk: no StateDirectory= (it would create an unused /var/lib/nestd).
if grep -q '^StateDirectory=' "$SRC/nestd.service"; then
	fail "nestd.service has StateDirectory= but nestd writes no state (see SECURITY.md)"
else
	ok "no unused StateDirectory="
fi

# --- security -------------------------------------------------------------------------------
systemd-analyze security --offline=true --man=no --threshold=$THRESHOLD "$T/nestd.service" \
	>"$T/sec.out" 2>&1
rc=$?
level=$(grep -o 'Overall exposure level for nestd.service: [0-9.]*' "$T/sec.out" | awk '{print $NF}')
if [[ $rc -ne 0 || -z "$level" ]]; then
	grep -E '^✗|Overall' "$T/sec.out"
	fail "systemd-analyze security: exposure ${level:-?} above $((THRESHOLD / 10)).$((THRESHOLD % 10)) (exit $rc)"
else
	ok "systemd-analyze security: exposure $level (threshold $((THRESHOLD / 10)).$((THRESHOLD % 10)))"
fi

# --- names and paths the daemon relies on ---------------------------------------------------
before=$fails
key() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
[[ $(key "$SRC/nestd.socket" FileDescriptorName) == nestd ]] ||
	fail "nestd.socket: FileDescriptorName= must be nestd"
[[ $(key "$SRC/nestd-admin.socket" FileDescriptorName) == nestd-admin ]] ||
	fail "nestd-admin.socket: FileDescriptorName= must be nestd-admin"
for s in nestd.socket nestd-admin.socket; do
	[[ $(key "$SRC/$s" Service) == nestd.service ]] || fail "$s: Service= must be nestd.service"
	[[ $(key "$SRC/$s" SocketMode) == 0660 ]] || fail "$s: SocketMode= must be 0660"
done
[[ $(key "$SRC/nestd.socket" SocketGroup) == nest ]] || fail "nestd.socket: SocketGroup= nest"
[[ $(key "$SRC/nestd-admin.socket" SocketGroup) == nest-admin ]] ||
	fail "nestd-admin.socket: SocketGroup= nest-admin"
hdr() { sed -n "s/^#define $1[[:space:]]*\"\\(.*\\)\".*/\\1/p" "$CONFIG_H"; }
if [[ -f "$CONFIG_H" ]]; then
	[[ $(key "$SRC/nestd.socket" ListenSequentialPacket) == "$(hdr NESTD_SOCKET_PATH)" ]] ||
		fail "nestd.socket path differs from NESTD_SOCKET_PATH in config.h"
	[[ $(key "$SRC/nestd-admin.socket" ListenSequentialPacket) == "$(hdr NESTD_ADMIN_PATH)" ]] ||
		fail "nestd-admin.socket path differs from NESTD_ADMIN_PATH in config.h"
fi
# Once the daemon picks its sockets by name, the names must be the ones above.
DAEMON_DIR=$(dirname "$CONFIG_H")
if grep -lq sd_listen_fds_with_names "$DAEMON_DIR"/*.c 2>/dev/null; then
	for n in '"nestd"' '"nestd-admin"'; do
		grep -q -- "$n" "$DAEMON_DIR"/*.[ch] || fail "daemon/ never names the fd $n"
	done
fi
[[ $fails -eq $before ]] && ok "fd names, groups, modes and socket paths agree with the daemon"

# --- sysusers / tmpfiles into a temporary root ----------------------------------------------
R=$T/root
mkdir -p "$R/etc"
if systemd-sysusers --root="$R" "$SRC/nestd.sysusers" >"$T/sysusers.log" 2>&1 &&
	grep -q '^nest:' "$R/etc/group" && grep -q '^nest-admin:' "$R/etc/group"; then
	ok "sysusers: groups nest and nest-admin created"
else
	cat "$T/sysusers.log"
	fail "systemd-sysusers did not create groups nest and nest-admin"
fi
if systemd-tmpfiles --root="$R" --create "$SRC/nestd.tmpfiles" >"$T/tmpfiles.log" 2>&1 &&
	[[ -d "$R/run/nestd" && $(stat -c '%a %U %G' "$R/run/nestd") == "755 root root" ]]; then
	ok "tmpfiles: /run/nestd 0755 root root"
else
	cat "$T/tmpfiles.log"
	fail "systemd-tmpfiles did not create /run/nestd 0755 root root"
fi

# --- the shipped default config must be one nestd accepts ------------------------------------
if [[ -f "$SRC/nestd.conf" && "$NESTD" != /bin/true ]]; then
	if "$NESTD" --config "$SRC/nestd.conf" --dump-config >"$T/dump.out" 2>&1 && [[ -s "$T/dump.out" ]]; then
		ok "systemd/nestd.conf parses (nestd --dump-config)"
	else
		cat "$T/dump.out"
		fail "nestd --config systemd/nestd.conf --dump-config"
	fi
fi

# --- both sockets activated the way the units do it, with the units' fd names -----------------
# nestd must pick the VM and admin sockets by FileDescriptorName= and use them, not bind the
# fallback paths given on its command line (temporary paths: nothing under /run is touched).
if [[ "$NESTD" != /bin/true && "$NESTCTL" != /bin/true ]] && command -v systemd-socket-activate >/dev/null; then
	A=$T/act
	mkdir -p "$A"
	printf '[Daemon]\nBackend=sim\n' >"$A/nestd.conf"
	vmname=$(key "$SRC/nestd.socket" FileDescriptorName)
	admname=$(key "$SRC/nestd-admin.socket" FileDescriptorName)
	systemd-socket-activate --seqpacket -l "$A/vm.sock" -l "$A/admin.sock" \
		--fdname="$vmname:$admname" "$NESTD" --config "$A/nestd.conf" \
		--socket "$A/fallback-vm.sock" --admin-socket "$A/fallback-admin.sock" \
		>"$A/nestd.log" 2>&1 &
	apid=$!
	for _ in $(seq 100); do
		[[ -S "$A/vm.sock" && -S "$A/admin.sock" ]] && break
		sleep 0.05
	done
	# The first connection makes systemd-socket-activate exec nestd with both fds.
	if timeout 10 "$NESTCTL" -s "$A/admin.sock" status >"$A/status.out" 2>&1 &&
		grep -q 'Backend: *sim' "$A/status.out" &&
		[[ ! -e "$A/fallback-vm.sock" && ! -e "$A/fallback-admin.sock" ]]; then
		ok "socket activation: nestd serves the activated sockets named $vmname and $admname"
	else
		cat "$A/status.out" "$A/nestd.log"
		ls -l "$A"
		fail "socket activation with the units' fd names ($vmname:$admname)"
	fi
	# The log names the activated sockets by their paths.
	want="listening on $A/vm.sock (activated) and $A/admin.sock (activated)"
	if grep -qF "$want" "$A/nestd.log"; then
		ok "log: $want"
	else
		cat "$A/nestd.log"
		fail "the log does not say: $want"
	fi
	kill -TERM "$apid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$apid" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$apid" 2>/dev/null; then
		kill -KILL "$apid"
		fail "activated nestd did not stop on SIGTERM"
	fi
	wait "$apid" 2>/dev/null
fi

if [[ $fails -ne 0 ]]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all unit checks passed"
