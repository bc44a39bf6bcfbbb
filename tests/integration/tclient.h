/* SPDX-License-Identifier: MIT */
/*
 * tclient.h - a small wire client and daemon launcher for nestd's integration tests.
 *
 * tc_*: speaks the protocol directly over SEQPACKET (nest-msg.h framing, nest-fds.h fds), so a
 * test can send anything, including malformed requests. Replies are matched by request id;
 * events that arrive in between are kept for tc_wait_event().
 * td_*: starts the real nestd binary on a private mkdtemp directory with a generated config.
 */
#ifndef NEST_TCLIENT_H
#define NEST_TCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nest-proto.h"

struct json_object;

#define TC_EVENTS_MAX 64

struct tc_event {
	uint16_t op;
	size_t len;
	uint8_t body[64];
};

struct tc {
	int fd;
	uint32_t next_id;
	uint8_t *buf; /* NEST_MSG_SIZE_MAX */
	struct tc_event ev[TC_EVENTS_MAX];
	unsigned n_ev;
	int last_fd; /* fd attached to the last reply, or -1 (owned by the test) */
};

/* Connect to @path (SOCK_SEQPACKET). NULL on failure. */
struct tc *tc_connect(const char *path);
void tc_free(struct tc *t);

/* HELLO with default caps (or @caps_json if non-NULL). Returns 0 or -errno. */
int tc_hello(struct tc *t);
int tc_hello_caps(struct tc *t, const char *caps_json);
/* HELLO announcing protocol minor @minor (the others send NEST_PROTO_MINOR). */
int tc_hello_minor(struct tc *t, uint16_t minor, const char *caps_json);

/* Send one request; *ret_id is its id. Returns 0 or -errno (send failure). */
int tc_send(struct tc *t, uint16_t op, const void *fixed, size_t flen, const void *tail,
	    size_t tlen, const int *fds, unsigned nfds, uint32_t *ret_id);
/* Send a raw, already framed datagram. */
int tc_send_raw(struct tc *t, const void *buf, size_t len);
/*
 * Wait for the reply to @id (up to 5 s). Returns the negated errno of an error reply, 0 for a
 * success reply (body copied to @body, *ret_len), -EPIPE if the connection closed, -ETIMEDOUT.
 */
int tc_reply(struct tc *t, uint32_t id, void *body, size_t cap, size_t *ret_len);
/* send + reply */
int tc_call(struct tc *t, uint16_t op, const void *fixed, size_t flen, const void *tail,
	    size_t tlen, const int *fds, unsigned nfds, void *body, size_t cap, size_t *ret_len);
/* Wait up to @ms for an event @op (already received ones first). 0 and body copied, or -errno. */
int tc_wait_event(struct tc *t, uint16_t op, void *body, size_t cap, int ms);
/* True if the peer has closed the connection (within @ms). */
bool tc_closed(struct tc *t, int ms);

/* Convenience wrappers over tc_call. */
int tc_attach(struct tc *t, const char *name, uint32_t flags, struct nest_vm_info *ret);
int tc_mem_add(struct tc *t, int fd, uint64_t gpa, uint64_t len, uint64_t off, uint32_t flags);
int tc_mem_remove(struct tc *t, uint64_t gpa, uint64_t len);
int tc_pasid_alloc(struct tc *t, uint32_t min, uint32_t max, uint32_t *ret_pasid);
int tc_pasid_alloc_g(struct tc *t, uint32_t min, uint32_t max, uint32_t gpasid, uint32_t *ret);
int tc_pasid_free(struct tc *t, uint32_t min, uint32_t max, uint32_t *ret_count);
int tc_bind(struct tc *t, uint32_t pasid, uint64_t gpgd, uint32_t aw, uint64_t vtd_flags);
int tc_unbind(struct tc *t, uint32_t pasid);
int tc_invalidate(struct tc *t, const struct nest_inv_entry *e, uint32_t n,
		  struct nest_invalidate_reply *ret);
int tc_dma(struct tc *t, uint32_t dev, uint32_t pasid, uint64_t addr, uint32_t flags, void *data,
	   uint32_t len, struct nest_sim_dma_reply *ret);
int tc_detach(struct tc *t, uint32_t flags);

/* Admin: send {"command": cmd, "args": args_json or {}}; *ret = result (or error doc). */
int tc_admin(struct tc *t, const char *cmd, const char *args_json, struct json_object **ret);

/* A sealed memfd of @size bytes (F_SEAL_SHRINK unless !seal). */
int tc_memfd(size_t size, bool seal);

/* ---- daemon launcher ---- */
struct td {
	const char *bin; /* the nestd binary to run; NULL (td_init): the build's nestd */
	pid_t pid;
	char dir[64];
	char conf[128];
	char sock[128];
	char admin[128];
	char notify[128]; /* "" unless td_notify_socket() was called before td_start() */
	int notify_fd;
	const char *env[8];   /* extra "K=V" for the daemon, NULL-terminated */
	unsigned nofile;      /* RLIMIT_NOFILE for the daemon, 0 = inherit */
	unsigned nofile_hard; /* its hard limit if not 0 (else the same as nofile) */
	int watchdog_pid;     /* 0: WATCHDOG_PID unset, -1: the daemon's own pid, else this pid */
	bool capture_stderr;  /* nestd's stderr goes to d->log (no journald), else /dev/null */
	char log[128];
};

/* mkdtemp + paths. */
void td_init(struct td *d);
/* Write @conf_body to d->conf (replacing the file). */
void td_write_conf(struct td *d, const char *conf_body);
/* Create a SOCK_DGRAM notify socket in d->dir; nestd gets NOTIFY_SOCKET. */
void td_notify_socket(struct td *d);
/* Receive one notify datagram (NUL-terminated into @buf) within @ms; -ETIMEDOUT. */
int td_notify_recv(struct td *d, char *buf, size_t cap, int ms);
/* Start nestd with the config and wait until both sockets accept. Returns 0 or -errno. */
int td_start(struct td *d);
/* SIGTERM, wait, return the exit status (or -1 if not exited normally); removes the dir. */
int td_stop(struct td *d);
/* Remove the directory (after td_stop, or when never started). */
void td_cleanup(struct td *d);
/* Number of open fds of the daemon. */
int td_fd_count(const struct td *d);
int td_fd_count_stable(const struct td *d); /* after it settled, see tclient.c */
/* A config with one [VM] per entry of @vms ("name:owner_uid:grace" ...); helpers for tests. */
const char *td_uid_str(void);

#endif /* NEST_TCLIENT_H */
