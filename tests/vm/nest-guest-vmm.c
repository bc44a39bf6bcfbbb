/* SPDX-License-Identifier: MIT */
/*
 * nest-guest-vmm.c - an unprivileged test VMM for the real-kernel guest tests (type1.sh).
 *
 * Started as root by the guest script, it drops to --uid before it touches anything, so every
 * VFIO object it uses comes from nestd over the socket (it cannot open /dev/vfio/N itself, and
 * checks that). Guest memory is a sealed memfd; the device is QEMU's edu behind intel-iommu,
 * driven through the device fd nestd hands out (edu.c). One line per check, "ok ..." or
 * "FAIL ..."; the exit status is the number of failures (capped), 0 when all passed.
 *
 *   nest-guest-vmm --socket PATH --uid UID dma VM DEV_ID PCI
 *       attach, map, DMA both ways, DMA to an unmapped GPA (memory untouched), MEM_REMOVE and
 *       DMA to the old GPA (memory untouched), detach
 *   nest-guest-vmm ... victim VM DEV_ID READY GO RESULT
 *       attach, map, get the device, fork a child that keeps the device fd; the parent writes
 *       READY and waits to be killed (SIGKILL). The child waits for GO (nestd has torn the VM
 *       down), DMAs to the GPA that was mapped, checks the memory is untouched and writes
 *       "ok" or "FAIL" to RESULT.
 *   nest-guest-vmm ... hold VM DEV_ID READY GO
 *       attach, map zeroed memory at GPA 0x100000, write READY, wait for GO, check the memory
 *       is still all zero (another VM's DMA did not reach it), detach
 *   nest-guest-vmm ... isolate VM DEV_ID OTHER_VM OTHER_DEV_ID
 *       attaching OTHER_VM is refused (EPERM); in VM, OTHER_DEV_ID is ENOENT; own DMA works;
 *       DMA to the GPA where OTHER_VM's memory is mapped does not reach it (own memory checked
 *       here, the other VM's by its "hold")
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <grp.h>
#include <nest/libnest.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edu.h"

#define GPA	 0x100000ull
#define MAP_LEN	 (2ull << 20)
#define FD_LEN	 (4ull << 20) /* the memfd is bigger than the mapped part */
#define XFER	 2048u
#define PATTERN	 0x5a
#define POISON	 0xc3
#define WAIT_SEC 60

static const char *sock_path;
static int failures;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

static void die(const char *what, int r)
{
	printf("FAIL %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

static void drop_privileges(uid_t uid)
{
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		die("drop privileges", errno);
}

/* A sealed memfd of FD_LEN bytes filled with @fill, mapped into *ret_map. */
static int guest_memory(uint8_t fill, uint8_t **ret_map)
{
	int fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	uint8_t *m;

	if (fd < 0 || ftruncate(fd, (off_t)FD_LEN) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		die("memfd", errno);
	m = mmap(NULL, FD_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap memfd", errno);
	memset(m, fill, FD_LEN);
	*ret_map = m;
	return fd;
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

static nest_client *attach(const char *vm, struct nest_vm_info *info)
{
	nest_client *c;
	int r = nest_client_connect(sock_path, 0, &c);

	if (r < 0)
		die("connect", r);
	r = nest_vm_attach(c, vm, 0, info);
	if (r < 0)
		die("attach", r);
	return c;
}

/* DEVICE_GET + edu set-up; checks the VMM cannot open the group node itself. */
static int get_edu(nest_client *c, uint32_t dev_id, const char *pci, struct edu *e)
{
	struct nest_device_info di;
	char node[64];
	uint32_t id = 0;
	int fd = -1, r, grp;

	r = nest_device_get(c, dev_id, &di, &fd);
	check(r == 0 && fd >= 0 && (di.flags & NEST_DEVICE_F_HAS_FD), "DEVICE_GET %u: fd %d (%d)",
	      dev_id, fd, r);
	if (r < 0 || fd < 0)
		exit(1);
	grp = edu_iommu_group(pci);
	snprintf(node, sizeof(node), "/dev/vfio/%d", grp);
	r = open(node, O_RDWR | O_CLOEXEC);
	check(r < 0 && errno == EACCES, "the VMM cannot open %s itself (%s)", node,
	      r < 0 ? strerror(errno) : "opened!");
	if (r >= 0)
		close(r);
	r = edu_init(e, fd);
	if (r == 0)
		r = edu_enable_bus_master(e);
	if (r == 0)
		r = edu_read_id(e, &id);
	check(r == 0 && id == EDU_ID_VALUE, "edu through the received fd: id 0x%08x (%d)", id, r);
	if (r < 0)
		exit(1);
	return fd;
}

/* Fill edu's buffer with @v (via a DMA from @src_gpa, whose bytes are already @v). */
static void edu_to(const struct edu *e, uint64_t gpa, const char *what)
{
	int r = edu_dma(e, EDU_EDU_TO_RAM, gpa, 0, XFER, 0);

	check(r == 0, "edu DMA edu->RAM at GPA 0x%llx (%s) completed (%d)", (unsigned long long)gpa,
	      what, r);
}

static int cmd_dma(const char *vm, uint32_t dev_id, const char *pci)
{
	struct nest_vm_info info;
	struct edu e;
	uint8_t *m;
	int mfd = guest_memory(0, &m), dfd, r;
	nest_client *c = attach(vm, &info);

	check(info.backend == NEST_BACKEND_VFIO_TYPE1 && info.formats == 0 && info.pasid_bits == 0,
	      "VM_ATTACH: backend %u, formats %u, pasid_bits %u (no nesting uAPI)", info.backend,
	      info.formats, info.pasid_bits);
	r = nest_mem_add(c, GPA, MAP_LEN, mfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE);
	check(r == 0, "MEM_ADD gpa 0x%llx len 0x%llx (%d)", GPA, MAP_LEN, r);
	dfd = get_edu(c, dev_id, pci, &e);
	r = nest_pasid_alloc(c, 1, 100, NEST_GPASID_NONE, &(uint32_t){0});
	check(r == -EOPNOTSUPP, "PASID_ALLOC answers EOPNOTSUPP on vfio-type1 (%d)", r);

	/* RAM -> edu -> RAM, through the IOMMU at IOVA = GPA */
	for (unsigned i = 0; i < XFER; i++)
		m[i] = (uint8_t)(i * 7 + 1);
	r = edu_dma(&e, EDU_RAM_TO_EDU, GPA, 0, XFER, 0);
	check(r == 0, "edu DMA RAM->edu from GPA 0x%llx (%d)", GPA, r);
	edu_to(&e, GPA + 4096, "mapped");
	check(memcmp(m, m + 4096, XFER) == 0, "the bytes made the round trip through the IOMMU");

	/* a GPA that is not mapped: the fd offset it would hit stays untouched */
	memset(m + MAP_LEN, 0, XFER);
	edu_to(&e, GPA + MAP_LEN, "not mapped");
	check(all_bytes(m + MAP_LEN, XFER, 0), "DMA to an unmapped GPA left memory untouched");

	/* after MEM_REMOVE the old GPA faults */
	r = nest_mem_remove(c, GPA, MAP_LEN);
	check(r == 0, "MEM_REMOVE (%d)", r);
	memset(m + 8192, POISON, XFER);
	edu_to(&e, GPA + 8192, "removed");
	check(all_bytes(m + 8192, XFER, POISON), "DMA to a removed GPA left memory untouched");

	r = nest_vm_detach(c, 0);
	check(r == 0, "VM_DETACH (%d)", r);
	close(dfd);
	nest_client_free(c);
	close(mfd);
	return failures;
}

static bool wait_file(const char *path)
{
	for (int i = 0; i < WAIT_SEC * 20; i++) {
		if (access(path, F_OK) == 0)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

static void write_file(const char *path, const char *s)
{
	char tmp[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fputs(s, f) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		die(path, errno);
}

static int cmd_victim(const char *vm, uint32_t dev_id, const char *pci, const char *ready,
		      const char *go, const char *result)
{
	struct nest_vm_info info;
	struct edu e;
	uint8_t *m;
	int mfd = guest_memory(0, &m), r;
	nest_client *c = attach(vm, &info);
	pid_t pid;

	r = nest_mem_add(c, GPA, MAP_LEN, mfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE);
	check(r == 0, "victim: MEM_ADD (%d)", r);
	(void)get_edu(c, dev_id, pci, &e);
	/* the mapping works while the VMM lives */
	memset(m, PATTERN, XFER);
	r = edu_dma(&e, EDU_RAM_TO_EDU, GPA, 0, XFER, 0);
	memset(m, 0, XFER);
	edu_to(&e, GPA, "victim, mapped");
	check(r == 0 && all_bytes(m, XFER, PATTERN), "victim: DMA lands while attached");
	memset(m, 0, XFER);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (pid == 0) {
		/* the child keeps the device fd (and so the group) after its parent is killed */
		nest_client_free(c);
		if (!wait_file(go)) {
			write_file(result, "FAIL timeout\n");
			_exit(1);
		}
		r = edu_dma(&e, EDU_EDU_TO_RAM, GPA, 0, XFER, 0);
		r = r == 0 && all_bytes(m, FD_LEN, 0);
		printf("%s after SIGKILL and teardown, DMA to the once-mapped GPA left memory "
		       "untouched\n",
		       r ? "ok" : "FAIL");
		write_file(result, r ? "ok\n" : "FAIL\n");
		_exit(r ? 0 : 1);
	}
	write_file(ready, "ready\n");
	for (;;)
		pause(); /* SIGKILL comes */
}

static int cmd_hold(const char *vm, uint32_t dev_id, const char *ready, const char *go)
{
	struct nest_vm_info info;
	uint8_t *m;
	int mfd = guest_memory(0, &m), r;
	nest_client *c = attach(vm, &info);

	r = nest_mem_add(c, GPA, MAP_LEN, mfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE);
	check(r == 0, "hold %s: MEM_ADD (%d)", vm, r);
	write_file(ready, "ready\n");
	check(wait_file(go), "hold %s: released", vm);
	check(all_bytes(m, FD_LEN, 0), "hold %s: the other VM's DMA did not reach this VM's memory",
	      vm);
	nest_vm_detach(c, 0);
	nest_client_free(c);
	return failures;
}

static int cmd_isolate(const char *vm, uint32_t dev_id, const char *pci, const char *other_vm,
		       uint32_t other_dev)
{
	struct nest_vm_info info;
	struct edu e;
	nest_client *c;
	uint8_t *m;
	int mfd = guest_memory(0, &m), r, fd = -1;
	const uint64_t own = 0x500000;

	r = nest_client_connect(sock_path, 0, &c);
	if (r < 0)
		die("connect", r);
	r = nest_vm_attach(c, other_vm, 0, &info);
	check(r == -ENOENT, "attaching %s (not ours) is refused like an unknown VM: %d", other_vm,
	      r);
	nest_client_free(c);
	c = attach(vm, &info);
	r = nest_device_get(c, other_dev, NULL, &fd);
	check(r == -ENOENT && fd < 0, "the other VM's device %u is ENOENT here (%d)", other_dev, r);
	r = nest_mem_add(c, own, MAP_LEN, mfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE);
	check(r == 0, "isolate: MEM_ADD own memory at 0x%llx (%d)", (unsigned long long)own, r);
	fd = get_edu(c, dev_id, pci, &e);
	memset(m, PATTERN, XFER);
	r = edu_dma(&e, EDU_RAM_TO_EDU, own, 0, XFER, 0);
	memset(m, 0, XFER);
	edu_to(&e, own + 4096, "own");
	check(r == 0 && all_bytes(m + 4096, XFER, PATTERN), "own DMA works in %s", vm);
	/* the GPA where the other VM's memory lives: not mapped in this VM */
	edu_to(&e, GPA, "other VM's GPA");
	check(all_bytes(m, XFER, 0), "own memory untouched by the stray DMA");
	nest_vm_detach(c, 0);
	close(fd);
	nest_client_free(c);
	return failures;
}

int main(int argc, char **argv)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 7 || strcmp(argv[1], "--socket") || strcmp(argv[3], "--uid")) {
		fprintf(stderr, "usage: nest-guest-vmm --socket PATH --uid UID CMD ARGS...\n");
		return 2;
	}
	sock_path = argv[2];
	drop_privileges((uid_t)strtoul(argv[4], NULL, 10));
	argv += 5;
	argc -= 5;
	if (strcmp(argv[0], "dma") == 0 && argc == 4)
		r = cmd_dma(argv[1], (uint32_t)atoi(argv[2]), argv[3]);
	else if (strcmp(argv[0], "victim") == 0 && argc == 7)
		r = cmd_victim(argv[1], (uint32_t)atoi(argv[2]), argv[3], argv[4], argv[5],
			       argv[6]);
	else if (strcmp(argv[0], "hold") == 0 && argc == 5)
		r = cmd_hold(argv[1], (uint32_t)atoi(argv[2]), argv[3], argv[4]);
	else if (strcmp(argv[0], "isolate") == 0 && argc == 6)
		r = cmd_isolate(argv[1], (uint32_t)atoi(argv[2]), argv[3], argv[4],
				(uint32_t)atoi(argv[5]));
	else {
		fprintf(stderr, "nest-guest-vmm: bad command\n");
		return 2;
	}
	return r > 100 ? 100 : r;
}
