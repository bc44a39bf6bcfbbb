/* SPDX-License-Identifier: MIT */
/*
 * uapi-assert.h - compile-time layout checks for the vendored kernel uAPI in kernel/uapi/.
 *
 * Every struct in kernel/uapi/ pins its size, its alignment and the offset and size of every
 * field with these macros, so a typo in a definition (or a system header that disagrees with the
 * one we checked against) fails the build instead of corrupting an ioctl argument at run time.
 * The expected numbers are the x86-64 (LP64) layout of the kernel sources named next to each
 * struct; see kernel/uapi/README.md for how they were measured.
 *
 *   NEST_UAPI_SIZE(type, size, align)      sizeof(type) == size, _Alignof(type) == align
 *   NEST_UAPI_FIELD(type, field, off, sz)  offsetof(type, field) == off, sizeof(field) == sz
 *   NEST_UAPI_FLEX(type, field, off)       offsetof(type, field) == off (flexible array member)
 *   NEST_UAPI_VALUE(expr, value)           (expr) == (value), for ioctl numbers and constants
 *
 * `field` may be a member designator such as `vendor.vtd.flags` or `range.min`.
 */
#ifndef NEST_UAPI_ASSERT_H
#define NEST_UAPI_ASSERT_H

#include <stddef.h>

#define NEST_UAPI_SIZE(type, size, align)                                                          \
	_Static_assert(sizeof(type) == (size), "uapi: sizeof(" #type ") != " #size);               \
	_Static_assert(_Alignof(type) == (align), "uapi: _Alignof(" #type ") != " #align)

#define NEST_UAPI_FIELD(type, field, off, sz)                                                      \
	_Static_assert(offsetof(type, field) == (off),                                             \
		       "uapi: offsetof(" #type ", " #field ") != " #off);                          \
	_Static_assert(sizeof(((type *)0)->field) == (sz),                                         \
		       "uapi: sizeof(" #type "." #field ") != " #sz)

#define NEST_UAPI_FLEX(type, field, off)                                                           \
	_Static_assert(offsetof(type, field) == (off),                                             \
		       "uapi: offsetof(" #type ", " #field ") != " #off)

#define NEST_UAPI_VALUE(expr, value) _Static_assert((expr) == (value), "uapi: " #expr " != " #value)

#endif /* NEST_UAPI_ASSERT_H */
