/* SPDX-License-Identifier: MIT */
/*
 * bench-sim: cost of a translation served by the IOTLB and of a 4-level nested walk.
 *
 * Hits: cycle over HIT_PAGES pages, which all fit in the IOTLB.
 * Misses: cycle over MISS_PAGES distinct 4 KiB pages, 16x the IOTLB size, so with the
 * round-robin replacement every translation misses the IOTLB. With the paging-structure cache
 * off (no_psc) every miss walks all 4 levels (each of the 4 table reads goes through a stage-2
 * lookup); with it on (the default) a miss reads only the PTE below a cached PDE, which is
 * reported as a third figure. The PASID cache hits; A bits are already set after the first
 * pass, so the walk writes nothing. The counters are checked to confirm the miss rate.
 * DMA: a device read of 4 KiB and of 64 KiB by guest virtual address through nest_sim_dma()
 * (every page translated and checked, then copied), cycling over the HIT_PAGES pages, against a
 * memcpy() of the same guest pages, DMA_REPS windows of each alternating, the median ratio.
 * Prints Markdown rows for bench/run at the end. Runs in a few seconds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "nest-sim.h"

#define RAM	    (64ull << 20)
#define TABLES	    (32ull << 20) /* page tables live above this GPA */
#define IOTLB	    1024u
#define HIT_PAGES   256u
#define MISS_PAGES  (16u * IOTLB)
#define VA_BASE	    0x00007f0000000000ull
#define PTE_P_RW_US 0x7ull
#define DMA_SPAN    (HIT_PAGES * 4096u) /* VA page i maps GPA page i: memcpy's source */
#define DMA_BYTES   (512ull << 20)	/* per window: tens of ms */
#define DMA_REPS    5

struct bench {
	struct nest_sim *sim;
	uint8_t *mem;
	uint64_t next_table;
	uint64_t root;
	uint32_t pasid;
};

static void die(const char *what, int r)
{
	fprintf(stderr, "bench-sim: %s: %s\n", what, strerror(-r));
	exit(1);
}

static uint64_t bench_table(struct bench *b)
{
	uint64_t gpa = b->next_table;

	b->next_table += 4096;
	memset(b->mem + gpa, 0, 4096);
	return gpa;
}

static void bench_map(struct bench *b, uint64_t va, uint64_t gpa)
{
	uint64_t table = b->root;

	for (unsigned lvl = 4; lvl > 1; lvl--) {
		uint64_t *e =
			(uint64_t *)(b->mem + table + ((va >> (12 + 9 * (lvl - 1))) & 511) * 8);

		if (!*e)
			*e = bench_table(b) | PTE_P_RW_US;
		table = *e & 0x000ffffffffff000ull;
	}
	((uint64_t *)(b->mem + table))[(va >> 12) & 511] = gpa | PTE_P_RW_US;
}

static void bench_setup(struct bench *b, bool no_psc)
{
	struct nest_sim_config cfg = {.iotlb_entries = IOTLB, .no_psc = no_psc};
	struct nest_sim_bind bind = {.fmt = NEST_SIM_FMT_VTD_FL, .addr_width = 48};
	uint32_t dom;
	int fd = memfd_create("bench-sim", MFD_CLOEXEC), r;

	if (fd < 0 || ftruncate(fd, (off_t)RAM) < 0)
		die("memfd", -errno);
	b->mem = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b->mem == MAP_FAILED)
		die("mmap", -errno);
	if ((r = nest_sim_new(&cfg, &b->sim)) < 0 ||
	    (r = nest_sim_domain_new(b->sim, 4, &dom)) < 0 ||
	    (r = nest_sim_region_add(b->sim, dom, 0, RAM, fd, 0,
				     NEST_SIM_PERM_R | NEST_SIM_PERM_W)) < 0 ||
	    (r = nest_sim_device_add(b->sim, dom, 1, false, 20)) < 0 ||
	    (r = nest_sim_pasid_alloc(b->sim, dom, 1, 100, &b->pasid)) < 0)
		die("setup", r);
	close(fd);
	b->next_table = TABLES;
	b->root = bench_table(b);
	for (uint64_t i = 0; i < MISS_PAGES; i++)
		bench_map(b, VA_BASE + i * 4096, (i % 4096) * 4096);
	bind.gpgd = b->root;
	if ((r = nest_sim_bind(b->sim, 1, b->pasid, &bind)) < 0)
		die("bind", r);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per translation over @iters translations cycling through @pages pages */
static double bench_run(struct bench *b, uint32_t pages, uint64_t iters)
{
	struct nest_sim_xlate xl;
	uint64_t sink = 0;
	double t0;

	for (uint32_t i = 0; i < pages; i++) /* warm up: A bits, PASID cache, IOTLB */
		nest_sim_translate(b->sim, 1, b->pasid, VA_BASE + (uint64_t)i * 4096, 0, &xl, NULL);
	t0 = now_ns();
	for (uint64_t i = 0; i < iters; i++) {
		/* pages is a power of two: a mask, not a division, in the timed loop */
		uint64_t va = VA_BASE + (i & (pages - 1)) * 4096 + (i & 0xff);
		int r = nest_sim_translate(b->sim, 1, b->pasid, va, 0, &xl, NULL);

		if (r < 0)
			die("translate", r);
		sink += xl.gpa;
	}
	if (sink == 1)
		puts("");
	return (now_ns() - t0) / (double)iters;
}

/* ns per translation missing the IOTLB; *ret_miss_rate in percent, *ret_walks per translation */
static double bench_miss(struct bench *b, double *ret_miss_rate)
{
	struct nest_sim_counters c0, c1;
	double ns;

	nest_sim_get_counters(b->sim, &c0);
	ns = bench_run(b, MISS_PAGES, 8u * 1000 * 1000);
	nest_sim_get_counters(b->sim, &c1);
	*ret_miss_rate = 100.0 * (double)(c1.iotlb_misses - c0.iotlb_misses) /
			 (double)(c1.translations - c0.translations);
	return ns;
}

/* ns per transfer of @len bytes: the device reads guest memory (@sim) or memcpy() does. */
static double bench_dma_window(struct bench *b, size_t len, bool sim, uint8_t *buf)
{
	uint64_t n = DMA_BYTES / len, off = 0;
	double t0 = now_ns();

	for (uint64_t i = 0; i < n; i++) {
		size_t done = 0;
		int r = 0;

		if (sim)
			r = nest_sim_dma(b->sim, 1, b->pasid, VA_BASE + off, buf, len, 0, &done,
					 NULL);
		else
			memcpy(buf, b->mem + off, len);
		if (r < 0 || (sim && done != len))
			die("dma", r < 0 ? r : -EIO);
		off = (off + len) % DMA_SPAN;
	}
	return (now_ns() - t0) / (double)n;
}

struct bench_dma {
	double ns, memcpy_ns, ratio;
};

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double bench_med(double *v)
{
	qsort(v, DMA_REPS, sizeof(v[0]), bench_cmp);
	return v[DMA_REPS / 2];
}

static struct bench_dma bench_dma(struct bench *b, size_t len)
{
	double ns[DMA_REPS], mc[DMA_REPS], ratio[DMA_REPS];
	uint8_t *buf = malloc(len);

	if (!buf)
		die("dma buffer", -ENOMEM);
	bench_dma_window(b, len, true, buf); /* warm-up */
	bench_dma_window(b, len, false, buf);
	for (int i = 0; i < DMA_REPS; i++) {
		ns[i] = bench_dma_window(b, len, true, buf);
		mc[i] = bench_dma_window(b, len, false, buf);
		ratio[i] = ns[i] / mc[i];
	}
	free(buf);
	return (struct bench_dma){
		.ns = bench_med(ns), .memcpy_ns = bench_med(mc), .ratio = bench_med(ratio)};
}

static void bench_dma_print(const char *name, size_t len, const struct bench_dma *d)
{
	printf("| sim | DMA read %s (nest_sim_dma, IOTLB hits) | %.2f GB/s (%.2f us) | memcpy of "
	       "the same pages %.2f GB/s | %.2fx | - |\n",
	       name, (double)len / d->ns, d->ns / 1e3, (double)len / d->memcpy_ns, d->ratio);
}

int main(void)
{
	struct bench b = {0}, p = {0};
	double hit, miss, miss_psc, rate, rate_psc;
	struct bench_dma d4, d64;

	bench_setup(&b, true);
	hit = bench_run(&b, HIT_PAGES, 40u * 1000 * 1000);
	miss = bench_miss(&b, &rate);
	bench_setup(&p, false);
	miss_psc = bench_miss(&p, &rate_psc);
	printf("IOTLB hit   : %12.0f translations/s  %7.1f ns/translation\n", 1e9 / hit, hit);
	printf("4-level miss: %12.0f translations/s  %7.1f ns/translation  (IOTLB miss rate "
	       "%.1f%%, no paging-structure cache)\n",
	       1e9 / miss, miss, rate);
	printf("miss, PDE cached: %8.0f translations/s  %7.1f ns/translation  (IOTLB miss rate "
	       "%.1f%%, default paging-structure cache)\n",
	       1e9 / miss_psc, miss_psc, rate_psc);
	printf("miss/hit ratio: %.1f (4-level), %.1f (PDE cached)\n", miss / hit, miss_psc / hit);
	printf("targets: hit <= 30 ns, 4-level miss <= 300 ns: %s\n",
	       hit <= 30 && miss <= 300 ? "met" : "NOT met");
	d4 = bench_dma(&b, 4096);
	d64 = bench_dma(&b, 65536);
	printf("DMA read 4 KiB : %7.2f GB/s, %.2fx a memcpy of the same pages (%.2f GB/s)\n",
	       4096 / d4.ns, d4.ratio, 4096 / d4.memcpy_ns);
	printf("DMA read 64 KiB: %7.2f GB/s, %.2fx a memcpy of the same pages (%.2f GB/s)\n",
	       65536 / d64.ns, d64.ratio, 65536 / d64.memcpy_ns);
	printf("\nMarkdown rows (bench/run):\n");
	printf("| sim | IOTLB hit | %.1f ns/translation | - | - | <= 30 ns |\n", hit);
	printf("| sim | IOTLB miss, 4-level walk (no paging-structure cache) | %.1f ns/translation "
	       "| IOTLB hit %.1f ns | %.1fx | <= 300 ns |\n",
	       miss, hit, miss / hit);
	printf("| sim | IOTLB miss, PDE cached | %.1f ns/translation | IOTLB hit %.1f ns | %.1fx | - "
	       "|\n",
	       miss_psc, hit, miss_psc / hit);
	bench_dma_print("4 KiB", 4096, &d4);
	bench_dma_print("64 KiB", 65536, &d64);
	nest_sim_free(b.sim);
	munmap(b.mem, RAM);
	nest_sim_free(p.sim);
	munmap(p.mem, RAM);
	return 0;
}
