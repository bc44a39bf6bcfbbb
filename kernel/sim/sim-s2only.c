/* SPDX-License-Identifier: MIT */
/*
 * The stage-2-only "format" of a RID that has no first-level table bound: a request without
 * PASID carries a GPA, translated by the domain's regions alone (VT-d scalable mode's
 * second-level-only RID_PASID entry, what a device assigned to a VM has until the guest's
 * vIOMMU gives it a first-level table). Never bindable; internal to the sim.
 */
#include "sim-internal.h"

static int s2only_bind_check(const struct nest_sim_bind *b, uint32_t max_gaw)
{
	(void)b;
	(void)max_gaw;
	return -EINVAL;
}

/* No first-level permissions: only stage 2 can refuse. Supervisor requests are not special. */
static uint32_t s2only_access_check(uint32_t perms, uint32_t access, uint64_t flags)
{
	(void)flags;
	if (access & NEST_SIM_ACC_WRITE)
		return perms & NEST_SIM_XLATE_P_S2W ? NEST_SIM_FAULT_NONE : NEST_SIM_FAULT_S2_PERM;
	return perms & NEST_SIM_XLATE_P_S2R ? NEST_SIM_FAULT_NONE : NEST_SIM_FAULT_S2_PERM;
}

static uint32_t s2only_entry_check(const struct sim_pasid_entry *pe, uint32_t access)
{
	(void)pe;
	(void)access;
	return NEST_SIM_FAULT_NONE;
}

static void s2only_walk(const struct sim_walk_req *rq, struct sim_walk_res *res)
{
	const struct sim_region *rg =
		rq->addr >> rq->max_gaw ? NULL : sim_s2_lookup(rq->s2, rq->addr);
	uint32_t perms = NEST_SIM_XLATE_P_W | NEST_SIM_XLATE_P_U | NEST_SIM_XLATE_P_X;

	*res = (struct sim_walk_res){0};
	if (!rg) {
		res->fault = NEST_SIM_FAULT_S2_MISS;
		res->fault_gpa = rq->addr;
		return;
	}
	if (rg->perms & NEST_SIM_PERM_R)
		perms |= NEST_SIM_XLATE_P_S2R;
	if (rg->perms & NEST_SIM_PERM_W)
		perms |= NEST_SIM_XLATE_P_S2W;
	res->fault = s2only_access_check(perms, rq->access, 0);
	if (res->fault) {
		res->fault_gpa = rq->addr;
		return;
	}
	res->gpa_page = rq->addr & ~SIM_PAGE_MASK;
	res->region = rg;
	res->shift = SIM_PAGE_SHIFT;
	res->perms = (uint8_t)perms;
	res->dirty = true; /* no D bit to set: writes may be served from the caches */
}

static const struct sim_fmt_ops s2only_ops = {
	.bind_check = s2only_bind_check,
	.walk = s2only_walk,
	.access_check = s2only_access_check,
	.entry_check = s2only_entry_check,
};

const struct sim_fmt_ops *sim_s2only_ops(void)
{
	return &s2only_ops;
}

const struct sim_pasid_entry sim_s2only_entry = {.fmt = SIM_FMT_S2, .present = true};
