#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest script of vm-iommufd (busybox sh, as root, Linux 7.x built with iommufd and its selftest
# mock): nestd with Backend=iommufd, one VM of two selftest mock devices and one VM with QEMU's
# edu behind intel-iommu through VFIO cdev; unprivileged test VMMs (nest-guest-ifd).
set -eu
D=/run/nest
mkdir -p $D
chmod 755 $D
fail() { echo "FAIL $*"; cat $D/nestd.log; exit 1; }
fdcount() { ls /proc/"$1"/fd | wc -l; }
faults() { dmesg | grep -c 'DMAR: \[DMA .*fault addr' || true; }
waitfor() {
	i=0
	while ! eval "$1"; do
		i=$((i + 1))
		[ $i -lt $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}

cat >$D/nestd.conf <<CONF
[Daemon]
Backend=auto
SocketMode=0666

[VM]
Name=mockvm
Owner=65534
Device=m1 id=1 mock=yes
Device=m2 id=2 mock=yes

[VM]
Name=mockvm2
Owner=65533
Device=m1 id=1 mock=yes

[VM]
Name=eduvm
Owner=65533
Device=edu0 id=1 pci=0000:00:04.0
CONF

nestd -c $D/nestd.conf -s $D/vm.sock -a $D/admin.sock 2>$D/nestd.log &
NPID=$!
waitfor "[ -S $D/vm.sock ] && [ -S $D/admin.sock ]" 10 || fail "nestd did not start"
grep -q 'backend: iommufd (auto: iommufd can serve' $D/nestd.log || fail "auto did not choose iommufd"
echo "ok Backend=auto chose iommufd: $(grep 'backend:' $D/nestd.log)"
base=$(fdcount $NPID)

IFD="nest-guest-ifd --socket $D/vm.sock"
$IFD --admin $D/admin.sock --uid 65534 mock mockvm || fail "mock scenario"
[ "$(fdcount $NPID)" -eq "$base" ] || fail "fd count after the mock VM: $(fdcount $NPID), not $base"
echo "ok mock VM torn down, fd count back to $base"
$IFD --admin $D/admin.sock --uid 65534 native mockvm || fail "native scenario"
$IFD --admin $D/admin.sock --uid 65534 iopf mockvm || fail "page request scenario"
waitfor "[ \$(fdcount $NPID) -eq $base ]" 10 || fail "fd count after the page requests: $(fdcount $NPID)"
grep -q 'op=page-response vm=mockvm .*result=ok' $D/nestd.log || fail "no page response audited"
nestctl -s $D/admin.sock --json=short stats >$D/stats.json || fail "nestctl stats"
# 4 requests: one the VMM answers, one nestd answers at DEVICE_PUT, one the kernel at an
# UNBIND, one at teardown; none of those answers refused by the kernel (a write of a cookie the
# kernel answered itself at a detach is, and counted as a teardown error)
grep -q '"page_requests":4' $D/stats.json && grep -q '"page_responses":4' $D/stats.json ||
	fail "the kernel's 4 page requests were not all answered: $(cat $D/stats.json)"
grep -q '"teardown_errors":0' $D/stats.json ||
	fail "the kernel refused part of a teardown: $(cat $D/stats.json); $(grep -i 'error\|fail' $D/nestd.log | tail -5)"
echo "ok page requests: delivered, answered, one answered by nestd at DEVICE_PUT, one by the kernel at UNBIND, the unanswered one at teardown"
$IFD --admin $D/admin.sock --uid 65534 rollback mockvm $NPID || fail "rollback sweep"
grep -q 'bind PASID [0-9]*: .*device 2' $D/nestd.log ||
	fail "no injected failure hit the second device (so no rollback of the first was seen)"
echo "ok rollback: a BIND refused by device 2 after device 1 took it left nothing bound"
$IFD --admin $D/admin.sock --uid 65534 viommu mockvm || fail "vIOMMU scenario"
waitfor "[ \$(fdcount $NPID) -eq $base ]" 10 || fail "fd count after the vIOMMUs: $(fdcount $NPID)"
nestctl -s $D/admin.sock --json=short stats >$D/stats.json || fail "nestctl stats"
grep -q '"teardown_errors":0' $D/stats.json ||
	fail "the kernel refused part of a teardown after the vIOMMUs: $(cat $D/stats.json)"
echo "ok vIOMMUs: objects, virtual ids, invalidation, RID attach, events; teardown freed the one left attached"

# --- two VMs on real kernel objects: the same PASID number, independent HWPTs
T=/tmp/nest-sync
mkdir -p $T
chmod 1777 $T
$IFD --admin $D/admin.sock --uid 65534 hold mockvm 0xa000 $T/h.ready $T/h.go &
HPID=$!
waitfor "[ -e $T/h.ready ]" 20 || fail "hold did not get ready"
$IFD --admin $D/admin.sock --uid 65533 other mockvm2 || fail "the other VM"
touch $T/h.go
wait $HPID || fail "the other VM's bind/invalidate reached mockvm"
echo "ok two VMs: same PASID number, separate nested HWPTs, no crossing"
[ "$(fdcount $NPID)" -eq "$base" ] || fail "fd count: $(fdcount $NPID), not $base"

# --- SIGKILL of a VMM while its invalidation batches are in flight
$IFD --admin - --uid 65534 flood mockvm $T/f.ready &
FPID=$!
waitfor "[ -e $T/f.ready ]" 20 || fail "flood did not get ready"
sleep 0.5
kill -9 $FPID
wait $FPID 2>/dev/null || true
waitfor "[ \$(fdcount $NPID) -eq $base ]" 10 || fail "fd count after SIGKILL: $(fdcount $NPID), not $base"
grep -q 'op=teardown vm=mockvm .*freed 1 PASID,' $D/nestd.log || fail "no teardown of mockvm with its PASID"
echo "ok SIGKILL mid-batch: mockvm torn down (PASID detached before its device), fd count back to $base"
$IFD --admin $D/admin.sock --uid 65534 mock mockvm || fail "mockvm cannot be used again"

f0=$(faults)
$IFD --admin - --uid 65533 dma eduvm 1 0000:00:04.0 || fail "edu scenario"
waitfor "[ \$(faults) -gt $f0 ]" 5 || fail "no DMAR fault for the unmapped GPA"
echo "ok the DMA to the unmapped GPA faulted (DMAR fault logged)"
[ "$(fdcount $NPID)" -eq "$base" ] || fail "fd count after the edu VM: $(fdcount $NPID), not $base"
echo "ok edu VM torn down, fd count back to $base"

kill -TERM $NPID
wait $NPID || fail "nestd exited with $?"
cat $D/nestd.log
echo "ok nestd stopped cleanly"
