/* SPDX-License-Identifier: MIT */
/*
 * Fault injection sweep (issue 11): for every op below and every N, nestd-faultinject
 * (faultinj.c) fails the N-th allocation or backend call made while handling that op. The
 * request must either take full effect (as without the fault) or none at all (vm.list as
 * before), answer a clean errno (never a closed connection: the next request is served), and
 * nestd must exit 0 on SIGTERM (under ASan: no leak, LSan would make the exit status non-zero).
 * The sweep ends at the first N the op does not reach.
 */
#include <sys/stat.h>

#include "common.h"

#define FI_MAX_N 80

struct fi_case {
	const char *name;
	uint16_t op;
	unsigned setup; /* steps of the standard setup before the op: see fi_setup() */
	uint32_t flags; /* BIND: NEST_BIND_F_* (REPLACE: of the setup's binding by table 2) */
};

/* A second guest table (PML4 0x5000 .. PT 0x8000): GVA 0x400000 -> GPA 0x102000 ("BBBB"). */
#define FI_GPGD2 0x5000u

static void fi_table2(struct it_guest *g)
{
	uint64_t *pml4 = (uint64_t *)(g->mem + 0x5000), *pdpt = (uint64_t *)(g->mem + 0x6000);
	uint64_t *pd = (uint64_t *)(g->mem + 0x7000), *pt = (uint64_t *)(g->mem + 0x8000);

	pml4[0] = 0x6000 | IT_PTE_FLAGS;
	pdpt[0] = 0x7000 | IT_PTE_FLAGS;
	pd[2] = 0x8000 | IT_PTE_FLAGS;
	pt[0] = (IT_GPA + 0x2000) | IT_PTE_FLAGS;
	memcpy(g->mem + IT_GPA, "AAAA", 4);
	memcpy(g->mem + IT_GPA + 0x2000, "BBBB", 4);
}

/* 0: nothing, 1: attach, 2: + memory, 3: + PASID, 4: + bind */
static uint32_t fi_setup(struct tc *t, struct it_guest *g, unsigned level)
{
	uint32_t pasid = 0;

	if (level >= 1)
		cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	if (level >= 2)
		cr_assert_eq(tc_mem_add(t, g->fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE),
			     0);
	if (level >= 3)
		cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &pasid), 0);
	if (level >= 4)
		cr_assert_eq(tc_bind(t, pasid, IT_GPGD, 48, 0), 0);
	return pasid;
}

static int fi_do(struct tc *t, struct it_guest *g, const struct fi_case *fc, uint32_t pasid)
{
	uint16_t op = fc->op;
	struct nest_inv_entry e[2] = {
		{.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID, .pasid = pasid},
		{.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
		 .granularity = NEST_INV_GRANU_ADDR,
		 .pasid = pasid,
		 .addr = IT_GVA,
		 .granule_size = 4096,
		 .nb_granules = 1},
	};
	struct nest_device_get dg = {.size = sizeof(dg), .dev_id = 1};
	uint8_t buf[64];
	uint32_t p;

	switch (op) {
	case NEST_OP_VM_ATTACH:
		return tc_attach(t, "vm0", NEST_ATTACH_F_CHECKER, NULL);
	case NEST_OP_MEM_ADD:
		return tc_mem_add(t, g->fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE);
	case NEST_OP_MEM_REMOVE:
		return tc_mem_remove(t, 0, IT_MEM);
	case NEST_OP_PASID_ALLOC:
		return tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 5, &p);
	case NEST_OP_PASID_FREE:
		return tc_pasid_free(t, pasid, pasid, NULL);
	case NEST_OP_BIND:
		if (fc->flags & NEST_BIND_F_REPLACE) {
			struct nest_bind b = {.size = sizeof(b),
					      .flags = fc->flags,
					      .format = NEST_BIND_FMT_VTD_FL,
					      .addr_width = 48,
					      .gpgd = FI_GPGD2,
					      .hpasid = pasid};

			return tc_call(t, NEST_OP_BIND, &b, sizeof(b), NULL, 0, NULL, 0, NULL, 0,
				       NULL);
		}
		return tc_bind(t, pasid, IT_GPGD, 48, 0);
	case NEST_OP_UNBIND:
		return tc_unbind(t, pasid);
	case NEST_OP_INVALIDATE:
		return tc_invalidate(t, e, 2, NULL);
	case NEST_OP_DEVICE_GET:
		return tc_call(t, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, NULL, 0, NULL, 0,
			       NULL);
	case NEST_OP_SIM_DMA:
		return tc_dma(t, 1, pasid, IT_GVA, 0, buf, sizeof(buf), NULL);
	case NEST_OP_VM_DETACH:
		return tc_detach(t, 0);
	default:
		return -ENOTTY;
	}
}

/*
 * The VM's state as vm.list reports it, as one comparable string; for a replace also what each
 * device reads through the PASID once the caches are invalidated (all old or all new: "AAAA"
 * or "BBBB" on both devices, never a mix, a fault or nothing).
 */
static void fi_snapshot(struct tc *a, struct tc *t, const struct fi_case *fc, uint32_t pasid,
			char *out, size_t len)
{
	int n = snprintf(out, len, "state %ld regions %ld pasids %ld bindings %ld bytes %ld",
			 it_vm_field(a, "vm0", "state"), it_vm_field(a, "vm0", "regions"),
			 it_vm_field(a, "vm0", "pasids"), it_vm_field(a, "vm0", "bindings"),
			 it_vm_field(a, "vm0", "mem_bytes"));

	if (!(fc->flags & NEST_BIND_F_REPLACE))
		return;
	struct nest_inv_entry e[2] = {
		{.cache = NEST_CACHE_IOTLB | NEST_CACHE_PASID,
		 .granularity = NEST_INV_GRANU_DOMAIN},
		{.cache = NEST_CACHE_DEV_IOTLB,
		 .granularity = NEST_INV_GRANU_ADDR,
		 .addr = IT_GVA,
		 .granule_size = 4096,
		 .nb_granules = 1},
	};
	cr_assert_eq(tc_invalidate(t, e, 2, NULL), 0);
	for (uint32_t dev = 1; dev <= 2; dev++) {
		struct nest_sim_dma_reply dr;
		char buf[5] = {0};

		cr_assert_eq(tc_dma(t, dev, pasid, IT_GVA, 0, buf, 4, &dr), 0);
		n += snprintf(out + n, len - (size_t)n, " dev%u %s/%u", dev, buf, dr.fault_reason);
	}
}

/*
 * One run: fail the @n-th fallible call of the op (0: no fault). Returns whether the fault fired;
 * *ret is the op's result, @before / @after the snapshots around it.
 */
static bool fi_run(const struct fi_case *fc, long n, int *ret, char *before, char *after,
		   size_t len)
{
	struct td d;
	struct it_guest g;
	char conf[2048], op[32], nn[32], fired[200], path[160], skip[48];
	struct stat st;

	td_init(&d);
	d.bin = NESTD_FAULTINJECT;
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	snprintf(op, sizeof(op), "NESTD_FAULT_OP=%u", fc->op);
	snprintf(nn, sizeof(nn), "NESTD_FAULT_N=%ld", n);
	snprintf(path, sizeof(path), "%s/fired", d.dir);
	snprintf(fired, sizeof(fired), "NESTD_FAULT_FIRED=%s", path);
	d.env[0] = op;
	d.env[1] = nn;
	d.env[2] = fired;
	/* the setup's own BIND (level 4) runs before the BIND under test */
	snprintf(skip, sizeof(skip), "NESTD_FAULT_SKIP=%d",
		 fc->op == NEST_OP_BIND && fc->setup >= 4 ? 1 : 0);
	d.env[3] = skip;
	d.env[4] = NULL;
	cr_assert_eq(td_start(&d), 0);
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	uint32_t pasid;

	fi_table2(&g);
	pasid = fi_setup(t, &g, fc->setup);
	fi_snapshot(a, t, fc, pasid, before, len);
	*ret = fi_do(t, &g, fc, pasid);
	fi_snapshot(a, t, fc, pasid, after, len);
	bool did = stat(path, &st) == 0;
	/* the connection is still served */
	cr_expect_eq(tc_call(t, 250, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL), -ENOTTY,
		     "%s N=%ld: the connection did not survive (result %d)", fc->name, n, *ret);
	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	cr_expect_eq(td_stop(&d), 0, "%s N=%ld: nestd did not exit 0 (leak?)", fc->name, n);
	return did;
}

static void fi_sweep(const struct fi_case *fc)
{
	char b0[160], ok[160], b[160], a[160];
	int r;

	cr_assert_not(fi_run(fc, 0, &r, b0, ok, sizeof(ok)));
	cr_assert_eq(r, 0, "%s without a fault: %d", fc->name, r);
	for (long n = 1; n <= FI_MAX_N; n++) {
		bool fired = fi_run(fc, n, &r, b, a, sizeof(a));

		cr_expect_str_eq(b, b0);
		if (!fired) {
			cr_expect_eq(r, 0, "%s N=%ld: not reached, yet %d", fc->name, n, r);
			cr_log_info("%s: %ld fallible calls, each one failed once", fc->name,
				    n - 1);
			return;
		}
		if (r == 0) { /* tolerated: the full effect */
			cr_expect_str_eq(a, ok, "%s N=%ld: succeeded with a partial effect",
					 fc->name, n);
		} else {
			cr_expect(r == -ENOMEM || r == -EIO, "%s N=%ld: errno %d", fc->name, n, r);
			cr_expect_str_eq(a, b, "%s N=%ld: failed (%d) but changed the VM", fc->name,
					 n, r);
		}
	}
	cr_assert_fail("%s: still failing at N=%d", fc->name, FI_MAX_N);
}

#define FI_TEST(nm, opv, lvl)                                                                      \
	Test(faultinj, nm)                                                                         \
	{                                                                                          \
		static const struct fi_case fc = {#nm, opv, lvl, 0};                               \
		fi_sweep(&fc);                                                                     \
		NO_LEAKS();                                                                        \
	}

FI_TEST(vm_attach, NEST_OP_VM_ATTACH, 0)
FI_TEST(mem_add, NEST_OP_MEM_ADD, 1)
FI_TEST(device_get, NEST_OP_DEVICE_GET, 1)
FI_TEST(pasid_alloc, NEST_OP_PASID_ALLOC, 1)
FI_TEST(bind, NEST_OP_BIND, 3)
FI_TEST(invalidate, NEST_OP_INVALIDATE, 4)
FI_TEST(sim_dma, NEST_OP_SIM_DMA, 4)
FI_TEST(unbind, NEST_OP_UNBIND, 4)
FI_TEST(pasid_free, NEST_OP_PASID_FREE, 4)
FI_TEST(mem_remove, NEST_OP_MEM_REMOVE, 2)
FI_TEST(vm_detach, NEST_OP_VM_DETACH, 4)

/* REPLACE on both devices: a fault on the second device's swap puts the first one back. */
Test(faultinj, bind_replace)
{
	static const struct fi_case fc = {"bind_replace", NEST_OP_BIND, 4, NEST_BIND_F_REPLACE};

	fi_sweep(&fc);
	NO_LEAKS();
}

/*
 * REPLACE whose rollback fails too (PROTOCOL.md §8.9): three devices, a fault in the replace of
 * device k and another one in the rollback of a device j < k (and every other pair of faults up
 * to the op's end). The device that cannot go back is unbound and the VMM told (EV_UNBOUND,
 * before the reply); the reply is the error; and in every run nestd's books (admin vm.show)
 * match what each device really translates through the PASID (after a full invalidation: the
 * old table "AAAA", the new one "BBBB", or unbound: pasid-not-present).
 */
#define FR_DEVS 3

struct fr_state {
	char hw[FR_DEVS];    /* per device: 'A' old table, 'B' new table, '-' unbound */
	char books[FR_DEVS]; /* per device, from vm.show: its PASID's table, '-' not bound */
};

static void fr_state(struct tc *a, struct tc *t, uint32_t pasid, struct fr_state *s)
{
	struct json_object *res = NULL, *pasids, *p, *devs, *v;
	struct nest_inv_entry e[2] = {
		{.cache = NEST_CACHE_IOTLB | NEST_CACHE_PASID,
		 .granularity = NEST_INV_GRANU_DOMAIN},
		{.cache = NEST_CACHE_DEV_IOTLB,
		 .granularity = NEST_INV_GRANU_ADDR,
		 .addr = IT_GVA,
		 .granule_size = 4096,
		 .nb_granules = 1},
	};
	char table = '-';

	for (uint32_t dev = 1; dev <= FR_DEVS; dev++) {
		struct nest_sim_dma_reply dr;
		char buf[5] = {0};

		/* the IOTLB is per domain (VT-d): flushed before each device, so that each one
		 * reads through its own PASID entry, not through what another device cached */
		cr_assert_eq(tc_invalidate(t, e, 2, NULL), 0);
		cr_assert_eq(tc_dma(t, dev, pasid, IT_GVA, 0, buf, 4, &dr), 0);
		if (dr.fault_reason == NEST_FAULT_PASID_NOT_PRESENT)
			s->hw[dev - 1] = '-';
		else if (dr.fault_reason == 0 && (!strcmp(buf, "AAAA") || !strcmp(buf, "BBBB")))
			s->hw[dev - 1] = buf[0];
		else
			cr_assert_fail("device %u reads \"%s\", fault %u", dev, buf,
				       dr.fault_reason);
	}
	cr_assert_eq(tc_admin(a, "vm.show", "{\"name\":\"vm0\"}", &res), 0);
	cr_assert(json_object_object_get_ex(res, "pasids", &pasids));
	cr_assert_eq(json_object_array_length(pasids), 1);
	p = json_object_array_get_idx(pasids, 0);
	cr_assert(json_object_object_get_ex(p, "gpgd", &v));
	if (json_object_is_type(v, json_type_string))
		table = strtoull(json_object_get_string(v), NULL, 16) == FI_GPGD2 ? 'B' : 'A';
	cr_assert(json_object_object_get_ex(p, "devices", &devs));
	memset(s->books, '-', sizeof(s->books));
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		int64_t id = json_object_get_int64(json_object_array_get_idx(devs, i));

		cr_assert(id >= 1 && id <= FR_DEVS);
		s->books[id - 1] = table;
	}
	json_object_put(res);
}

/*
 * One run with the calls @n1 and @n2 of the REPLACE failing. Returns whether both were reached;
 * *ret is the reply, @s the state after it, @unbound the devices EV_UNBOUND named ('U').
 */
static bool fr_run(long n1, long n2, int *ret, struct fr_state *s, char *unbound)
{
	struct td d;
	struct it_guest g;
	char conf[2048], op[32], nn[48], fired[200], path[160];
	struct nest_ev_unbound ev;
	struct stat st;

	td_init(&d);
	d.bin = NESTD_FAULTINJECT;
	d.capture_stderr = true;
	it_std_conf(conf, sizeof(conf), "Device=dsa2 id=3 ats=yes pasid-bits=20", NULL);
	td_write_conf(&d, conf);
	snprintf(op, sizeof(op), "NESTD_FAULT_OP=%u", NEST_OP_BIND);
	snprintf(nn, sizeof(nn), "NESTD_FAULT_N=%ld,%ld", n1, n2);
	snprintf(path, sizeof(path), "%s/fired", d.dir);
	snprintf(fired, sizeof(fired), "NESTD_FAULT_FIRED=%s", path);
	d.env[0] = op;
	d.env[1] = nn;
	d.env[2] = fired;
	d.env[3] = "NESTD_FAULT_SKIP=1"; /* the setup's BIND */
	d.env[4] = NULL;
	cr_assert_eq(td_start(&d), 0);
	it_guest_init(&g);
	fi_table2(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	uint32_t pasid = fi_setup(t, &g, 4);
	struct nest_bind b = {.size = sizeof(b),
			      .flags = NEST_BIND_F_REPLACE,
			      .format = NEST_BIND_FMT_VTD_FL,
			      .addr_width = 48,
			      .gpgd = FI_GPGD2,
			      .hpasid = pasid};

	*ret = tc_call(t, NEST_OP_BIND, &b, sizeof(b), NULL, 0, NULL, 0, NULL, 0, NULL);
	/* the events came before the reply: they are stashed already */
	memset(unbound, '.', FR_DEVS);
	while (tc_wait_event(t, NEST_EV_UNBOUND, &ev, sizeof(ev), 0) == 0) {
		cr_assert_eq(ev.size, sizeof(ev));
		cr_assert_eq(ev.pasid, pasid);
		cr_assert_eq(ev.reason, NEST_UNBOUND_REPLACE_ROLLBACK);
		cr_assert(ev.dev_id >= 1 && ev.dev_id <= FR_DEVS);
		cr_assert_eq(unbound[ev.dev_id - 1], '.', "device %u named twice", ev.dev_id);
		unbound[ev.dev_id - 1] = 'U';
	}
	fr_state(a, t, pasid, s);
	bool did = stat(path, &st) == 0;
	if (did && strchr(unbound, 'U')) { /* the log and the audit record say which device */
		char want[160];
		FILE *f = fopen(d.log, "r");
		char line[1024];

		cr_assert_not_null(f);
		for (uint32_t dev = 1; dev <= FR_DEVS; dev++) {
			bool logged = false, audited = false;

			if (unbound[dev - 1] != 'U')
				continue;
			snprintf(want, sizeof(want), "device %u left unbound (rollback failed)",
				 dev);
			rewind(f);
			while (fgets(line, sizeof(line), f)) {
				char put_back[96];

				snprintf(put_back, sizeof(put_back),
					 "unbinding PASID %u on device %u", pasid, dev);
				logged = logged || strstr(line, put_back);
				audited = audited ||
					  (strstr(line, "audit: op=bind ") && strstr(line, want) &&
					   strstr(line, "; the other devices on the old table"));
			}
			cr_expect(logged, "no log line for device %u", dev);
			cr_expect(audited, "no audit record for device %u", dev);
		}
		fclose(f);
	}
	/* the connection is still served; the PASID can be bound again on the lost device */
	cr_expect_eq(tc_call(t, 250, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL), -ENOTTY);
	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	cr_expect_eq(td_stop(&d), 0, "N=%ld,%ld: nestd did not exit 0 (leak?)", n1, n2);
	return did;
}

Test(faultinj, bind_replace_rollback_fails)
{
	bool seen_j1 = false, seen_j2 = false;
	long runs = 0;

	/* the fallible calls: the swaps of devices 1, 2, 3, then the rollbacks, in device order */
	for (long n1 = 1; n1 <= 5; n1++) {
		for (long n2 = n1 + 1; n2 <= n1 + 3; n2++) {
			struct fr_state s;
			char unbound[FR_DEVS + 1] = {0}, hw[FR_DEVS + 1] = {0};
			int r;

			if (!fr_run(n1, n2, &r, &s, unbound))
				continue; /* the op ended before the second fault */
			runs++;
			memcpy(hw, s.hw, FR_DEVS);
			for (int i = 0; i < FR_DEVS; i++) {
				cr_expect_eq(s.books[i], s.hw[i],
					     "N=%ld,%ld: device %d: books '%c', device '%c' (%s)",
					     n1, n2, i + 1, s.books[i], s.hw[i], hw);
				cr_expect_eq(unbound[i] == 'U', s.hw[i] == '-',
					     "N=%ld,%ld: device %d unbound '%c', event '%c'", n1,
					     n2, i + 1, s.hw[i], unbound[i]);
			}
			if (r == 0) {
				cr_expect_str_eq(hw, "BBB", "N=%ld,%ld: success, yet %s", n1, n2,
						 hw);
				continue;
			}
			cr_expect(r == -EIO || r == -ENOMEM, "N=%ld,%ld: errno %d", n1, n2, r);
			cr_expect_null(strchr(hw, 'B'), "N=%ld,%ld: failed (%d), yet %s", n1, n2, r,
				       hw);
			seen_j1 = seen_j1 || !strcmp(hw, "-AA");
			seen_j2 = seen_j2 || !strcmp(hw, "A-A");
		}
	}
	cr_log_info("bind_replace_rollback_fails: %ld runs with both faults", runs);
	cr_expect(seen_j1, "no run left device 1 unbound (its rollback failed)");
	cr_expect(seen_j2, "no run left device 2 unbound (k = 3, j = 2)");
	NO_LEAKS();
}
