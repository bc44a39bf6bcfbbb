/* SPDX-License-Identifier: MIT */
/*
 * msg.c - framing and the extension rules (STYLE.md R5). Pure functions, no I/O, no allocation:
 * everything here runs on untrusted bytes and is fuzzed (tests/fuzz/fuzz-msg.c).
 */
#include <errno.h>
#include <string.h>

#include "nest-msg.h"

#define NEST_ERRNO_LIMIT 4096

bool nest_mem_is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static uint32_t msg_get_u32(const void *p, size_t off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)p + off, sizeof(v)); /* bodies may be unaligned */
	return v;
}

int nest_msg_parse(const void *buf, size_t len, size_t max_size, struct nest_msg *ret)
{
	struct nest_msg_hdr h;
	unsigned type;

	if (!buf || len < sizeof(h) || len > max_size)
		return -EPROTO;
	memcpy(&h, buf, sizeof(h));
	if (h.size != len)
		return -EPROTO;
	if (h.flags & ~NEST_MSG_F_VALID)
		return -EPROTO;
	type = h.flags & NEST_MSG_F_TYPE_MASK;
	if (type == 0 || (type & (type - 1)) != 0) /* exactly one type bit */
		return -EPROTO;
	if ((h.flags & NEST_MSG_F_ERROR) && !(h.flags & NEST_MSG_F_REPLY))
		return -EPROTO;
	if (!!(h.flags & NEST_MSG_F_ERROR) != (h.error != 0))
		return -EPROTO;
	if (h.error < 0 || h.error >= NEST_ERRNO_LIMIT)
		return -EPROTO;

	ret->hdr = h;
	ret->body = (const uint8_t *)buf + sizeof(h);
	ret->body_len = len - sizeof(h);
	return 0;
}

/* A NUL-terminated text tail: exactly one NUL, the last byte. */
static int msg_check_text(const uint8_t *p, size_t len, size_t max)
{
	if (len == 0 || p[len - 1] != '\0' || memchr(p, '\0', len - 1))
		return -EINVAL;
	if (len > max)
		return -E2BIG;
	return 0;
}

/* Validate the part after the fixed struct; @fixed is the already zero-extended struct. */
static int msg_decode_tail(const struct nest_body_desc *bd, const uint8_t *fixed, const uint8_t *p,
			   size_t len, struct nest_tail *t)
{
	uint32_t entry_len, entry_num, total;

	*t = (struct nest_tail){.ptr = p, .len = len};
	if (!fixed && bd->tail != NEST_TAIL_NONE && bd->tail != NEST_TAIL_JSON &&
	    bd->tail != NEST_TAIL_DATA)
		return -EINVAL; /* a desc bug: these tails are described by the fixed struct */
	switch (bd->tail) {
	case NEST_TAIL_NONE:
		return len == 0 ? 0 : -EINVAL;
	case NEST_TAIL_CAPS:
		if (len != msg_get_u32(fixed, offsetof(struct nest_hello, caps_len)))
			return -EINVAL;
		return msg_check_text(p, len, NEST_CAPS_LEN_MAX);
	case NEST_TAIL_JSON:
		return msg_check_text(p, len, NEST_JSON_LEN_MAX);
	case NEST_TAIL_DATA:
		return len <= NEST_DMA_LEN_MAX ? 0 : -E2BIG;
	case NEST_TAIL_ARRAY:
		entry_len = msg_get_u32(fixed, offsetof(struct nest_invalidate, entry_len));
		entry_num = msg_get_u32(fixed, offsetof(struct nest_invalidate, entry_num));
		if (entry_len < NEST_INV_ENTRY_MIN || entry_num == 0)
			return -EINVAL;
		if (__builtin_mul_overflow(entry_num, entry_len, &total))
			return -EOVERFLOW;
		if (total != len)
			return -EINVAL;
		t->entry_len = entry_len;
		t->entry_num = entry_num;
		return 0;
	case NEST_TAIL_BLOB:
		if (bd->len_off + sizeof(uint32_t) > bd->size)
			return -EINVAL; /* a desc bug */
		total = msg_get_u32(fixed, bd->len_off);
		if (total == 0)
			return -EINVAL;
		if (total > NEST_NATIVE_DATA_MAX)
			return -E2BIG;
		return total == len ? 0 : -EINVAL;
	case NEST_TAIL_NATIVE_ARRAY:
		entry_len = msg_get_u32(fixed, offsetof(struct nest_invalidate_native, entry_len));
		entry_num = msg_get_u32(fixed, offsetof(struct nest_invalidate_native, entry_num));
		if (entry_len < NEST_NATIVE_ENTRY_MIN || entry_num == 0)
			return -EINVAL;
		if (entry_len > NEST_NATIVE_ENTRY_MAX)
			return -E2BIG;
		if (__builtin_mul_overflow(entry_num, entry_len, &total))
			return -EOVERFLOW;
		if (total != len)
			return -EINVAL;
		t->entry_len = entry_len;
		t->entry_num = entry_num;
		return 0;
	case NEST_TAIL_VEVENT:
		if (bd->len_off + sizeof(uint32_t) > bd->size)
			return -EINVAL; /* a desc bug */
		total = msg_get_u32(fixed, bd->len_off);
		if (total > NEST_VEVENT_DATA_MAX)
			return -E2BIG;
		return total == len ? 0 : -EINVAL;
	}
	return -EINVAL; /* a table bug; never reached with nest_op_table */
}

/* Check flags and __reserved fields of the zero-extended struct. */
static int msg_check_known(const struct nest_body_desc *bd, const uint8_t *fixed)
{
	if (bd->flags_valid != UINT32_MAX && bd->size >= 8 &&
	    (msg_get_u32(fixed, 4) & ~bd->flags_valid))
		return -EOPNOTSUPP;
	for (unsigned i = 0; i < bd->nreserved && i < NEST_DESC_RESERVED_MAX; i++) {
		const struct nest_field *f = &bd->reserved[i];

		if (f->off + f->len <= bd->size && !nest_mem_is_zero(fixed + f->off, f->len))
			return -EOPNOTSUPP;
	}
	return 0;
}

int nest_body_decode(const struct nest_body_desc *bd, const void *body, size_t body_len, void *dst,
		     struct nest_tail *ret_tail)
{
	const uint8_t *b = body;
	uint8_t *d = dst;
	struct nest_tail t;
	uint32_t size;
	int r;

	if (bd->size == 0) { /* no fixed struct: the whole body is the tail */
		r = msg_decode_tail(bd, NULL, b, body_len, &t);
		if (r == 0 && ret_tail)
			*ret_tail = t;
		return r;
	}
	if (body_len < sizeof(uint32_t))
		return -EINVAL;
	size = msg_get_u32(b, 0);
	if (size < bd->min_size || size < sizeof(uint32_t) || size > body_len)
		return -EINVAL;
	if (size > bd->size && !nest_mem_is_zero(b + bd->size, size - bd->size))
		return -E2BIG;

	memset(d, 0, bd->size);
	memcpy(d, b, size < bd->size ? size : bd->size);
	memcpy(d, &bd->size, sizeof(uint32_t)); /* handlers see the full struct */

	r = msg_check_known(bd, d);
	if (r < 0)
		return r;
	r = msg_decode_tail(bd, d, b + size, body_len - size, &t);
	if (r == 0 && ret_tail)
		*ret_tail = t;
	return r;
}

int nest_array_entry_resize(const struct nest_tail *t, uint32_t i, void *dst, size_t dst_size)
{
	const uint8_t *e;
	size_t n;

	if (i >= t->entry_num)
		return -EINVAL;
	e = t->ptr + (size_t)i * t->entry_len;
	n = t->entry_len < dst_size ? t->entry_len : dst_size;
	if (t->entry_len > dst_size && !nest_mem_is_zero(e + dst_size, t->entry_len - dst_size))
		return -E2BIG;
	memcpy(dst, e, n);
	memset((uint8_t *)dst + n, 0, dst_size - n);
	return 0;
}

ssize_t nest_msg_encode(void *buf, size_t cap, const struct nest_msg_hdr *hdr, const void *fixed,
			size_t fixed_len, const void *tail, size_t tail_len)
{
	struct nest_msg_hdr h = *hdr;
	uint8_t *p = buf;
	size_t total;

	if (__builtin_add_overflow(sizeof(h), fixed_len, &total) ||
	    __builtin_add_overflow(total, tail_len, &total))
		return -EMSGSIZE;
	if (total > cap || total > UINT32_MAX)
		return -EMSGSIZE;
	h.size = (uint32_t)total;
	memcpy(p, &h, sizeof(h));
	if (fixed_len)
		memcpy(p + sizeof(h), fixed, fixed_len);
	if (tail_len)
		memcpy(p + sizeof(h) + fixed_len, tail, tail_len);
	return (ssize_t)total;
}
