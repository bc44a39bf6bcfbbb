#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest script of vm-qemu (busybox sh, as root): QEMU built with the client/qemu/ series
# (scripts/fetch-qemu) as an unprivileged nestd client. nestd (vfio-type1) serves vm0 (edu at
# 00:04.0, owner 65534) and vm1 (edu at 00:05.0, owner 65533); QEMU runs as uid 65534 with
# -accel qtest, 16 MiB memfd RAM and -device vfio-pci,nestd=...; nest-guest-qemu drives it over
# qtest so that edu DMAs to and from the inner guest's RAM, and over QMP unplugs and replugs edu.
set -eu
D=/run/nest
FW=/usr/local/share/qemu
mkdir -p $D
chmod 755 $D
fail() { echo "FAIL $*"; cat $D/nestd.log; for f in $D/qemu-*.log; do echo "--- $f"; cat "$f"; done; exit 1; }
fdcount() { ls /proc/"$1"/fd | wc -l; }
vmlck() { awk '/^VmLck/ {print $2}' /proc/"$1"/status; }
waitfor() { # shell test, seconds
	i=0
	while ! eval "$1"; do
		i=$((i + 1))
		[ $i -lt $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}
QEMU=/usr/local/bin/qemu-system-x86_64
RUN="nest-guest-qemu --qemu $QEMU --fw $FW --socket $D/vm.sock"

cat >$D/nestd.conf <<CONF
[Daemon]
Backend=vfio-type1
SocketMode=0666
LogLevel=info

[VM]
Name=vm0
Owner=65534
Device=edu0 id=1 pci=0000:00:04.0

[VM]
Name=vm1
Owner=65533
Device=edu1 id=2 pci=0000:00:05.0
CONF

nestd -c $D/nestd.conf -s $D/vm.sock -a $D/admin.sock 2>$D/nestd.log &
NPID=$!
waitfor "[ -S $D/vm.sock ] && [ -S $D/admin.sock ]" 10 || fail "nestd did not start"
base=$(fdcount $NPID)
echo "nestd pid $NPID, $base fds at rest"

# QEMU's user cannot reach VFIO itself: everything must come through nestd
grp=$(readlink /sys/bus/pci/devices/0000:00:04.0/iommu_group)
if su -s /bin/sh nobody -c "exec 3</dev/vfio/${grp##*/}" 2>/dev/null; then
	fail "uid 65534 can open /dev/vfio/${grp##*/}"
fi
echo "ok uid 65534 cannot open /dev/vfio/${grp##*/}"

# --- the DMA round trip through QEMU's vfio-pci on nestd
t0=$(cut -d' ' -f1 /proc/uptime)
$RUN --uid 65534 --vm vm0 --dev 1 --log $D/qemu-dma.log dma || fail "QEMU DMA round trip"
t1=$(cut -d' ' -f1 /proc/uptime)
grep -q "does not report IOVA ranges" $D/qemu-dma.log && fail "QEMU did not get the IOVA ranges from nestd"
echo "ok QEMU run with the DMA round trip took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s"
grep -q 'cannot be mapped for DMA' $D/qemu-dma.log &&
	echo "ok QEMU skipped the BAR mapping it cannot pass to nestd (warned once)"
grep -q 'op=mem-add\|mem-add' $D/nestd.log || fail "nestd logged no mem-add for QEMU's RAM"
waitfor "[ \$(fdcount $NPID) -eq $base ]" 10 || fail "fd count after QEMU quit: $(fdcount $NPID), not $base"
[ "$(vmlck $NPID)" -eq 0 ] || fail "nestd still pins $(vmlck $NPID) kB after QEMU quit"
echo "ok after QEMU quit: fd count back to $base, nothing pinned"

# --- a VM QEMU's user does not own: refused with nestd's answer
$RUN --uid 65534 --vm vm1 --dev 2 --log $D/qemu-refused.log refused || fail "QEMU with vm1"
cat $D/qemu-refused.log
grep -q "nestd: cannot attach VM 'vm1': VM_ATTACH: ENOENT" $D/qemu-refused.log ||
	fail "QEMU's refusal does not carry nestd's answer"
echo "ok QEMU with a VM it does not own stops with nestd's answer"

# --- device_del and device_add over QMP: QEMU gives the device back (DEVICE_PUT) and, as its last
# device leaves, the DMA mappings (MEM_REMOVE COVERED for each RAM section its listener mapped,
# then MEM_REMOVE ALL); device_add gets the device again (DEVICE_GET) and maps RAM anew
mkdir -p $D/qmp
chown 65534:65534 $D/qmp
cat >$D/unplugged.sh <<EOF
# nestd's side after device_del, while QEMU still runs with the VM attached
nestctl -s $D/admin.sock --json=short vm show vm0 >$D/show-unplugged.json || exit 1
ok=1
grep -q '"state": *"attached"' $D/show-unplugged.json || { echo "vm0 not attached"; ok=0; }
grep -q '"taken": *false' $D/show-unplugged.json || { echo "edu0 still handed out"; ok=0; }
grep -q '"regions": *\[ *\]' $D/show-unplugged.json || { echo "vm0 keeps regions"; ok=0; }
grep -q 'device-put' $D/nestd.log || { echo "no device-put in nestd's log"; ok=0; }
grep -q 'mem-remove.*covered gpa 0x[0-9a-f]* len 0x[0-9a-f]*: [1-9][0-9]* regions removed' $D/nestd.log ||
	{ echo "no MEM_REMOVE COVERED that removed regions"; ok=0; }
grep -q 'mem-remove.*all gpa 0x0 len 0x0: [0-9]* regions removed' $D/nestd.log ||
	{ echo "no MEM_REMOVE ALL"; ok=0; }
[ \$ok -eq 1 ] || { cat $D/show-unplugged.json; exit 1; }
echo "ok after device_del: edu0 given back (taken false, device-put), no regions (COVERED, then ALL)"
EOF
t0=$(cut -d' ' -f1 /proc/uptime)
$RUN --uid 65534 --vm vm0 --dev 1 --log $D/qemu-replug.log --qmp $D/qmp/qmp.sock \
	--on-unplug "sh $D/unplugged.sh" replug || fail "QEMU device_del / device_add"
t1=$(cut -d' ' -f1 /proc/uptime)
grep 'mem-remove.*\(covered\|all\)\|device-put\|device-get' $D/nestd.log | sed 's/^/  /'
echo "ok QEMU device_del + device_add with DMA before and after took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s"
waitfor "[ \$(fdcount $NPID) -eq $base ]" 10 || fail "fd count after the replug run: $(fdcount $NPID), not $base"
[ "$(vmlck $NPID)" -eq 0 ] || fail "nestd still pins $(vmlck $NPID) kB after the replug run"

# --- SIGKILL of QEMU with the VM attached, RAM mapped and the device in use
rm -f $D/hold.out $D/qemu.pid
$RUN --uid 65534 --vm vm0 --dev 1 --log $D/qemu-kill.log --pidfile $D/qemu.pid hold >$D/hold.out 2>&1 &
HPID=$!
waitfor "grep -q '^ready' $D/hold.out" 30 || { cat $D/hold.out; fail "hold run did not get ready"; }
# 16 MiB less the legacy VGA / ROM hole at 0xa0000-0xfffff, which is not RAM
[ "$(vmlck $NPID)" -ge 16000 ] || fail "nestd pins only $(vmlck $NPID) kB of QEMU's 16 MiB"
nestctl -s $D/admin.sock --json=short vm show vm0 >$D/show-held.json || fail "nestctl vm show"
grep -q '"state": *"attached"' $D/show-held.json || { cat $D/show-held.json; fail "vm0 not attached while QEMU runs"; }
grep -q '"regions": *\[ *{' $D/show-held.json || { cat $D/show-held.json; fail "no regions while QEMU runs"; }
echo "ok while QEMU runs: vm0 attached, $(vmlck $NPID) kB pinned"
kill -9 "$(cat $D/qemu.pid)"
wait $HPID || { cat $D/hold.out; fail "hold run"; }
waitfor "[ \$(fdcount $NPID) -eq $base ]" 10 || fail "fd count after SIGKILL: $(fdcount $NPID), not $base"
[ "$(vmlck $NPID)" -eq 0 ] || fail "nestd still pins $(vmlck $NPID) kB after QEMU was killed"
nestctl -s $D/admin.sock --json=short vm show vm0 >$D/show.json || fail "nestctl vm show after kill"
grep -q '"state": *"detached"' $D/show.json || { cat $D/show.json; fail "vm0 still attached after SIGKILL"; }
grep -q '"regions": *\[ *\]' $D/show.json || { cat $D/show.json; fail "vm0 keeps regions after SIGKILL"; }
echo "ok after SIGKILL of QEMU: vm0 detached, no regions, fd count $base, nothing pinned"

# --- and the VM works again
$RUN --uid 65534 --vm vm0 --dev 1 --log $D/qemu-again.log dma || fail "QEMU after the kill"
echo "ok vm0 served QEMU again"

kill -TERM $NPID
wait $NPID || fail "nestd exited with $?"
echo "--- nestd log ---"
cat $D/nestd.log
echo "ok nestd stopped cleanly"
