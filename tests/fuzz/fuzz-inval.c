/* SPDX-License-Identifier: MIT */
/*
 * fuzz-inval.c - libFuzzer harness for the daemon's INVALIDATE path, end to end in-process: a
 * real nestd (sim backend, fuzz-daemon.c) with two attached VMs. vm1, the bystander, holds
 * PASIDs 200 and 201 bound to real guest tables with translations cached in the sim's IOTLB
 * and device TLB. For each input, vm0's PASIDs are set up from its first bytes (PASIDs 100 +
 * i allocated, some bound), then its body goes out as one INVALIDATE on vm0's connection
 * through the connection's receive path: framing, body decode, the batch limit, per-entry
 * validation and ownership, the backend's invalidate_batch (or, per input flag, the daemon's
 * entry-by-entry path).
 *
 * Input: [0] PASIDs of vm0 (low 3 bits: 0..7), [1] which of them are bound (bit mask),
 *        [2] flags: bit 0 entry by entry (no invalidate_batch), bit 1 PASID fields index the
 *        table {vm0's, vm1's, 0, unowned} instead of being taken as they are, bit 2 the fixed
 *        struct is built by the harness (entry_len 40, entry_num from the length), bit 3 the
 *        bound PASIDs are bound on one device each (NEST_BIND_F_DEVICE: even ones on device 1,
 *        odd ones on device 2) instead of on the whole VM,
 *        [3..] the body (fixed struct + entries, or only entries with bit 2).
 *
 * Invariants (abort on failure):
 *  - the reply is an error only for what the request as a whole may be refused for (body
 *    decode, 0 or too many entries), with the errno the model computes;
 *  - otherwise done/first_error match the model: done = the first entry that fails the
 *    protocol check or the ownership check (first_error its errno), all done -> first_error 0,
 *    unless the backend itself refused an entry (then done is below it and first_error != 0);
 *  - every call that reaches the backend is on vm0's context and carries only checked entries
 *    of vm0's own PASIDs bound on that device (or every-PASID entries); the backend is called
 *    when an entry done reaches a device (an every-PASID one, or one of a bound PASID);
 *  - vm1's cached translations survive every batch (its sim state is untouched), vm1's
 *    counters do not move, and vm0's counters account exactly for the entries done;
 *  - no fds pile up (checked every 64 inputs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "fuzz-daemon.h"
#include "nest-msg.h"
#include "nestd.h"
#include "vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VM0_PASID_BASE 100u
#define VM1_PASID_BASE 200u
#define VM0_MAX	       7u
#define VM1_N	       2u
#define VM1_DEV	       7u

static struct {
	bool ready;
	struct fzd_client c0, c1;
	struct vm *vm0, *vm1;
	struct nest_backend_ops ops; /* the sim's, with the invalidate ops wrapped */
	const struct nest_backend_ops *real;
	uint32_t n_bound0;
	uint32_t vm0_pasids[VM0_MAX];
	uint32_t n_vm0;
	/* what reached the backend during one input */
	uint32_t be_calls, be_failures;
} fz;

static void fz_check_entry_reaching_backend(struct nest_be_ctx *ctx, uint32_t dev_id,
					    const struct nest_inv_entry *e)
{
	const struct vm_pasid *p = vm_pasid_find(fz.vm0, e->pasid);
	int idx = vm_device_index(fz.vm0, dev_id);

	FZ_CHECK(ctx == fz.vm0->ctx);
	FZ_CHECK(nest_inv_entry_check(e) == 0);
	FZ_CHECK(idx >= 0);
	/* a PASID's entries reach only the devices it is bound on (PROTOCOL.md §9.4) */
	FZ_CHECK(nest_inv_all_pasids(e) || (p && p->bound && (p->devs >> idx & 1)));
	FZ_CHECK(nest_inv_all_pasids(e) || vm_pasid_find(fz.vm1, e->pasid) == NULL);
}

static int fz_invalidate(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			 const struct nest_inv_entry *e)
{
	int r;

	fz_check_entry_reaching_backend(ctx, dev_id, e);
	fz.be_calls++;
	r = fz.real->invalidate(be, ctx, dev_id, e);
	fz.be_failures += r < 0;
	return r;
}

static int fz_invalidate_batch(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			       const struct nest_inv_entry *e, uint32_t n, uint32_t *ret_done)
{
	int r;

	FZ_CHECK(n >= 1 && n <= NEST_BATCH_MAX);
	for (uint32_t i = 0; i < n; i++)
		fz_check_entry_reaching_backend(ctx, dev_id, &e[i]);
	fz.be_calls++;
	r = fz.real->invalidate_batch(be, ctx, dev_id, e, n, ret_done);
	fz.be_failures += r < 0;
	return r;
}

static void fz_attach(struct fzd_client *c, const char *name, int memfd)
{
	struct nest_vm_attach a = {.size = sizeof(a)};
	struct nest_mem_add m = {.size = sizeof(m),
				 .flags = NEST_MEM_F_READ | NEST_MEM_F_WRITE,
				 .gpa = 0,
				 .len = FZD_MEM};
	static struct fzd_reply rep;

	snprintf(a.name, sizeof(a.name), "%s", name);
	fzd_client_open(c, NEST_SOCK_VM);
	fzd_call_ok(c, NEST_OP_VM_ATTACH, &a, sizeof(a), NULL, 0, -1, &rep);
	fzd_call_ok(c, NEST_OP_MEM_ADD, &m, sizeof(m), NULL, 0, memfd, &rep);
}

/* Allocate @pasid; bind it if @bind: on the whole VM (@dev 0) or on device @dev only. */
static void fz_alloc(struct fzd_client *c, uint32_t pasid, bool bind, uint32_t dev)
{
	struct nest_pasid_alloc a = {.size = sizeof(a), .min = pasid, .max = pasid};
	struct nest_bind b = {.size = sizeof(b),
			      .format = NEST_BIND_FMT_VTD_FL,
			      .addr_width = 48,
			      .gpgd = FZD_GPGD,
			      .hpasid = pasid,
			      .flags = dev ? NEST_BIND_F_DEVICE : 0,
			      .dev_id = dev};
	static struct fzd_reply rep;
	const struct nest_pasid_reply *pr =
		fzd_call_ok(c, NEST_OP_PASID_ALLOC, &a, sizeof(a), NULL, 0, -1, &rep);

	FZ_CHECK(pr->pasid == pasid);
	if (bind)
		fzd_call_ok(c, NEST_OP_BIND, &b, sizeof(b), NULL, 0, -1, &rep);
}

/* vm1's translations come from its caches: nothing of vm0's invalidated them. */
static void fz_check_vm1_cached(void)
{
	for (uint32_t i = 0; i < VM1_N; i++)
		for (uint32_t pg = 0; pg < 4; pg++) {
			struct nest_be_xlate x = {0};
			struct nest_ev_fault f = {0};
			int r = fz.real->translate(fzd_daemon()->be, fz.vm1->ctx, VM1_DEV,
						   VM1_PASID_BASE + i, FZD_GVA + pg * 0x1000ull,
						   NEST_ACCESS_WRITE, &x, &f);

			FZ_CHECK(r == 0);
			FZ_CHECK(x.gpa == FZD_GPA + pg * 0x1000ull);
			FZ_CHECK(x.cached);
		}
}

static void fz_setup(void)
{
	char conf[1024];
	struct nestd *d;
	int memfd0, memfd1;

	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\nLogLevel=err\n"
		 "[Limits]\nAuditRate=1\nAuditBurst=1\nAuditSummarySec=3600\nMaxBatch=%u\n"
		 "[VM]\nName=vm0\nOwner=%u\nDevice=dsa0 id=1 ats=yes pasid-bits=20\n"
		 "Device=iax0 id=2\nPASIDQuota=16\n"
		 "[VM]\nName=vm1\nOwner=%u\nDevice=dsa1 id=%u ats=yes\nPASIDQuota=8\n",
		 NEST_BATCH_MAX, (unsigned)getuid(), (unsigned)getuid(), VM1_DEV);
	d = fzd_start(conf);
	memfd0 = fzd_guest_memfd();
	memfd1 = fzd_guest_memfd();
	fz_attach(&fz.c0, "vm0", memfd0);
	fz_attach(&fz.c1, "vm1", memfd1);
	close(memfd0);
	close(memfd1);
	fz.vm0 = nestd_find_vm(d, "vm0");
	fz.vm1 = nestd_find_vm(d, "vm1");
	FZ_CHECK(fz.vm0 && fz.vm1 && fz.vm0->ctx && fz.vm1->ctx);
	for (uint32_t i = 0; i < VM1_N; i++)
		fz_alloc(&fz.c1, VM1_PASID_BASE + i, true, 0);
	fz.real = d->be_ops;
	FZ_CHECK(fz.real->invalidate && fz.real->invalidate_batch && fz.real->translate);
	fz.ops = *fz.real;
	fz.ops.invalidate = fz_invalidate;
	fz.ops.invalidate_batch = fz_invalidate_batch;
	d->be_ops = &fz.ops;
	/* fill vm1's caches: the first translation walks, the check then sees them cached */
	for (uint32_t i = 0; i < VM1_N; i++)
		for (uint32_t pg = 0; pg < 4; pg++) {
			struct nest_be_xlate x;
			struct nest_ev_fault f;

			FZ_CHECK(fz.real->translate(d->be, fz.vm1->ctx, VM1_DEV, VM1_PASID_BASE + i,
						    FZD_GVA + pg * 0x1000ull, NEST_ACCESS_WRITE, &x,
						    &f) == 0);
		}
	fz_check_vm1_cached();
	fz.ready = true;
}

/* vm0: exactly PASIDs 100 .. 100 + n - 1, those in @bind_mask bound (@one_dev: on one device). */
static void fz_vm0_pasids(unsigned n, unsigned bind_mask, bool one_dev)
{
	struct nest_pasid_free f = {.size = sizeof(f), .min = 1, .max = NEST_PASID_MAX};
	static struct fzd_reply rep;

	if (fz.vm0->n_pasids)
		fzd_call_ok(&fz.c0, NEST_OP_PASID_FREE, &f, sizeof(f), NULL, 0, -1, &rep);
	FZ_CHECK(fz.vm0->n_pasids == 0);
	for (unsigned i = 0; i < n; i++) {
		fz_alloc(&fz.c0, VM0_PASID_BASE + i, bind_mask & (1u << i),
			 one_dev ? 1 + (i & 1) : 0);
		fz.vm0_pasids[i] = VM0_PASID_BASE + i;
	}
	fz.n_vm0 = n;
}

/* The PASID an index of flag bit 1 stands for. */
static uint32_t fz_pasid_of(uint32_t v)
{
	uint32_t k = v % (fz.n_vm0 + VM1_N + 2);

	if (k < fz.n_vm0)
		return fz.vm0_pasids[k];
	k -= fz.n_vm0;
	if (k < VM1_N)
		return VM1_PASID_BASE + k;
	return k == VM1_N ? 0 : 300; /* every PASID / nobody's */
}

/* The daemon's verdict on one entry, from the protocol rules and vm0's PASIDs. */
static int fz_model_entry(const struct nest_tail *t, uint32_t i)
{
	struct nest_inv_entry e;
	int r = nest_array_entry(t, i, &e, sizeof(e));

	if (r < 0)
		return r;
	r = nest_inv_entry_check(&e);
	if (r < 0)
		return r;
	if (!(fz.vm0->info.features & NEST_FEAT_CACHE_INVLD))
		return -EOPNOTSUPP;
	if (!nest_inv_all_pasids(&e) && !vm_pasid_find(fz.vm0, e.pasid))
		return -ENOENT;
	return 0;
}

/* Does entry @i (one that passes the checks) reach a device: every PASID, or a bound one? */
static bool fz_model_reaches(const struct nest_tail *t, uint32_t i)
{
	struct nest_inv_entry e;
	const struct vm_pasid *p;

	if (nest_array_entry(t, i, &e, sizeof(e)) < 0)
		return false;
	if (nest_inv_all_pasids(&e))
		return true;
	p = vm_pasid_find(fz.vm0, e.pasid);
	return p && p->bound && p->devs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t body[NEST_MSG_SIZE_MAX];
	static struct fzd_reply rep;
	const struct nest_op_desc *desc = nest_op_desc(NEST_OP_INVALIDATE);
	uint64_t fixed_buf[8];
	struct nest_tail t;
	struct vm_counters c0, c1;
	size_t len, max_body;
	uint8_t flags;
	int r, model;

	if (!fz.ready)
		fz_setup();
	if (size < 3)
		return 0;
	flags = data[2];
	fz_vm0_pasids(data[0] & 7u, data[1], flags & 8);
	data += 3;
	size -= 3;
	max_body = fz.c0.conn->caps.max_msg_size - sizeof(struct nest_msg_hdr);
	len = 0;
	if (flags & 4) {
		struct nest_invalidate inv = {.size = sizeof(inv),
					      .entry_len = sizeof(struct nest_inv_entry)};

		if (size > max_body - sizeof(inv))
			size = max_body - sizeof(inv);
		inv.entry_num = (uint32_t)(size / sizeof(struct nest_inv_entry));
		size = inv.entry_num * sizeof(struct nest_inv_entry);
		memcpy(body, &inv, sizeof(inv));
		len = sizeof(inv);
	}
	if (size > max_body - len)
		size = max_body - len;
	memcpy(body + len, data, size);
	len += size;
	/* decode once here: the entries' offsets for the PASID remap and the model */
	model = nest_body_decode(&desc->req, body, len, fixed_buf, &t);
	if (model == 0 && (flags & 2) && t.entry_len >= 12) {
		for (uint32_t i = 0; i < t.entry_num; i++) {
			uint8_t *p = body + (t.ptr - body) + (size_t)i * t.entry_len + 8;
			uint32_t v;

			memcpy(&v, p, 4);
			v = fz_pasid_of(v);
			memcpy(p, &v, 4);
		}
	}
	if (model == 0 && (t.entry_num == 0 || t.entry_num > fz.c0.conn->caps.max_batch))
		model = -EINVAL;
	fz.ops.invalidate_batch = (flags & 1) ? NULL : fz_invalidate_batch;
	fz.be_calls = fz.be_failures = 0;
	c0 = fz.vm0->ctr;
	c1 = fz.vm1->ctr;

	r = fzd_call(&fz.c0, NEST_OP_INVALIDATE, body, len, NULL, 0, -1, &rep);
	FZ_CHECK(r == 0); /* a bad batch never costs the connection */
	FZ_CHECK(!fz.c0.closed && fz.vm0->conn == fz.c0.conn);
	if (model < 0) {
		FZ_CHECK(rep.hdr.flags & NEST_MSG_F_ERROR);
		FZ_CHECK(rep.hdr.error == -model);
		FZ_CHECK(fz.be_calls == 0);
		FZ_CHECK(fz.vm0->ctr.inv_entries == c0.inv_entries);
	} else {
		const struct nest_invalidate_reply *out = (const void *)rep.body;
		uint32_t k = 0;
		bool reach = false;
		int why = 0;

		FZ_CHECK(!(rep.hdr.flags & NEST_MSG_F_ERROR));
		FZ_CHECK(rep.body_len == sizeof(*out) && out->size == sizeof(*out));
		while (k < t.entry_num && (why = fz_model_entry(&t, k)) == 0)
			reach |= fz_model_reaches(&t, k++);
		FZ_CHECK(out->done <= t.entry_num);
		FZ_CHECK((out->done == t.entry_num) == (out->first_error == 0));
		if (fz.be_failures == 0) {
			FZ_CHECK(out->done == k);
			FZ_CHECK(out->first_error == (k == t.entry_num ? 0 : -why));
		} else {
			FZ_CHECK(out->done < k && out->first_error > 0);
		}
		FZ_CHECK(!reach || fz.be_calls > 0);
		FZ_CHECK(fz.vm0->ctr.invalidations == c0.invalidations + 1);
		FZ_CHECK(fz.vm0->ctr.inv_entries == c0.inv_entries + out->done);
	}
	FZ_CHECK(fz.vm1->ctr.requests == c1.requests && fz.vm1->ctr.inv_entries == c1.inv_entries);
	FZ_CHECK(fz.vm1->n_pasids == VM1_N && fz.vm1->n_bound == VM1_N);
	fz_check_vm1_cached();
	fzd_check_fds();
	return 0;
}
