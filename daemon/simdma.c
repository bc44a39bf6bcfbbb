/* SPDX-License-Identifier: MIT */
/*
 * simdma.c - SIM_DMA: a debug device DMA through (dev_id, pasid) of the caller's own VM, on a
 * backend with debug ops (the sim). A translation fault is a successful reply that reports it
 * (and the fault event is delivered as well).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "vm.h"

static int simdma_check(struct conn *c, const struct nest_sim_dma *q, const struct nest_tail *t)
{
	struct vm *vm = c->vm;
	bool wr = q->flags & NEST_DMA_F_WRITE;
	int idx = vm_device_index(vm, q->dev_id);

	if (!c->d->be_ops->dma)
		return -EOPNOTSUPP;
	/* only the VM's own devices and PASIDs; PASID 0 is a request without PASID (the RID) */
	if (idx < 0 || !vm->devices[idx].attached || (q->pasid && !vm_pasid_find(vm, q->pasid)))
		return -ENOENT;
	if (q->len == 0 || q->len > NEST_DMA_LEN_MAX)
		return -EINVAL;
	if (wr ? t->len != q->len : t->len != 0)
		return -EINVAL;
	if (!wr && sizeof(struct nest_msg_hdr) + sizeof(struct nest_sim_dma_reply) + q->len >
			   c->caps.max_msg_size)
		return -EINVAL; /* the data would not fit in a reply */
	return 0;
}

int op_sim_dma(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_sim_dma *q = rq->req;
	struct vm *vm = c->vm;
	struct nest_sim_dma_reply out = {.size = sizeof(out)};
	struct nest_ev_fault f = {0};
	bool wr = q->flags & NEST_DMA_F_WRITE;
	uint32_t access = (wr ? NEST_ACCESS_WRITE : NEST_ACCESS_READ) |
			  ((q->flags & NEST_DMA_F_EXEC) ? NEST_ACCESS_EXEC : 0) |
			  ((q->flags & NEST_DMA_F_PRIV) ? NEST_ACCESS_PRIV : 0);
	size_t done = 0;
	uint8_t *buf;
	int r = simdma_check(c, q, &rq->tail);

	if (r < 0)
		return r;
	buf = malloc(q->len);
	if (!buf)
		return -ENOMEM;
	if (wr)
		memcpy(buf, rq->tail.ptr, q->len);
	r = c->d->be_ops->dma(c->d->be, vm->ctx, q->dev_id, q->pasid, q->addr, buf, q->len, access,
			      &done, &f);
	if (r < 0 && r != -EFAULT) {
		free(buf);
		return r;
	}
	out.done = (uint32_t)done;
	if (r == -EFAULT) {
		out.fault_reason = f.reason;
		out.fault_addr = f.addr;
	}
	vm->ctr.dma_bytes += done;
	op_reply_set(rp, &out, sizeof(out));
	if (!wr && done) {
		rp->tail = buf;
		rp->tail_len = done;
		rp->tail_owned = buf; /* freed by the dispatcher after the reply is encoded */
	} else {
		free(buf);
	}
	return 0;
}
