/* SPDX-License-Identifier: MIT */
/*
 * proto-sample.h - build a valid body for any op direction, for the table-driven tests.
 *
 * The fixed struct is filled with a non-zero byte pattern, then its size, flags (every valid
 * bit), reserved fields (zero) and tail-describing fields are made valid, and a valid tail is
 * appended. Tests then break exactly one thing at a time.
 */
#pragma once

#include <stdint.h>
#include <string.h>

#include "nest-msg.h"

#define SAMPLE_CAPS    "{\"software\":\"test\",\"max_fds\":2}"
#define SAMPLE_JSON    "{\"command\":\"status\"}"
#define SAMPLE_ENTRIES 2
#define SAMPLE_DATA    16
#define SAMPLE_NENTRY  8 /* bytes per NATIVE_ARRAY entry (the iommufd selftest mock's size) */

static inline void sample_put_u32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static inline uint32_t sample_get_u32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* The fixed part only (bd->size bytes), valid. */
static inline void sample_fixed(const struct nest_body_desc *bd, uint8_t *p)
{
	for (uint32_t i = 0; i < bd->size; i++)
		p[i] = (uint8_t)(0x21 + i * 7) | 1;
	sample_put_u32(p, 0, bd->size);
	if (bd->flags_valid != UINT32_MAX)
		sample_put_u32(p, 4, bd->flags_valid);
	for (unsigned i = 0; i < bd->nreserved; i++)
		memset(p + bd->reserved[i].off, 0, bd->reserved[i].len);
	if (bd->tail == NEST_TAIL_CAPS)
		sample_put_u32(p, offsetof(struct nest_hello, caps_len), sizeof(SAMPLE_CAPS));
	if (bd->tail == NEST_TAIL_ARRAY) {
		sample_put_u32(p, offsetof(struct nest_invalidate, entry_len),
			       sizeof(struct nest_inv_entry));
		sample_put_u32(p, offsetof(struct nest_invalidate, entry_num), SAMPLE_ENTRIES);
	}
	if (bd->tail == NEST_TAIL_BLOB || bd->tail == NEST_TAIL_VEVENT)
		sample_put_u32(p, bd->len_off, SAMPLE_DATA);
	if (bd->tail == NEST_TAIL_NATIVE_ARRAY) {
		sample_put_u32(p, offsetof(struct nest_invalidate_native, entry_len),
			       SAMPLE_NENTRY);
		sample_put_u32(p, offsetof(struct nest_invalidate_native, entry_num),
			       SAMPLE_ENTRIES);
	}
}

/* The tail that goes with sample_fixed(); returns its length. */
static inline size_t sample_tail(const struct nest_body_desc *bd, uint8_t *p)
{
	switch (bd->tail) {
	case NEST_TAIL_CAPS:
		memcpy(p, SAMPLE_CAPS, sizeof(SAMPLE_CAPS));
		return sizeof(SAMPLE_CAPS);
	case NEST_TAIL_JSON:
		memcpy(p, SAMPLE_JSON, sizeof(SAMPLE_JSON));
		return sizeof(SAMPLE_JSON);
	case NEST_TAIL_ARRAY:
		for (size_t i = 0; i < SAMPLE_ENTRIES; i++) {
			struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB,
						   .granularity = NEST_INV_GRANU_PASID,
						   .pasid = (uint32_t)(i + 1)};
			memcpy(p + i * sizeof(e), &e, sizeof(e));
		}
		return SAMPLE_ENTRIES * sizeof(struct nest_inv_entry);
	case NEST_TAIL_DATA:
	case NEST_TAIL_BLOB:
	case NEST_TAIL_VEVENT:
		for (size_t i = 0; i < SAMPLE_DATA; i++)
			p[i] = (uint8_t)(0xa0 + i);
		return SAMPLE_DATA;
	case NEST_TAIL_NATIVE_ARRAY:
		for (size_t i = 0; i < SAMPLE_ENTRIES * SAMPLE_NENTRY; i++)
			p[i] = (uint8_t)(0xc0 + i);
		return SAMPLE_ENTRIES * SAMPLE_NENTRY;
	default:
		return 0;
	}
}

/* A whole valid body: fixed part whose size field says @size (which may be shorter or longer
 * than bd->size; extra bytes are zero), then the tail. Returns the body length. */
static inline size_t sample_body_sized(const struct nest_body_desc *bd, uint32_t size, uint8_t *p)
{
	uint8_t fixed[512];

	if (bd->size == 0)
		return sample_tail(bd, p);
	memset(fixed, 0, sizeof(fixed));
	sample_fixed(bd, fixed);
	memcpy(p, fixed, size);
	sample_put_u32(p, 0, size);
	return size + sample_tail(bd, p + size);
}

static inline size_t sample_body(const struct nest_body_desc *bd, uint8_t *p)
{
	return sample_body_sized(bd, bd->size, p);
}
