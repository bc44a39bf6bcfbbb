/* SPDX-License-Identifier: MIT */
/*
 * bench-daemon: the cost of nestd's INVALIDATE hot path, as a ratio against a raw AF_UNIX
 * SOCK_SEQPACKET round trip measured in the same run (ARCHITECTURE.md §6, "Fast").
 *
 * Baseline: bench-echo.h, a forked child answering every datagram with as many bytes as nestd's
 * reply to the request it stands for.
 *
 * nestd: bench-nestd.h, the daemon of this build (or argv[1], or $NESTD_BINARY) on private
 * sockets in a mkdtemp directory, sim backend, one VM with one device, MaxBatch=1024. The bench talks to it through
 * libnest as a VMM would: attach, a 16 MiB sealed memfd at GPA 0, a PASID, a bound (empty) page
 * table, then timed INVALIDATE requests of 4 KiB ADDR entries for IOTLB|DEV_IOTLB.
 *
 * Every figure is the median of BENCH_REPS windows of BENCH_WINDOW_S seconds; nestd and echo
 * windows alternate so that a change of machine load hits both (bench_alternate()). Nothing passes or fails on speed: the exit status
 * says whether every operation succeeded and nestd exited 0 on SIGTERM. Runs in about 11 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nest/libnest.h>

#include "bench-echo.h"
#include "bench-nestd.h"
#include "bench-raw.h"
#include "bench-util.h"

#define DEPTH	       32u	   /* requests in flight in the pipelined cases */
#define MEM_LEN	       (16u << 20) /* guest memory, GPA 0 */
#define MEM_PAGES      (MEM_LEN >> 12)
#define GPGD	       0x1000u /* an all-zero PML4: valid, maps nothing */
#define PROFILE_GAP_US 2000u   /* --profile: pause before each request */
#define HOGS_MAX       64u     /* busy processes of a "CPUs busy" case, one per online CPU */
#define UNKNOWN_OP     30u     /* neither a request op nor an event: nestd answers ENOTTY */
#define HDR	       sizeof(struct nest_msg_hdr)
#define INV_REQ(n)     (HDR + sizeof(struct nest_invalidate) + (n) * sizeof(struct nest_inv_entry))
#define INV_REPLY      (HDR + sizeof(struct nest_invalidate_reply))

enum bench_kind {
	BENCH_INV,	/* nest_invalidate(), blocking */
	BENCH_INV_PIPE, /* INVALIDATE x1 with nest_client_send_async(), DEPTH in flight, corked */
	BENCH_INV_PIPE_NOCORK, /* the same without nest_client_cork(): one sendmsg() per request */
	BENCH_INV_RAW, /* INVALIDATE x1, DEPTH in flight, the wire protocol by hand (bench-raw.h) */
	BENCH_INV_RAW1, /* INVALIDATE x1, blocking, the wire protocol by hand: nestd without libnest */
	BENCH_DEVGET,	 /* nest_device_get(), blocking: a valid op that changes nothing */
	BENCH_ENOTTY,	 /* an unknown op: framing and dispatch only */
	BENCH_LOOP_ECHO, /* no nestd: the event-loop echo (bench-echo.h) against the raw echo */
};

/*
 * Where the processes run. On a virtual machine, a round trip between processes on two CPUs
 * pays a cross-CPU wake-up (an IPI to an idle vCPU: tens to hundreds of microseconds when the
 * host has descheduled it) that swamps both sides' own work; pinned, both sides pay the same
 * kind of wake-up, and the ratio compares the work.
 */
enum bench_place {
	PLACE_ANY,   /* wherever the scheduler puts them */
	PLACE_SAME,  /* the bench, nestd and the echo on the first CPU of the bench's mask */
	PLACE_SPLIT, /* the bench on the second CPU, nestd and the echo on the first */
};

struct bench_case {
	const char *name;
	enum bench_kind kind;
	unsigned entries; /* invalidate entries per request, 0 for the others */
	const char *goal; /* issue 12's goal for the Markdown row, or "-" */
	bool busy;	  /* one busy-looping process per online CPU while it runs */
	enum bench_place place;
	int hog_nice;	 /* the busy processes' nice value (0: the same as ours) */
	bool loop_floor; /* the floor is the event-loop echo, not the raw one */
};

static const struct bench_case bench_cases[] = {
	{"invalidate x1", BENCH_INV, 1, "<= 1.10x", false, PLACE_ANY, 0, false},
	{"invalidate x16", BENCH_INV, 16, "-", false, PLACE_ANY, 0, false},
	{"invalidate x64", BENCH_INV, 64, "-", false, PLACE_ANY, 0, false},
	{"invalidate x256", BENCH_INV, 256, "-", false, PLACE_ANY, 0, false},
	{"invalidate x1024", BENCH_INV, 1024, "nestd adds <= 0.030 us/entry", false, PLACE_ANY, 0,
	 false},
	{"invalidate x1, 32 in flight", BENCH_INV_PIPE, 1, "<= 1.15x", false, PLACE_ANY, 0, false},
	{"invalidate x1, 32 in flight, CPUs busy", BENCH_INV_PIPE, 1, "<= 1.15x", true, PLACE_ANY,
	 0, false},
	{"invalidate x1, 32 in flight, CPUs busy at nice 19", BENCH_INV_PIPE, 1, "<= 1.15x", true,
	 PLACE_ANY, 19, false},
	{"invalidate x1, 32 in flight, uncorked", BENCH_INV_PIPE_NOCORK, 1, "<= 1.15x", false,
	 PLACE_ANY, 0, false},
	{"invalidate x1, 32 in flight, raw client", BENCH_INV_RAW, 1, "<= 1.15x", false, PLACE_ANY,
	 0, false},
	{"invalidate x1, 32 in flight, raw client, CPUs busy", BENCH_INV_RAW, 1, "<= 1.15x", true,
	 PLACE_ANY, 0, false},
	{"invalidate x1, one CPU", BENCH_INV, 1, "<= 1.10x", false, PLACE_SAME, 0, false},
	{"invalidate x1, two CPUs", BENCH_INV, 1, "<= 1.10x", false, PLACE_SPLIT, 0, false},
	{"invalidate x1024, one CPU", BENCH_INV, 1024, "nestd adds <= 0.030 us/entry", false,
	 PLACE_SAME, 0, false},
	{"invalidate x1, 32 in flight, one CPU", BENCH_INV_PIPE, 1, "<= 1.15x", false, PLACE_SAME,
	 0, false},
	{"invalidate x1, 32 in flight, two CPUs", BENCH_INV_PIPE, 1, "<= 1.15x", false, PLACE_SPLIT,
	 0, false},
	{"DEVICE_GET", BENCH_DEVGET, 0, "-", false, PLACE_ANY, 0, false},
	{"unknown op (ENOTTY)", BENCH_ENOTTY, 0, "-", false, PLACE_ANY, 0, false},
	/* the floor of the design: what waiting in epoll costs, and nestd against that */
	{"event-loop echo x1", BENCH_LOOP_ECHO, 1, "-", false, PLACE_ANY, 0, false},
	{"event-loop echo x1, one CPU", BENCH_LOOP_ECHO, 1, "-", false, PLACE_SAME, 0, false},
	{"invalidate x1 vs the event-loop echo", BENCH_INV, 1, "-", false, PLACE_ANY, 0, true},
	{"invalidate x1, one CPU, vs the event-loop echo", BENCH_INV, 1, "-", false, PLACE_SAME, 0,
	 true},
	{"invalidate x1, raw client, one CPU", BENCH_INV_RAW1, 1, "-", false, PLACE_SAME, 0, false},
	{"invalidate x1, raw client, one CPU, vs the event-loop echo", BENCH_INV_RAW1, 1, "-",
	 false, PLACE_SAME, 0, true},
};
#define N_CASES (sizeof(bench_cases) / sizeof(bench_cases[0]))

/* Completions of the async requests; lives in struct bench, never on a stack that may unwind. */
struct bench_async {
	uint16_t op;
	uint64_t done;
	int error;
};

struct bench {
	struct bench_echo echo; /* raw echo baseline */
	int echo_fd;
	struct bench_echo loop; /* event-loop echo (BENCH_ECHO_LOOP) */
	int loop_fd;
	struct bench_nestd nestd;
	/* the VM */
	nest_client *c;
	int memfd;
	uint32_t pasid;
	struct nest_inv_entry *ent; /* NEST_BATCH_MAX entries, distinct pages */
	uint8_t inv_body[sizeof(struct nest_invalidate) + sizeof(struct nest_inv_entry)];
	struct bench_async as;
	unsigned inv_n; /* entries per request of bench_inv_once() */
};

/* ---- the VM ------------------------------------------------------------------------------ */

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
		return bench_fail(b->c, "limits", r);
	if (lim.max_batch < NEST_BATCH_MAX || lim.max_inflight < DEPTH)
		return bench_fail(b->c, "negotiated MaxBatch/MaxInflight too small", -ERANGE);
	if ((r = nest_vm_attach(b->c, "vm0", 0, &info)) < 0)
		return bench_fail(b->c, "VM_ATTACH", r);
	if ((r = nest_mem_add(b->c, 0, MEM_LEN, b->memfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE)) <
	    0)
		return bench_fail(b->c, "MEM_ADD", r);
	if ((r = nest_pasid_alloc(b->c, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &b->pasid)) < 0)
		return bench_fail(b->c, "PASID_ALLOC", r);
	bind.hpasid = b->pasid;
	if ((r = nest_bind(b->c, &bind)) < 0)
		return bench_fail(b->c, "BIND", r);
	b->ent = calloc(NEST_BATCH_MAX, sizeof(*b->ent));
	if (!b->ent)
		return bench_fail(b->c, "entries", -ENOMEM);
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

static int bench_inv_once(void *arg)
{
	struct bench *b = arg;
	size_t done = 0;
	int ferr = 0, r = nest_invalidate(b->c, b->ent, b->inv_n, &done, &ferr);

	if (r < 0 || done != b->inv_n)
		return bench_fail(b->c, "INVALIDATE", r < 0 ? r : ferr < 0 ? ferr : -EIO);
	return 0;
}

static int bench_inv_run(struct bench *b, unsigned n, double window, struct bench_sample *ret)
{
	b->inv_n = n;
	return bench_loop(bench_inv_once, b, window, ret);
}

static int bench_devget_run(struct bench *b, double window, struct bench_sample *ret)
{
	double t0 = bench_now(), end = t0 + window, t;
	struct nest_device_info info;
	uint64_t ops = 0;

	do {
		int r = nest_device_get(b->c, 1, &info, NULL);

		if (r < 0 || info.dev_id != 1)
			return bench_fail(b->c, "DEVICE_GET", r < 0 ? r : -EIO);
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
static int bench_async_run(struct bench *b, uint16_t op, unsigned depth, bool cork, double window,
			   struct bench_sample *ret)
{
	const void *body = op == UNKNOWN_OP ? NULL : b->inv_body;
	size_t len = op == UNKNOWN_OP ? 0 : sizeof(b->inv_body);
	double t0 = bench_now(), end = t0 + window;
	int r;

	b->as = (struct bench_async){.op = op};
	if ((r = nest_client_cork(b->c, cork)) < 0)
		return bench_fail(b->c, "nest_client_cork", r);
	while (!b->as.error) {
		bool more = bench_now() < end;

		while (more && nest_client_inflight(b->c) < depth) {
			r = nest_client_send_async(b->c, op, body, len, NULL, 0, bench_async_cb,
						   &b->as, NULL);
			if (r < 0)
				return bench_fail(b->c, nest_op_str(op), r);
		}
		if (!nest_client_inflight(b->c))
			break;
		r = nest_client_wait(b->c, -1);
		if (r < 0)
			return bench_fail(b->c, "nest_client_wait", r);
	}
	if ((r = nest_client_cork(b->c, false)) < 0)
		return bench_fail(b->c, "nest_client_cork", r);
	if (b->as.error)
		return bench_fail(b->c, nest_op_str(op), b->as.error);
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
	case BENCH_INV_PIPE_NOCORK:
	case BENCH_INV_RAW:
	case BENCH_INV_RAW1:
	case BENCH_LOOP_ECHO:
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
	case BENCH_INV_PIPE_NOCORK:
	case BENCH_INV_RAW:
	case BENCH_INV_RAW1:
	case BENCH_LOOP_ECHO:
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
	return k->kind == BENCH_INV_PIPE || k->kind == BENCH_INV_PIPE_NOCORK ||
			       k->kind == BENCH_INV_RAW
		       ? DEPTH
		       : 1;
}

static int bench_case_nestd(struct bench *b, const struct bench_case *k, double window,
			    struct bench_sample *ret)
{
	switch (k->kind) {
	case BENCH_INV:
		return bench_inv_run(b, k->entries, window, ret);
	case BENCH_INV_PIPE:
	case BENCH_INV_PIPE_NOCORK:
		return bench_async_run(b, NEST_OP_INVALIDATE, DEPTH, k->kind == BENCH_INV_PIPE,
				       window, ret);
	case BENCH_INV_RAW:
	case BENCH_INV_RAW1:
		return bench_raw_run(nest_client_get_fd(b->c), NEST_OP_INVALIDATE, b->inv_body,
				     sizeof(b->inv_body), bench_case_depth(k), 1, window, ret);
	case BENCH_DEVGET:
		return bench_devget_run(b, window, ret);
	case BENCH_LOOP_ECHO:
		return bench_echo_run(&b->loop, b->loop_fd, bench_case_req_len(k),
				      bench_case_reply_len(k), 1, window, ret);
	case BENCH_ENOTTY:
		break;
	}
	return bench_async_run(b, UNKNOWN_OP, 1, false, window, ret);
}

/* One case as bench_alternate() calls it. */
struct bench_case_arg {
	struct bench *b;
	const struct bench_case *k;
};

static int bench_case_window(void *arg, double window, struct bench_sample *ret)
{
	struct bench_case_arg *a = arg;

	return bench_case_nestd(a->b, a->k, window, ret);
}

static int bench_case_echo(void *arg, double window, struct bench_sample *ret)
{
	struct bench_case_arg *a = arg;

	struct bench *b = a->b;

	return bench_echo_run(a->k->loop_floor ? &b->loop : &b->echo,
			      a->k->loop_floor ? b->loop_fd : b->echo_fd, bench_case_req_len(a->k),
			      bench_case_reply_len(a->k), bench_case_depth(a->k), window, ret);
}

/* Stop (SIGKILL) and reap the @n busy processes of @pids. */
static void bench_hogs_stop(const pid_t *pids, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
}

/*
 * One process per online CPU that does nothing but count, so that nestd, the echo and the bench
 * compete for CPUs as on a host whose cores are busy (issue 12: pipelining on a busy machine).
 */
static int bench_hogs_start(pid_t *pids, unsigned max, int nice_value, unsigned *ret_n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = 0;

	if (cpus < 1)
		cpus = 1;
	fflush(NULL);
	for (; n < (unsigned)cpus && n < max; n++) {
		pid_t p = fork();

		if (p < 0) {
			int r = -errno;

			bench_hogs_stop(pids, n);
			return bench_fail(NULL, "fork", r);
		}
		if (p == 0) {
			volatile unsigned long spin = 0;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (nice_value && nice(nice_value) < 0)
				_exit(1);
			for (;;)
				spin++;
		}
		pids[n] = p;
	}
	*ret_n = n;
	return 0;
}

/* The @n-th CPU (0-based) of @set, or -1. */
static int bench_nth_cpu(const cpu_set_t *set, int n)
{
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, set) && n-- == 0)
			return cpu;
	return -1;
}

/*
 * Pin this process, nestd and the echo for @place (both servers to the same CPU: only one of
 * them works at a time), or give all three @all back. -EOPNOTSUPP when @place needs a second CPU
 * the bench may not use.
 */
static int bench_place(struct bench *b, enum bench_place place, const cpu_set_t *all)
{
	int server = bench_nth_cpu(all, 0), client = bench_nth_cpu(all, 1);
	cpu_set_t s, cl;
	const pid_t pids[] = {b->nestd.pid, b->echo.pid, b->loop.pid, 0};

	if (place == PLACE_ANY) {
		for (size_t i = 0; i < 4; i++)
			if (sched_setaffinity(pids[i], sizeof(*all), all) < 0)
				return bench_fail(NULL, "sched_setaffinity", -errno);
		return 0;
	}
	if (place == PLACE_SPLIT && client < 0)
		return -EOPNOTSUPP;
	CPU_ZERO(&s);
	CPU_SET(server, &s);
	CPU_ZERO(&cl);
	CPU_SET(place == PLACE_SAME ? server : client, &cl);
	if (sched_setaffinity(b->nestd.pid, sizeof(s), &s) < 0 ||
	    sched_setaffinity(b->echo.pid, sizeof(s), &s) < 0 ||
	    sched_setaffinity(b->loop.pid, sizeof(s), &s) < 0 ||
	    sched_setaffinity(0, sizeof(cl), &cl) < 0)
		return bench_fail(NULL, "sched_setaffinity", -errno);
	return 0;
}

static int bench_case_run(struct bench *b, const struct bench_case *k, struct bench_ratio *res)
{
	struct bench_case_arg a = {.b = b, .k = k};
	struct bench_servers srv = {.run = k->kind == BENCH_LOOP_ECHO ? b->loop.pid : b->nestd.pid,
				    .floor = k->loop_floor ? b->loop.pid : b->echo.pid};
	pid_t hogs[HOGS_MAX];
	unsigned n_hogs = 0;
	cpu_set_t all;
	int r;

	if (k->place != PLACE_ANY) {
		if (sched_getaffinity(0, sizeof(all), &all) < 0)
			return bench_fail(NULL, "sched_getaffinity", -errno);
		if ((r = bench_place(b, k->place, &all)) < 0)
			return r;
	}
	if (k->busy && (r = bench_hogs_start(hogs, HOGS_MAX, k->hog_nice, &n_hogs)) < 0)
		return r;
	r = bench_alternate(bench_case_window, bench_case_echo, &a, &srv, res);
	bench_hogs_stop(hogs, n_hogs);
	if (k->place != PLACE_ANY) {
		int q = bench_place(b, PLACE_ANY, &all);

		r = r < 0 ? r : q;
	}
	return r;
}

/* ---- output ------------------------------------------------------------------------------ */

static void bench_print_header(const struct bench *b)
{
	char machine[96];

	bench_machine(machine, sizeof(machine));
	printf("bench-daemon: nestd (%s, sim backend) through libnest vs a raw AF_UNIX "
	       "SOCK_SEQPACKET round trip\n",
	       b->nestd.binary);
	printf("%s; each figure: median of %d windows of %.0f ms, nestd and echo windows "
	       "alternating\n\n",
	       machine, BENCH_REPS, BENCH_WINDOW_S * 1e3);
	printf("%-38s %6s %11s %9s %9s %10s  %-18s %s\n", "case", "req B", "nestd op/s", "us/op",
	       "us/entry", "echo us/op", "nestd/echo", "CPU us/op nestd/echo");
}

static void bench_print_row(const struct bench_case *k, const struct bench_ratio *res)
{
	char per_entry[16] = "-";

	if (k->entries)
		snprintf(per_entry, sizeof(per_entry), "%.3f", res->us / k->entries);
	printf("%-38s %6zu %11.0f %9.2f %9s %10.2f  %5.2fx raw echo     %.2f/%.2f = %.2fx\n",
	       k->name, bench_case_req_len(k), 1e6 / res->us, res->us, per_entry, res->floor_us,
	       res->ratio, res->cpu_us, res->floor_cpu_us, res->cpu_ratio);
	fflush(stdout);
}

/* One line per case: what the ratio means. */
static void bench_print_meaning(const struct bench_case *k, const struct bench_ratio *res,
				const struct bench_ratio *x1)
{
	double extra = res->us - res->floor_us;

	printf("  %s: ", k->name);
	if (k->kind == BENCH_INV && k->entries > 1)
		printf("%.3f us/entry, %.0fx cheaper per entry than x1; nestd adds %.3f us/entry "
		       "over a raw round trip of the same size\n",
		       res->us / k->entries, x1->us / (res->us / k->entries), extra / k->entries);
	else if (k->kind == BENCH_LOOP_ECHO)
		printf("an event-driven server that does nothing takes %.2f us, %.2fx a raw round "
		       "trip (%.2f us)\n",
		       res->us, res->ratio, res->floor_us);
	else if (k->loop_floor)
		printf("nestd + libnest add %.2f us (%.0f%%) to an event-loop echo's %.2f us\n",
		       extra, 100.0 * extra / res->floor_us, res->floor_us);
	else if (bench_case_depth(k) > 1)
		printf("one completion every %.2f us with %u in flight, %.1fx the blocking x1 "
		       "rate (raw echo pipelined: %.2f us)\n",
		       res->us, DEPTH, x1->us / res->us, res->floor_us);
	else
		printf("nestd + libnest add %.2f us (%.0f%%) to a %.2f us raw round trip\n", extra,
		       100.0 * extra / res->floor_us, res->floor_us);
}

/* The row of @k in bench/run's table. */
static void bench_print_markdown(const struct bench_case *k, const struct bench_ratio *res)
{
	printf("| daemon | %s (%zu B) | %.2f us%s (CPU %.2f us)", k->name, bench_case_req_len(k),
	       res->us, bench_case_depth(k) > 1 ? " per completion" : "/op", res->cpu_us);
	if (k->entries > 1)
		printf(", %.3f us/entry; nestd adds %.3f us/entry (CPU %.3f)", res->us / k->entries,
		       (res->us - res->floor_us) / k->entries,
		       (res->cpu_us - res->floor_cpu_us) / k->entries);
	printf(" | %s%s %.2f us (CPU %.2f us) | %.2fx (CPU %.2fx) | %s |\n",
	       k->loop_floor ? "event-loop echo round trip" : "raw round trip",
	       bench_case_depth(k) > 1 ? ", 32 in flight," : "", res->floor_us, res->floor_cpu_us,
	       res->ratio, res->cpu_ratio, k->goal);
}

static int bench_all(struct bench *b)
{
	struct bench_ratio res[N_CASES];
	int r;

	bench_print_header(b);
	for (size_t i = 0; i < N_CASES; i++) {
		r = bench_case_run(b, &bench_cases[i], &res[i]);
		if (r == -EOPNOTSUPP) { /* one CPU only: no "two CPUs" rows */
			res[i] = (struct bench_ratio){0};
			continue;
		}
		if (r < 0)
			return r;
		bench_print_row(&bench_cases[i], &res[i]);
	}
	printf("\n");
	for (size_t i = 0; i < N_CASES; i++)
		if (res[i].us > 0)
			bench_print_meaning(&bench_cases[i], &res[i], &res[0]);
	printf("\nARCHITECTURE.md §6: one invalidation costs %.2fx a raw socket round trip; a "
	       "batch of %u costs %.3f us per entry.\n",
	       res[0].ratio, NEST_BATCH_MAX, res[4].us / NEST_BATCH_MAX);
	printf("\nMarkdown rows (bench/run):\n");
	for (size_t i = 0; i < N_CASES; i++)
		if (res[i].us > 0)
			bench_print_markdown(&bench_cases[i], &res[i]);
	return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

static int bench_teardown(struct bench *b)
{
	bool running = b->nestd.pid > 0;
	int r = 0, q;

	b->c = nest_client_free(b->c);
	if ((q = bench_nestd_stop(&b->nestd)) < 0)
		r = q;
	else if (running)
		printf("nestd exited 0 on SIGTERM\n");
	if (b->echo_fd >= 0)
		close(b->echo_fd);
	if ((q = bench_echo_stop(&b->echo)) < 0)
		r = q;
	if (b->loop_fd >= 0)
		close(b->loop_fd);
	if ((q = bench_echo_stop(&b->loop)) < 0)
		r = q;
	if ((q = bench_nestd_cleanup(&b->nestd)) < 0)
		r = q;
	if (b->memfd >= 0)
		close(b->memfd);
	free(b->ent);
	return r;
}

static int bench_start(struct bench *b, const char *binary)
{
	const struct bench_nestd_conf cf = {.n_vms = 1};
	char path[128];
	int r;

	if ((r = bench_nestd_init(&b->nestd, binary, "daemon")) < 0)
		return r;
	/* both children before either connection: a child must not inherit the other's client */
	snprintf(path, sizeof(path), "%s/echo.sock", b->nestd.dir);
	if ((r = bench_echo_start(&b->echo, path, BENCH_ECHO_BLOCKING)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/echo-loop.sock", b->nestd.dir);
	if ((r = bench_echo_start(&b->loop, path, BENCH_ECHO_LOOP)) < 0)
		return r;
	if ((b->echo_fd = bench_echo_connect(&b->echo)) < 0)
		return bench_fail(NULL, "connect to echo", b->echo_fd);
	if ((b->loop_fd = bench_echo_connect(&b->loop)) < 0)
		return bench_fail(NULL, "connect to the event-loop echo", b->loop_fd);
	if ((b->memfd = bench_memfd("bench-daemon", MEM_LEN)) < 0)
		return b->memfd;
	if ((r = bench_nestd_config(&b->nestd, &cf)) < 0 ||
	    (r = bench_nestd_start(&b->nestd, false)) < 0)
		return r;
	return bench_nestd_connect(&b->nestd, &b->c);
}

/*
 * --profile: exactly @count INVALIDATE requests of @entries entries (or, with @entries 0,
 * PASID_ALLOC + PASID_FREE pairs), nothing timed, each after a pause of PROFILE_GAP_US. The pause
 * puts nestd back into epoll_wait() before every request, as with a VMM that does not pipeline,
 * also when a tool (valgrind, strace) slows nestd down so much that the next request would
 * otherwise already be waiting when it looks for one.
 */
static int bench_profile(struct bench *b, unsigned long count, unsigned entries)
{
	int r = 0;

	b->inv_n = entries;
	for (unsigned long i = 0; i < count && r == 0; i++) {
		usleep(PROFILE_GAP_US);
		r = entries ? bench_inv_once(b) : bench_pasid_pair(b->c, NULL);
	}
	if (r == 0 && entries)
		printf("%lu INVALIDATE requests of %u entries done\n", count, entries);
	else if (r == 0)
		printf("%lu PASID_ALLOC + PASID_FREE pairs done\n", count);
	return r;
}

static int bench_usage(void)
{
	fprintf(stderr,
		"usage: bench-daemon [NESTD]\n"
		"       bench-daemon --profile COUNT ENTRIES|pasid [NESTD]   (COUNT INVALIDATE "
		"requests of ENTRIES entries, or COUNT PASID_ALLOC + PASID_FREE pairs, untimed: for "
		"bench/callgrind)\n"
		"NESTD: default $NESTD_BINARY, else %s\n",
		bench_nestd_binary(NULL));
	return 2;
}

int main(int argc, char **argv)
{
	struct bench b = {.echo_fd = -1, .loop_fd = -1, .memfd = -1, .nestd.notify_fd = -1};
	unsigned long count = 0, entries = 0;
	char *end;
	int r, arg = 1;

	if (argc > 1 && strcmp(argv[1], "--profile") == 0) {
		if (argc < 4)
			return bench_usage();
		count = strtoul(argv[2], &end, 10);
		if (*end || !count)
			return bench_usage();
		entries = strcmp(argv[3], "pasid") == 0 ? 0 : strtoul(argv[3], &end, 10);
		if (entries ? *end || entries > NEST_BATCH_MAX : strcmp(argv[3], "pasid") != 0)
			return bench_usage();
		arg = 4;
	}
	if (argc > arg + 1 || (argc == arg + 1 && argv[arg][0] == '-'))
		return bench_usage();
	r = bench_start(&b, bench_nestd_binary(argc == arg + 1 ? argv[arg] : NULL));
	if (r == 0)
		r = bench_vm_setup(&b);
	if (r == 0)
		r = count ? bench_profile(&b, count, (unsigned)entries) : bench_all(&b);
	if (bench_teardown(&b) < 0)
		r = -1;
	return r < 0 ? 1 : 0;
}
