/* SPDX-License-Identifier: MIT */
/* Fault reasons: stable names, counting and delivery to the registered callback. */
#include "sim-internal.h"

static const char *const sim_fault_names[NEST_SIM_FAULT_REASON_MAX] = {
	[NEST_SIM_FAULT_NONE] = "none",
	[NEST_SIM_FAULT_PASID_RANGE] = "pasid-out-of-range",
	[NEST_SIM_FAULT_PASID_NOT_PRESENT] = "pasid-not-present",
	[NEST_SIM_FAULT_NON_CANONICAL] = "non-canonical",
	[NEST_SIM_FAULT_PTE_NOT_PRESENT] = "pte-not-present",
	[NEST_SIM_FAULT_RSVD] = "reserved-bit",
	[NEST_SIM_FAULT_WRITE] = "write-denied",
	[NEST_SIM_FAULT_EXEC] = "exec-denied",
	[NEST_SIM_FAULT_USER] = "user-denied",
	[NEST_SIM_FAULT_SUPERVISOR] = "supervisor-denied",
	[NEST_SIM_FAULT_SRE] = "sre-not-enabled",
	[NEST_SIM_FAULT_S2_MISS] = "s2-miss",
	[NEST_SIM_FAULT_S2_PERM] = "s2-perm",
};

const char *nest_sim_fault_reason_str(uint32_t reason)
{
	if (reason >= NEST_SIM_FAULT_REASON_MAX)
		return "unknown";
	return sim_fault_names[reason];
}

void sim_fault_report(struct nest_sim *sim, const struct nest_sim_fault *f)
{
	sim->cnt.faults++;
	if (f->reason < NEST_SIM_FAULT_REASON_MAX)
		sim->cnt.fault_reasons[f->reason]++;
	if (sim->fault_cb)
		sim->fault_cb(sim->fault_opaque, f);
}
