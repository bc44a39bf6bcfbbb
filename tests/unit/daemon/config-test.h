/* SPDX-License-Identifier: MIT */
/* Shared helpers of the config unit tests (test-config.c, test-config-errors.c). */
#pragma once

#include <stddef.h>

#include "config.h"

#define ERRLEN 512

/* Per-test scratch directory (tests run in parallel workers). */
void tdir_make(char dir[64]);
void tdir_remove(const char *dir);
void write_file(const char *path, const char *text);
void write_in(const char *dir, const char *name, const char *text);
/* Writes @text to <dir>/nestd.conf and loads it; @path receives the file name. */
int load_text(const char *dir, const char *text, struct nestd_config **c, char *err,
	      char path[256]);
/* Dump to a string (caller frees). */
char *dump_str(const struct nestd_config *c);
