/* SPDX-License-Identifier: MIT */
/*
 * dispatch.h - the op table of nestd and the handler interface (STYLE.md R4).
 *
 * dispatch_message() does every generic check before a handler runs, in this order: framing
 * (nest_msg_parse: EPROTO closes), op known on this socket (ENOTTY unknown, EPERM wrong socket),
 * permitted in the connection's state (EPERM: before HELLO only HELLO; VM ops need an attached
 * VM), requests in flight below the negotiated limit (EAGAIN), fd count (EINVAL), body shape
 * (nest_body_decode: EINVAL/E2BIG/EOPNOTSUPP). A handler gets the zero-extended fixed struct.
 * An EPERM or EPROTO result closes the connection after the error reply (R18).
 */
#ifndef NESTD_DISPATCH_H
#define NESTD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "nest-msg.h"

struct conn;

struct op_req {
	const struct nest_msg *m;
	const void *req; /* zero-extended fixed struct of the op (NULL for ADMIN) */
	struct nest_tail tail;
	int *fds; /* a handler takes one by setting the slot to -1; the rest is closed after */
	unsigned nfds;
};

struct op_reply {
	union {
		uint64_t align;
		uint8_t fixed[128];
	};
	size_t fixed_len;
	const void *tail;
	size_t tail_len;
	int fd;		  /* -1, or an fd that moves into the reply */
	void *tail_owned; /* malloc()ed buffer behind @tail, freed by the dispatcher */
	char *json;	  /* ADMIN: malloc()ed result document (freed by the dispatcher) */
	char err[256];	  /* ADMIN: human readable error message, "" if none */
};

typedef int (*op_handler)(struct conn *c, struct op_req *rq, struct op_reply *rp);

/* Handle one received datagram. @fds (nfds of them) are consumed. */
void dispatch_message(struct conn *c, const uint8_t *buf, size_t len, int *fds, unsigned nfds);
/* A request whose fds nestd could not receive (it was out of fds): EMFILE, the connection stays. */
void dispatch_refuse_fd_short(struct conn *c, const uint8_t *buf, size_t len);

/* Handlers (one file per object family). */
int op_vm_attach(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_vm_detach(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_mem_add(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_mem_remove(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_device_get(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_pasid_alloc(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_pasid_free(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_bind(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_unbind(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_invalidate(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_bind_native(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_invalidate_native(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_page_response(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_viommu_alloc(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_viommu_free(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_vdevice_alloc(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_viommu_invalidate(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_viommu_attach(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_viommu_detach(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_vm_iova_info(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_device_put(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_device_hot_reset(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_sim_dma(struct conn *c, struct op_req *rq, struct op_reply *rp);
int op_admin(struct conn *c, struct op_req *rq, struct op_reply *rp);

/* Set the fixed reply struct (size field set to @len). */
void op_reply_set(struct op_reply *rp, const void *fixed, size_t len);

#endif /* NESTD_DISPATCH_H */
