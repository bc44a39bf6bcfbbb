/* SPDX-License-Identifier: MIT */
/*
 * nest-msg.h - message framing, the op table and the generic validation rules. No I/O.
 *
 * Every check that does not depend on daemon state is here, so that nestd, libnest, nestctl and
 * the fuzzer all apply exactly the same rules (STYLE.md R4/R5).
 */
#ifndef NEST_MSG_H
#define NEST_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "nest-proto.h"

enum nest_sock_kind {
	NEST_SOCK_VM = 1u << 0,
	NEST_SOCK_ADMIN = 1u << 1,
};

/* What follows the fixed struct of a body. */
enum nest_tail_kind {
	NEST_TAIL_NONE = 0,  /* body == fixed struct (size field) exactly */
	NEST_TAIL_CAPS = 1,  /* HELLO: caps_len bytes of NUL-terminated JSON */
	NEST_TAIL_ARRAY = 2, /* INVALIDATE: entry_num x entry_len entries */
	NEST_TAIL_DATA = 3,  /* SIM_DMA: write data (request) / read data (reply) */
	NEST_TAIL_JSON = 4,  /* ADMIN: the whole body is NUL-terminated JSON, no fixed struct */
	NEST_TAIL_BLOB = 5,  /* BIND_NATIVE, VIOMMU_ATTACH: exactly data_len bytes, 1 .. 256 */
	NEST_TAIL_NATIVE_ARRAY = 6, /* INVALIDATE_NATIVE, VIOMMU_INVALIDATE: kernel entries */
	NEST_TAIL_VEVENT = 7, /* EV_VEVENT: exactly data_len bytes, 0 .. NEST_VEVENT_DATA_MAX */
};

/* A byte range inside a fixed struct that must be zero (a __reserved field). */
struct nest_field {
	uint16_t off;
	uint16_t len;
};

#define NEST_DESC_RESERVED_MAX 3

/* The shape of one direction (request, reply or event body) of an op. */
struct nest_body_desc {
	uint32_t size;	      /* sizeof(the struct this build knows); 0: no fixed struct */
	uint32_t min_size;    /* offsetofend(last mandatory field) */
	uint32_t flags_valid; /* mask for the u32 flags at offset 4; UINT32_MAX: no flags field */
	uint8_t min_fds;
	uint8_t max_fds;
	uint8_t tail; /* enum nest_tail_kind */
	uint8_t nreserved;
	struct nest_field reserved[NEST_DESC_RESERVED_MAX];
	/* BLOB, VEVENT: offset of the u32 data_len field in the fixed struct (op-specific) */
	uint16_t len_off;
};

struct nest_op_desc {
	const char *name; /* "HELLO", "BIND", ... */
	uint16_t op;
	uint8_t sockets; /* enum nest_sock_kind mask; 0 for events */
	uint8_t is_event;
	struct nest_body_desc req;   /* events: the event body */
	struct nest_body_desc reply; /* success reply; size 0 and tail NONE: empty body */
};

/* The op table, indexed by op; entries with name == NULL are holes. */
extern const struct nest_op_desc nest_op_table[NEST_OP_MAX];

/* The descriptor of @op, or NULL if @op is not a known op or event. */
const struct nest_op_desc *nest_op_desc(uint32_t op);
const char *nest_op_name(uint32_t op); /* "UNKNOWN" for holes */

/* Short symbolic name of a positive errno ("ENOENT"), or "E?" if not in the vocabulary. */
const char *nest_errno_name(int err);
const char *nest_fault_reason_name(uint32_t reason); /* "pte-not-present", ... */

/* A received (or to be sent) message, pointing into a caller buffer. */
struct nest_msg {
	struct nest_msg_hdr hdr;
	const uint8_t *body;
	size_t body_len;
};

/*
 * nest_msg_parse() - check the framing of one datagram of @len bytes.
 * Checks: len >= header, hdr.size == len, len <= max_size, exactly one type bit, no unknown
 * flag bits, ERROR only on replies, error != 0 iff ERROR, 0 < error < 4096.
 * Returns 0 or -EPROTO (the connection must be closed). The op is NOT checked here: an unknown op
 * on a well-framed request is answered with ENOTTY by the dispatcher.
 */
int nest_msg_parse(const void *buf, size_t len, size_t max_size, struct nest_msg *ret);

/* The decoded variable part that follows a fixed struct. Pointers into the message body. */
struct nest_tail {
	const uint8_t *ptr;
	size_t len;
	uint32_t entry_len; /* ARRAY and NATIVE_ARRAY only */
	uint32_t entry_num; /* ARRAY and NATIVE_ARRAY only */
};

/*
 * nest_body_decode() - apply the extension rules of @bd to a body.
 * @dst: a buffer of at least bd->size bytes; receives the zero-extended fixed struct (its `size`
 *       field is rewritten to bd->size, so handlers see the full struct).
 * Order of checks: body_len >= 4 and size field present (EINVAL), size < min_size (EINVAL),
 * size > body_len (EINVAL), non-zero bytes beyond bd->size within size (E2BIG), unknown flags
 * (EOPNOTSUPP), non-zero reserved fields (EOPNOTSUPP), then the tail: CAPS/JSON must be
 * NUL-terminated exactly at the end with no earlier NUL (EINVAL) and within their limits
 * (E2BIG); ARRAY: entry_len < NEST_INV_ENTRY_MIN or entry_num == 0 (EINVAL), entry_num *
 * entry_len overflowing 32 bits (EOVERFLOW), inexact fit (EINVAL); DATA: longer than
 * NEST_DMA_LEN_MAX (E2BIG; the exact length is the op's business); BLOB (data_len at the desc's
 * len_off): data_len 0 (EINVAL),
 * data_len > NEST_NATIVE_DATA_MAX (E2BIG), tail length != data_len (EINVAL); NATIVE_ARRAY:
 * entry_len < NEST_NATIVE_ENTRY_MIN or entry_num == 0 (EINVAL), entry_len >
 * NEST_NATIVE_ENTRY_MAX (E2BIG), then as ARRAY; VEVENT: data_len > NEST_VEVENT_DATA_MAX (E2BIG),
 * tail length != data_len (EINVAL); NONE: trailing bytes after size (EINVAL). A desc with size 0 has no fixed struct: the whole body is the tail, @dst is not
 * used (may be NULL), and for tail NONE the body must be empty.
 * @ret_tail (may be NULL) and @dst are meaningful only on success.
 * Returns 0 or a negative errno from the vocabulary.
 */
int nest_body_decode(const struct nest_body_desc *bd, const void *body, size_t body_len, void *dst,
		     struct nest_tail *ret_tail);

/* nest_array_entry() of an entry whose size differs from @dst_size, or out of range. */
int nest_array_entry_resize(const struct nest_tail *t, uint32_t i, void *dst, size_t dst_size);

/*
 * nest_array_entry() - copy entry @i of an ARRAY tail into @dst (zero-extended to @dst_size).
 * Returns 0, -E2BIG when the entry has non-zero bytes beyond @dst_size (@dst untouched), or
 * -EINVAL if @i >= entry_num. Inline: entries of the receiver's own size (the usual case) are a
 * plain copy, of a constant size where the caller's @dst_size is one.
 */
static inline int nest_array_entry(const struct nest_tail *t, uint32_t i, void *dst,
				   size_t dst_size)
{
	if (t->entry_len != dst_size || i >= t->entry_num)
		return nest_array_entry_resize(t, i, dst, dst_size);
	memcpy(dst, t->ptr + (size_t)i * dst_size, dst_size);
	return 0;
}

/*
 * nest_msg_encode() - lay out header + @fixed + @tail into @buf.
 * @hdr supplies op, flags, id and error; its size is computed. Returns the total length, or
 * -EMSGSIZE if it does not fit in @cap.
 */
ssize_t nest_msg_encode(void *buf, size_t cap, const struct nest_msg_hdr *hdr, const void *fixed,
			size_t fixed_len, const void *tail, size_t tail_len);

/* True if every byte of @p[0..len) is zero. */
bool nest_mem_is_zero(const void *p, size_t len);

/*
 * Cache-type x granularity validity (PROTOCOL.md): DOMAIN x DEV_IOTLB and ADDR x PASID-cache are
 * invalid; with several cache bits set, each must support the granularity.
 * nest_inv_entry_check() checks one entry completely: cache mask non-zero and known, granularity
 * known, flags known, reserved zero, LEAF only with ADDR, ADDR: granule_size power of two
 * >= 4096, nb_granules >= 1, addr aligned to granule_size, addr + size no wrap (EOVERFLOW),
 * PASID: 1 <= pasid <= NEST_PASID_MAX; ADDR: pasid 0 (every PASID of the VM, the seed uAPI's
 * IOMMU_INV_ADDR_FLAGS_PASID clear) or 1..NEST_PASID_MAX; fields the granularity does not use (DOMAIN: pasid,
 * addr, granule_size, nb_granules; PASID: addr, granule_size, nb_granules) must be 0 (EINVAL).
 * The order of checks is the one in PROTOCOL.md §9.3. Returns 0 or -EINVAL/-EOPNOTSUPP/-EOVERFLOW.
 */
bool nest_inv_valid_combo(uint8_t cache, uint8_t granularity);
int nest_inv_entry_check(const struct nest_inv_entry *e);

/* A checked entry that applies to every PASID of the VM: DOMAIN, or ADDR without a PASID. */
static inline bool nest_inv_all_pasids(const struct nest_inv_entry *e)
{
	return e->granularity == NEST_INV_GRANU_DOMAIN ||
	       (e->granularity == NEST_INV_GRANU_ADDR && e->pasid == 0);
}

#endif /* NEST_MSG_H */
