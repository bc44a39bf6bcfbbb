/* SPDX-License-Identifier: MIT */
/*
 * tclient.c - wire client and daemon launcher for the integration tests (see tclient.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "nest-fds.h"
#include "nest-msg.h"
#include "tclient.h"

static int tc_sockaddr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

struct tc *tc_connect(const char *path)
{
	struct sockaddr_un sa;
	struct tc *t;
	int fd;

	if (tc_sockaddr(path, &sa) < 0)
		return NULL;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	t->buf = malloc(NEST_MSG_SIZE_MAX);
	t->fd = fd;
	t->next_id = 1;
	t->last_fd = -1;
	return t;
}

void tc_free(struct tc *t)
{
	if (!t)
		return;
	if (t->last_fd >= 0)
		close(t->last_fd);
	close(t->fd);
	free(t->buf);
	free(t);
}

int tc_send_raw(struct tc *t, const void *buf, size_t len)
{
	return nest_fds_send(t->fd, buf, len, NULL, 0, 0);
}

int tc_send(struct tc *t, uint16_t op, const void *fixed, size_t flen, const void *tail,
	    size_t tlen, const int *fds, unsigned nfds, uint32_t *ret_id)
{
	struct nest_msg_hdr h = {.op = op, .flags = NEST_MSG_F_REQUEST, .id = t->next_id++};
	uint8_t *buf = malloc(NEST_MSG_SIZE_MAX);
	ssize_t n = nest_msg_encode(buf, NEST_MSG_SIZE_MAX, &h, fixed, flen, tail, tlen);
	int r;

	if (n < 0) {
		free(buf);
		return (int)n;
	}
	r = nest_fds_send(t->fd, buf, (size_t)n, fds, nfds, 0);
	free(buf);
	if (r == 0 && ret_id)
		*ret_id = h.id;
	return r;
}

static int tc_wait_readable(struct tc *t, int ms)
{
	struct pollfd p = {.fd = t->fd, .events = POLLIN};
	int r = poll(&p, 1, ms);

	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/* Receive one message into t->buf. Returns its length, -EPIPE on EOF, or -errno. */
static ssize_t tc_recv(struct tc *t, int ms, int *ret_fd)
{
	int fds[NEST_FDS_PER_MSG_MAX];
	unsigned nfds = 0;
	ssize_t n;
	int r = tc_wait_readable(t, ms);

	if (r < 0)
		return r;
	n = nest_fds_recv(t->fd, t->buf, NEST_MSG_SIZE_MAX, fds, NEST_FDS_PER_MSG_MAX, &nfds, 0);
	if (n == 0 || n == -ECONNRESET)
		return -EPIPE;
	if (n < 0)
		return n;
	*ret_fd = nfds ? fds[0] : -1;
	for (unsigned i = 1; i < nfds; i++)
		close(fds[i]);
	return n;
}

static void tc_stash_event(struct tc *t, const struct nest_msg *m)
{
	struct tc_event *e;

	if (t->n_ev == TC_EVENTS_MAX)
		memmove(&t->ev[0], &t->ev[1], sizeof(t->ev[0]) * --t->n_ev);
	e = &t->ev[t->n_ev++];
	e->op = m->hdr.op;
	e->len = m->body_len < sizeof(e->body) ? m->body_len : sizeof(e->body);
	memcpy(e->body, m->body, e->len);
}

int tc_reply(struct tc *t, uint32_t id, void *body, size_t cap, size_t *ret_len)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct nest_msg m;
		int fd = -1, left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = 5000 - (int)((now.tv_sec - start.tv_sec) * 1000 +
				    (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
		n = tc_recv(t, left, &fd);
		if (n < 0)
			return (int)n;
		if (nest_msg_parse(t->buf, (size_t)n, NEST_MSG_SIZE_MAX, &m) < 0) {
			if (fd >= 0)
				close(fd);
			return -EPROTO;
		}
		if (m.hdr.flags & NEST_MSG_F_EVENT) {
			tc_stash_event(t, &m);
			continue;
		}
		if (m.hdr.id != id) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (t->last_fd >= 0)
			close(t->last_fd);
		t->last_fd = fd;
		if (body) {
			size_t l = m.body_len < cap ? m.body_len : cap;

			memcpy(body, m.body, l);
			if (l < cap)
				((uint8_t *)body)[l] = 0;
		}
		if (ret_len)
			*ret_len = m.body_len;
		return (m.hdr.flags & NEST_MSG_F_ERROR) ? -m.hdr.error : 0;
	}
}

int tc_call(struct tc *t, uint16_t op, const void *fixed, size_t flen, const void *tail,
	    size_t tlen, const int *fds, unsigned nfds, void *body, size_t cap, size_t *ret_len)
{
	uint32_t id;
	int r = tc_send(t, op, fixed, flen, tail, tlen, fds, nfds, &id);

	return r < 0 ? r : tc_reply(t, id, body, cap, ret_len);
}

int tc_wait_event(struct tc *t, uint16_t op, void *body, size_t cap, int ms)
{
	for (;;) {
		struct nest_msg m;
		int fd = -1;
		ssize_t n;

		for (unsigned i = 0; i < t->n_ev; i++) {
			if (t->ev[i].op != op)
				continue;
			memcpy(body, t->ev[i].body, t->ev[i].len < cap ? t->ev[i].len : cap);
			memmove(&t->ev[i], &t->ev[i + 1], sizeof(t->ev[0]) * (t->n_ev - i - 1));
			t->n_ev--;
			return 0;
		}
		n = tc_recv(t, ms, &fd);
		if (n < 0)
			return (int)n;
		if (fd >= 0)
			close(fd);
		if (nest_msg_parse(t->buf, (size_t)n, NEST_MSG_SIZE_MAX, &m) == 0 &&
		    (m.hdr.flags & NEST_MSG_F_EVENT))
			tc_stash_event(t, &m);
	}
}

bool tc_closed(struct tc *t, int ms)
{
	for (;;) {
		int fd = -1;
		ssize_t n = tc_recv(t, ms, &fd);

		if (fd >= 0)
			close(fd);
		if (n == -EPIPE)
			return true;
		if (n < 0)
			return false;
	}
}

int tc_hello_minor(struct tc *t, uint16_t minor, const char *caps)
{
	size_t cl = strlen(caps) + 1;
	struct nest_hello h = {.size = sizeof(h),
			       .major = NEST_PROTO_MAJOR,
			       .minor = minor,
			       .caps_len = (uint32_t)cl};
	uint8_t body[NEST_CAPS_LEN_MAX + 64];

	return tc_call(t, NEST_OP_HELLO, &h, sizeof(h), caps, cl, NULL, 0, body, sizeof(body) - 1,
		       NULL);
}

int tc_hello_caps(struct tc *t, const char *caps)
{
	return tc_hello_minor(t, NEST_PROTO_MINOR, caps);
}

int tc_hello(struct tc *t)
{
	return tc_hello_caps(t, "{\"software\":\"tclient\"}");
}

int tc_attach(struct tc *t, const char *name, uint32_t flags, struct nest_vm_info *ret)
{
	struct nest_vm_attach a = {.size = sizeof(a), .flags = flags};
	struct nest_vm_info info;

	snprintf(a.name, sizeof(a.name), "%s", name);
	int r = tc_call(t, NEST_OP_VM_ATTACH, &a, sizeof(a), NULL, 0, NULL, 0, &info, sizeof(info),
			NULL);
	if (r == 0 && ret)
		*ret = info;
	return r;
}

int tc_detach(struct tc *t, uint32_t flags)
{
	struct nest_vm_detach d = {.size = sizeof(d), .flags = flags};

	return tc_call(t, NEST_OP_VM_DETACH, &d, sizeof(d), NULL, 0, NULL, 0, NULL, 0, NULL);
}

int tc_mem_add(struct tc *t, int fd, uint64_t gpa, uint64_t len, uint64_t off, uint32_t flags)
{
	struct nest_mem_add m = {
		.size = sizeof(m), .flags = flags, .gpa = gpa, .len = len, .fd_offset = off};

	return tc_call(t, NEST_OP_MEM_ADD, &m, sizeof(m), NULL, 0, &fd, fd >= 0 ? 1 : 0, NULL, 0,
		       NULL);
}

int tc_mem_remove(struct tc *t, uint64_t gpa, uint64_t len)
{
	struct nest_mem_remove m = {.size = sizeof(m), .gpa = gpa, .len = len};

	return tc_call(t, NEST_OP_MEM_REMOVE, &m, sizeof(m), NULL, 0, NULL, 0, NULL, 0, NULL);
}

int tc_pasid_alloc_g(struct tc *t, uint32_t min, uint32_t max, uint32_t gpasid, uint32_t *ret)
{
	struct nest_pasid_alloc a = {.size = sizeof(a),
				     .min = min,
				     .max = max,
				     .gpasid = gpasid,
				     .flags = gpasid ? NEST_PASID_F_GPASID : 0};
	struct nest_pasid_reply rep = {0};
	int r = tc_call(t, NEST_OP_PASID_ALLOC, &a, sizeof(a), NULL, 0, NULL, 0, &rep, sizeof(rep),
			NULL);

	if (r == 0 && ret)
		*ret = rep.pasid;
	return r;
}

int tc_pasid_alloc(struct tc *t, uint32_t min, uint32_t max, uint32_t *ret_pasid)
{
	return tc_pasid_alloc_g(t, min, max, 0, ret_pasid);
}

int tc_pasid_free(struct tc *t, uint32_t min, uint32_t max, uint32_t *ret_count)
{
	struct nest_pasid_free f = {.size = sizeof(f), .min = min, .max = max};
	struct nest_pasid_reply rep = {0};
	int r = tc_call(t, NEST_OP_PASID_FREE, &f, sizeof(f), NULL, 0, NULL, 0, &rep, sizeof(rep),
			NULL);

	if (r == 0 && ret_count)
		*ret_count = rep.pasid;
	return r;
}

int tc_bind(struct tc *t, uint32_t pasid, uint64_t gpgd, uint32_t aw, uint64_t vtd_flags)
{
	struct nest_bind b = {.size = sizeof(b),
			      .format = NEST_BIND_FMT_VTD_FL,
			      .addr_width = aw,
			      .gpgd = gpgd,
			      .hpasid = pasid,
			      .vtd_flags = vtd_flags};

	return tc_call(t, NEST_OP_BIND, &b, sizeof(b), NULL, 0, NULL, 0, NULL, 0, NULL);
}

int tc_unbind(struct tc *t, uint32_t pasid)
{
	struct nest_unbind u = {.size = sizeof(u), .hpasid = pasid};

	return tc_call(t, NEST_OP_UNBIND, &u, sizeof(u), NULL, 0, NULL, 0, NULL, 0, NULL);
}

int tc_invalidate(struct tc *t, const struct nest_inv_entry *e, uint32_t n,
		  struct nest_invalidate_reply *ret)
{
	struct nest_invalidate inv = {.size = sizeof(inv), .entry_len = sizeof(*e), .entry_num = n};
	struct nest_invalidate_reply rep = {0};
	int r = tc_call(t, NEST_OP_INVALIDATE, &inv, sizeof(inv), e, n * sizeof(*e), NULL, 0, &rep,
			sizeof(rep), NULL);

	if (r == 0 && ret)
		*ret = rep;
	return r;
}

int tc_dma(struct tc *t, uint32_t dev, uint32_t pasid, uint64_t addr, uint32_t flags, void *data,
	   uint32_t len, struct nest_sim_dma_reply *ret)
{
	struct nest_sim_dma q = {.size = sizeof(q),
				 .flags = flags,
				 .dev_id = dev,
				 .pasid = pasid,
				 .addr = addr,
				 .len = len};
	bool wr = flags & NEST_DMA_F_WRITE;
	uint8_t *body = malloc(sizeof(struct nest_sim_dma_reply) + len + 1);
	size_t blen = 0;
	int r = tc_call(t, NEST_OP_SIM_DMA, &q, sizeof(q), wr ? data : NULL, wr ? len : 0, NULL, 0,
			body, sizeof(struct nest_sim_dma_reply) + len, &blen);

	if (r == 0) {
		if (ret)
			memcpy(ret, body, sizeof(*ret));
		if (!wr && blen > sizeof(*ret))
			memcpy(data, body + sizeof(*ret), blen - sizeof(*ret));
	}
	free(body);
	return r;
}

int tc_admin(struct tc *t, const char *cmd, const char *args_json, struct json_object **ret)
{
	char *req = NULL, *body = malloc(NEST_MSG_SIZE_MAX);
	size_t blen = 0;
	int r;

	if (asprintf(&req, "{\"command\":\"%s\",\"args\":%s}", cmd, args_json ? args_json : "{}") <
	    0)
		abort();
	r = tc_call(t, NEST_OP_ADMIN, NULL, 0, req, strlen(req) + 1, NULL, 0, body,
		    NEST_MSG_SIZE_MAX - 1, &blen);
	if (ret)
		*ret = blen ? json_tokener_parse(body) : NULL;
	free(req);
	free(body);
	return r;
}

int tc_memfd(size_t size, bool seal)
{
	int fd = memfd_create("tc", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* ---- daemon launcher ---- */

void td_init(struct td *d)
{
	memset(d, 0, sizeof(*d));
	d->notify_fd = -1;
	strcpy(d->dir, "/tmp/nestd-it-XXXXXX");
	if (!mkdtemp(d->dir))
		abort();
	snprintf(d->conf, sizeof(d->conf), "%s/nestd.conf", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/nestd.log", d->dir);
	snprintf(d->sock, sizeof(d->sock), "%s/vm.sock", d->dir);
	snprintf(d->admin, sizeof(d->admin), "%s/admin.sock", d->dir);
}

void td_write_conf(struct td *d, const char *body)
{
	char tmp[160];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", d->conf);
	f = fopen(tmp, "w");
	if (!f)
		abort();
	fputs(body, f);
	fclose(f);
	rename(tmp, d->conf);
}

void td_notify_socket(struct td *d)
{
	struct sockaddr_un sa;

	snprintf(d->notify, sizeof(d->notify), "%s/notify", d->dir);
	tc_sockaddr(d->notify, &sa);
	d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->notify_fd < 0 || bind(d->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
}

int td_notify_recv(struct td *d, char *buf, size_t cap, int ms)
{
	struct pollfd p = {.fd = d->notify_fd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -ETIMEDOUT;
	n = recv(d->notify_fd, buf, cap - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static bool td_can_connect(const char *path)
{
	struct tc *t = tc_connect(path);

	tc_free(t);
	return t != NULL;
}

int td_start(struct td *d)
{
	const char *bin = d->bin ? d->bin : NESTD_BINARY;
	char *argv[] = {(char *)bin, "--config",       d->conf,	 "--socket",
			d->sock,     "--admin-socket", d->admin, NULL};

	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0) {
		int dn = open("/dev/null", O_WRONLY);

		/* a test that fails an assertion exits without td_stop(): take nestd down with it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (d->capture_stderr) {
			int lf = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

			if (lf < 0 || dup2(lf, STDERR_FILENO) < 0)
				_exit(126);
			unsetenv("JOURNAL_STREAM"); /* the stderr format, whoever runs the test */
		} else if (!getenv("TD_VERBOSE") && dn >= 0) {
			dup2(dn, STDERR_FILENO);
		}
		if (d->notify[0])
			setenv("NOTIFY_SOCKET", d->notify, 1);
		else
			unsetenv("NOTIFY_SOCKET");
		for (int i = 0; d->env[i]; i++)
			putenv((char *)d->env[i]);
		if (d->watchdog_pid) {
			char pid[16];

			/* execv keeps the pid: getpid() here is the daemon's pid */
			snprintf(pid, sizeof(pid), "%d",
				 d->watchdog_pid < 0 ? (int)getpid() : d->watchdog_pid);
			setenv("WATCHDOG_PID", pid, 1);
		} else {
			unsetenv("WATCHDOG_PID");
		}
		if (d->nofile) {
			struct rlimit rl = {d->nofile, d->nofile_hard ? d->nofile_hard : d->nofile};

			setrlimit(RLIMIT_NOFILE, &rl);
		}
		execv(bin, argv);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		int st;

		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			return -ECHILD;
		}
		if (td_can_connect(d->sock) && td_can_connect(d->admin))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

void td_cleanup(struct td *d)
{
	char cmd[128];

	if (d->notify_fd >= 0)
		close(d->notify_fd);
	d->notify_fd = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", d->dir);
}

int td_stop(struct td *d)
{
	int st = 0;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (int i = 0; i < 1500; i++) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid)
			break;
		if (i == 1499) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &st, 0);
		}
		usleep(10000);
	}
	d->pid = 0;
	td_cleanup(d);
	if (getenv("TD_VERBOSE"))
		fprintf(stderr, "nestd wait status 0x%x\n", st);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int td_fd_count(const struct td *d)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)d->pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/*
 * The daemon's fd count once it has settled: the same value read 5 times in a row 20 ms apart
 * (at most 3 s). nestd may hold an fd for a moment after a reply went out (the reply is queued
 * before the event loop finishes the request), so a single reading can catch a transient one.
 */
int td_fd_count_stable(const struct td *d)
{
	int last = td_fd_count(d), same = 0;

	for (int i = 0; i < 150 && same < 5; i++) {
		usleep(20000);
		int n = td_fd_count(d);

		same = n == last ? same + 1 : 0;
		last = n;
	}
	return last;
}

const char *td_uid_str(void)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%u", (unsigned)getuid());
	return buf;
}
