/* SPDX-License-Identifier: MIT */
/*
 * invalidate.c - nest_invalidate(), nest_invalidate_native() and nest_viommu_invalidate(): split a batch into requests of
 * at most the negotiated max_batch entries (and the message size), send them pipelined, and fold
 * the replies back into one "entries done + first error" answer in the caller's order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client-internal.h"

/* Requests of one call tracked without an allocation (a batch up to 8 x max_batch entries). */
#define INV_CHUNKS_ON_STACK 8

struct inv_chunk {
	bool finished;
	int error; /* request-level -errno */
	uint32_t done;
	int first_error; /* -errno of entry `done` within the chunk, 0 if all done */
};

/* One batch: INVALIDATE (generic entries) or INVALIDATE_NATIVE (the kernel's entries). */
struct inv_batch {
	uint16_t op;
	size_t fixed_len; /* sizeof the request struct before the entries */
	const uint8_t *entries;
	uint32_t entry_len;
	size_t n;
	uint32_t hpasid;    /* INVALIDATE_NATIVE; VIOMMU_INVALIDATE: the vIOMMU id */
	uint32_t data_type; /* INVALIDATE_NATIVE, VIOMMU_INVALIDATE */
	uint32_t flags;	    /* INVALIDATE_NATIVE: NEST_INV_NATIVE_F_* */
};

static void inv_reply_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	struct inv_chunk *ch = opaque;
	const struct nest_invalidate_reply *rep = r->fixed;

	ch->finished = true;
	ch->error = r->error;
	if (r->error) {
		client_op_error(c, r->op, r->error, r->detail);
		return;
	}
	ch->done = rep->done;
	ch->first_error = rep->first_error > 0 ? -rep->first_error : 0;
}

/* Entries per request: the negotiated batch, bounded by what fits in one message. */
static size_t inv_chunk_entries(const nest_client *c, const struct inv_batch *b)
{
	size_t room = c->caps.max_msg_size - sizeof(struct nest_msg_hdr) - b->fixed_len;
	size_t n = room / b->entry_len;

	return n < c->caps.max_batch ? n : c->caps.max_batch;
}

static int inv_send_chunk(nest_client *c, uint8_t *body, const struct inv_batch *b, size_t first,
			  size_t n, struct inv_chunk *ch)
{
	if (b->op == NEST_OP_INVALIDATE) {
		struct nest_invalidate req = {
			.size = sizeof(req), .entry_len = b->entry_len, .entry_num = (uint32_t)n};

		memcpy(body, &req, sizeof(req));
	} else if (b->op == NEST_OP_VIOMMU_INVALIDATE) {
		struct nest_viommu_invalidate req = {.size = sizeof(req),
						     .entry_len = b->entry_len,
						     .entry_num = (uint32_t)n,
						     .viommu_id = b->hpasid,
						     .data_type = b->data_type};

		memcpy(body, &req, sizeof(req));
	} else {
		struct nest_invalidate_native req = {.size = sizeof(req),
						     .flags = b->flags,
						     .entry_len = b->entry_len,
						     .entry_num = (uint32_t)n,
						     .hpasid = b->hpasid,
						     .data_type = b->data_type};

		memcpy(body, &req, sizeof(req));
	}
	memcpy(body + b->fixed_len, b->entries + first * b->entry_len, n * b->entry_len);
	return nest_client_send_async(c, b->op, body, b->fixed_len + n * b->entry_len, NULL, 0,
				      inv_reply_cb, ch, NULL);
}

/* Fold the chunk results in order. */
static int inv_collect(nest_client *c, const struct inv_batch *b, const struct inv_chunk *chunks,
		       size_t nchunks, size_t per, size_t *ret_done, int *ret_first_error)
{
	size_t done = 0;
	int err = 0, first = 0;

	for (size_t i = 0; i < nchunks; i++) {
		size_t want = (i + 1 == nchunks) ? b->n - i * per : per;

		if (chunks[i].error) {
			err = chunks[i].error;
			break;
		}
		if (chunks[i].done > want) { /* more done than sent: not a reply we can trust */
			err = -EPROTO;
			client_set_error(c, EPROTO, "%s: nestd says %u entries done of %zu",
					 nest_op_name(b->op), chunks[i].done, want);
			break;
		}
		done += chunks[i].done;
		if (chunks[i].first_error || chunks[i].done < want) {
			first = chunks[i].first_error ? chunks[i].first_error : -EIO;
			err = first;
			client_set_error(c, first, "%s: entry %zu failed", nest_op_name(b->op),
					 done);
			break;
		}
	}
	if (ret_done)
		*ret_done = done;
	if (ret_first_error)
		*ret_first_error = first;
	return err;
}

static int inv_run(nest_client *c, const struct inv_batch *b, size_t *ret_done,
		   int *ret_first_error)
{
	struct inv_chunk few[INV_CHUNKS_ON_STACK] = {0}, *chunks = few;
	size_t per, nchunks, sent = 0;
	uint8_t *body = c->scratch; /* fixed_len + per * entry_len fits one message */
	int r = 0;

	per = inv_chunk_entries(c, b);
	nchunks = b->n ? (b->n + per - 1) / per : 0;
	if (nchunks > INV_CHUNKS_ON_STACK) {
		chunks = calloc(nchunks, sizeof(*chunks));
		if (!chunks)
			return -ENOMEM;
	}
	for (; sent < nchunks && r == 0; sent++) {
		size_t cnt = (sent + 1 == nchunks) ? b->n - sent * per : per;

		r = inv_send_chunk(c, body, b, sent * per, cnt, &chunks[sent]);
		if (r < 0)
			chunks[sent] = (struct inv_chunk){.finished = true, .error = r};
	}
	int64_t deadline = client_deadline(c);

	for (size_t i = 0; i < sent; i++)
		client_wait_done(c, deadline, &chunks[i].finished);
	r = inv_collect(c, b, chunks, sent, per, ret_done, ret_first_error);
	if (chunks != few)
		free(chunks);
	return r;
}

NEST_PUBLIC int nest_invalidate(nest_client *c, const struct nest_inv_entry *entries, size_t n,
				size_t *ret_done, int *ret_first_error)
{
	const struct inv_batch b = {.op = NEST_OP_INVALIDATE,
				    .fixed_len = sizeof(struct nest_invalidate),
				    .entries = (const uint8_t *)entries,
				    .entry_len = sizeof(struct nest_inv_entry),
				    .n = n};

	/* documented as always written, early failures included */
	if (ret_done)
		*ret_done = 0;
	if (ret_first_error)
		*ret_first_error = 0;
	if (!c || (n && !entries))
		return -EINVAL;
	if (c->dead)
		return c->dead;
	client_clear_error(c);
	return inv_run(c, &b, ret_done, ret_first_error);
}

/* INVALIDATE_NATIVE and VIOMMU_INVALIDATE: kernel entries, the same local checks. */
static int inv_kernel_entries(nest_client *c, const struct inv_batch *b, size_t *ret_done,
			      int *ret_first_error)
{
	if (ret_done)
		*ret_done = 0;
	if (ret_first_error)
		*ret_first_error = 0;
	if (!c || (b->n && !b->entries))
		return -EINVAL;
	if (c->dead)
		return c->dead;
	client_clear_error(c);
	/* the limits nestd applies (PROTOCOL.md §8.15), so a chunk size can be computed */
	if (b->entry_len < NEST_NATIVE_ENTRY_MIN) {
		client_set_error(c, 0, "%s: entry_len must be at least %u", nest_op_name(b->op),
				 NEST_NATIVE_ENTRY_MIN);
		return -EINVAL;
	}
	if (b->entry_len > NEST_NATIVE_ENTRY_MAX) {
		client_set_error(c, 0, "%s: entry_len must be at most %u", nest_op_name(b->op),
				 NEST_NATIVE_ENTRY_MAX);
		return -E2BIG;
	}
	return inv_run(c, b, ret_done, ret_first_error);
}

NEST_PUBLIC int nest_invalidate_native(nest_client *c, uint32_t hpasid, uint32_t data_type,
				       const void *entries, uint32_t entry_len, size_t n,
				       size_t *ret_done, int *ret_first_error)
{
	const struct inv_batch b = {.op = NEST_OP_INVALIDATE_NATIVE,
				    .fixed_len = sizeof(struct nest_invalidate_native),
				    .entries = entries,
				    .entry_len = entry_len,
				    .n = n,
				    .hpasid = hpasid,
				    .data_type = data_type};

	return inv_kernel_entries(c, &b, ret_done, ret_first_error);
}

NEST_PUBLIC int nest_invalidate_native_rid(nest_client *c, uint32_t data_type, const void *entries,
					   uint32_t entry_len, size_t n, size_t *ret_done,
					   int *ret_first_error)
{
	const struct inv_batch b = {.op = NEST_OP_INVALIDATE_NATIVE,
				    .fixed_len = sizeof(struct nest_invalidate_native),
				    .entries = entries,
				    .entry_len = entry_len,
				    .n = n,
				    .data_type = data_type,
				    .flags = NEST_INV_NATIVE_F_RID};

	return inv_kernel_entries(c, &b, ret_done, ret_first_error);
}

NEST_PUBLIC int nest_viommu_invalidate(nest_client *c, uint32_t viommu_id, uint32_t data_type,
				       const void *entries, uint32_t entry_len, size_t n,
				       size_t *ret_done, int *ret_first_error)
{
	const struct inv_batch b = {.op = NEST_OP_VIOMMU_INVALIDATE,
				    .fixed_len = sizeof(struct nest_viommu_invalidate),
				    .entries = entries,
				    .entry_len = entry_len,
				    .n = n,
				    .hpasid = viommu_id,
				    .data_type = data_type};

	return inv_kernel_entries(c, &b, ret_done, ret_first_error);
}
