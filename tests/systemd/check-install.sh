#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `cmake --install BUILD --prefix P` into a temporary DESTDIR, for P = /usr (the Debian layout) and
# P = /usr/local (a non-default prefix): every file must be where expected and every installed
# path must follow P (nothing outside P except the config in /etc for P = /usr); the units must run
# P's binaries; libnest.pc must work without json-c's .pc; the installed headers must compile as
# C++ (g++ -std=gnu++17, and clang++ when present) and as C. Lists every problem (nothing skipped).
#   check-install.sh BUILD_DIR MULTIARCH [link|compile-only]
# compile-only (sanitizer builds, whose libnest needs the sanitizer runtime of the program that
# loads it): the headers are compiled, the programs not linked and run.
set -uo pipefail

BUILD=$1
MA=${2:-$(gcc -print-multiarch 2>/dev/null)}
MODE=${3:-link}

T=$(mktemp -d /tmp/nestd-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# check_prefix P ETC: install with prefix P, the config expected under ETC.
check_prefix() {
	local P=$1 ETC=$2 D=$T/root${1//\//_}
	local LIBDIR=$P/lib${MA:+/$MA} UNITDIR=$P/lib/systemd/system
	echo "--- cmake --install --prefix $P"
	if ! DESTDIR=$D cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1; then
		cat "$T/install.log"
		fail "cmake --install --prefix $P failed"
		return
	fi
	local missing=()
	need() { # need TEST PATH [what]
		test "$1" "$D$2" || missing+=("$2${3:+ ($3)}")
	}
	need -x "$P/sbin/nestd" "daemon"
	need -x "$P/bin/nestctl" "operator CLI"
	need -e "$LIBDIR/libnest.so.0" "libnest runtime, soname"
	need -L "$LIBDIR/libnest.so" "libnest dev symlink"
	need -f "$LIBDIR/pkgconfig/libnest.pc"
	need -f "$P/include/nest/nest-proto.h" "wire ABI header"
	need -f "$P/include/nest/nest-admin.h" "admin ABI header"
	need -f "$P/include/nest/libnest.h" "libnest API header"
	for u in nestd.service nestd.socket nestd-admin.socket; do
		need -f "$UNITDIR/$u"
	done
	need -f "$P/lib/sysusers.d/nestd.conf" "sysusers: groups nest, nest-admin"
	need -f "$P/lib/tmpfiles.d/nestd.conf" "tmpfiles: /run/nestd"
	need -f "$ETC/nestd/nestd.conf" "default config"
	need -f "$P/share/man/man8/nestd.8"
	need -f "$P/share/man/man5/nestd.conf.5"
	need -f "$P/share/man/man1/nestctl.1"
	need -f "$P/share/man/man3/libnest.3"
	need -f "$P/share/bash-completion/completions/nestctl"
	need -f "$P/share/doc/nestd/LICENSE"
	need -x "$P/libexec/nestd/nestd-example-vmm" "example VMM, outside PATH"
	need -f "$P/share/doc/nestd/examples/example-vmm.c" "example VMM source"
	if [[ ${#missing[@]} -ne 0 ]]; then
		fail "missing after cmake --install --prefix $P:"
		printf '  %s\n' "${missing[@]}"
	fi
	# nothing outside the prefix (but the config), no example among the tools
	local stray
	stray=$(cd "$D" && find . \( -type f -o -type l \) | sed 's/^\.//' |
		grep -v -e "^$P/" -e "^$ETC/nestd/" || true)
	[[ -z "$stray" ]] || fail "installed outside $P:"$'\n'"$stray"
	[[ ! -e "$D$P/bin/nestd-example-vmm" ]] || fail "the example VMM is installed in $P/bin"

	if [[ -f "$D$LIBDIR/libnest.so.0" ]]; then
		local soname
		soname=$(readelf -d "$D$LIBDIR/libnest.so.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
		[[ "$soname" == libnest.so.0 ]] || fail "libnest.so.0 has SONAME '$soname'"
	fi
	if [[ -f "$D$UNITDIR/nestd.service" ]]; then
		local exec
		exec=$(sed -n 's/^ExecStart=//p' "$D$UNITDIR/nestd.service")
		if [[ "$ETC" == /etc ]]; then
			[[ "$exec" == "$P/sbin/nestd" ]] || fail "ExecStart=$exec, want $P/sbin/nestd"
		else
			[[ "$exec" == "$P/sbin/nestd --config $ETC/nestd/nestd.conf" ]] ||
				fail "ExecStart=$exec, want $P/sbin/nestd --config $ETC/nestd/nestd.conf"
		fi
		grep -q "^ExecReload=$P/bin/nestctl reload$" "$D$UNITDIR/nestd.service" ||
			fail "installed nestd.service does not reload with $P/bin/nestctl"
		local other
		other=$(grep -h -o -E '/usr/(s?bin|local)/[^ ]*' "$D$UNITDIR"/nestd*.s* | grep -v "^$P/" || true)
		[[ -z "$other" ]] || fail "units name paths outside $P: $other"
	fi
	local pc=$D$LIBDIR/pkgconfig/libnest.pc
	[[ -f "$pc" ]] || return
	grep -q "^prefix=$P\$" "$pc" || fail "libnest.pc: $(grep '^prefix=' "$pc"), want $P"
	grep -q -i '^Requires' "$pc" && fail "libnest.pc has $(grep -i '^Requires' "$pc") (json-c is not in libnest's API)"
	# Only libnest.pc visible: what a VMM build sees without libjson-c-dev.
	local flags
	if ! flags=$(PKG_CONFIG_LIBDIR="$D$LIBDIR/pkgconfig" PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR="$D" \
		pkg-config --cflags --libs libnest 2>&1); then
		fail "pkg-config --cflags --libs libnest without json-c.pc: $flags"
		return
	fi
	[[ "$flags" == *-lnest* && "$flags" == *"-I$D$P/include"* ]] || fail "pkg-config libnest: '$flags'"

	# The installed headers, as a C++ VMM and a C VMM include them.
	cat >"$T/vmm.cc" <<'CXX'
#include <nest/libnest.h>
#include <nest/nest-admin.h>
#include <cerrno>
#include <cstdio>

int main()
{
	nest_client *c = nullptr;
	int r = nest_client_connect("/nonexistent/nestd.sock", 0, &c);
	struct nest_msg_hdr h = {};
	std::printf("libnest %s from C++: connect %d, hdr %zu bytes\n", nest_version(), r, sizeof h);
	return r == -ENOENT && c == nullptr ? 0 : 1;
}
CXX
	sed -e 's/<cerrno>/<errno.h>/' -e 's/<cstdio>/<stdio.h>/' -e 's/nullptr/NULL/g' \
		-e 's/std::printf/printf/' -e 's/= {};/= {0};/' "$T/vmm.cc" >"$T/vmm.c"
	local cxx link=() cflags
	cflags=$(PKG_CONFIG_LIBDIR="$D$LIBDIR/pkgconfig" PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR="$D" \
		pkg-config --cflags libnest)
	[[ $MODE == compile-only ]] && link=(-c) flags=$cflags
	for cxx in g++ clang++; do
		command -v "$cxx" >/dev/null 2>&1 || { [[ $cxx == g++ ]] && fail "g++ not found"; continue; }
		# shellcheck disable=SC2086
		if ! "$cxx" -std=gnu++17 -Wall -Wextra -Werror -pedantic "${link[@]}" -o "$T/vmm-$cxx" \
			"$T/vmm.cc" $flags >"$T/cxx.log" 2>&1; then
			head -n 30 "$T/cxx.log"
			fail "$cxx -std=gnu++17 against the headers installed under $P: $(grep -c 'error' "$T/cxx.log") errors"
		elif [[ $MODE != compile-only ]] && ! LD_LIBRARY_PATH="$D$LIBDIR" "$T/vmm-$cxx"; then
			fail "the C++ program built by $cxx failed against the installed libnest"
		fi
	done
	# shellcheck disable=SC2086
	gcc -std=c11 -Wall -Wextra -Werror -pedantic "${link[@]}" -o "$T/vmm-c" "$T/vmm.c" $flags \
		>"$T/c.log" 2>&1 ||
		{ head -n 30 "$T/c.log"; fail "gcc -std=c11 -pedantic against the installed headers"; }
}

check_prefix /usr /etc
check_prefix /usr/local /usr/local/etc

if [[ $fails -ne 0 ]]; then
	echo "install layout: $fails problem(s)"
	exit 1
fi
echo "install layout ok for the prefixes /usr and /usr/local"
