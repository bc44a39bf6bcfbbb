#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Boot the guest kernel with an initramfs (mkinitramfs.sh) in QEMU (TCG, q35, emulated Intel
# IOMMU, edu devices) and judge the run from the serial console.
#   run-guest.sh -i INITRD [-k KERNEL_DIR] [-n EDU_COUNT] [-t TIMEOUT_S] [-l CONSOLE_LOG]
#                [-a "EXTRA KERNEL ARGS"] [-C] [-I]
#     -i INITRD      initramfs to boot
#     -k KERNEL_DIR  from guest-kernel.sh (default: run guest-kernel.sh, which may download)
#     -C             with no -k: use only a cached kernel, never download (ctest uses this)
#     -n EDU_COUNT   edu devices (default 1) at guest PCI 0000:00:04.0, 0000:00:05.0, ... (max 8)
#     -t TIMEOUT_S   wall-clock limit for QEMU (default 120); QEMU is killed after it
#     -l LOG         console log (default ./guest-console.log); QEMU's stderr goes to LOG.qemu
#     -a ARGS        appended to the kernel command line
#     -I             interactive: console on this terminal (Ctrl-A X quits QEMU), a shell after
#                    the test script, no timeout, no verdict
# Pass: the console shows "NESTD-GUEST-RESULT rc=0" and the kernel log has no WARNING:, BUG:,
# Oops, Call Trace or kernel panic. Exit 0 pass, 1 fail, 77 skip (QEMU missing, no kernel
# obtainable; under CI=true these fail instead).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"

usage()
{
	sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

INITRD="" KDIR="" EDU=1 TIMEOUT=120 LOG=guest-console.log APPEND="" CACHED_ONLY=0 INTERACTIVE=0
while getopts "i:k:n:t:l:a:CIh" opt; do
	case "$opt" in
	i) INITRD=$OPTARG ;;
	k) KDIR=$OPTARG ;;
	n) EDU=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	l) LOG=$OPTARG ;;
	a) APPEND=$OPTARG ;;
	C) CACHED_ONLY=1 ;;
	I) INTERACTIVE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 && -n "$INITRD" ]] || usage
[[ "$EDU" =~ ^[0-8]$ ]] || { echo "run-guest: edu count must be 0..8" >&2; exit 2; }
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || { echo "run-guest: bad timeout $TIMEOUT" >&2; exit 2; }
[[ -f "$INITRD" ]] || { echo "run-guest: initramfs $INITRD not found" >&2; exit 1; }

QEMU=$(nest_vm_qemu)
[[ -n "$QEMU" ]] || nest_vm_skip "${NEST_QEMU:-qemu-system-x86_64} not found (install qemu-system-x86: scripts/deps)"
if [[ -z "$KDIR" ]]; then
	kargs=()
	[[ $CACHED_ONLY -eq 1 ]] && kargs=(--cached-only)
	rc=0
	KDIR=$("$HERE/guest-kernel.sh" "${kargs[@]}") || rc=$?
	if [[ $rc -eq 77 ]]; then
		nest_vm_skip "no guest kernel (see the guest-kernel messages above)"
	elif [[ $rc -ne 0 ]]; then
		echo "run-guest: guest-kernel.sh failed (exit $rc)" >&2
		exit 1
	fi
fi
[[ -f "$KDIR/vmlinuz" ]] || { echo "run-guest: no vmlinuz in $KDIR" >&2; exit 1; }

# thread=single: with one host thread per vCPU (MTTCG) the guest kernel's live text patching
# (static keys, int3 first) raced the other vCPU's translated code: an "Oops: int3" in
# sched_clock_cpu at boot, 2 boots of 4 on a loaded machine; none in 8 since. The suite's guests
# take about as long either way (vm-* 54 s).
args=(-machine "q35,kernel-irqchip=split" -accel tcg,thread=single -cpu max -m 1G -smp 2
	-device "intel-iommu,intremap=on,caching-mode=on")
for ((i = 0; i < EDU; i++)); do
	args+=(-device "edu,addr=$(printf '0x%x' $((4 + i)))")
done
# loglevel=5: warnings and worse reach the console live; /init dumps the whole dmesg at the end.
# oops=panic + panic=-1 + -no-reboot: an oops ends the run at once instead of at the timeout.
CMDLINE="console=ttyS0 intel_iommu=on no_timer_check panic=-1 oops=panic quiet loglevel=5"
[[ $INTERACTIVE -eq 1 ]] && CMDLINE+=" nest.shell=1"
[[ -n "$APPEND" ]] && CMDLINE+=" $APPEND"
args+=(-kernel "$KDIR/vmlinuz" -initrd "$INITRD" -append "$CMDLINE"
	-display none -no-reboot -nodefaults -monitor none)

if [[ $INTERACTIVE -eq 1 ]]; then
	args+=(-serial mon:stdio)
	exec "$QEMU" "${args[@]}"
fi
args+=(-serial "file:$LOG")

mkdir -p "$(dirname "$LOG")"
: >"$LOG"
echo "run-guest: $QEMU ${args[*]}" >"$LOG.qemu"
t0=$(date +%s.%N)
qrc=0
timeout -k 5 "$TIMEOUT" "$QEMU" "${args[@]}" </dev/null >>"$LOG.qemu" 2>&1 || qrc=$?
t1=$(date +%s.%N)
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

fail=()
result=$(grep -a -o 'NESTD-GUEST-RESULT rc=[0-9]*' "$LOG" | tail -n 1 || true)
if [[ $qrc -eq 124 || $qrc -eq 137 ]]; then
	fail+=("QEMU timed out after ${TIMEOUT}s")
elif [[ $qrc -ne 0 ]]; then
	fail+=("QEMU exited with status $qrc")
fi
if [[ -z "$result" ]]; then
	fail+=("no NESTD-GUEST-RESULT line on the console")
elif [[ "$result" != "NESTD-GUEST-RESULT rc=0" ]]; then
	fail+=("guest test script failed: $result")
fi
BAD='WARNING:|BUG:|Oops|[Kk]ernel panic'
if grep -a -q -E "$BAD" "$LOG"; then
	fail+=("kernel log has $(grep -a -o -E "$BAD" "$LOG" | sort -u | paste -sd, -)")
fi
# A failure a test injects on purpose (/proc/PID/fail-nth) is announced by the kernel with
# "FAULT_INJECTION: forcing a failure" (a notice, so only in the dmesg dump at the end, not on
# the live console) and a stack dump; any other stack dump is a failure. Judge on the dump when
# there is one (it is the whole kernel log), else on the console.
klog=$(awk '/^----- dmesg -----/ { d = 1; next } /^----- end dmesg -----/ { d = 0 } d' "$LOG")
[[ -n "$klog" ]] || klog=$(cat "$LOG")
traces=$(grep -a -c 'Call Trace' <<<"$klog" || true)
injected=$(grep -a -c 'FAULT_INJECTION: forcing a failure' <<<"$klog" || true)
if [[ $traces -gt $injected ]]; then
	fail+=("kernel log has $((traces - injected)) Call Trace(s) not caused by an injected fault")
fi

if [[ ${#fail[@]} -eq 0 ]]; then
	echo "run-guest: PASS (QEMU ${wall}s; console log $LOG)"
	exit 0
fi

# Failure: show why. The console is the kernel's live messages (loglevel 5: warnings and worse),
# the test's output and, at the end, the full `dmesg` between "----- dmesg -----" markers.
why=$(printf '%s; ' "${fail[@]}")
why=${why%; }
echo "run-guest: FAIL: $why (QEMU ${wall}s, exit $qrc)"
show() { tr -d '\r' | cat -v; }
lines=$(wc -l <"$LOG")
if [[ $lines -le 150 ]]; then
	echo "----- console ($LOG) -----"
	show <"$LOG"
else
	live=$(awk '/^----- dmesg -----/ { d = 1 } !d { print } /^----- end dmesg -----/ { d = 0 }' "$LOG")
	n=$(wc -l <<<"$live")
	echo "----- console without the dmesg dump ($n of $lines lines; full log: $LOG) -----"
	if [[ $n -le 250 ]]; then
		show <<<"$live"
	else
		head -n 30 <<<"$live" | show
		echo "[... $((n - 230)) lines ...]"
		tail -n 200 <<<"$live" | show
	fi
	if grep -a -q -E "$BAD" "$LOG"; then
		echo "----- kernel reports -----"
		grep -a -E -A 30 "$BAD" "$LOG" | head -n 150 | show
	fi
	if grep -a -q '^----- dmesg -----' "$LOG"; then
		echo "----- dmesg since /init (last 60 lines) -----"
		awk '/Run \/init as init process/ { p = 1 } /^----- end dmesg -----/ { p = 0 } p' "$LOG" |
			tail -n 60 | show
	fi
fi
if [[ -s "$LOG.qemu" ]]; then
	echo "----- QEMU stderr ($LOG.qemu, last 20 lines) -----"
	tail -n 20 "$LOG.qemu"
fi
echo "run-guest: FAIL: $why"
exit 1
