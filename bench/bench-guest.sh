#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest script of bench/guest (busybox sh, as root, the Linux 7.3 guest with the iommufd selftest
# mock): nestd with Backend=iommufd and one VM of one mock device; bench-guest raw (the ioctl
# floor) and bench-guest nestd (the same through nestd); one Markdown row per case.
set -eu
D=/run/nest
mkdir -p $D
cat >$D/nestd.conf <<CONF
[Daemon]
Backend=iommufd

[Limits]
MaxBatch=1024

[VM]
Name=benchvm
Owner=0
Device=m1 id=1 mock=yes
CONF
nestd -c $D/nestd.conf -s $D/vm.sock -a $D/admin.sock 2>$D/nestd.log &
NPID=$!
i=0
while ! [ -S $D/vm.sock ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat $D/nestd.log; exit 1; }
	sleep 0.1
done
bench-guest raw >$D/raw || { cat $D/raw; exit 1; }
bench-guest nestd $D/vm.sock benchvm $NPID >$D/nestd || { cat $D/nestd $D/nestd.log; exit 1; }
kill -TERM $NPID
wait $NPID || { echo "nestd exited with $?"; cat $D/nestd.log; exit 1; }
echo "raw:"
cat $D/raw
echo "nestd:"
cat $D/nestd
# "| guest ... |" rows: nestd against the raw ioctl loop of the same case
# the floor of a request: its raw ioctls plus the socket round trips nestd's protocol needs
# (one per request; BIND + UNBIND and PASID_ALLOC + PASID_FREE are two requests)
awk -v k="$(uname -r)" '
	FNR == NR { raw[$1] = $2; next }
	{
		what = $1
		rt = raw["round-trip"]
		label = what == "invalidate-x1" ? "INVALIDATE x1" : \
			what == "invalidate-x1024" ? "INVALIDATE x1024" : \
			what == "bind-unbind" ? "BIND + UNBIND" : "PASID_ALLOC + PASID_FREE"
		if (what == "bind-unbind") {
			floor = raw[what] + 2 * rt
			fl = sprintf("HWPT_ALLOC + PASID attach + detach + DESTROY %.1f us + 2 round trips %.1f us", raw[what], 2 * rt)
		} else if (what == "pasid-alloc-free") {
			floor = 2 * rt
			fl = sprintf("2 round trips %.1f us (no kernel call: iommufd has no PASID allocator)", 2 * rt)
		} else {
			floor = raw[what] + rt
			fl = sprintf("IOMMU_HWPT_INVALIDATE %.1f us + round trip %.1f us", raw[what], rt)
		}
		printf "| guest (TCG, iommufd, selftest mock, %s, one vCPU) | %s | %.1f us | %s | %.2fx | - |\n", \
			k, label, $2, fl, $2 / floor
	}' $D/raw $D/nestd
