/* SPDX-License-Identifier: MIT */
/*
 * backend-sim.c - the "sim" backend: nestd's backend interface on top of one nest_sim instance.
 *
 * One sim domain per VM context. The sim's PASID allocator is system-wide (one instance), so this
 * backend reports NEST_PASID_MODE_SYSTEM. Policy dev_ids are VM-local while sim device ids are
 * unique per instance: every attached device gets a fresh sim id, and events are translated back
 * to (context, VM-local dev_id) before they reach the daemon.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "backend.h"
#include "nest-sim.h"

struct sim_dev {
	uint32_t dev_id; /* VM-local */
	uint32_t sim_id; /* instance-wide */
	struct sim_dev *next;
};

struct nest_be_ctx {
	uint32_t domain;
	void *cookie;
	struct sim_dev *devs;
	struct nest_be_ctx *next;
};

struct nest_backend {
	struct nest_sim *sim;
	struct nest_be_events ev;
	void *opaque;
	struct nest_be_ctx *ctxs;
	uint32_t next_sim_id;
	uint32_t pasid_bits;
	uint32_t max_gaw;
};

static uint32_t fault_reason_to_wire(uint32_t r)
{
	static const uint8_t map[NEST_SIM_FAULT_REASON_MAX] = {
		[NEST_SIM_FAULT_NONE] = NEST_FAULT_NONE,
		[NEST_SIM_FAULT_PASID_RANGE] = NEST_FAULT_PASID_RANGE,
		[NEST_SIM_FAULT_PASID_NOT_PRESENT] = NEST_FAULT_PASID_NOT_PRESENT,
		[NEST_SIM_FAULT_NON_CANONICAL] = NEST_FAULT_NON_CANONICAL,
		[NEST_SIM_FAULT_PTE_NOT_PRESENT] = NEST_FAULT_PTE_NOT_PRESENT,
		[NEST_SIM_FAULT_RSVD] = NEST_FAULT_RESERVED_BIT,
		[NEST_SIM_FAULT_WRITE] = NEST_FAULT_WRITE,
		[NEST_SIM_FAULT_EXEC] = NEST_FAULT_EXEC,
		[NEST_SIM_FAULT_USER] = NEST_FAULT_USER,
		/* supervisor fetch from a user page is an execute-permission fault on the wire */
		[NEST_SIM_FAULT_SUPERVISOR] = NEST_FAULT_EXEC,
		[NEST_SIM_FAULT_SRE] = NEST_FAULT_SUPERVISOR,
		[NEST_SIM_FAULT_S2_MISS] = NEST_FAULT_S2_MISS,
		[NEST_SIM_FAULT_S2_PERM] = NEST_FAULT_S2_PERM,
	};

	return r < NEST_SIM_FAULT_REASON_MAX ? map[r] : NEST_FAULT_PTE_NOT_PRESENT;
}

static uint32_t access_to_sim(uint32_t access)
{
	return ((access & NEST_ACCESS_WRITE) ? NEST_SIM_ACC_WRITE : 0) |
	       ((access & NEST_ACCESS_EXEC) ? NEST_SIM_ACC_EXEC : 0) |
	       ((access & NEST_ACCESS_PRIV) ? NEST_SIM_ACC_PRIV : 0);
}

static uint32_t access_to_wire(uint32_t acc)
{
	return ((acc & NEST_SIM_ACC_WRITE) ? NEST_ACCESS_WRITE : NEST_ACCESS_READ) |
	       ((acc & NEST_SIM_ACC_EXEC) ? NEST_ACCESS_EXEC : 0) |
	       ((acc & NEST_SIM_ACC_PRIV) ? NEST_ACCESS_PRIV : 0);
}

static struct nest_be_ctx *ctx_by_domain(struct nest_backend *be, uint32_t domain)
{
	for (struct nest_be_ctx *c = be->ctxs; c; c = c->next)
		if (c->domain == domain)
			return c;
	return NULL;
}

static struct sim_dev *dev_by_id(struct nest_be_ctx *ctx, uint32_t dev_id)
{
	for (struct sim_dev *d = ctx->devs; d; d = d->next)
		if (d->dev_id == dev_id)
			return d;
	return NULL;
}

static struct sim_dev *dev_by_sim_id(struct nest_be_ctx *ctx, uint32_t sim_id)
{
	for (struct sim_dev *d = ctx->devs; d; d = d->next)
		if (d->sim_id == sim_id)
			return d;
	return NULL;
}

static void sim_fault_fill(const struct nest_sim_fault *sf, uint32_t dev_id,
			   struct nest_ev_fault *f)
{
	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	f->reason = fault_reason_to_wire(sf->reason);
	f->dev_id = dev_id;
	f->pasid = sf->pasid;
	f->addr = sf->addr;
	f->access = access_to_wire(sf->access);
}

static void on_sim_fault(void *opaque, const struct nest_sim_fault *sf)
{
	struct nest_backend *be = opaque;
	struct nest_be_ctx *ctx = ctx_by_domain(be, sf->domain);
	struct sim_dev *d = ctx ? dev_by_sim_id(ctx, sf->dev_id) : NULL;
	struct nest_ev_fault f;

	if (!d || !be->ev.fault)
		return;
	sim_fault_fill(sf, d->dev_id, &f);
	be->ev.fault(be->opaque, ctx->cookie, &f);
}

static void on_sim_stale(void *opaque, const struct nest_sim_stale *ss)
{
	struct nest_backend *be = opaque;
	struct nest_be_ctx *ctx = ctx_by_domain(be, ss->domain);
	struct sim_dev *d = ctx ? dev_by_sim_id(ctx, ss->dev_id) : NULL;
	struct nest_ev_stale s = {.size = sizeof(s)};

	if (!d || !be->ev.stale)
		return;
	s.dev_id = d->dev_id;
	s.pasid = ss->pasid;
	s.cache = ss->cache;
	s.addr = ss->addr;
	s.cached_gpa = ss->cached_gpa;
	s.current_gpa = ss->current_fault == NEST_SIM_FAULT_NONE ? ss->current_gpa : 0;
	s.current_fault = fault_reason_to_wire(ss->current_fault);
	be->ev.stale(be->opaque, ctx->cookie, &s);
}

static int sim_open(const struct nest_backend_params *p, const struct nest_be_events *ev,
		    void *opaque, struct nest_backend **ret)
{
	struct nest_sim_config cfg = {
		.max_gaw = p->sim_max_gaw,
		.iotlb_entries = p->sim_iotlb_entries,
		.devtlb_entries = p->sim_devtlb_entries,
		.pasid_cache_entries = p->sim_pasid_cache_entries,
		.pasid_bits = p->sim_pasid_bits,
		.touch_limit = p->sim_touch_limit,
	};
	struct nest_backend *be;
	int r;

	be = calloc(1, sizeof(*be));
	if (!be)
		return -ENOMEM;
	r = nest_sim_new(&cfg, &be->sim);
	if (r < 0) {
		free(be);
		return r;
	}
	if (ev)
		be->ev = *ev;
	be->opaque = opaque;
	be->next_sim_id = 1;
	be->pasid_bits = p->sim_pasid_bits ? p->sim_pasid_bits : 20;
	be->max_gaw = p->sim_max_gaw ? p->sim_max_gaw : 48;
	nest_sim_set_fault_cb(be->sim, on_sim_fault, be);
	nest_sim_set_stale_cb(be->sim, on_sim_stale, be);
	*ret = be;
	return 0;
}

static void ctx_release(struct nest_backend *be, struct nest_be_ctx *ctx)
{
	while (ctx->devs) {
		struct sim_dev *d = ctx->devs;

		ctx->devs = d->next;
		free(d);
	}
	/* frees the domain's devices, PASIDs, bindings, regions and cache entries */
	(void)nest_sim_domain_free(be->sim, ctx->domain);
	free(ctx);
}

static void sim_close(struct nest_backend *be)
{
	if (!be)
		return;
	while (be->ctxs) {
		struct nest_be_ctx *c = be->ctxs;

		be->ctxs = c->next;
		ctx_release(be, c);
	}
	nest_sim_free(be->sim);
	free(be);
}

static void sim_info(struct nest_backend *be, struct nest_backend_info *ret)
{
	uint64_t cap = 0, ecap = 0;

	/* A plausible VT-d CAP/ECAP for what the sim models (bit positions per the VT-d spec). */
	cap |= (uint64_t)(be->max_gaw - 1) << 16;     /* MGAW */
	cap |= (1ull << 10) | (1ull << 11);	      /* SAGAW: 4- and 5-level */
	cap |= 1ull << 56;			      /* FL1GP: 1 GiB first-level pages */
	cap |= 1ull << 60;			      /* FL5LP: 5-level first level */
	ecap |= 1ull << 2;			      /* DT: device TLB */
	ecap |= 1ull << 26;			      /* NEST */
	ecap |= (uint64_t)(be->pasid_bits - 1) << 35; /* PSS */
	ecap |= 1ull << 40;			      /* PASID */
	ecap |= 1ull << 43;			      /* SMTS */
	ecap |= 1ull << 46;			      /* SLTS */
	ecap |= 1ull << 47;			      /* FLTS */

	*ret = (struct nest_backend_info){
		.kind = NEST_BACKEND_SIM,
		.name = "sim",
		.formats = NEST_FORMAT_VTD_FL,
		.addr_widths = NEST_ADDR_WIDTH_48 | NEST_ADDR_WIDTH_57,
		.features = NEST_FEAT_BIND_PGTBL | NEST_FEAT_CACHE_INVLD | NEST_FEAT_SYSWIDE_PASID |
			    NEST_FEAT_SIM_DMA | NEST_FEAT_FAULT_EVENTS | NEST_FEAT_CHECKER |
			    NEST_FEAT_BIND_DEVICE | NEST_FEAT_BIND_RID | NEST_FEAT_BIND_REPLACE,
		.pasid_bits = (uint16_t)be->pasid_bits,
		.pasid_mode = NEST_PASID_MODE_SYSTEM,
		.cap_reg = cap,
		.ecap_reg = ecap,
	};
}

/* A VM's materialisation account (nest-sim.h): lives with the daemon's VM, not the domain. */
struct nest_be_mem_acct {
	struct nest_sim_touch_acct *a;
};

static int sim_ctx_new(struct nest_backend *be, const struct nest_be_ctx_params *p,
		       struct nest_be_ctx **ret)
{
	struct nest_be_ctx *ctx = calloc(1, sizeof(*ctx));
	int r;

	if (!ctx)
		return -ENOMEM;
	r = nest_sim_domain_new(be->sim, p->pasid_quota, &ctx->domain);
	if (r < 0) {
		free(ctx);
		return r;
	}
	if (p->checker)
		(void)nest_sim_domain_set_checker(be->sim, ctx->domain, true);
	if (p->mem_acct) /* the VM's account, across its attachments; a new domain has no region */
		(void)nest_sim_domain_set_touch_acct(be->sim, ctx->domain, p->mem_acct->a);
	ctx->cookie = p->cookie;
	ctx->next = be->ctxs;
	be->ctxs = ctx;
	*ret = ctx;
	return 0;
}

static int sim_mem_acct_new(struct nest_backend *be, struct nest_be_mem_acct **ret)
{
	struct nest_be_mem_acct *m = calloc(1, sizeof(*m));

	if (!m || nest_sim_touch_acct_new(0, &m->a) < 0) { /* 0: MaterializeLimitMiB= */
		free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

static void sim_mem_acct_free(struct nest_backend *be, struct nest_be_mem_acct *m)
{
	if (!m)
		return;
	nest_sim_touch_acct_free(m->a);
	free(m);
}

static void sim_mem_acct_info(struct nest_backend *be, const struct nest_be_mem_acct *m,
			      struct nest_be_mem_acct_info *ret)
{
	struct nest_sim_touch_info ti;

	nest_sim_touch_acct_info(m->a, &ti);
	*ret = (struct nest_be_mem_acct_info){
		.limit = ti.limit,
		.bytes = ti.bytes,
		.touched = ti.touched,
		.released = ti.released,
		.refused = ti.refused,
		.files = ti.files,
	};
}

static void sim_ctx_free(struct nest_backend *be, struct nest_be_ctx *ctx)
{
	struct nest_be_ctx **pp;

	if (!ctx)
		return;
	for (pp = &be->ctxs; *pp; pp = &(*pp)->next)
		if (*pp == ctx) {
			*pp = ctx->next;
			break;
		}
	ctx_release(be, ctx);
}

static int sim_map(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t gpa, uint64_t len,
		   int fd, uint64_t fd_offset, uint32_t perms)
{
	uint32_t sp = ((perms & NEST_MEM_F_READ) ? NEST_SIM_PERM_R : 0) |
		      ((perms & NEST_MEM_F_WRITE) ? NEST_SIM_PERM_W : 0);

	return nest_sim_region_add(be->sim, ctx->domain, gpa, len, fd, fd_offset, sp);
}

/* The software IOMMU maps 4 KiB pages anywhere below 2^max_gaw (nest_sim_region_add()). */
static int sim_iova_info(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t *ret_pgsizes,
			 struct nest_iova_range *ret_ranges, uint32_t cap)
{
	(void)ctx;
	*ret_pgsizes = 4096;
	if (cap)
		ret_ranges[0] = (struct nest_iova_range){0, (1ull << be->max_gaw) - 1};
	return 1;
}

static void sim_unmap(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t gpa, uint64_t len)
{
	(void)nest_sim_region_remove(be->sim, ctx->domain, gpa, len);
}

static int sim_device_attach(struct nest_backend *be, struct nest_be_ctx *ctx,
			     const struct nest_be_dev *dev, int *ret_fd)
{
	struct sim_dev *d;
	int r;

	if (dev_by_id(ctx, dev->dev_id))
		return -EEXIST;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dev_id = dev->dev_id;
	d->sim_id = be->next_sim_id++;
	r = nest_sim_device_add(be->sim, ctx->domain, d->sim_id, dev->ats, dev->pasid_bits);
	if (r < 0) {
		free(d);
		return r;
	}
	d->next = ctx->devs;
	ctx->devs = d;
	*ret_fd = -1; /* the sim never hands out a stand-in fd */
	return 0;
}

static void sim_device_detach(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id)
{
	for (struct sim_dev **pp = &ctx->devs; *pp; pp = &(*pp)->next) {
		struct sim_dev *d = *pp;

		if (d->dev_id != dev_id)
			continue;
		*pp = d->next;
		(void)nest_sim_device_remove(be->sim, d->sim_id);
		free(d);
		return;
	}
}

static int sim_pasid_alloc(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			   uint32_t min, uint32_t max, uint32_t *ret_pasid)
{
	return nest_sim_pasid_alloc(be->sim, ctx->domain, min, max, ret_pasid);
}

static void sim_pasid_free(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			   uint32_t pasid)
{
	(void)nest_sim_pasid_free(be->sim, ctx->domain, pasid);
}

/* hpasid NEST_BE_PASID_RID is the sim's NEST_SIM_PASID_RID: the device's RID entry. */
static int sim_bind_any(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			const struct nest_be_bind *b, bool replace)
{
	struct sim_dev *d = dev_by_id(ctx, dev_id);
	struct nest_sim_bind sb = {
		.fmt = NEST_SIM_FMT_VTD_FL,
		.addr_width = b->addr_width,
		.gpgd = b->gpgd,
		.flags = b->vtd_flags, /* NEST_VTD_* == NEST_SIM_BIND_F_* bit for bit */
		.pat = b->pat,
		.emt = b->emt,
	};

	if (!d)
		return -ENOENT;
	if (b->format != NEST_BIND_FMT_VTD_FL)
		return -EOPNOTSUPP;
	return (replace ? nest_sim_rebind : nest_sim_bind)(be->sim, d->sim_id, b->hpasid, &sb);
}

static int sim_bind(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		    const struct nest_be_bind *b)
{
	return sim_bind_any(be, ctx, dev_id, b, false);
}

static int sim_rebind(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		      const struct nest_be_bind *b)
{
	return sim_bind_any(be, ctx, dev_id, b, true);
}

static void sim_unbind(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		       uint32_t pasid)
{
	struct sim_dev *d = dev_by_id(ctx, dev_id);
	struct nest_sim_inv inv = {
		.cache = NEST_SIM_CACHE_IOTLB | NEST_SIM_CACHE_DEV_IOTLB | NEST_SIM_CACHE_PASID,
		.granu = NEST_SIM_GRANU_PASID,
		.pasid = pasid,
	};

	if (!d)
		return;
	(void)nest_sim_unbind(be->sim, d->sim_id, pasid);
	if (pasid == NEST_BE_PASID_RID)
		return; /* the sim flushed the RID's caches: it went back to stage 2 alone */
	/* the sim keeps caches like hardware; the unbind contract says nothing cached survives */
	(void)nest_sim_invalidate(be->sim, ctx->domain, &inv, d->sim_id);
}

static struct nest_sim_inv sim_inv_of(const struct nest_inv_entry *e)
{
	return (struct nest_sim_inv){
		.cache = e->cache,
		.granu = e->granularity,
		.pasid = e->pasid,
		.flags = (e->flags & NEST_INV_F_LEAF) ? NEST_SIM_INV_F_LEAF : 0,
		.addr = e->addr,
		.granule_size = e->granule_size,
		.nb_granules = e->nb_granules,
	};
}

static int sim_invalidate(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			  const struct nest_inv_entry *e)
{
	struct sim_dev *d = dev_by_id(ctx, dev_id);
	struct nest_sim_inv inv = sim_inv_of(e);

	if (!d)
		return -ENOENT;
	return nest_sim_invalidate(be->sim, ctx->domain, &inv, d->sim_id);
}

/* The batch in one sim call: the domain and the device are looked up once, not per entry. */
static int sim_invalidate_batch(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
				const struct nest_inv_entry *e, uint32_t n, uint32_t *ret_done)
{
	static struct nest_sim_inv inv[NEST_BATCH_MAX]; /* single-threaded daemon */
	struct sim_dev *d = dev_by_id(ctx, dev_id);

	*ret_done = 0;
	if (!d)
		return -ENOENT;
	if (n > NEST_BATCH_MAX)
		return -E2BIG; /* the daemon caps batches at NEST_BATCH_MAX */
	for (uint32_t i = 0; i < n; i++)
		inv[i] = sim_inv_of(&e[i]);
	return nest_sim_invalidate_n(be->sim, ctx->domain, inv, n, d->sim_id, ret_done);
}

static int sim_set_checker(struct nest_backend *be, struct nest_be_ctx *ctx, bool on)
{
	return nest_sim_domain_set_checker(be->sim, ctx->domain, on);
}

static int sim_translate(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			 uint32_t pasid, uint64_t addr, uint32_t access, struct nest_be_xlate *ret,
			 struct nest_ev_fault *ret_fault)
{
	struct sim_dev *d = dev_by_id(ctx, dev_id);
	struct nest_sim_fault sf = {0};
	struct nest_sim_xlate x;
	int r;

	if (!d)
		return -ENOENT;
	r = nest_sim_translate(be->sim, d->sim_id, pasid, addr, access_to_sim(access), &x, &sf);
	if (r == -EFAULT) {
		sim_fault_fill(&sf, dev_id, ret_fault);
		return r;
	}
	if (r < 0)
		return r;
	*ret = (struct nest_be_xlate){.gpa = x.gpa, .page_size = x.page_size, .cached = x.hit != 0};
	return 0;
}

static int sim_dma(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		   uint32_t pasid, uint64_t addr, void *buf, size_t len, uint32_t access,
		   size_t *ret_done, struct nest_ev_fault *ret_fault)
{
	struct sim_dev *d = dev_by_id(ctx, dev_id);
	struct nest_sim_fault sf = {0};
	size_t done = 0;
	int r;

	if (!d)
		return -ENOENT;
	r = nest_sim_dma(be->sim, d->sim_id, pasid, addr, buf, len, access_to_sim(access), &done,
			 &sf);
	if (r == 0 || r == -EFAULT) {
		*ret_done = done;
		if (r == -EFAULT)
			sim_fault_fill(&sf, dev_id, ret_fault);
		else
			memset(ret_fault, 0, sizeof(*ret_fault));
	}
	return r;
}

static int json_add_u64(struct json_object *o, const char *key, uint64_t v)
{
	struct json_object *jv = json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);

	if (!jv || json_object_object_add(o, key, jv) < 0) {
		json_object_put(jv);
		return -ENOMEM;
	}
	return 0;
}

static int sim_counters(struct nest_backend *be, struct json_object **ret)
{
	static const char *const inv_names[3][NEST_SIM_GRANU_MAX] = {
		{"inv_iotlb_domain", "inv_iotlb_pasid", "inv_iotlb_addr"},
		{"inv_devtlb_domain", "inv_devtlb_pasid", "inv_devtlb_addr"},
		{"inv_pasid_domain", "inv_pasid_pasid", "inv_pasid_addr"},
	};
	struct nest_sim_counters c;
	struct json_object *o = json_object_new_object();
	int r = 0;

	if (!o)
		return -ENOMEM;
	nest_sim_get_counters(be->sim, &c);
	r |= json_add_u64(o, "translations", c.translations);
	r |= json_add_u64(o, "iotlb_hits", c.iotlb_hits);
	r |= json_add_u64(o, "iotlb_misses", c.iotlb_misses);
	r |= json_add_u64(o, "devtlb_hits", c.devtlb_hits);
	r |= json_add_u64(o, "devtlb_misses", c.devtlb_misses);
	r |= json_add_u64(o, "pasid_cache_hits", c.pasid_cache_hits);
	r |= json_add_u64(o, "pasid_cache_misses", c.pasid_cache_misses);
	r |= json_add_u64(o, "walks", c.walks);
	r |= json_add_u64(o, "faults", c.faults);
	r |= json_add_u64(o, "stale", c.stale);
	r |= json_add_u64(o, "dma_bytes", c.dma_bytes);
	r |= json_add_u64(o, "touched_bytes", c.touched_bytes);
	r |= json_add_u64(o, "touch_refused", c.touch_refused);
	for (int t = 0; t < 3; t++)
		for (int g = 0; g < NEST_SIM_GRANU_MAX; g++)
			r |= json_add_u64(o, inv_names[t][g], c.inv[t][g]);
	if (r) {
		json_object_put(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

const struct nest_backend_ops nest_backend_sim_ops = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.info = sim_info,
	.ctx_new = sim_ctx_new,
	.ctx_free = sim_ctx_free,
	.mem_acct_new = sim_mem_acct_new,
	.mem_acct_free = sim_mem_acct_free,
	.mem_acct_info = sim_mem_acct_info,
	.map = sim_map,
	.unmap = sim_unmap,
	.device_attach = sim_device_attach,
	.device_detach = sim_device_detach,
	.pasid_alloc = sim_pasid_alloc,
	.pasid_free = sim_pasid_free,
	.bind = sim_bind,
	.unbind = sim_unbind,
	.rebind = sim_rebind,
	.invalidate = sim_invalidate,
	.invalidate_batch = sim_invalidate_batch,
	.set_checker = sim_set_checker,
	.translate = sim_translate,
	.dma = sim_dma,
	.counters = sim_counters,
	.iova_info = sim_iova_info,
};
