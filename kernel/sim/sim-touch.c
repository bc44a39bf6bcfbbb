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
#include <search.h>
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

/*
 * Recorded pages of one file: disjoint, non-adjacent runs [start, end) of page indexes, each its
 * own allocation, in a balanced search tree (tsearch(3), red-black in glibc) ordered by position.
 * Finding, recording or dropping a page is O(log n) in the runs, whatever order the accesses
 * come in: a VMM that arranges its holes and populated pages to make thousands of runs, and
 * then DMA that records, or holes that split, them one by one in front of all the others, costs
 * nestd n log n, not the n^2 a sorted array's shifting would.
 */
struct sim_touch_run {
	uint64_t start, end;
};

struct sim_touch_file {
	uint64_t dev, ino;
	void *root; /* tsearch() tree of struct sim_touch_run */
	uint32_t n; /* runs in it */
};

struct nest_sim_touch_acct {
	uint64_t limit;
	uint64_t pages; /* recorded */
	uint64_t touched, released, refused;
	uint64_t pruned_ns; /* CLOCK_MONOTONIC of the last look before refusing */
	struct sim_touch_file *files;
	uint32_t n_files, cap_files;
};

/* Runs compared or visited by this thread since it started (nest_sim_touch_steps()). */
static _Thread_local uint64_t touch_steps;

uint64_t nest_sim_touch_steps(void)
{
	return touch_steps;
}

/* Runs in position order; overlapping ones compare equal: [pg, pg + 1) finds the run holding pg. */
static int touch_run_cmp(const void *x, const void *y)
{
	const struct sim_touch_run *a = x, *b = y;

	touch_steps++;
	if (a->end <= b->start)
		return -1;
	if (a->start >= b->end)
		return 1;
	return 0;
}

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
		tdestroy(a->files[i].root, free);
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

/* The run of @f (NULL: none) holding page @pg, or NULL. */
static struct sim_touch_run *touch_run_at(const struct sim_touch_file *f, uint64_t pg)
{
	const struct sim_touch_run key = {pg, pg + 1};
	void *const *node;

	if (!f || !f->root)
		return NULL;
	node = tfind(&key, &f->root, touch_run_cmp);
	return node ? *(struct sim_touch_run *const *)node : NULL;
}

/* Record page @pg of @f (not recorded yet): grow a neighbour run, join two, or add one. */
static int touch_record(struct sim_touch_file *f, uint64_t pg)
{
	struct sim_touch_run *prev = pg ? touch_run_at(f, pg - 1) : NULL;
	struct sim_touch_run *next = touch_run_at(f, pg + 1);
	struct sim_touch_run *r;
	void *node;

	if (prev && next) {
		tdelete(next, &f->root, touch_run_cmp);
		prev->end = next->end; /* in place: the order of the runs does not change */
		free(next);
		f->n--;
		return 0;
	}
	if (prev) {
		prev->end = pg + 1;
		return 0;
	}
	if (next) {
		next->start = pg;
		return 0;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct sim_touch_run){pg, pg + 1};
	node = tsearch(r, &f->root, touch_run_cmp);
	if (!node || *(struct sim_touch_run **)node != r) {
		free(r); /* out of memory (a run holding pg cannot exist) */
		return -ENOMEM;
	}
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

/* All runs of a file, collected in position order. */
struct touch_runs {
	struct sim_touch_run **v;
	uint32_t n, cap; /* cap: the file's count of runs, which the tree holds */
};

static void touch_collect_visit(const void *node, VISIT which, void *closure)
{
	struct touch_runs *w = closure;

	if (which != postorder &&
	    which != leaf) /* in order: each node once, between its subtrees */
		return;
	touch_steps++;
	if (w->n < w->cap)
		w->v[w->n++] = *(struct sim_touch_run *const *)node;
}

/* Drop page @gone (not resident any more) from run @r, which holds it; the run that holds the
 * pages after it, NULL if none: @r, or the tail @r was split into. */
static struct sim_touch_run *touch_drop(struct nest_sim_touch_acct *a, struct sim_touch_file *f,
					struct sim_touch_run *r, uint64_t gone)
{
	struct sim_touch_run *tail;
	void *node;

	if (gone != r->start && gone + 1 != r->end) { /* inside: split it in two */
		tail = malloc(sizeof(*tail));
		if (!tail)
			return r; /* keep it charged: the bound still holds */
		*tail = (struct sim_touch_run){gone + 1, r->end};
		r->end = gone;
		node = tsearch(tail, &f->root, touch_run_cmp);
		if (!node || *(struct sim_touch_run **)node != tail) {
			r->end = tail->end;
			free(tail);
			return r;
		}
		f->n++;
		a->pages--;
		a->released++;
		return tail;
	}
	a->pages--;
	a->released++;
	if (r->end - r->start == 1) { /* it held only `gone`: gone (deleted while it compares) */
		tdelete(r, &f->root, touch_run_cmp);
		free(r);
		f->n--;
		return NULL;
	}
	if (gone == r->start)
		r->start++;
	else
		r->end--;
	return r;
}

/* The window of @rg in its file, in pages: [touch_rg_first(), touch_rg_last()). */
static uint64_t touch_rg_first(const struct sim_region *rg)
{
	return rg->fd_offset / SIM_PAGE_SIZE;
}

static uint64_t touch_rg_last(const struct sim_region *rg)
{
	return touch_rg_first(rg) + rg->len / SIM_PAGE_SIZE;
}

/*
 * Release the recorded pages of @f that are no longer resident, looked at through the @nrg
 * regions @rgs that map @f (sorted by the first page of their window; they may overlap): a page
 * none of them maps cannot be looked at and stays recorded. Without mincore() nothing can be
 * seen gone: nothing is released. One walk of the runs in position order with the regions swept
 * alongside, so a pass costs the runs once (not once per region) plus O(log n) per page dropped;
 * dropping pages changes only the run being walked (and the tail it splits into, which holds
 * its later pages), never a run collected after it.
 */
static void touch_prune_file(struct nest_sim_touch_acct *a, struct sim_touch_file *f,
			     const struct sim_region *const *rgs, uint32_t nrg)
{
	const struct sim_region *best = NULL; /* of those starting at or before pg: the longest */
	struct touch_runs w = {.cap = f->n};
	uint32_t next = 0; /* rgs[next, nrg) start after pg */

	if (!f->n || !nrg)
		return;
	w.v = malloc(f->n * sizeof(*w.v));
	if (!w.v) /* nothing released: the bound still holds */
		return;
	twalk_r(f->root, touch_collect_visit, &w);
	for (uint32_t i = 0; i < w.n; i++) {
		struct sim_touch_run *r = w.v[i];
		uint64_t pg = r->start, e = r->end;

		while (pg < e && r) { /* every page of [pg, e) is in r: the run or a split's tail */
			unsigned char vec[SIM_TOUCH_VEC];
			uint64_t stop;

			for (; next < nrg && touch_rg_first(rgs[next]) <= pg; next++)
				if (!best || touch_rg_last(rgs[next]) > touch_rg_last(best))
					best = rgs[next];
			if (!best || touch_rg_last(best) <= pg) { /* no region maps pg */
				if (next == nrg)
					goto out;
				pg = touch_rg_first(rgs[next]);
				continue;
			}
			stop = touch_rg_last(best) < e ? touch_rg_last(best) : e;
			if (stop - pg > SIM_TOUCH_VEC)
				stop = pg + SIM_TOUCH_VEC;
			if (touch_mincore(best->hva + (pg - touch_rg_first(best)) * SIM_PAGE_SIZE,
					  (size_t)(stop - pg), vec) != 0)
				goto out;
			for (uint64_t k = 0; pg + k < stop && r; k++)
				if (!(vec[k] & 1))
					r = touch_drop(a, f, r, pg + k);
			pg = stop;
		}
	}
out:
	free(w.v);
}

void sim_touch_region_added(const struct sim_s2 *s2, const struct sim_region *rg)
{
	struct sim_touch_file *f;

	if (!s2->acct || !s2->acct->limit)
		return;
	f = touch_file_find(s2->acct, rg->file_dev, rg->file_ino);
	if (f)
		touch_prune_file(s2->acct, f, &rg, 1);
}

/* Regions by file, then by the first page of their window. */
static int touch_rg_cmp(const void *x, const void *y)
{
	const struct sim_region *a = *(const struct sim_region *const *)x;
	const struct sim_region *b = *(const struct sim_region *const *)y;

	if (a->file_dev != b->file_dev)
		return a->file_dev < b->file_dev ? -1 : 1;
	if (a->file_ino != b->file_ino)
		return a->file_ino < b->file_ino ? -1 : 1;
	if (a->fd_offset != b->fd_offset)
		return a->fd_offset < b->fd_offset ? -1 : 1;
	return 0;
}

/* Release what every file @s2 maps no longer holds: each file's runs walked once. */
static void touch_prune_all(struct nest_sim_touch_acct *a, const struct sim_s2 *s2)
{
	const struct sim_region **v;
	uint32_t i, j;

	if (!s2->n)
		return;
	v = malloc(s2->n * sizeof(*v));
	if (!v) /* nothing released: the bound still holds */
		return;
	for (i = 0; i < s2->n; i++)
		v[i] = &s2->v[i];
	qsort(v, s2->n, sizeof(*v), touch_rg_cmp);
	for (i = 0; i < s2->n; i = j) {
		struct sim_touch_file *f = touch_file_find(a, v[i]->file_dev, v[i]->file_ino);

		for (j = i + 1; j < s2->n && v[j]->file_dev == v[i]->file_dev &&
				v[j]->file_ino == v[i]->file_ino;
		     j++)
			;
		if (f)
			touch_prune_file(a, f, v + i, j - i);
	}
	free(v);
}

static const struct sim_region *touch_region_of(const struct sim_s2 *s2, uintptr_t a)
{
	for (uint32_t i = 0; i < s2->n; i++)
		if (a >= (uintptr_t)s2->v[i].hva && a - (uintptr_t)s2->v[i].hva < s2->v[i].len)
			return &s2->v[i];
	return NULL;
}

/*
 * The pages of [start, end) (inside @rg) that are neither resident nor recorded in @f (NULL:
 * nothing recorded), counted in *@ret_n (also on failure); with @record, recorded in @f.
 */
static int touch_walk(const struct sim_region *rg, struct sim_touch_file *f, uintptr_t start,
		      uintptr_t end, bool record, uint64_t *ret_n)
{
	uint64_t pg0 = rg->fd_offset / SIM_PAGE_SIZE + (start - (uintptr_t)rg->hva) / SIM_PAGE_SIZE;
	uint64_t n = 0;
	int r = 0;

	for (uintptr_t p = start; p < end && !r; p += SIM_TOUCH_VEC * SIM_PAGE_SIZE) {
		unsigned char vec[SIM_TOUCH_VEC];
		size_t np = (end - p) / SIM_PAGE_SIZE < SIM_TOUCH_VEC ? (end - p) / SIM_PAGE_SIZE
								      : SIM_TOUCH_VEC;
		uint64_t pg = pg0 + (p - start) / SIM_PAGE_SIZE;

		if (touch_mincore((const void *)p, np, vec) < 0) {
			r = -EFAULT;
			break;
		}
		for (size_t k = 0; k < np; k++) {
			if ((vec[k] & 1) || touch_run_at(f, pg + k))
				continue;
			if (record && touch_record(f, pg + k) < 0) {
				r = -ENOMEM;
				break;
			}
			n++;
		}
	}
	*ret_n = n;
	return r;
}

/* Pages of [start, end) (inside @rg) that are not resident and not recorded yet. */
static int touch_count_new(struct nest_sim_touch_acct *a, const struct sim_region *rg,
			   uintptr_t start, uintptr_t end, uint64_t *ret)
{
	return touch_walk(rg, touch_file_find(a, rg->file_dev, rg->file_ino), start, end, false,
			  ret);
}

static int touch_charge(struct nest_sim_touch_acct *a, const struct sim_region *rg, uintptr_t start,
			uintptr_t end)
{
	struct sim_touch_file *f = touch_file_get(a, rg->file_dev, rg->file_ino);
	uint64_t n;
	int r;

	if (!f)
		return -ENOMEM;
	r = touch_walk(rg, f, start, end, true, &n);
	a->pages += n;
	a->touched += n;
	return r;
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
			touch_prune_all(a, s2);
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
