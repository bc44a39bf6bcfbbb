/* SPDX-License-Identifier: MIT */
/*
 * fake-native.c - a test copy of nestd whose sim backend also has native nesting and page
 * requests, so that the daemon's BIND_NATIVE / INVALIDATE_NATIVE paths (checks, rollback, folding
 * over devices, counters, admin views, minor gating) and its page request paths run without
 * iommufd. Linked with daemon/main.c and
 * nestd_core, and -Wl,--wrap=nest_backend_select: when the sim is selected, these ops are
 * returned instead (the sim's, plus a native format modelled on the iommufd selftest mock).
 *
 * The format: HWPT data type 0xdead, 8 bytes {iotlb, pagetable_type}; invalidation type
 * 0xdeadbeef, 8-byte entries {flags (bit 0 only), iotlb_id}; longer data or entries need zero
 * bytes past 8 (E2BIG), shorter are EINVAL, as the kernel's rule. Test hooks:
 *   - bind data with iotlb == FAKE_FAIL(d): the bind fails with EIO on device d;
 *   - an entry with iotlb_id == FAKE_FAIL(d) fails with EIO on device d, one with
 *     FAKE_FAIL_NOSPC(d) with ENOSPC, one with FAKE_FAIL_EACH on every device (ENOSPC on device
 *     1, EIO on the others); the entries before it count as done there.
 * A PASID is "bound" on a device after a native or a generic bind, until unbind.
 *
 * Page requests, modelled on the iommufd fault queue and the selftest mock's TRIGGER_IOPF (the
 * daemon's EV_PAGE_REQUEST / PAGE_RESPONSE paths): the fake announces NEST_FEAT_PAGE_REQUESTS;
 * mock_trigger_iopf() reports a request at once (inside the call, as a backend callback) with
 * LAST_PAGE, PASID_VALID when the PASID is not 0, length FAKE_PRQ_LEN and a cookie from one
 * counter for all VMs (so another VM's cookie exists but is not this VM's); the last request of a
 * group is pending until page_response() for that VM (-ENOENT otherwise, -EINVAL for a code
 * above 1) or until the context is freed (answered invalid, counted as teardown). Hooks:
 *   - grpid with FAKE_GRP_PAIR: a group of two requests (addr, addr + 4 KiB), the first without
 *     LAST_PAGE (not pending);
 *   - grpid FAKE_GRP_EPERM: answering the group fails with -EPERM, as a kernel write could.
 * Counters (stats "backend"): prq_requests, prq_success, prq_invalid, prq_teardown, prq_pending,
 * prq_last_cookie, prq_last_code.
 *
 * vIOMMUs, modelled on the iommufd backend (the daemon's VIOMMU_* / EV_VEVENT paths): type
 * FAKE_VIOMMU, invalidation type FAKE_VINV with 8-byte entries {flags, vdev_id} (flags bit 0:
 * every cache slot, else slot flags >> 1 & 3; the virtual id must be one of the vIOMMU's:
 * -ENOENT), events of type FAKE_VEVENT with a 4-byte record (the device's virtual id). Ids come
 * from one counter for all VMs (another VM's id exists in the fake, but is not this VM's).
 * A vIOMMU goes with the device it was allocated on (the backend's rule) and with the context.
 * Each device has 4 cache slots (FAKE_DEV_CACHE at first) that invalidations zero
 * (mock_check_dev_cache). Hooks: vdev_id FAKE_VFAIL fails its entry with -EIO; virt_id
 * FAKE_VLOST makes mock_trigger_vevent report a LOST marker (no data) before the event;
 * viommu_alloc on device 7 (vm1's) fails with -EPERM, as a kernel ioctl could.
 * VIOMMU_ATTACH attaches a device that has a vDEVICE on the vIOMMU (-ENOENT otherwise, -EBUSY
 * twice); data of 3 bytes fails with -EPERM, as a kernel ioctl could. The attachment goes with
 * the vDEVICE (device, vIOMMU, context). vdevice_free (DEVICE_PUT) detaches and drops the
 * device's vDEVICE; one with virt_id FAKE_VPUTFAIL that is attached refuses with -EPERM (the
 * kernel refusing the RID's move back to its parent) and stays as it was.
 * INVALIDATE (the sim's, counted per device): inv_calls_dN and inv_entries_dN (N = policy dev_id
 * 1, 2, 7) count the backend calls and entries each device got; an ADDR entry at FAKE_INV_FAIL
 * fails with EIO on device 2 (the entries before it done there). With NESTD_FAKE_NO_BATCH in the
 * environment the fake has no invalidate_batch, so the daemon sends entry by entry.
 * Counters: vi_allocs, vi_frees, vi_live, vi_vdevs, vi_inv_calls, vi_inv_last_viommu,
 * vi_inv_last_type, vi_inv_last_n, vi_inv_last_len, vi_last_virt, vi_attaches, vi_detaches,
 * vi_attached (live), vi_vdev_frees, vi_at_last_viommu, vi_at_last_dev, vi_at_last_type, vi_at_last_len,
 * vi_at_last_data (the first 4 data bytes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "backend.h"

#define FAKE_HW_INFO	   0xfeedbeefu
#define FAKE_HWPT	   0xdeadu
#define FAKE_INV	   0xdeadbeefu
#define FAKE_LEN	   8u
#define FAKE_FAIL(d)	   (0xfa110000u | (d))
#define FAKE_FAIL_NOSPC(d) (0xfa120000u | (d))
#define FAKE_FAIL_EACH	   0xfa130000u
#define FAKE_MAX	   256
#define FAKE_PRQ_MAX	   1024
#define FAKE_PRQ_LEN	   0x2000u /* the kernel reports 0; anything shows it reaches the VMM */
#define FAKE_GRP_PAIR	   0x100u
#define FAKE_GRP_EPERM	   0xfeu
#define FAKE_CTX_MAX	   32
#define FAKE_VIOMMU	   0x7e50u
#define FAKE_VINV	   0x7e51u
#define FAKE_VEVENT	   0x7e52u
#define FAKE_VIOMMU_MAX	   64
#define FAKE_VDEV_MAX	   8
#define FAKE_VFAIL	   0xfa150000u
#define FAKE_VLOST	   0x1057u
#define FAKE_VPUTFAIL	   0xbadu
#define FAKE_DEV_CACHE	   0xcafeu
#define FAKE_DEV_MAX	   16
#define FAKE_INV_FAIL	   0xfa1100000ull

struct fake_binding {
	const struct nest_be_ctx *ctx; /* NULL: free slot */
	uint32_t dev_id, pasid;
};

static struct fake_binding fake_bound[FAKE_MAX];
static struct nest_backend_ops fake_ops;

/* Page requests: the daemon's callbacks, each context's VM, the pending groups, counters. */
struct fake_prq {
	const struct nest_be_ctx *ctx; /* NULL: free slot */
	uint32_t cookie;
	bool eperm;
};

static const struct nest_be_events *fake_ev;
static void *fake_opaque;
static struct {
	const struct nest_be_ctx *ctx;
	void *cookie;
} fake_ctxs[FAKE_CTX_MAX];
static struct fake_prq fake_prqs[FAKE_PRQ_MAX];
static uint32_t fake_next_cookie = 100;
static struct {
	uint64_t requests, success, invalid, teardown, last_cookie, last_code;
} fake_prq_ctr;

/* vIOMMUs: the daemon's VM-local ids, one counter for all VMs. */
struct fake_viommu {
	const struct nest_be_ctx *ctx; /* NULL: free slot */
	uint32_t id, dev_id;
	unsigned n_vdevs;
	struct {
		uint32_t dev_id;
		uint64_t virt_id;
		bool attached; /* VIOMMU_ATTACH: the RID on a nested HWPT of this vIOMMU */
	} vdevs[FAKE_VDEV_MAX];
};
static struct fake_viommu fake_vis[FAKE_VIOMMU_MAX];
static uint32_t fake_next_viommu = 1, fake_vevent_seq;
static uint32_t fake_dev_cache[FAKE_DEV_MAX][4]; /* by policy dev_id (tests use 1, 2, 7) */
static uint64_t fake_inv_calls[FAKE_DEV_MAX], fake_inv_entries[FAKE_DEV_MAX];
static struct {
	uint64_t allocs, frees, vdevs, inv_calls, inv_last_viommu, inv_last_type, inv_last_n,
		inv_last_len, last_virt, attaches, detaches, vdev_frees, at_last_viommu,
		at_last_dev, at_last_type, at_last_len, at_last_data;
} fake_vi_ctr;

int __real_nest_backend_select(const struct nest_backend_params *p,
			       const struct nest_backend_ops **ret_ops, char *why, size_t len);
int __wrap_nest_backend_select(const struct nest_backend_params *p,
			       const struct nest_backend_ops **ret_ops, char *why, size_t len);

static struct fake_binding *fake_find(const struct nest_be_ctx *ctx, uint32_t dev_id,
				      uint32_t pasid)
{
	for (size_t i = 0; i < FAKE_MAX; i++)
		if (fake_bound[i].ctx == ctx && fake_bound[i].dev_id == dev_id &&
		    fake_bound[i].pasid == pasid)
			return &fake_bound[i];
	return NULL;
}

static int fake_add(const struct nest_be_ctx *ctx, uint32_t dev_id, uint32_t pasid)
{
	struct fake_binding *b = fake_find(NULL, 0, 0);

	if (fake_find(ctx, dev_id, pasid))
		return -EBUSY;
	if (!b)
		return -ENOMEM;
	*b = (struct fake_binding){ctx, dev_id, pasid};
	return 0;
}

/* Drop the bindings of @ctx (and of @dev_id unless it is NEST_BE_DEV_NONE). */
static void fake_forget(const struct nest_be_ctx *ctx, uint32_t dev_id)
{
	for (size_t i = 0; i < FAKE_MAX; i++)
		if (fake_bound[i].ctx == ctx &&
		    (dev_id == NEST_BE_DEV_NONE || fake_bound[i].dev_id == dev_id))
			fake_bound[i] = (struct fake_binding){0};
}

/* The kernel's size rule: at least @size bytes, zero past them. */
static int fake_size(const uint8_t *p, uint32_t len, uint32_t size)
{
	if (len < size)
		return -EINVAL;
	for (uint32_t i = size; i < len; i++)
		if (p[i])
			return -E2BIG;
	return 0;
}

static void fake_info(struct nest_backend *be, struct nest_backend_info *ret)
{
	nest_backend_sim_ops.info(be, ret);
	ret->features |= NEST_FEAT_NATIVE | NEST_FEAT_PAGE_REQUESTS;
	ret->hw_info_type = FAKE_HW_INFO;
	ret->hwpt_data_type = FAKE_HWPT;
	ret->inv_data_type = FAKE_INV;
	ret->inv_entry_len = FAKE_LEN;
	ret->features |= NEST_FEAT_VIOMMU;
	ret->viommu_type = FAKE_VIOMMU;
	ret->viommu_inv_data_type = FAKE_VINV;
	ret->viommu_inv_entry_len = FAKE_LEN;
	ret->vevent_type = FAKE_VEVENT;
	ret->vevent_len = 4;
}

static struct fake_viommu *fake_vi_find(const struct nest_be_ctx *ctx, uint32_t id)
{
	for (size_t i = 0; i < FAKE_VIOMMU_MAX; i++)
		if (fake_vis[i].ctx && fake_vis[i].ctx == ctx && fake_vis[i].id == id)
			return &fake_vis[i];
	return NULL;
}

static void *fake_vm_of(const struct nest_be_ctx *ctx)
{
	for (size_t i = 0; i < FAKE_CTX_MAX; i++)
		if (fake_ctxs[i].ctx == ctx)
			return fake_ctxs[i].cookie;
	return NULL;
}

static int fake_viommu_alloc(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			     uint32_t type, uint32_t *ret)
{
	struct fake_viommu *v = NULL;

	if (type != FAKE_VIOMMU)
		return -EOPNOTSUPP;
	if (dev_id == 7)
		return -EPERM;
	for (size_t i = 0; i < FAKE_VIOMMU_MAX && !v; i++)
		if (!fake_vis[i].ctx)
			v = &fake_vis[i];
	if (!v)
		return -ENOSPC;
	*v = (struct fake_viommu){.ctx = ctx, .id = fake_next_viommu++, .dev_id = dev_id};
	fake_vi_ctr.allocs++;
	*ret = v->id;
	return 0;
}

static void fake_viommu_free(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t id)
{
	struct fake_viommu *v = fake_vi_find(ctx, id);

	if (!v)
		return;
	*v = (struct fake_viommu){0};
	fake_vi_ctr.frees++;
}

static int fake_vdevice_alloc(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t id,
			      uint32_t dev_id, uint64_t virt_id)
{
	struct fake_viommu *v = fake_vi_find(ctx, id);

	if (!v)
		return -ENOENT;
	for (unsigned k = 0; k < v->n_vdevs; k++) {
		if (v->vdevs[k].virt_id == virt_id)
			return -EEXIST;
		if (v->vdevs[k].dev_id == dev_id)
			return -EBUSY;
	}
	if (v->n_vdevs >= FAKE_VDEV_MAX)
		return -ENOSPC;
	v->vdevs[v->n_vdevs].dev_id = dev_id;
	v->vdevs[v->n_vdevs].attached = false; /* the slot may hold a moved entry's copy */
	v->vdevs[v->n_vdevs++].virt_id = virt_id;
	fake_vi_ctr.vdevs++;
	fake_vi_ctr.last_virt = virt_id;
	return 0;
}

static int fake_viommu_invalidate(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t id,
				  uint32_t data_type, const void *entries, uint32_t entry_len,
				  uint32_t n, uint32_t *ret_done)
{
	struct fake_viommu *v = fake_vi_find(ctx, id);

	*ret_done = 0;
	fake_vi_ctr.inv_calls++;
	fake_vi_ctr.inv_last_viommu = id;
	fake_vi_ctr.inv_last_type = data_type;
	fake_vi_ctr.inv_last_n = n;
	fake_vi_ctr.inv_last_len = entry_len;
	if (!v)
		return -ENOENT;
	if (data_type != FAKE_VINV)
		return -EOPNOTSUPP;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)entries + (size_t)i * entry_len;
		uint32_t st[2], dev = UINT32_MAX;
		int r = fake_size(e, entry_len, FAKE_LEN);

		if (r < 0)
			return r;
		memcpy(st, e, sizeof(st));
		if (st[1] == FAKE_VFAIL)
			return -EIO;
		for (unsigned k = 0; k < v->n_vdevs; k++)
			if (v->vdevs[k].virt_id == st[1])
				dev = v->vdevs[k].dev_id;
		if (dev >= FAKE_DEV_MAX)
			return -ENOENT; /* not a virtual device of this vIOMMU */
		for (unsigned s = 0; s < 4; s++)
			if ((st[0] & 1) || s == ((st[0] >> 1) & 3))
				fake_dev_cache[dev][s] = 0;
		*ret_done = i + 1;
	}
	return 0;
}

static int fake_vdev_index(const struct fake_viommu *v, uint32_t dev_id)
{
	for (unsigned k = 0; k < v->n_vdevs; k++)
		if (v->vdevs[k].dev_id == dev_id)
			return (int)k;
	return -1;
}

static int fake_viommu_attach(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t id,
			      uint32_t dev_id, uint32_t data_type, const void *data, uint32_t len)
{
	struct fake_viommu *v = fake_vi_find(ctx, id);
	uint32_t first = 0;
	int k;

	fake_vi_ctr.at_last_viommu = id;
	fake_vi_ctr.at_last_dev = dev_id;
	fake_vi_ctr.at_last_type = data_type;
	fake_vi_ctr.at_last_len = len;
	memcpy(&first, data, len < 4 ? len : 4);
	fake_vi_ctr.at_last_data = first;
	if (!v)
		return -ENOENT;
	if (data_type != FAKE_HWPT)
		return -EOPNOTSUPP;
	if ((k = fake_vdev_index(v, dev_id)) < 0)
		return -ENOENT; /* no vDEVICE on this vIOMMU */
	if (v->vdevs[k].attached)
		return -EBUSY;
	if (len == 3)
		return -EPERM;
	v->vdevs[k].attached = true;
	fake_vi_ctr.attaches++;
	return 0;
}

static void fake_viommu_detach(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t id,
			       uint32_t dev_id)
{
	struct fake_viommu *v = fake_vi_find(ctx, id);
	int k = v ? fake_vdev_index(v, dev_id) : -1;

	if (k < 0 || !v->vdevs[k].attached)
		return;
	v->vdevs[k].attached = false;
	fake_vi_ctr.detaches++;
}

static int fake_vdevice_free(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t id,
			     uint32_t dev_id)
{
	struct fake_viommu *v = fake_vi_find(ctx, id);
	int k = v ? fake_vdev_index(v, dev_id) : -1;

	if (k < 0)
		return -ENOENT;
	if (v->vdevs[k].attached) {
		if (v->vdevs[k].virt_id == FAKE_VPUTFAIL)
			return -EPERM;
		v->vdevs[k].attached = false;
		fake_vi_ctr.detaches++;
	}
	v->vdevs[k] = v->vdevs[--v->n_vdevs];
	fake_vi_ctr.vdev_frees++;
	return 0;
}

/* The device's vDEVICE (the first vIOMMU that has one) raises an event with its virtual id. */
static int fake_trigger_vevent(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id)
{
	void *vm = fake_vm_of(ctx);

	if (!vm || !fake_ev || !fake_ev->vevent)
		return -ENOENT;
	for (size_t i = 0; i < FAKE_VIOMMU_MAX; i++) {
		struct fake_viommu *v = &fake_vis[i];

		if (v->ctx != ctx)
			continue;
		for (unsigned k = 0; k < v->n_vdevs; k++) {
			struct nest_be_vevent ev = {.viommu = v->id, .len = 4};
			uint32_t virt = (uint32_t)v->vdevs[k].virt_id;

			if (v->vdevs[k].dev_id != dev_id)
				continue;
			if (virt == FAKE_VLOST) {
				struct nest_be_vevent lost = {.viommu = v->id,
							      .flags = NEST_BE_VEVENT_LOST,
							      .sequence = fake_vevent_seq++};

				fake_ev->vevent(fake_opaque, vm, &lost);
			}
			ev.sequence = fake_vevent_seq++;
			memcpy(ev.data, &virt, sizeof(virt));
			fake_ev->vevent(fake_opaque, vm, &ev);
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_check_dev_cache(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
				uint32_t slot, uint32_t value)
{
	if (dev_id >= FAKE_DEV_MAX || slot > 3)
		return -EOPNOTSUPP;
	return fake_dev_cache[dev_id][slot] == value ? 0 : -EINVAL;
}

/* A device leaves: the vIOMMUs nested on it go, and its vDEVICEs on the others. */
static void fake_vi_forget(const struct nest_be_ctx *ctx, uint32_t dev_id)
{
	for (size_t i = 0; i < FAKE_VIOMMU_MAX; i++) {
		struct fake_viommu *v = &fake_vis[i];

		if (v->ctx != ctx)
			continue;
		if (dev_id == NEST_BE_DEV_NONE || v->dev_id == dev_id) {
			*v = (struct fake_viommu){0};
			continue;
		}
		for (unsigned k = 0; k < v->n_vdevs;)
			if (v->vdevs[k].dev_id == dev_id)
				v->vdevs[k] = v->vdevs[--v->n_vdevs];
			else
				k++;
	}
}

static bool fake_inv_fails(const struct nest_inv_entry *e, uint32_t dev_id)
{
	return dev_id == 2 && e->granularity == NEST_INV_GRANU_ADDR && e->addr == FAKE_INV_FAIL;
}

static int fake_invalidate_batch(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
				 const struct nest_inv_entry *e, uint32_t n, uint32_t *ret_done)
{
	uint32_t k = 0, done = 0;
	int r;

	if (dev_id < FAKE_DEV_MAX) {
		fake_inv_calls[dev_id]++;
		fake_inv_entries[dev_id] += n;
	}
	while (k < n && !fake_inv_fails(&e[k], dev_id))
		k++;
	r = k ? nest_backend_sim_ops.invalidate_batch(be, ctx, dev_id, e, k, &done) : 0;
	*ret_done = done;
	return r < 0 ? r : k < n ? -EIO : 0;
}

static int fake_invalidate(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			   const struct nest_inv_entry *e)
{
	if (dev_id < FAKE_DEV_MAX) {
		fake_inv_calls[dev_id]++;
		fake_inv_entries[dev_id]++;
	}
	return fake_inv_fails(e, dev_id) ? -EIO
					 : nest_backend_sim_ops.invalidate(be, ctx, dev_id, e);
}

static int fake_bind(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		     const struct nest_be_bind *b)
{
	int r = nest_backend_sim_ops.bind(be, ctx, dev_id, b);

	if (r == 0 && (r = fake_add(ctx, dev_id, b->hpasid)) < 0)
		nest_backend_sim_ops.unbind(be, ctx, dev_id, b->hpasid);
	return r;
}

static void fake_unbind(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			uint32_t pasid)
{
	struct fake_binding *b = fake_find(ctx, dev_id, pasid);

	if (b)
		*b = (struct fake_binding){0};
	nest_backend_sim_ops.unbind(be, ctx, dev_id, pasid); /* a no-op if the sim has none */
}

static void fake_device_detach(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id)
{
	fake_forget(ctx, dev_id);
	fake_vi_forget(ctx, dev_id);
	nest_backend_sim_ops.device_detach(be, ctx, dev_id);
}

static int fake_open(const struct nest_backend_params *p, const struct nest_be_events *ev,
		     void *opaque, struct nest_backend **ret)
{
	fake_ev = ev;
	fake_opaque = opaque;
	return nest_backend_sim_ops.open(p, ev, opaque, ret);
}

static int fake_ctx_new(struct nest_backend *be, const struct nest_be_ctx_params *p,
			struct nest_be_ctx **ret)
{
	int r = nest_backend_sim_ops.ctx_new(be, p, ret);

	for (size_t d = 0; r == 0 && d < FAKE_DEV_MAX; d++)
		for (size_t s = 0; s < 4; s++)
			fake_dev_cache[d][s] = FAKE_DEV_CACHE;

	for (size_t i = 0; r == 0 && i < FAKE_CTX_MAX; i++)
		if (!fake_ctxs[i].ctx) {
			fake_ctxs[i].ctx = *ret;
			fake_ctxs[i].cookie = p->cookie;
			break;
		}
	return r;
}

/* Like the iommufd backend: what is pending is answered invalid before the context goes. */
static void fake_ctx_free(struct nest_backend *be, struct nest_be_ctx *ctx)
{
	for (size_t i = 0; i < FAKE_PRQ_MAX; i++)
		if (fake_prqs[i].ctx == ctx) {
			fake_prqs[i] = (struct fake_prq){0};
			fake_prq_ctr.teardown++;
		}
	for (size_t i = 0; i < FAKE_CTX_MAX; i++)
		if (fake_ctxs[i].ctx == ctx)
			fake_ctxs[i].ctx = NULL;
	fake_forget(ctx, NEST_BE_DEV_NONE);
	fake_vi_forget(ctx, NEST_BE_DEV_NONE);
	nest_backend_sim_ops.ctx_free(be, ctx);
}

static int fake_trigger_iopf(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			     uint32_t pasid, uint32_t grpid, uint32_t perm, uint64_t addr)
{
	unsigned n = grpid & FAKE_GRP_PAIR ? 2 : 1;
	void *vm = NULL;

	for (size_t i = 0; i < FAKE_CTX_MAX; i++)
		if (fake_ctxs[i].ctx == ctx)
			vm = fake_ctxs[i].cookie;
	if (!vm || !fake_ev || !fake_ev->page_request)
		return -ENOENT;
	for (unsigned k = 0; k < n; k++) {
		struct nest_be_page_request pr = {
			.flags = (pasid ? NEST_BE_PRQ_PASID_VALID : 0) |
				 (k == n - 1 ? NEST_BE_PRQ_LAST_PAGE : 0),
			.dev_id = dev_id,
			.pasid = pasid,
			.grpid = grpid,
			.perm = perm,
			.length = FAKE_PRQ_LEN,
			.cookie = fake_next_cookie++,
			.addr = addr + 4096ull * k,
		};

		if (pr.flags & NEST_BE_PRQ_LAST_PAGE) {
			struct fake_prq *q = NULL;

			for (size_t i = 0; i < FAKE_PRQ_MAX && !q; i++)
				if (!fake_prqs[i].ctx)
					q = &fake_prqs[i];
			if (!q)
				return -ENOSPC;
			*q = (struct fake_prq){ctx, pr.cookie, grpid == FAKE_GRP_EPERM};
		}
		fake_prq_ctr.requests++;
		fake_ev->page_request(fake_opaque, vm, &pr);
	}
	return 0;
}

static int fake_page_response(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t cookie,
			      uint32_t code)
{
	if (code > 1)
		return -EINVAL;
	for (size_t i = 0; i < FAKE_PRQ_MAX; i++) {
		struct fake_prq *q = &fake_prqs[i];
		bool eperm = q->eperm;

		if (q->ctx != ctx || q->cookie != cookie)
			continue;
		*q = (struct fake_prq){0};
		if (eperm)
			return -EPERM;
		if (code == 0)
			fake_prq_ctr.success++;
		else
			fake_prq_ctr.invalid++;
		fake_prq_ctr.last_cookie = cookie;
		fake_prq_ctr.last_code = code;
		return 0;
	}
	return -ENOENT;
}

static int fake_counters(struct nest_backend *be, struct json_object **ret)
{
	struct json_object *o = NULL;
	int64_t pending = 0;

	if (nest_backend_sim_ops.counters && nest_backend_sim_ops.counters(be, &o) < 0)
		o = NULL;
	if (!o && !(o = json_object_new_object()))
		return -ENOMEM;
	for (size_t i = 0; i < FAKE_PRQ_MAX; i++)
		pending += fake_prqs[i].ctx != NULL;
	json_object_object_add(o, "prq_requests",
			       json_object_new_int64((int64_t)fake_prq_ctr.requests));
	json_object_object_add(o, "prq_success",
			       json_object_new_int64((int64_t)fake_prq_ctr.success));
	json_object_object_add(o, "prq_invalid",
			       json_object_new_int64((int64_t)fake_prq_ctr.invalid));
	json_object_object_add(o, "prq_teardown",
			       json_object_new_int64((int64_t)fake_prq_ctr.teardown));
	json_object_object_add(o, "prq_pending", json_object_new_int64(pending));
	json_object_object_add(o, "prq_last_cookie",
			       json_object_new_int64((int64_t)fake_prq_ctr.last_cookie));
	json_object_object_add(o, "prq_last_code",
			       json_object_new_int64((int64_t)fake_prq_ctr.last_code));
	pending = 0;
	for (size_t i = 0; i < FAKE_VIOMMU_MAX; i++)
		pending += fake_vis[i].ctx != NULL;
	json_object_object_add(o, "vi_live", json_object_new_int64(pending));
	pending = 0;
	for (size_t i = 0; i < FAKE_VIOMMU_MAX; i++)
		for (unsigned k = 0; fake_vis[i].ctx && k < fake_vis[i].n_vdevs; k++)
			pending += fake_vis[i].vdevs[k].attached;
	json_object_object_add(o, "vi_attached", json_object_new_int64(pending));
	for (size_t i = 0; i < 3; i++) {
		static const unsigned devs[3] = {1, 2, 7}; /* the policy ids the tests use */
		unsigned dv = devs[i];
		char key[32];

		snprintf(key, sizeof(key), "inv_calls_d%u", dv);
		json_object_object_add(o, key, json_object_new_int64((int64_t)fake_inv_calls[dv]));
		snprintf(key, sizeof(key), "inv_entries_d%u", dv);
		json_object_object_add(o, key,
				       json_object_new_int64((int64_t)fake_inv_entries[dv]));
	}
#define FAKE_VI_CTR(k)                                                                             \
	json_object_object_add(o, "vi_" #k, json_object_new_int64((int64_t)fake_vi_ctr.k))
	FAKE_VI_CTR(allocs);
	FAKE_VI_CTR(frees);
	FAKE_VI_CTR(vdevs);
	FAKE_VI_CTR(inv_calls);
	FAKE_VI_CTR(inv_last_viommu);
	FAKE_VI_CTR(inv_last_type);
	FAKE_VI_CTR(inv_last_n);
	FAKE_VI_CTR(inv_last_len);
	FAKE_VI_CTR(last_virt);
	FAKE_VI_CTR(attaches);
	FAKE_VI_CTR(detaches);
	FAKE_VI_CTR(vdev_frees);
	FAKE_VI_CTR(at_last_viommu);
	FAKE_VI_CTR(at_last_dev);
	FAKE_VI_CTR(at_last_type);
	FAKE_VI_CTR(at_last_len);
	FAKE_VI_CTR(at_last_data);
#undef FAKE_VI_CTR
	*ret = o;
	return 0;
}

static int fake_bind_native(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			    uint32_t hpasid, uint32_t data_type, const void *data, uint32_t len)
{
	uint32_t st[2];
	int r;

	if (data_type != FAKE_HWPT)
		return -EOPNOTSUPP;
	if ((r = fake_size(data, len, FAKE_LEN)) < 0)
		return r;
	memcpy(st, data, sizeof(st));
	if (st[1])
		return -EOPNOTSUPP; /* pagetable_type: only for paging HWPTs */
	if (fake_find(ctx, dev_id, hpasid))
		return -EBUSY;
	if (st[0] == FAKE_FAIL(dev_id))
		return -EIO;
	return fake_add(ctx, dev_id, hpasid);
}

static int fake_invalidate_native(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
				  uint32_t hpasid, uint32_t data_type, const void *entries,
				  uint32_t entry_len, uint32_t n, uint32_t *ret_done)
{
	*ret_done = 0;
	if (data_type != FAKE_INV)
		return -EOPNOTSUPP;
	if (!fake_find(ctx, dev_id, hpasid))
		return -ENOENT;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)entries + (size_t)i * entry_len;
		uint32_t st[2];
		int r = fake_size(e, entry_len, FAKE_LEN);

		if (r == 0) {
			memcpy(st, e, sizeof(st));
			if (st[0] & ~1u)
				r = -EOPNOTSUPP;
			else if (st[1] == FAKE_FAIL(dev_id))
				r = -EIO;
			else if (st[1] == FAKE_FAIL_NOSPC(dev_id))
				r = -ENOSPC;
			else if (st[1] == FAKE_FAIL_EACH)
				r = dev_id == 1 ? -ENOSPC : -EIO;
		}
		if (r < 0)
			return r;
		*ret_done = i + 1;
	}
	return 0;
}

int __wrap_nest_backend_select(const struct nest_backend_params *p,
			       const struct nest_backend_ops **ret_ops, char *why, size_t len)
{
	int r = __real_nest_backend_select(p, ret_ops, why, len);

	if (r < 0 || *ret_ops != &nest_backend_sim_ops)
		return r;
	fake_ops = nest_backend_sim_ops;
	fake_ops.open = fake_open;
	fake_ops.ctx_new = fake_ctx_new;
	fake_ops.mock_trigger_iopf = fake_trigger_iopf;
	fake_ops.page_response = fake_page_response;
	fake_ops.counters = fake_counters;
	fake_ops.info = fake_info;
	fake_ops.bind = fake_bind;
	fake_ops.unbind = fake_unbind;
	fake_ops.device_detach = fake_device_detach;
	fake_ops.ctx_free = fake_ctx_free;
	fake_ops.bind_native = fake_bind_native;
	fake_ops.invalidate_native = fake_invalidate_native;
	fake_ops.viommu_alloc = fake_viommu_alloc;
	fake_ops.viommu_free = fake_viommu_free;
	fake_ops.vdevice_alloc = fake_vdevice_alloc;
	fake_ops.viommu_invalidate = fake_viommu_invalidate;
	fake_ops.viommu_attach = fake_viommu_attach;
	fake_ops.viommu_detach = fake_viommu_detach;
	fake_ops.vdevice_free = fake_vdevice_free;
	fake_ops.mock_trigger_vevent = fake_trigger_vevent;
	fake_ops.mock_check_dev_cache = fake_check_dev_cache;
	fake_ops.invalidate = fake_invalidate;
	fake_ops.invalidate_batch = getenv("NESTD_FAKE_NO_BATCH") ? NULL : fake_invalidate_batch;
	*ret_ops = &fake_ops;
	return 0;
}
