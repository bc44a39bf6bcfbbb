/* SPDX-License-Identifier: MIT */
/*
 * fake-native.c - a test copy of nestd whose sim backend also has native nesting, so that the
 * daemon's BIND_NATIVE / INVALIDATE_NATIVE paths (checks, rollback, folding over devices,
 * counters, admin views, minor gating) run without iommufd. Linked with daemon/main.c and
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
 */
#include <errno.h>
#include <string.h>

#include "backend.h"

#define FAKE_HW_INFO	   0xfeedbeefu
#define FAKE_HWPT	   0xdeadu
#define FAKE_INV	   0xdeadbeefu
#define FAKE_LEN	   8u
#define FAKE_FAIL(d)	   (0xfa110000u | (d))
#define FAKE_FAIL_NOSPC(d) (0xfa120000u | (d))
#define FAKE_FAIL_EACH	   0xfa130000u
#define FAKE_MAX	   256

struct fake_binding {
	const struct nest_be_ctx *ctx; /* NULL: free slot */
	uint32_t dev_id, pasid;
};

static struct fake_binding fake_bound[FAKE_MAX];
static struct nest_backend_ops fake_ops;

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
	ret->features |= NEST_FEAT_NATIVE;
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

static void fake_ctx_free(struct nest_backend *be, struct nest_be_ctx *ctx)
{
	fake_forget(ctx, NEST_BE_DEV_NONE);
	nest_backend_sim_ops.ctx_free(be, ctx);
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
