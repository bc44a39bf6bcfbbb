/* SPDX-License-Identifier: MIT */
/*
 * fuzz-daemon.h - an in-process nestd for the fuzz targets that drive the daemon's request
 * handlers (fuzz-inval, fuzz-admin).
 *
 * fzd_start() builds a real daemon (nestd_new() with the sim backend, a config file in a fresh
 * temporary directory, its listeners bound there). fzd_client() opens a connection to it
 * through a socketpair: the daemon side is wrapped with conn_new() exactly as the listener
 * would after accept(), the test keeps the other end. fzd_call() sends one request on that end
 * and runs the daemon's event loop (non-blocking passes) until the reply is there, so every
 * request goes through the connection's own receive path (recvmmsg burst, framing, the
 * dispatcher's generic checks, the handler, the reply batch). Everything is single-threaded
 * and deterministic. A harness aborts on any inconsistency it sees (FZ_CHECK).
 */
#ifndef NEST_FUZZ_DAEMON_H
#define NEST_FUZZ_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nest-proto.h"

struct nestd;
struct conn;

#define FZ_CHECK(x)                                                                                \
	do {                                                                                       \
		if (!(x))                                                                          \
			fzd_fail(#x, __FILE__, __LINE__);                                          \
	} while (0)

/* A guest: @size bytes of memfd with x86-64 4-level tables at 0x1000 mapping FZD_GVA. */
#define FZD_MEM	 (2u << 20)
#define FZD_GPGD 0x1000u
#define FZD_GVA	 0x400000u
#define FZD_GPA	 0x100000u

struct fzd_client {
	int fd;		   /* the test's end */
	struct conn *conn; /* the daemon's connection (NULL once it closed) */
	uint64_t conn_id;
	uint32_t next_id;
	bool closed; /* the daemon closed it */
};

struct fzd_reply {
	struct nest_msg_hdr hdr;
	uint8_t body[NEST_MSG_SIZE_MAX];
	size_t body_len;
};

__attribute__((noreturn)) void fzd_fail(const char *what, const char *file, int line);

/* The daemon with @conf_body as its config (written to a temporary file). Aborts on failure. */
struct nestd *fzd_start(const char *conf_body);
struct nestd *fzd_daemon(void);
/* Run the loop until nothing is pending (timers aside). */
void fzd_pump(void);

/* A new connection of @kind (NEST_SOCK_VM / NEST_SOCK_ADMIN), HELLO done. Aborts on failure. */
void fzd_client_open(struct fzd_client *c, int kind);
/* Close the test's end and let the daemon see it. */
void fzd_client_close(struct fzd_client *c);
/*
 * One request; waits for its reply (events are skipped). Returns 0 with @rep filled, or -EPIPE
 * if the daemon closed the connection without a reply. @fd (or -1) goes along.
 */
int fzd_call(struct fzd_client *c, uint16_t op, const void *fixed, size_t flen, const void *tail,
	     size_t tlen, int fd, struct fzd_reply *rep);
/* fzd_call() that must succeed (no error reply); returns the body. */
const void *fzd_call_ok(struct fzd_client *c, uint16_t op, const void *fixed, size_t flen,
			const void *tail, size_t tlen, int fd, struct fzd_reply *rep);

/* Every 64th call: the process has no more fds than at the first call, give or take a few. */
void fzd_check_fds(void);

/* A sealed memfd of FZD_MEM bytes with guest tables: GVA 0x400000 + i pages -> GPA 0x100000 + i
 * pages, i < 16. */
int fzd_guest_memfd(void);

#endif /* NEST_FUZZ_DAEMON_H */
