#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Build (once) a Debian 12 minbase root that boots under `systemd-nspawn -b` and print its path.
# Cached in CACHE/nspawn-root/KEY/root (CACHE: $NESTD_TEST_CACHE, else /var/cache/nestd-tests),
# KEY = a hash of the suite, the architecture and the package list below: changing the list builds a
# new root. A finished root is never modified (tests boot a copy); .complete is written last.
# Concurrent runs serialise on CACHE/nspawn-root/.lock.
# The archive URI is read from the system's apt sources (NEST_APT_URI overrides), never written here.
#
#   nspawn-root.sh [--offline]     stdout: the root's path; exit 77: cannot build here
set -euo pipefail

prog=nspawn-root
say() { echo "$prog: $*" >&2; }
skip() {
	echo "$prog: cannot build the root: $*" >&2
	exit 77
}
offline=0
[[ "${1:-}" == --offline ]] && offline=1

SUITE=bookworm
ARCH=$(dpkg --print-architecture)
# systemd as PID 1, and what nestd, libnest and nestctl link against.
PKGS=(systemd-sysv libevent-2.1-7 libjson-c5 libsystemd0)
key=$(printf '%s\n' "$SUITE" "$ARCH" minbase "${PKGS[@]}" | sha256sum | cut -c1-16)

cache=${NESTD_TEST_CACHE:-/var/cache/nestd-tests}
if ! mkdir -p "$cache" 2>/dev/null || [[ ! -w "$cache" ]]; then
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/nestd-tests
	mkdir -p "$cache"
fi
base=$cache/nspawn-root
dir=$base/$key
mkdir -p "$base"
if [[ -f "$dir/.complete" ]]; then
	echo "$dir/root"
	exit 0
fi

exec 9>"$base/.lock"
flock 9
if [[ -f "$dir/.complete" ]]; then
	echo "$dir/root"
	exit 0
fi
[[ $offline -eq 0 ]] || skip "no cached root $key and --offline"
[[ $(id -u) -eq 0 ]] || skip "debootstrap needs root"
command -v debootstrap >/dev/null 2>&1 || skip "debootstrap not installed (scripts/deps)"

# The archive URI from the machine's own apt configuration (deb822 or one-line format): the first
# URI of an entry whose suite has no '-security'/'-updates' style suffix.
archive_uri() {
	local f=/etc/apt/sources.list.d/debian.sources
	if [[ -n "${NEST_APT_URI:-}" ]]; then
		echo "$NEST_APT_URI"
	elif [[ -r "$f" ]]; then
		awk '
			function flush() {
				if (uri != "" && main && found == "") found = uri
				uri = ""; main = 0
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i !~ /-/) main = 1 }
			END { flush(); if (found != "") print found }
		' "$f"
	elif [[ -r /etc/apt/sources.list ]]; then
		awk '$1 == "deb" {
			for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) break
			if ($(i + 1) !~ /-/) { print $i; exit }
		}' /etc/apt/sources.list
	fi
}
uri=$(archive_uri)
[[ -n "$uri" ]] || skip "no archive URI in /etc/apt (set NEST_APT_URI)"

rm -rf "$dir"
mkdir -p "$dir"
say "debootstrap $SUITE minbase + ${PKGS[*]} into $dir (once; about 2 minutes)"
includes=$(
	IFS=,
	echo "${PKGS[*]}"
)
if ! debootstrap --variant=minbase --arch="$ARCH" --include="$includes" "$SUITE" "$dir/root" \
	"$uri" >"$dir/debootstrap.log" 2>&1; then
	tail -n 30 "$dir/debootstrap.log" >&2
	rm -rf "$dir/root"
	skip "debootstrap failed (log above)"
fi
# A machine id of its own per boot (an empty file makes systemd generate a transient one), no
# getty on the console, no apt caches.
: >"$dir/root/etc/machine-id"
rm -rf "$dir/root/var/cache/apt/archives/"*.deb "$dir/root/var/lib/apt/lists/"*_Packages
printf '%s %s\n' "$key" "${PKGS[*]}" >"$dir/.complete"
echo "$dir/root"
