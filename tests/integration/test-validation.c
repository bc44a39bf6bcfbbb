/* SPDX-License-Identifier: MIT */
/*
 * Every validation error of the VM ops (PROTOCOL.md §5, §6, §8, §9): a table of bad requests and
 * the errno nestd must answer. All cases run on one attached connection (none of them closes it).
 */
#include <fcntl.h>

#include "common.h"
#include "nest-msg.h"

enum fdkind {
	FD_NONE,
	FD_GOOD,
	FD_UNSEALED,
	FD_PIPE,
	FD_RDONLY,
	FD_TWO,
	FD_SMALL,
	FD_WRONLY,
	FD_OPATH,
	FD_DISKFILE,
	FD_WSEALED,
};

/* Reopen a sealed memfd through /proc with @flags (same file, other access mode). */
static int reopen_memfd(int flags)
{
	char path[64];
	int m = tc_memfd(IT_MEM, true), fd;

	cr_assert_geq(m, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", m);
	fd = open(path, flags | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	close(m);
	return fd;
}

struct vcase {
	const char *name;
	uint16_t op;
	uint8_t body[128];
	size_t len;
	enum fdkind fd;
	int err;
};

#define CASE(_name, _op, _fd, _err, _type, ...)                                                    \
	do {                                                                                       \
		struct _type _s = {.size = sizeof(struct _type), __VA_ARGS__};                     \
		struct vcase *_c = &cases[n++];                                                    \
		_c->name = _name;                                                                  \
		_c->op = _op;                                                                      \
		memcpy(_c->body, &_s, sizeof(_s));                                                 \
		_c->len = sizeof(_s);                                                              \
		_c->fd = _fd;                                                                      \
		_c->err = _err;                                                                    \
	} while (0)

static int make_fds(enum fdkind k, int *fds)
{
	int p[2];

	switch (k) {
	case FD_NONE:
		return 0;
	case FD_GOOD:
		fds[0] = tc_memfd(IT_MEM, true);
		return 1;
	case FD_SMALL:
		fds[0] = tc_memfd(4096, true);
		return 1;
	case FD_UNSEALED:
		fds[0] = tc_memfd(IT_MEM, false);
		return 1;
	case FD_PIPE:
		cr_assert_eq(pipe(p), 0);
		close(p[1]);
		fds[0] = p[0];
		return 1;
	case FD_RDONLY:
		fds[0] = reopen_memfd(O_RDONLY);
		return 1;
	case FD_WRONLY:
		fds[0] = reopen_memfd(O_WRONLY);
		return 1;
	case FD_OPATH:
		fds[0] = reopen_memfd(O_PATH);
		return 1;
	case FD_DISKFILE: { /* a regular file that is not a memfd cannot carry F_SEAL_SHRINK */
		char tmpl[] = "nest-it-file-XXXXXX";

		fds[0] = mkostemp(tmpl, O_CLOEXEC);
		cr_assert_geq(fds[0], 0);
		unlink(tmpl);
		cr_assert_eq(ftruncate(fds[0], IT_MEM), 0);
		return 1;
	}
	case FD_WSEALED: /* F_SEAL_WRITE: cannot be mapped writable; EINVAL, not a closing EPERM */
		fds[0] = tc_memfd(IT_MEM, true);
		cr_assert_eq(fcntl(fds[0], F_ADD_SEALS, F_SEAL_WRITE), 0);
		return 1;
	case FD_TWO:
		fds[0] = tc_memfd(IT_MEM, true);
		fds[1] = tc_memfd(IT_MEM, true);
		return 2;
	}
	return 0;
}

static size_t build_cases(struct vcase *cases, uint32_t pasid, uint32_t bound)
{
	const uint32_t RW = NEST_MEM_F_READ | NEST_MEM_F_WRITE;
	size_t n = 0;

	/* MEM_ADD: a region at 0 .. 4 MiB exists already */
	CASE("mem no read", NEST_OP_MEM_ADD, FD_GOOD, EINVAL, nest_mem_add,
	     .flags = NEST_MEM_F_WRITE, .gpa = 1ull << 30, .len = 4096);
	CASE("mem unknown flag", NEST_OP_MEM_ADD, FD_GOOD, EOPNOTSUPP, nest_mem_add, .flags = 0x5,
	     .gpa = 1ull << 30, .len = 4096);
	CASE("mem len 0", NEST_OP_MEM_ADD, FD_GOOD, EINVAL, nest_mem_add, .flags = RW,
	     .gpa = 1ull << 30, .len = 0);
	CASE("mem gpa unaligned", NEST_OP_MEM_ADD, FD_GOOD, EINVAL, nest_mem_add, .flags = RW,
	     .gpa = (1ull << 30) + 1, .len = 4096);
	CASE("mem len unaligned", NEST_OP_MEM_ADD, FD_GOOD, EINVAL, nest_mem_add, .flags = RW,
	     .gpa = 1ull << 30, .len = 100);
	CASE("mem offset unaligned", NEST_OP_MEM_ADD, FD_GOOD, EINVAL, nest_mem_add, .flags = RW,
	     .gpa = 1ull << 30, .len = 4096, .fd_offset = 7);
	CASE("mem gpa+len wraps", NEST_OP_MEM_ADD, FD_GOOD, EOVERFLOW, nest_mem_add, .flags = RW,
	     .gpa = 0xfffffffffffff000ull, .len = 0x2000);
	CASE("mem offset+len wraps", NEST_OP_MEM_ADD, FD_GOOD, EOVERFLOW, nest_mem_add, .flags = RW,
	     .gpa = 1ull << 30, .len = 0x2000, .fd_offset = 0xfffffffffffff000ull);
	CASE("mem fd too small", NEST_OP_MEM_ADD, FD_SMALL, EINVAL, nest_mem_add, .flags = RW,
	     .gpa = 1ull << 30, .len = 0x2000);
	CASE("mem fd beyond offset", NEST_OP_MEM_ADD, FD_GOOD, EINVAL, nest_mem_add, .flags = RW,
	     .gpa = 1ull << 30, .len = 0x2000, .fd_offset = IT_MEM);
	CASE("mem unsealed", NEST_OP_MEM_ADD, FD_UNSEALED, EINVAL, nest_mem_add, .flags = RW,
	     .gpa = 1ull << 30, .len = 4096);
	CASE("mem pipe", NEST_OP_MEM_ADD, FD_PIPE, EINVAL, nest_mem_add, .flags = NEST_MEM_F_READ,
	     .gpa = 1ull << 30, .len = 4096);
	CASE("mem rdonly fd for write", NEST_OP_MEM_ADD, FD_RDONLY, EINVAL, nest_mem_add,
	     .flags = RW, .gpa = 1ull << 30, .len = 4096);
	CASE("mem write-only fd", NEST_OP_MEM_ADD, FD_WRONLY, EINVAL, nest_mem_add,
	     .flags = NEST_MEM_F_READ, .gpa = 1ull << 30, .len = 4096);
	CASE("mem O_PATH fd", NEST_OP_MEM_ADD, FD_OPATH, EINVAL, nest_mem_add,
	     .flags = NEST_MEM_F_READ, .gpa = 1ull << 30, .len = 4096);
	CASE("mem unsealable disk file", NEST_OP_MEM_ADD, FD_DISKFILE, EINVAL, nest_mem_add,
	     .flags = RW, .gpa = 1ull << 30, .len = 4096);
	CASE("mem write-sealed for write", NEST_OP_MEM_ADD, FD_WSEALED, EINVAL, nest_mem_add,
	     .flags = RW, .gpa = 1ull << 30, .len = 4096);
	CASE("mem no fd", NEST_OP_MEM_ADD, FD_NONE, EINVAL, nest_mem_add, .flags = RW,
	     .gpa = 1ull << 30, .len = 4096);
	CASE("mem two fds", NEST_OP_MEM_ADD, FD_TWO, EINVAL, nest_mem_add, .flags = RW,
	     .gpa = 1ull << 30, .len = 4096);
	CASE("mem overlap", NEST_OP_MEM_ADD, FD_GOOD, EEXIST, nest_mem_add, .flags = RW,
	     .gpa = 0x200000, .len = IT_MEM);
	CASE("mem over memory limit", NEST_OP_MEM_ADD, FD_GOOD, ENOSPC, nest_mem_add, .flags = RW,
	     .gpa = 1ull << 30, .len = 64u << 20);
	/* MEM_REMOVE */
	CASE("mem remove unknown", NEST_OP_MEM_REMOVE, FD_NONE, ENOENT, nest_mem_remove,
	     .gpa = 1ull << 30, .len = 4096);
	CASE("mem remove partial", NEST_OP_MEM_REMOVE, FD_NONE, ENOENT, nest_mem_remove, .gpa = 0,
	     .len = 4096);
	CASE("mem remove flags", NEST_OP_MEM_REMOVE, FD_NONE, EOPNOTSUPP, nest_mem_remove,
	     .flags = 4, .gpa = 0, .len = IT_MEM);
	CASE("mem remove covered cuts", NEST_OP_MEM_REMOVE, FD_NONE, EINVAL, nest_mem_remove,
	     .flags = NEST_MEM_REMOVE_F_COVERED, .gpa = 0, .len = 4096);
	CASE("mem remove all with range", NEST_OP_MEM_REMOVE, FD_NONE, EINVAL, nest_mem_remove,
	     .flags = NEST_MEM_REMOVE_F_ALL, .gpa = 0, .len = IT_MEM);
	/* DEVICE_GET */
	CASE("device unknown", NEST_OP_DEVICE_GET, FD_NONE, ENOENT, nest_device_get, .dev_id = 99);
	CASE("device reserved", NEST_OP_DEVICE_GET, FD_NONE, EOPNOTSUPP, nest_device_get,
	     .dev_id = 1, .__reserved = 1);
	CASE("device flags", NEST_OP_DEVICE_GET, FD_NONE, EOPNOTSUPP, nest_device_get, .flags = 1,
	     .dev_id = 1);
	CASE("device with fd", NEST_OP_DEVICE_GET, FD_GOOD, EINVAL, nest_device_get, .dev_id = 1);
	/* PASID_ALLOC */
	CASE("pasid min 0", NEST_OP_PASID_ALLOC, FD_NONE, EINVAL, nest_pasid_alloc, .min = 0,
	     .max = 10);
	CASE("pasid min > max", NEST_OP_PASID_ALLOC, FD_NONE, EINVAL, nest_pasid_alloc, .min = 10,
	     .max = 9);
	CASE("pasid max too big", NEST_OP_PASID_ALLOC, FD_NONE, EINVAL, nest_pasid_alloc, .min = 1,
	     .max = NEST_PASID_MAX + 1);
	CASE("pasid unknown flag", NEST_OP_PASID_ALLOC, FD_NONE, EOPNOTSUPP, nest_pasid_alloc,
	     .flags = 2, .min = 1, .max = 10);
	CASE("pasid gpasid 0", NEST_OP_PASID_ALLOC, FD_NONE, EINVAL, nest_pasid_alloc,
	     .flags = NEST_PASID_F_GPASID, .min = 1, .max = 10);
	CASE("pasid gpasid without flag", NEST_OP_PASID_ALLOC, FD_NONE, EINVAL, nest_pasid_alloc,
	     .min = 1, .max = 10, .gpasid = 5);
	CASE("pasid reserved", NEST_OP_PASID_ALLOC, FD_NONE, EOPNOTSUPP, nest_pasid_alloc, .min = 1,
	     .max = 10, .__reserved = 1);
	/* PASID_FREE */
	CASE("free none owned", NEST_OP_PASID_FREE, FD_NONE, ENOENT, nest_pasid_free, .min = 5000,
	     .max = 6000);
	CASE("free bad range", NEST_OP_PASID_FREE, FD_NONE, EINVAL, nest_pasid_free, .min = 0,
	     .max = 6000);
	/* BIND */
	CASE("bind not owned", NEST_OP_BIND, FD_NONE, ENOENT, nest_bind, .format = 1,
	     .addr_width = 48, .gpgd = IT_GPGD, .hpasid = 777);
	CASE("bind format", NEST_OP_BIND, FD_NONE, EOPNOTSUPP, nest_bind, .format = 2,
	     .addr_width = 48, .gpgd = IT_GPGD, .hpasid = pasid);
	CASE("bind vtd flags", NEST_OP_BIND, FD_NONE, EOPNOTSUPP, nest_bind, .format = 1,
	     .addr_width = 48, .gpgd = IT_GPGD, .hpasid = pasid, .vtd_flags = 0x80);
	CASE("bind flags", NEST_OP_BIND, FD_NONE, EOPNOTSUPP, nest_bind, .flags = 16, .format = 1,
	     .addr_width = 48, .gpgd = IT_GPGD, .hpasid = pasid);
	CASE("bind addr width", NEST_OP_BIND, FD_NONE, EINVAL, nest_bind, .format = 1,
	     .addr_width = 39, .gpgd = IT_GPGD, .hpasid = pasid);
	CASE("bind gpgd unaligned", NEST_OP_BIND, FD_NONE, EINVAL, nest_bind, .format = 1,
	     .addr_width = 48, .gpgd = IT_GPGD + 8, .hpasid = pasid);
	CASE("bind pat without emte", NEST_OP_BIND, FD_NONE, EINVAL, nest_bind, .format = 1,
	     .addr_width = 48, .gpgd = IT_GPGD, .hpasid = pasid, .pat = 1);
	CASE("bind gpasid 0", NEST_OP_BIND, FD_NONE, EINVAL, nest_bind, .flags = NEST_BIND_F_GPASID,
	     .format = 1, .addr_width = 48, .gpgd = IT_GPGD, .hpasid = pasid);
	CASE("bind already bound", NEST_OP_BIND, FD_NONE, EBUSY, nest_bind, .format = 1,
	     .addr_width = 48, .gpgd = IT_GPGD, .hpasid = bound);
	/* UNBIND */
	CASE("unbind not bound", NEST_OP_UNBIND, FD_NONE, ENOENT, nest_unbind, .hpasid = pasid);
	CASE("unbind not owned", NEST_OP_UNBIND, FD_NONE, ENOENT, nest_unbind, .hpasid = 777);
	CASE("unbind dev_id without DEVICE", NEST_OP_UNBIND, FD_NONE, EINVAL, nest_unbind,
	     .hpasid = bound, .dev_id = 1);
	CASE("unbind unknown flag", NEST_OP_UNBIND, FD_NONE, EOPNOTSUPP, nest_unbind,
	     .hpasid = bound, .flags = 1u << 7);
	/* INVALIDATE request level */
	CASE("inv entry_num 0", NEST_OP_INVALIDATE, FD_NONE, EINVAL, nest_invalidate,
	     .entry_len = 40, .entry_num = 0);
	CASE("inv entry_len short", NEST_OP_INVALIDATE, FD_NONE, EINVAL, nest_invalidate,
	     .entry_len = 8, .entry_num = 0);
	CASE("inv no entries", NEST_OP_INVALIDATE, FD_NONE, EINVAL, nest_invalidate,
	     .entry_len = 40, .entry_num = 1);
	/* SIM_DMA */
	CASE("dma len 0", NEST_OP_SIM_DMA, FD_NONE, EINVAL, nest_sim_dma, .dev_id = 1,
	     .pasid = bound, .addr = IT_GVA, .len = 0);
	CASE("dma len too big", NEST_OP_SIM_DMA, FD_NONE, EINVAL, nest_sim_dma, .dev_id = 1,
	     .pasid = bound, .addr = IT_GVA, .len = NEST_DMA_LEN_MAX + 1);
	CASE("dma unknown device", NEST_OP_SIM_DMA, FD_NONE, ENOENT, nest_sim_dma, .dev_id = 99,
	     .pasid = bound, .addr = IT_GVA, .len = 4);
	CASE("dma unowned pasid", NEST_OP_SIM_DMA, FD_NONE, ENOENT, nest_sim_dma, .dev_id = 1,
	     .pasid = 777, .addr = IT_GVA, .len = 4);
	CASE("dma write without data", NEST_OP_SIM_DMA, FD_NONE, EINVAL, nest_sim_dma,
	     .flags = NEST_DMA_F_WRITE, .dev_id = 1, .pasid = bound, .addr = IT_GVA, .len = 4);
	CASE("dma flags", NEST_OP_SIM_DMA, FD_NONE, EOPNOTSUPP, nest_sim_dma, .flags = 8,
	     .dev_id = 1, .pasid = bound, .addr = IT_GVA, .len = 4);
	/* ATTACH on an attached connection; generic */
	CASE("attach twice", NEST_OP_VM_ATTACH, FD_NONE, EBUSY, nest_vm_attach, .name = "vm1");
	CASE("detach unknown flag", NEST_OP_VM_DETACH, FD_NONE, EOPNOTSUPP, nest_vm_detach,
	     .flags = 2);
	return n;
}

static void run_case(struct tc *t, const struct vcase *c)
{
	int fds[2] = {-1, -1};
	int nfds = make_fds(c->fd, fds);
	int r = tc_call(t, c->op, c->body, c->len, NULL, 0, fds, (unsigned)nfds, NULL, 0, NULL);

	cr_expect_eq(r, -c->err, "%s: got %d (%s), want %s", c->name, r, strerror(-r),
		     strerror(c->err));
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

Test(validation, bad_requests_table)
{
	static struct vcase cases[80];
	struct td d;
	struct it_guest g;
	uint32_t pasid = 0;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *t = it_client(&d);
	uint32_t bound = it_setup_vm(t, "vm0", &g, 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &pasid), 0);
	size_t n = build_cases(cases, pasid, bound);
	cr_assert_leq(n, sizeof(cases) / sizeof(cases[0]));
	for (size_t i = 0; i < n; i++)
		run_case(t, &cases[i]);
	/* the connection survived every case and still works */
	cr_expect_eq(tc_unbind(t, bound), 0);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* Body-shape rules (PROTOCOL.md §5) on a real op. */
Test(validation, extension_rules)
{
	struct td d;
	uint8_t body[64] = {0};
	struct nest_device_get *dg = (void *)body;

	it_start(&d, NULL, NULL);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	/* shorter than min */
	dg->size = 8;
	cr_expect_eq(tc_call(t, NEST_OP_DEVICE_GET, body, 8, NULL, 0, NULL, 0, NULL, 0, NULL),
		     -EINVAL);
	/* min size (12) is accepted and zero-extended */
	dg->size = 12;
	dg->dev_id = 1;
	cr_expect_eq(tc_call(t, NEST_OP_DEVICE_GET, body, 12, NULL, 0, NULL, 0, NULL, 0, NULL), 0);
	/* longer with a zero tail is fine, a non-zero tail is E2BIG */
	dg->size = 24;
	cr_expect_eq(tc_call(t, NEST_OP_DEVICE_GET, body, 24, NULL, 0, NULL, 0, NULL, 0, NULL), 0);
	body[20] = 1;
	cr_expect_eq(tc_call(t, NEST_OP_DEVICE_GET, body, 24, NULL, 0, NULL, 0, NULL, 0, NULL),
		     -E2BIG);
	/* size larger than the body */
	dg->size = 40;
	cr_expect_eq(tc_call(t, NEST_OP_DEVICE_GET, body, 24, NULL, 0, NULL, 0, NULL, 0, NULL),
		     -EINVAL);
	/* unknown op and an event number: ENOTTY, connection stays */
	cr_expect_eq(tc_call(t, 99, body, 16, NULL, 0, NULL, 0, NULL, 0, NULL), -ENOTTY);
	cr_expect_eq(tc_call(t, NEST_EV_FAULT, body, 16, NULL, 0, NULL, 0, NULL, 0, NULL), -ENOTTY);
	/* attach errors */
	struct tc *t2 = it_client(&d);
	cr_expect_eq(tc_attach(t2, "vm0", 0, NULL), -EBUSY, "attached by another connection");
	cr_expect_eq(tc_attach(t2, "nope", 0, NULL), -ENOENT);
	cr_expect_eq(tc_attach(t2, "bad name!", 0, NULL), -EINVAL);
	cr_expect_eq(tc_attach(t2, "", 0, NULL), -EINVAL);
	cr_expect_eq(tc_attach(t2, "vm1", 2, NULL), -EOPNOTSUPP);
	/* ADMIN on the VM socket: EPERM and closed */
	cr_expect_eq(tc_call(t2, NEST_OP_ADMIN, NULL, 0, "{}", 3, NULL, 0, NULL, 0, NULL), -EPERM);
	cr_expect(tc_closed(t2, 2000));
	tc_free(t2);
	/* a VM op without an attached VM: EPERM and closed */
	struct tc *t3 = it_client(&d);
	dg->size = sizeof(*dg);
	dg->dev_id = 1;
	memset(body + 12, 0, 12);
	cr_expect_eq(
		tc_call(t3, NEST_OP_DEVICE_GET, body, sizeof(*dg), NULL, 0, NULL, 0, NULL, 0, NULL),
		-EPERM);
	cr_expect(tc_closed(t3, 2000));
	tc_free(t3);
	/* a second HELLO: EPERM and closed */
	cr_expect_eq(tc_hello(t), -EPERM);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

/* R23: walk the op table; every VM op enforces the minimum size and the zero-tail rule. */
Test(validation, every_op_enforces_size_rules)
{
	struct td d;
	uint8_t body[256];

	it_start(&d, NULL, NULL);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm1", 0, NULL), 0);
	for (uint32_t op = 0; op < NEST_OP_MAX; op++) {
		const struct nest_op_desc *od = nest_op_desc(op);
		int fds[1] = {-1};
		unsigned nfds;
		uint32_t sz;

		if (!od || od->is_event || !(od->sockets & NEST_SOCK_VM) || op == NEST_OP_HELLO ||
		    od->req.size == 0)
			continue;
		nfds = od->req.min_fds;
		/* one byte short of the minimum */
		memset(body, 0, sizeof(body));
		sz = od->req.min_size - 1;
		memcpy(body, &sz, 4);
		if (nfds)
			fds[0] = tc_memfd(4096, true);
		cr_expect_eq(tc_call(t, (uint16_t)op, body, sz, NULL, 0, fds, nfds, NULL, 0, NULL),
			     -EINVAL, "%s: short struct", od->name);
		/* longer than we know, with a non-zero byte past sizeof */
		sz = od->req.size + 8;
		memcpy(body, &sz, 4);
		body[sz - 1] = 0xff;
		cr_expect_eq(tc_call(t, (uint16_t)op, body, sz, NULL, 0, fds, nfds, NULL, 0, NULL),
			     -E2BIG, "%s: non-zero tail", od->name);
		if (fds[0] >= 0)
			close(fds[0]);
	}
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

/* Random well-framed requests and random garbage: nestd answers or closes, never crashes. */
Test(validation, random_requests_do_not_hurt_the_daemon)
{
	struct td d;
	uint8_t buf[512];
	unsigned seed = 12345;
	struct json_object *res = NULL;

	it_start(&d, NULL, NULL);
	struct tc *t = NULL;
	for (int i = 0; i < 3000; i++) {
		size_t len = 16 + (size_t)(rand_r(&seed) % 200);
		struct nest_msg_hdr *h = (void *)buf;

		if (!t) {
			t = it_client(&d);
			if (rand_r(&seed) % 2)
				tc_attach(t, rand_r(&seed) % 2 ? "vm0" : "vm1", 0, NULL);
		}
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rand_r(&seed);
		/* mostly valid framing with small struct sizes, so handlers are reached */
		if (rand_r(&seed) % 8) {
			*h = (struct nest_msg_hdr){.size = (uint32_t)len,
						   .op = (uint16_t)(1 + rand_r(&seed) % 15),
						   .flags = NEST_MSG_F_REQUEST,
						   .id = (uint32_t)i};
			uint32_t sz = (uint32_t)(len - 16);
			if (rand_r(&seed) % 2) {
				memcpy(buf + 16, &sz, 4);
				memset(buf + 20, 0, 4); /* flags 0 */
			}
		}
		if (tc_send_raw(t, buf, len) < 0 ||
		    tc_reply(t, (uint32_t)i, NULL, 0, NULL) == -EPIPE) {
			tc_free(t);
			t = NULL;
		}
	}
	tc_free(t);
	struct tc *a = it_admin(&d);
	cr_expect_eq(tc_admin(a, "status", NULL, &res), 0);
	json_object_put(res);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}
