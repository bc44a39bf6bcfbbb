#!/bin/bash
# SPDX-License-Identifier: MIT
#
# ctest driver of one guest test (nest_guest_test() in NestGuestTest.cmake): build the initramfs
# into the current directory, boot it, judge the console. Also the kernel fixture (--kernel-only).
#   guest-test.sh --kernel-only
#   guest-test.sh --name NAME [--script S] [--program BIN]... [--file SRC[=DEST]]...
#                 [--module M]... [--edu N] [--timeout S] [--append ARGS] [--fetch]
# Writes NAME.initramfs.cpio.gz, NAME.console.log and NAME.console.log.qemu in the current
# directory. Without --fetch only a cached kernel is used (the vm-kernel fixture fetched it);
# a missing one is a SKIP (a failure under CI=true). Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"

usage()
{
	sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

NAME="" SCRIPT="" EDU=1 TIMEOUT=120 APPEND="" FETCH=0 KERNEL_ONLY=0
mk=()
while [[ $# -gt 0 ]]; do
	case "$1" in
	--kernel-only) KERNEL_ONLY=1 ;;
	--name) NAME=${2:?}; shift ;;
	--script) SCRIPT=${2:?}; shift ;;
	--program) mk+=(-p "${2:?}"); shift ;;
	--file) mk+=(-f "${2:?}"); shift ;;
	--module) mk+=(-m "${2:?}"); shift ;;
	--edu) EDU=${2:?}; shift ;;
	--timeout) TIMEOUT=${2:?}; shift ;;
	--append) APPEND=${2?}; shift ;;
	--fetch) FETCH=1 ;;
	*) usage ;;
	esac
	shift
done

if [[ $KERNEL_ONLY -eq 1 ]]; then
	t0=$SECONDS
	rc=0
	kdir=$("$HERE/guest-kernel.sh") || rc=$?
	if [[ $rc -eq 77 ]]; then
		nest_vm_skip "cannot fetch the guest kernel (see the messages above)"
	elif [[ $rc -ne 0 ]]; then
		echo "FAIL: guest-kernel.sh exit $rc" >&2
		exit 1
	fi
	echo "guest kernel: $kdir ($(cat "$kdir/package"), $((SECONDS - t0))s)"
	exit 0
fi
[[ -n "$NAME" ]] || usage

[[ -n "$(nest_vm_qemu)" ]] || nest_vm_skip "qemu-system-x86_64 not found (install qemu-system-x86: scripts/deps)"
kargs=()
[[ $FETCH -eq 1 ]] || kargs=(--cached-only)
rc=0
kdir=$("$HERE/guest-kernel.sh" "${kargs[@]}") || rc=$?
if [[ $rc -eq 77 ]]; then
	nest_vm_skip "no guest kernel (the vm-kernel fixture could not fetch one)"
elif [[ $rc -ne 0 ]]; then
	echo "FAIL: guest-kernel.sh exit $rc" >&2
	exit 1
fi

t0=$(date +%s.%N)
if [[ -n "$SCRIPT" ]]; then
	mk+=(-s "$SCRIPT")
fi
"$HERE/mkinitramfs.sh" -k "$kdir" -o "$NAME.initramfs.cpio.gz" "${mk[@]}"
t1=$(date +%s.%N)
echo "guest-test: $NAME: initramfs $(du -k "$NAME.initramfs.cpio.gz" | cut -f1) KiB in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s; kernel $(cat "$kdir/package")"
exec "$HERE/run-guest.sh" -k "$kdir" -i "$NAME.initramfs.cpio.gz" -n "$EDU" -t "$TIMEOUT" \
	-l "$NAME.console.log" -a "$APPEND"
