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
 */
#include <errno.h>
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
	*ret_ops = &fake_ops;
	return 0;
}
