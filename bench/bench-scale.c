/* SPDX-License-Identifier: MIT */
/*
 * bench-scale: what operators and VMM authors ask of nestd besides the invalidate path (issue 12):
 * the rate of the other requests, the footprint, and how nestd behaves at scale. Three private
 * nestd instances (bench-nestd.h), sim backend, each VM with Device=dsa0 id=1 ats=yes
 * pasid-bits=20:
 *
 * 1. footprint, one VM configured: time from fork+exec to READY=1 on a NOTIFY_SOCKET of ours (a
 *    datagram socket, as systemd's Type=notify), median of READY_REPS starts; VmRSS once READY=1
 *    came, nothing connected.
 * 2. requests, three VMs: bind+unbind pairs/s (vm0), PASID alloc+free pairs/s (vm0), and
 *    connect+HELLO+attach+detach+close per second (vm2), each against the raw SOCK_SEQPACKET floor
 *    of the same messages (bench-echo.h) in alternating windows; then vm1 gets N_BOUND PASIDs, all
 *    bound: RSS per binding, INVALIDATE x1 on vm1 (each request on the next of its PASIDs) against
 *    INVALIDATE x1 on vm0 (one bound PASID), and the teardown of vm1 when its VMM closes the socket,
 *    timed until the admin socket's vm.list says "detached" (median of TEARDOWN_REPS).
 * 3. scale, as many VMs as nestd accepts (NESTD_VMS_MAX, at most 1,024), all attached at once on
 *    their own connections, the whole 20-bit PASID space allocated across them (each VM from its
 *    own range), RSS per allocated PASID; PASID_ALLOC latency (blocking, [1, NEST_PASID_MAX]) on
 *    the last VM attached (the last of everything nestd keeps per VM) at that full space against
 *    an empty one: a second nestd with the same configuration runs
 *    meanwhile, and the samples alternate between the two (each PASID freed again, untimed), so
 *    that machine load hits both alike. The one PASID left free in the full space is the highest,
 *    the worst case for an allocator that hands out the lowest free PASID. The samples are taken
 *    twice, with the bench and both nestds pinned to one CPU and with the bench on a second CPU:
 *    left to the scheduler, one nestd often shares the bench's CPU and the other does not, and a
 *    cross-CPU wake-up (two per pair) costs nestd more CPU than the pair's work (scale_place()).
 *
 * Every figure is printed with its goal where issue 12 gives one, in a human table and as
 * Markdown rows ("| ...") that bench/run collects. Nothing passes or fails on a figure: the exit
 * status says whether every operation succeeded and every nestd exited 0 on SIGTERM. Runs in
 * about a minute.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <json-c/json.h>
#include <nest/libnest.h>

#include "bench-echo.h"
#include "bench-nestd.h"
#include "bench-scale.h"
#include "bench-util.h"

#define DEPTH	    32u		/* requests in flight when filling */
#define MEM_LEN	    (16u << 20) /* guest memory of a VM, GPA 0 */
#define GPGD	    0x1000u	/* an all-zero PML4: valid, maps nothing */
#define SCALE_CHUNK ((NEST_PASID_MAX + SCALE_VMS) / SCALE_VMS) /* PASID range of one VM */
#define HDR	    sizeof(struct nest_msg_hdr)
/* libnest's HELLO and nestd's answer: header, struct, capability JSON (strace: 256 and 140 B) */
#define HELLO_REQ   256u
#define HELLO_REPLY 140u

/* Requests in flight on one connection, the replies checked. */
struct scale_pipe {
	uint16_t op;
	uint32_t *pasids; /* PASID_ALLOC: where the PASIDs go; BIND: the hpasid of request i */
	size_t sent, done;
	int error;
};

/* ---- helpers ----------------------------------------------------------------------------- */

static void scale_pipe_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	struct scale_pipe *p = opaque;
	struct nest_pasid_reply out;

	if (r->error && !p->error)
		p->error = r->error;
	if (!r->error && p->op == NEST_OP_PASID_ALLOC) {
		if (r->fixed_len < sizeof(out)) {
			p->error = -EPROTO;
		} else {
			memcpy(&out, r->fixed, sizeof(out));
			p->pasids[p->done] = out.pasid;
		}
	}
	p->done++;
}

/*
 * @count requests @op with @body (for BIND its hpasid set to p->pasids[i]) on @c, DEPTH in flight.
 */
static int scale_pipe_run(nest_client *c, struct scale_pipe *p, void *body, size_t len,
			  size_t count)
{
	int r;

	p->sent = p->done = 0;
	p->error = 0;
	while (!p->error) {
		while (p->sent < count && nest_client_inflight(c) < DEPTH) {
			if (p->op == NEST_OP_BIND)
				((struct nest_bind *)body)->hpasid = p->pasids[p->sent];
			r = nest_client_send_async(c, p->op, body, len, NULL, 0, scale_pipe_cb, p,
						   NULL);
			if (r < 0)
				return bench_fail(c, nest_op_str(p->op), r);
			p->sent++;
		}
		if (!nest_client_inflight(c))
			break;
		if ((r = nest_client_wait(c, -1)) < 0)
			return bench_fail(c, "nest_client_wait", r);
	}
	if (p->error)
		return bench_fail(c, nest_op_str(p->op), p->error);
	return 0;
}

/* @count PASIDs in [@min, @max] into @ret, pipelined. */
static int scale_alloc_many(nest_client *c, uint32_t min, uint32_t max, size_t count, uint32_t *ret)
{
	struct nest_pasid_alloc a = {.size = sizeof(a), .min = min, .max = max};
	struct scale_pipe p = {.op = NEST_OP_PASID_ALLOC, .pasids = ret};

	return scale_pipe_run(c, &p, &a, sizeof(a), count);
}

/* Bind the empty table on every PASID of @pasids, pipelined. */
static int scale_bind_many(nest_client *c, uint32_t *pasids, size_t count)
{
	struct nest_bind b = {
		.size = sizeof(b), .format = NEST_BIND_FMT_VTD_FL, .addr_width = 48, .gpgd = GPGD};
	struct scale_pipe p = {.op = NEST_OP_BIND, .pasids = pasids};

	return scale_pipe_run(c, &p, &b, sizeof(b), count);
}

static int scale_bind(nest_client *c, uint32_t pasid)
{
	struct nest_bind b = {
		.format = NEST_BIND_FMT_VTD_FL, .addr_width = 48, .gpgd = GPGD, .hpasid = pasid};
	int r = nest_bind(c, &b);

	return r < 0 ? bench_fail(c, "BIND", r) : 0;
}

/* Connect, attach @vm and give it the guest memory. */
static int scale_vm_open(struct scale *s, const char *vm, nest_client **ret)
{
	int r;

	if ((r = bench_nestd_connect(&s->nestd, ret)) < 0)
		return r;
	if ((r = nest_vm_attach(*ret, vm, 0, NULL)) < 0)
		return bench_fail(*ret, "VM_ATTACH", r);
	if ((r = nest_mem_add(*ret, 0, MEM_LEN, s->memfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE)) <
	    0)
		return bench_fail(*ret, "MEM_ADD", r);
	return 0;
}

/* An admin command's JSON result, parsed; NULL after an error (reported). */
static struct json_object *scale_admin(struct scale *s, const char *cmd)
{
	struct json_object *j;
	char *reply = NULL;
	int r = nest_admin_call(s->admin, cmd, &reply);

	if (r < 0) {
		bench_fail(s->admin, cmd, r);
		return NULL;
	}
	j = json_tokener_parse(reply);
	free(reply);
	if (!j)
		bench_fail(NULL, "admin reply is not JSON", -EPROTO);
	return j;
}

static long scale_rss(struct scale *s)
{
	long kib = bench_nestd_rss_kib(&s->nestd);

	if (kib < 0)
		bench_fail(NULL, "VmRSS of nestd", (int)kib);
	return kib;
}

/* Stop nestd, close everything of part @s. */
static int scale_end(struct scale *s, int r)
{
	if (s->cs)
		for (unsigned i = 0; i < SCALE_VMS; i++)
			nest_client_free(s->cs[i]);
	free(s->cs);
	nest_client_free(s->c0);
	nest_client_free(s->c1);
	nest_client_free(s->admin);
	if (s->echo_fd >= 0)
		close(s->echo_fd);
	if (bench_echo_stop(&s->echo) < 0)
		r = -EIO;
	if (s->memfd >= 0)
		close(s->memfd);
	free(s->pasids);
	if (bench_nestd_cleanup(&s->nestd) < 0)
		r = -EIO;
	return r;
}

/* Part @s with @cf running, its memfd made and the admin socket connected. */
static int scale_begin(struct scale *s, struct scale_res *res, const char *binary, const char *tag,
		       const struct bench_nestd_conf *cf)
{
	int r;

	*s = (struct scale){.echo_fd = -1, .memfd = -1, .res = res};
	if ((r = bench_nestd_init(&s->nestd, binary, tag)) < 0 ||
	    (r = bench_nestd_config(&s->nestd, cf)) < 0)
		return r;
	if ((s->memfd = bench_memfd("bench-scale", MEM_LEN)) < 0)
		return s->memfd;
	if ((r = bench_nestd_start(&s->nestd, false)) < 0)
		return r;
	/* the first connect waits for the socket; the admin socket is bound just before it */
	if ((r = bench_nestd_connect(&s->nestd, &s->c0)) < 0)
		return r;
	if ((r = nest_admin_connect(s->nestd.admin, 0, &s->admin)) < 0)
		return bench_fail(NULL, "connect to the admin socket", r);
	return 0;
}

/* ---- part 1: footprint ------------------------------------------------------------------- */

static int scale_footprint(const char *binary, struct scale_res *res)
{
	const struct bench_nestd_conf cf = {.n_vms = 1};
	struct bench_nestd n;
	double t[READY_REPS];
	int r;

	if ((r = bench_nestd_init(&n, binary, "start")) < 0 ||
	    (r = bench_nestd_config(&n, &cf)) < 0)
		goto out;
	for (int i = 0; i < READY_REPS; i++) {
		if ((r = bench_nestd_start(&n, true)) < 0 ||
		    (r = bench_nestd_wait_ready(&n, &t[i])) < 0)
			goto out;
		if (i == READY_REPS - 1) {
			res->rss_idle_kib = bench_nestd_rss_kib(&n);
			if (res->rss_idle_kib < 0) {
				r = bench_fail(NULL, "VmRSS of nestd", (int)res->rss_idle_kib);
				goto out;
			}
		}
		if ((r = bench_nestd_stop(&n)) < 0)
			goto out;
	}
	res->ready_ms = bench_median(t, READY_REPS) * 1e3;
	res->ready_min_ms = bench_percentile(t, READY_REPS, 0) * 1e3;
	res->ready_max_ms = t[READY_REPS - 1] * 1e3;
out:
	if (bench_nestd_cleanup(&n) < 0 && r == 0)
		r = -EIO;
	return r;
}

/* ---- part 2: request rates, bindings, INVALIDATE with many bound, teardown ---------------- */

static int scale_bind_pair(void *arg)
{
	struct scale *s = arg;
	int r;

	if ((r = scale_bind(s->c0, s->p_free)) < 0)
		return r;
	if ((r = nest_unbind(s->c0, s->p_free)) < 0)
		return bench_fail(s->c0, "UNBIND", r);
	return 0;
}

static int scale_bind_floor(void *arg)
{
	struct scale *s = arg;
	int r = bench_echo_call(&s->echo, s->echo_fd, HDR + sizeof(struct nest_bind), HDR);

	if (r == 0)
		r = bench_echo_call(&s->echo, s->echo_fd, HDR + sizeof(struct nest_unbind), HDR);
	return r;
}

static int scale_alloc_pair(void *arg)
{
	struct scale *s = arg;
	uint32_t p, n;
	int r;

	if ((r = nest_pasid_alloc(s->c0, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &p)) < 0)
		return bench_fail(s->c0, "PASID_ALLOC", r);
	if ((r = nest_pasid_free(s->c0, p, p, &n)) < 0 || n != 1)
		return bench_fail(s->c0, "PASID_FREE", r < 0 ? r : -EIO);
	return 0;
}

static int scale_alloc_floor(void *arg)
{
	const uint32_t reply = HDR + sizeof(struct nest_pasid_reply);
	struct scale *s = arg;
	int r = bench_echo_call(&s->echo, s->echo_fd, HDR + sizeof(struct nest_pasid_alloc), reply);

	if (r == 0)
		r = bench_echo_call(&s->echo, s->echo_fd, HDR + sizeof(struct nest_pasid_free),
				    reply);
	return r;
}

static int scale_conn_cycle(void *arg)
{
	struct scale *s = arg;
	nest_client *c;
	int r;

	if ((r = nest_client_connect(s->nestd.sock, 0, &c)) < 0)
		return bench_fail(NULL, "connect", r);
	if ((r = nest_vm_attach(c, "vm2", 0, NULL)) < 0 || (r = nest_vm_detach(c, 0)) < 0)
		bench_fail(c, "VM_ATTACH/VM_DETACH", r);
	nest_client_free(c);
	return r;
}

static int scale_conn_floor(void *arg)
{
	struct scale *s = arg;
	int r, fd = bench_echo_connect(&s->echo);

	if (fd < 0)
		return bench_fail(NULL, "connect to echo", fd);
	r = bench_echo_call(&s->echo, fd, HELLO_REQ, HELLO_REPLY);
	if (r == 0)
		r = bench_echo_call(&s->echo, fd, HDR + sizeof(struct nest_vm_attach),
				    HDR + sizeof(struct nest_vm_info));
	if (r == 0)
		r = bench_echo_call(&s->echo, fd, HDR + sizeof(struct nest_vm_detach), HDR);
	close(fd);
	return r;
}

/* INVALIDATE x1 of a 4 KiB page of @pasid on @c. */
static int scale_inv(struct scale *s, nest_client *c, uint32_t pasid)
{
	struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
				   .granularity = NEST_INV_GRANU_ADDR,
				   .pasid = pasid,
				   .addr = (uint64_t)(s->inv_page++ % (MEM_LEN >> 12)) << 12,
				   .granule_size = 4096,
				   .nb_granules = 1};
	size_t done = 0;
	int ferr = 0, r = nest_invalidate(c, &e, 1, &done, &ferr);

	if (r < 0 || done != 1)
		return bench_fail(c, "INVALIDATE", r < 0 ? r : ferr < 0 ? ferr : -EIO);
	return 0;
}

/* INVALIDATE x1 on vm1, each on the next of its N_BOUND bound PASIDs. */
static int scale_inv_many(void *arg)
{
	struct scale *s = arg;

	s->inv_next = (s->inv_next + 1) % N_BOUND;
	return scale_inv(s, s->c1, s->pasids[s->inv_next]);
}

/* INVALIDATE x1 on vm0, its one bound PASID. */
static int scale_inv_one(void *arg)
{
	struct scale *s = arg;

	return scale_inv(s, s->c0, s->p_bound);
}

/* vm1 attached on s->c1 with N_BOUND PASIDs, all bound; RSS before and after the binds. */
static int scale_vm1_fill(struct scale *s, long *rss_alloc, long *rss_bound)
{
	int r;

	if ((r = scale_vm_open(s, "vm1", &s->c1)) < 0 ||
	    (r = scale_alloc_many(s->c1, 1, NEST_PASID_MAX, N_BOUND, s->pasids)) < 0)
		return r;
	if (rss_alloc && (*rss_alloc = scale_rss(s)) < 0)
		return -EIO;
	if ((r = scale_bind_many(s->c1, s->pasids, N_BOUND)) < 0)
		return r;
	if (rss_bound && (*rss_bound = scale_rss(s)) < 0)
		return -EIO;
	return 0;
}

/* vm1's entry in vm.list: "detached" with nothing held (1), still there (0), or -errno. */
static int scale_vm1_detached(struct scale *s)
{
	struct json_object *j = scale_admin(s, "{\"command\":\"vm.list\"}"), *vms, *v, *f;
	int r = -ENOENT;

	if (!j)
		return -EIO;
	if (json_object_object_get_ex(j, "vms", &vms) && json_object_is_type(vms, json_type_array))
		for (size_t i = 0; i < json_object_array_length(vms); i++) {
			v = json_object_array_get_idx(vms, i);
			if (!json_object_object_get_ex(v, "name", &f) ||
			    strcmp(json_object_get_string(f), "vm1") != 0)
				continue;
			r = json_object_object_get_ex(v, "state", &f) &&
			    strcmp(json_object_get_string(f), "detached") == 0;
			if (r && (!json_object_object_get_ex(v, "pasids", &f) ||
				  json_object_get_int(f) != 0))
				r = -EIO; /* detached, yet holding PASIDs */
		}
	json_object_put(j);
	if (r < 0)
		bench_fail(NULL, "vm1 in vm.list", r);
	return r;
}

/* The VMM of vm1 closes its socket: time until vm.list says vm1 is detached. */
static int scale_teardown(struct scale *s, double *ret_ms)
{
	double t0, t;
	int r;

	t0 = bench_now();
	s->c1 = nest_client_free(s->c1);
	for (;;) {
		r = scale_vm1_detached(s);
		t = bench_now();
		if (r < 0)
			return r;
		if (r == 1)
			break;
		if (t - t0 > 10.0)
			return bench_fail(NULL, "vm1 still attached 10 s after its VMM closed",
					  -ETIMEDOUT);
	}
	*ret_ms = (t - t0) * 1e3;
	return 0;
}

static int scale_requests_run(struct scale *s)
{
	struct scale_res *res = s->res;
	struct bench_servers srv;
	long rss0, rss1, rss2;
	int r;

	if ((r = nest_vm_attach(s->c0, "vm0", 0, NULL)) < 0)
		return bench_fail(s->c0, "VM_ATTACH", r);
	if ((r = nest_mem_add(s->c0, 0, MEM_LEN, s->memfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE)) <
	    0)
		return bench_fail(s->c0, "MEM_ADD", r);
	if ((r = nest_pasid_alloc(s->c0, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &s->p_bound)) < 0 ||
	    (r = nest_pasid_alloc(s->c0, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &s->p_free)) < 0)
		return bench_fail(s->c0, "PASID_ALLOC", r);
	if ((r = scale_bind(s->c0, s->p_bound)) < 0)
		return r;
	if ((s->echo_fd = bench_echo_open(&s->echo, s->nestd.dir)) < 0)
		return s->echo_fd;
	srv = (struct bench_servers){.run = s->nestd.pid, .floor = s->echo.pid};
	if ((r = bench_alternate_once(scale_bind_pair, scale_bind_floor, s, &srv, &res->bind)) <
		    0 ||
	    (r = bench_alternate_once(scale_alloc_pair, scale_alloc_floor, s, &srv, &res->alloc)) <
		    0)
		return r;
	close(s->echo_fd); /* the echo serves one connection at a time */
	s->echo_fd = -1;
	if ((r = bench_alternate_once(scale_conn_cycle, scale_conn_floor, s, &srv, &res->conn)) < 0)
		return r;

	s->pasids = calloc(N_BOUND, sizeof(*s->pasids));
	if (!s->pasids)
		return bench_fail(NULL, "PASID array", -ENOMEM);
	if ((rss0 = scale_rss(s)) < 0 || (r = scale_vm1_fill(s, &rss1, &rss2)) < 0)
		return rss0 < 0 ? -EIO : r;
	res->bytes_per_bound_pasid = (double)(rss1 - rss0) * 1024.0 / N_BOUND;
	res->bytes_per_binding = (double)(rss2 - rss1) * 1024.0 / N_BOUND;
	srv.floor = s->nestd.pid; /* both sides are nestd: 10,000 bound against 1 */
	if ((r = bench_alternate_once(scale_inv_many, scale_inv_one, s, &srv, &res->inv)) < 0)
		return r;
	for (int i = 0; i < TEARDOWN_REPS; i++) {
		if (i > 0 && (r = scale_vm1_fill(s, NULL, NULL)) < 0)
			return r;
		if ((r = scale_teardown(s, &res->teardown_ms[i])) < 0)
			return r;
	}
	res->teardown_med_ms = bench_median(res->teardown_ms, TEARDOWN_REPS);
	return 0;
}

static int scale_requests(const char *binary, struct scale_res *res)
{
	const struct bench_nestd_conf cf = {
		.n_vms = 3,
		.vm_keys = "PASIDQuota=65536\n",
		.limits = "MaxConnections=4096\nMaxConnectionsPerUser=4096\n",
	};
	struct scale s;
	int r = scale_begin(&s, res, binary, "requests", &cf);

	if (r == 0)
		r = scale_requests_run(&s);
	return scale_end(&s, r);
}

/* ---- part 3: many VMs, the whole PASID space ---------------------------------------------- */

/* How many vms_attached the admin socket's status reports, or -errno. */
static int scale_attached(struct scale *s)
{
	struct json_object *j = scale_admin(s, "{\"command\":\"status\"}"), *f;
	int n = -EPROTO;

	if (!j)
		return -EIO;
	if (json_object_object_get_ex(j, "vms_attached", &f))
		n = json_object_get_int(f);
	json_object_put(j);
	return n;
}

/* Every VM attached on its own connection; cs[0] is c0. */
static int scale_attach_all(struct scale *s)
{
	struct scale_res *res = s->res;
	char name[32];
	double t0;
	int r;

	s->cs = calloc(SCALE_VMS, sizeof(*s->cs));
	if (!s->cs)
		return bench_fail(NULL, "clients", -ENOMEM);
	s->cs[0] = s->c0;
	s->c0 = NULL;
	t0 = bench_now();
	for (unsigned i = 0; i < SCALE_VMS; i++) {
		snprintf(name, sizeof(name), "vm%u", i);
		if (i > 0 && (r = nest_client_connect(s->nestd.sock, 0, &s->cs[i])) < 0)
			return bench_fail(NULL, "connect", r);
		if ((r = nest_vm_attach(s->cs[i], name, 0, NULL)) < 0)
			return bench_fail(s->cs[i], "VM_ATTACH", r);
	}
	res->attach_s = bench_now() - t0;
	if ((r = scale_attached(s)) < 0)
		return r;
	if ((unsigned)r != SCALE_VMS)
		return bench_fail(NULL, "status: vms_attached is not every VM", -EIO);
	res->n_vms = SCALE_VMS;
	return 0;
}

/* All of the PASID space but its highest PASID, each VM from its own range. */
static int scale_fill(struct scale *s)
{
	uint64_t left = NEST_PASID_MAX - 1;
	uint32_t *buf = calloc(SCALE_CHUNK, sizeof(*buf));
	double t0 = bench_now();
	int r = 0;

	if (!buf)
		return bench_fail(NULL, "PASID array", -ENOMEM);
	s->res->n_fill = left;
	for (unsigned i = 0; i < SCALE_VMS && left && r == 0; i++) {
		uint32_t min = i * SCALE_CHUNK + 1, max = min + SCALE_CHUNK - 1;
		uint64_t n = SCALE_CHUNK;

		if (max > NEST_PASID_MAX) {
			max = NEST_PASID_MAX;
			n = max - min + 1;
		}
		if (n > left)
			n = left;
		r = scale_alloc_many(s->cs[i], min, max, n, buf);
		left -= n;
	}
	s->res->fill_s = bench_now() - t0;
	free(buf);
	return r;
}

static int scale_free_all(struct scale *s)
{
	uint64_t total = 0;
	double t0 = bench_now();
	uint32_t n;
	int r;

	for (unsigned i = 0; i < SCALE_VMS; i++) {
		if ((r = nest_pasid_free(s->cs[i], 1, NEST_PASID_MAX, &n)) < 0)
			return bench_fail(s->cs[i], "PASID_FREE", r);
		total += n;
	}
	s->res->free_s = bench_now() - t0;
	if (total != NEST_PASID_MAX)
		return bench_fail(NULL, "PASID_FREE did not free the whole space", -EIO);
	return 0;
}

static int scale_space_run(struct scale *s, struct scale *e)
{
	struct scale_res *res = s->res;
	long rss0, rss1;
	char last[32];
	uint32_t p;
	int r;

	if ((res->rss_vms_kib = scale_rss(s)) < 0)
		return -EIO;
	if ((r = scale_attach_all(s)) < 0)
		return r;
	if ((res->rss_attached_kib = scale_rss(s)) < 0)
		return -EIO;
	snprintf(last, sizeof(last), "vm%u", SCALE_VMS - 1);
	if ((r = nest_vm_attach(e->c0, last, 0, NULL)) < 0)
		return bench_fail(e->c0, "VM_ATTACH", r);
	if ((rss0 = scale_rss(s)) < 0 || (r = scale_fill(s)) < 0 || (rss1 = scale_rss(s)) < 0)
		return r < 0 ? r : -EIO;
	res->bytes_per_pasid = (double)(rss1 - rss0) * 1024.0 / (double)res->n_fill;
	if ((r = scale_latency(s, e)) < 0)
		return r;
	/* the last free PASID, and then the space is full */
	if ((r = nest_pasid_alloc(s->cs[1], 1, NEST_PASID_MAX, NEST_GPASID_NONE, &p)) < 0)
		return bench_fail(s->cs[1], "PASID_ALLOC of the last PASID", r);
	r = nest_pasid_alloc(s->cs[1], 1, NEST_PASID_MAX, NEST_GPASID_NONE, &p);
	if (r != -ENOSPC)
		return bench_fail(s->cs[1], "PASID_ALLOC on a full space did not say ENOSPC",
				  r < 0 ? r : -EEXIST);
	return scale_free_all(s);
}

static int scale_space(const char *binary, struct scale_res *res)
{
	char vm_keys[64];
	const struct bench_nestd_conf cf = {
		.n_vms = SCALE_VMS,
		.vm_keys = vm_keys,
		.limits = "MaxConnections=4096\nMaxConnectionsPerUser=4096\n",
	};
	struct scale s, e;
	int r;

	/* each VM its range, vm1 the last PASID too */
	snprintf(vm_keys, sizeof(vm_keys), "PASIDQuota=%u\n", SCALE_CHUNK + 1);
	r = scale_begin(&s, res, binary, "space", &cf);
	if (r == 0)
		r = scale_begin(&e, res, binary, "empty", &cf);
	else
		e = (struct scale){.echo_fd = -1, .memfd = -1, .nestd.notify_fd = -1};
	if (r == 0)
		r = scale_space_run(&s, &e);
	r = scale_end(&e, r);
	return scale_end(&s, r);
}

/* ---- --profile-pasid: PASID_ALLOC + PASID_FREE pairs at 1,024 VMs for bench/callgrind ------ */

/* Wait for a line on stdin (bench/callgrind switches the tool's instrumentation meanwhile). */
static int scale_sync(const char *say)
{
	char line[16];

	printf("%s\n", say);
	fflush(stdout);
	return fgets(line, sizeof(line), stdin) ? 0 : bench_fail(NULL, "stdin closed", -EPIPE);
}

/*
 * SCALE_VMS VMs attached, the space filled as part 3 does when @full, then "ready" on stdout and
 * a line from stdin, @count blocking PASID_ALLOC ([1, NEST_PASID_MAX]) + PASID_FREE pairs on the
 * last VM attached, then "done" and a line from stdin again before nestd is stopped.
 */
static int scale_profile(const char *binary, unsigned long count, bool full)
{
	char vm_keys[64];
	const struct bench_nestd_conf cf = {
		.n_vms = SCALE_VMS,
		.vm_keys = vm_keys,
		.limits = "MaxConnections=4096\nMaxConnectionsPerUser=4096\n",
	};
	struct scale_res res = {0};
	struct scale s;
	double us;
	int r;

	snprintf(vm_keys, sizeof(vm_keys), "PASIDQuota=%u\n", SCALE_CHUNK + 1);
	r = scale_begin(&s, &res, binary, "profile", &cf);
	if (r == 0)
		r = scale_attach_all(&s);
	if (r == 0 && full)
		r = scale_fill(&s);
	if (r == 0)
		r = scale_sync("ready");
	for (unsigned long i = 0; i < count && r == 0; i++)
		r = bench_pasid_pair(s.cs[SCALE_VMS - 1], &us);
	if (r == 0)
		r = scale_sync("done");
	return scale_end(&s, r);
}

/* ---- main -------------------------------------------------------------------------------- */

/* Room for SCALE_VMS connections and nestd's own descriptors. */
static void scale_rlimit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4 * SCALE_VMS + 64) {
		rl.rlim_cur = rl.rlim_max < 4 * SCALE_VMS + 64 ? rl.rlim_max : 4 * SCALE_VMS + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct scale_res res = {0};
	const char *binary;
	char machine[96];
	double t0 = bench_now();
	int r;

	scale_rlimit();
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "--profile-pasid") == 0 &&
	    (strcmp(argv[3], "full") == 0 || strcmp(argv[3], "empty") == 0)) {
		binary = bench_nestd_binary(argc == 5 ? argv[4] : NULL);
		r = scale_profile(binary, strtoul(argv[2], NULL, 10), argv[3][0] == 'f');
		return r < 0 ? 1 : 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr,
			"usage: bench-scale [NESTD]  (default: $NESTD_BINARY, else %s)\n"
			"       bench-scale --profile-pasid COUNT full|empty [NESTD]\n",
			bench_nestd_binary(NULL));
		return 2;
	}
	binary = bench_nestd_binary(argc == 2 ? argv[1] : NULL);
	bench_machine(machine, sizeof(machine));
	printf("bench-scale: nestd (%s, sim backend) through libnest; %s\n", binary, machine);
	r = scale_footprint(binary, &res);
	if (r == 0)
		r = scale_requests(binary, &res);
	if (r == 0)
		r = scale_space(binary, &res);
	if (r < 0)
		return 1;
	scale_print(&res);
	printf("\nevery nestd exited 0 on SIGTERM; %.0f s\n", bench_now() - t0);
	return 0;
}
