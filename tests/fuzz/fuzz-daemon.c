/* SPDX-License-Identifier: MIT */
/*
 * fuzz-daemon.c - the in-process nestd of fuzz-inval and fuzz-admin (see fuzz-daemon.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "fuzz-daemon.h"
#include "log.h"
#include "nest-caps.h"
#include "nest-fds.h"
#include "nest-msg.h"
#include "nestd.h"
#include "peer.h"

static struct {
	struct nestd *d;
	char dir[64];
	char conf[128], sock[128], admin[128];
	uint8_t *txbuf;
} fzd;

void fzd_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "fuzz invariant broken: %s (%s:%d)\n", what, file, line);
	abort();
}

struct nestd *fzd_daemon(void)
{
	return fzd.d;
}

/* The daemon's files go at exit (the daemon itself lives until then: not a per-input leak). */
static void fzd_cleanup(void)
{
	unlink(fzd.sock);
	unlink(fzd.admin);
	unlink(fzd.conf);
	rmdir(fzd.dir);
}

struct nestd *fzd_start(const char *conf_body)
{
	struct nestd_config *cfg = NULL;
	struct nestd_args args;
	char err[512] = "";
	FILE *f;

	if (fzd.d)
		return fzd.d;
	snprintf(fzd.dir, sizeof(fzd.dir), "/tmp/nest-fuzzd.XXXXXX");
	FZ_CHECK(mkdtemp(fzd.dir) != NULL);
	snprintf(fzd.conf, sizeof(fzd.conf), "%s/nestd.conf", fzd.dir);
	snprintf(fzd.sock, sizeof(fzd.sock), "%s/nestd.sock", fzd.dir);
	snprintf(fzd.admin, sizeof(fzd.admin), "%s/admin.sock", fzd.dir);
	f = fopen(fzd.conf, "w");
	FZ_CHECK(f != NULL);
	fputs(conf_body, f);
	FZ_CHECK(fclose(f) == 0);
	log_set_level(LOG_ERR); /* audit records are folded by the config's AuditRate= */
	if (nestd_config_load(fzd.conf, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz daemon config: %s\n", err);
		abort();
	}
	args = (struct nestd_args){
		.config_path = fzd.conf,
		.socket_path = fzd.sock,
		.admin_path = fzd.admin,
		.log_level = LOG_ERR,
	};
	atexit(fzd_cleanup);
	FZ_CHECK(nestd_new(&args, cfg, &fzd.d) == 0);
	fzd.txbuf = malloc(NEST_MSG_SIZE_MAX);
	FZ_CHECK(fzd.txbuf != NULL);
	return fzd.d;
}

void fzd_pump(void)
{
	for (int i = 0; i < 4; i++)
		event_base_loop(fzd.d->base, EVLOOP_NONBLOCK);
}

static struct conn *fzd_find_conn(uint64_t id)
{
	struct conn *c;

	TAILQ_FOREACH(c, &fzd.d->conns, link)
	if (c->id == id)
		return c;
	return NULL;
}

void fzd_client_open(struct fzd_client *c, int kind)
{
	struct nest_hello h = {
		.size = sizeof(h), .major = NEST_PROTO_MAJOR, .minor = NEST_PROTO_MINOR};
	static struct fzd_reply rep;
	struct peer p = {0};
	struct nest_caps caps;
	char cj[NEST_CAPS_LEN_MAX];
	size_t cl;
	int sv[2], bufsz = 4 << 20;

	FZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	FZ_CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	FZ_CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	FZ_CHECK(peer_from_socket(sv[0], &p) == 0);
	FZ_CHECK(conn_new(fzd.d, sv[0], (enum nest_sock_kind)kind, &p, &c->conn) == 0);
	c->conn_id = c->conn->id;
	c->fd = sv[1];
	c->next_id = 1;
	c->closed = false;
	nest_caps_init(&caps);
	snprintf(caps.software, sizeof(caps.software), "fuzz");
	caps.max_batch = NEST_BATCH_MAX;
	FZ_CHECK(nest_caps_format(&caps, cj, sizeof(cj), &cl) == 0);
	h.caps_len = (uint32_t)cl;
	fzd_call_ok(c, NEST_OP_HELLO, &h, sizeof(h), cj, cl, -1, &rep);
}

void fzd_client_close(struct fzd_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	fzd_pump();
	c->conn = NULL;
	c->closed = true;
}

static int fzd_recv_reply(struct fzd_client *c, uint32_t id, struct fzd_reply *rep)
{
	for (;;) {
		int fds[NEST_FDS_PER_MSG_MAX];
		unsigned nfds = 0;
		ssize_t n = nest_fds_recv(c->fd, fzd.txbuf, NEST_MSG_SIZE_MAX, fds,
					  NEST_FDS_PER_MSG_MAX, &nfds, MSG_DONTWAIT);
		struct nest_msg m;

		if (n == -EAGAIN)
			return -EAGAIN;
		if (n == 0) {
			c->closed = true;
			return -EPIPE;
		}
		FZ_CHECK(n > 0);
		/* what nestd sends is well formed, whatever it was asked */
		FZ_CHECK(nest_msg_parse(fzd.txbuf, (size_t)n, NEST_MSG_SIZE_MAX, &m) == 0);
		nest_fds_close(fds, nfds); /* a DEVICE_GET reply's fd: not needed here */
		if (m.hdr.flags & NEST_MSG_F_EVENT)
			continue;
		FZ_CHECK(m.hdr.flags & NEST_MSG_F_REPLY);
		FZ_CHECK(m.hdr.id == id); /* one request at a time: the next reply is its reply */
		rep->hdr = m.hdr;
		rep->body_len = m.body_len;
		memcpy(rep->body, m.body, m.body_len);
		return 0;
	}
}

int fzd_call(struct fzd_client *c, uint16_t op, const void *fixed, size_t flen, const void *tail,
	     size_t tlen, int fd, struct fzd_reply *rep)
{
	struct nest_msg_hdr h = {.op = op, .flags = NEST_MSG_F_REQUEST, .id = c->next_id++};
	ssize_t len;
	int r;

	if (c->closed)
		return -EPIPE;
	len = nest_msg_encode(fzd.txbuf, NEST_MSG_SIZE_MAX, &h, fixed, flen, tail, tlen);
	FZ_CHECK(len > 0);
	r = nest_fds_send(c->fd, fzd.txbuf, (size_t)len, &fd, fd >= 0 ? 1 : 0, MSG_DONTWAIT);
	FZ_CHECK(r == 0);
	for (int i = 0; i < 64; i++) {
		event_base_loop(fzd.d->base, EVLOOP_NONBLOCK);
		r = fzd_recv_reply(c, h.id, rep);
		if (r != -EAGAIN)
			break;
	}
	if (r == -EAGAIN) /* still nothing: the daemon must have closed it */
		r = fzd_recv_reply(c, h.id, rep);
	FZ_CHECK(r != -EAGAIN);
	if (r == 0 && !fzd_find_conn(c->conn_id))
		c->closed = true; /* answered, then closed (EPERM, EPROTO) */
	if (c->closed) {
		c->conn = NULL;
		close(c->fd); /* our end goes too */
		c->fd = -1;
	}
	return r;
}

const void *fzd_call_ok(struct fzd_client *c, uint16_t op, const void *fixed, size_t flen,
			const void *tail, size_t tlen, int fd, struct fzd_reply *rep)
{
	int r = fzd_call(c, op, fixed, flen, tail, tlen, fd, rep);

	if (r < 0 || (rep->hdr.flags & NEST_MSG_F_ERROR)) {
		fprintf(stderr, "fuzz daemon: %s failed: %s\n", nest_op_name(op),
			r < 0 ? strerror(-r) : strerror(rep->hdr.error));
		abort();
	}
	return rep->body;
}

static unsigned fzd_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	FZ_CHECK(d != NULL);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

void fzd_check_fds(void)
{
	static unsigned baseline, calls;

	if (calls++ % 64)
		return;
	if (!baseline)
		baseline = fzd_count_fds();
	FZ_CHECK(fzd_count_fds() <= baseline + 16); /* no fd piles up, in nestd or here */
}

int fzd_guest_memfd(void)
{
	int fd = memfd_create("fuzz-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	uint64_t *pml4, *pdpt, *pd, *pt;
	uint8_t *mem;

	FZ_CHECK(fd >= 0);
	FZ_CHECK(ftruncate(fd, FZD_MEM) == 0);
	FZ_CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	mem = mmap(NULL, FZD_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	FZ_CHECK(mem != MAP_FAILED);
	pml4 = (uint64_t *)(mem + 0x1000);
	pdpt = (uint64_t *)(mem + 0x2000);
	pd = (uint64_t *)(mem + 0x3000);
	pt = (uint64_t *)(mem + 0x4000);
	pml4[0] = 0x2000 | 7;
	pdpt[0] = 0x3000 | 7;
	pd[2] = 0x4000 | 7;
	for (unsigned i = 0; i < 16; i++)
		pt[i] = (FZD_GPA + i * 0x1000ull) | 7;
	munmap(mem, FZD_MEM);
	return fd;
}
