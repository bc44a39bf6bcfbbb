/* SPDX-License-Identifier: MIT */
/*
 * bench-raw.h - a pipelined client that speaks nestd's wire protocol itself on a connection
 * libnest set up (HELLO, VM_ATTACH, ...): requests written with send(), replies read with recv(),
 * one new request per reply, exactly as bench-echo.h's pipelined client does against the echo.
 * Against the echo's figure it gives nestd's own share of a pipelined round trip, without
 * libnest's.
 */
#ifndef NEST_BENCH_RAW_H
#define NEST_BENCH_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "bench-util.h"

/*
 * @depth requests of @op with @body (@len bytes) in flight on @fd (no request of libnest's may
 * be in flight) for @window seconds; every reply must be a successful reply of @op, and with
 * @check_done an INVALIDATE reply that says its one entry was done.
 */
int bench_raw_run(int fd, uint16_t op, const void *body, size_t len, unsigned depth, int check_done,
		  double window, struct bench_sample *ret);

#endif /* NEST_BENCH_RAW_H */
