/* SPDX-License-Identifier: MIT */
/*
 * statefuzz - stateful protocol fuzzer against a real nestd (sim backend).
 *
 *   nest-statefuzz [--seed N] [--seeds K] [--steps N] [--nestd PATH] [--quiet]
 *
 * Random sequences of valid and invalid requests on several VMs over several connections, with
 * random disconnects, checked against a model of what nestd must hold. After every step the
 * admin socket's vm.list must match the model exactly for every VM (state, PASIDs, bindings,
 * regions, registered bytes: so no PASID is left on a dead VM, no binding on a freed PASID, no
 * quota exceeded), and a PASID handed out must not belong to another VM; every 256 steps nestd's
 * fd count and RSS must stay within bounds. Deterministic for a seed (xorshift64*). On a
 * failure it prints the seed, the step and the last steps as a trace, and the command that
 * replays it; the exit status is 1. K seeds run one after the other, each on a fresh nestd.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "nest-msg.h"
#include "tclient.h"

#define SF_VMS	    3
#define SF_CONNS    6
#define SF_QUOTA    4
#define SF_REGIONS  4
#define SF_SLOTS    6 /* region GPAs: slot * 16 MiB */
#define SF_MEM	    (4u << 20)
#define SF_TRACE    64
#define SF_FD_SLACK 16
/* RSS growth allowed; under ASan the allocator's quarantine alone holds up to 256 MiB */
#if defined(__SANITIZE_ADDRESS__)
#define SF_RSS_SLACK_KB (512 * 1024)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SF_RSS_SLACK_KB (512 * 1024)
#endif
#endif
#ifndef SF_RSS_SLACK_KB
#define SF_RSS_SLACK_KB (64 * 1024)
#endif

static const char *const sf_vm_names[SF_VMS] = {"vm0", "vm1", "vm2"};

struct sf_pasid {
	uint32_t pasid;
	bool bound;
	unsigned devs; /* bound on these devices of its VM (bit = index in the VM), when bound */
};

struct sf_vm {
	int conn;     /* slot attached, or -1 */
	unsigned rid; /* devices (bit = index in the VM) whose RID has a stage-1 table */
	struct sf_pasid pasids[SF_QUOTA];
	unsigned n_pasids;
	bool region[SF_SLOTS];
};

struct sf_conn {
	struct tc *t;
	int vm; /* attached, or -1 */
};

struct sf {
	uint64_t rng;
	uint64_t seed;
	unsigned long step;
	struct td d;
	struct tc *admin;
	struct sf_vm vm[SF_VMS];
	struct sf_conn conn[SF_CONNS];
	int memfd, unsealed;
	int base_fds;
	long base_rss;
	char trace[SF_TRACE][160];
	unsigned long n_trace;
	unsigned long ops_ok, ops_err, disconnects;
};

static uint64_t sf_rand(struct sf *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545F4914F6CDD1Dull;
}

static unsigned sf_pick(struct sf *s, unsigned n)
{
	return (unsigned)(sf_rand(s) % n);
}

static void sf_log(struct sf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sf_log(struct sf *s, const char *fmt, ...)
{
	char *line = s->trace[s->n_trace++ % SF_TRACE];
	int k = snprintf(line, 160, "#%lu ", s->step);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + k, 160 - (size_t)k, fmt, ap);
	va_end(ap);
}

static void sf_fail(struct sf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sf_fail(struct sf *s, const char *fmt, ...)
{
	unsigned long first = s->n_trace > SF_TRACE ? s->n_trace - SF_TRACE : 0;
	va_list ap;

	fprintf(stderr, "statefuzz: seed %llu step %lu: ", (unsigned long long)s->seed, s->step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nlast steps:\n");
	for (unsigned long i = first; i < s->n_trace; i++)
		fprintf(stderr, "  %s\n", s->trace[i % SF_TRACE]);
	fprintf(stderr, "replay: nest-statefuzz --seed %llu --steps %lu\n",
		(unsigned long long)s->seed, s->step + 1);
	if (s->d.pid > 0)
		td_stop(&s->d);
	exit(1);
}

/* The devices of the configuration: id, VM, index in the VM (sf_start's config). */
static const struct {
	uint32_t id;
	int vm, idx;
} sf_devs[] = {{1, 0, 0}, {2, 0, 1}, {7, 1, 0}, {9, 2, 0}};
static const unsigned sf_all_devs[] = {3, 1, 1}; /* per VM: every device's bit */

/* ---- model updates ---- */

static void sf_vm_clear(struct sf *s, int v)
{
	s->vm[v] = (struct sf_vm){.conn = -1};
}

/* The connection in @slot is gone (closed by us or by nestd): its VM is torn down. */
static void sf_conn_gone(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];

	if (c->vm >= 0)
		sf_vm_clear(s, c->vm);
	tc_free(c->t);
	*c = (struct sf_conn){.vm = -1};
	s->disconnects++;
}

/* nestd closes the connection after EPERM and EPROTO replies and on framing errors. */
static bool sf_closes(int r)
{
	return r == -EPERM || r == -EPROTO || r == -EPIPE;
}

static int sf_owner_of(const struct sf *s, uint32_t pasid)
{
	for (int v = 0; v < SF_VMS; v++)
		for (unsigned i = 0; i < s->vm[v].n_pasids; i++)
			if (s->vm[v].pasids[i].pasid == pasid)
				return v;
	return -1;
}

static struct sf_pasid *sf_find(struct sf_vm *vm, uint32_t pasid)
{
	for (unsigned i = 0; i < vm->n_pasids; i++)
		if (vm->pasids[i].pasid == pasid)
			return &vm->pasids[i];
	return NULL;
}

/* A PASID to use: mostly one of the VM's own, sometimes another VM's or a random one. */
static uint32_t sf_some_pasid(struct sf *s, int v)
{
	unsigned k = sf_pick(s, 10);

	if (v >= 0 && s->vm[v].n_pasids && k < 7)
		return s->vm[v].pasids[sf_pick(s, s->vm[v].n_pasids)].pasid;
	if (k < 9) {
		int o = (int)sf_pick(s, SF_VMS);

		if (s->vm[o].n_pasids)
			return s->vm[o].pasids[sf_pick(s, s->vm[o].n_pasids)].pasid;
	}
	return 1 + (uint32_t)sf_pick(s, 64);
}

static void sf_expect(struct sf *s, const char *what, int got, int want)
{
	if (got == 0)
		s->ops_ok++;
	else
		s->ops_err++;
	if (got != want)
		sf_fail(s, "%s: got %d (%s), expected %d (%s)", what, got, strerror(-got), want,
			strerror(-want));
}

/* ---- steps ---- */

static void sf_step_connect(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];

	c->t = tc_connect(s->d.sock);
	if (!c->t)
		sf_fail(s, "connect failed");
	sf_expect(s, "hello", tc_hello(c->t), 0);
	c->vm = -1;
	sf_log(s, "conn %d: connect + hello", slot);
}

static void sf_step_attach(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	int v = (int)sf_pick(s, SF_VMS + 1);	 /* SF_VMS: a name that does not exist */
	int want = c->vm >= 0		? -EBUSY /* one VM per connection, before the lookup */
		   : v == SF_VMS	? -ENOENT
		   : s->vm[v].conn >= 0 ? -EBUSY
					: 0;
	int r = tc_attach(c->t, v == SF_VMS ? "nope" : sf_vm_names[v], 0, NULL);

	sf_log(s, "conn %d: attach %s = %d", slot, v == SF_VMS ? "nope" : sf_vm_names[v], r);
	sf_expect(s, "attach", r, want);
	if (r == 0) {
		c->vm = v;
		s->vm[v].conn = slot;
	}
}

static void sf_step_detach(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	int r = tc_detach(c->t, 0);

	sf_log(s, "conn %d: detach = %d", slot, r);
	if (c->vm < 0) {
		sf_expect(s, "detach without a VM", r, -EPERM);
		sf_conn_gone(s, slot);
		return;
	}
	sf_expect(s, "detach", r, 0);
	sf_vm_clear(s, c->vm);
	c->vm = -1;
}

static void sf_step_mem_add(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	unsigned g = sf_pick(s, SF_SLOTS);
	uint64_t gpa = (uint64_t)g << 24;
	bool unsealed = sf_pick(s, 16) == 0;
	int fd = unsealed ? s->unsealed : s->memfd;
	int r = tc_mem_add(c->t, fd, gpa, SF_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE);
	unsigned n = 0;

	sf_log(s, "conn %d: mem-add gpa %#llx%s = %d", slot, (unsigned long long)gpa,
	       unsealed ? " (unsealed)" : "", r);
	if (c->vm < 0) {
		sf_expect(s, "mem-add without a VM", r, -EPERM);
		sf_conn_gone(s, slot);
		return;
	}
	for (unsigned i = 0; i < SF_SLOTS; i++)
		n += s->vm[c->vm].region[i];
	/* memory.c's order: overlap, region count, then the fd (an unsealed memfd is EINVAL) */
	sf_expect(s, "mem-add", r,
		  s->vm[c->vm].region[g] ? -EEXIST
		  : n >= SF_REGIONS	 ? -ENOSPC
		  : unsealed		 ? -EINVAL
					 : 0);
	if (r == 0)
		s->vm[c->vm].region[g] = true;
}

static void sf_step_mem_remove(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	unsigned g = sf_pick(s, SF_SLOTS);
	int r = tc_mem_remove(c->t, (uint64_t)g << 24, SF_MEM);

	sf_log(s, "conn %d: mem-remove gpa %#llx = %d", slot, (unsigned long long)g << 24, r);
	if (c->vm < 0) {
		sf_expect(s, "mem-remove without a VM", r, -EPERM);
		sf_conn_gone(s, slot);
		return;
	}
	sf_expect(s, "mem-remove", r, s->vm[c->vm].region[g] ? 0 : -ENOENT);
	s->vm[c->vm].region[g] = false;
}

static void sf_step_pasid_alloc(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	uint32_t pasid = 0;
	int r = tc_pasid_alloc(c->t, 1, NEST_PASID_MAX, &pasid);

	sf_log(s, "conn %d: pasid-alloc = %d (%u)", slot, r, r == 0 ? pasid : 0);
	if (c->vm < 0) {
		sf_expect(s, "pasid-alloc without a VM", r, -EPERM);
		sf_conn_gone(s, slot);
		return;
	}
	struct sf_vm *vm = &s->vm[c->vm];
	sf_expect(s, "pasid-alloc", r, vm->n_pasids >= SF_QUOTA ? -ENOSPC : 0);
	if (r < 0)
		return;
	if (sf_owner_of(s, pasid) >= 0)
		sf_fail(s, "pasid %u handed to %s is held by %s", pasid, sf_vm_names[c->vm],
			sf_vm_names[sf_owner_of(s, pasid)]);
	vm->pasids[vm->n_pasids++] = (struct sf_pasid){.pasid = pasid};
}

static void sf_step_pasid_free(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	uint32_t pasid = sf_some_pasid(s, c->vm), n = 0;
	int r = tc_pasid_free(c->t, pasid, pasid, &n);

	sf_log(s, "conn %d: pasid-free %u = %d", slot, pasid, r);
	if (c->vm < 0) {
		sf_expect(s, "pasid-free without a VM", r, -EPERM);
		sf_conn_gone(s, slot);
		return;
	}
	struct sf_vm *vm = &s->vm[c->vm];
	struct sf_pasid *p = sf_find(vm, pasid);
	sf_expect(s, "pasid-free", r, p ? 0 : -ENOENT);
	if (p)
		*p = vm->pasids[--vm->n_pasids]; /* freeing unbinds */
}

static void sf_step_bind(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	uint32_t pasid = sf_some_pasid(s, c->vm);
	int r = tc_bind(c->t, pasid, 0x1000, 48, 0);

	sf_log(s, "conn %d: bind %u = %d", slot, pasid, r);
	if (c->vm < 0) {
		sf_expect(s, "bind without a VM", r, -EPERM);
		sf_conn_gone(s, slot);
		return;
	}
	struct sf_pasid *p = sf_find(&s->vm[c->vm], pasid);
	sf_expect(s, "bind", r, !p ? -ENOENT : p->bound ? -EBUSY : 0);
	if (r == 0) {
		p->bound = true;
		p->devs = sf_all_devs[c->vm];
	}
}

/*
 * Protocol 1.2: a bind or unbind on one device (DEVICE) or on a device's RID (RID), with a
 * device that may be another VM's (ENOENT like none). Same table as sf_step_bind's, so a DEVICE
 * bind may join a PASID other devices have bound.
 */
static void sf_step_nesting(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	unsigned d = sf_pick(s, sizeof(sf_devs) / sizeof(sf_devs[0])), what = sf_pick(s, 4);
	bool rid = what >= 2, unbind = what & 1;
	uint32_t flags = NEST_BIND_F_DEVICE | (rid ? NEST_BIND_F_RID : 0);
	uint32_t pasid = rid ? 0 : sf_some_pasid(s, c->vm);
	struct nest_bind b = {.size = sizeof(b),
			      .flags = flags,
			      .format = NEST_BIND_FMT_VTD_FL,
			      .addr_width = 48,
			      .gpgd = 0x1000,
			      .hpasid = pasid,
			      .dev_id = sf_devs[d].id};
	struct nest_unbind u = {
		.size = sizeof(u), .flags = flags, .hpasid = pasid, .dev_id = sf_devs[d].id};
	int r = unbind ? tc_call(c->t, NEST_OP_UNBIND, &u, sizeof(u), NULL, 0, NULL, 0, NULL, 0,
				 NULL)
		       : tc_call(c->t, NEST_OP_BIND, &b, sizeof(b), NULL, 0, NULL, 0, NULL, 0,
				 NULL);

	sf_log(s, "conn %d: %s%s %u device %u = %d", slot, unbind ? "unbind" : "bind",
	       rid ? " RID" : "", pasid, sf_devs[d].id, r);
	if (c->vm < 0) {
		sf_expect(s, "nesting op without a VM", r, -EPERM);
		sf_conn_gone(s, slot);
		return;
	}
	struct sf_vm *vm = &s->vm[c->vm];
	unsigned bit = 1u << sf_devs[d].idx;
	if (sf_devs[d].vm != c->vm) {
		sf_expect(s, "another VM's device", r, -ENOENT);
		return;
	}
	if (rid) {
		sf_expect(s, unbind ? "RID unbind" : "RID bind", r,
			  unbind ? (vm->rid & bit ? 0 : -ENOENT) : (vm->rid & bit ? -EBUSY : 0));
		if (r == 0)
			vm->rid ^= bit;
		return;
	}
	struct sf_pasid *p = sf_find(vm, pasid);
	if (unbind) {
		sf_expect(s, "device unbind", r, p && p->bound && (p->devs & bit) ? 0 : -ENOENT);
		if (r == 0 && !(p->devs &= ~bit))
			p->bound = false;
	} else {
		sf_expect(s, "device bind", r, !p ? -ENOENT : (p->devs & bit) ? -EBUSY : 0);
		if (r == 0) {
			p->bound = true;
			p->devs |= bit;
		}
	}
}

static void sf_step_unbind(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	uint32_t pasid = sf_some_pasid(s, c->vm);
	int r = tc_unbind(c->t, pasid);

	sf_log(s, "conn %d: unbind %u = %d", slot, pasid, r);
	if (c->vm < 0) {
		sf_expect(s, "unbind without a VM", r, -EPERM);
		sf_conn_gone(s, slot);
		return;
	}
	struct sf_pasid *p = sf_find(&s->vm[c->vm], pasid);
	sf_expect(s, "unbind", r, p && p->bound ? 0 : -ENOENT);
	if (r == 0) {
		p->bound = false;
		p->devs = 0;
	}
}

static void sf_step_invalidate(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	struct nest_inv_entry e[4];
	unsigned n = 1 + sf_pick(s, 4);
	struct nest_invalidate_reply rep;

	for (unsigned i = 0; i < n; i++)
		e[i] = (struct nest_inv_entry){
			.cache = (uint8_t)(1 + sf_pick(s, 7)),
			.granularity = (uint8_t)sf_pick(s, 4), /* 3: invalid */
			.pasid = sf_some_pasid(s, c->vm),
			.addr = (uint64_t)sf_pick(s, 4) << 12,
			.granule_size = 4096,
			.nb_granules = 1 + sf_pick(s, 2),
		};
	int r = tc_invalidate(c->t, e, n, &rep);

	sf_log(s, "conn %d: invalidate x%u = %d", slot, n, r);
	if (c->vm < 0) {
		sf_expect(s, "invalidate without a VM", r, -EPERM);
		sf_conn_gone(s, slot);
		return;
	}
	if (sf_closes(r))
		sf_fail(s, "invalidate closed the connection (%d)", r);
}

/* Malformed or refused requests: never a success, and only framing errors close. */
static void sf_step_invalid(struct sf *s, int slot)
{
	struct sf_conn *c = &s->conn[slot];
	uint8_t buf[128];
	unsigned k = sf_pick(s, 6);
	uint32_t id;
	int r;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)sf_rand(s);
	switch (k) {
	case 0: /* unknown op */
		r = tc_send(c->t, 200 + (uint16_t)sf_pick(s, 50), buf, 16, NULL, 0, NULL, 0, &id);
		r = r < 0 ? r : tc_reply(c->t, id, NULL, 0, NULL);
		sf_log(s, "conn %d: unknown op = %d", slot, r);
		sf_expect(s, "unknown op", r, -ENOTTY);
		return;
	case 1: { /* PASID_ALLOC min > max */
		uint32_t p;
		r = tc_pasid_alloc(c->t, 10, 5, &p);
		sf_log(s, "conn %d: pasid-alloc 10..5 = %d", slot, r);
		sf_expect(s, "pasid-alloc min > max", r, c->vm >= 0 ? -EINVAL : -EPERM);
		break;
	}
	case 2: /* BIND with an unknown flag bit */
		r = tc_bind(c->t, sf_some_pasid(s, c->vm), 0x1000, 48, 1ull << 40);
		sf_log(s, "conn %d: bind bad flags = %d", slot, r);
		if (r == 0)
			sf_fail(s, "bind with unknown flags succeeded");
		break;
	case 3: /* a random body for a random known op, random size */
		r = tc_send(c->t, (uint16_t)(NEST_OP_VM_ATTACH + sf_pick(s, 11)), buf,
			    sf_pick(s, sizeof(buf)), NULL, 0, NULL, 0, &id);
		r = r < 0 ? r : tc_reply(c->t, id, NULL, 0, NULL);
		sf_log(s, "conn %d: random body = %d", slot, r);
		/* random bytes may form a valid request: reconcile through the admin check */
		if (r == 0 || c->vm < 0 || r == -EPERM) {
			sf_log(s, "conn %d: dropped after an unpredictable request", slot);
			sf_conn_gone(s, slot);
			return;
		}
		break;
	case 4: /* garbage framing: closed without a reply */
		tc_send_raw(c->t, buf, 4 + sf_pick(s, 12));
		sf_log(s, "conn %d: garbage datagram", slot);
		if (!tc_closed(c->t, 2000))
			sf_fail(s, "garbage did not close the connection");
		sf_conn_gone(s, slot);
		return;
	default: /* MEM_ADD without its fd */
		r = tc_send(c->t, NEST_OP_MEM_ADD, buf, 0, NULL, 0, NULL, 0, &id);
		r = r < 0 ? r : tc_reply(c->t, id, NULL, 0, NULL);
		sf_log(s, "conn %d: mem-add no fd = %d", slot, r);
		if (r == 0)
			sf_fail(s, "mem-add without an fd succeeded");
		break;
	}
	if (sf_closes(r))
		sf_conn_gone(s, slot);
}

/* ---- invariants through the admin socket ---- */

static long sf_json_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? (long)json_object_get_int64(v) : -1;
}

/* 0 if vm.list matches the model, else writes the difference to @why. */
static int sf_compare(struct sf *s, char *why, size_t len)
{
	struct json_object *res = NULL, *vms, *e, *v;
	int bad = 0;

	if (tc_admin(s->admin, "vm.list", NULL, &res) != 0 ||
	    !json_object_object_get_ex(res, "vms", &vms)) {
		snprintf(why, len, "vm.list failed");
		json_object_put(res);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(vms) && !bad; i++) {
		const struct sf_vm *m = NULL;
		const char *name, *state;
		unsigned bound = 0, regions = 0;

		e = json_object_array_get_idx(vms, i);
		name = json_object_object_get_ex(e, "name", &v) ? json_object_get_string(v) : "";
		state = json_object_object_get_ex(e, "state", &v) ? json_object_get_string(v) : "";
		for (int k = 0; k < SF_VMS; k++)
			if (strcmp(name, sf_vm_names[k]) == 0)
				m = &s->vm[k];
		if (!m)
			continue;
		for (unsigned k = 0; k < m->n_pasids; k++)
			bound += m->pasids[k].bound;
		bound += (unsigned)__builtin_popcount(m->rid);
		for (unsigned k = 0; k < SF_SLOTS; k++)
			regions += m->region[k];
		if (strcmp(state, m->conn >= 0 ? "attached" : "detached") != 0 ||
		    sf_json_int(e, "pasids") != (long)m->n_pasids ||
		    sf_json_int(e, "bindings") != (long)bound ||
		    sf_json_int(e, "regions") != (long)regions ||
		    sf_json_int(e, "mem_bytes") != (long)regions * SF_MEM ||
		    sf_json_int(e, "pasids") > SF_QUOTA) {
			snprintf(
				why, len,
				"%s: nestd says %s, %ld pasids, %ld bound, %ld regions, %ld bytes; "
				"model %s, %u, %u, %u",
				name, state, sf_json_int(e, "pasids"), sf_json_int(e, "bindings"),
				sf_json_int(e, "regions"), sf_json_int(e, "mem_bytes"),
				m->conn >= 0 ? "attached" : "detached", m->n_pasids, bound,
				regions);
			bad = 1;
		}
	}
	json_object_put(res);
	return bad;
}

static long sf_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

static void sf_check(struct sf *s, bool settle)
{
	char why[512];

	/* a connection we closed is torn down when nestd reads its EOF: wait for that */
	for (int tries = 0; sf_compare(s, why, sizeof(why)) != 0; tries++) {
		if (!settle || tries >= 200)
			sf_fail(s, "invariant: %s", why);
		usleep(1000);
	}
	if (s->step % 256 == 0) {
		unsigned open = 0;
		int fds = td_fd_count(&s->d);
		long rss = sf_rss_kb(s->d.pid);

		for (int i = 0; i < SF_CONNS; i++)
			open += s->conn[i].t != NULL;
		if (fds > s->base_fds + (int)open + SF_FD_SLACK)
			sf_fail(s, "nestd holds %d fds (%d at start, %u connections)", fds,
				s->base_fds, open);
		if (rss > s->base_rss + SF_RSS_SLACK_KB)
			sf_fail(s, "nestd's RSS grew from %ld to %ld kB", s->base_rss, rss);
	}
}

static void sf_run_step(struct sf *s)
{
	int slot = (int)sf_pick(s, SF_CONNS);
	struct sf_conn *c = &s->conn[slot];
	unsigned k = sf_pick(s, 100);
	bool settle = false;

	if (c->t && c->vm < 0 && sf_pick(s, 4) != 0)
		k = 3 + k % 10; /* mostly attach first: most ops need a VM */
	if (!c->t) {
		sf_step_connect(s, slot);
	} else if (k < 3) {
		sf_log(s, "conn %d: disconnect", slot);
		sf_conn_gone(s, slot);
		settle = true;
	} else if (k < 13) {
		sf_step_attach(s, slot);
	} else if (k < 16) {
		sf_step_detach(s, slot);
	} else if (k < 28) {
		sf_step_mem_add(s, slot);
	} else if (k < 36) {
		sf_step_mem_remove(s, slot);
	} else if (k < 52) {
		sf_step_pasid_alloc(s, slot);
	} else if (k < 64) {
		sf_step_pasid_free(s, slot);
	} else if (k < 76) {
		sf_step_bind(s, slot);
	} else if (k < 80) {
		sf_step_unbind(s, slot);
	} else if (k < 86) {
		sf_step_nesting(s, slot);
	} else if (k < 92) {
		sf_step_invalidate(s, slot);
	} else {
		sf_step_invalid(s, slot);
	}
	if (s->conn[slot].t)
		s->conn[slot].t->n_ev = 0; /* events are not part of the model */
	if (!s->conn[slot].t)
		settle = true;
	sf_check(s, settle);
}

static void sf_start(struct sf *s, const char *nestd)
{
	char conf[2048], uid[16];

	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	td_init(&s->d);
	s->d.bin = nestd;
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\n[Limits]\nAuditRate=0\n"
		 "[VM]\nName=vm0\nOwner=%s\nDevice=dsa0 id=1 ats=yes pasid-bits=20\n"
		 "Device=iax0 id=2\nPASIDQuota=%d\nMaxRegions=%d\nMemoryLimit=64M\n"
		 "[VM]\nName=vm1\nOwner=%s\nDevice=dsa1 id=7\nPASIDQuota=%d\nMaxRegions=%d\n"
		 "[VM]\nName=vm2\nOwner=%s\nDevice=dsa2 id=9 ats=yes\nPASIDQuota=%d\n"
		 "MaxRegions=%d\n",
		 uid, SF_QUOTA, SF_REGIONS, uid, SF_QUOTA, SF_REGIONS, uid, SF_QUOTA, SF_REGIONS);
	td_write_conf(&s->d, conf);
	if (td_start(&s->d) != 0)
		sf_fail(s, "nestd did not start");
	s->admin = tc_connect(s->d.admin);
	if (!s->admin || tc_hello(s->admin) != 0)
		sf_fail(s, "admin connection failed");
	for (int v = 0; v < SF_VMS; v++)
		sf_vm_clear(s, v);
	for (int i = 0; i < SF_CONNS; i++)
		s->conn[i] = (struct sf_conn){.vm = -1};
	s->base_fds = td_fd_count_stable(&s->d);
	s->base_rss = sf_rss_kb(s->d.pid);
}

static int sf_run(uint64_t seed, unsigned long steps, const char *nestd, bool quiet)
{
	struct sf *s = calloc(1, sizeof(*s));
	uint64_t t0 = (uint64_t)time(NULL);
	int st;

	s->seed = seed;
	s->rng = seed * 0x9E3779B97F4A7C15ull + 1;
	s->memfd = tc_memfd(SF_MEM, true);
	s->unsealed = tc_memfd(SF_MEM, false);
	sf_start(s, nestd);
	for (s->step = 0; s->step < steps; s->step++)
		sf_run_step(s);
	for (int i = 0; i < SF_CONNS; i++)
		if (s->conn[i].t)
			sf_conn_gone(s, i);
	s->step++;
	sf_check(s, true);
	tc_free(s->admin);
	st = td_stop(&s->d);
	if (st != 0) {
		fprintf(stderr, "statefuzz: seed %llu: nestd exited with %d\n",
			(unsigned long long)seed, st);
		return 1;
	}
	if (!quiet)
		printf("statefuzz: seed %llu: %lu steps (%lu checked ok, %lu checked errors), %lu "
		       "disconnects, %llu s: ok\n",
		       (unsigned long long)seed, steps, s->ops_ok, s->ops_err, s->disconnects,
		       (unsigned long long)((uint64_t)time(NULL) - t0));
	close(s->memfd);
	close(s->unsealed);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seed", required_argument, NULL, 's'},	 {"seeds", required_argument, NULL, 'k'},
		{"steps", required_argument, NULL, 'n'}, {"nestd", required_argument, NULL, 'b'},
		{"quiet", no_argument, NULL, 'q'},	 {},
	};
	uint64_t seed = 1;
	unsigned long steps = 10000, seeds = 1;
	const char *nestd = NULL;
	bool quiet = false;
	int c;

	while ((c = getopt_long(argc, argv, "s:k:n:b:q", opts, NULL)) >= 0) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			seeds = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			steps = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			nestd = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			fprintf(stderr, "usage: nest-statefuzz [--seed N] [--seeds K] [--steps N] "
					"[--nestd PATH] [--quiet]\n");
			return 2;
		}
	}
	for (unsigned long i = 0; i < seeds; i++)
		if (sf_run(seed + i, steps, nestd, quiet) != 0)
			return 1;
	return 0;
}
