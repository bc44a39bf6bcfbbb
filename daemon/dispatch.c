/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c - nestd's op table, the generic checks in front of every handler, and HELLO.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "nest-caps.h"
#include "nest-fds.h"
#include "vm.h"

enum op_perm {
	PERM_PRE_HELLO = 1, /* only before HELLO (one-shot) */
	PERM_HELLO,	    /* after HELLO */
	PERM_ATTACHED,	    /* after HELLO with a VM attached */
};

struct op_entry {
	op_handler fn;
	uint8_t perm; /* enum op_perm */
};

static int op_hello(struct conn *c, struct op_req *rq, struct op_reply *rp);

static const struct op_entry op_entries[NEST_OP_MAX] = {
	[NEST_OP_HELLO] = {op_hello, PERM_PRE_HELLO},
	[NEST_OP_VM_ATTACH] = {op_vm_attach, PERM_HELLO},
	[NEST_OP_VM_DETACH] = {op_vm_detach, PERM_ATTACHED},
	[NEST_OP_MEM_ADD] = {op_mem_add, PERM_ATTACHED},
	[NEST_OP_MEM_REMOVE] = {op_mem_remove, PERM_ATTACHED},
	[NEST_OP_DEVICE_GET] = {op_device_get, PERM_ATTACHED},
	[NEST_OP_PASID_ALLOC] = {op_pasid_alloc, PERM_ATTACHED},
	[NEST_OP_PASID_FREE] = {op_pasid_free, PERM_ATTACHED},
	[NEST_OP_BIND] = {op_bind, PERM_ATTACHED},
	[NEST_OP_UNBIND] = {op_unbind, PERM_ATTACHED},
	[NEST_OP_INVALIDATE] = {op_invalidate, PERM_ATTACHED},
	[NEST_OP_SIM_DMA] = {op_sim_dma, PERM_ATTACHED},
	[NEST_OP_ADMIN] = {op_admin, PERM_HELLO},
	[NEST_OP_BIND_NATIVE] = {op_bind_native, PERM_ATTACHED},
	[NEST_OP_INVALIDATE_NATIVE] = {op_invalidate_native, PERM_ATTACHED},
	[NEST_OP_PAGE_RESPONSE] = {op_page_response, PERM_ATTACHED},
	[NEST_OP_VIOMMU_ALLOC] = {op_viommu_alloc, PERM_ATTACHED},
	[NEST_OP_VIOMMU_FREE] = {op_viommu_free, PERM_ATTACHED},
	[NEST_OP_VDEVICE_ALLOC] = {op_vdevice_alloc, PERM_ATTACHED},
	[NEST_OP_VIOMMU_INVALIDATE] = {op_viommu_invalidate, PERM_ATTACHED},
	[NEST_OP_VIOMMU_ATTACH] = {op_viommu_attach, PERM_ATTACHED},
	[NEST_OP_VIOMMU_DETACH] = {op_viommu_detach, PERM_ATTACHED},
	[NEST_OP_VM_IOVA_INFO] = {op_vm_iova_info, PERM_ATTACHED},
	[NEST_OP_DEVICE_PUT] = {op_device_put, PERM_ATTACHED},
	[NEST_OP_DEVICE_HOT_RESET] = {op_device_hot_reset, PERM_ATTACHED},
};

void op_reply_set(struct op_reply *rp, const void *fixed, size_t len)
{
	assert(len <= sizeof(rp->fixed) && len >= 4);
	memcpy(rp->fixed, fixed, len);
	memcpy(rp->fixed, &(uint32_t){(uint32_t)len}, sizeof(uint32_t));
	rp->fixed_len = len;
}

static int op_hello(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_hello *h = rq->req;
	struct nest_caps peer, ours, eff;
	struct nest_hello out = {.major = NEST_PROTO_MAJOR, .minor = NEST_PROTO_MINOR};
	char *caps_buf;
	size_t caps_len;
	int r;

	if (h->major != NEST_PROTO_MAJOR)
		return -EPROTO;
	r = nest_caps_parse((const char *)rq->tail.ptr, rq->tail.len, &peer);
	if (r < 0)
		return r;
	nest_caps_init(&ours);
	snprintf(ours.software, sizeof(ours.software), "nestd %s", NESTD_VERSION);
	ours.max_msg_size = c->limits.max_msg_size;
	ours.max_fds = c->limits.max_fds;
	ours.max_batch = c->limits.max_batch;
	ours.max_inflight = c->limits.max_inflight;
	ours.features = c->kind == NEST_SOCK_VM ? c->d->be_info.features : 0;
	caps_buf = malloc(NEST_CAPS_LEN_MAX);
	if (!caps_buf)
		return -ENOMEM;
	r = nest_caps_format(&ours, caps_buf, NEST_CAPS_LEN_MAX, &caps_len);
	if (r < 0) {
		free(caps_buf);
		return r;
	}
	nest_caps_negotiate(&ours, &peer, &eff);
	c->caps = eff;
	c->peer_minor = h->minor;	  /* what this client understands (PROTOCOL.md §14) */
	c->peer_features = peer.features; /* "page-requests" (iopf.c), "viommu" (viommu.c) */
	c->hello_done = true;
	event_del(c->ev_hello);
	out.caps_len = (uint32_t)caps_len;
	op_reply_set(rp, &out, sizeof(out));
	rp->tail = caps_buf;
	rp->tail_len = caps_len;
	rp->tail_owned = caps_buf; /* freed by the dispatcher once the reply is encoded */
	return 0;
}

static int dispatch_check_perm(struct conn *c, const struct nest_op_desc *desc, uint8_t perm)
{
	if (!(desc->sockets & c->kind))
		return -EPERM;
	if (c->kind == NEST_SOCK_ADMIN && !c->admin_ok)
		return -EPERM;
	switch (perm) {
	case PERM_PRE_HELLO:
		return c->hello_done ? -EPERM : 0;
	case PERM_HELLO:
		return c->hello_done ? 0 : -EPERM;
	case PERM_ATTACHED:
		return c->hello_done && c->vm ? 0 : -EPERM;
	default:
		return -EPERM;
	}
}

static int dispatch_request(struct conn *c, const struct nest_msg *m, int *fds, unsigned nfds,
			    struct op_reply *rp)
{
	const struct nest_op_desc *desc = nest_op_desc(m->hdr.op);
	const struct op_entry *e;
	uint64_t buf[32]; /* every fixed request struct fits (asserted below) */
	struct op_req rq = {.m = m, .fds = fds, .nfds = nfds};
	int r;

	if (!desc || desc->is_event || m->hdr.op >= NEST_OP_MAX || !op_entries[m->hdr.op].fn)
		return -ENOTTY;
	e = &op_entries[m->hdr.op];
	r = dispatch_check_perm(c, desc, e->perm);
	if (r < 0)
		return r;
	if (c->outq_replies >= c->caps.max_inflight)
		return -EAGAIN;
	if (nfds < desc->req.min_fds || nfds > desc->req.max_fds)
		return -EINVAL;
	assert(desc->req.size <= sizeof(buf));
	r = nest_body_decode(&desc->req, m->body, m->body_len, buf, &rq.tail);
	if (r < 0)
		return r;
	rq.req = desc->req.size ? buf : NULL;
	return e->fn(c, &rq, rp);
}

static void dispatch_reply(struct conn *c, const struct nest_msg_hdr *req, int r,
			   struct op_reply *rp)
{
	struct nest_msg_hdr h = {.op = req->op, .flags = NEST_MSG_F_REPLY, .id = req->id};
	char *ejs = NULL;

	if (r < 0) {
		if (c->kind == NEST_SOCK_ADMIN && rp->err[0]) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "error", json_object_new_string(rp->err));
			ejs = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		}
		conn_send_error(c, req, r, ejs);
		free(ejs);
		if (c->vm)
			c->vm->ctr.errors++;
		return;
	}
	if (rp->json) {
		r = conn_send(c, &h, NULL, 0, rp->json, strlen(rp->json) + 1, -1);
		if (r == -EMSGSIZE)
			conn_send_error(c, req, E2BIG, "{\"error\":\"result too large\"}");
		return;
	}
	r = conn_send(c, &h, rp->fixed_len ? rp->fixed : NULL, rp->fixed_len, rp->tail,
		      rp->tail_len, rp->fd);
	rp->fd = -1; /* moved into conn_send(), which closes it on failure */
	if (r == -EMSGSIZE)
		conn_send_error(c, req, E2BIG, NULL);
}

/*
 * The request's fds were lost because nestd itself was out of fds (nest_fds_recv_short()): not
 * the client's fault. Answer that request EMFILE and keep the connection (and its VM); a
 * datagram that is not a well-formed request is still a protocol error.
 */
void dispatch_refuse_fd_short(struct conn *c, const uint8_t *buf, size_t len)
{
	struct nestd *d = c->d;
	struct nest_msg m;
	char tag[80];
	int r = nest_msg_parse(buf, len, c->caps.max_msg_size, &m);

	if (r == 0 && !(m.hdr.flags & NEST_MSG_F_REQUEST))
		r = -EPROTO;
	if (r < 0) {
		d->stats.protocol_errors++;
		conn_close(c, "broken framing");
		return;
	}
	d->stats.requests++;
	d->stats.fd_shortages++;
	if (c->vm)
		c->vm->ctr.requests++;
	if (nestd_now_usec() - d->fd_short_warned_usec >= 1000000u) { /* at most once a second */
		d->fd_short_warned_usec = nestd_now_usec();
		log_msg(LOG_WARNING,
			"%s: %s: out of file descriptors, the request's fds were lost: EMFILE "
			"(%llu so far)",
			conn_tag(c, tag, sizeof(tag)), nest_op_name(m.hdr.op),
			(unsigned long long)d->stats.fd_shortages);
	}
	conn_send_error(c, &m.hdr, -EMFILE, NULL);
	if (c->vm)
		c->vm->ctr.errors++;
}

void dispatch_message(struct conn *c, const uint8_t *buf, size_t len, int *fds, unsigned nfds)
{
	struct nestd *d = c->d;
	/*
	 * Not zero-initialised as a whole: fixed[] and err[] are 384 bytes on every request of the
	 * hot path. fixed[] is only read up to fixed_len, which op_reply_set() fills; err[] is read
	 * as a string.
	 */
	struct op_reply rp;
	struct nest_msg m;
	char tag[80];
	int r;

	rp.fixed_len = 0;
	rp.tail = NULL;
	rp.tail_len = 0;
	rp.fd = -1;
	rp.tail_owned = NULL;
	rp.json = NULL;
	rp.err[0] = '\0';
	r = nest_msg_parse(buf, len, c->caps.max_msg_size, &m);
	if (r == 0 && !(m.hdr.flags & NEST_MSG_F_REQUEST))
		r = -EPROTO; /* clients send requests only */
	if (r < 0) {
		nest_fds_close(fds, nfds);
		d->stats.protocol_errors++;
		conn_close(c, "broken framing");
		return;
	}
	d->stats.requests++;
	if (c->vm)
		c->vm->ctr.requests++;
	r = dispatch_request(c, &m, fds, nfds, &rp);
	nest_fds_close(fds, nfds); /* whatever the handler did not take */
	if (r < 0)
		log_msg(LOG_DEBUG, "%s: %s: %s", conn_tag(c, tag, sizeof(tag)),
			nest_op_name(m.hdr.op), nest_errno_name(-r));
	dispatch_reply(c, &m.hdr, r, &rp);
	if (rp.fd >= 0)
		close(rp.fd);
	free(rp.json);
	free(rp.tail_owned);
	if (r == -EPERM || r == -EPROTO) {
		if (r == -EPROTO)
			d->stats.protocol_errors++;
		conn_close(c, r == -EPERM ? "operation not permitted" : "protocol error");
	}
}
