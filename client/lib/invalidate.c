/* SPDX-License-Identifier: MIT */
/*
 * invalidate.c - nest_invalidate(): split a batch into requests of at most the negotiated
 * max_batch entries (and the message size), send them pipelined, and fold the replies back into
 * one "entries done + first error" answer in the caller's order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client-internal.h"

struct inv_chunk {
	bool finished;
	int error; /* request-level -errno */
	uint32_t done;
	int first_error; /* -errno of entry `done` within the chunk, 0 if all done */
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
static size_t inv_chunk_entries(const nest_client *c)
{
	size_t room =
		c->caps.max_msg_size - sizeof(struct nest_msg_hdr) - sizeof(struct nest_invalidate);
	size_t n = room / sizeof(struct nest_inv_entry);

	return n < c->caps.max_batch ? n : c->caps.max_batch;
}

static int inv_send_chunk(nest_client *c, uint8_t *body, const struct nest_inv_entry *e, size_t n,
			  struct inv_chunk *ch)
{
	struct nest_invalidate req = {.size = sizeof(req),
				      .entry_len = sizeof(struct nest_inv_entry),
				      .entry_num = (uint32_t)n};

	memcpy(body, &req, sizeof(req));
	memcpy(body + sizeof(req), e, n * sizeof(*e));
	return nest_client_send_async(c, NEST_OP_INVALIDATE, body, sizeof(req) + n * sizeof(*e),
				      NULL, 0, inv_reply_cb, ch, NULL);
}

/* Fold the chunk results in order. */
static int inv_collect(nest_client *c, const struct inv_chunk *chunks, size_t nchunks, size_t per,
		       size_t n, size_t *ret_done, int *ret_first_error)
{
	size_t done = 0;
	int err = 0, first = 0;

	for (size_t i = 0; i < nchunks; i++) {
		size_t want = (i + 1 == nchunks) ? n - i * per : per;

		if (chunks[i].error) {
			err = chunks[i].error;
			break;
		}
		done += chunks[i].done;
		if (chunks[i].first_error || chunks[i].done < want) {
			first = chunks[i].first_error ? chunks[i].first_error : -EIO;
			err = first;
			client_set_error(c, first, "INVALIDATE: entry %zu failed", done);
			break;
		}
	}
	if (ret_done)
		*ret_done = done;
	if (ret_first_error)
		*ret_first_error = first;
	return err;
}

NEST_PUBLIC int nest_invalidate(nest_client *c, const struct nest_inv_entry *entries, size_t n,
				size_t *ret_done, int *ret_first_error)
{
	struct inv_chunk *chunks;
	size_t per, nchunks, sent = 0;
	uint8_t *body;
	int r = 0;

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
	per = inv_chunk_entries(c);
	nchunks = n ? (n + per - 1) / per : 0;
	chunks = calloc(nchunks ? nchunks : 1, sizeof(*chunks));
	body = malloc(sizeof(struct nest_invalidate) + per * sizeof(struct nest_inv_entry));
	if (!chunks || !body) {
		free(chunks);
		free(body);
		return -ENOMEM;
	}
	for (; sent < nchunks && r == 0; sent++) {
		size_t cnt = (sent + 1 == nchunks) ? n - sent * per : per;

		r = inv_send_chunk(c, body, entries + sent * per, cnt, &chunks[sent]);
		if (r < 0)
			chunks[sent] = (struct inv_chunk){.finished = true, .error = r};
	}
	for (size_t i = 0; i < sent; i++) {
		while (!chunks[i].finished) {
			r = nest_client_wait(c, -1);
			if (r < 0)
				client_kill(c, r); /* completes every chunk still pending */
		}
	}
	r = inv_collect(c, chunks, sent, per, n, ret_done, ret_first_error);
	free(body);
	free(chunks);
	return r;
}
