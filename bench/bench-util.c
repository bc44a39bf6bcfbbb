/* SPDX-License-Identifier: MIT */
/* bench-util.c - clock, statistics and error reporting shared by the benchmark programs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double p)
{
	double want = p / 100.0 * (double)n;
	size_t rank = (size_t)want;

	qsort(v, n, sizeof(v[0]), bench_cmp_double);
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

double bench_median(const double *v, size_t n)
{
	double s[64];

	if (n > 64)
		n = 64;
	memcpy(s, v, n * sizeof(s[0]));
	qsort(s, n, sizeof(s[0]), bench_cmp_double);
	return s[n / 2];
}

void bench_machine(char *buf, size_t len)
{
	char load[64] = "?";
	FILE *f = fopen("/proc/loadavg", "re");

	if (f) {
		if (!fgets(load, sizeof(load), f))
			strcpy(load, "?");
		load[strcspn(load, " \n")] = '\0';
		fclose(f);
	}
	snprintf(buf, len, "%ld CPUs online, load %s", sysconf(_SC_NPROCESSORS_ONLN), load);
}

int bench_fail(const nest_client *c, const char *what, int r)
{
	const char *detail = c ? nest_client_last_error(c) : NULL;

	if (!detail)
		detail = "";
	fprintf(stderr, "%s: %s: %s%s%s%s\n", program_invocation_short_name, what,
		strerror(r < 0 ? -r : r), detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
	return r < 0 ? r : -r;
}

int bench_memfd(const char *name, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), r;

	if (fd < 0)
		return bench_fail(NULL, "memfd_create", -errno);
	if (ftruncate(fd, (off_t)len) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		r = -errno;
		close(fd);
		return bench_fail(NULL, "memfd size/seal", r);
	}
	return fd;
}

int bench_alternate(bench_window_fn run, bench_window_fn floor, void *arg, struct bench_ratio *ret)
{
	double us[BENCH_REPS], floor_us[BENCH_REPS], ratio[BENCH_REPS];
	struct bench_sample s, e;
	int r;

	/* warm-up: caches, page faults in both processes, libevent's buffers */
	if ((r = run(arg, BENCH_WARMUP_S, &s)) < 0 || (r = floor(arg, BENCH_WARMUP_S, &e)) < 0)
		return r;
	for (int i = 0; i < BENCH_REPS; i++) {
		if ((r = run(arg, BENCH_WINDOW_S, &s)) < 0 ||
		    (r = floor(arg, BENCH_WINDOW_S, &e)) < 0)
			return r;
		if (!s.ops || !e.ops)
			return bench_fail(NULL, "no operation completed in a window", -EIO);
		us[i] = s.sec * 1e6 / (double)s.ops;
		floor_us[i] = e.sec * 1e6 / (double)e.ops;
		ratio[i] = us[i] / floor_us[i];
	}
	ret->us = bench_median(us, BENCH_REPS);
	ret->floor_us = bench_median(floor_us, BENCH_REPS);
	ret->ratio = bench_median(ratio, BENCH_REPS);
	return 0;
}

int bench_loop(bench_once_fn once, void *arg, double window, struct bench_sample *ret)
{
	double t0 = bench_now(), end = t0 + window, t;
	uint64_t ops = 0;
	int r;

	do {
		if ((r = once(arg)) < 0)
			return r;
		ops++;
	} while ((t = bench_now()) < end);
	*ret = (struct bench_sample){.ops = ops, .sec = t - t0};
	return 0;
}

struct bench_once_pair {
	bench_once_fn run, floor;
	void *arg;
};

static int bench_once_run(void *arg, double window, struct bench_sample *ret)
{
	struct bench_once_pair *p = arg;

	return bench_loop(p->run, p->arg, window, ret);
}

static int bench_once_floor(void *arg, double window, struct bench_sample *ret)
{
	struct bench_once_pair *p = arg;

	return bench_loop(p->floor, p->arg, window, ret);
}

int bench_alternate_once(bench_once_fn run, bench_once_fn floor, void *arg, struct bench_ratio *ret)
{
	struct bench_once_pair p = {.run = run, .floor = floor, .arg = arg};

	return bench_alternate(bench_once_run, bench_once_floor, &p, ret);
}
