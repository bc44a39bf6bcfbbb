/* SPDX-License-Identifier: MIT */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "config-test.h"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Per-test scratch directory (tests run in parallel workers). */
void tdir_make(char dir[64])
{
	strcpy(dir, "/tmp/nestd-test-config-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

void tdir_remove(const char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "fopen %s: %m", path);
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	cr_assert_eq(fclose(f), 0);
}

void write_in(const char *dir, const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, text);
}

/* Writes @text to <dir>/nestd.conf and loads it; @path receives the file name. */
int load_text(const char *dir, const char *text, struct nestd_config **c, char *err, char path[256])
{
	snprintf(path, 256, "%s/nestd.conf", dir);
	write_file(path, text);
	return nestd_config_load(path, c, err, ERRLEN);
}

/* Dump to a string (caller frees). */
char *dump_str(const struct nestd_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(nestd_config_dump(c, f), 0);
	cr_assert_eq(fclose(f), 0);
	return buf;
}
