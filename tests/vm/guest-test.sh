#!/bin/bash
# SPDX-License-Identifier: MIT
#
# ctest driver of one guest test (nest_guest_test() in NestGuestTest.cmake): build the initramfs
# into the current directory, boot it, judge the console. Also the kernel fixtures (--kernel-only).
#   guest-test.sh --kernel-only [--kernel K]
#   guest-test.sh --name NAME [--kernel K] [--script S] [--program BIN]... [--file SRC[=DEST]]...
#                 [--module M]... [--edu N] [--timeout S] [--append ARGS] [--fetch]
#                 [--require PATH]...
# --kernel: debian (default; Debian 12's 6.12, guest-kernel.sh) or linux7 (Linux 7.3 built with
# iommufd and the selftest mock, guest-kernel-7.sh; no modules, so no --module).
# Writes NAME.initramfs.cpio.gz, NAME.console.log and NAME.console.log.qemu in the current
# directory. Without --fetch only a cached kernel is used (the vm-kernel / vm-kernel-7 fixture
# provided it); a missing one is a SKIP (a failure under CI=true), and so is a missing --require
# PATH (the reason: PATH.skip, written by the fixture that could not provide PATH). Exit 0 pass,
# 1 fail, 77 skip.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"

usage()
{
	sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

NAME="" SCRIPT="" EDU=1 TIMEOUT=120 APPEND="" FETCH=0 KERNEL_ONLY=0 KERNEL=debian
mk=() REQUIRE=()
while [[ $# -gt 0 ]]; do
	case "$1" in
	--kernel-only) KERNEL_ONLY=1 ;;
	--kernel) KERNEL=${2:?}; shift ;;
	--name) NAME=${2:?}; shift ;;
	--script) SCRIPT=${2:?}; shift ;;
	--program) mk+=(-p "${2:?}"); shift ;;
	--file) mk+=(-f "${2:?}"); shift ;;
	--module) mk+=(-m "${2:?}"); shift ;;
	--edu) EDU=${2:?}; shift ;;
	--timeout) TIMEOUT=${2:?}; shift ;;
	--append) APPEND=${2?}; shift ;;
	--fetch) FETCH=1 ;;
	--require) REQUIRE+=("${2:?}"); shift ;;
	*) usage ;;
	esac
	shift
done

case "$KERNEL" in
debian) KSCRIPT=guest-kernel.sh FIXTURE=vm-kernel ;;
linux7) KSCRIPT=guest-kernel-7.sh FIXTURE=vm-kernel-7 ;;
*) echo "guest-test: unknown kernel '$KERNEL' (debian or linux7)" >&2; exit 2 ;;
esac

if [[ $KERNEL_ONLY -eq 1 ]]; then
	t0=$SECONDS
	rc=0
	kdir=$("$HERE/$KSCRIPT") || rc=$?
	if [[ $rc -eq 77 ]]; then
		nest_vm_skip "cannot provide the $KERNEL guest kernel (see the messages above)"
	elif [[ $rc -ne 0 ]]; then
		echo "FAIL: $KSCRIPT exit $rc" >&2
		exit 1
	fi
	echo "guest kernel: $kdir ($(cat "$kdir/package"), $((SECONDS - t0))s)"
	exit 0
fi
[[ -n "$NAME" ]] || usage

for r in "${REQUIRE[@]}"; do
	if [[ ! -e "$r" ]]; then
		if [[ -f "$r.skip" ]]; then
			nest_vm_skip "$(cat "$r.skip")"
		fi
		nest_vm_skip "$r is missing (its fixture did not run or failed)"
	fi
done
[[ -n "$(nest_vm_qemu)" ]] || nest_vm_skip "qemu-system-x86_64 not found (install qemu-system-x86: scripts/deps)"
kargs=()
[[ $FETCH -eq 1 ]] || kargs=(--cached-only)
rc=0
kdir=$("$HERE/$KSCRIPT" "${kargs[@]}") || rc=$?
if [[ $rc -eq 77 ]]; then
	nest_vm_skip "no $KERNEL guest kernel (the $FIXTURE fixture could not provide one)"
elif [[ $rc -ne 0 ]]; then
	echo "FAIL: $KSCRIPT exit $rc" >&2
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
