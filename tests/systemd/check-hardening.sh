#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The installed programs and libnest are built like a Debian privileged daemon (what
# hardening-check from devscripts reports, read here with readelf): PIE executables, full RELRO
# (GNU_RELRO + BIND_NOW), stack protector (__stack_chk_fail), _FORTIFY_SOURCE (__*_chk calls; not
# in sanitizer builds, where the sanitizers replace it).
#   check-hardening.sh fortify|nofortify FILE...
set -uo pipefail

mode=$1
shift
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
for f in "$@"; do
	name=$(basename "$f")
	[[ -f "$f" ]] || { fail "$f: not found"; continue; }
	hdr=$(readelf -h -W "$f") || { fail "$name: not ELF"; continue; }
	dyn=$(readelf -d -W "$f")
	phdr=$(readelf -l -W "$f")
	syms=$(readelf --dyn-syms -W "$f")
	if [[ "$name" != *.so* ]]; then
		grep -q 'Type: *DYN' <<<"$hdr" && grep -q 'FLAGS_1.*PIE' <<<"$dyn" ||
			fail "$name: not PIE"
	fi
	grep -q GNU_RELRO <<<"$phdr" || fail "$name: no RELRO (-z relro)"
	grep -q -E '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' <<<"$dyn" || fail "$name: no BIND_NOW (-z now)"
	grep -q ' __stack_chk_fail' <<<"$syms" || fail "$name: no stack protector (__stack_chk_fail)"
	if [[ "$mode" == fortify ]]; then
		grep -q -E ' __[a-z_]+_chk(@|$)' <<<"$syms" || fail "$name: no _FORTIFY_SOURCE (__*_chk) calls"
	fi
	grep -q 'GNU_STACK.*RWE' <<<"$phdr" && fail "$name: executable stack"
	[[ $fails -eq 0 ]] && echo "ok: $name: PIE/RELRO/BIND_NOW/stack protector${mode/nofortify/}" | sed 's/fortify$/\/FORTIFY/'
done
[[ $fails -eq 0 ]]
