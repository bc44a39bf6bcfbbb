/* SPDX-License-Identifier: MIT */
/*
 * faultinj.c - nestd-faultinject: nestd with a fault-injection hook (test builds only).
 *
 * Linked with --wrap for malloc, calloc, realloc, strdup, nest_backend_select and
 * dispatch_message. The first request whose op is $NESTD_FAULT_OP (after $NESTD_FAULT_SKIP
 * of them, default 0) arms the hook for the time it is handled: its $NESTD_FAULT_N-th fallible
 * call (an allocation by nestd's own code, or a backend call that can fail) fails: the
 * allocation returns NULL, the backend call -EIO. $NESTD_FAULT_N may list up to four numbers,
 * "3,5": each of those calls fails (a failure and then one in its rollback). When the fault
 * fired (the last of the list), the file $NESTD_FAULT_FIRED is created. Nothing else changes:
 * every other request, and everything after, runs normally.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "dispatch.h"
#include "nest-msg.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
int __real_nest_backend_select(const struct nest_backend_params *p,
			       const struct nest_backend_ops **ret_ops, char *why, size_t len);
int __wrap_nest_backend_select(const struct nest_backend_params *p,
			       const struct nest_backend_ops **ret_ops, char *why, size_t len);
void __real_dispatch_message(struct conn *c, const uint8_t *buf, size_t len, int *fds,
			     unsigned nfds);
void __wrap_dispatch_message(struct conn *c, const uint8_t *buf, size_t len, int *fds,
			     unsigned nfds);

#define FI_N_MAX 4

static struct {
	bool init, done, armed;
	int op;
	long n[FI_N_MAX], count; /* n: the calls that fail, ascending; 0 ends the list */
	long skip; /* NESTD_FAULT_SKIP: requests of the op that run before the faulted one */
	const char *fired_path;
	const struct nest_backend_ops *real;
	struct nest_backend_ops ops;
} fi = {.op = -1};

/* One fallible call: true if this is the one that fails. */
static bool fi_hit(void)
{
	int fd, last = 0;
	bool hit = false;

	if (!fi.armed)
		return false;
	fi.count++;
	for (int i = 0; i < FI_N_MAX && fi.n[i] > 0; i++) {
		hit = hit || fi.n[i] == fi.count;
		last = i;
	}
	if (!hit)
		return false;
	if (fi.count < fi.n[last])
		return true;
	fi.armed = false; /* the list's faults per run */
	if (fi.fired_path) {
		fd = open(fi.fired_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	return true;
}

void *__wrap_malloc(size_t n)
{
	if (fi_hit()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	if (fi_hit()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	if (fi_hit()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	if (fi_hit()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strdup(s);
}

static int fi_ctx_new(struct nest_backend *be, const struct nest_be_ctx_params *p,
		      struct nest_be_ctx **ret)
{
	return fi_hit() ? -EIO : fi.real->ctx_new(be, p, ret);
}

static int fi_map(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t gpa, uint64_t len,
		  int fd, uint64_t fd_offset, uint32_t perms)
{
	return fi_hit() ? -EIO : fi.real->map(be, ctx, gpa, len, fd, fd_offset, perms);
}

static int fi_device_attach(struct nest_backend *be, struct nest_be_ctx *ctx,
			    const struct nest_be_dev *dev, int *ret_fd)
{
	return fi_hit() ? -EIO : fi.real->device_attach(be, ctx, dev, ret_fd);
}

static int fi_pasid_alloc(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			  uint32_t min, uint32_t max, uint32_t *ret_pasid)
{
	return fi_hit() ? -EIO : fi.real->pasid_alloc(be, ctx, dev_id, min, max, ret_pasid);
}

static int fi_bind(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		   const struct nest_be_bind *b)
{
	return fi_hit() ? -EIO : fi.real->bind(be, ctx, dev_id, b);
}

static int fi_rebind(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		     const struct nest_be_bind *b)
{
	return fi_hit() ? -EIO : fi.real->rebind(be, ctx, dev_id, b);
}

static int fi_invalidate_batch(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			       const struct nest_inv_entry *e, uint32_t n, uint32_t *ret_done)
{
	return fi_hit() ? -EIO : fi.real->invalidate_batch(be, ctx, dev_id, e, n, ret_done);
}

static int fi_invalidate(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			 const struct nest_inv_entry *e)
{
	return fi_hit() ? -EIO : fi.real->invalidate(be, ctx, dev_id, e);
}

static int fi_set_checker(struct nest_backend *be, struct nest_be_ctx *ctx, bool on)
{
	return fi_hit() ? -EIO : fi.real->set_checker(be, ctx, on);
}

static int fi_dma(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id, uint32_t pasid,
		  uint64_t addr, void *buf, size_t len, uint32_t access, size_t *ret_done,
		  struct nest_ev_fault *ret_fault)
{
	return fi_hit() ? -EIO
			: fi.real->dma(be, ctx, dev_id, pasid, addr, buf, len, access, ret_done,
				       ret_fault);
}

int __wrap_nest_backend_select(const struct nest_backend_params *p,
			       const struct nest_backend_ops **ret_ops, char *why, size_t len)
{
	int r = __real_nest_backend_select(p, ret_ops, why, len);

	if (r < 0)
		return r;
	fi.real = *ret_ops;
	fi.ops = **ret_ops;
#define FI_WRAP(op)                                                                                \
	if (fi.ops.op)                                                                             \
	fi.ops.op = fi_##op
	FI_WRAP(ctx_new);
	FI_WRAP(map);
	FI_WRAP(device_attach);
	FI_WRAP(pasid_alloc);
	FI_WRAP(bind);
	FI_WRAP(rebind);
	FI_WRAP(invalidate_batch);
	FI_WRAP(invalidate);
	FI_WRAP(set_checker);
	FI_WRAP(dma);
#undef FI_WRAP
	*ret_ops = &fi.ops;
	return 0;
}

void __wrap_dispatch_message(struct conn *c, const uint8_t *buf, size_t len, int *fds,
			     unsigned nfds)
{
	struct nest_msg_hdr h;

	if (!fi.init) {
		const char *op = getenv("NESTD_FAULT_OP"), *n = getenv("NESTD_FAULT_N");

		fi.init = true;
		fi.op = op ? atoi(op) : -1;
		for (int i = 0; n && *n && i < FI_N_MAX; i++) {
			char *end;

			fi.n[i] = strtol(n, &end, 10);
			if (i > 0 && fi.n[i] <= fi.n[i - 1])
				abort(); /* a test's mistake: the list must ascend */
			n = *end == ',' ? end + 1 : end;
		}
		fi.fired_path = getenv("NESTD_FAULT_FIRED");
		fi.skip = getenv("NESTD_FAULT_SKIP") ? atol(getenv("NESTD_FAULT_SKIP")) : 0;
	}
	if (!fi.done && fi.n[0] > 0 && len >= sizeof(h)) {
		memcpy(&h, buf, sizeof(h));
		if (h.op == fi.op && fi.skip > 0) {
			fi.skip--;
		} else if (h.op == fi.op) {
			fi.done = true;
			fi.armed = true;
			fi.count = 0;
			__real_dispatch_message(c, buf, len, fds, nfds);
			fi.armed = false;
			return;
		}
	}
	__real_dispatch_message(c, buf, len, fds, nfds);
}
