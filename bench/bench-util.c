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

int bench_pasid_pair(nest_client *c, double *alloc_us)
{
	double t0 = bench_now();
	uint32_t p, n;
	int r = nest_pasid_alloc(c, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &p);

	if (alloc_us)
		*alloc_us = (bench_now() - t0) * 1e6;
	if (r < 0)
		return bench_fail(c, "PASID_ALLOC", r);
	if ((r = nest_pasid_free(c, p, p, &n)) < 0 || n != 1)
		return bench_fail(c, "PASID_FREE", r < 0 ? r : -EIO);
	return 0;
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

double bench_cpu(pid_t pid)
{
	struct timespec ts;
	clockid_t id;
	int r = clock_getcpuclockid(pid, &id);

	if (r != 0)
		return -r;
	if (clock_gettime(id, &ts) < 0)
		return -errno;
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of @server and this process together. */
static int bench_cpu_pair(pid_t server, double *ret)
{
	double a = bench_cpu(server), b = bench_cpu(0);

	if (a < 0 || b < 0)
		return bench_fail(NULL, "CPU clock", (int)(a < 0 ? a : b));
	*ret = a + b;
	return 0;
}

/* One window of @fn: wall-clock and CPU microseconds per operation. */
static int bench_window(bench_window_fn fn, void *arg, pid_t server, double window, double *us,
			double *cpu_us)
{
	struct bench_sample s;
	double c0, c1;
	int r;

	if ((r = bench_cpu_pair(server, &c0)) < 0 || (r = fn(arg, window, &s)) < 0 ||
	    (r = bench_cpu_pair(server, &c1)) < 0)
		return r;
	if (!s.ops)
		return bench_fail(NULL, "no operation completed in a window", -EIO);
	*us = s.sec * 1e6 / (double)s.ops;
	*cpu_us = (c1 - c0) * 1e6 / (double)s.ops;
	return 0;
}

int bench_alternate(bench_window_fn run, bench_window_fn floor, void *arg,
		    const struct bench_servers *srv, struct bench_ratio *ret)
{
	double us[BENCH_REPS], floor_us[BENCH_REPS], ratio[BENCH_REPS];
	double cpu[BENCH_REPS], floor_cpu[BENCH_REPS];
	int r;

	/* warm-up: caches, page faults in both processes, libevent's buffers */
	if ((r = bench_window(run, arg, srv->run, BENCH_WARMUP_S, &us[0], &cpu[0])) < 0 ||
	    (r = bench_window(floor, arg, srv->floor, BENCH_WARMUP_S, &us[0], &cpu[0])) < 0)
		return r;
	for (int i = 0; i < BENCH_REPS; i++) {
		if ((r = bench_window(run, arg, srv->run, BENCH_WINDOW_S, &us[i], &cpu[i])) < 0 ||
		    (r = bench_window(floor, arg, srv->floor, BENCH_WINDOW_S, &floor_us[i],
				      &floor_cpu[i])) < 0)
			return r;
		ratio[i] = us[i] / floor_us[i];
	}
	*ret = (struct bench_ratio){
		.us = bench_median(us, BENCH_REPS),
		.floor_us = bench_median(floor_us, BENCH_REPS),
		.ratio = bench_median(ratio, BENCH_REPS),
		/* interference (cache misses, migrations) only adds CPU time: the least is the cost */
		.cpu_us = bench_percentile(cpu, BENCH_REPS, 0),
		.floor_cpu_us = bench_percentile(floor_cpu, BENCH_REPS, 0),
	};
	ret->cpu_ratio = ret->floor_cpu_us > 0 ? ret->cpu_us / ret->floor_cpu_us : 0;
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

int bench_alternate_once(bench_once_fn run, bench_once_fn floor, void *arg,
			 const struct bench_servers *srv, struct bench_ratio *ret)
{
	struct bench_once_pair p = {.run = run, .floor = floor, .arg = arg};

	return bench_alternate(bench_once_run, bench_once_floor, &p, srv, ret);
}
