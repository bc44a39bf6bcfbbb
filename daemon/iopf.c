/* SPDX-License-Identifier: MIT */
/*
 * iopf.c - I/O page requests (PROTOCOL.md §8.16, §10): which page request groups of a VM wait for
 * an answer, and PAGE_RESPONSE, the VMM's answer.
 *
 * A device that asked for a page waits until its group is answered. The backend reports each
 * request (events.c); nestd hands it to the VM's client when that client can answer (it said
 * minor >= 1 and "page-requests" in HELLO, the VM announces NEST_FEAT_PAGE_REQUESTS) and otherwise
 * answers the group "invalid" itself: no client (the VM is held), a client that cannot answer, a
 * full output queue. A client that lets go of its VM (closed, or VM_DETACH with KEEP) leaves its
 * delivered groups to nestd, which answers them invalid too: a client that re-attaches never saw
 * them. Those answers are given from the event loop (vm->ev_prq), never inside a backend callback.
 * When the VM's context goes, the backend answers whatever is still pending.
 */
#include <errno.h>
#include <stdlib.h>

#include <event2/event.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "vm.h"

/* More groups than any backend keeps pending for one VM (iommufd: 4096); a sanity bound. */
#define VM_PRQ_MAX 65536u

bool vm_prq_deliverable(const struct vm *vm)
{
	const struct conn *c = vm->conn;

	return c && !c->dead && !c->doomed && c->peer_minor >= 1 &&
	       (c->peer_features & NEST_FEAT_PAGE_REQUESTS) &&
	       (vm->info.features & NEST_FEAT_PAGE_REQUESTS) && vm->d->be_ops->page_response;
}

static struct vm_prq *vm_prq_find(struct vm *vm, uint32_t cookie)
{
	for (uint32_t i = 0; i < vm->n_prqs; i++)
		if (vm->prqs[i].cookie == cookie)
			return &vm->prqs[i];
	return NULL;
}

void vm_prq_track(struct vm *vm, uint32_t cookie, uint32_t dev_id, bool refuse)
{
	struct vm_prq *p = vm_prq_find(vm, cookie);

	if (vm->state == VM_DETACHED)
		return;
	if (!p) {
		if (vm->n_prqs == vm->cap_prqs) {
			uint32_t cap = vm->cap_prqs ? vm->cap_prqs * 2 : 16;
			struct vm_prq *n =
				cap <= VM_PRQ_MAX ? realloc(vm->prqs, cap * sizeof(*n)) : NULL;

			if (!n) {
				/* the backend answers it when the context goes */
				log_msg(LOG_WARNING, "vm %s: cannot track page request %u",
					vm->cfg.name, cookie);
				return;
			}
			vm->prqs = n;
			vm->cap_prqs = cap;
		}
		p = &vm->prqs[vm->n_prqs++];
		p->cookie = cookie;
	}
	p->dev_id = dev_id;
	p->refuse = refuse;
	if (refuse)
		event_active(vm->ev_prq, 0, 0);
}

void vm_prq_forget(struct vm *vm, uint32_t cookie)
{
	struct vm_prq *p = vm_prq_find(vm, cookie);

	if (p)
		*p = vm->prqs[--vm->n_prqs]; /* order does not matter */
}

void vm_prq_refuse_all(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->n_prqs; i++)
		vm->prqs[i].refuse = true;
	if (vm->n_prqs)
		event_active(vm->ev_prq, 0, 0);
}

/*
 * Answer group @cookie invalid, counted as nestd's refusal; false when the backend did not take
 * it (-ENOENT: answered meanwhile, by the VMM, the context's teardown or the kernel itself).
 */
static bool prq_refuse(struct vm *vm, uint32_t cookie)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;

	if (!vm->ctx || !ops->page_response ||
	    ops->page_response(vm->d->be, vm->ctx, cookie, NEST_PAGE_RESP_INVALID) != 0)
		return false;
	vm->ctr.page_refusals++;
	vm->d->stats.page_refusals++;
	return true;
}

/*
 * DEVICE_PUT: the device is given back; nobody will answer what it asked (a client that got the
 * group and answers later gets ENOENT). Answered now, before its bindings and its vIOMMU
 * attachment go, so the answer reaches the device that asked.
 */
uint32_t vm_prq_refuse_device(struct vm *vm, uint32_t dev_id)
{
	uint32_t j = 0, n = 0;

	for (uint32_t i = 0; i < vm->n_prqs; i++) {
		if (vm->prqs[i].dev_id != dev_id) {
			vm->prqs[j++] = vm->prqs[i];
			continue;
		}
		n += prq_refuse(vm, vm->prqs[i].cookie);
	}
	vm->n_prqs = j;
	return n;
}

void vm_prq_clear(struct vm *vm)
{
	vm->n_prqs = 0;
}

void vm_prq_flush(struct vm *vm)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < vm->n_prqs; i++) {
		if (!vm->prqs[i].refuse) {
			vm->prqs[j++] = vm->prqs[i];
			continue;
		}
		(void)prq_refuse(vm, vm->prqs[i].cookie);
	}
	vm->n_prqs = j;
}

/*
 * PAGE_RESPONSE. Order: what VM_ATTACH announced (PAGE_REQUESTS) and a backend that can answer,
 * the code, then the backend, which knows which cookies this VM's context has pending (another
 * VM's cookie is ENOENT like one that never existed). Every answer is audited.
 */
int op_page_response(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_page_response *pr = rq->req;
	const struct nest_backend_ops *ops = c->d->be_ops;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, -1, "page-response");
	int r;

	if (!(vm->info.features & NEST_FEAT_PAGE_REQUESTS) || !ops->page_response) {
		r = -EOPNOTSUPP; /* VM_ATTACH said so: no page requests on this VM */
	} else if (pr->code > NEST_PAGE_RESP_INVALID) {
		r = -EINVAL;
	} else {
		r = ops->page_response(c->d->be, vm->ctx, pr->cookie, pr->code);
		if (r > 0 || r == -EPERM || r == -EPROTO)
			r = -EIO; /* never a connection-closing errno from a backend (§12) */
		if (r < 0 && r != -ENOENT)
			nestd_log_backend_error(c->d, "vm %s: page response %u", vm->cfg.name,
						pr->cookie);
		vm_prq_forget(vm, pr->cookie); /* answered, or not pending (any more) */
		if (r == 0) {
			vm->ctr.page_responses++;
			c->d->stats.page_responses++;
		}
	}
	ar.result = r;
	audit_log(&ar, "cookie %u code %u (%s)", pr->cookie, pr->code,
		  pr->code == NEST_PAGE_RESP_SUCCESS   ? "success"
		  : pr->code == NEST_PAGE_RESP_INVALID ? "invalid"
						       : "unknown");
	return r;
}
