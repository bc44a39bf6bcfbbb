/* SPDX-License-Identifier: MIT */
/*
 * Denial of service by one local user (issue 11): fd exhaustion, the admin reserve, audit
 * flooding and guest memory materialised by the sim's DMA. Each case is the regression test of
 * one fix: it fails on a nestd without it.
 */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "common.h"

static long status_num(struct tc *a, const char *key)
{
	struct json_object *res = NULL, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, "status", NULL, &res), 0);
	if (json_object_object_get_ex(res, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

static long stats_num(struct tc *a, const char *key)
{
	struct json_object *res = NULL, *dm, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, "stats", NULL, &res), 0);
	if (json_object_object_get_ex(res, "daemon", &dm) && json_object_object_get_ex(dm, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

/* The soft RLIMIT_NOFILE of @pid from /proc/<pid>/limits. */
static long proc_soft_nofile(pid_t pid)
{
	char path[64], line[256];
	long soft = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Max open files", 14) == 0)
			soft = strtol(line + 14, NULL, 10);
	fclose(f);
	return soft;
}

/* The lowest fd number @pid has free: with RLIMIT_NOFILE at it, @pid cannot open any fd. */
static long lowest_free_fd(pid_t pid)
{
	char path[64];

	for (long n = 0; n < 65536; n++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%ld", (int)pid, n);
		if (access(path, F_OK) < 0)
			return n;
	}
	return -1;
}

/* A connection that got through HELLO, or NULL if nestd refused (closed) it. */
static struct tc *try_client(const char *path)
{
	struct tc *t = tc_connect(path);

	if (t && tc_hello(t) != 0) {
		tc_free(t);
		t = NULL;
	}
	return t;
}

/* nestd raises its soft fd limit to the hard one and derives its connection cap from it. */
Test(dos, fd_limit_raised_and_connection_cap_derived)
{
	struct td d;
	char conf[2048];

	td_init(&d);
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	d.nofile = 256;
	d.nofile_hard = 2048;
	cr_assert_eq(td_start(&d), 0);
	cr_expect_eq(proc_soft_nofile(d.pid), 2048);
	struct tc *a = it_admin(&d);
	long cap = status_num(a, "max_connections");
	cr_expect_eq(status_num(a, "fd_limit"), 2048);
	/* 5 fds per connection (socket + 4 queued) and a reserve: well below 2048 / 5 */
	cr_expect(cap > 300 && cap <= 2048 / 5, "cap %ld", cap);
	cr_expect_eq(status_num(a, "admin_reserve"), 8);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * With the default MaxConnections=1024 and a small fd limit, a flood of connections used to take
 * every fd: the attached VMM's next MEM_ADD lost its memfd (MSG_CTRUNC), was taken for a
 * protocol error and its VM torn down. The derived cap keeps fds for it and for the admin.
 */
Test(dos, connection_flood_cannot_exhaust_fds)
{
	enum { N = 200 };
	struct td d;
	char conf[2048];
	struct tc *flood[N];
	struct it_guest g;
	int admitted = 0;

	td_init(&d);
	it_std_conf(conf, sizeof(conf), NULL, "[Limits]\nMaxConnectionsPerUser=1000\n");
	td_write_conf(&d, conf);
	d.nofile = 240; /* reserve 150 (64 + 16 x 4 burst fds + VMs, devices): a cap of 18 */
	cr_assert_eq(td_start(&d), 0);
	it_guest_init(&g);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	for (int i = 0; i < N; i++) {
		flood[i] = try_client(d.sock);
		admitted += flood[i] != NULL;
	}
	cr_expect(admitted > 0 && admitted < N, "admitted %d", admitted);
	/* the VMM's fds still arrive, its VM stays */
	cr_expect_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_expect_eq(tc_mem_remove(t, 0, IT_MEM), 0);
	struct tc *a = it_admin(&d);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 1);
	cr_expect_eq(stats_num(a, "fd_shortages"), 0);
	tc_free(a);
	for (int i = 0; i < N; i++)
		if (flood[i])
			tc_free(flood[i]);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * When nestd itself is out of fds, a request whose fds the kernel could not install is answered
 * EMFILE and the connection and its VM stay; the same request succeeds once fds are free again.
 */
Test(dos, fd_shortage_is_not_a_client_error)
{
	struct td d;
	struct it_guest g;
	struct rlimit rl, tight;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(prlimit(d.pid, RLIMIT_NOFILE, NULL, &rl), 0);
	(void)td_fd_count_stable(&d); /* settled: no reply fd in flight */
	long free_fd = lowest_free_fd(d.pid);
	cr_assert_gt(free_fd, 2);
	tight = (struct rlimit){.rlim_cur = (rlim_t)free_fd, .rlim_max = rl.rlim_max};
	cr_assert_eq(prlimit(d.pid, RLIMIT_NOFILE, &tight, NULL), 0);

	cr_expect_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE),
		     -EMFILE);
	cr_expect_not(tc_closed(t, 100), "the connection must stay");
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 1, "the VM must stay attached");
	cr_expect_eq(stats_num(a, "fd_shortages"), 1);

	cr_assert_eq(prlimit(d.pid, RLIMIT_NOFILE, &rl, NULL), 0);
	cr_expect_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_expect_eq(it_vm_field(a, "vm0", "regions"), 1);
	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* Run "status" on the admin socket as uid nobody with primary group @gid; exit 0 on success. */
static int admin_status_as_nobody(const struct td *d, gid_t gid)
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct json_object *res = NULL;

		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(65534) < 0)
			_exit(2);
		struct tc *t = tc_connect(d->admin);
		if (!t || tc_hello(t) != 0)
			_exit(3);
		if (tc_admin(t, "status", NULL, &res) != 0)
			_exit(4);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

/*
 * A full connection table leaves AdminReserve= slots for admin peers; one uid holds at most half
 * of them, so another operator still gets in; a non-admin peer on the admin socket gets no
 * reserved slot.
 */
Test(dos, admin_reserve)
{
	enum { CAP = 20, RESERVE = 4 };
	struct td d;
	struct tc *vm[CAP], *adm[RESERVE];
	int n_vm = 0, n_adm = 0;

	it_start(&d, NULL,
		 "AdminGroup=4243\n[Limits]\nMaxConnections=20\nMaxConnectionsPerUser=100\n"
		 "AdminReserve=4\n");
	for (int i = 0; i < CAP; i++) {
		vm[n_vm] = try_client(d.sock);
		n_vm += vm[n_vm] != NULL;
	}
	cr_expect_eq(n_vm, CAP - RESERVE, "VM connections beyond the reserve");
	/* root (this uid): half the reserve */
	for (int i = 0; i < RESERVE; i++) {
		adm[n_adm] = try_client(d.admin);
		n_adm += adm[n_adm] != NULL;
	}
	cr_expect_eq(n_adm, RESERVE / 2, "one uid takes half of the reserve");
	if (getuid() == 0) {
		cr_assert_eq(chmod(d.admin, 0666), 0);
		cr_assert_eq(chmod(d.dir, 0755), 0);
		/* another operator (AdminGroup) still gets in */
		cr_expect_eq(admin_status_as_nobody(&d, 4243), 0);
		/* a peer that may not use the admin socket is refused without touching the reserve */
		cr_expect_eq(admin_status_as_nobody(&d, 65534), 3);
	}
	cr_expect_eq(status_num(adm[0], "connections"), CAP - RESERVE);
	for (int i = 0; i < n_adm; i++)
		tc_free(adm[i]);
	for (int i = 0; i < n_vm; i++)
		tc_free(vm[i]);
	it_stop(&d);
	NO_LEAKS();
}

/* Sum of "<n> @what" over the audit-summary records of @vm. */
static long audit_folded(const char *log, const char *vm, const char *what)
{
	char line[2048], vmk[64], key[80];
	FILE *f = fopen(log, "r");
	long n = 0;

	cr_assert_not_null(f);
	snprintf(vmk, sizeof(vmk), " vm=%s ", vm);
	snprintf(key, sizeof(key), " %s", what);
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "audit: op=audit-summary ") || !strstr(line, vmk))
			continue;
		for (char *p = strstr(line, key); p; p = strstr(p + 1, key)) {
			char *q = p;

			if (p[strlen(key)] != ',' && p[strlen(key)] != '\n' &&
			    p[strlen(key)] != ' ')
				continue;
			while (q > line && q[-1] >= '0' && q[-1] <= '9')
				q--;
			n += strtol(q, NULL, 10);
		}
	}
	fclose(f);
	return n;
}

/*
 * One VMM looping PASID alloc/free used to write two audit records per loop. Past AuditRate=
 * its records are folded into summaries with exact counts, one record each says when folding
 * starts and stops, and another VM's records are written as usual meanwhile.
 */
Test(dos, audit_flood_is_folded_with_exact_counts)
{
	enum { N = 3000 };
	struct td d;
	char conf[2048];
	uint32_t p, q;
	static const char *const vm0[] = {" vm=vm0 ", NULL}, *const vm1[] = {" vm=vm1 ", NULL};
	static const char *const start[] = {" vm=vm0 ", "folding: more than", NULL};
	static const char *const stop[] = {" vm=vm0 ", "stopped folding", NULL};

	td_init(&d);
	d.capture_stderr = true;
	it_std_conf(conf, sizeof(conf), NULL,
		    "[Limits]\nAuditRate=20\nAuditBurst=50\nAuditSummarySec=1\n");
	td_write_conf(&d, conf);
	cr_assert_eq(td_start(&d), 0);
	struct tc *t = it_client(&d);
	struct tc *u = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_attach(u, "vm1", 0, NULL), 0);
	uint64_t t0 = (uint64_t)time(NULL);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
		cr_assert_eq(tc_pasid_free(t, p, p, NULL), 0);
		if (i == N / 2) { /* vm1 is not affected by vm0's flood */
			cr_assert_eq(tc_pasid_alloc(u, 1, NEST_PASID_MAX, &q), 0);
			cr_assert_eq(tc_pasid_free(u, q, q, NULL), 0);
		}
	}
	uint64_t secs = (uint64_t)time(NULL) - t0 + 1;
	usleep(4200000); /* the last summary, then a quiet period: folding stops */
	/* by the summary tick, which runs while a key folds: no request came since the flood */
	cr_expect_eq(it_audit_lines(d.log, "audit-fold", stop), 1,
		     "folding stopped without a request");
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0); /* written again */

	long alloc = it_audit_lines(d.log, "pasid-alloc", vm0),
	     free_ = it_audit_lines(d.log, "pasid-free", vm0);
	long f_alloc = audit_folded(d.log, "vm0", "pasid-alloc/ok");
	long f_free = audit_folded(d.log, "vm0", "pasid-free/ok");

	cr_expect_eq(alloc + f_alloc, N + 1, "pasid-alloc: %ld written + %ld folded", alloc,
		     f_alloc);
	cr_expect_eq(free_ + f_free, N, "pasid-free: %ld written + %ld folded", free_, f_free);
	/* written: the burst, the rate over the run, and the record after folding stopped */
	cr_expect_leq(alloc + free_, 50 + 20 * (long)secs + 1, "%ld records written",
		      alloc + free_);
	cr_expect_eq(it_audit_lines(d.log, "audit-fold", start), 1);
	cr_expect_eq(it_audit_lines(d.log, "audit-fold", stop), 1);
	cr_expect_eq(it_audit_lines(d.log, "pasid-alloc", vm1), 1);
	cr_expect_eq(it_audit_lines(d.log, "pasid-free", vm1), 1);
	tc_free(u);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

/* A field of /proc/<pid>/status in kB ("RssShmem"), or -1. */
static long proc_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

static long backend_num(struct tc *a, const char *key)
{
	struct json_object *res = NULL, *be, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, "stats", NULL, &res), 0);
	if (json_object_object_get_ex(res, "backend", &be) &&
	    json_object_object_get_ex(be, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

#define BIG_GPA (1ull << 30)
#define BIG_LEN (1ull << 30)

/*
 * vm0 with the standard guest at GPA 0 plus a sparse 1 GiB memfd at GPA 1 GiB, mapped 1:1 at GVA
 * 1 GiB by a 1 GiB page; returns the bound PASID and the memfd in *big_fd.
 */
static uint32_t big_guest_setup(struct tc *t, struct it_guest *g, int *big_fd)
{
	uint32_t pasid = 0;

	it_guest_init(g);
	*(uint64_t *)(g->mem + 0x2000 + 8) =
		BIG_GPA | 0x80 | IT_PTE_FLAGS; /* PDPT[1]: 1 GiB page */
	*big_fd = tc_memfd(BIG_LEN, true);
	cr_assert_geq(*big_fd, 0);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g->fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(
		tc_mem_add(t, *big_fd, BIG_GPA, BIG_LEN, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &pasid), 0);
	cr_assert_eq(tc_bind(t, pasid, IT_GPGD, 48, 0), 0);
	return pasid;
}

/*
 * DMA into holes of a VMM's sparse memfd used to allocate its pages in nestd (568 MB in 3 s).
 * Now one VM's DMA and page walks may bring at most [Sim] MaterializeLimitMiB= into existence:
 * past it a DMA fails ENOMEM and a walk through a hole faults, nestd's RSS and the memfd stop
 * growing, and pages the VMM populated itself are still reachable.
 */
Test(dos, sim_dma_cannot_materialise_vmm_memory)
{
	enum { CHUNK = 32 * 1024, N = 512 };
	static uint8_t data[CHUNK];
	struct td d;
	struct it_guest g;
	struct nest_sim_dma_reply rep;
	struct stat st;
	int big, ok = 0, nomem = 0;

	it_start(&d, "MemoryLimit=2G", "[Sim]\nMaterializeLimitMiB=4\n");
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	uint32_t pasid = big_guest_setup(t, &g, &big);
	long rss0 = proc_status_kb(d.pid, "RssShmem");

	memset(data, 0xa5, sizeof(data));
	for (int k = 0; k < N; k++) {
		int r = tc_dma(t, 1, pasid, BIG_GPA + (uint64_t)k * CHUNK, NEST_DMA_F_WRITE, data,
			       CHUNK, &rep);

		ok += r == 0 && rep.done == CHUNK;
		nomem += r == -ENOMEM;
	}
	cr_expect_eq(ok, (4 << 20) / CHUNK, "%d DMAs went through", ok);
	cr_expect_eq(nomem, N - (4 << 20) / CHUNK);
	long grown = proc_status_kb(d.pid, "RssShmem") - rss0;
	cr_expect_leq(grown, 4096 + 512, "nestd's RSS grew by %ld kB", grown);
	cr_assert_eq(fstat(big, &st), 0);
	cr_expect_leq((long)st.st_blocks * 512, (4 << 20) + (512 << 10), "memfd holds %ld bytes",
		      (long)st.st_blocks * 512);
	cr_expect_eq(backend_num(a, "touched_bytes"), 4 << 20);
	cr_expect_geq(backend_num(a, "touch_refused"), N - (4 << 20) / CHUNK);

	/* a page the VMM populated itself costs nothing */
	uint8_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, big, 100 << 20);
	cr_assert_neq(m, MAP_FAILED);
	m[0] = 1;
	cr_expect_eq(tc_dma(t, 1, pasid, BIG_GPA + (100 << 20), NEST_DMA_F_WRITE, data, 4096, &rep),
		     0);
	cr_expect_eq(m[0], 0xa5);
	munmap(m, 4096);

	/* a page table in a hole: the walk faults instead of allocating it */
	*(uint64_t *)(g.mem + 0x1000 + 8) = (BIG_GPA + (200 << 20)) | IT_PTE_FLAGS; /* PML4[1] */
	cr_expect_eq(tc_dma(t, 1, pasid, 1ull << 39, 0, data, 8, &rep), 0);
	cr_expect_neq(rep.fault_reason, 0, "the walk through a hole must fault");
	cr_assert_eq(fstat(big, &st), 0);
	cr_expect_leq((long)st.st_blocks * 512, (4 << 20) + (512 << 10));

	tc_free(t);
	tc_free(a);
	close(big);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* A field of vm.show's "materialized" object (memory nestd brought into existence for the VM). */
static long materialized(struct tc *a, const char *vm, const char *key)
{
	struct json_object *res = NULL, *m, *v;
	char args[64];
	long out = -1;

	snprintf(args, sizeof(args), "{\"name\":\"%s\"}", vm);
	cr_assert_eq(tc_admin(a, "vm.show", args, &res), 0);
	if (json_object_object_get_ex(res, "materialized", &m) &&
	    json_object_object_get_ex(m, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

/* Attach vm0 again on @t with the standard guest and @big at BIG_GPA; the bound PASID. */
static uint32_t big_guest_reattach(struct tc *t, struct it_guest *g, int big)
{
	uint32_t pasid = 0;

	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g->fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_mem_add(t, big, BIG_GPA, BIG_LEN, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE),
		     0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &pasid), 0);
	cr_assert_eq(tc_bind(t, pasid, IT_GPGD, 48, 0), 0);
	return pasid;
}

/* DMA-write @n chunks of 32 KiB from @off of the big region: how many went through. */
static int big_fill(struct tc *t, uint32_t pasid, uint64_t off, int n, int *ret_nomem)
{
	static uint8_t data[32 * 1024];
	struct nest_sim_dma_reply rep;
	int ok = 0;

	memset(data, 0x5a, sizeof(data));
	*ret_nomem = 0;
	for (int k = 0; k < n; k++) {
		int r = tc_dma(t, 1, pasid, BIG_GPA + off + (uint64_t)k * sizeof(data),
			       NEST_DMA_F_WRITE, data, sizeof(data), &rep);

		ok += r == 0 && rep.done == sizeof(data);
		*ret_nomem += r == -ENOMEM;
	}
	return ok;
}

/*
 * MaterializeLimitMiB= is the VM's, not an attachment's: the pages nestd filled stay charged
 * for as long as they exist. Detaching unmaps them (nestd's RSS drops) but they stay in the
 * VMM's memfd, charged to nestd's memory cgroup: the charge stays, and neither attaching again
 * with the same memfd, nor reconnecting with a new memfd while the old one is kept, gets a new
 * budget. Pages the VMM punches out of the memfd are seen gone and released.
 */
Test(dos, sim_materialise_budget_is_per_vm)
{
	enum { MIB = 1 << 20, CHUNKS_PER_MIB = MIB / (32 * 1024) };
	struct td d;
	struct it_guest g;
	struct stat st;
	int big, big2, nomem;

	it_start(&d, "MemoryLimit=4G", "[Sim]\nMaterializeLimitMiB=4\n");
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	long rss0 = proc_status_kb(d.pid, "RssShmem");
	uint32_t pasid = big_guest_setup(t, &g, &big);

	cr_expect_eq(big_fill(t, pasid, 0, 5 * CHUNKS_PER_MIB, &nomem), 4 * CHUNKS_PER_MIB);
	cr_expect_eq(nomem, CHUNKS_PER_MIB);
	cr_expect_eq(materialized(a, "vm0", "bytes"), 4 * MIB);
	cr_expect_eq(materialized(a, "vm0", "limit"), 4 * MIB);
	long rss_full = proc_status_kb(d.pid, "RssShmem");

	/* detach: nestd's mapping goes, the pages stay in the memfd the VMM keeps */
	cr_assert_eq(tc_detach(t, 0), 0);
	long rss_detached = proc_status_kb(d.pid, "RssShmem");
	cr_assert_eq(fstat(big, &st), 0);
	cr_log_info("nestd RssShmem: %ld kB before, %ld kB filled, %ld kB detached; memfd holds "
		    "%ld kB",
		    rss0, rss_full, rss_detached, (long)st.st_blocks / 2);
	cr_expect_geq(rss_full - rss0, 4096 - 64, "nestd mapped what it filled");
	cr_expect_leq(rss_detached, rss0 + 256, "unmapped at detach");
	cr_expect_geq((long)st.st_blocks * 512, 4 * MIB, "the pages are still in the memfd");
	cr_expect_eq(materialized(a, "vm0", "bytes"), 4 * MIB, "still charged while they exist");

	/* attach again, same memfd: no new budget; what is there is reachable for free */
	pasid = big_guest_reattach(t, &g, big);
	cr_expect_eq(big_fill(t, pasid, 8 * MIB, CHUNKS_PER_MIB, &nomem), 0);
	cr_expect_eq(nomem, CHUNKS_PER_MIB);
	cr_expect_eq(big_fill(t, pasid, 0, 4 * CHUNKS_PER_MIB, &nomem), 4 * CHUNKS_PER_MIB);
	cr_expect_eq(materialized(a, "vm0", "bytes"), 4 * MIB);

	/* the VMM reconnects (abruptly: teardown) with a new memfd, keeping the old one */
	tc_free(t);
	t = it_client(&d);
	big2 = tc_memfd(BIG_LEN, true);
	cr_assert_geq(big2, 0);
	pasid = big_guest_reattach(t, &g, big2);
	cr_expect_eq(big_fill(t, pasid, 0, CHUNKS_PER_MIB, &nomem), 0,
		     "a new memfd is no new budget");
	cr_expect_eq(nomem, CHUNKS_PER_MIB);
	cr_expect_eq(materialized(a, "vm0", "bytes"), 4 * MIB);
	cr_assert_eq(fstat(big2, &st), 0);
	cr_expect_leq((long)st.st_blocks * 512, 64 << 10, "nothing filled in the new memfd");
	cr_assert_eq(tc_detach(t, 0), 0);

	/* the VMM punches 2 MiB out of the old memfd and adds it again: those are released */
	cr_assert_eq(fallocate(big, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2 * MIB), 0);
	pasid = big_guest_reattach(t, &g, big);
	cr_expect_eq(materialized(a, "vm0", "bytes"), 2 * MIB);
	cr_expect_eq(materialized(a, "vm0", "released"), 2 * MIB);
	cr_expect_eq(big_fill(t, pasid, 16 * MIB, 3 * CHUNKS_PER_MIB, &nomem), 2 * CHUNKS_PER_MIB);
	cr_expect_eq(materialized(a, "vm0", "bytes"), 4 * MIB);

	tc_free(t);
	tc_free(a);
	close(big);
	close(big2);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* p99 of @n round trips of a cheap request on @t (MEM_REMOVE of nothing: ENOENT), in us. */
static uint64_t p99_round_trip(struct tc *t, int n)
{
	uint64_t *v = calloc((size_t)n, sizeof(*v)), p;

	for (int i = 0; i < n; i++) {
		uint64_t t0 = now_usec();

		cr_assert_eq(tc_mem_remove(t, 1ull << 40, 4096), -ENOENT);
		v[i] = now_usec() - t0;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	p = v[n * 99 / 100];
	free(v);
	return p;
}

/*
 * Attackers are forked children that keep going until the test has its samples: they stop
 * when the read end @stop_fd they watch sees EOF (the parent closes the write end).
 */
static bool attack_stopped(int stop_fd)
{
	struct pollfd p = {.fd = stop_fd, .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

/* vm2's VMM: 32 PASID alloc/free pairs in flight (PASID churn, an audit flood). */
static void churn_attacker(const char *sock, int ready_fd, int stop_fd)
{
	enum { DEPTH = 32 };
	struct nest_pasid_alloc al = {.size = sizeof(al), .min = 1, .max = NEST_PASID_MAX};
	uint32_t ids[DEPTH];
	struct tc *t = tc_connect(sock);

	if (!t || tc_hello(t) != 0 || tc_attach(t, "vm2", 0, NULL) != 0)
		_exit(2);
	(void)!write(ready_fd, "x", 1);
	while (!attack_stopped(stop_fd)) {
		for (int i = 0; i < DEPTH; i++)
			if (tc_send(t, NEST_OP_PASID_ALLOC, &al, sizeof(al), NULL, 0, NULL, 0,
				    &ids[i]) < 0)
				_exit(3);
		for (int i = 0; i < DEPTH; i++)
			(void)tc_reply(t, ids[i], NULL, 0, NULL);
		if (tc_pasid_free(t, 1, NEST_PASID_MAX, NULL) != 0)
			_exit(4);
	}
	_exit(0);
}

/* vm0's VMM: 32 DMA writes of 32 KiB in flight into the holes of a sparse 1 GiB memfd. */
static void dma_attacker(const char *sock, int ready_fd, int stop_fd)
{
	enum { CHUNK = 32 * 1024, DEPTH = 32 };
	static uint8_t data[CHUNK];
	struct it_guest g;
	int big;
	uint32_t ids[DEPTH];
	struct nest_sim_dma q = {.size = sizeof(q), .flags = NEST_DMA_F_WRITE, .dev_id = 1};
	struct tc *t = tc_connect(sock);

	if (!t || tc_hello(t) != 0)
		_exit(2);
	q.pasid = big_guest_setup(t, &g, &big);
	(void)!write(ready_fd, "x", 1);
	for (uint64_t k = 0; !attack_stopped(stop_fd);) {
		for (int i = 0; i < DEPTH; i++, k++) {
			q.addr = BIG_GPA + (k * CHUNK) % BIG_LEN;
			if (tc_send(t, NEST_OP_SIM_DMA, &q, sizeof(q), data, CHUNK, NULL, 0,
				    &ids[i]) < 0)
				_exit(3);
		}
		for (int i = 0; i < DEPTH; i++)
			(void)tc_reply(t, ids[i], NULL, 0, NULL);
	}
	_exit(0);
}

/*
 * fd exhaustion: with nestd at a small fd limit, keep its connection table full and churn
 * connections that each bring a memfd (MEM_ADD before attaching: EPERM, closed) and new
 * connections that the full table refuses.
 */
static void fd_attacker(const char *sock, int ready_fd, int stop_fd)
{
	enum { SLOTS = 64 };
	struct tc *c[SLOTS] = {0};
	struct nest_mem_add m = {.size = sizeof(m), .flags = NEST_MEM_F_READ, .len = 4096};
	int fd = tc_memfd(1 << 20, true);
	bool ready = false;

	if (fd < 0)
		_exit(2);
	while (!attack_stopped(stop_fd)) {
		for (int i = 0; i < SLOTS; i++) {
			uint32_t id;

			if (!c[i])
				c[i] = try_client(sock); /* refused while the table is full */
			if (!c[i])
				continue;
			if (tc_send(c[i], NEST_OP_MEM_ADD, &m, sizeof(m), NULL, 0, &fd, 1, &id) <
				    0 ||
			    tc_reply(c[i], id, NULL, 0, NULL) != -EPERM || !tc_closed(c[i], 1000)) {
				tc_free(c[i]);
				c[i] = NULL;
				continue;
			}
			tc_free(c[i]); /* closed by nestd: a new one next round */
			c[i] = NULL;
		}
		if (!ready) {
			ready = true;
			(void)!write(ready_fd, "x", 1);
		}
	}
	_exit(0);
}

/*
 * A full connection table: hold every VM slot, hammer the listener with connections it refuses,
 * and take the admin slots one uid may have (half the reserve) with a status loop on each.
 */
static void table_attacker(const char *sock, const char *admin, int ready_fd, int stop_fd)
{
	enum { SLOTS = 64, ADM = 4 };
	struct tc *c[SLOTS], *a[ADM];
	int n = 0, na = 0;

	for (int i = 0; i < SLOTS; i++)
		if ((c[n] = try_client(sock)))
			n++;
	for (int i = 0; i < ADM; i++)
		if ((a[na] = try_client(admin)))
			na++;
	if (n == SLOTS || na == 0)
		_exit(2); /* the table must have filled up */
	(void)!write(ready_fd, "x", 1);
	while (!attack_stopped(stop_fd)) {
		struct tc *t = try_client(sock);

		if (t)
			_exit(3); /* a VM slot beyond the cap */
		for (int i = 0; i < na; i++) {
			struct json_object *res = NULL;

			if (tc_admin(a[i], "status", NULL, &res) != 0)
				_exit(4);
			json_object_put(res);
		}
	}
	_exit(0);
}

enum dos_case {
	DOS_FD = 1u << 0,    /* fd exhaustion */
	DOS_TABLE = 1u << 1, /* full connection table / admin reserve */
	DOS_AUDIT = 1u << 2, /* audit flood (PASID churn) */
	DOS_MEM = 1u << 3,   /* memory materialisation (sim DMA into holes) */
};

/*
 * vm1's p99 round trip idle, then while the attacks of @cases run (each attacker signals
 * ready, keeps going until the samples are taken): it must stay within 10 x the idle p99 of
 * the same run + 20 ms (the bound docs/SECURITY.md states; the test runs alone). The figures go
 * to the test's log.
 */
static void dos_latency(struct td *d, struct tc *u, unsigned cases, const char *what)
{
	enum { SAMPLES = 400 };
	int ready[2], stop[2], st, n = 0;
	pid_t pids[4];
	char c;

	uint64_t idle = p99_round_trip(u, SAMPLES);
	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(stop), 0);
	for (unsigned k = 0; k < 4; k++) {
		if (!(cases & (1u << k)))
			continue;
		pids[n] = fork();
		cr_assert_geq(pids[n], 0);
		if (pids[n] == 0) {
			close(ready[0]);
			close(stop[1]);
			if (k == 0)
				fd_attacker(d->sock, ready[1], stop[0]);
			else if (k == 1)
				table_attacker(d->sock, d->admin, ready[1], stop[0]);
			else if (k == 2)
				churn_attacker(d->sock, ready[1], stop[0]);
			else
				dma_attacker(d->sock, ready[1], stop[0]);
		}
		n++;
	}
	close(ready[1]);
	close(stop[0]);
	for (int i = 0; i < n; i++)
		cr_assert_eq(read(ready[0], &c, 1), 1, "attacker %d not ready", i);
	close(ready[0]);
	uint64_t busy = p99_round_trip(u, SAMPLES);
	close(stop[1]);
	for (int i = 0; i < n; i++) {
		waitpid(pids[i], &st, 0);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: attacker %d status %d", what,
			  i, st);
	}
	cr_log_info("vm1 p99 round trip, %s: idle %llu us, under attack %llu us (%.1fx)", what,
		    (unsigned long long)idle, (unsigned long long)busy,
		    idle ? (double)busy / (double)idle : 0.0);
	cr_expect_leq(busy, 10 * idle + 20000, "%s: p99 %llu us under attack vs %llu us idle", what,
		      (unsigned long long)busy, (unsigned long long)idle);
}

/*
 * Each DoS case on its own, then the memory flood, the audit flood and 200 idle connections at
 * once: vm1's p99 round trip stays within 10 x its idle p99 (same run) + 20 ms in every one.
 * fd exhaustion and the full table run against nestds set up for them (a 240-fd limit: a
 * connection cap of 18; MaxConnections=40 with AdminReserve=4), the others against one nestd.
 */
Test(dos, attacks_keep_other_vms_latency_bounded)
{
	enum { IDLE_CONNS = 200 };
	struct td d;
	struct tc *idle_c[IDLE_CONNS];
	char vm2[256], conf[2048];

	snprintf(vm2, sizeof(vm2),
		 "MemoryLimit=2G\n[VM]\nName=vm2\nOwner=%s\nDevice=dsa2 id=9\nPASIDQuota=64\n",
		 td_uid_str());

	/* fd exhaustion */
	td_init(&d);
	it_std_conf(conf, sizeof(conf), NULL, "[Limits]\nMaxConnectionsPerUser=1000\n");
	td_write_conf(&d, conf);
	d.nofile = 240;
	cr_assert_eq(td_start(&d), 0);
	struct tc *u = it_client(&d);
	cr_assert_eq(tc_attach(u, "vm1", 0, NULL), 0);
	dos_latency(&d, u, DOS_FD, "fd exhaustion");
	tc_free(u);
	it_stop(&d);

	/* a full connection table, the admin reserve taken as far as one uid may */
	it_start(&d, NULL,
		 "[Limits]\nMaxConnections=40\nMaxConnectionsPerUser=1000\nAdminReserve=4\n");
	u = it_client(&d);
	cr_assert_eq(tc_attach(u, "vm1", 0, NULL), 0);
	dos_latency(&d, u, DOS_TABLE, "full connection table");
	tc_free(u);
	it_stop(&d);

	/* the audit flood, the memory flood, then both with 200 idle connections */
	it_start(&d, vm2, "[Limits]\nMaxConnectionsPerUser=1000\n[Sim]\nMaterializeLimitMiB=64\n");
	u = it_client(&d);
	cr_assert_eq(tc_attach(u, "vm1", 0, NULL), 0);
	dos_latency(&d, u, DOS_AUDIT, "audit flood");
	dos_latency(&d, u, DOS_MEM, "memory materialisation");
	for (int i = 0; i < IDLE_CONNS; i++)
		cr_assert_not_null(idle_c[i] = try_client(d.sock));
	dos_latency(&d, u, DOS_MEM | DOS_AUDIT, "combined (+200 idle connections)");
	for (int i = 0; i < IDLE_CONNS; i++)
		tc_free(idle_c[i]);
	tc_free(u);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * Attaching names that do not exist is audited too (vm "-") and folded per uid like any other
 * flood: a peer cannot flood the journal with refused attaches either.
 */
Test(dos, unknown_vm_attach_flood_is_folded)
{
	enum { N = 2000 };
	struct td d;
	char conf[2048];
	static const char *const nobody[] = {" vm=- ", "no such VM", NULL};

	td_init(&d);
	d.capture_stderr = true;
	it_std_conf(conf, sizeof(conf), NULL,
		    "[Limits]\nAuditRate=20\nAuditBurst=50\nAuditSummarySec=1\n");
	td_write_conf(&d, conf);
	cr_assert_eq(td_start(&d), 0);
	struct tc *t = it_client(&d);
	uint64_t t0 = (uint64_t)time(NULL);
	for (int i = 0; i < N; i++)
		cr_assert_eq(tc_attach(t, "nope", 0, NULL), -ENOENT);
	uint64_t secs = (uint64_t)time(NULL) - t0 + 1;
	usleep(2200000); /* the last summary */
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);

	long written = it_audit_lines(d.log, "attach", nobody);
	long folded = audit_folded(d.log, "-", "attach/ENOENT");
	cr_expect_eq(written + folded, N, "%ld written + %ld folded", written, folded);
	cr_expect_leq(written, 50 + 20 * (long)secs);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * A VMM that attaches and drops its connection in a loop leaves its VM held each time: the hold
 * is an audit record (op "hold"), folded with the VM's other records like any flood, with exact
 * counts (it used to be an unfolded info line per disconnect).
 */
Test(dos, hold_records_are_folded)
{
	enum { N = 300 };
	struct td d;
	char conf[2048];
	static const char *const held[] = {" vm=vm0 ", "held for 30 s", NULL};

	td_init(&d);
	d.capture_stderr = true;
	it_std_conf(conf, sizeof(conf), "GracePeriodSec=30",
		    "[Limits]\nAuditRate=20\nAuditBurst=50\nAuditSummarySec=1\n");
	td_write_conf(&d, conf);
	cr_assert_eq(td_start(&d), 0);
	uint64_t t0 = (uint64_t)time(NULL);
	for (int i = 0; i < N; i++) {
		struct tc *t = it_client(&d);
		int r, tries = 0;

		/* EBUSY until nestd has seen the previous connection go */
		while ((r = tc_attach(t, "vm0", 0, NULL)) == -EBUSY && tries++ < 1000)
			usleep(1000);
		cr_assert_eq(r, 0, "round %d", i);
		tc_free(t); /* abrupt: held */
	}
	uint64_t secs = (uint64_t)time(NULL) - t0 + 1;
	usleep(2200000); /* the last summary */
	struct tc *a = it_admin(&d);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 2, "held");
	tc_free(a);

	long written = it_audit_lines(d.log, "hold", held);
	long folded = audit_folded(d.log, "vm0", "hold/ok");
	cr_expect_eq(written + folded, N, "%ld written + %ld folded", written, folded);
	cr_expect_leq(written, 50 + 20 * (long)secs);
	cr_expect_gt(folded, 0);
	it_stop(&d);
	NO_LEAKS();
}
