/* SPDX-License-Identifier: MIT */
/*
 * fuzz-config.c - libFuzzer harness for nestd.conf parsing (ini.c, config*.c): the input is a
 * whole configuration file, read through a memfd path as nestd reads /etc/nestd/nestd.conf.
 * A file that loads must dump, and the dump must load again to the same dump (round trip);
 * a file that does not load must say why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

/* The dump of @c into a malloc'ed string. */
static char *fuzz_dump(const struct nestd_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f);
	CHECK(nestd_config_dump(c, f) == 0);
	fclose(f);
	return buf;
}

static int fuzz_load(const void *data, size_t size, struct nestd_config **ret, char *err,
		     size_t errlen)
{
	int fd = memfd_create("nestd.conf", MFD_CLOEXEC);
	char path[64];
	int r;

	CHECK(fd >= 0);
	CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = nestd_config_load(path, ret, err, errlen);
	close(fd);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nestd_config *c = NULL, *c2 = NULL;
	char err[512] = "", err2[512] = "";
	char *d1, *d2;

	if (size > 64 * 1024)
		return 0;
	if (fuzz_load(data, size, &c, err, sizeof(err)) < 0) {
		CHECK(err[0] != '\0');
		return 0;
	}
	d1 = fuzz_dump(c);
	CHECK(fuzz_load(d1, strlen(d1), &c2, err2, sizeof(err2)) == 0);
	d2 = fuzz_dump(c2);
	CHECK(strcmp(d1, d2) == 0);
	free(d1);
	free(d2);
	nestd_config_free(c);
	nestd_config_free(c2);
	return 0;
}
