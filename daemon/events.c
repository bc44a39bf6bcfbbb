/* SPDX-License-Identifier: MIT */
/*
 * events.c - reports from the backend, routed to the connection of the VM that owns the device.
 * The backend identifies the VM by the cookie given at ctx_new() (the struct vm). A VM without a
 * client (held in its grace period) only counts the report; a page request it cannot hand on is
 * answered invalid (iopf.c).
 */
#include "conn.h"
#include "iommufd.h" /* the kernel's page request bits, which the wire reuses */
#include "log.h"
#include "vm.h"

/* Page requests go from iommufd through the backend to the wire with the same bits. */
#define EVENTS_SAME(wire, be, kernel)                                                              \
	_Static_assert((unsigned)(wire) == (unsigned)(be) &&                                       \
			       (unsigned)(wire) == (unsigned)(kernel),                             \
		       #wire)
EVENTS_SAME(NEST_PRQ_F_PASID_VALID, NEST_BE_PRQ_PASID_VALID, IOMMU_PGFAULT_FLAGS_PASID_VALID);
EVENTS_SAME(NEST_PRQ_F_LAST_PAGE, NEST_BE_PRQ_LAST_PAGE, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
EVENTS_SAME(NEST_PRQ_PERM_READ, NEST_BE_PRQ_PERM_READ, IOMMU_PGFAULT_PERM_READ);
EVENTS_SAME(NEST_PRQ_PERM_WRITE, NEST_BE_PRQ_PERM_WRITE, IOMMU_PGFAULT_PERM_WRITE);
EVENTS_SAME(NEST_PRQ_PERM_EXEC, NEST_BE_PRQ_PERM_EXEC, IOMMU_PGFAULT_PERM_EXEC);
EVENTS_SAME(NEST_PRQ_PERM_PRIV, NEST_BE_PRQ_PERM_PRIV, IOMMU_PGFAULT_PERM_PRIV);
EVENTS_SAME(NEST_PAGE_RESP_SUCCESS, 0, IOMMUFD_PAGE_RESP_SUCCESS); /* backend: 0 success */
EVENTS_SAME(NEST_PAGE_RESP_INVALID, 1, IOMMUFD_PAGE_RESP_INVALID); /* 1 invalid */

#define EVENTS_PRQ_PERMS                                                                           \
	(NEST_PRQ_PERM_READ | NEST_PRQ_PERM_WRITE | NEST_PRQ_PERM_EXEC | NEST_PRQ_PERM_PRIV)

static void events_on_fault(void *opaque, void *cookie, const struct nest_ev_fault *f)
{
	struct vm *vm = cookie;

	vm->ctr.faults++;
	if (vm->conn)
		conn_send_event(vm->conn, NEST_EV_FAULT, f, sizeof(*f));
}

static void events_on_stale(void *opaque, void *cookie, const struct nest_ev_stale *s)
{
	struct vm *vm = cookie;

	vm->ctr.stale++;
	if (vm->conn)
		conn_send_event(vm->conn, NEST_EV_STALE, s, sizeof(*s));
}

static void events_on_device_gone(void *opaque, void *cookie, uint32_t dev_id)
{
	struct vm *vm = cookie;
	int idx = vm_device_index(vm, dev_id);

	if (idx >= 0)
		vm_device_gone(vm, idx, false); /* the backend dropped it already */
}

/*
 * Hand the request to the VM's client if it can answer; otherwise the group (its LAST_PAGE
 * request) is answered invalid from the loop. Not audited: this is the device's hot path; the
 * counters show it.
 */
static void events_on_page_request(void *opaque, void *cookie,
				   const struct nest_be_page_request *pr)
{
	struct vm *vm = cookie;
	struct nest_ev_page_request ev = {
		.size = sizeof(ev),
		.flags = pr->flags & NEST_PRQ_F_VALID,
		.dev_id = pr->dev_id,
		.pasid = pr->pasid,
		.grpid = pr->grpid,
		.perm = pr->perm & EVENTS_PRQ_PERMS,
		.addr = pr->addr,
		.length = pr->length,
		.cookie = pr->cookie,
	};
	bool last = ev.flags & NEST_PRQ_F_LAST_PAGE;
	bool sent;

	vm->ctr.page_requests++;
	vm->d->stats.page_requests++;
	sent = vm_prq_deliverable(vm) &&
	       conn_send_event(vm->conn, NEST_EV_PAGE_REQUEST, &ev, sizeof(ev)) == 0;
	if (last)
		vm_prq_track(vm, ev.cookie, ev.dev_id, !sent);
}

/* A record of one of the VM's vIOMMU event queues (viommu.c): to the client or dropped. */
static void events_on_vevent(void *opaque, void *cookie, const struct nest_be_vevent *ev)
{
	vm_vevent(cookie, ev);
}

const struct nest_be_events nestd_be_events = {
	.fault = events_on_fault,
	.stale = events_on_stale,
	.device_gone = events_on_device_gone,
	.page_request = events_on_page_request,
	.vevent = events_on_vevent,
};
