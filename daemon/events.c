/* SPDX-License-Identifier: MIT */
/*
 * events.c - reports from the backend, routed to the connection of the VM that owns the device.
 * The backend identifies the VM by the cookie given at ctx_new() (the struct vm). A VM without a
 * client (held in its grace period) only counts the report.
 */
#include "conn.h"
#include "log.h"
#include "vm.h"

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

const struct nest_be_events nestd_be_events = {
	.fault = events_on_fault,
	.stale = events_on_stale,
	.device_gone = events_on_device_gone,
};
