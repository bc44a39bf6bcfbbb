#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `cmake --install BUILD --prefix /usr` into a temporary DESTDIR must lay out everything where
# Debian expects it. Lists every missing file (nothing is skipped) and fails if any is missing.
#   check-install.sh BUILD_DIR MULTIARCH UNITDIR SYSUSERSDIR TMPFILESDIR
set -uo pipefail

BUILD=$1
MA=${2:-$(gcc -print-multiarch 2>/dev/null)}
UNITDIR=$3
SYSUSERSDIR=$4
TMPFILESDIR=$5
LIBDIR=/usr/lib${MA:+/$MA}

D=$(mktemp -d /tmp/nestd-install.XXXXXX)
trap 'rm -rf "$D"' EXIT

if ! DESTDIR=$D cmake --install "$BUILD" --prefix /usr >"$D.log" 2>&1; then
	cat "$D.log"
	rm -f "$D.log"
	echo "FAIL: cmake --install failed"
	exit 1
fi
rm -f "$D.log"

missing=()
need() { # need TEST PATH [what]
	if ! test "$1" "$D$2"; then
		missing+=("$2${3:+ ($3)}")
	fi
}
need -x /usr/sbin/nestd "daemon"
need -x /usr/bin/nestctl "operator CLI"
need -e "$LIBDIR/libnest.so.0" "libnest runtime, soname"
need -L "$LIBDIR/libnest.so" "libnest dev symlink"
need -f "$LIBDIR/pkgconfig/libnest.pc"
need -f /usr/include/nest/nest-proto.h "wire ABI header"
need -f /usr/include/nest/libnest.h "libnest API header"
for u in nestd.service nestd.socket nestd-admin.socket; do
	need -f "$UNITDIR/$u"
done
need -f "$SYSUSERSDIR/nestd.conf" "sysusers: groups nest, nest-admin"
need -f "$TMPFILESDIR/nestd.conf" "tmpfiles: /run/nestd"
need -f /etc/nestd/nestd.conf "default config"
need -f /usr/share/man/man8/nestd.8
need -f /usr/share/man/man5/nestd.conf.5
need -f /usr/share/man/man1/nestctl.1
need -f /usr/share/man/man3/libnest.3
need -f /usr/share/bash-completion/completions/nestctl
need -f /usr/share/doc/nestd/LICENSE

fails=0
if [[ ${#missing[@]} -ne 0 ]]; then
	echo "FAIL: missing after cmake --install --prefix /usr:"
	printf '  %s\n' "${missing[@]}"
	fails=$((fails + ${#missing[@]}))
fi

# What is there must also be right.
if [[ -e "$D$LIBDIR/libnest.so.0" ]]; then
	soname=$(readelf -d "$D$LIBDIR/libnest.so.0" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	if [[ "$soname" != libnest.so.0 ]]; then
		echo "FAIL: libnest.so.0 has SONAME '${soname}'"
		fails=$((fails + 1))
	fi
fi
if [[ -f "$D$LIBDIR/pkgconfig/libnest.pc" ]]; then
	pcout=$(PKG_CONFIG_PATH="$D$LIBDIR/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D" \
		pkg-config --cflags --libs libnest 2>&1)
	if [[ $? -ne 0 || "$pcout" != *-lnest* ]]; then
		echo "FAIL: pkg-config libnest: $pcout"
		fails=$((fails + 1))
	fi
	if ! grep -q '^prefix=/usr$' "$D$LIBDIR/pkgconfig/libnest.pc"; then
		echo "FAIL: libnest.pc prefix is not /usr:"
		grep '^prefix=' "$D$LIBDIR/pkgconfig/libnest.pc"
		fails=$((fails + 1))
	fi
fi
if [[ -f "$D$UNITDIR/nestd.service" ]]; then
	for b in /usr/sbin/nestd /usr/bin/nestctl; do
		grep -q "=$b\\b" "$D$UNITDIR/nestd.service" ||
			{ echo "FAIL: installed nestd.service does not run $b"; fails=$((fails + 1)); }
	done
fi

if [[ $fails -ne 0 ]]; then
	echo "--- installed tree:"
	(cd "$D" && find . -type f -o -type l | sort)
	exit 1
fi
echo "install layout ok: $(cd "$D" && find . -type f -o -type l | wc -l) files under DESTDIR"
