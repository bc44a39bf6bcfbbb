/* SPDX-License-Identifier: MIT */
/*
 * The isolation matrix (ARCHITECTURE.md §6, PROTOCOL.md §8): VM A's connection against every
 * kind of VM B id answers exactly like a non-existent id, and B's state is untouched.
 */
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"

#define B_GPA	0x10000000ull
#define NOPASID 999u
#define NODEV	99u

static int dev_get(struct tc *t, uint32_t dev)
{
	struct nest_device_get g = {.size = sizeof(g), .dev_id = dev};

	return tc_call(t, NEST_OP_DEVICE_GET, &g, sizeof(g), NULL, 0, NULL, 0, NULL, 0, NULL);
}

static int inv_pasid(struct tc *t, uint32_t pasid)
{
	struct nest_inv_entry e = {
		.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID, .pasid = pasid};
	struct nest_invalidate_reply ir = {0};
	int r = tc_invalidate(t, &e, 1, &ir);

	cr_assert_eq(r, 0);
	cr_expect_eq(ir.done, 0);
	return -ir.first_error;
}

static int dma(struct tc *t, uint32_t dev, uint32_t pasid)
{
	char buf[4];

	return tc_dma(t, dev, pasid, IT_GVA, 0, buf, sizeof(buf), NULL);
}

Test(isolation, vm_a_cannot_see_vm_b)
{
	struct td d;
	struct it_guest ga, gb;
	uint32_t pb = 0, pa = 0, n = 0, pg = 0;
	char buf[4];
	struct nest_sim_dma_reply dr;

	it_start(&d, NULL, NULL);
	it_guest_init(&ga);
	it_guest_init(&gb);
	struct tc *b = it_client(&d);
	cr_assert_eq(tc_attach(b, "vm1", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(b, gb.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_mem_add(b, gb.fd, B_GPA, IT_MEM, 0, NEST_MEM_F_READ), 0);
	cr_assert_eq(tc_pasid_alloc_g(b, 1, NEST_PASID_MAX, 5, &pb), 0);
	cr_assert_eq(tc_bind(b, pb, IT_GPGD, 48, 0), 0);

	struct tc *a = it_client(&d);
	cr_assert_eq(tc_attach(a, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(a, ga.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(a, 1, NEST_PASID_MAX, &pa), 0);
	cr_assert_neq(pa, pb);
	cr_assert_neq(pa, NOPASID);

	/* device */
	cr_expect_eq(dev_get(a, 7), -ENOENT);
	cr_expect_eq(dev_get(a, 7), dev_get(a, NODEV));
	/* PASID: bind, unbind, free, invalidate, dma */
	cr_expect_eq(tc_bind(a, pb, IT_GPGD, 48, 0), -ENOENT);
	cr_expect_eq(tc_bind(a, pb, IT_GPGD, 48, 0), tc_bind(a, NOPASID, IT_GPGD, 48, 0));
	cr_expect_eq(tc_unbind(a, pb), -ENOENT);
	cr_expect_eq(tc_unbind(a, pb), tc_unbind(a, NOPASID));
	cr_expect_eq(tc_pasid_free(a, pb, pb, NULL), -ENOENT);
	cr_expect_eq(tc_pasid_free(a, pb, pb, NULL), tc_pasid_free(a, NOPASID, NOPASID, NULL));
	cr_expect_eq(inv_pasid(a, pb), -ENOENT);
	cr_expect_eq(inv_pasid(a, pb), inv_pasid(a, NOPASID));
	{ /* in one batch after entries on A's own PASID (which nestd looks up once) */
		struct nest_inv_entry e[4];
		struct nest_invalidate_reply ir = {0};

		for (int i = 0; i < 4; i++)
			e[i] = (struct nest_inv_entry){.cache = NEST_CACHE_IOTLB,
						       .granularity = NEST_INV_GRANU_PASID,
						       .pasid = i == 2 ? pb : pa};
		cr_assert_eq(tc_invalidate(a, e, 4, &ir), 0);
		cr_expect_eq(ir.done, 2);
		cr_expect_eq(ir.first_error, ENOENT);
	}
	cr_expect_eq(dma(a, 1, pb), -ENOENT);
	cr_expect_eq(dma(a, 1, pb), dma(a, 1, NOPASID));
	cr_expect_eq(dma(a, 7, pa), -ENOENT, "B's device with A's PASID");
	cr_expect_eq(dma(a, 7, pa), dma(a, NODEV, pa));
	/* region */
	cr_expect_eq(tc_mem_remove(a, B_GPA, IT_MEM), -ENOENT);
	cr_expect_eq(tc_mem_remove(a, B_GPA, IT_MEM), tc_mem_remove(a, B_GPA + IT_MEM, IT_MEM));
	/* B's gpa range is free in A's address space, B's gpasid is free in A's namespace */
	cr_expect_eq(tc_mem_add(a, ga.fd, B_GPA, IT_MEM, 0, NEST_MEM_F_READ), 0);
	cr_expect_eq(tc_pasid_alloc_g(a, 1, NEST_PASID_MAX, 5, &pg), 0);

	/* B is untouched: its binding still translates, its PASID is still its own */
	memcpy(gb.mem + IT_GPA, "BBBB", 4);
	cr_assert_eq(tc_dma(b, 7, pb, IT_GVA, 0, buf, 4, &dr), 0);
	cr_expect_eq(dr.fault_reason, 0);
	cr_expect_eq(memcmp(buf, "BBBB", 4), 0);
	cr_expect_eq(tc_pasid_free(b, pa, pa, NULL), -ENOENT);
	cr_expect_eq(tc_pasid_free(b, pb, pb, &n), 0);
	cr_expect_eq(n, 1);

	tc_free(a);
	tc_free(b);
	it_guest_fini(&ga);
	it_guest_fini(&gb);
	it_stop(&d);
	NO_LEAKS();
}

Test(isolation, uid_not_in_policy_is_eperm)
{
	struct td d;
	char conf[512];

	td_init(&d);
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\n[VM]\nName=other\nOwner=%u\nGroup=%u\nDevice=x id=1\n",
		 (unsigned)getuid() + 4242, (unsigned)getgid() + 4242);
	td_write_conf(&d, conf);
	cr_assert_eq(td_start(&d), 0);
	struct tc *t = it_client(&d);
	/* a VM this peer may not attach answers exactly like one that does not exist */
	cr_expect_eq(tc_attach(t, "other", 0, NULL), -ENOENT);
	cr_expect_eq(tc_attach(t, "no-such-vm", 0, NULL), -ENOENT);
	cr_expect_eq(tc_attach(t, "other", 0, NULL), -ENOENT,
		     "and the connection stays, as for "
		     "an unknown name");
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(isolation, group_in_policy_may_attach)
{
	struct td d;
	char conf[512];

	td_init(&d);
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\n[VM]\nName=grp\nOwner=%u\nGroup=%u\nDevice=x id=1\n",
		 (unsigned)getuid() + 4242, (unsigned)getgid());
	td_write_conf(&d, conf);
	cr_assert_eq(td_start(&d), 0);
	struct tc *t = it_client(&d);
	cr_expect_eq(tc_attach(t, "grp", 0, NULL), 0);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

/* A VM's Group= also matches a supplementary group of the peer (SO_PEERGROUPS), and a peer with
 * neither the uid nor any of the groups is refused. */
Test(isolation, supplementary_group_in_policy_may_attach)
{
	struct td d;
	char conf[512];
	int st[2] = {0, 0};

	if (getuid() != 0)
		cr_skip_test("needs root to run a client under other credentials");
	td_init(&d);
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\n[VM]\nName=grp\nOwner=%u\nGroup=4244\nDevice=x id=1\n",
		 (unsigned)getuid() + 4242);
	td_write_conf(&d, conf);
	cr_assert_eq(td_start(&d), 0);
	cr_assert_eq(chmod(d.dir, 0755), 0);
	cr_assert_eq(chmod(d.sock, 0666), 0);
	for (int i = 0; i < 2; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			gid_t g[2] = {4245, i == 0 ? 4244 : 4246};

			if (setgroups(2, g) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
				_exit(2);
			struct tc *t = tc_connect(d.sock);
			if (!t || tc_hello(t) != 0)
				_exit(3);
			_exit(tc_attach(t, "grp", 0, NULL) == (i == 0 ? 0 : -ENOENT) ? 0 : 4);
		}
		waitpid(pid, &st[i], 0);
	}
	cr_expect(WIFEXITED(st[0]) && WEXITSTATUS(st[0]) == 0, "member: status %d", st[0]);
	cr_expect(WIFEXITED(st[1]) && WEXITSTATUS(st[1]) == 0, "non-member: status %d", st[1]);
	it_stop(&d);
	NO_LEAKS();
}
