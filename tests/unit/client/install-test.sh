#!/bin/sh
# install-test.sh BUILD_DIR CC SANITIZE_FLAGS SYMFILE MANPAGE
# Installs the build tree into a temporary DESTDIR and checks the installed shape of libnest:
# soname, exported symbols (exactly the version script's list), headers, libnest.pc,
# nestctl + its bash completion, a program built with `pkg-config --cflags --libs libnest`
# that runs against the installed library, and the EXAMPLE of libnest(3) built the same way and
# run against the installed nestd, and the bash completion (VM names asked from that nestd).
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

# exported = defined dynamic symbols as "VERSION name" (a compat version, shown "(LIBNEST_x)", and
# the default one alike); expected = every name of every node of the version script
objdump -T "$libdir/libnest.so.0.1.0" |
	awk 'NF >= 2 && $4 != "*UND*" && $(NF-1) ~ /^\(?LIBNEST_[0-9.]+\)?$/ && $NF ~ /^nest_/ {
		v = $(NF-1); gsub(/[()]/, "", v); print v, $NF }' | sort >"$tmp/exported"
awk '/^LIBNEST_[0-9.]+ *\{/ {node = $1} /^[ \t]+nest_[a-z_0-9]+;/ {n = $1; sub(/;/, "", n); print node, n}' \
	"$symfile" | sort >"$tmp/expected"
[ -s "$tmp/expected" ] || fail "no symbols found in $symfile"
diff -u "$tmp/expected" "$tmp/exported" || fail "exported symbols differ from libnest.sym"
if objdump -T "$libdir/libnest.so.0.1.0" | awk '$4 != "*UND*"' | grep -v LIBNEST_ | grep -q ' nest_'; then
	fail "unversioned nest_ symbols exported"
fi
# nest_vm_attach: the default version is the newest node's, LIBNEST_0.1's stays for old programs
objdump -T "$libdir/libnest.so.0.1.0" | grep -q ' LIBNEST_0.2 *nest_vm_attach$' ||
	fail "nest_vm_attach@@LIBNEST_0.2 is not the default version"
objdump -T "$libdir/libnest.so.0.1.0" | grep -q '(LIBNEST_0.1) *nest_vm_attach$' ||
	fail "nest_vm_attach@LIBNEST_0.1 (72-byte vm_info) is missing"

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

# ... and must run: against the installed nestd (sim backend, private sockets), with only the
# socket path changed from the default
nestd=$(find "$root" -type f -name nestd -perm -u+x | head -n1)
[ -n "$nestd" ] || fail "nestd not installed"
printf '[Daemon]\nBackend=sim\n\n[VM]\nName=vm0\nOwner=%s\nPASIDQuota=4\nGracePeriodSec=0\nDevice=dsa0 id=1 ats=yes pasid-bits=20\n' \
	"$(id -u)" >"$tmp/nestd.conf"
sed "s|nest_client_connect(NULL,|nest_client_connect(\"$tmp/nestd.sock\",|" "$tmp/example.c" \
	>"$tmp/example-run.c"
grep -q "$tmp/nestd.sock" "$tmp/example-run.c" || fail "EXAMPLE: no nest_client_connect(NULL, ...)"
# shellcheck disable=SC2086
$cc $san -Wall -Werror -o "$tmp/example-run" "$tmp/example-run.c" $flags || fail "EXAMPLE build"
LD_LIBRARY_PATH="$libdir" "$nestd" --config "$tmp/nestd.conf" --socket "$tmp/nestd.sock" \
	--admin-socket "$tmp/admin.sock" >"$tmp/nestd.log" 2>&1 &
nestd_pid=$!
trap 'kill "$nestd_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
i=0
while [ ! -S "$tmp/nestd.sock" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 "$nestd_pid" 2>/dev/null; then
		cat "$tmp/nestd.log" >&2
		fail "nestd did not start"
	fi
	sleep 0.05
done
if ! LD_LIBRARY_PATH="$libdir" "$tmp/example-run"; then
	cat "$tmp/nestd.log" >&2
	fail "the libnest(3) EXAMPLE failed against nestd"
fi
for op in attach mem-add bind detach; do
	grep -q "op=$op vm=vm0 .*result=ok" "$tmp/nestd.log" ||
		{ cat "$tmp/nestd.log" >&2; fail "EXAMPLE: no successful $op in the nestd log"; }
done
# bash completion, as installed, with the installed nestctl asking the running nestd
if [ -f /usr/share/bash-completion/bash_completion ] && command -v bash >/dev/null; then
	comp=$(PATH="$root/usr/bin:$PATH" LD_LIBRARY_PATH="$libdir" bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$1/usr/share/bash-completion/completions/nestctl"
		t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"
			COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _nestctl; echo "${COMPREPLY[*]}"; }
		t nestctl ""; t nestctl vm ""; t nestctl log-level ""
		t nestctl -s "$2" vm show ""; t nestctl --js' sh "$root" "$tmp/admin.sock")
	expect="status stats reload log-level vm pasid device sim
list show evict
debug info notice warning err
vm0
--json --json=pretty --json=short --json=off"
	[ "$comp" = "$expect" ] || fail "bash completion: got
$comp
expected
$expect"
fi
kill "$nestd_pid"
wait "$nestd_pid" || fail "nestd exit status $?"
echo "install-test: ok"
