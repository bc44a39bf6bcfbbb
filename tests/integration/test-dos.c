/* SPDX-License-Identifier: MIT */
/*
 * Denial of service by one local user (issue 11): fd exhaustion, the admin reserve, audit
 * flooding and guest memory materialised by the sim's DMA. Each case is the regression test of
 * one fix: it fails on a nestd without it.
 */
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
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
	d.nofile = 160;
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

/* Audit lines of the captured log with "op=@op " and every string of @also (NULL-terminated). */
static long audit_lines(const char *log, const char *op, const char *const *also)
{
	char want[64], line[2048];
	FILE *f = fopen(log, "r");
	long n = 0;

	cr_assert_not_null(f);
	snprintf(want, sizeof(want), "audit: op=%s ", op);
	while (fgets(line, sizeof(line), f)) {
		bool all = strstr(line, want) != NULL;

		for (size_t i = 0; all && also && also[i]; i++)
			all = strstr(line, also[i]) != NULL;
		n += all;
	}
	fclose(f);
	return n;
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
	usleep(3200000); /* the last summary, then a quiet period: folding stops */
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0); /* written again */

	long alloc = audit_lines(d.log, "pasid-alloc", vm0),
	     free_ = audit_lines(d.log, "pasid-free", vm0);
	long f_alloc = audit_folded(d.log, "vm0", "pasid-alloc/ok");
	long f_free = audit_folded(d.log, "vm0", "pasid-free/ok");

	cr_expect_eq(alloc + f_alloc, N + 1, "pasid-alloc: %ld written + %ld folded", alloc,
		     f_alloc);
	cr_expect_eq(free_ + f_free, N, "pasid-free: %ld written + %ld folded", free_, f_free);
	/* written: the burst, the rate over the run, and the record after folding stopped */
	cr_expect_leq(alloc + free_, 50 + 20 * (long)secs + 1, "%ld records written",
		      alloc + free_);
	cr_expect_eq(audit_lines(d.log, "audit-fold", start), 1);
	cr_expect_eq(audit_lines(d.log, "audit-fold", stop), 1);
	cr_expect_eq(audit_lines(d.log, "pasid-alloc", vm1), 1);
	cr_expect_eq(audit_lines(d.log, "pasid-free", vm1), 1);
	tc_free(u);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}
