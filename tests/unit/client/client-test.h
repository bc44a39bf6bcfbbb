/* SPDX-License-Identifier: MIT */
/*
 * client-test.h - helpers for the libnest / nestctl / example VMM tests: run a real nestd on
 * private sockets in a mkdtemp() directory, run programs and capture their output.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <nest/libnest.h>

#include "nest-test.h"

struct nestd_proc {
	char dir[64];
	char conf[128];
	char sock[128];
	char admin[128];
	char log[128];
	pid_t pid;
};

/*
 * Start nestd (sim backend) with: vm0 owned by our uid (quota 16, devices dsa0 id 1 ATS and
 * iax0 id 2), vm1 owned by another uid; @extra (may be NULL) is appended to the config.
 * Waits until both sockets accept connections. Fails the test on error.
 */
void nestd_start(struct nestd_proc *d, const char *extra);
/* SIGTERM, wait, remove the directory. Returns nestd's exit status (or 128 + signal). */
int nestd_stop(struct nestd_proc *d);

/* Run @argv (argv[0] a path), stdout/stderr captured into new strings. Returns the exit status. */
int run_capture(char *const argv[], char **ret_out, char **ret_err);
/* The same as user @uid (and group @uid) when @uid != (uid_t)-1 (needs root). */
/* Run argv[0] capturing stdout/stderr; with @no_dac, as root without CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH (so file permissions apply to it). Returns the exit status. */
int run_capture_as(char *const argv[], bool no_dac, char **ret_out, char **ret_err);

/* A client attached to vm0 with @ram_size bytes of memfd RAM at GPA 0, for the tests. */
struct test_vm {
	nest_client *c;
	int memfd;
	uint8_t *ram;
	uint64_t ram_size;
};
void test_vm_attach(struct test_vm *t, const struct nestd_proc *d, uint32_t flags,
		    uint64_t ram_size);
void test_vm_free(struct test_vm *t);
