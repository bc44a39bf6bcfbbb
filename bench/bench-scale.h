/* SPDX-License-Identifier: MIT */
/*
 * bench-scale.h - what bench-scale measured, and its printing (bench-scale-print.c); the nestd of
 * a part of the run, and the PASID_ALLOC latency at each placement (bench-scale-place.c).
 */
#ifndef BENCH_SCALE_H
#define BENCH_SCALE_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/libnest.h>

#include "bench-echo.h"
#include "bench-nestd.h"
#include "bench-util.h"
#include "config.h" /* NESTD_VMS_MAX */

#define N_BOUND	      10000u /* bound PASIDs of the big VM */
#define READY_REPS    5
#define TEARDOWN_REPS 3
#define LAT_N	      2000u /* PASID_ALLOC latency samples, each of empty and full */
#define SCALE_VMS     (NESTD_VMS_MAX < 1024 ? NESTD_VMS_MAX : 1024)

/*
 * Where the PASID_ALLOC latency samples ran: the bench and both nestds on one CPU, or the bench
 * on a second CPU and both nestds on the first (every round trip a cross-CPU wake-up). Left to
 * the scheduler, each nestd lands on the bench's CPU or on the other one depending on history
 * and load, and that alone moves its CPU time per pair 2-4x (docs/PERFORMANCE.md).
 */
enum scale_place {
	SCALE_ONE_CPU,
	SCALE_TWO_CPUS,
	SCALE_PLACES,
};

/* PASID_ALLOC latency and nestd's cost per PASID_ALLOC + PASID_FREE, at one placement. */
struct scale_lat {
	bool done; /* false: not measured (no second CPU for SCALE_TWO_CPUS) */
	double empty_p50, empty_p99, full_p50, full_p99;
	double cpu_empty_us, cpu_full_us; /* nestd's CPU time per pair */
	double flt_empty, flt_full;	  /* nestd's minor page faults per pair */
};

/* Everything the run measured, for the tables. */
struct scale_res {
	double ready_ms, ready_min_ms, ready_max_ms;
	long rss_idle_kib, rss_vms_kib, rss_attached_kib;
	struct bench_ratio bind, alloc, conn, inv;
	double bytes_per_bound_pasid, bytes_per_binding, bytes_per_pasid;
	double teardown_ms[TEARDOWN_REPS], teardown_med_ms;
	struct scale_lat lat[SCALE_PLACES];
	double fill_s, free_s, attach_s;
	unsigned n_vms;
	uint64_t n_fill;
};

/* One nestd and the clients of one part of the run. */
struct scale {
	struct bench_nestd nestd;
	struct bench_echo echo;
	int echo_fd, memfd;
	nest_client *c0, *c1, *admin;
	nest_client **cs;	  /* part 3: one per VM */
	uint32_t p_bound, p_free; /* vm0: bound with an empty table; allocated, not bound */
	uint32_t *pasids;	  /* vm1's N_BOUND PASIDs */
	size_t inv_next;
	uint64_t inv_page;
	double lat_empty[LAT_N], lat_full[LAT_N];
	struct scale_res *res;
};

/*
 * The PASID_ALLOC latency samples on the last VM of @full and on @empty's (the same name), at
 * each placement, into full->res->lat (bench-scale-place.c). 0 or -errno.
 */
int scale_latency(struct scale *full, struct scale *empty);

/* The human table and the Markdown rows bench/run collects. */
void scale_print(const struct scale_res *res);

#endif /* BENCH_SCALE_H */
