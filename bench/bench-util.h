/* SPDX-License-Identifier: MIT */
/*
 * bench-util.h - what every benchmark program needs: a monotonic clock, medians and
 * percentiles, the machine line, and one way to report a failed operation.
 */
#ifndef NEST_BENCH_UTIL_H
#define NEST_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nest/libnest.h>

/* What a timed window did: @ops operations in @sec seconds. */
struct bench_sample {
	uint64_t ops;
	double sec;
};

/*
 * Paired windows: BENCH_REPS windows of BENCH_WINDOW_S seconds of each side (bench_alternate()).
 * Many short windows rather than a few long ones: on a shared machine a stall of 100 ms or more
 * then spoils a few windows of the eleven, not the median.
 */
#define BENCH_REPS     11
#define BENCH_WINDOW_S 0.05
#define BENCH_WARMUP_S 0.03

/* Run the measured operation for @window seconds (at least once) and say what it did. */
typedef int (*bench_window_fn)(void *arg, double window, struct bench_sample *ret);

/* One operation (or a fixed group of them, counted as one): 0 or -errno. */
typedef int (*bench_once_fn)(void *arg);

/* A bench_window_fn body: @once again and again for @window seconds, at least once. */
int bench_loop(bench_once_fn once, void *arg, double window, struct bench_sample *ret);

/*
 * Wall-clock time per operation of each side, medians of the paired windows, and the median of
 * their paired ratios; CPU time per operation of each side, the least of its windows, and the
 * ratio of the two: what the server process (nestd, or the floor's server) and this process (the
 * client: libnest, or raw send/recv) used, from their CPU clocks. On a machine shared with other
 * work the wall-clock time includes waiting for a CPU at every wake-up; the CPU time does not,
 * and other work can only add to it (cache misses, migrations), so its least moves much less.
 */
struct bench_ratio {
	double us, floor_us, ratio;
	double cpu_us, floor_cpu_us, cpu_ratio;
};

/* The server process of each side of bench_alternate(): @run's and @floor's. */
struct bench_servers {
	pid_t run, floor;
};

/*
 * A warm-up window of each, then BENCH_REPS windows of @run and of @floor alternating, so that a
 * change of machine load hits both.
 */
int bench_alternate(bench_window_fn run, bench_window_fn floor, void *arg,
		    const struct bench_servers *srv, struct bench_ratio *ret);

/* bench_alternate() of two single operations, each repeated by bench_loop(). */
int bench_alternate_once(bench_once_fn run, bench_once_fn floor, void *arg,
			 const struct bench_servers *srv, struct bench_ratio *ret);

/* CPU seconds process @pid (0: this one) has used, or -errno. */
double bench_cpu(pid_t pid);

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);

/* The @p-th percentile (0..100, nearest rank) of @v[0..@n); @v is sorted in place. @n > 0. */
double bench_percentile(double *v, size_t n, double p);

/* The median of @v[0..@n) without reordering it; at most the first 64 values count. */
double bench_median(const double *v, size_t n);

/* "N CPUs online, load L" into @buf. */
void bench_machine(char *buf, size_t len);

/* A sealed (F_SEAL_SHRINK) memfd of @len bytes for guest memory: an fd, or -errno. */
int bench_memfd(const char *name, size_t len);

/*
 * Print "PROGRAM: @what: strerror(@r) (libnest's last error on @c)" to stderr; @c may be NULL.
 * Returns @r as a negative errno.
 */
int bench_fail(const nest_client *c, const char *what, int r);

/*
 * One PASID_ALLOC over the whole range and the PASID_FREE of what it got, both checked (the free
 * must free exactly one). *@alloc_us (optional): the PASID_ALLOC's wall-clock time. 0 or -errno.
 */
int bench_pasid_pair(nest_client *c, double *alloc_us);

#endif /* NEST_BENCH_UTIL_H */
