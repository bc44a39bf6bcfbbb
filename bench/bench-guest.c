/* SPDX-License-Identifier: MIT */
/*
 * bench-guest: nestd's iommufd backend against a raw ioctl loop, inside the Linux 7.3 QEMU guest
 * of the test suite (TCG: no KVM, so every figure is an emulated CPU's; compare ratios only), on
 * the kernel's iommufd selftest mock device. Run by bench/guest (bench-guest.sh in the guest).
 *
 *   bench-guest raw              the floor: /dev/iommu, an IOAS, one mock device with PASID
 *                                support, a NEST_PARENT HWPT, a nested SELFTEST HWPT attached
 *                                to PASID 100; then IOMMU_HWPT_INVALIDATE of 1 and of 1,024
 *                                selftest entries, and HWPT alloc + PASID attach + detach +
 *                                destroy (what a bind + unbind does in the kernel)
 *                                and a SOCK_SEQPACKET round trip (72 bytes out, 32 back) to a
 *                                forked echo: the socket's own floor in this guest
 *   bench-guest nestd SOCKET VM NESTD_PID
 *                                the same through nestd (libnest, blocking): INVALIDATE x1 and
 *                                x1024 (4 KiB ADDR entries on a bound PASID), BIND + UNBIND,
 *                                PASID_ALLOC + PASID_FREE
 *
 * Both modes pin themselves (and nestd, and the echo) to the guest's CPU 0: a wake-up across
 * the TCG guest's vCPUs costs milliseconds, which would swamp everything else.
 *
 * Each case runs for WINDOW seconds after one warm-up call and prints "case us/op".
 */
#include <errno.h>
#include <fcntl.h>
#include <nest/libnest.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iommufd-test.h"
#include "iommufd.h"

#define WINDOW	   1.0
#define MOCK_PASID 100u
#define BATCH	   1024u
#define MEM_LEN	   (2ull << 20)
#define MEM_GPA	   (1ull << 24) /* the mock IOMMU's aperture starts at 16 MiB */

typedef int (*op_fn)(void *arg);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run @fn for WINDOW seconds; print and return microseconds per call, or exit on failure. */
static double timed(const char *name, op_fn fn, void *arg)
{
	double t0, t;
	unsigned long n = 0;
	int r = fn(arg); /* warm-up */

	if (r < 0) {
		fprintf(stderr, "bench-guest: %s: %s\n", name, strerror(-r));
		exit(1);
	}
	t0 = now();
	do {
		if ((r = fn(arg)) < 0) {
			fprintf(stderr, "bench-guest: %s: %s\n", name, strerror(-r));
			exit(1);
		}
		n++;
	} while ((t = now()) - t0 < WINDOW);
	printf("%s %.2f\n", name, (t - t0) * 1e6 / (double)n);
	fflush(stdout);
	return (t - t0) * 1e6 / (double)n;
}

static void pin(pid_t pid)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(0, &s);
	if (sched_setaffinity(pid, sizeof(s), &s) < 0)
		perror("bench-guest: sched_setaffinity");
}

/* ---- raw ------------------------------------------------------------------------------ */

struct raw {
	int ifd;
	uint32_t ioas, stdev, idev, parent, nested;
	struct iommu_hwpt_invalidate_selftest ent[BATCH];
	struct iommu_hwpt_invalidate inv;
};

static int ioc(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int test_cmd(int ifd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioc(ifd, IOMMU_TEST_CMD, cmd);
}

static int hwpt_alloc(int ifd, uint32_t flags, uint32_t dev_id, uint32_t pt_id, uint32_t data_type,
		      const void *data, uint32_t data_len, uint32_t *out)
{
	struct iommu_hwpt_alloc a = {.size = sizeof(a),
				     .flags = flags,
				     .dev_id = dev_id,
				     .pt_id = pt_id,
				     .data_type = data_type,
				     .data_len = data_len,
				     .data_uptr = (uintptr_t)data};
	int r = ioc(ifd, IOMMU_HWPT_ALLOC, &a);

	*out = a.out_hwpt_id;
	return r;
}

static int pasid_attach(int ifd, uint32_t stdev, uint32_t pasid, uint32_t hwpt, bool attach)
{
	struct iommu_test_cmd c = {.op = attach ? IOMMU_TEST_OP_PASID_ATTACH
						: IOMMU_TEST_OP_PASID_DETACH,
				   .id = stdev};

	if (attach) {
		c.pasid_attach.pasid = pasid;
		c.pasid_attach.pt_id = hwpt;
	} else {
		c.pasid_detach.pasid = pasid;
	}
	return test_cmd(ifd, &c);
}

static int raw_inv(struct raw *w, uint32_t n)
{
	w->inv = (struct iommu_hwpt_invalidate){.size = sizeof(w->inv),
						.hwpt_id = w->nested,
						.data_uptr = (uintptr_t)w->ent,
						.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
						.entry_len = sizeof(w->ent[0]),
						.entry_num = n};
	int r = ioc(w->ifd, IOMMU_HWPT_INVALIDATE, &w->inv);

	return r < 0 ? r : w->inv.entry_num == n ? 0 : -EIO;
}

static int raw_inv1(void *arg)
{
	return raw_inv(arg, 1);
}

static int raw_inv_batch(void *arg)
{
	return raw_inv(arg, BATCH);
}

/* What BIND + UNBIND of one PASID ask of the kernel: a nested HWPT attached, then gone. */
static int raw_bind_unbind(void *arg)
{
	struct raw *w = arg;
	struct iommu_hwpt_selftest sdata = {.iotlb = IOMMU_TEST_IOTLB_DEFAULT};
	struct iommu_destroy d = {.size = sizeof(d)};
	uint32_t h = 0;
	int r = hwpt_alloc(w->ifd, IOMMU_HWPT_ALLOC_PASID, w->idev, w->parent,
			   IOMMU_HWPT_DATA_SELFTEST, &sdata, sizeof(sdata), &h);

	if (r < 0)
		return r;
	if ((r = pasid_attach(w->ifd, w->stdev, MOCK_PASID + 1, h, true)) < 0 ||
	    (r = pasid_attach(w->ifd, w->stdev, MOCK_PASID + 1, 0, false)) < 0)
		return r;
	d.id = h;
	return ioc(w->ifd, IOMMU_DESTROY, &d);
}

struct echo {
	int fd;
	uint8_t buf[72];
};

static int echo_round_trip(void *arg)
{
	struct echo *e = arg;

	if (send(e->fd, e->buf, sizeof(e->buf), 0) != (ssize_t)sizeof(e->buf) ||
	    recv(e->fd, e->buf, sizeof(e->buf), 0) != 32)
		return -EIO;
	return 0;
}

/* A forked echo on a SOCK_SEQPACKET pair: 32 bytes back for each message. */
static void echo_floor(void)
{
	struct echo e = {.fd = -1};
	int sv[2], st;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("bench-guest: socketpair");
		exit(1);
	}
	pid = fork();
	if (pid == 0) {
		uint8_t b[128];

		close(sv[0]);
		while (recv(sv[1], b, sizeof(b), 0) > 0)
			if (send(sv[1], b, 32, 0) != 32)
				_exit(1);
		_exit(0);
	}
	close(sv[1]);
	pin(pid);
	e.fd = sv[0];
	timed("round-trip", echo_round_trip, &e);
	close(sv[0]);
	waitpid(pid, &st, 0);
}

static int raw_main(void)
{
	static struct raw w;
	struct iommu_test_cmd md = {.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS};
	struct iommu_ioas_alloc ia = {.size = sizeof(ia)};
	struct iommu_hwpt_selftest sdata = {.iotlb = IOMMU_TEST_IOTLB_DEFAULT};
	struct iommu_test_cmd rep = {.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE};
	int r;

	w.ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (w.ifd < 0 || ioc(w.ifd, IOMMU_IOAS_ALLOC, &ia) < 0) {
		perror("bench-guest: /dev/iommu");
		return 1;
	}
	w.ioas = ia.out_ioas_id;
	md.id = w.ioas;
	md.mock_domain_flags.dev_flags = MOCK_FLAGS_DEVICE_PASID;
	if ((r = test_cmd(w.ifd, &md)) < 0)
		goto fail;
	w.stdev = md.mock_domain_flags.out_stdev_id;
	w.idev = md.mock_domain_flags.out_idev_id;
	if ((r = hwpt_alloc(w.ifd, IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID, w.idev,
			    w.ioas, IOMMU_HWPT_DATA_NONE, NULL, 0, &w.parent)) < 0 ||
	    (r = hwpt_alloc(w.ifd, IOMMU_HWPT_ALLOC_PASID, w.idev, w.parent,
			    IOMMU_HWPT_DATA_SELFTEST, &sdata, sizeof(sdata), &w.nested)) < 0)
		goto fail;
	rep.id = w.stdev;
	rep.mock_domain_replace.pt_id = w.parent;
	if ((r = test_cmd(w.ifd, &rep)) < 0 ||
	    (r = pasid_attach(w.ifd, w.stdev, MOCK_PASID, w.nested, true)) < 0)
		goto fail;
	for (uint32_t i = 0; i < BATCH; i++)
		w.ent[i] = (struct iommu_hwpt_invalidate_selftest){.iotlb_id = i % 4};
	timed("invalidate-x1", raw_inv1, &w);
	timed("invalidate-x1024", raw_inv_batch, &w);
	timed("bind-unbind", raw_bind_unbind, &w);
	echo_floor();
	/* teardown in the order the 7.3 mock needs: the PASID first, the RID back on the IOAS */
	{
		struct iommu_destroy d = {.size = sizeof(d)};

		pasid_attach(w.ifd, w.stdev, MOCK_PASID, 0, false);
		d.id = w.nested;
		ioc(w.ifd, IOMMU_DESTROY, &d);
		rep.mock_domain_replace.pt_id = w.ioas;
		test_cmd(w.ifd, &rep);
		d.id = w.parent;
		ioc(w.ifd, IOMMU_DESTROY, &d);
		d.id = w.stdev;
		ioc(w.ifd, IOMMU_DESTROY, &d);
		d.id = w.ioas;
		ioc(w.ifd, IOMMU_DESTROY, &d);
		close(w.ifd);
	}
	return 0;
fail:
	fprintf(stderr, "bench-guest: raw set-up: %s\n", strerror(-r));
	return 1;
}

/* ---- nestd ---------------------------------------------------------------------------- */

struct via {
	nest_client *c;
	uint32_t pasid;
	struct nest_inv_entry ent[BATCH];
	struct nest_bind bind;
};

static int via_inv(struct via *v, size_t n)
{
	size_t done = 0;
	int first = 0, r = nest_invalidate(v->c, v->ent, n, &done, &first);

	return r < 0 ? r : done == n ? 0 : first ? -first : -EIO;
}

static int via_inv1(void *arg)
{
	return via_inv(arg, 1);
}

static int via_inv_batch(void *arg)
{
	return via_inv(arg, BATCH);
}

static int via_bind_unbind(void *arg)
{
	struct via *v = arg;
	int r = nest_bind(v->c, &v->bind);

	return r < 0 ? r : nest_unbind(v->c, v->bind.hpasid);
}

static int via_alloc_free(void *arg)
{
	struct via *v = arg;
	uint32_t p = 0, n = 0;
	int r = nest_pasid_alloc(v->c, 1, 1000, NEST_GPASID_NONE, &p);

	if (r < 0)
		return r;
	r = nest_pasid_free(v->c, p, p, &n);
	return r < 0 ? r : n == 1 ? 0 : -EIO;
}

static int nestd_main(const char *sock, const char *vm)
{
	static struct via v;
	struct nest_vm_info info;
	int r, mfd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	uint32_t spare = 0;

	if (mfd < 0 || ftruncate(mfd, (off_t)MEM_LEN) < 0 ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		perror("bench-guest: memfd");
		return 1;
	}
	if ((r = nest_client_connect(sock, 0, &v.c)) < 0 ||
	    (r = nest_vm_attach(v.c, vm, 0, &info)) < 0 ||
	    (r = nest_mem_add(v.c, MEM_GPA, MEM_LEN, mfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE)) <
		    0 ||
	    (r = nest_pasid_alloc(v.c, 1, 1000, NEST_GPASID_NONE, &v.pasid)) < 0 ||
	    (r = nest_pasid_alloc(v.c, 1, 1000, NEST_GPASID_NONE, &spare)) < 0)
		goto fail;
	v.bind = (struct nest_bind){.size = sizeof(v.bind),
				    .format = NEST_BIND_FMT_VTD_FL,
				    .addr_width = 48,
				    .vtd_flags = NEST_VTD_SRE,
				    .gpgd = 0x1234000,
				    .hpasid = v.pasid};
	if ((r = nest_bind(v.c, &v.bind)) < 0)
		goto fail;
	for (uint32_t i = 0; i < BATCH; i++)
		v.ent[i] = (struct nest_inv_entry){.cache = NEST_CACHE_IOTLB,
						   .granularity = NEST_INV_GRANU_ADDR,
						   .pasid = v.pasid,
						   .addr = (uint64_t)(i % 4) << 12,
						   .granule_size = 4096,
						   .nb_granules = 1};
	timed("invalidate-x1", via_inv1, &v);
	timed("invalidate-x1024", via_inv_batch, &v);
	v.bind.hpasid = spare; /* bind + unbind on the second PASID */
	timed("bind-unbind", via_bind_unbind, &v);
	timed("pasid-alloc-free", via_alloc_free, &v);
	nest_client_free(v.c);
	return 0;
fail:
	fprintf(stderr, "bench-guest: nestd set-up: %s (%s)\n", strerror(-r),
		v.c && nest_client_last_error(v.c) ? nest_client_last_error(v.c) : "");
	return 1;
}

int main(int argc, char **argv)
{
	pin(0);
	if (argc == 2 && strcmp(argv[1], "raw") == 0)
		return raw_main();
	if (argc == 5 && strcmp(argv[1], "nestd") == 0) {
		pin((pid_t)atoi(argv[4]));
		return nestd_main(argv[2], argv[3]);
	}
	fprintf(stderr, "usage: bench-guest raw | bench-guest nestd SOCKET VM NESTD_PID\n");
	return 2;
}
