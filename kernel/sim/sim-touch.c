/* SPDX-License-Identifier: MIT */
/*
 * Memory nest-sim brings into existence, and the accounts it is charged to. Region files are
 * the caller's (a VMM's memfd) and may be sparse: the first access to a hole, through our
 * MAP_SHARED view, allocates the page in the file, and the kernel charges it to the process
 * that faulted it (nestd's memory cgroup) for as long as the page exists, which is as long as
 * anyone holds the file, whether or not we still map it. Before each access (a DMA chunk, a
 * page-table entry) the pages it covers are looked up with mincore(): pages that are not
 * resident are recorded in the domain's account (per file and page) and charged; an access
 * that would exceed the account's limit is refused instead of allocating anything. Pages the
 * VMM populated cost nothing.
 *
 * A recorded page is released when we see it gone from its file (not resident: hole punched,
 * file truncated, or swapped out): for a file being mapped again (a region added, e.g. at the
 * next attachment) and, before refusing an access (at most once a second), for every file the
 * domain maps. A file we no longer map cannot be looked at without holding it (which would keep
 * its pages alive), so its pages stay charged until it is mapped again or the account goes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "sim-internal.h"

#define SIM_TOUCH_VEC	   64 /* pages per mincore() call */
/*
 * Before refusing, the files a domain maps are looked at again, at most this often per account:
 * an attacker at its limit must not make every refused access cost a scan of what it holds.
 */
#define SIM_TOUCH_PRUNE_NS 1000000000ull

/* Recorded pages of one file: sorted, disjoint, non-adjacent runs [start, end) of page indexes. */
struct sim_touch_run {
	uint64_t start, end;
};

struct sim_touch_file {
	uint64_t dev, ino;
	struct sim_touch_run *runs;
	uint32_t n, cap;
};

struct nest_sim_touch_acct {
	uint64_t limit;
	uint64_t pages; /* recorded */
	uint64_t touched, released, refused;
	uint64_t pruned_ns; /* CLOCK_MONOTONIC of the last look before refusing */
	struct sim_touch_file *files;
	uint32_t n_files, cap_files;
};

int nest_sim_touch_acct_new(uint64_t limit, struct nest_sim_touch_acct **ret)
{
	struct nest_sim_touch_acct *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->limit = limit;
	*ret = a;
	return 0;
}

struct nest_sim_touch_acct *nest_sim_touch_acct_free(struct nest_sim_touch_acct *a)
{
	if (!a)
		return NULL;
	for (uint32_t i = 0; i < a->n_files; i++)
		free(a->files[i].runs);
	free(a->files);
	free(a);
	return NULL;
}

void sim_touch_acct_bind(struct nest_sim_touch_acct *a, uint64_t limit)
{
	if (a && !a->limit)
		a->limit = limit;
}

void nest_sim_touch_acct_info(const struct nest_sim_touch_acct *a, struct nest_sim_touch_info *ret)
{
	*ret = (struct nest_sim_touch_info){0};
	if (!a)
		return;
	ret->limit = a->limit;
	ret->bytes = a->pages * SIM_PAGE_SIZE;
	ret->touched = a->touched * SIM_PAGE_SIZE;
	ret->released = a->released * SIM_PAGE_SIZE;
	ret->refused = a->refused;
	for (uint32_t i = 0; i < a->n_files; i++) {
		ret->files += a->files[i].n > 0;
		ret->ranges += a->files[i].n;
	}
}

static struct sim_touch_file *touch_file_find(struct nest_sim_touch_acct *a, uint64_t dev,
					      uint64_t ino)
{
	for (uint32_t i = 0; i < a->n_files; i++)
		if (a->files[i].dev == dev && a->files[i].ino == ino)
			return &a->files[i];
	return NULL;
}

/* First run whose end is above @pg (the only one that may contain it). */
static uint32_t touch_run_search(const struct sim_touch_file *f, uint64_t pg)
{
	uint32_t lo = 0, hi = f->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (f->runs[mid].end <= pg)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool touch_recorded(const struct sim_touch_file *f, uint64_t pg)
{
	uint32_t at;

	if (!f)
		return false;
	at = touch_run_search(f, pg);
	return at < f->n && f->runs[at].start <= pg;
}

/* Record page @pg of @f (not recorded yet). */
static int touch_record(struct sim_touch_file *f, uint64_t pg)
{
	uint32_t at = touch_run_search(f, pg);
	bool join_prev = at > 0 && f->runs[at - 1].end == pg;
	bool join_next = at < f->n && f->runs[at].start == pg + 1;

	if (join_prev && join_next) {
		f->runs[at - 1].end = f->runs[at].end;
		memmove(&f->runs[at], &f->runs[at + 1], (f->n - at - 1) * sizeof(*f->runs));
		f->n--;
		return 0;
	}
	if (join_prev) {
		f->runs[at - 1].end = pg + 1;
		return 0;
	}
	if (join_next) {
		f->runs[at].start = pg;
		return 0;
	}
	if (f->n == f->cap) {
		uint32_t cap = f->cap ? f->cap * 2 : 8;
		struct sim_touch_run *nv = realloc(f->runs, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		f->runs = nv;
		f->cap = cap;
	}
	memmove(&f->runs[at + 1], &f->runs[at], (f->n - at) * sizeof(*f->runs));
	f->runs[at] = (struct sim_touch_run){pg, pg + 1};
	f->n++;
	return 0;
}

static struct sim_touch_file *touch_file_get(struct nest_sim_touch_acct *a, uint64_t dev,
					     uint64_t ino)
{
	struct sim_touch_file *f = touch_file_find(a, dev, ino);

	if (f)
		return f;
	for (uint32_t i = 0; i < a->n_files; i++)
		if (a->files[i].n == 0) { /* a slot whose pages were all released */
			a->files[i].dev = dev;
			a->files[i].ino = ino;
			return &a->files[i];
		}
	if (a->n_files == a->cap_files) {
		uint32_t cap = a->cap_files ? a->cap_files * 2 : 4;
		struct sim_touch_file *nv = realloc(a->files, cap * sizeof(*nv));

		if (!nv)
			return NULL;
		a->files = nv;
		a->cap_files = cap;
	}
	f = &a->files[a->n_files++];
	*f = (struct sim_touch_file){.dev = dev, .ino = ino};
	return f;
}

/* mincore() of @n pages at @p into @vec; a refused mincore (seccomp) says "not resident". */
static int touch_mincore(const void *p, size_t n, unsigned char *vec)
{
	if (mincore((void *)p, n * SIM_PAGE_SIZE, vec) == 0)
		return 0;
	if (errno != EPERM && errno != ENOSYS)
		return -EFAULT;
	memset(vec, 0,
	       n); /* a seccomp filter without mincore: every page counts, the bound holds */
	return 1;
}

/*
 * Release the recorded pages of @rg's file, inside @rg's window, that are no longer resident.
 * Without mincore() nothing can be seen gone: nothing is released.
 */
static void touch_prune_region(struct nest_sim_touch_acct *a, const struct sim_region *rg)
{
	struct sim_touch_file *f = touch_file_find(a, rg->file_dev, rg->file_ino);
	uint64_t first = rg->fd_offset / SIM_PAGE_SIZE, last = first + rg->len / SIM_PAGE_SIZE;

	if (!f)
		return;
	for (uint32_t i = touch_run_search(f, first); i < f->n && f->runs[i].start < last;) {
		uint64_t s = f->runs[i].start > first ? f->runs[i].start : first;
		uint64_t e = f->runs[i].end < last ? f->runs[i].end : last;
		bool split = false;

		for (uint64_t pg = s; pg < e && !split;) {
			unsigned char vec[SIM_TOUCH_VEC];
			size_t n = e - pg < SIM_TOUCH_VEC ? (size_t)(e - pg) : SIM_TOUCH_VEC;

			if (touch_mincore(rg->hva + (pg - first) * SIM_PAGE_SIZE, n, vec) != 0)
				return;
			for (size_t k = 0; k < n; k++) {
				struct sim_touch_run *r = &f->runs[i];
				uint64_t gone = pg + k;

				if (vec[k] & 1)
					continue;
				/* drop page `gone` from run i: shrink, or split it in two */
				a->pages--;
				a->released++;
				if (gone == r->start) {
					r->start++;
				} else if (gone + 1 == r->end) {
					r->end--;
				} else {
					struct sim_touch_run tail = {gone + 1, r->end};

					if (f->n == f->cap) {
						uint32_t cap = f->cap * 2;
						struct sim_touch_run *nv =
							realloc(f->runs, cap * sizeof(*nv));

						if (!nv) { /* keep it charged: the bound still holds */
							a->pages++;
							a->released--;
							continue;
						}
						f->runs = nv;
						f->cap = cap;
						r = &f->runs[i];
					}
					r->end = gone;
					memmove(&f->runs[i + 2], &f->runs[i + 1],
						(f->n - i - 1) * sizeof(*f->runs));
					f->runs[i + 1] = tail;
					f->n++;
					split = true; /* go on with the tail as run i + 1 */
					break;
				}
			}
			pg += n;
			if (split)
				break;
		}
		if (f->runs[i].start >= f->runs[i].end) {
			memmove(&f->runs[i], &f->runs[i + 1], (f->n - i - 1) * sizeof(*f->runs));
			f->n--;
		} else {
			i++;
		}
	}
}

void sim_touch_region_added(const struct sim_s2 *s2, const struct sim_region *rg)
{
	if (s2->acct && s2->acct->limit)
		touch_prune_region(s2->acct, rg);
}

static const struct sim_region *touch_region_of(const struct sim_s2 *s2, uintptr_t a)
{
	for (uint32_t i = 0; i < s2->n; i++)
		if (a >= (uintptr_t)s2->v[i].hva && a - (uintptr_t)s2->v[i].hva < s2->v[i].len)
			return &s2->v[i];
	return NULL;
}

/* Pages of [start, end) (inside @rg) that are not resident and not recorded yet. */
static int touch_count_new(const struct nest_sim_touch_acct *a, const struct sim_region *rg,
			   uintptr_t start, uintptr_t end, uint64_t *ret)
{
	const struct sim_touch_file *f =
		touch_file_find((struct nest_sim_touch_acct *)a, rg->file_dev, rg->file_ino);
	uint64_t pg0 = rg->fd_offset / SIM_PAGE_SIZE + (start - (uintptr_t)rg->hva) / SIM_PAGE_SIZE;
	uint64_t n = 0;

	for (uintptr_t p = start; p < end; p += SIM_TOUCH_VEC * SIM_PAGE_SIZE) {
		unsigned char vec[SIM_TOUCH_VEC];
		size_t np = (end - p) / SIM_PAGE_SIZE < SIM_TOUCH_VEC ? (end - p) / SIM_PAGE_SIZE
								      : SIM_TOUCH_VEC;
		uint64_t pg = pg0 + (p - start) / SIM_PAGE_SIZE;

		if (touch_mincore((const void *)p, np, vec) < 0)
			return -EFAULT;
		for (size_t k = 0; k < np; k++)
			n += !(vec[k] & 1) && !touch_recorded(f, pg + k);
	}
	*ret = n;
	return 0;
}

static int touch_charge(struct nest_sim_touch_acct *a, const struct sim_region *rg, uintptr_t start,
			uintptr_t end)
{
	struct sim_touch_file *f = touch_file_get(a, rg->file_dev, rg->file_ino);
	uint64_t pg0 = rg->fd_offset / SIM_PAGE_SIZE + (start - (uintptr_t)rg->hva) / SIM_PAGE_SIZE;

	if (!f)
		return -ENOMEM;
	for (uintptr_t p = start; p < end; p += SIM_TOUCH_VEC * SIM_PAGE_SIZE) {
		unsigned char vec[SIM_TOUCH_VEC];
		size_t np = (end - p) / SIM_PAGE_SIZE < SIM_TOUCH_VEC ? (end - p) / SIM_PAGE_SIZE
								      : SIM_TOUCH_VEC;
		uint64_t pg = pg0 + (p - start) / SIM_PAGE_SIZE;

		if (touch_mincore((const void *)p, np, vec) < 0)
			return -EFAULT;
		for (size_t k = 0; k < np; k++) {
			if ((vec[k] & 1) || touch_recorded(f, pg + k))
				continue;
			if (touch_record(f, pg + k) < 0)
				return -ENOMEM;
			a->pages++;
			a->touched++;
		}
	}
	return 0;
}

int sim_touch(const struct sim_s2 *s2, const void *hva, size_t len)
{
	struct nest_sim_touch_acct *a = s2->acct;
	uintptr_t start = (uintptr_t)hva & ~(uintptr_t)SIM_PAGE_MASK;
	uintptr_t end = ((uintptr_t)hva + len + SIM_PAGE_MASK) & ~(uintptr_t)SIM_PAGE_MASK;
	const struct sim_region *rg;
	uint64_t fresh, before;
	int r;

	if (!a || !a->limit || len == 0)
		return 0;
	rg = touch_region_of(s2, start);
	if (!rg || end - (uintptr_t)rg->hva > rg->len)
		return -EFAULT;
	r = touch_count_new(a, rg, start, end, &fresh);
	if (r < 0)
		return r;
	if (a->pages > a->limit / SIM_PAGE_SIZE || fresh > (a->limit / SIM_PAGE_SIZE) - a->pages) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		if (!a->pruned_ns || now - a->pruned_ns >= SIM_TOUCH_PRUNE_NS) {
			/* what the files we map no longer hold is not ours to pay for: look first */
			a->pruned_ns = now;
			for (uint32_t i = 0; i < s2->n; i++)
				touch_prune_region(a, &s2->v[i]);
			r = touch_count_new(a, rg, start, end, &fresh);
			if (r < 0)
				return r;
		}
		if (a->pages > a->limit / SIM_PAGE_SIZE ||
		    fresh > (a->limit / SIM_PAGE_SIZE) - a->pages) {
			a->refused++;
			s2->touch->refused++;
			return -ENOMEM;
		}
	}
	if (!fresh) /* every page is there already (the usual case): nothing to record */
		return 0;
	before = a->pages;
	r = touch_charge(a, rg, start, end);
	s2->touch->bytes += (a->pages - before) * SIM_PAGE_SIZE;
	return r;
}
