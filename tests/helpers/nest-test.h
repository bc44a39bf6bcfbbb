/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the Criterion test suites.
 *
 * NO_LEAKS(): Criterion does not fail a test on a LeakSanitizer report (ECOSYSTEM.md §4), so
 * every test that allocates ends with NO_LEAKS(), which runs a recoverable leak check under
 * ASan and fails the test if anything leaked. Without ASan it is a no-op.
 */
#pragma once

#include <criterion/criterion.h>

#if defined(__SANITIZE_ADDRESS__)
#define NEST_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NEST_HAVE_LSAN 1
#endif
#endif

#ifdef NEST_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#define NO_LEAKS()                                                                                 \
	cr_assert(__lsan_do_recoverable_leak_check() == 0, "memory leaked (see LSan report)")
#else
#define NO_LEAKS() ((void)0)
#endif

/* Number of open fds of this process (counts /proc/self/fd entries, minus the dir fd itself). */
int nest_test_count_fds(void);
