#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/fetch-qemu's build key (--print-key) on a copy of its inputs: it changes when the
# script, a patch of the series or a header the series compiles against from this tree
# (client/include/nest/libnest.h, protocol/nest-proto.h: libnest.pc's Cflags) changes, and only
# then. Nothing is fetched or built (under a second).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd -P)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# a checkout of just what the key may cover, and a bystander of each directory
mkdir -p "$tmp/t/scripts" "$tmp/t/client/qemu" "$tmp/t/client/include/nest" "$tmp/t/protocol" \
	"$tmp/t/daemon"
cp "$TOP/scripts/fetch-qemu" "$tmp/t/scripts/"
cp "$TOP"/client/qemu/*.patch "$TOP/client/qemu/README.md" "$tmp/t/client/qemu/"
cp "$TOP/client/include/nest/libnest.h" "$tmp/t/client/include/nest/"
cp "$TOP"/protocol/*.h "$TOP"/protocol/*.c "$tmp/t/protocol/"
cp "$TOP/daemon/memory.c" "$tmp/t/daemon/"
ls "$tmp"/t/client/qemu/*.patch >/dev/null || fail "no patch series in client/qemu"

key() { "$tmp/t/scripts/fetch-qemu" --libnest "$tmp/nonexistent-build" --print-key "$tmp/cache" 2>"$tmp/err"; }
k0=$(key)
[[ "$k0" =~ ^[0-9a-f]{12}$ ]] || fail "--print-key printed '$k0'"
[[ ! -e "$tmp/cache" ]] || fail "--print-key created the cache directory"
grep -q 'header .* nest/libnest.h$' "$tmp/err" || fail "libnest.h not in the key: $(cat "$tmp/err")"
grep -q 'header .* nest-proto.h$' "$tmp/err" || fail "nest-proto.h not in the key: $(cat "$tmp/err")"
[[ "$(key)" == "$k0" ]] || fail "the key is not stable"

# a copy in another directory has the same key
cp -a "$tmp/t" "$tmp/u"
[[ "$("$tmp/u/scripts/fetch-qemu" --libnest "$tmp/x" --print-key 2>/dev/null)" == "$k0" ]] ||
	fail "the key depends on the checkout's directory"

# changes(FILE): the key changes when FILE gets one more line, and is back when it is restored
changes() {
	cp "$1" "$tmp/saved"
	echo "/* changed */" >>"$1"
	local k1
	k1=$(key)
	cp "$tmp/saved" "$1"
	[[ "$k1" != "$k0" ]] || return 1
	[[ "$(key)" == "$k0" ]] || fail "the key did not come back after restoring ${1#"$tmp"/t/}"
}
for f in client/include/nest/libnest.h protocol/nest-proto.h scripts/fetch-qemu \
	client/qemu/0003-vfio-add-a-nestd-VFIO-IOMMU-backend.patch; do
	changes "$tmp/t/$f" || fail "a change of $f does not change the key"
done
# nothing QEMU compiles: nestd's sources, protocol headers libnest.h does not include, the README
for f in protocol/nest-msg.h protocol/msg.c daemon/memory.c client/qemu/README.md; do
	if changes "$tmp/t/$f"; then
		fail "a change of $f changes the key"
	fi
done

# a header libnest.h starts to include joins the key
echo '#include "nest-msg.h"' >>"$tmp/t/client/include/nest/libnest.h"
k2=$(key)
grep -q 'header .* nest-msg.h$' "$tmp/err" || fail "a header libnest.h includes is not in the key"
echo "/* changed */" >>"$tmp/t/protocol/nest-msg.h"
[[ "$(key)" != "$k2" ]] || fail "a change of a header libnest.h includes does not change the key"

# an installed libnest (no --libnest): the headers under its pkg-config includedir, also where
# that is a system directory such as /usr/include (whose -I pkg-config --cflags leaves out); the
# system's own headers there (<stdint.h>) are not libnest's and stay out of the key
pre=$tmp/prefix
mkdir -p "$pre/include/nest" "$pre/lib/pkgconfig"
cp "$TOP/client/include/nest/libnest.h" "$TOP/protocol/nest-proto.h" "$pre/include/nest/"
echo '/* a system header */' >"$pre/include/stdint.h"
printf 'prefix=%s\nincludedir=${prefix}/include\n\nName: libnest\nDescription: x\nVersion: 0.1\nCflags: -I${includedir}\n' \
	"$pre" >"$pre/lib/pkgconfig/libnest.pc"
ikey() { PKG_CONFIG_PATH=$pre/lib/pkgconfig "$tmp/t/scripts/fetch-qemu" --print-key "$tmp/cache" 2>"$tmp/err"; }
k3=$(ikey)
grep -q 'header .* nest/libnest.h$' "$tmp/err" || fail "installed libnest.h not in the key: $(cat "$tmp/err")"
grep -q 'header .* nest-proto.h$' "$tmp/err" || fail "installed nest-proto.h not in the key"
if grep -q 'stdint.h' "$tmp/err"; then
	fail "a system header is in the key: $(cat "$tmp/err")"
fi
echo "/* changed */" >>"$pre/include/nest/nest-proto.h"
[[ "$(ikey)" != "$k3" ]] || fail "a change of the installed nest-proto.h does not change the key"
echo "/* changed */" >>"$pre/include/stdint.h"
k4=$(ikey)
echo "/* changed again */" >>"$pre/include/stdint.h"
[[ "$(ikey)" == "$k4" ]] || fail "a change of a system header changes the key"
echo "PASS: fetch-qemu's key covers the script, the series and libnest's headers"
