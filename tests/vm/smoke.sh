#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest script of vm-smoke (runs as root under /init; busybox sh). The first bound edu device
# gets the whole type1 smoke test, the others all but the fault checks (the kernel rate-limits
# DMAR fault messages); the faults it provoked must also show in dmesg.
set -e
[ -n "$NEST_EDU" ] || { echo "FAIL: no edu device bound to vfio-pci"; exit 1; }
first=1
for bdf in $NEST_EDU; do
	if [ $first = 1 ]; then
		vfio-edu-smoke "$bdf"
		first=0
	else
		vfio-edu-smoke --no-faults "$bdf"
	fi
done
n=$(dmesg | grep -c 'DMAR: \[DMA .*fault addr') || true
echo "DMAR fault lines in dmesg: $n"
[ "$n" -ge 3 ] || { echo "FAIL: expected at least 3 DMAR fault lines in dmesg"; exit 1; }
