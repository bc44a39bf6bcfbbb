#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The vm-qemu-build fixture: QEMU built with the client/qemu/ series against this build's libnest
# (scripts/fetch-qemu: source and meson through a private apt configuration, cached in
# /var/cache/nestd-tests keyed on the QEMU version, the series and the script; libnest is linked
# dynamically through its stable ABI, so it is not part of the key).
#   qemu-nestd.sh OUTDIR NEST_BUILD_DIR
# On success OUTDIR/qemu-system-x86_64 links to the cached binary. When the source cannot be had,
# OUTDIR/qemu-system-x86_64.skip holds the reason, which vm-qemu reports as its SKIP (a failure
# under CI=true, like this fixture). Exit 0 ready, 77 skip, 1 fail.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
[[ $# -eq 2 ]] || { echo "usage: qemu-nestd.sh OUTDIR NEST_BUILD_DIR" >&2; exit 2; }
out=$1/qemu-system-x86_64
mkdir -p "$1"
rm -f "$out" "$out.skip"
t0=$SECONDS
rc=0
bin=$("$HERE/../../scripts/fetch-qemu" --libnest "$2") || rc=$?
if [[ $rc -eq 77 ]]; then
	echo "the QEMU source cannot be fetched and none is cached (see scripts/fetch-qemu's messages)" >"$out.skip"
	nest_vm_skip "$(cat "$out.skip")"
elif [[ $rc -ne 0 ]]; then
	echo "FAIL: scripts/fetch-qemu exit $rc" >&2
	exit 1
fi
ln -sfn "$bin" "$out"
echo "qemu with the nestd series: $bin ($((SECONDS - t0))s)"
