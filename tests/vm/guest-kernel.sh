#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Provide Debian 12's own 6.12 kernel for the guest tests, unpacked and pruned, and print its
# cache directory on stdout:
#   ${NESTD_TEST_CACHE:-/var/cache/nestd-tests}/debian-<package version>/
#       vmlinuz  config  kver  package  lib/modules/<kver>/{kernel/...,modules.dep,...}  .complete
# Only the vfio-pci / vfio_iommu_type1 module closure is kept (a few hundred KiB of modules).
#
# A cache that already holds a complete kernel is used as is, with no network access at all,
# even when the archive has a newer one (pass --update to look for a newer one). Otherwise the
# metapackage linux-image-6.12-amd64 (bookworm-security) is resolved with apt-cache to the real
# linux-image-6.12.*-amd64 package, fetched with `apt-get download` and unpacked with `dpkg -x`.
# `apt-get update` runs only when the lookup or the download fails. Serialised with flock, so
# several ctest entries may call this at once.
#
#   guest-kernel.sh [--cached-only] [--update]
#     --cached-only  never download: print the cached kernel or exit 77
#     --update       resolve the newest package even if a kernel is cached (needs the archive)
# Exit: 0 ok (directory on stdout), 77 no kernel obtainable (no network / archive / cache),
#       1 other errors (missing tools, broken package). Messages go to stderr.
set -euo pipefail

META=${NESTD_GUEST_KERNEL_META:-linux-image-6.12-amd64}
# Modules (and their dependencies) kept in the cache; mkinitramfs.sh loads the same closure.
KEEP_MODULES=(vfio-pci vfio_iommu_type1)

cached_only=0
update=0
for a in "$@"; do
	case "$a" in
	--cached-only) cached_only=1 ;;
	--update) update=1 ;;
	-h | --help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: guest-kernel.sh [--cached-only] [--update]" >&2; exit 2 ;;
	esac
done

err() { echo "guest-kernel: $*" >&2; }
unavailable() { err "$*"; exit 77; }
die() { err "$*"; exit 1; }

CACHE=${NESTD_TEST_CACHE:-/var/cache/nestd-tests}
if ! mkdir -p "$CACHE" 2>/dev/null || [[ ! -w "$CACHE" ]]; then
	if [[ -n "${NESTD_TEST_CACHE:-}" ]]; then
		die "cache directory $CACHE is not writable"
	fi
	# Default location needs root; a developer without it gets a per-user cache.
	CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/nestd-tests
	mkdir -p "$CACHE" || die "cannot create cache directory $CACHE"
fi

exec 9>"$CACHE/.lock"
if ! flock -w 900 9; then
	die "timed out waiting for the lock on $CACHE/.lock"
fi

# newest_cached: the complete cached kernel with the highest package version, or nothing.
newest_cached()
{
	local d best="" bestv="" v
	for d in "$CACHE"/debian-*/; do
		d=${d%/}
		[[ -f "$d/.complete" ]] || continue
		v=${d##*/debian-}
		if [[ -z "$best" ]] || dpkg --compare-versions "$v" gt "$bestv"; then
			best=$d
			bestv=$v
		fi
	done
	[[ -n "$best" ]] && echo "$best"
	return 0
}

if [[ $update -eq 0 ]]; then
	hit=$(newest_cached)
	if [[ -n "$hit" ]]; then
		echo "$hit"
		exit 0
	fi
fi
if [[ $cached_only -eq 1 ]]; then
	unavailable "no guest kernel cached in $CACHE (run tests/vm/guest-kernel.sh with network access)"
fi

for tool in apt-cache apt-get dpkg dpkg-deb; do
	command -v "$tool" >/dev/null 2>&1 || unavailable "$tool not found (not a Debian system?)"
done
for tool in depmod modprobe modinfo; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (install kmod: scripts/deps)"
done

APT_UPDATED=0
apt_update()
{
	[[ $APT_UPDATED -eq 0 ]] || return 1
	APT_UPDATED=1
	err "refreshing the package lists (apt-get update)"
	if ! DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2; then
		err "apt-get update failed"
	fi
	return 0
}

# resolve: set PKG and VER to the real image package the metapackage depends on.
resolve()
{
	local dep
	dep=$(apt-cache depends "$META" 2>/dev/null |
		sed -n -E 's/^ *Depends: (linux-image-[0-9][^ ]*-amd64)$/\1/p' | head -n 1) || true
	[[ -n "$dep" ]] || return 1
	PKG=$dep
	VER=$(apt-cache show --no-all-versions "$PKG" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
	[[ -n "$VER" ]]
}

PKG="" VER=""
if ! resolve; then
	apt_update || true
	resolve || unavailable "cannot resolve $META to a kernel package (no package lists / no network?)"
fi
err "guest kernel package: $PKG $VER"

DEST=$CACHE/debian-$VER
if [[ -f "$DEST/.complete" ]]; then
	echo "$DEST"
	exit 0
fi

WORK=$(mktemp -d "$CACHE/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
mkdir "$WORK/deb"
# apt-get download drops privileges to _apt when it can; let it write there.
if id _apt >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
	chown _apt "$WORK/deb"
fi

download()
{
	(cd "$WORK/deb" && apt-get download -qq "$PKG=$VER" >&2)
}
t0=$SECONDS
if ! download; then
	if apt_update && resolve && download; then
		:
	else
		unavailable "cannot download $PKG $VER (no network, or the archive no longer has it)"
	fi
	DEST=$CACHE/debian-$VER
fi
debs=("$WORK"/deb/*.deb)
[[ -f "${debs[0]}" ]] || die "apt-get download left no .deb in $WORK/deb"
err "downloaded $(du -h "${debs[0]}" | cut -f1) in $((SECONDS - t0))s; unpacking"

ROOT=$WORK/root
dpkg -x "${debs[0]}" "$ROOT" || die "dpkg -x ${debs[0]} failed"
vmlinuz=("$ROOT"/boot/vmlinuz-*)
[[ -f "${vmlinuz[0]}" ]] || die "no /boot/vmlinuz-* in ${debs[0]}"
KVER=${vmlinuz[0]##*/vmlinuz-}
[[ -d "$ROOT/lib/modules/$KVER" ]] || die "no lib/modules/$KVER in ${debs[0]}"
MODDIR=$ROOT/lib/modules/$KVER
[[ -f "$MODDIR/modules.order" ]] || die "no modules.order in ${debs[0]}"

# Module closure to keep, as paths relative to the root. The dependencies are read from each
# module's own "depends" field (what depmod would derive, without depmod's 8 s over all 4000
# modules); only the pruned tree is depmod'ed.
declare -A path_of=()
while read -r p; do
	n=${p##*/}
	n=${n%.ko}
	path_of[${n//-/_}]=$p
done <"$MODDIR/modules.order"
keep=()
declare -A seen=()
queue=("${KEEP_MODULES[@]}")
while [[ ${#queue[@]} -gt 0 ]]; do
	n=${queue[0]//-/_}
	queue=("${queue[@]:1}")
	[[ -z "$n" || -n "${seen[$n]:-}" ]] && continue
	seen[$n]=1
	rel=${path_of[$n]:-}
	[[ -n "$rel" ]] || die "module $n not in $KVER's modules.order"
	f=""
	for ext in "" .xz .zst .gz; do
		if [[ -f "$MODDIR/$rel$ext" ]]; then
			f=$MODDIR/$rel$ext
			break
		fi
	done
	[[ -n "$f" ]] || die "module file $rel missing in ${debs[0]}"
	keep+=("${f#"$ROOT"/}")
	d=$(modinfo -F depends "$f") || die "modinfo $f failed"
	IFS=, read -r -a more <<<"$d"
	queue+=("${more[@]}")
done
[[ ${#keep[@]} -gt 0 ]] || die "no modules resolved for ${KEEP_MODULES[*]}"

OUT=$WORK/out
mkdir -p "$OUT/lib/modules/$KVER"
cp "${vmlinuz[0]}" "$OUT/vmlinuz"
cp "$ROOT/boot/config-$KVER" "$OUT/config" 2>/dev/null || true
for f in modules.order modules.builtin modules.builtin.modinfo; do
	if [[ -f "$ROOT/lib/modules/$KVER/$f" ]]; then
		cp "$ROOT/lib/modules/$KVER/$f" "$OUT/lib/modules/$KVER/"
	fi
done
for m in "${keep[@]}"; do
	mkdir -p "$OUT/${m%/*}"
	cp "$ROOT/$m" "$OUT/$m"
done
# No unresolved-symbol check (depmod -e): Debian's System.map is a placeholder.
depmod -b "$OUT" "$KVER" || die "depmod on the pruned tree failed"
modprobe -d "$OUT" -S "$KVER" --show-depends "${KEEP_MODULES[@]}" >/dev/null ||
	die "modprobe --show-depends ${KEEP_MODULES[*]} fails on the pruned tree"
echo "$KVER" >"$OUT/kver"
echo "$PKG=$VER" >"$OUT/package"
touch "$OUT/.complete"

rm -rf "$DEST"
mv "$OUT" "$DEST"
err "cached $PKG $VER (kernel $KVER, ${#keep[@]} modules) in $DEST ($((SECONDS - t0))s)"
echo "$DEST"
