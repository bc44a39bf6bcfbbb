/* SPDX-License-Identifier: MIT */
/*
 * admin-sim.c - sim debug commands for operators: sim.translate and sim.dma on any device and
 * PASID of a VM that has a backend context (attached or held). Backends without debug ops
 * answer EOPNOTSUPP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "conn.h"
#include "nest-caps.h"
#include "nest-msg.h"
#include "vm.h"

struct admin_sim_target {
	struct vm *vm;
	uint32_t dev_id;
	uint32_t pasid;
	uint64_t addr;
	uint32_t access; /* NEST_ACCESS_* without READ/WRITE */
};

static int admin_sim_args(struct conn *c, struct json_object *args, struct admin_sim_target *t,
			  char *err, size_t errlen)
{
	uint64_t dev, pasid;
	int ex = 0, pr = 0, r;

	r = admin_arg_vm(c->d, args, "vm", &t->vm, err, errlen);
	if (r < 0)
		return r;
	if ((r = nest_json_get_u64(args, "device", 0, UINT32_MAX, 0, 1, &dev)) < 0 ||
	    (r = nest_json_get_u64(args, "pasid", 0, NEST_PASID_MAX, 0, 1, &pasid)) < 0 ||
	    (r = nest_json_get_addr(args, "addr", 0, 1, &t->addr)) < 0 ||
	    (r = nest_json_get_bool(args, "exec", 0, 0, &ex)) < 0 ||
	    (r = nest_json_get_bool(args, "priv", 0, 0, &pr)) < 0) {
		snprintf(err, errlen, "bad arguments (device, pasid, addr required)");
		return r;
	}
	if (!c->d->be_ops->translate || !c->d->be_ops->dma) {
		snprintf(err, errlen, "backend %s has no debug DMA", c->d->be_info.name);
		return -EOPNOTSUPP;
	}
	if (t->vm->state == VM_DETACHED) {
		snprintf(err, errlen, "VM %s is not attached", t->vm->cfg.name);
		return -ENOENT;
	}
	if (vm_device_index(t->vm, (uint32_t)dev) < 0) {
		snprintf(err, errlen, "VM %s has no device %llu", t->vm->cfg.name,
			 (unsigned long long)dev);
		return -ENOENT;
	}
	t->dev_id = (uint32_t)dev;
	t->pasid = (uint32_t)pasid;
	t->access = (ex ? NEST_ACCESS_EXEC : 0) | (pr ? NEST_ACCESS_PRIV : 0);
	return 0;
}

static void admin_sim_fault(struct json_object *res, int r, const struct nest_ev_fault *f)
{
	if (r == -EFAULT) {
		admin_add_str(res, "fault", nest_fault_reason_name(f->reason));
		admin_add_hex(res, "fault_addr", f->addr);
	} else {
		admin_add_null(res, "fault");
		admin_add_null(res, "fault_addr");
	}
}

int admin_sim_translate(struct conn *c, struct json_object *args, struct json_object *res,
			char *err, size_t errlen)
{
	struct admin_sim_target t;
	struct nest_be_xlate x = {0};
	struct nest_ev_fault f = {0};
	int wr = 0, r;

	r = admin_sim_args(c, args, &t, err, errlen);
	if (r == 0 && (r = nest_json_get_bool(args, "write", 0, 0, &wr)) < 0)
		snprintf(err, errlen, "argument 'write' must be a boolean");
	if (r < 0)
		return r;
	t.access |= wr ? NEST_ACCESS_WRITE : NEST_ACCESS_READ;
	r = c->d->be_ops->translate(c->d->be, t.vm->ctx, t.dev_id, t.pasid, t.addr, t.access, &x,
				    &f);
	if (r < 0 && r != -EFAULT) {
		snprintf(err, errlen, "translate failed: %s", nest_errno_name(-r));
		return r;
	}
	admin_add_bool(res, "ok", r == 0);
	if (r == 0) {
		admin_add_hex(res, "gpa", x.gpa);
		admin_add_int(res, "page_size", (int64_t)x.page_size);
		admin_add_null(res, "fault");
	} else {
		admin_add_null(res, "gpa");
		admin_add_null(res, "page_size");
		admin_add_str(res, "fault", nest_fault_reason_name(f.reason));
	}
	admin_add_bool(res, "cached", r == 0 && x.cached);
	return 0;
}

/* "data": hex string of the bytes to write; -> malloc()ed buffer. */
static int admin_sim_hex(struct json_object *args, uint8_t **ret, size_t *ret_len)
{
	const char *s = NULL;
	size_t n;
	uint8_t *b;
	int r = nest_json_get_str(args, "data", 2 * NEST_DMA_LEN_MAX + 1, NULL, 1, &s);

	if (r < 0)
		return r;
	n = strlen(s);
	if (n == 0 || n % 2)
		return -EINVAL;
	b = malloc(n / 2);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1])) {
			free(b);
			return -EINVAL;
		}
		b[i] = (uint8_t)v;
	}
	*ret = b;
	*ret_len = n / 2;
	return 0;
}

int admin_sim_dma(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		  size_t errlen)
{
	struct admin_sim_target t;
	struct nest_ev_fault f = {0};
	struct json_object *jd = NULL, *jl = NULL;
	bool wr = json_object_object_get_ex(args, "data", &jd) && jd;
	bool has_len = json_object_object_get_ex(args, "len", &jl) && jl;
	uint8_t *buf = NULL;
	size_t len = 0, done = 0;
	uint64_t rlen;
	int r;

	r = admin_sim_args(c, args, &t, err, errlen);
	if (r < 0)
		return r;
	if (wr && has_len) { /* a write's length is its data's: two lengths would be ambiguous */
		snprintf(err, errlen, "give 'len' for a read or 'data' for a write, not both");
		return -EINVAL;
	}
	if (wr) {
		r = admin_sim_hex(args, &buf, &len);
	} else {
		r = nest_json_get_u64(args, "len", 1, NEST_DMA_LEN_MAX, 0, 1, &rlen);
		len = (size_t)rlen;
		if (r == 0 && !(buf = calloc(1, len)))
			r = -ENOMEM;
	}
	if (r < 0) {
		snprintf(err, errlen, "need 'len' (1..%u) for a read or 'data' (hex) for a write",
			 NEST_DMA_LEN_MAX);
		return r;
	}
	t.access |= wr ? NEST_ACCESS_WRITE : NEST_ACCESS_READ;
	r = c->d->be_ops->dma(c->d->be, t.vm->ctx, t.dev_id, t.pasid, t.addr, buf, len, t.access,
			      &done, &f);
	if (r < 0 && r != -EFAULT) {
		free(buf);
		snprintf(err, errlen, "dma failed: %s", nest_errno_name(-r));
		return r;
	}
	admin_add_int(res, "done", (int64_t)done);
	if (!wr) {
		char *hex = malloc(2 * done + 1);

		for (size_t i = 0; hex && i < done; i++)
			snprintf(hex + 2 * i, 3, "%02x", buf[i]);
		if (hex) {
			hex[2 * done] = '\0';
			admin_add_str(res, "data", hex);
		}
		free(hex);
	}
	admin_sim_fault(res, r, &f);
	free(buf);
	return 0;
}
