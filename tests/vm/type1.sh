#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest script of vm-type1 (busybox sh, as root): nestd with the vfio-type1 backend on Debian's
# 6.12 kernel, two edu devices behind intel-iommu, one per VM, and unprivileged test VMMs
# (nest-guest-vmm, uid 65534 and 65533) that get everything through nestd's socket.
set -eu
D=/run/nest
T=/tmp/nest-sync # world-writable: the unprivileged VMMs signal through files here
mkdir -p $D
chmod 755 $D
mkdir -p $T
chmod 1777 $T
VMM="nest-guest-vmm --socket $D/vm.sock"
fail() { echo "FAIL $*"; cat $D/nestd.log; exit 1; }
faults() { dmesg | grep -c 'DMAR: \[DMA .*fault addr' || true; }
fdcount() { ls /proc/"$1"/fd | wc -l; }
vmlck() { awk '/^VmLck/ {print $2}' /proc/"$1"/status; }
waitfor() { # FILE-or-LOGTEXT test, seconds
	i=0
	while ! eval "$1"; do
		i=$((i + 1))
		[ $i -lt $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}

cat >$D/nestd.conf <<CONF
[Daemon]
Backend=vfio-type1
SocketMode=0666
LogLevel=info

[VM]
Name=vm0
Owner=65534
Device=edu0 id=1 pci=00:04.0

[VM]
Name=vm1
Owner=65533
Device=edu1 id=2 pci=0000:00:05.0
CONF

# --- nestd with Backend=vfio-nesting refuses to start on this kernel, saying why
if nestd -c $D/nestd.conf -b vfio-nesting -s $D/n.sock -a $D/n.admin 2>$D/nesting.log; then
	fail "nestd started with vfio-nesting on a kernel without the nesting series"
fi
cat $D/nesting.log
grep -q 'backend vfio-nesting cannot serve this configuration: .*\(lacks the VFIO nesting series\|cannot nest\|VFIO_TYPE1_NESTING_IOMMU\)' $D/nesting.log ||
	fail "vfio-nesting refusal does not say why"
echo "ok nestd -b vfio-nesting refuses to start with the probe's reason"

# --- Backend=auto with host devices: iommufd is not built in, vfio-nesting cannot nest here,
# so vfio-type1 serves them, and the log says why
nestd -c $D/nestd.conf -b auto -s $D/a.sock -a $D/a.admin 2>$D/auto.log &
APID=$!
waitfor "[ -S $D/a.sock ]" 10 || { cat $D/auto.log; fail "nestd -b auto did not start"; }
kill -TERM $APID
wait $APID || fail "nestd -b auto exited with $?"
cat $D/auto.log
grep -q 'backend: vfio-type1 (.*vfio-nesting: .*auto: vfio-type1 can serve the host devices' $D/auto.log ||
	fail "auto did not choose vfio-type1 or did not say why"
echo "ok Backend=auto chose vfio-type1 and logged why"

# --- nestd, vfio-type1
nestd -c $D/nestd.conf -s $D/vm.sock -a $D/admin.sock 2>$D/nestd.log &
NPID=$!
waitfor "[ -S $D/vm.sock ] && [ -S $D/admin.sock ]" 10 || fail "nestd did not start"
grep -q 'backend: vfio-type1' $D/nestd.log || fail "nestd did not choose vfio-type1"
base=$(fdcount $NPID)
echo "nestd pid $NPID, $base fds at rest"

f0=$(faults)
$VMM --uid 65534 dma vm0 1 0000:00:04.0 || fail "dma scenario"
waitfor "[ \$(faults) -ge $((f0 + 2)) ]" 5 || fail "no DMAR faults logged for the unmapped / removed GPA"
echo "ok DMAR faults logged for the unmapped and the removed GPA ($f0 -> $(faults))"
[ "$(fdcount $NPID)" -eq "$base" ] || fail "fd count after detach: $(fdcount $NPID), not $base"
[ "$(vmlck $NPID)" -eq 0 ] || fail "nestd still has $(vmlck $NPID) kB pinned after detach"
echo "ok after detach: fd count back to $base, nothing pinned"

# --- SIGKILL mid-run: teardown leaves no mapping, fds back to baseline, VM attachable again
sleep 5 # the kernel rate-limits DMAR fault messages
rm -f $T/v.*
$VMM --uid 65534 victim vm0 1 0000:00:04.0 $T/v.ready $T/v.go $T/v.result &
VPID=$!
waitfor "[ -e $T/v.ready ]" 20 || fail "victim did not get ready"
pinned=$(vmlck $NPID)
[ "$pinned" -ge 2048 ] || fail "nestd pins $pinned kB for the victim's 2 MiB"
echo "ok nestd pins the victim's memory: $pinned kB"
kill -9 $VPID
wait $VPID 2>/dev/null || true
waitfor "grep -q 'teardown.*vm0\|vm0.*teardown\|vm=vm0.*op=teardown' $D/nestd.log" 10 ||
	waitfor "[ \$(fdcount $NPID) -eq $base ]" 10 || fail "nestd did not tear vm0 down"
waitfor "[ \$(fdcount $NPID) -eq $base ]" 10 || fail "fd count after SIGKILL: $(fdcount $NPID), not $base"
[ "$(vmlck $NPID)" -eq 0 ] || fail "nestd still has $(vmlck $NPID) kB pinned after the VMM died"
echo "ok after SIGKILL: fd count back to $base, nothing pinned"
f0=$(faults)
touch $T/v.go
waitfor "[ -e $T/v.result ]" 20 || fail "the victim's child did not report"
grep -q '^ok' $T/v.result || fail "DMA after teardown reached memory: $(cat $T/v.result)"
waitfor "[ \$(faults) -gt $f0 ]" 5 || fail "no DMAR fault for the DMA after teardown"
echo "ok the DMA after teardown faulted (DMAR fault logged), memory untouched"
waitfor "[ \$(fdcount $NPID) -eq $base ]" 10 || fail "fd count: $(fdcount $NPID)"
sleep 5
$VMM --uid 65534 dma vm0 1 0000:00:04.0 || fail "vm0 cannot be attached again after SIGKILL"
echo "ok vm0 attached again and works"

# --- two VMs, one edu each: no crossing
rm -f $T/h.*
$VMM --uid 65534 hold vm0 1 $T/h.ready $T/h.go &
HPID=$!
waitfor "[ -e $T/h.ready ]" 20 || fail "hold did not get ready"
$VMM --uid 65533 isolate vm1 2 0000:00:05.0 vm0 1 || fail "isolation scenario"
touch $T/h.go
wait $HPID || fail "vm0's memory was reached from vm1"
echo "ok isolation between vm0 and vm1"

# --- evict by the operator: the VM is torn down under its VMM, nothing left behind
rm -f $T/h.*
$VMM --uid 65533 hold vm1 2 $T/h.ready $T/h.go 2>&1 | sed 's/^/[evicted] /' &
HPID=$!
waitfor "[ -e $T/h.ready ]" 20 || fail "hold vm1 did not get ready"
[ "$(vmlck $NPID)" -ge 2048 ] || fail "vm1's memory is not pinned"
nestctl -s $D/admin.sock vm evict vm1 || fail "nestctl vm evict"
waitfor "[ \$(fdcount $NPID) -eq $base ]" 10 || fail "fd count after evict: $(fdcount $NPID)"
[ "$(vmlck $NPID)" -eq 0 ] || fail "nestd still has $(vmlck $NPID) kB pinned after evict"
touch $T/h.go
wait $HPID || true
echo "ok evict: fd count back to $base, nothing pinned"

# --- shutdown with a VM attached: nestd tears it down and exits 0
rm -f $T/h.*
$VMM --uid 65534 hold vm0 1 $T/h.ready $T/h.go 2>&1 | sed 's/^/[shutdown] /' &
HPID=$!
waitfor "[ -e $T/h.ready ]" 20 || fail "hold vm0 did not get ready"
kill -TERM $NPID
wait $NPID || fail "nestd exited with $?"
touch $T/h.go
wait $HPID || true
grep -q 'audit\|attach' $D/nestd.log
echo "--- nestd log ---"
cat $D/nestd.log
echo "ok nestd stopped cleanly"
