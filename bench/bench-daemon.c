/* SPDX-License-Identifier: MIT */
/*
 * bench-daemon: the cost of nestd's INVALIDATE hot path, as a ratio against a raw AF_UNIX
 * SOCK_SEQPACKET round trip measured in the same run (ARCHITECTURE.md §6, "Fast").
 *
 * Baseline: a forked child answers every datagram it receives. The request has exactly the size
 * of the nestd request it stands for; the answer has the size of nestd's reply (the request's
 * first word asks for it). Echoing the whole request back would double the copies of a 48 KiB
 * batch and flatter nestd, whose reply is 32 bytes whatever the batch size.
 *
 * nestd: the daemon of this build (or argv[1], or $NESTD_BINARY) on private sockets in a mkdtemp
 * directory, sim backend, one VM with one device, MaxBatch=1024. The bench talks to it through
 * libnest as a VMM would: attach, a 16 MiB sealed memfd at GPA 0, a PASID, a bound (empty) page
 * table, then timed INVALIDATE requests of 4 KiB ADDR entries for IOTLB|DEV_IOTLB.
 *
 * Every figure is the median of REPS windows of WINDOW_S seconds; nestd and echo windows alternate
 * so that a change of machine load hits both. Nothing passes or fails on speed: the exit status
 * says whether every operation succeeded and nestd exited 0 on SIGTERM. Runs in about 11 s.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nest/libnest.h>

#ifndef NESTD_BINARY
#error "NESTD_BINARY (path of the nestd executable) must be defined by the build"
#endif

#define REPS	    5
#define WINDOW_S    0.12
#define WARMUP_S    0.03
#define DEPTH	    32u		/* requests in flight in the pipelined cases */
#define MEM_LEN	    (16u << 20) /* guest memory, GPA 0 */
#define MEM_PAGES   (MEM_LEN >> 12)
#define GPGD	    0x1000u /* an all-zero PML4: valid, maps nothing */
#define UNKNOWN_OP  30u	    /* neither a request op nor an event: nestd answers ENOTTY */
#define ECHO_BUF    NEST_MSG_SIZE_DEFAULT
#define START_TRIES 500 /* x 10 ms to wait for nestd's socket */
#define STOP_TRIES  500 /* x 10 ms to wait for nestd to exit on SIGTERM */
#define HDR	    sizeof(struct nest_msg_hdr)
#define INV_REQ(n)  (HDR + sizeof(struct nest_invalidate) + (n) * sizeof(struct nest_inv_entry))
#define INV_REPLY   (HDR + sizeof(struct nest_invalidate_reply))

enum bench_kind {
	BENCH_INV,	/* nest_invalidate(), blocking */
	BENCH_INV_PIPE, /* INVALIDATE x1 with nest_client_send_async(), DEPTH in flight */
	BENCH_DEVGET,	/* nest_device_get(), blocking: a valid op that changes nothing */
	BENCH_ENOTTY,	/* an unknown op: framing and dispatch only */
};

struct bench_case {
	const char *name;
	enum bench_kind kind;
	unsigned entries; /* invalidate entries per request, 0 for the others */
};

static const struct bench_case bench_cases[] = {
	{"invalidate x1", BENCH_INV, 1},       {"invalidate x16", BENCH_INV, 16},
	{"invalidate x64", BENCH_INV, 64},     {"invalidate x256", BENCH_INV, 256},
	{"invalidate x1024", BENCH_INV, 1024}, {"invalidate x1, 32 in flight", BENCH_INV_PIPE, 1},
	{"DEVICE_GET", BENCH_DEVGET, 0},       {"unknown op (ENOTTY)", BENCH_ENOTTY, 0},
};
#define N_CASES (sizeof(bench_cases) / sizeof(bench_cases[0]))

struct bench_sample {
	uint64_t ops;
	double sec;
};

struct bench_result {
	double us[REPS], echo_us[REPS], ratio[REPS];
	double med_us, med_echo_us, med_ratio;
};

/* Completions of the async requests; lives in struct bench, never on a stack that may unwind. */
struct bench_async {
	uint16_t op;
	uint64_t done;
	int error;
};

struct bench {
	/* raw echo baseline */
	pid_t echo_pid;
	int echo_fd;
	uint8_t *echo_msg; /* request buffer, ECHO_BUF bytes */
	/* nestd */
	const char *binary;
	char dir[64], conf[96], log[96], sock[96], admin[96];
	pid_t nestd_pid;
	/* the VM */
	nest_client *c;
	int memfd;
	uint32_t pasid;
	struct nest_inv_entry *ent; /* NEST_BATCH_MAX entries, distinct pages */
	uint8_t inv_body[sizeof(struct nest_invalidate) + sizeof(struct nest_inv_entry)];
	struct bench_async as;
};

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench_fail(const struct bench *b, const char *what, int r)
{
	const char *detail = b->c ? nest_client_last_error(b->c) : "";

	fprintf(stderr, "bench-daemon: %s: %s%s%s%s\n", what, strerror(r < 0 ? -r : r),
		detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
	return r < 0 ? r : -r;
}

/* ---- raw echo baseline ------------------------------------------------------------------- */

static void bench_echo_child(int fd)
{
	uint8_t *buf = malloc(ECHO_BUF);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!buf)
		_exit(1);
	for (;;) {
		ssize_t n = recv(fd, buf, ECHO_BUF, 0);
		uint32_t reply;

		if (n == 0)
			_exit(0);
		if (n < (ssize_t)sizeof(reply))
			_exit(1);
		memcpy(&reply, buf, sizeof(reply));
		if (reply < sizeof(reply) || reply > ECHO_BUF ||
		    send(fd, buf, reply, MSG_NOSIGNAL) != (ssize_t)reply)
			_exit(1);
	}
}

static int bench_echo_start(struct bench *b)
{
	int sv[2];

	b->echo_msg = calloc(1, ECHO_BUF);
	if (!b->echo_msg)
		return bench_fail(b, "echo buffer", -ENOMEM);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return bench_fail(b, "socketpair", -errno);
	fflush(NULL);
	b->echo_pid = fork();
	if (b->echo_pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return bench_fail(b, "fork", -errno);
	}
	if (b->echo_pid == 0) {
		close(sv[0]);
		bench_echo_child(sv[1]);
	}
	close(sv[1]);
	b->echo_fd = sv[0];
	return 0;
}

/* Round trips of @req_len bytes out, @reply_len back, @depth in flight, for @window seconds. */
static int bench_echo_run(struct bench *b, size_t req_len, uint32_t reply_len, unsigned depth,
			  double window, struct bench_sample *ret)
{
	double t0 = bench_now(), end = t0 + window;
	uint64_t sent = 0, got = 0;
	uint8_t rbuf[256];

	memset(b->echo_msg, 0xa5, req_len);
	memcpy(b->echo_msg, &reply_len, sizeof(reply_len));
	for (; sent < depth; sent++)
		if (send(b->echo_fd, b->echo_msg, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
			return bench_fail(b, "echo send", -errno);
	while (got < sent) {
		ssize_t n = recv(b->echo_fd, rbuf, sizeof(rbuf), 0);

		if (n != (ssize_t)reply_len)
			return bench_fail(b, "echo recv", n < 0 ? -errno : -EIO);
		got++;
		if (bench_now() < end) {
			if (send(b->echo_fd, b->echo_msg, req_len, MSG_NOSIGNAL) !=
			    (ssize_t)req_len)
				return bench_fail(b, "echo send", -errno);
			sent++;
		}
	}
	ret->ops = got;
	ret->sec = bench_now() - t0;
	return 0;
}

static int bench_echo_stop(struct bench *b)
{
	int st;

	if (b->echo_pid <= 0)
		return 0;
	close(b->echo_fd); /* the child sees EOF and exits 0 */
	if (waitpid(b->echo_pid, &st, 0) < 0)
		return bench_fail(b, "waitpid echo", -errno);
	b->echo_pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return bench_fail(b, "echo child failed", -EIO);
	return 0;
}

/* ---- nestd ------------------------------------------------------------------------------- */

static int bench_nestd_config(struct bench *b)
{
	FILE *f;

	strcpy(b->dir, "/tmp/bench-daemon-XXXXXX");
	if (!mkdtemp(b->dir)) {
		b->dir[0] = '\0';
		return bench_fail(b, "mkdtemp", -errno);
	}
	snprintf(b->conf, sizeof(b->conf), "%s/nestd.conf", b->dir);
	snprintf(b->log, sizeof(b->log), "%s/nestd.log", b->dir);
	snprintf(b->sock, sizeof(b->sock), "%s/vm.sock", b->dir);
	snprintf(b->admin, sizeof(b->admin), "%s/admin.sock", b->dir);
	f = fopen(b->conf, "we");
	if (!f)
		return bench_fail(b, b->conf, -errno);
	fprintf(f,
		"[Daemon]\nBackend=sim\n\n[Limits]\nMaxBatch=%u\n\n"
		"[VM]\nName=bench\nOwner=%u\nDevice=dsa0 id=1 ats=yes pasid-bits=20\n",
		NEST_BATCH_MAX, (unsigned)getuid());
	if (fclose(f) != 0)
		return bench_fail(b, b->conf, -errno);
	return 0;
}

static void bench_nestd_exec(const struct bench *b)
{
	char *argv[] = {(char *)b->binary, "--config",	     (char *)b->conf,  "--socket",
			(char *)b->sock,   "--admin-socket", (char *)b->admin, NULL};
	int lf = open(b->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	prctl(PR_SET_PDEATHSIG, SIGTERM); /* the bench crashed: take nestd down with it */
	if (lf < 0 || dup2(lf, STDOUT_FILENO) < 0 || dup2(lf, STDERR_FILENO) < 0)
		_exit(126);
	/* a private daemon: not the service manager's, whatever environment runs the bench */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	unsetenv("JOURNAL_STREAM");
	execv(b->binary, argv);
	_exit(127);
}

static void bench_nestd_log_tail(const struct bench *b)
{
	char line[512];
	FILE *f = b->log[0] ? fopen(b->log, "re") : NULL;

	if (!f)
		return;
	fprintf(stderr, "bench-daemon: nestd log (%s):\n", b->log);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

/* Start nestd and connect to it (HELLO done): b->c on success. */
static int bench_nestd_start(struct bench *b)
{
	int r = bench_nestd_config(b), st;

	if (r < 0)
		return r;
	if (access(b->binary, X_OK) < 0)
		return bench_fail(b, b->binary, -errno);
	fflush(NULL);
	b->nestd_pid = fork();
	if (b->nestd_pid < 0)
		return bench_fail(b, "fork", -errno);
	if (b->nestd_pid == 0)
		bench_nestd_exec(b);
	for (int i = 0; i < START_TRIES; i++) {
		r = nest_client_connect(b->sock, 0, &b->c);
		if (r == 0)
			return 0;
		if (r != -ENOENT && r != -ECONNREFUSED)
			break;
		if (waitpid(b->nestd_pid, &st, WNOHANG) == b->nestd_pid) {
			b->nestd_pid = 0;
			bench_nestd_log_tail(b);
			fprintf(stderr, "bench-daemon: nestd wait status 0x%x\n", (unsigned)st);
			return bench_fail(b, "nestd exited at start", -ECHILD);
		}
		usleep(10000);
	}
	bench_nestd_log_tail(b);
	return bench_fail(b, "connect to nestd", r);
}

/* SIGTERM; nestd must exit 0 within STOP_TRIES x 10 ms. */
static int bench_nestd_stop(struct bench *b)
{
	int st = 0;

	if (b->nestd_pid <= 0)
		return 0;
	kill(b->nestd_pid, SIGTERM);
	for (int i = 0; waitpid(b->nestd_pid, &st, WNOHANG) != b->nestd_pid; i++) {
		if (i == STOP_TRIES) {
			kill(b->nestd_pid, SIGKILL);
			waitpid(b->nestd_pid, &st, 0);
			b->nestd_pid = 0;
			bench_nestd_log_tail(b);
			return bench_fail(b, "nestd did not exit on SIGTERM", -ETIMEDOUT);
		}
		usleep(10000);
	}
	b->nestd_pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		bench_nestd_log_tail(b);
		fprintf(stderr, "bench-daemon: nestd wait status 0x%x\n", (unsigned)st);
		return bench_fail(b, "nestd did not exit 0 on SIGTERM", -EIO);
	}
	return 0;
}

static int bench_rmdir(struct bench *b)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (!b->dir[0])
		return 0;
	d = opendir(b->dir);
	if (!d)
		return bench_fail(b, b->dir, -errno);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    unlinkat(dirfd(d), de->d_name, 0) < 0)
			r = bench_fail(b, de->d_name, -errno);
	closedir(d);
	if (rmdir(b->dir) < 0)
		r = bench_fail(b, b->dir, -errno);
	b->dir[0] = '\0';
	return r;
}

/* ---- the VM ------------------------------------------------------------------------------ */

static int bench_memfd(struct bench *b)
{
	b->memfd = memfd_create("bench-daemon", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (b->memfd < 0)
		return bench_fail(b, "memfd_create", -errno);
	if (ftruncate(b->memfd, MEM_LEN) < 0 || fcntl(b->memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		return bench_fail(b, "memfd size/seal", -errno);
	return 0;
}

/* Attach, add the memory, allocate a PASID and bind the (empty) page table on it. */
static int bench_vm_setup(struct bench *b)
{
	struct nest_bind bind = {.format = NEST_BIND_FMT_VTD_FL, .addr_width = 48, .gpgd = GPGD};
	struct nest_invalidate inv = {
		.size = sizeof(inv), .entry_len = sizeof(struct nest_inv_entry), .entry_num = 1};
	struct nest_limits lim;
	struct nest_vm_info info;
	int r;

	if ((r = nest_client_get_limits(b->c, &lim)) < 0)
		return bench_fail(b, "limits", r);
	if (lim.max_batch < NEST_BATCH_MAX || lim.max_inflight < DEPTH)
		return bench_fail(b, "negotiated MaxBatch/MaxInflight too small", -ERANGE);
	if ((r = nest_vm_attach(b->c, "bench", 0, &info)) < 0)
		return bench_fail(b, "VM_ATTACH", r);
	if ((r = nest_mem_add(b->c, 0, MEM_LEN, b->memfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE)) <
	    0)
		return bench_fail(b, "MEM_ADD", r);
	if ((r = nest_pasid_alloc(b->c, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &b->pasid)) < 0)
		return bench_fail(b, "PASID_ALLOC", r);
	bind.hpasid = b->pasid;
	if ((r = nest_bind(b->c, &bind)) < 0)
		return bench_fail(b, "BIND", r);
	b->ent = calloc(NEST_BATCH_MAX, sizeof(*b->ent));
	if (!b->ent)
		return bench_fail(b, "entries", -ENOMEM);
	for (unsigned i = 0; i < NEST_BATCH_MAX; i++)
		b->ent[i] =
			(struct nest_inv_entry){.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
						.granularity = NEST_INV_GRANU_ADDR,
						.pasid = b->pasid,
						.addr = (uint64_t)(i % MEM_PAGES) << 12,
						.granule_size = 4096,
						.nb_granules = 1};
	memcpy(b->inv_body, &inv, sizeof(inv));
	memcpy(b->inv_body + sizeof(inv), &b->ent[0], sizeof(b->ent[0]));
	return 0;
}

/* ---- nestd runs -------------------------------------------------------------------------- */

static int bench_inv_run(struct bench *b, unsigned n, double window, struct bench_sample *ret)
{
	double t0 = bench_now(), end = t0 + window, t;
	uint64_t ops = 0;

	do {
		size_t done = 0;
		int ferr = 0, r = nest_invalidate(b->c, b->ent, n, &done, &ferr);

		if (r < 0 || done != n)
			return bench_fail(b, "INVALIDATE", r < 0 ? r : ferr < 0 ? ferr : -EIO);
		ops++;
	} while ((t = bench_now()) < end);
	ret->ops = ops;
	ret->sec = t - t0;
	return 0;
}

static int bench_devget_run(struct bench *b, double window, struct bench_sample *ret)
{
	double t0 = bench_now(), end = t0 + window, t;
	struct nest_device_info info;
	uint64_t ops = 0;

	do {
		int r = nest_device_get(b->c, 1, &info, NULL);

		if (r < 0 || info.dev_id != 1)
			return bench_fail(b, "DEVICE_GET", r < 0 ? r : -EIO);
		ops++;
	} while ((t = bench_now()) < end);
	ret->ops = ops;
	ret->sec = t - t0;
	return 0;
}

/* An INVALIDATE reply must say its one entry was done; an unknown op must get ENOTTY. */
static void bench_async_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	struct bench_async *as = opaque;
	struct nest_invalidate_reply out;

	as->done++;
	if (as->error)
		return;
	if (as->op == UNKNOWN_OP) {
		as->error = r->error == -ENOTTY ? 0 : r->error ? r->error : -EIO;
		return;
	}
	if (r->error) {
		as->error = r->error;
		return;
	}
	if (r->fixed_len < sizeof(out)) {
		as->error = -EPROTO;
		return;
	}
	memcpy(&out, r->fixed, sizeof(out));
	if (out.done != 1)
		as->error = out.first_error ? -out.first_error : -EIO;
}

/* @op requests (INVALIDATE x1 or UNKNOWN_OP) with @depth in flight for @window seconds. */
static int bench_async_run(struct bench *b, uint16_t op, unsigned depth, double window,
			   struct bench_sample *ret)
{
	const void *body = op == UNKNOWN_OP ? NULL : b->inv_body;
	size_t len = op == UNKNOWN_OP ? 0 : sizeof(b->inv_body);
	double t0 = bench_now(), end = t0 + window;
	int r;

	b->as = (struct bench_async){.op = op};
	while (!b->as.error) {
		bool more = bench_now() < end;

		while (more && nest_client_inflight(b->c) < depth) {
			r = nest_client_send_async(b->c, op, body, len, NULL, 0, bench_async_cb,
						   &b->as, NULL);
			if (r < 0)
				return bench_fail(b, nest_op_str(op), r);
		}
		if (!nest_client_inflight(b->c))
			break;
		r = nest_client_wait(b->c, -1);
		if (r < 0)
			return bench_fail(b, "nest_client_wait", r);
	}
	if (b->as.error)
		return bench_fail(b, nest_op_str(op), b->as.error);
	ret->ops = b->as.done;
	ret->sec = bench_now() - t0;
	return 0;
}

/* ---- cases ------------------------------------------------------------------------------- */

static size_t bench_case_req_len(const struct bench_case *k)
{
	switch (k->kind) {
	case BENCH_INV:
	case BENCH_INV_PIPE:
		return INV_REQ(k->entries);
	case BENCH_DEVGET:
		return HDR + sizeof(struct nest_device_get);
	case BENCH_ENOTTY:
		break;
	}
	return HDR;
}

/* What nestd answers: an error reply on the VM socket is the bare header. */
static uint32_t bench_case_reply_len(const struct bench_case *k)
{
	switch (k->kind) {
	case BENCH_INV:
	case BENCH_INV_PIPE:
		return INV_REPLY;
	case BENCH_DEVGET:
		return HDR + sizeof(struct nest_device_info);
	case BENCH_ENOTTY:
		break;
	}
	return HDR;
}

static unsigned bench_case_depth(const struct bench_case *k)
{
	return k->kind == BENCH_INV_PIPE ? DEPTH : 1;
}

static int bench_case_nestd(struct bench *b, const struct bench_case *k, double window,
			    struct bench_sample *ret)
{
	switch (k->kind) {
	case BENCH_INV:
		return bench_inv_run(b, k->entries, window, ret);
	case BENCH_INV_PIPE:
		return bench_async_run(b, NEST_OP_INVALIDATE, DEPTH, window, ret);
	case BENCH_DEVGET:
		return bench_devget_run(b, window, ret);
	case BENCH_ENOTTY:
		break;
	}
	return bench_async_run(b, UNKNOWN_OP, 1, window, ret);
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double bench_median(const double *v)
{
	double s[REPS];

	memcpy(s, v, sizeof(s));
	qsort(s, REPS, sizeof(s[0]), bench_cmp_double);
	return s[REPS / 2];
}

static int bench_case_run(struct bench *b, const struct bench_case *k, struct bench_result *res)
{
	size_t req = bench_case_req_len(k);
	uint32_t reply = bench_case_reply_len(k);
	unsigned depth = bench_case_depth(k);
	struct bench_sample s, e;
	int r;

	/* warm-up: caches, page faults in both processes, libevent's buffers */
	if ((r = bench_case_nestd(b, k, WARMUP_S, &s)) < 0 ||
	    (r = bench_echo_run(b, req, reply, depth, WARMUP_S, &e)) < 0)
		return r;
	for (int i = 0; i < REPS; i++) {
		if ((r = bench_case_nestd(b, k, WINDOW_S, &s)) < 0 ||
		    (r = bench_echo_run(b, req, reply, depth, WINDOW_S, &e)) < 0)
			return r;
		if (!s.ops || !e.ops)
			return bench_fail(b, "no operation completed in a window", -EIO);
		res->us[i] = s.sec * 1e6 / (double)s.ops;
		res->echo_us[i] = e.sec * 1e6 / (double)e.ops;
		res->ratio[i] = res->us[i] / res->echo_us[i];
	}
	res->med_us = bench_median(res->us);
	res->med_echo_us = bench_median(res->echo_us);
	res->med_ratio = bench_median(res->ratio);
	return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static void bench_print_header(const struct bench *b)
{
	char load[64] = "?";
	FILE *f = fopen("/proc/loadavg", "re");

	if (f) {
		if (!fgets(load, sizeof(load), f))
			strcpy(load, "?");
		load[strcspn(load, " \n")] = '\0';
		fclose(f);
	}
	printf("bench-daemon: nestd (%s, sim backend) through libnest vs a raw AF_UNIX "
	       "SOCK_SEQPACKET round trip\n",
	       b->binary);
	printf("%ld CPUs online, load %s; each figure: median of %d windows of %.0f ms, nestd and "
	       "echo windows alternating\n\n",
	       sysconf(_SC_NPROCESSORS_ONLN), load, REPS, WINDOW_S * 1e3);
	printf("%-28s %6s %11s %9s %9s %10s  %s\n", "case", "req B", "nestd op/s", "us/op",
	       "us/entry", "echo us/op", "nestd/echo");
}

static void bench_print_row(const struct bench_case *k, const struct bench_result *res)
{
	char per_entry[16] = "-";

	if (k->entries)
		snprintf(per_entry, sizeof(per_entry), "%.3f", res->med_us / k->entries);
	printf("%-28s %6zu %11.0f %9.2f %9s %10.2f  %.2fx raw echo\n", k->name,
	       bench_case_req_len(k), 1e6 / res->med_us, res->med_us, per_entry, res->med_echo_us,
	       res->med_ratio);
	fflush(stdout);
}

/* One line per case: what the ratio means. */
static void bench_print_meaning(const struct bench_case *k, const struct bench_result *res,
				const struct bench_result *x1)
{
	double extra = res->med_us - res->med_echo_us;

	printf("  %s: ", k->name);
	if (k->kind == BENCH_INV && k->entries > 1)
		printf("%.3f us/entry, %.0fx cheaper per entry than x1; nestd adds %.3f us/entry "
		       "over a raw round trip of the same size\n",
		       res->med_us / k->entries, x1->med_us / (res->med_us / k->entries),
		       extra / k->entries);
	else if (k->kind == BENCH_INV_PIPE)
		printf("one completion every %.2f us with %u in flight, %.1fx the blocking x1 "
		       "rate (raw echo pipelined: %.2f us)\n",
		       res->med_us, DEPTH, x1->med_us / res->med_us, res->med_echo_us);
	else
		printf("nestd + libnest add %.2f us (%.0f%%) to a %.2f us raw round trip\n", extra,
		       100.0 * extra / res->med_echo_us, res->med_echo_us);
}

static int bench_all(struct bench *b)
{
	struct bench_result res[N_CASES];
	int r;

	bench_print_header(b);
	for (size_t i = 0; i < N_CASES; i++) {
		if ((r = bench_case_run(b, &bench_cases[i], &res[i])) < 0)
			return r;
		bench_print_row(&bench_cases[i], &res[i]);
	}
	printf("\n");
	for (size_t i = 0; i < N_CASES; i++)
		bench_print_meaning(&bench_cases[i], &res[i], &res[0]);
	printf("\nARCHITECTURE.md §6: one invalidation costs %.2fx a raw socket round trip; a "
	       "batch of %u costs %.3f us per entry.\n",
	       res[0].med_ratio, NEST_BATCH_MAX, res[4].med_us / NEST_BATCH_MAX);
	return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

static int bench_teardown(struct bench *b)
{
	bool running = b->nestd_pid > 0;
	int r = 0, q;

	b->c = nest_client_free(b->c);
	if ((q = bench_nestd_stop(b)) < 0)
		r = q;
	else if (running)
		printf("nestd exited 0 on SIGTERM\n");
	if ((q = bench_echo_stop(b)) < 0)
		r = q;
	if ((q = bench_rmdir(b)) < 0)
		r = q;
	if (b->memfd >= 0)
		close(b->memfd);
	free(b->ent);
	free(b->echo_msg);
	return r;
}

int main(int argc, char **argv)
{
	struct bench b = {.echo_fd = -1, .memfd = -1};
	const char *env = getenv("NESTD_BINARY");
	int r;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: bench-daemon [NESTD]  (default: $NESTD_BINARY, else %s)\n",
			NESTD_BINARY);
		return 2;
	}
	b.binary = argc == 2 ? argv[1] : env && env[0] ? env : NESTD_BINARY;
	r = bench_echo_start(&b);
	if (r == 0)
		r = bench_memfd(&b);
	if (r == 0)
		r = bench_nestd_start(&b);
	if (r == 0)
		r = bench_vm_setup(&b);
	if (r == 0)
		r = bench_all(&b);
	if (bench_teardown(&b) < 0)
		r = -1;
	return r < 0 ? 1 : 0;
}
