/* SPDX-License-Identifier: MIT */
/*
 * memory.c - MEM_ADD / MEM_REMOVE: guest RAM regions (stage 2) from memfds.
 *
 * The fd is checked before the backend maps it (R11): a regular file (memfd, tmpfs; hugetlbfs
 * except on the sim, see memory_hugetlb_refused()), not O_PATH, opened for reading (and writing
 * for a writable region), sealed with F_SEAL_SHRINK and then at least fd_offset + len long:
 * without the seal the VMM could truncate the file under nestd's mapping and a later access
 * would SIGBUS the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "vm.h"

#define MEM_PAGE_MASK 4095u

/*
 * hugetlbfs: F_SEAL_SHRINK does not stop the VMM from punching a hole (fallocate), and a huge page
 * that cannot be allocated again when nestd touches the hole is a SIGBUS. Only a backend that
 * maps guest memory into nestd itself (the sim) is exposed; kernel backends pin pages instead.
 */
static bool memory_hugetlb_refused(const struct nestd *d, int fd)
{
	struct statfs sf;

	if (d->be_info.kind != NEST_BACKEND_SIM)
		return false;
	return fstatfs(fd, &sf) < 0 || sf.f_type == (typeof(sf.f_type))HUGETLBFS_MAGIC;
}

static int memory_check_fd(const struct nestd *d, int fd, uint32_t flags, uint64_t end)
{
	struct stat st;
	int fl, seals;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || memory_hugetlb_refused(d, fd))
		return -EINVAL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_PATH))
		return -EINVAL;
	if ((fl & O_ACCMODE) == O_WRONLY)
		return -EINVAL; /* we must be able to read what we map */
	if ((flags & NEST_MEM_F_WRITE) && (fl & O_ACCMODE) != O_RDWR)
		return -EINVAL;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EINVAL;
	/* the size only counts once the seal is on: before it, the VMM could still shrink it */
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < end)
		return -EINVAL;
	return 0;
}

static int memory_check_req(const struct vm *vm, const struct nest_mem_add *m, uint64_t *ret_end)
{
	uint64_t gend, fend;

	if (!(m->flags & NEST_MEM_F_READ) || m->len == 0)
		return -EINVAL;
	if ((m->gpa | m->len | m->fd_offset) & MEM_PAGE_MASK)
		return -EINVAL;
	if (__builtin_add_overflow(m->gpa, m->len, &gend) ||
	    __builtin_add_overflow(m->fd_offset, m->len, &fend))
		return -EOVERFLOW;
	if (vm_region_overlaps(vm, m->gpa, m->len))
		return -EEXIST;
	if (vm->n_regions >= vm->cfg.max_regions)
		return -ENOSPC;
	if (m->len > vm->cfg.mem_limit || vm->mem_bytes > vm->cfg.mem_limit - m->len)
		return -ENOSPC;
	*ret_end = fend;
	return 0;
}

int op_mem_add(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_mem_add *m = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, -1, "mem-add");
	struct vm_region reg = {
		.gpa = m->gpa, .len = m->len, .fd_offset = m->fd_offset, .flags = m->flags};
	uint64_t end = 0;
	int r;

	r = memory_check_req(vm, m, &end);
	if (r == 0)
		r = memory_check_fd(c->d, rq->fds[0], m->flags, end);
	if (r == 0)
		r = c->d->be_ops->map(c->d->be, vm->ctx, m->gpa, m->len, rq->fds[0], m->fd_offset,
				      m->flags);
	if (r < 0)
		nestd_log_backend_error(c->d, "vm %s: mem-add", vm->cfg.name);
	if (r == 0) {
		r = vm_region_insert(vm, &reg);
		if (r < 0)
			c->d->be_ops->unmap(c->d->be, vm->ctx, m->gpa, m->len);
	}
	ar.result = r;
	audit_log(&ar, "gpa 0x%llx len 0x%llx offset 0x%llx flags %u", (unsigned long long)m->gpa,
		  (unsigned long long)m->len, (unsigned long long)m->fd_offset, m->flags);
	return r;
}

static void memory_remove_one(struct conn *c, struct vm *vm, uint32_t idx)
{
	const struct vm_region *rg = &vm->regions[idx];

	c->d->be_ops->unmap(c->d->be, vm->ctx, rg->gpa, rg->len);
	nestd_log_backend_error(c->d, "vm %s: mem-remove", vm->cfg.name);
	vm_region_delete(vm, (int)idx);
}

/*
 * MEM_REMOVE with COVERED or ALL (as VFIO_IOMMU_UNMAP_DMA with a range, or its UNMAP_FLAG_ALL):
 * every region inside [gpa, gpa + len), or all of them. The check comes first, so a range that
 * cuts a region removes nothing. Returns the number removed, or -errno.
 */
static int memory_remove_range(struct conn *c, struct vm *vm, const struct nest_mem_remove *m)
{
	bool all = m->flags & NEST_MEM_REMOVE_F_ALL;
	uint64_t end = 0;
	int n = 0;

	if (all && ((m->flags & NEST_MEM_REMOVE_F_COVERED) || m->gpa || m->len))
		return -EINVAL;
	if (!all && (m->len == 0 || __builtin_add_overflow(m->gpa, m->len, &end)))
		return m->len ? -EOVERFLOW : -EINVAL;
	for (uint32_t i = 0; !all && i < vm->n_regions; i++) {
		const struct vm_region *rg = &vm->regions[i];
		bool overlaps = rg->gpa < end && m->gpa < rg->gpa + rg->len;
		bool inside = rg->gpa >= m->gpa && rg->gpa + rg->len <= end;

		if (overlaps && !inside)
			return -EINVAL;
	}
	for (uint32_t i = vm->n_regions; i-- > 0;) {
		const struct vm_region *rg = &vm->regions[i];

		if (all || (rg->gpa >= m->gpa && rg->gpa + rg->len <= end)) {
			memory_remove_one(c, vm, i);
			n++;
		}
	}
	return n;
}

int op_mem_remove(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_mem_remove *m = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, -1, "mem-remove");
	int idx;

	(void)rp;
	if (m->flags) {
		int n = memory_remove_range(c, vm, m);

		ar.result = n < 0 ? n : 0;
		audit_log(&ar, "%s gpa 0x%llx len 0x%llx: %d regions removed",
			  (m->flags & NEST_MEM_REMOVE_F_ALL) ? "all" : "covered",
			  (unsigned long long)m->gpa, (unsigned long long)m->len, n < 0 ? 0 : n);
		return ar.result;
	}
	idx = vm_region_find(vm, m->gpa, m->len);
	if (idx >= 0)
		memory_remove_one(c, vm, (uint32_t)idx);
	ar.result = idx < 0 ? idx : 0;
	audit_log(&ar, "gpa 0x%llx len 0x%llx", (unsigned long long)m->gpa,
		  (unsigned long long)m->len);
	return idx < 0 ? idx : 0;
}

/*
 * VM_IOVA_INFO: the backend's IOVA ranges and page sizes for the VM's devices, or nestd's own
 * limits (4 KiB pages, the whole page-aligned 64-bit space) where the backend has none (sim).
 */
int op_vm_iova_info(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_backend_ops *ops = c->d->be_ops;
	struct nest_vm_iova_info info = {.size = sizeof(info)};
	struct vm *vm = c->vm;
	int r;

	(void)rq;
	if (ops->iova_info && vm->ctx) {
		r = ops->iova_info(c->d->be, vm->ctx, &info.pgsizes, info.ranges,
				   NEST_IOVA_RANGES_MAX);
		if (r < 0)
			return r;
		if ((uint32_t)r > NEST_IOVA_RANGES_MAX) {
			info.flags |= NEST_IOVA_F_TRUNCATED;
			r = NEST_IOVA_RANGES_MAX;
		}
		info.num_ranges = (uint32_t)r;
	} else {
		info.pgsizes = MEM_PAGE_MASK + 1;
		info.num_ranges = 1;
		info.ranges[0] = (struct nest_iova_range){0, UINT64_MAX - MEM_PAGE_MASK - 1};
	}
	op_reply_set(rp, &info, sizeof(info));
	return 0;
}
