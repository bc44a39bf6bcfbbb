/* SPDX-License-Identifier: MIT */
/* bench-scale.h - what bench-scale measured, and its printing (bench-scale-print.c). */
#ifndef BENCH_SCALE_H
#define BENCH_SCALE_H

#include <stdint.h>

#include "bench-util.h"

#define N_BOUND	      10000u /* bound PASIDs of the big VM */
#define READY_REPS    5
#define TEARDOWN_REPS 3

/* Everything the run measured, for the tables. */
struct scale_res {
	double ready_ms, ready_min_ms, ready_max_ms;
	long rss_idle_kib, rss_vms_kib, rss_attached_kib;
	struct bench_ratio bind, alloc, conn, inv;
	double bytes_per_bound_pasid, bytes_per_binding, bytes_per_pasid;
	double teardown_ms[TEARDOWN_REPS], teardown_med_ms;
	double lat_empty_p50, lat_empty_p99, lat_full_p50, lat_full_p99;
	double cpu_empty_us, cpu_full_us; /* nestd's CPU time per PASID_ALLOC + PASID_FREE */
	double fill_s, free_s, attach_s;
	unsigned n_vms;
	uint64_t n_fill;
};

/* The human table and the Markdown rows bench/run collects. */
void scale_print(const struct scale_res *res);

#endif /* BENCH_SCALE_H */
