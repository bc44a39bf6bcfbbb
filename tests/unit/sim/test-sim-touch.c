/* SPDX-License-Identifier: MIT */
/*
 * Suite "touch": the materialisation account (sim-touch.c). The work its bookkeeping does for the
 * runs a VMM can arrange (nest_sim_touch_steps(): runs compared or visited) grows as n log n, not
 * n^2, for DMA that records pages in front of all the others and holes that split a long run in
 * front of many; and our faults fill 4 KiB pages on shmem with transparent huge pages, as
 * counted (sim-s2.c: MADV_NOHUGEPAGE on our mapping, sim_s2_thp_refused() where it is refused).
 */
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nest-sim.h"
#include "nest-test.h"
#include "sim-internal.h"

#include <criterion/criterion.h>

#define PG    4096ull
#define MIB   (1ull << 20)
#define DEV   1u
#define RID   NEST_SIM_PASID_RID
#define GPA_A 0ull	   /* file [0, 16 MiB) */
#define GPA_B (1ull << 30) /* file [16 MiB, 32 MiB) */
#define GPA_C (2ull << 30) /* file [0, 16 MiB) again, added to prune */

struct tt {
	struct nest_sim *sim;
	struct nest_sim_touch_acct *acct;
	uint32_t dom;
	int fd;
};

static void tt_init(struct tt *t)
{
	struct nest_sim_config cfg = {.touch_limit = 64 * MIB};

	t->fd = memfd_create("tt", MFD_CLOEXEC);
	cr_assert(t->fd >= 0);
	cr_assert(ftruncate(t->fd, (off_t)(32 * MIB)) == 0);
	cr_assert_eq(nest_sim_new(&cfg, &t->sim), 0);
	cr_assert_eq(nest_sim_domain_new(t->sim, 4, &t->dom), 0);
	cr_assert_eq(nest_sim_touch_acct_new(0, &t->acct), 0);
	cr_assert_eq(nest_sim_domain_set_touch_acct(t->sim, t->dom, t->acct), 0);
	cr_assert_eq(nest_sim_region_add(t->sim, t->dom, GPA_A, 16 * MIB, t->fd, 0,
					 NEST_SIM_PERM_R | NEST_SIM_PERM_W),
		     0);
	cr_assert_eq(nest_sim_region_add(t->sim, t->dom, GPA_B, 16 * MIB, t->fd, 16 * MIB,
					 NEST_SIM_PERM_R | NEST_SIM_PERM_W),
		     0);
	cr_assert_eq(nest_sim_device_add(t->sim, t->dom, DEV, false, 20), 0);
}

static void tt_fini(struct tt *t)
{
	t->sim = nest_sim_free(t->sim);
	t->acct = nest_sim_touch_acct_free(t->acct);
	close(t->fd);
}

/* One DMA write of one byte at @gpa: one access, one page. */
static void dma1(struct tt *t, uint64_t gpa)
{
	uint8_t b = 0x5a;

	cr_assert_eq(nest_sim_dma(t->sim, DEV, RID, gpa, &b, 1, NEST_SIM_ACC_WRITE, NULL, NULL), 0,
		     "DMA at 0x%llx", (unsigned long long)gpa);
}

/*
 * The adversarial pattern at size @n; returns the steps it cost.
 *  1. n single pages of region B (every other page, from its second), recorded last first: each in front of all
 *     the runs recorded before it;
 *  2. a run of 2n pages at the start of region A, in front of them all;
 *  3. every other page of that run punched out of the file, then a region of the file added:
 *     the prune splits the run n - 1 times, each in front of the n runs of step 1.
 */
static uint64_t adversary(uint32_t n)
{
	struct nest_sim_touch_info info;
	uint64_t before;
	struct tt t;

	tt_init(&t);
	before = nest_sim_touch_steps();
	for (uint32_t i = n; i-- > 0;)
		dma1(&t, GPA_B + (2 * i + 1) * PG);
	for (uint32_t i = 0; i < 2 * n; i++)
		dma1(&t, GPA_A + i * PG);
	nest_sim_touch_acct_info(t.acct, &info);
	cr_assert_eq(info.ranges, n + 1, "%u runs", info.ranges);
	cr_assert_eq(info.bytes, 3 * n * PG);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       (off_t)((2 * i + 1) * PG), (off_t)PG),
			     0);
	cr_assert_eq(nest_sim_region_add(t.sim, t.dom, GPA_C, 16 * MIB, t.fd, 0, NEST_SIM_PERM_R),
		     0);
	before = nest_sim_touch_steps() - before;
	/* the semantics: pages 0, 2, .., 2n - 2 of the file stay, each its own run */
	nest_sim_touch_acct_info(t.acct, &info);
	cr_expect_eq(info.ranges, 2 * n, "%u runs", info.ranges);
	cr_expect_eq(info.files, 1);
	cr_expect_eq(info.bytes, 2 * n * PG);
	cr_expect_eq(info.touched, 3 * n * PG);
	cr_expect_eq(info.released, n * PG);
	tt_fini(&t);
	return before;
}

static unsigned log2_ceil(uint64_t x)
{
	unsigned l = 0;

	while ((1ull << l) < x)
		l++;
	return l;
}

Test(touch, adversarial_runs_cost_n_log_n)
{
	const uint32_t small = 128, big = 2048; /* 16 times more runs */
	uint64_t s = adversary(small), b = adversary(big);

	cr_log_info("steps: %u runs %llu, %u runs %llu (x%.1f)", small, (unsigned long long)s, big,
		    (unsigned long long)b, (double)b / (double)s);
	/*
	 * n log n: 16 x 12/8 = 24 times the work for 16 times the runs; shifting a sorted array
	 * would be 256 times. Per page recorded or dropped (4n of them), a few lookups of
	 * ~2 log2(n) comparisons each (a red-black tree is at most that deep).
	 */
	cr_expect_lt(b, 40 * s, "%llu steps for %u runs, %llu for %u: not n log n",
		     (unsigned long long)b, big, (unsigned long long)s, small);
	cr_expect_leq(b, 4ull * big * 8 * (2 * log2_ceil(3 * big) + 2), "%llu steps",
		      (unsigned long long)b);
	NO_LEAKS();
}

/* Punching pages in the middle of runs and pruning keeps the runs exact, wherever they are. */
Test(touch, prune_splits_and_drops_exactly)
{
	struct nest_sim_touch_info info;
	struct tt t;

	tt_init(&t);
	for (uint64_t i = 0; i < 64; i++) /* pages [0, 64) and [100, 110) */
		dma1(&t, GPA_A + i * PG);
	for (uint64_t i = 100; i < 110; i++)
		dma1(&t, GPA_A + i * PG);
	dma1(&t, GPA_A + 64 * PG); /* joins nothing yet: 64 extends the first run */
	nest_sim_touch_acct_info(t.acct, &info);
	cr_assert_eq(info.ranges, 2);
	cr_assert_eq(info.bytes, 75 * PG);
	/* holes at 0 (the start), 10-11 (inside), 64 (the end), 100-109 (a whole run) */
	cr_assert_eq(fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG), 0);
	cr_assert_eq(fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10 * PG, 2 * PG),
		     0);
	cr_assert_eq(fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 64 * PG, PG), 0);
	cr_assert_eq(fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100 * PG, 10 * PG),
		     0);
	cr_assert_eq(nest_sim_region_add(t.sim, t.dom, GPA_C, 16 * MIB, t.fd, 0, NEST_SIM_PERM_R),
		     0);
	nest_sim_touch_acct_info(t.acct, &info);
	cr_expect_eq(info.ranges, 2, "[1, 10) and [12, 64): %u runs", info.ranges);
	cr_expect_eq(info.bytes, 61 * PG);
	cr_expect_eq(info.released, 14 * PG);
	/* the holes are holes again: DMA into each charges it again, and joins the runs back */
	dma1(&t, GPA_A + 10 * PG);
	dma1(&t, GPA_A + 11 * PG);
	dma1(&t, GPA_A);
	nest_sim_touch_acct_info(t.acct, &info);
	cr_expect_eq(info.ranges, 1, "[0, 64): %u runs", info.ranges);
	cr_expect_eq(info.bytes, 64 * PG);
	cr_expect_eq(info.touched, 78 * PG);
	tt_fini(&t);
	NO_LEAKS();
}

/*
 * The look before refusing, with many regions on one file: the file's runs are walked once
 * (the regions swept alongside), not once per region (64 regions x 2,048 runs was 131,072
 * steps), and it releases exactly the pages gone from any of the windows.
 */
Test(touch, refusal_prune_walks_a_file_once)
{
	enum { NREG = 64, PAGES = 64, RUNS = NREG * PAGES / 2 };
	struct nest_sim_config cfg = {.touch_limit = 64 * MIB}; /* accounting on */
	struct nest_sim_touch_info info;
	struct nest_sim_touch_acct *acct;
	struct nest_sim *sim;
	uint64_t steps;
	uint32_t dom;
	int fd = memfd_create("tt", MFD_CLOEXEC);

	cr_assert(fd >= 0);
	cr_assert(ftruncate(fd, (off_t)(NREG * PAGES * PG)) == 0);
	cr_assert_eq(nest_sim_new(&cfg, &sim), 0);
	cr_assert_eq(nest_sim_domain_new(sim, 4, &dom), 0);
	cr_assert_eq(nest_sim_touch_acct_new(RUNS * PG, &acct), 0); /* room for the runs, no more */
	cr_assert_eq(nest_sim_domain_set_touch_acct(sim, dom, acct), 0);
	/* region i: the file's pages [i * PAGES, (i + 1) * PAGES), added last first */
	for (uint32_t i = NREG; i-- > 0;)
		cr_assert_eq(nest_sim_region_add(sim, dom, (uint64_t)i << 24, PAGES * PG, fd,
						 (uint64_t)i * PAGES * PG,
						 NEST_SIM_PERM_R | NEST_SIM_PERM_W),
			     0);
	cr_assert_eq(nest_sim_device_add(sim, dom, DEV, false, 20), 0);
	for (uint32_t i = 0; i < NREG; i++) /* every other page: a run each */
		for (uint32_t p = 0; p < PAGES; p += 2) {
			uint8_t b = 1;

			cr_assert_eq(nest_sim_dma(sim, DEV, RID, ((uint64_t)i << 24) + p * PG, &b,
						  1, NEST_SIM_ACC_WRITE, NULL, NULL),
				     0);
		}
	nest_sim_touch_acct_info(acct, &info);
	cr_assert_eq(info.ranges, RUNS, "%u runs, %llu bytes", info.ranges,
		     (unsigned long long)info.bytes);
	cr_assert_eq(info.bytes, RUNS * PG);
	/* at the limit: the next new page looks at every region's file, finds nothing gone */
	{
		uint8_t b = 1;

		steps = nest_sim_touch_steps();
		cr_expect_neq(
			nest_sim_dma(sim, DEV, RID, 1 * PG, &b, 1, NEST_SIM_ACC_WRITE, NULL, NULL),
			0, "refused at the limit");
		steps = nest_sim_touch_steps() - steps;
	}
	cr_log_info("refusal with %u regions on one file of %u runs: %llu steps", NREG, RUNS,
		    (unsigned long long)steps);
	cr_expect_leq(steps, 2 * RUNS, "%llu steps: the runs walked more than once",
		      (unsigned long long)steps);
	nest_sim_touch_acct_info(acct, &info);
	cr_expect_eq(info.refused, 1);
	cr_expect_eq(info.released, 0);
	/* pages gone from two windows (regions 10 and 50) are released by the next look */
	cr_assert_eq(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       (off_t)((10 * PAGES + 4) * PG), (off_t)PG),
		     0);
	cr_assert_eq(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       (off_t)((50 * PAGES + 62) * PG), (off_t)PG),
		     0);
	usleep(1100 * 1000); /* the look before refusing comes at most once a second */
	{
		uint8_t b = 1;

		cr_expect_eq(
			nest_sim_dma(sim, DEV, RID, 1 * PG, &b, 1, NEST_SIM_ACC_WRITE, NULL, NULL),
			0, "room again after the release");
	}
	nest_sim_touch_acct_info(acct, &info);
	cr_expect_eq(info.released, 2 * PG);
	cr_expect_eq(info.bytes, (RUNS - 2 + 1) * PG);
	cr_expect_eq(info.ranges, RUNS - 3, "two runs gone, page 1 joined [0, 1) and [2, 3)");
	sim = nest_sim_free(sim);
	acct = nest_sim_touch_acct_free(acct);
	close(fd);
	NO_LEAKS();
}

/* The decision where MADV_NOHUGEPAGE cannot be given, for every value shmem_enabled can show. */
Test(touch, thp_refusal_decision)
{
	static const char *const may_be_huge[] = {
		"[always] within_size advise never deny force\n",
		"always [within_size] advise never deny force\n",
		"always within_size [advise] never deny force\n",
		"always within_size advise [never] deny force\n", /* a tmpfs mounted huge= still is */
		"always within_size advise never deny [force]\n",
		"garbage\n",
	};

	for (size_t i = 0; i < sizeof(may_be_huge) / sizeof(*may_be_huge); i++) {
		cr_expect(sim_s2_thp_refused(EPERM, true, may_be_huge[i]), "%s", may_be_huge[i]);
		cr_expect(sim_s2_thp_refused(ENOSYS, true, may_be_huge[i]), "%s", may_be_huge[i]);
		cr_expect(!sim_s2_thp_refused(0, true, may_be_huge[i]), "advised: %s",
			  may_be_huge[i]);
		cr_expect(!sim_s2_thp_refused(EINVAL, true, may_be_huge[i]), "no THP: %s",
			  may_be_huge[i]);
		cr_expect(!sim_s2_thp_refused(EPERM, false, may_be_huge[i]), "not shmem: %s",
			  may_be_huge[i]);
	}
	cr_expect(
		!sim_s2_thp_refused(EPERM, true, "always within_size advise never [deny] force\n"));
	cr_expect(!sim_s2_thp_refused(EPERM, true, NULL), "a kernel without THP");
	cr_expect(sim_s2_thp_refused(EPERM, true, ""), "shmem_enabled there but unreadable");
	cr_expect(!sim_s2_thp_refused(EPERM, false, ""), "unreadable, but not shmem");
}

/* Write @text to /proc/self/@file (a user namespace's setgroups and maps). */
static int proc_write(const char *file, const char *text)
{
	char path[64];
	ssize_t len = (ssize_t)strlen(text);
	int fd, r;

	snprintf(path, sizeof(path), "/proc/self/%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = write(fd, text, (size_t)len) == len ? 0 : -1;
	close(fd);
	return r;
}

static int resident(const uint8_t *p, uint64_t len)
{
	unsigned char vec[1024];
	int n = 0;

	if (len / PG > sizeof(vec) || mincore((void *)p, len, vec) < 0)
		return -1;
	for (uint64_t i = 0; i < len / PG; i++)
		n += vec[i] & 1;
	return n;
}

/*
 * In a child: a tmpfs mounted huge=always in a private mount namespace (of a new user namespace
 * where that is allowed). Exit status 0 pass, 77 skip (no namespace, no mount, no THP), 1 fail.
 */
static int thp_child(const char *dir)
{
	struct nest_sim_config cfg = {.touch_limit = 64 * MIB};
	struct nest_sim_counters c;
	char path[64], uid_map[32], gid_map[32];
	struct nest_sim *sim;
	uint8_t *own, b = 1;
	uint32_t dom;
	int fd, n;

	snprintf(uid_map, sizeof(uid_map), "0 %u 1", (unsigned)getuid());
	snprintf(gid_map, sizeof(gid_map), "0 %u 1", (unsigned)getgid());
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
		if (proc_write("setgroups", "deny") < 0 || proc_write("uid_map", uid_map) < 0 ||
		    proc_write("gid_map", gid_map) < 0)
			return 77;
	} else if (unshare(CLONE_NEWNS) < 0) {
		return 77;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("nest-thp", dir, "tmpfs", 0, "huge=always,size=16m") < 0) {
		fprintf(stderr, "thp: cannot mount a huge=always tmpfs: %m\n");
		return 77;
	}
	snprintf(path, sizeof(path), "%s/ram", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)(4 * MIB)) < 0)
		return 1;
	own = mmap(NULL, 4 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (own == MAP_FAILED)
		return 1;
	/* the premise: an ordinary fault here fills 2 MiB (else this kernel gives no THP: skip) */
	own[2 * MIB + 5 * PG] = 1;
	n = resident(own + 2 * MIB, 2 * MIB);
	if (n != 512) {
		fprintf(stderr, "thp: a fault filled %d pages, not a huge page: no shmem THP\n", n);
		return 77;
	}
	if (nest_sim_new(&cfg, &sim) < 0 || nest_sim_domain_new(sim, 4, &dom) < 0 ||
	    nest_sim_region_add(sim, dom, 0, 4 * MIB, fd, 0, NEST_SIM_PERM_R | NEST_SIM_PERM_W) <
		    0 ||
	    nest_sim_device_add(sim, dom, DEV, false, 20) < 0) {
		fprintf(stderr, "thp: the sim refused the region\n");
		return 1;
	}
	/* DMA into a hole of the first 2 MiB: one 4 KiB page, charged as one */
	if (nest_sim_dma(sim, DEV, RID, 3 * PG, &b, 1, NEST_SIM_ACC_WRITE, NULL, NULL) < 0)
		return 1;
	n = resident(own, 2 * MIB);
	nest_sim_get_counters(sim, &c);
	if (n != 1 || c.touched_bytes != PG) {
		fprintf(stderr, "thp: DMA filled %d pages, %llu bytes charged\n", n,
			(unsigned long long)c.touched_bytes);
		return 1;
	}
	nest_sim_free(sim);
	return 0;
}

Test(touch, thp_shmem_fills_what_is_charged)
{
	char dir[] = "/tmp/nest-thp-XXXXXX";
	int st = 0;
	pid_t pid;

	cr_assert(mkdtemp(dir));
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(thp_child(dir));
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	rmdir(dir); /* the mount was the child's namespace's only */
	cr_assert(WIFEXITED(st), "the child died (status 0x%x)", st);
	if (WEXITSTATUS(st) == 77)
		cr_skip_test("no huge=always tmpfs here (namespaces or THP unavailable)");
	cr_expect_eq(WEXITSTATUS(st), 0, "our DMA filled more than it charged (see stderr)");
}

/* madvise(..., MADV_NOHUGEPAGE) fails EPERM from now on, as under a seccomp filter refusing it. */
static int refuse_nohugepage(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_NOHUGEPAGE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(*insns), .filter = insns};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -1;
	return 0;
}

/* In a child: 0 as expected, 77 skip, 1 fail. */
static int refused_child(const char *plain_dir)
{
	char buf[128] = "", path[256];
	bool huge_possible = false;
	struct nest_sim *sim;
	struct statfs sf;
	uint32_t dom;
	int fd, r, tfd;

	tfd = open("/sys/kernel/mm/transparent_hugepage/shmem_enabled", O_RDONLY | O_CLOEXEC);
	if (tfd >= 0) {
		ssize_t n = read(tfd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = 0;
		huge_possible = !strstr(buf, "[deny]");
		close(tfd);
	}
	if (refuse_nohugepage() < 0)
		return 77;
	if (nest_sim_new(NULL, &sim) < 0 || nest_sim_domain_new(sim, 4, &dom) < 0)
		return 1;
	fd = memfd_create("tt", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)MIB) < 0)
		return 1;
	r = nest_sim_region_add(sim, dom, 0, MIB, fd, 0, NEST_SIM_PERM_R);
	if (r != (huge_possible ? -EINVAL : 0)) {
		fprintf(stderr, "refused: memfd with shmem_enabled '%s': %d\n", buf, r);
		return 1;
	}
	close(fd);
	/* a file on a disk filesystem has no shmem huge pages: mapped without the advice */
	if (statfs(plain_dir, &sf) == 0 && sf.f_type != (typeof(sf.f_type))TMPFS_MAGIC) {
		snprintf(path, sizeof(path), "%s/nest-thp-plain-XXXXXX", plain_dir);
		fd = mkstemp(path);
		if (fd < 0)
			return 1;
		unlink(path);
		if (ftruncate(fd, (off_t)MIB) < 0)
			return 1;
		r = nest_sim_region_add(sim, dom, 1ull << 30, MIB, fd, 0, NEST_SIM_PERM_R);
		if (r != 0) {
			fprintf(stderr, "refused: a file on %s: %d\n", plain_dir, r);
			return 1;
		}
		close(fd);
	}
	nest_sim_free(sim);
	return 0;
}

/*
 * Where MADV_NOHUGEPAGE is refused, a memfd is refused unless this kernel cannot give shmem
 * huge pages (no shmem_enabled, or "deny"); a file that is not on tmpfs is mapped anyway.
 */
Test(touch, thp_shmem_refused_without_the_advice)
{
	char cwd[200];
	int st = 0;
	pid_t pid;

	cr_assert(getcwd(cwd, sizeof(cwd)));
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(refused_child(cwd));
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "the child died (status 0x%x)", st);
	if (WEXITSTATUS(st) == 77)
		cr_skip_test("no seccomp filter can be installed here");
	cr_expect_eq(WEXITSTATUS(st), 0, "see stderr");
}
