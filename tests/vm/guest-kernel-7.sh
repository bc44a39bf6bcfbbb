#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Provide the linux7 guest kernel: Linux 7.3 built from Debian's linux-source-7.3 (tinyconfig plus
# tests/vm/kernel-7.config: iommufd, VFIO cdev, the iommufd selftest mock, everything built in, no
# modules). Print its cache directory on stdout:
#   ${NESTD_TEST_CACHE:-/var/cache/nestd-tests}/linux-<package version>-<key>/
#       vmlinuz (the bzImage)  config  kver  package  key  kernel-7.config  build-info  .complete
# <key> is the first 12 hex digits of the SHA-256 of kernel-7.config followed by this script, so
# editing either builds a new kernel.
#
# A cache that holds a complete kernel with this key is used as is: no network, no build (pass
# --update to look for a newer linux-source-7.3 first). Otherwise scripts/fetch-linux-source
# provides the source tree (7.3, or the newest 7.* the archive has; cached under
# CACHE/linux-source/, see its --help) and the kernel is built out of tree (make O=...) with
# Debian 12's gcc: make tinyconfig, merge_config.sh -m kernel-7.config, make olddefconfig, check
# that every line of the fragment survived, make -j$(nproc) bzImage. About 5-10 minutes on 2
# cores. The object directory (CACHE/.obj-linux-<version>-<key>) is deleted once the bzImage is
# cached; after a failed build it stays, so that the next attempt continues where it stopped.
# Serialised with flock on CACHE/.lock-linux7.
#
#   guest-kernel-7.sh [--cached-only] [--update]
#     --cached-only  never fetch or build: print the cached kernel or exit 77
#     --update       ask the archive for the newest linux-source-7.3 (build it if not cached)
# Environment: NESTD_TEST_CACHE (cache root), NESTD_KERNEL_JOBS (make -j, default nproc).
# Exit: 0 ok (directory on stdout), 77 no kernel obtainable (no source: no network and nothing
#       cached), 1 other errors (missing build tools, a failed build, an option that did not
#       survive olddefconfig). Progress and errors go to stderr.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FRAGMENT=$HERE/kernel-7.config
FETCH=$ROOT/scripts/fetch-linux-source
SERIES=7.3

cached_only=0
update=0
for a in "$@"; do
	case "$a" in
	--cached-only) cached_only=1 ;;
	--update) update=1 ;;
	-h | --help) sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: guest-kernel-7.sh [--cached-only] [--update]" >&2; exit 2 ;;
	esac
done

err() { echo "guest-kernel-7: $*" >&2; }
unavailable() { err "$*"; exit 77; }
die() { err "$*"; exit 1; }
elapsed() { echo "$((SECONDS - ${1:-0}))s"; }

[[ -r "$FRAGMENT" ]] || die "$FRAGMENT not found"
KEY=$(cat "$FRAGMENT" "$0" | sha256sum | cut -c1-12)

CACHE=${NESTD_TEST_CACHE:-/var/cache/nestd-tests}
if ! mkdir -p "$CACHE" 2>/dev/null || [[ ! -w "$CACHE" ]]; then
	if [[ -n "${NESTD_TEST_CACHE:-}" ]]; then
		die "cache directory $CACHE is not writable"
	fi
	# Default location needs root; a developer without it gets a per-user cache.
	CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/nestd-tests
	mkdir -p "$CACHE" || die "cannot create cache directory $CACHE"
fi
CACHE=$(cd "$CACHE" && pwd -P)

# newest_cached: the complete cached kernel with this key and the highest package version.
newest_cached()
{
	local d best="" bestv="" v
	for d in "$CACHE"/linux-*-"$KEY"/; do
		d=${d%/}
		[[ -f "$d/.complete" && -f "$d/vmlinuz" && -f "$d/package" ]] || continue
		v=$(sed -n 's/^[^=]*=//p' "$d/package")
		if [[ -z "$best" ]] || dpkg --compare-versions "$v" gt "$bestv"; then
			best=$d
			bestv=$v
		fi
	done
	[[ -n "$best" ]] && echo "$best"
	return 0
}

# A finished directory is renamed into place whole, so a hit needs no lock.
if [[ $update -eq 0 ]]; then
	hit=$(newest_cached)
	if [[ -n "$hit" ]]; then
		echo "$hit"
		exit 0
	fi
fi
if [[ $cached_only -eq 1 ]]; then
	unavailable "no linux7 guest kernel with key $KEY cached in $CACHE (run tests/vm/guest-kernel-7.sh, or ctest's vm-kernel-7)"
fi

exec 9>"$CACHE/.lock-linux7"
if ! flock -n 9; then
	err "waiting for another guest-kernel-7.sh (lock $CACHE/.lock-linux7)"
	flock -w 1800 9 || die "timed out waiting for the lock on $CACHE/.lock-linux7"
fi
if [[ $update -eq 0 ]]; then
	# Another run may have built it while we waited.
	hit=$(newest_cached)
	if [[ -n "$hit" ]]; then
		echo "$hit"
		exit 0
	fi
fi

missing=()
for tool in make gcc ld flex bison bc perl xz sha256sum flock dpkg; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[[ -f /usr/include/gelf.h ]] || missing+=("libelf-dev (gelf.h)")
[[ ${#missing[@]} -eq 0 ]] ||
	die "missing build tools: ${missing[*]} (scripts/deps installs flex bison libelf-dev bc build-essential)"
[[ -x "$FETCH" ]] || die "$FETCH not found"

t0=$SECONDS
err "no cached kernel with key $KEY: fetching linux-source-$SERIES"
rc=0
SRC=$("$FETCH" "$SERIES" "$CACHE") || rc=$?
if [[ $rc -ne 0 || -z "$SRC" || ! -f "$SRC/Makefile" ]]; then
	unavailable "cannot obtain the linux-source-$SERIES tree (fetch-linux-source exit $rc: no network and nothing cached?)"
fi
[[ -f "$SRC/../.complete" ]] || die "$SRC has no ../.complete (not a fetch-linux-source tree)"
read -r PKG VER <"$SRC/../.complete"
[[ -n "$PKG" && -n "$VER" ]] || die "cannot read the package version from $SRC/../.complete"
err "source: $PKG $VER ($SRC, $(elapsed "$t0"))"

DEST=$CACHE/linux-$VER-$KEY
if [[ -f "$DEST/.complete" ]]; then
	echo "$DEST"
	exit 0
fi
[[ ! -e "$SRC/.config" && ! -d "$SRC/include/config" ]] ||
	die "$SRC is not pristine (it has a .config or include/config): cannot build out of tree"

OBJ=$CACHE/.obj-linux-$VER-$KEY
mkdir -p "$OBJ"
LOG=$OBJ/build.log
: >"$LOG"
JOBS=${NESTD_KERNEL_JOBS:-$(nproc 2>/dev/null || echo 2)}
# Debian 12's gcc, whatever the environment says; fixed build user/host for a stable `uname -v`.
unset LLVM CROSS_COMPILE KCONFIG_CONFIG KBUILD_OUTPUT
kmake()
{
	make -C "$SRC" O="$OBJ" ARCH=x86_64 CC=gcc HOSTCC=gcc KBUILD_BUILD_USER=nestd \
		KBUILD_BUILD_HOST=nestd-tests "$@" >>"$LOG" 2>&1
}
fail_build()
{
	err "$1 failed; last lines of $LOG:"
	tail -n 40 "$LOG" >&2
	die "$1 failed (the object directory $OBJ is kept for the next attempt)"
}

t1=$SECONDS
err "configuring in $OBJ (tinyconfig + $(basename "$FRAGMENT"))"
kmake tinyconfig || fail_build "make tinyconfig"
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "$FRAGMENT" >>"$LOG" 2>&1 ||
	fail_build "merge_config.sh"
kmake olddefconfig || fail_build "make olddefconfig"

# Every line of the fragment must have survived olddefconfig unchanged.
lost=()
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		name=${line%%=*}
		grep -qxF -- "$line" "$OBJ/.config" ||
			lost+=("$line (got: $(grep -E "^(# )?${name}[= ]" "$OBJ/.config" || echo "absent"))")
		;;
	"# CONFIG_"*" is not set")
		name=${line#"# "}
		name=${name%% *}
		if grep -qE "^$name=" "$OBJ/.config"; then
			lost+=("$line (got: $(grep -E "^$name=" "$OBJ/.config"))")
		fi
		;;
	esac
done <"$FRAGMENT"
if [[ ${#lost[@]} -gt 0 ]]; then
	err "options of $(basename "$FRAGMENT") that did not survive make olddefconfig (unmet dependencies or renamed symbols in $PKG $VER):"
	printf '  %s\n' "${lost[@]}" >&2
	die "${#lost[@]} requested option(s) missing from the configuration"
fi
err "configured in $(elapsed "$t1"); building bzImage with make -j$JOBS (log: $LOG)"

t2=$SECONDS
kmake -j"$JOBS" bzImage || fail_build "make bzImage"
BZ=$OBJ/arch/x86/boot/bzImage
[[ -f "$BZ" ]] || fail_build "make bzImage (no $BZ)"
KVER=$(make -s -C "$SRC" O="$OBJ" ARCH=x86_64 kernelrelease 2>>"$LOG") || fail_build "make kernelrelease"
warnings=$(grep -c 'warning:' "$LOG" || true)
err "built $KVER in $(elapsed "$t2") ($(du -k "$BZ" | cut -f1) KiB bzImage, $warnings compiler warnings)"

WORK=$(mktemp -d "$CACHE/.work-linux7.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
cp "$BZ" "$WORK/vmlinuz"
cp "$OBJ/.config" "$WORK/config"
cp "$FRAGMENT" "$WORK/kernel-7.config"
echo "$KVER" >"$WORK/kver"
echo "$PKG=$VER" >"$WORK/package"
echo "$KEY" >"$WORK/key"
{
	echo "source: $PKG $VER"
	echo "compiler: $(gcc --version | head -n 1)"
	echo "make -j$JOBS: configure $((t2 - t1)) s, bzImage $((SECONDS - t2)) s, total with fetch $((SECONDS - t0)) s"
	echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$WORK/build-info"
touch "$WORK/.complete"
rm -rf "$DEST"
mv "$WORK" "$DEST"
trap - EXIT

# The bzImage is cached: the object directory (a few hundred MB) is no longer needed, and
# neither are those of other versions or keys (stale failed attempts).
rm -rf "$OBJ" "$CACHE"/.obj-linux-* "$CACHE"/.work-linux7.*
err "cached $PKG $VER (kernel $KVER, key $KEY) in $DEST ($(elapsed "$t0") in all)"
echo "$DEST"
