/* SPDX-License-Identifier: MIT */
/*
 * fault.c - page requests on the iommufd backend: one fault queue per VM
 * (IOMMU_FAULT_QUEUE_ALLOC), given to every nested HWPT of the VM (IOMMU_HWPT_FAULT_ID_VALID),
 * its fd in one epoll set the daemon's event loop polls (the backend's get_fd). Records read from
 * it become page_request events of the owning VM (device ids and PASIDs are the VM's own); the
 * VMM answers with a page response, which nestd writes back after checking that the cookie is
 * one of this VM's pending requests. Requests still pending when the VM goes are answered
 * "invalid" by nestd before anything else is torn down.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "iommufd-internal.h"
#include "iommufd-test.h"
#include "iommufd.h"

#define IFD_FAULT_READ_MAX 256 /* records per read(): whole groups must fit */

int ifd_fault_open(struct nest_backend *be, struct ifd_ctx *ctx)
{
	struct iommu_fault_alloc fa = {.size = sizeof(fa)};
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ifd_ep_data(ctx, IFD_EP_FAULT)};
	int r = ifd_ioctl(be, ctx->fd, IOMMU_FAULT_QUEUE_ALLOC, &fa);

	ctx->fault_fd = -1;
	if (r == -ENOTTY || r == -EOPNOTSUPP) { /* before 6.11: no page requests */
		be->err[0] = '\0';
		return 0;
	}
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_FAULT_QUEUE_ALLOC");
	ctx->fault_fd = (int)fa.out_fault_fd;
	ctx->fault_id = fa.out_fault_id;
	if (fcntl(ctx->fault_fd, F_SETFL, O_NONBLOCK) < 0 || be->epfd < 0 ||
	    epoll_ctl(be->epfd, EPOLL_CTL_ADD, ctx->fault_fd, &ev) < 0) {
		r = -errno;
		close(ctx->fault_fd);
		ctx->fault_fd = -1;
		return ifd_fail(be, -r, "fault queue fd");
	}
	return 0;
}

static int ifd_fault_write(struct ifd_ctx *ctx, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response resp = {.cookie = cookie, .code = code};
	ssize_t n = write(ctx->fault_fd, &resp, sizeof(resp));

	return n == (ssize_t)sizeof(resp) ? 0 : n < 0 ? -errno : -EIO;
}

static void ifd_pending_drop(struct ifd_ctx *ctx, unsigned i)
{
	ctx->pend[i] = ctx->pend[--ctx->n_pend];
}

/*
 * Answer everything pending "invalid" and close the queue; before any other teardown. Groups of
 * an attachment detached or replaced before were answered by the kernel then (and forgotten
 * here, ifd_fault_forget()): writing their cookie now would be refused (EINVAL).
 */
void ifd_fault_close(struct nest_backend *be, struct ifd_ctx *ctx)
{
	if (ctx->fault_fd < 0)
		return;
	while (ctx->n_pend) {
		if (ifd_fault_write(ctx, ctx->pend[0].cookie, IOMMUFD_PAGE_RESP_INVALID) < 0)
			be->ctr.teardown_errors++;
		be->ctr.page_responses++;
		ifd_pending_drop(ctx, 0);
	}
	if (be->epfd >= 0)
		(void)epoll_ctl(be->epfd, EPOLL_CTL_DEL, ctx->fault_fd, NULL);
	close(ctx->fault_fd);
	ctx->fault_fd = -1;
	free(ctx->pend);
	ctx->pend = NULL;
	ctx->cap_pend = 0;
}

int ifd_page_response(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t cookie, uint32_t code)
{
	int r;

	if (code != IOMMUFD_PAGE_RESP_SUCCESS && code != IOMMUFD_PAGE_RESP_INVALID)
		return -EINVAL;
	for (unsigned i = 0; i < ctx->n_pend; i++) {
		if (ctx->pend[i].cookie != cookie)
			continue;
		r = ifd_fault_write(ctx, cookie, code);
		ifd_pending_drop(ctx, i);
		be->ctr.page_responses++;
		return r < 0 ? ifd_fail(be, -r == EPERM ? EIO : -r, "page response %u", cookie) : 0;
	}
	return -ENOENT; /* not pending for this VM: another VM's, answered, or never seen */
}

void ifd_fault_forget(struct nest_backend *be, struct ifd_ctx *ctx, const struct ifd_dev *d,
		      uint32_t pasid)
{
	for (unsigned i = 0; i < ctx->n_pend;) {
		const struct ifd_pend *p = &ctx->pend[i];

		if (p->idev != d->idev || p->pasid != pasid) {
			i++;
			continue;
		}
		be->ctr.page_responses++; /* the kernel's, "invalid" */
		ifd_pending_drop(ctx, i);
	}
}

/*
 * Record the group of @f, of ctx->devs[@dev]. A request with a PASID came through that PASID's
 * attachment if the device has one there, else through the RID's (an IOMMU whose PASID table
 * is the guest's, SMMUv3 or the selftest mock: the nested HWPT on the RID serves every PASID).
 */
static int ifd_pending_add(struct ifd_ctx *ctx, unsigned dev, const struct iommu_hwpt_pgfault *f)
{
	bool pasid = (f->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) &&
		     f->pasid != NEST_BE_PASID_RID && ifd_pasid_hwpt(ctx, dev, f->pasid);
	int r;

	if (ctx->n_pend >= IFD_PENDING_MAX)
		return -ENOSPC;
	r = nest_be_grow((void **)&ctx->pend, &ctx->cap_pend, ctx->n_pend, sizeof(*ctx->pend));
	if (r < 0)
		return r;
	ctx->pend[ctx->n_pend++] = (struct ifd_pend){
		.cookie = f->cookie, .idev = f->dev_id, .pasid = pasid ? f->pasid : IFD_PEND_RID};
	return 0;
}

/* One record from the kernel, untrusted: a device we do not know is answered and dropped. */
static void ifd_fault_record(struct nest_backend *be, struct ifd_ctx *ctx,
			     const struct iommu_hwpt_pgfault *f)
{
	struct nest_be_page_request pr = {
		.flags = f->flags & (NEST_BE_PRQ_PASID_VALID | NEST_BE_PRQ_LAST_PAGE),
		.pasid = f->pasid,
		.grpid = f->grpid,
		.perm = f->perm & 0xfu,
		.length = f->length,
		.cookie = f->cookie,
		.addr = f->addr,
	};
	unsigned i;

	be->ctr.page_requests++;
	for (i = 0; i < ctx->n_devs; i++)
		if (ctx->devs[i].idev == f->dev_id)
			break;
	/* the cookie of a group's last request is the one to answer; earlier ones are not */
	if (i == ctx->n_devs || !be->ev || !be->ev->page_request ||
	    ((f->flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE) && ifd_pending_add(ctx, i, f) < 0)) {
		if (f->flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE)
			(void)ifd_fault_write(ctx, f->cookie, IOMMUFD_PAGE_RESP_INVALID);
		return;
	}
	pr.dev_id = ctx->devs[i].dev_id;
	be->ev->page_request(be->opaque, ctx->cookie, &pr);
}

void ifd_fault_drain(struct nest_backend *be, struct ifd_ctx *ctx)
{
	struct iommu_hwpt_pgfault recs[IFD_FAULT_READ_MAX];

	for (int rounds = 0; rounds < 16 && ctx->fault_fd >= 0; rounds++) {
		ssize_t n = read(ctx->fault_fd, recs, sizeof(recs));

		if (n <= 0 || n % (ssize_t)sizeof(recs[0]))
			return; /* EAGAIN: drained; anything else: try again on the next wakeup */
		for (ssize_t k = 0; k < n / (ssize_t)sizeof(recs[0]); k++)
			ifd_fault_record(be, ctx, &recs[k]);
	}
}

int ifd_fault_dispatch(struct nest_backend *be)
{
	struct epoll_event evs[16];
	int n = epoll_wait(be->epfd, evs, 16, 0);

	for (int i = 0; i < n; i++) {
		uint32_t serial = (uint32_t)(evs[i].data.u64 >> 32),
			 what = (uint32_t)evs[i].data.u64;

		for (struct ifd_ctx *c = be->ctxs; c; c = c->next) {
			if (c->serial != serial)
				continue; /* a ctx freed since is simply not found */
			if (what == IFD_EP_FAULT)
				ifd_fault_drain(be, c);
			else
				ifd_viommu_drain(be, c, what);
			break;
		}
	}
	return n < 0 ? -errno : 0;
}

int ifd_mock_trigger_iopf(struct nest_backend *be, struct ifd_ctx *ctx, const struct ifd_dev *d,
			  uint32_t pasid, uint32_t grpid, uint32_t perm, uint64_t addr)
{
	struct iommu_test_cmd c = {.size = sizeof(c),
				   .op = IOMMU_TEST_OP_TRIGGER_IOPF,
				   .trigger_iopf = {.dev_id = d->idev,
						    .pasid = pasid,
						    .grpid = grpid,
						    .perm = perm,
						    .addr = addr}};

	return ifd_ioctl(be, ctx->fd, IOMMU_TEST_CMD, &c);
}
