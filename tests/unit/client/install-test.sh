#!/bin/sh
# install-test.sh BUILD_DIR CC SANITIZE_FLAGS SYMFILE MANPAGE
# Installs the build tree into a temporary DESTDIR and checks the installed shape of libnest:
# soname, exported symbols (exactly the version script's list), headers, libnest.pc,
# nestctl + its bash completion, and a program built with `pkg-config --cflags --libs libnest`
# that runs against the installed library.
set -eu

build=$1
cc=$2
san=$3
symfile=$4
manpage=$5

tmp=$(mktemp -d /tmp/nest-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install-test: FAIL: $*" >&2; exit 1; }

DESTDIR=$tmp/root cmake --install "$build" --prefix /usr >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; fail "cmake --install"; }
root=$tmp/root

pc=$(find "$root" -name libnest.pc | head -n1)
[ -n "$pc" ] || fail "libnest.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
[ -f "$root/usr/include/nest/libnest.h" ] || fail "nest/libnest.h not installed"
[ -f "$root/usr/include/nest/nest-proto.h" ] || fail "nest/nest-proto.h not installed"
[ -x "$root/usr/bin/nestctl" ] || fail "nestctl not installed"
[ -f "$root/usr/share/bash-completion/completions/nestctl" ] || fail "bash completion not installed"
if command -v scdoc >/dev/null; then
	[ -f "$root/usr/share/man/man3/libnest.3" ] || fail "libnest(3) not installed"
	[ -f "$root/usr/share/man/man1/nestctl.1" ] || fail "nestctl(1) not installed"
fi
[ -L "$libdir/libnest.so" ] || fail "libnest.so dev symlink missing in $libdir"
[ -f "$libdir/libnest.so.0.1.0" ] || fail "libnest.so.0.1.0 missing"

soname=$(objdump -p "$libdir/libnest.so.0.1.0" | awk '/SONAME/ {print $2}')
[ "$soname" = "libnest.so.0" ] || fail "soname is '$soname'"

# exported = defined dynamic symbols; expected = the names in the version script
objdump -T "$libdir/libnest.so.0.1.0" | awk '$2 != "*UND*" && $4 != "*UND*" && /LIBNEST_0.1/ && $NF != "LIBNEST_0.1" {print $NF}' |
	sort >"$tmp/exported"
grep -E '^\s+nest_[a-z_]+;' "$symfile" | tr -d ' \t;' | sort >"$tmp/expected"
diff -u "$tmp/expected" "$tmp/exported" || fail "exported symbols differ from libnest.sym"
if objdump -T "$libdir/libnest.so.0.1.0" | awk '$4 != "*UND*"' | grep -v LIBNEST_0.1 | grep -q ' nest_'; then
	fail "unversioned nest_ symbols exported"
fi

cat >"$tmp/prog.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <nest/libnest.h>

int main(void)
{
	nest_client *c = NULL;
	int r = nest_client_connect("/nonexistent/nestd.sock", 0, &c);

	if (strcmp(nest_version(), "0.1.0") || r != -ENOENT || c) {
		fprintf(stderr, "unexpected: version %s, connect %d\n", nest_version(), r);
		return 1;
	}
	printf("libnest %s ok\n", nest_version());
	return 0;
}
C
export PKG_CONFIG_PATH="$libdir/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$root"
flags=$(pkg-config --cflags --libs libnest) || fail "pkg-config libnest"
echo "pkg-config --cflags --libs libnest: $flags"
# shellcheck disable=SC2086
$cc $san -Wall -Werror -o "$tmp/prog" "$tmp/prog.c" $flags || fail "compiling against the installed libnest"
LD_LIBRARY_PATH="$libdir" "$tmp/prog" || fail "running against the installed libnest"
[ "$(pkg-config --modversion libnest)" = "0.1.0" ] || fail "libnest.pc version"

# the complete example of libnest(3) must build against the installed library as printed
awk '/^# EXAMPLE/ {ex = 1} ex && /^```/ {n++; next} ex && n == 1 {print}' "$manpage" |
	sed 's/\\\\/\\/g' >"$tmp/example.c"
[ -s "$tmp/example.c" ] || fail "no example found in $manpage"
# shellcheck disable=SC2086
$cc $san -Wall -Werror -o "$tmp/example" "$tmp/example.c" $flags ||
	fail "the libnest(3) EXAMPLE does not compile"
echo "install-test: ok"
