# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shared by the tests/vm scripts (sourced, not run).

# Exit status meaning "skipped" for ctest (SKIP_RETURN_CODE) and the scripts here.
NEST_VM_SKIP=77

# nest_vm_skip REASON: the guest tier cannot run here. Exit 77 (SKIP), except under CI=true where
# a silently skipped tier would hide a broken setup: print the reason and exit 1.
nest_vm_skip()
{
	if [[ "${CI:-}" == true ]]; then
		echo "FAIL: guest test cannot run and CI=true forbids skipping: $*" >&2
		exit 1
	fi
	echo "SKIP: $*"
	exit "$NEST_VM_SKIP"
}

# nest_vm_qemu: the QEMU binary to use, or nothing.
nest_vm_qemu()
{
	local q=${NEST_QEMU:-qemu-system-x86_64}
	if command -v "$q" >/dev/null 2>&1; then
		command -v "$q"
	fi
}
