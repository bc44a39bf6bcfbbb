#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Build the guest initramfs (gzip'd newc cpio) for one guest test:
#   mkinitramfs.sh -k KERNEL_DIR -o OUT.cpio.gz [-s SCRIPT] [-p PROGRAM]... [-f SRC[=DEST]]...
#                  [-m MODULE]...
#     -k KERNEL_DIR  a directory printed by guest-kernel.sh (vmlinuz, kver, lib/modules/KVER)
#     -o OUT         output file (written atomically; same inputs give the same bytes)
#     -s SCRIPT      guest test script, run by /init with `sh` as root; its exit status is the
#                    test result (default: a script that just succeeds)
#     -p PROGRAM     host ELF binary -> /usr/local/bin/<basename>, with its shared libraries and
#                    the dynamic loader at their host paths (repeatable)
#     -f SRC[=DEST]  extra file -> DEST (absolute), default /usr/local/share/nest/<basename>
#     -m MODULE      extra kernel module to load after the vfio chain (repeatable; must be in
#                    KERNEL_DIR's pruned module tree; an error with a kernel without modules)
#
# Guest layout: busybox (applet links in /bin, /sbin, /usr/bin, /usr/sbin made by /init), the
# vfio-pci and vfio_iommu_type1 module chains (unpacked .ko) under /lib/modules/KVER, /init
# (generated below), the test script at /nest-test.sh, /etc/{passwd,group,nsswitch.conf} with root
# and nobody/nogroup (65534). A kernel directory without lib/modules/KVER (the linux7 kernel of
# guest-kernel-7.sh: VFIO, vfio-pci and iommufd built in) gets no modules and no insmod; /init
# binds edu to vfio-pci the same way.
set -euo pipefail

usage()
{
	sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
die()
{
	echo "mkinitramfs: $*" >&2
	exit 1
}

KDIR="" OUT="" SCRIPT=""
PROGRAMS=() FILES=() EXTRA_MODULES=()
while getopts "k:o:s:p:f:m:h" opt; do
	case "$opt" in
	k) KDIR=$OPTARG ;;
	o) OUT=$OPTARG ;;
	s) SCRIPT=$OPTARG ;;
	p) PROGRAMS+=("$OPTARG") ;;
	f) FILES+=("$OPTARG") ;;
	m) EXTRA_MODULES+=("$OPTARG") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 && -n "$KDIR" && -n "$OUT" ]] || usage

[[ -f "$KDIR/kver" ]] || die "$KDIR is not a guest kernel directory (no kver; see guest-kernel.sh)"
KDIR=$(realpath "$KDIR")
KVER=$(<"$KDIR/kver")
[[ -z "$SCRIPT" || -f "$SCRIPT" ]] || die "test script $SCRIPT not found"
BUSYBOX=${NEST_BUSYBOX:-/bin/busybox}
[[ -x "$BUSYBOX" ]] || die "$BUSYBOX not found (install busybox-static: scripts/deps)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked; the guest needs busybox-static"
fi
HAS_MODULES=0
[[ -d "$KDIR/lib/modules/$KVER" ]] && HAS_MODULES=1
if [[ $HAS_MODULES -eq 0 && ${#EXTRA_MODULES[@]} -gt 0 ]]; then
	die "kernel $KVER in $KDIR has no modules (everything is built in): cannot load ${EXTRA_MODULES[*]}"
fi
tools=(cpio gzip ldd)
[[ $HAS_MODULES -eq 1 ]] && tools+=(modprobe)
for tool in "${tools[@]}"; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/deps installs it)"
done

OUTDIR=$(dirname "$OUT")
mkdir -p "$OUTDIR"
STAGE=$(mktemp -d "$OUTDIR/.initramfs.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
R=$STAGE/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,usr/local/lib,usr/local/share/nest,etc,proc,sys,dev,run,tmp,root,lib,lib64}
mkdir -p "$R/dev/shm"

# busybox: /init installs the applet links at boot (`busybox --install -s`, milliseconds in the
# guest; ~300 `ln -s` here took 1.5 s). It never links over /bin/busybox itself (that would be
# ELOOP: "Failed to execute /init (error -40)").
cp "$BUSYBOX" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"

# copy_file SRC DEST: copy SRC's content (following symlinks) to DEST inside the root.
copy_file()
{
	mkdir -p "$R$(dirname "$2")"
	cp -L "$1" "$R$2"
}

# copy_elf BINARY DEST: the binary, its shared libraries and the dynamic loader (at host paths).
copy_elf()
{
	local bin=$1 dest=$2 line lib out
	[[ -f "$bin" ]] || die "program $bin not found"
	copy_file "$bin" "$dest"
	chmod 755 "$R$dest"
	# Statically linked binaries: ldd says "not a dynamic executable" and fails.
	out=$(LC_ALL=C ldd "$bin" 2>&1) || return 0
	while IFS= read -r line; do
		lib=""
		case "$line" in
		*"=> not found"*) die "$bin: shared library ${line%% =>*} not found (${line})" ;;
		*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
		[[:space:]]/*) lib=${line#"${line%%[![:space:]]*}"}; lib=${lib%% (*} ;;
		esac
		if [[ -n "$lib" && ! -e "$R$lib" ]]; then
			copy_file "$lib" "$lib"
		fi
		# A library outside the system directories (libnest.so.0 from a build tree, found
		# through RUNPATH) may sit under a path the guest mounts over (a clone in /tmp: /init
		# mounts a tmpfs there), so it is also put in /usr/local/lib, which /init puts on
		# LD_LIBRARY_PATH.
		case "$lib" in
		"" | /lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) ;;
		*) [[ -e "$R/usr/local/lib/$(basename "$lib")" ]] ||
			copy_file "$lib" "/usr/local/lib/$(basename "$lib")" ;;
		esac
	done <<<"$out"
}

for p in "${PROGRAMS[@]}"; do
	copy_elf "$p" "/usr/local/bin/$(basename "$p")"
done

for f in "${FILES[@]}"; do
	src=${f%%=*}
	if [[ "$f" == *=* ]]; then
		dest=${f#*=}
	else
		dest=/usr/local/share/nest/$(basename "$src")
	fi
	[[ -f "$src" ]] || die "file $src not found"
	[[ "$dest" == /* ]] || die "destination $dest must be absolute"
	copy_file "$src" "$dest"
done

# Modules: the vfio chains in load order, unpacked (busybox insmod cannot read .ko.xz).
MODS=()
if [[ $HAS_MODULES -eq 1 ]]; then
	deps=$(modprobe -d "$KDIR" -S "$KVER" --show-depends vfio-pci vfio_iommu_type1 \
		"${EXTRA_MODULES[@]}") || die "cannot resolve the vfio modules in $KDIR"
	while read -r verb path _; do
		[[ "$verb" == insmod ]] || continue
		rel=${path#"$KDIR"}
		dest=${rel%.xz}
		dest=${dest%.gz}
		for seen in "${MODS[@]}"; do
			[[ "$seen" == "$dest" ]] && continue 2
		done
		mkdir -p "$R$(dirname "$dest")"
		case "$path" in
		*.xz) "$BUSYBOX" xzcat "$path" >"$R$dest" ;; # no need for xz-utils
		*.gz) gzip -dc "$path" >"$R$dest" ;;
		*) cp "$path" "$R$dest" ;;
		esac
		MODS+=("$dest")
	done <<<"$deps"
	[[ ${#MODS[@]} -gt 0 ]] || die "no modules resolved in $KDIR"
fi

if [[ -n "$SCRIPT" ]]; then
	cp "$SCRIPT" "$R/nest-test.sh"
else
	printf '#!/bin/sh\necho "no guest test script: nothing to do"\n' >"$R/nest-test.sh"
fi
chmod 755 "$R/nest-test.sh"

cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
nobody:x:65534:
EOF
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$R/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' >"$R/etc/hosts"
echo nest-guest >"$R/etc/hostname"

# /init. Results are read by run-guest.sh from the serial console.
{
	cat <<'EOF'
#!/bin/sh
# Generated by tests/vm/mkinitramfs.sh.
export PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin
export LD_LIBRARY_PATH=/usr/local/lib
export HOME=/root
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
hostname nest-guest
echo "nest-guest: /init at $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"
EOF
	for m in "${MODS[@]}"; do
		echo "insmod $m || echo \"nest-guest: insmod $(basename "$m") failed\""
	done
	cat <<'EOF'
# Bind every edu device (1234:11e8) to vfio-pci.
NEST_EDU=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] || continue
	bdf=${d##*/}
	if [ -e "$d/driver" ]; then
		echo "$bdf" >"$d/driver/unbind"
	fi
	echo vfio-pci >"$d/driver_override"
	echo "$bdf" >/sys/bus/pci/drivers_probe
	drv=$(readlink "$d/driver" 2>/dev/null)
	if [ "${drv##*/}" = vfio-pci ]; then
		grp=$(readlink "$d/iommu_group")
		echo "nest-guest: edu $bdf bound to vfio-pci, iommu group ${grp##*/}"
		NEST_EDU="$NEST_EDU${NEST_EDU:+ }$bdf"
	else
		echo "nest-guest: edu $bdf NOT bound to vfio-pci (driver: ${drv##*/})"
	fi
done
export NEST_EDU
export NEST_GUEST=1
echo "$NEST_EDU" >/run/nest-edu
cd /tmp
echo "nest-guest: running /nest-test.sh at $(cut -d' ' -f1 /proc/uptime)s"
sh /nest-test.sh </dev/null
rc=$?
# Let late kernel messages (DMAR faults are reported from an interrupt) reach the log.
sleep 0.2
echo "nest-guest: kernel log"
echo "----- dmesg -----"
dmesg
echo "----- end dmesg -----"
echo "NESTD-GUEST-RESULT rc=$rc"
sync
# run-guest.sh -I (kernel argument nest.shell=1): an interactive shell before powering off.
case " $(cat /proc/cmdline) " in
*" nest.shell=1 "*)
	echo "nest-guest: interactive shell; exit it to power off"
	setsid cttyhack sh -l
	sync
	;;
esac
poweroff -f
EOF
} >"$R/init"
chmod 755 "$R/init"

chmod 755 "$R"
chmod 1777 "$R/tmp"
# Reproducible archive: fixed mtimes, sorted names, root ownership, no gzip timestamp.
find "$R" -exec touch -h -d @0 {} +
(cd "$R" && find . -print0 | LC_ALL=C sort -z |
	cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) |
	gzip -n -1 >"$STAGE/out.cpio.gz"
mv "$STAGE/out.cpio.gz" "$OUT"
