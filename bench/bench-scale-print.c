/* SPDX-License-Identifier: MIT */
/* bench-scale-print.c - bench-scale's figures as a human table and as Markdown rows. */
#include <inttypes.h>
#include <stdio.h>

#include "bench-scale.h"

/* scale_lat's placements, as the rows name them */
static const char *const place_name[SCALE_PLACES] = {
	[SCALE_ONE_CPU] = "one CPU",
	[SCALE_TWO_CPUS] = "two CPUs",
};

static void scale_row_ratio(const char *what, const struct bench_ratio *q, const char *floor,
			    const char *goal)
{
	printf("| scale | %s | %.0f/s (%.1f us, CPU %.1f us) | %s %.1f us (CPU %.1f us) | %.2fx (CPU "
	       "%.2fx) | %s |\n",
	       what, 1e6 / q->us, q->us, q->cpu_us, floor, q->floor_us, q->floor_cpu_us, q->ratio,
	       q->cpu_ratio, goal);
}

static void scale_line_ratio(const char *what, const struct bench_ratio *q, const char *floor)
{
	printf("%-44s %.0f/s, %.2fx %s (CPU time %.2fx)\n", what, 1e6 / q->us, q->ratio, floor,
	       q->cpu_ratio);
}

void scale_print(const struct scale_res *res)
{
	printf("\n%-44s %s\n", "figure", "value (goal)");
	printf("%-44s %.2f ms (median of %d; %.2f-%.2f) (goal <= 20 ms)\n", "exec to READY=1",
	       res->ready_ms, READY_REPS, res->ready_min_ms, res->ready_max_ms);
	printf("%-44s %.2f MiB (goal <= 4 MiB)\n", "idle RSS, 1 VM configured",
	       (double)res->rss_idle_kib / 1024);
	printf("%-44s %.2f MiB, %.2f MiB with all attached\n", "RSS, NESTD_VMS_MAX VMs configured",
	       (double)res->rss_vms_kib / 1024, (double)res->rss_attached_kib / 1024);
	scale_line_ratio("bind+unbind pairs", &res->bind, "the raw round trips");
	scale_line_ratio("PASID alloc+free pairs", &res->alloc, "the raw round trips");
	scale_line_ratio("connect+HELLO+attach+detach", &res->conn,
			 "a raw connect + 3 round trips");
	printf("%-44s %.0f B (goal <= 256 B)\n", "RSS per binding", res->bytes_per_binding);
	printf("%-44s %.0f B (of %u allocated on one VM)\n", "RSS per PASID, one VM",
	       res->bytes_per_bound_pasid, N_BOUND);
	scale_line_ratio("INVALIDATE x1, 10,000 bound", &res->inv, "1 bound (goal: the same)");
	printf("%-44s %.2f ms (median; %.2f %.2f %.2f) (goal <= 20 ms)\n",
	       "teardown, 10,000 bound PASIDs", res->teardown_med_ms, res->teardown_ms[0],
	       res->teardown_ms[1], res->teardown_ms[2]);
	printf("%-44s %u, attached in %.2f s\n", "VMs attached at once", res->n_vms, res->attach_s);
	printf("%-44s %" PRIu64 " + 1 in %.2f s, freed in %.2f s\n", "PASIDs allocated across them",
	       res->n_fill, res->fill_s, res->free_s);
	printf("%-44s %.0f B (goal <= 128 B)\n", "RSS per allocated PASID", res->bytes_per_pasid);
	for (int i = 0; i < SCALE_PLACES; i++) {
		const struct scale_lat *l = &res->lat[i];

		if (!l->done)
			continue;
		printf("PASID_ALLOC latency, %s:\n", place_name[i]);
		printf("  %-42s p50 %.1f us p99 %.1f us\n", "empty space", l->empty_p50,
		       l->empty_p99);
		printf("  %-42s p50 %.1f us p99 %.1f us; full/empty p99 %.2f%s, p50 %.2f\n",
		       "full space", l->full_p50, l->full_p99, l->full_p99 / l->empty_p99,
		       i == SCALE_ONE_CPU ? " (goal <= 1.5)" : "", l->full_p50 / l->empty_p50);
		printf("  %-42s %.1f us full, %.1f us empty: %.2fx\n", "nestd CPU per alloc+free",
		       l->cpu_full_us, l->cpu_empty_us, l->cpu_full_us / l->cpu_empty_us);
		printf("  %-42s %.3f full, %.3f empty\n", "nestd minor faults per alloc+free",
		       l->flt_full, l->flt_empty);
	}
	printf("\nMarkdown rows (bench/run):\n");
	printf("| scale | exec to READY=1 (NOTIFY_SOCKET) | %.2f ms | - | - | <= 20 ms |\n",
	       res->ready_ms);
	printf("| scale | idle RSS, 1 VM configured | %.2f MiB | - | - | <= 4 MiB |\n",
	       (double)res->rss_idle_kib / 1024);
	printf("| scale | RSS, %u VMs configured / all attached | %.2f / %.2f MiB | - | - | - |\n",
	       res->n_vms, (double)res->rss_vms_kib / 1024, (double)res->rss_attached_kib / 1024);
	scale_row_ratio("bind+unbind pairs", &res->bind, "2 raw round trips", "-");
	scale_row_ratio("PASID alloc+free pairs", &res->alloc, "2 raw round trips", "-");
	scale_row_ratio("connect+HELLO+attach+detach", &res->conn, "raw connect + 3 round trips",
			"-");
	printf("| scale | RSS per binding (%u bound) | %.0f B | - | - | <= 256 B |\n", N_BOUND,
	       res->bytes_per_binding);
	printf("| scale | RSS per allocated PASID (%" PRIu64 " across %u VMs) | %.0f B | - | - | "
	       "<= 128 B |\n",
	       res->n_fill, res->n_vms, res->bytes_per_pasid);
	printf("| scale | INVALIDATE x1 on a VM with %u bound PASIDs | %.1f us (CPU %.1f us) | 1 "
	       "bound: %.1f us (CPU %.1f us) | %.2fx (CPU %.2fx) | the same (1.00x) |\n",
	       N_BOUND, res->inv.us, res->inv.cpu_us, res->inv.floor_us, res->inv.floor_cpu_us,
	       res->inv.ratio, res->inv.cpu_ratio);
	printf("| scale | teardown of a VM with %u bound PASIDs (close to vm.list detached) | "
	       "%.2f ms | - | - | <= 20 ms |\n",
	       N_BOUND, res->teardown_med_ms);
	printf("| scale | VMs attached at once | %u (NESTD_VMS_MAX) | - | - | 1,024 |\n",
	       res->n_vms);
	printf("| scale | PASIDs allocated across them (20-bit space) | %" PRIu64 " | - | - | "
	       "1,048,575 |\n",
	       res->n_fill + 1);
	for (int i = 0; i < SCALE_PLACES; i++) {
		const struct scale_lat *l = &res->lat[i];

		if (!l->done)
			continue;
		/* the goal is on the one-CPU row: across CPUs p99 is the host's wake-up tail */
		printf("| scale | PASID_ALLOC p50 / p99, full space, %s | %.1f / %.1f us | empty: "
		       "%.1f / %.1f us | p99 %.2fx (p50 %.2fx) | %s |\n",
		       place_name[i], l->full_p50, l->full_p99, l->empty_p50, l->empty_p99,
		       l->full_p99 / l->empty_p99, l->full_p50 / l->empty_p50,
		       i == SCALE_ONE_CPU ? "p99 <= 1.5x" : "-");
		printf("| scale | nestd CPU per PASID_ALLOC + PASID_FREE, full space, %s | %.1f us "
		       "(%.3f minor faults) | empty: %.1f us (%.3f) | %.2fx | - |\n",
		       place_name[i], l->cpu_full_us, l->flt_full, l->cpu_empty_us, l->flt_empty,
		       l->cpu_full_us / l->cpu_empty_us);
	}
}
