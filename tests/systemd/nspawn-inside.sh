#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Runs inside the container booted by check-nspawn.sh, as the unit nestd-systemd-test.service,
# with systemd as PID 1 and nestd installed by `cmake --install`. One line per check in
# /results/log ("ok: ..." or "FAIL: ..."), the evidence after each failure, then "DONE <failures>";
# powers the container off at the end.
set -uo pipefail
exec >>/results/log 2>&1

fails=0
ok() { echo "ok: $*"; }
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
show() { sed 's/^/    | /'; }
CLIENT=/usr/local/bin/nspawn-client
VMM=/usr/libexec/nestd/nestd-example-vmm
VMM_UID=4242
ADMIN_UID=4243
mainpid() { systemctl show -P MainPID nestd.service; }
# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# journal_has PATTERN JOURNALCTL-ARGS...: a line of that journal (-o cat) matches PATTERN (grep
# -E), waiting for journald to store what was logged so far: it reads its sockets
# asynchronously, so a line logged before the event a check follows may not be there yet
journal_has() {
	local pat=$1
	shift
	journalctl --sync >/dev/null 2>&1 || true
	wait_for 5 bash -c 'journalctl "$@" -o cat | grep -qiE -- "$0"' "$pat" "$@"
}

systemctl is-system-running --wait >/dev/null 2>&1 || true
echo "system: $(systemctl is-system-running 2>&1)"

# --- sockets at boot, modes and groups of the sysusers file; nestd not started yet ------------
for g in nest nest-admin; do
	getent group "$g" >/dev/null && ok "group $g exists (sysusers)" || fail "group $g missing"
done
for s in nestd.socket nestd-admin.socket; do
	[[ $(systemctl is-active "$s") == active ]] && ok "$s listening at boot" ||
		{ fail "$s is $(systemctl is-active "$s")"; systemctl status "$s" 2>&1 | show; }
done
st=$(stat -c '%a %U %G %F' /run/nestd/nestd.sock 2>&1)
[[ "$st" == "660 root nest socket" ]] && ok "nestd.sock: $st" || fail "nestd.sock: $st"
st=$(stat -c '%a %U %G %F' /run/nestd/admin.sock 2>&1)
[[ "$st" == "660 root nest-admin socket" ]] && ok "admin.sock: $st" || fail "admin.sock: $st"
state=$(systemctl is-active nestd.service)
[[ "$state" == inactive ]] && ok "nestd.service not started before a client" ||
	fail "nestd.service is $state before any client"
[[ ! -e /var/lib/nestd ]] && ok "no /var/lib/nestd" || fail "/var/lib/nestd exists"

# --- the first connection activates nestd.service ----------------------------------------------
if out=$(nestctl status 2>&1) && [[ $(systemctl is-active nestd.service) == active ]]; then
	ok "nestctl status activated nestd.service (backend $(awk '/^Backend:/ {print $2}' <<<"$out"))"
else
	fail "activation by the first client"
	echo "$out" | show
	systemctl status nestd.service 2>&1 | show
fi
journal_has 'listening on /run/nestd/nestd.sock \(activated\) and /run/nestd/admin.sock \(activated\)' -b -u nestd.service &&
	ok "the log names both activated sockets" ||
	{ fail "no 'listening on ... (activated)' line"; journalctl -b -u nestd.service -o cat | show; }

# --- hardening applied, from /proc --------------------------------------------------------------
pid=$(mainpid)
if [[ -r /proc/$pid/status ]]; then
	ps=$(cat "/proc/$pid/status")
	# CAP_IPC_LOCK (14) + CAP_SYS_RESOURCE (24), as far as the container's own bounding set
	# (PID 1's, from the host) has them: a capability the host withholds cannot be checked.
	bnd1=$(awk '/^CapBnd:/ {print $2}' /proc/1/status)
	want_caps=$(printf '%016x' $((0x$bnd1 & 0x1004000)))
	[[ $want_caps == 0000000001004000 ]] ||
		echo "note: the container's bounding set is $bnd1 (host): nestd's capabilities are checked against $want_caps"
	nnp=$(awk '/^NoNewPrivs:/ {print $2}' <<<"$ps")
	sec=$(awk '/^Seccomp:/ {print $2}' <<<"$ps")
	eff=$(awk '/^CapEff:/ {print $2}' <<<"$ps")
	bnd=$(awk '/^CapBnd:/ {print $2}' <<<"$ps")
	prm=$(awk '/^CapPrm:/ {print $2}' <<<"$ps")
	[[ $nnp == 1 ]] && ok "NoNewPrivs: 1" || fail "NoNewPrivs: $nnp"
	[[ $sec == 2 ]] && ok "Seccomp: 2 (filter)" || fail "Seccomp: $sec"
	[[ $bnd == "$want_caps" ]] && ok "CapBnd: $bnd (CAP_IPC_LOCK CAP_SYS_RESOURCE of the unit, no other)" ||
		fail "CapBnd: $bnd, want $want_caps"
	[[ $eff == "$want_caps" && $prm == "$want_caps" ]] && ok "CapEff = CapPrm: $eff" ||
		fail "CapEff $eff CapPrm $prm, want $want_caps"
	ns_mnt=$(readlink "/proc/$pid/ns/mnt") ns_net=$(readlink "/proc/$pid/ns/net")
	[[ "$ns_mnt" != "$(readlink /proc/1/ns/mnt)" && "$ns_net" != "$(readlink /proc/1/ns/net)" ]] &&
		ok "own mount and network namespaces (ProtectSystem, PrivateNetwork)" ||
		fail "nestd shares PID 1's mount or network namespace"
	rootopt=$(awk '$5 == "/" {o = $6} END {print o}' "/proc/$pid/mountinfo")
	[[ $rootopt == ro,* ]] && ok "/ is read-only for nestd (ProtectSystem=strict: $rootopt)" ||
		fail "/ is mounted $rootopt for nestd"
	lim=$(awk '/^Max locked memory/ {print $4}' "/proc/$pid/limits")
	if (((0x$(awk '/^CapEff:/ {print $2}' /proc/1/status) >> 24) & 1)); then
		[[ $lim == unlimited ]] && ok "LimitMEMLOCK=infinity applied" || fail "memlock limit $lim"
	else
		echo "note: PID 1 has no CAP_SYS_RESOURCE here (host): LimitMEMLOCK=infinity cannot raise the hard limit ($lim)"
	fi
else
	fail "no main pid of nestd.service ($pid)"
fi

# --- a VMM as an unprivileged user in group nest; the audit trail in the journal ----------------
nest_gid=$(getent group nest | cut -d: -f3)
if out=$(setpriv --reuid=$VMM_UID --regid="$nest_gid" --clear-groups "$VMM" -q 2>&1); then
	ok "example VMM as uid $VMM_UID (group nest): every step ok"
else
	fail "example VMM as uid $VMM_UID"
	echo "$out" | show
fi
nobody=$(setpriv --reuid=$VMM_UID --regid=$VMM_UID --clear-groups "$VMM" -q 2>&1)
[[ $? -ne 0 && "$nobody" == *"ermission denied"* ]] && ok "not in group nest: the VM socket refuses" ||
	{ fail "a uid outside group nest could connect"; echo "$nobody" | show; }
journalctl --sync >/dev/null 2>&1 || true
j=$(journalctl -b NEST_VM=vm0 NEST_OP=bind -o verbose 2>&1)
n=$(grep -c '^ *NEST_OP=bind$' <<<"$j")
if [[ $n -ge 2 ]] && grep -q "^ *NEST_UID=$VMM_UID\$" <<<"$j" && grep -q '^ *NEST_RESULT=ok$' <<<"$j" &&
	grep -q '^ *NEST_PASID=[0-9]' <<<"$j" && grep -q '^ *NEST_PID=[0-9]' <<<"$j"; then
	ok "journalctl NEST_VM=vm0 NEST_OP=bind: $n records with NEST_UID, NEST_PID, NEST_PASID, NEST_RESULT"
else
	fail "journalctl NEST_VM=vm0 NEST_OP=bind ($n records)"
	echo "$j" | head -n 40 | show
fi
journal_has 'detached; freed' -b NEST_VM=vm0 NEST_OP=teardown &&
	ok "journalctl NEST_OP=teardown: detached" || fail "no teardown record of vm0"

# --- STATUS= in systemctl status ------------------------------------------------------------------
st=$(systemctl status nestd.service 2>&1)
if grep -q 'Status: "0 VMs attached, 0 held, 1 configured; [0-9]* connections*"' <<<"$st"; then
	ok "systemctl status: $(grep -o 'Status: .*' <<<"$st")"
else
	fail "no STATUS= line in systemctl status"
	echo "$st" | show
fi

# --- reload: a change applied; a broken drop-in fails visibly, the old config stays -------------
mkdir -p /etc/nestd/nestd.conf.d
printf '[VM]\nName=vm2\nOwner=%s\nDevice=dsa2 id=1\n' $VMM_UID >/etc/nestd/nestd.conf.d/50-vm2.conf
if systemctl reload nestd.service 2>&1 | show && nestctl vm list --no-legend | grep -q '^vm2 '; then
	ok "systemctl reload applied a new VM (vm2)"
else
	fail "reload did not apply vm2"
	nestctl vm list 2>&1 | show
fi
printf '[VM]\nName=vm3\nOwner=%s\nFrobnicate=yes\n' $VMM_UID >/etc/nestd/nestd.conf.d/60-broken.conf
out=$(systemctl reload nestd.service 2>&1)
rc=$?
list=$(nestctl vm list --no-legend 2>&1)
if [[ $rc -ne 0 ]] && grep -q '^vm2 ' <<<"$list" && ! grep -q '^vm3 ' <<<"$list" &&
	[[ $(systemctl is-active nestd.service) == active ]]; then
	ok "broken drop-in: systemctl reload exits $rc, nestd active, old config in force"
else
	fail "broken drop-in: reload exit $rc, vm list:"
	echo "$list" | show
fi
journal_has '60-broken.conf:4: Frobnicate' -b -u nestd.service &&
	ok "the journal names the broken file, line and key" ||
	{ fail "no error naming 60-broken.conf:4: Frobnicate"; journalctl -b -u nestd.service -o cat | tail -n 15 | show; }
systemctl status nestd.service 2>&1 | grep -q '60-broken.conf:4' &&
	ok "systemctl status shows the refusal" || fail "systemctl status does not show the refusal"
rm -f /etc/nestd/nestd.conf.d/60-broken.conf

# --- restart: the attached VMM sees a clean disconnect and attaches again ------------------------
rm -f /tmp/ready
setpriv --reuid=$VMM_UID --regid="$nest_gid" --clear-groups "$CLIENT" restart vm0 /tmp/ready \
	>/tmp/restart.out 2>&1 &
cpid=$!
wait_for 10 test -e /tmp/ready || fail "the VMM did not attach"
old=$(mainpid)
systemctl restart nestd.service
new=$(mainpid)
wait "$cpid"
rc=$?
if [[ $rc -eq 0 && "$old" != "$new" ]] && grep -q '^re-attached vm0$' /tmp/restart.out; then
	ok "systemctl restart (pid $old -> $new): $(grep disconnected /tmp/restart.out); re-attached"
else
	fail "restart with an attached VMM (exit $rc, pid $old -> $new)"
	show </tmp/restart.out
fi
journal_has 'nestd stopping; freed' -b NEST_VM=vm0 NEST_OP=teardown &&
	ok "the restart's teardown is audited as 'nestd stopping'" ||
	{ fail "no 'nestd stopping' teardown"; journalctl -b NEST_OP=teardown -o cat | show; }

# --- stop: nestd goes, the sockets stay, the next client starts it again ---------------------------
out=$(systemctl stop nestd.service 2>&1)
state=$(systemctl is-active nestd.service)
echo "$out" | sed 's/^/    systemctl stop: /'
if [[ $state == inactive && $(systemctl is-active nestd.socket) == active ]] &&
	nestctl status >/dev/null 2>&1 && [[ $(systemctl is-active nestd.service) == active ]]; then
	ok "systemctl stop: nestd stopped, sockets kept listening, the next client started it again"
else
	fail "stop and re-activation (after stop: $state)"
fi

# --- the debug switch: off by default, root only when on -----------------------------------------
out=$("$CLIENT" admin '{"command":"debug.stall","args":{"seconds":1}}' 2>&1)
[[ "$out" == "error -1:"* ]] && ok "debug.stall refused without NESTD_DEBUG (EPERM)" ||
	{ fail "debug.stall without NESTD_DEBUG: $out"; }
mkdir -p /etc/systemd/system/nestd.service.d
# The test's drop-in: the switch on, and a 3 s watchdog so that the test stays short.
printf '[Service]\nEnvironment=NESTD_DEBUG=stall\nWatchdogSec=3s\nLimitCORE=0\n' \
	>/etc/systemd/system/nestd.service.d/90-test.conf
printf '[Daemon]\nAdminGroup=nest-admin\n' >/etc/nestd/nestd.conf.d/70-admin.conf
systemctl daemon-reload
systemctl restart nestd.service
admin_gid=$(getent group nest-admin | cut -d: -f3)
out=$(setpriv --reuid=$ADMIN_UID --regid="$admin_gid" --clear-groups "$CLIENT" admin \
	'{"command":"debug.stall","args":{"seconds":1}}' 2>&1)
[[ "$out" == "error -1:"* ]] && ok "debug.stall refused to a non-root member of nest-admin" ||
	fail "debug.stall as uid $ADMIN_UID in nest-admin: $out"
out=$(setpriv --reuid=$VMM_UID --regid="$nest_gid" --clear-groups "$CLIENT" admin '{"command":"status"}' 2>&1)
[[ "$out" == "error -13:"* ]] && ok "the admin socket refuses a VMM's uid (EACCES)" ||
	fail "admin socket as uid $VMM_UID: $out"

# --- watchdog: a stalled loop makes systemd restart nestd -----------------------------------------
old=$(mainpid)
nr0=$(systemctl show -P NRestarts nestd.service)
"$CLIENT" admin '{"command":"debug.stall","args":{"seconds":60}}' >/tmp/stall.out 2>&1 &
spid=$!
if wait_for 20 bash -c "[[ \$(systemctl show -P MainPID nestd.service) != $old && \$(systemctl is-active nestd.service) == active ]]"; then
	nr1=$(systemctl show -P NRestarts nestd.service)
	journal_has 'watchdog timeout' -b -u nestd.service &&
		ok "watchdog stall: systemd killed pid $old ('Watchdog timeout') and restarted nestd (pid $(mainpid), NRestarts $nr0 -> $nr1)" ||
		fail "nestd restarted without a watchdog timeout in the journal"
	nestctl status >/dev/null && ok "nestd answers after the watchdog restart" || fail "no answer after the restart"
else
	fail "no restart after a stall (pid $old, now $(mainpid), $(systemctl is-active nestd.service))"
	systemctl status nestd.service 2>&1 | show
fi
wait "$spid"
rm -f /etc/systemd/system/nestd.service.d/90-test.conf

echo "DONE $fails"
systemctl start --no-block poweroff.target
