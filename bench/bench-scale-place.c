/* SPDX-License-Identifier: MIT */
/*
 * bench-scale-place.c - bench-scale's PASID_ALLOC latency at a full and at an empty 20-bit space,
 * at each placement of the bench and the two nestds (enum scale_place): pinned, both nestds get
 * the same kind of wake-up, so the ratios compare nestd's work.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench-scale.h"

/* nestd's minor page faults so far (/proc/PID/stat), or -errno. */
static long scale_minflt(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long flt;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after "pid (comm)": state ppid pgrp session tty_nr tpgid flags minflt */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %lu", &flt) != 1)
		return -EPROTO;
	return (long)flt;
}

/* The @n-th CPU (0-based) of @set, or -1. */
static int scale_nth_cpu(const cpu_set_t *set, int n)
{
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, set) && n-- == 0)
			return cpu;
	return -1;
}

/*
 * Both nestds on the first CPU of @all, this process there too (@place SCALE_ONE_CPU) or on the
 * second (SCALE_TWO_CPUS; -EOPNOTSUPP without one); with @restore, all three back on @all.
 */
static int scale_place(struct scale *full, struct scale *empty, enum scale_place place,
		       const cpu_set_t *all, bool restore)
{
	int server = scale_nth_cpu(all, 0), client = scale_nth_cpu(all, 1);
	cpu_set_t s, cl;

	if (restore) {
		s = cl = *all;
	} else {
		if (place == SCALE_TWO_CPUS && client < 0)
			return -EOPNOTSUPP;
		CPU_ZERO(&s);
		CPU_SET(server, &s);
		CPU_ZERO(&cl);
		CPU_SET(place == SCALE_ONE_CPU ? server : client, &cl);
	}
	if (restore) { /* all three whatever fails: the bench itself first */
		int r = sched_setaffinity(0, sizeof(cl), &cl) < 0 ? -errno : 0;

		if (sched_setaffinity(full->nestd.pid, sizeof(s), &s) < 0 && r == 0)
			r = -errno;
		if (sched_setaffinity(empty->nestd.pid, sizeof(s), &s) < 0 && r == 0)
			r = -errno;
		return r < 0 ? bench_fail(NULL, "sched_setaffinity (restore)", r) : 0;
	}
	if (sched_setaffinity(full->nestd.pid, sizeof(s), &s) < 0 ||
	    sched_setaffinity(empty->nestd.pid, sizeof(s), &s) < 0 ||
	    sched_setaffinity(0, sizeof(cl), &cl) < 0) {
		/* a placement the machine refuses (a cpuset, a policy): no rows for it, no failure */
		fprintf(stderr, "bench-scale: placement %d refused (%s): its rows are left out\n",
			(int)place, strerror(errno));
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * PASID_ALLOC latency on the last VM of @full and on @empty's (the same name), alternating,
 * placed as @l says.
 */
static int scale_latency_at(struct scale *full, struct scale *empty, struct scale_lat *l)
{
	double f0 = bench_cpu(full->nestd.pid), e0 = bench_cpu(empty->nestd.pid);
	long ff0 = scale_minflt(full->nestd.pid), ef0 = scale_minflt(empty->nestd.pid), ff1, ef1;
	int r;

	for (unsigned i = 0; i < LAT_N; i++)
		if ((r = bench_pasid_pair(empty->c0, &full->lat_empty[i])) < 0 ||
		    (r = bench_pasid_pair(full->cs[SCALE_VMS - 1], &full->lat_full[i])) < 0)
			return r;
	/* each nestd works only for its own requests: its CPU time per PASID_ALLOC + PASID_FREE */
	l->cpu_full_us = (bench_cpu(full->nestd.pid) - f0) * 1e6 / LAT_N;
	l->cpu_empty_us = (bench_cpu(empty->nestd.pid) - e0) * 1e6 / LAT_N;
	if (f0 < 0 || e0 < 0 || l->cpu_full_us < 0 || l->cpu_empty_us < 0)
		return bench_fail(NULL, "CPU clock of nestd", -EIO);
	ff1 = scale_minflt(full->nestd.pid);
	ef1 = scale_minflt(empty->nestd.pid);
	/* a figure, not a condition: unreadable counts are printed as "-" (NaN) */
	l->flt_full = ff0 < 0 || ff1 < 0 ? NAN : (double)(ff1 - ff0) / LAT_N;
	l->flt_empty = ef0 < 0 || ef1 < 0 ? NAN : (double)(ef1 - ef0) / LAT_N;
	l->empty_p50 = bench_percentile(full->lat_empty, LAT_N, 50);
	l->empty_p99 = bench_percentile(full->lat_empty, LAT_N, 99);
	l->full_p50 = bench_percentile(full->lat_full, LAT_N, 50);
	l->full_p99 = bench_percentile(full->lat_full, LAT_N, 99);
	l->done = true;
	return 0;
}

/*
 * The latency samples at each placement (scale_place()): pinned, both nestds get the same kind
 * of wake-up, so the ratios compare nestd's work at a full space and at an empty one.
 */
int scale_latency(struct scale *full, struct scale *empty)
{
	cpu_set_t all;
	int r = 0, q;

	if (sched_getaffinity(0, sizeof(all), &all) < 0)
		return bench_fail(NULL, "sched_getaffinity", -errno);
	for (int place = 0; place < SCALE_PLACES && r == 0; place++) {
		r = scale_place(full, empty, place, &all, false);
		if (r == -EOPNOTSUPP) {
			r = scale_place(full, empty, place, &all,
					true); /* a refusal may be partial */
			continue;
		}
		if (r == 0)
			r = scale_latency_at(full, empty, &full->res->lat[place]);
		q = scale_place(full, empty, place, &all, true);
		r = r < 0 ? r : q;
	}
	return r;
}
