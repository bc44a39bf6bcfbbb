/* SPDX-License-Identifier: MIT */
/*
 * example-vmm.c - plays a VMM with a guest against nestd's sim backend (nestd-example-vmm(1)
 * is described in libnest(3), EXAMPLE VMM).
 *
 * The "guest" is 16 MiB of RAM in a memfd holding real x86-64 page tables of two processes.
 * The program attaches its VM, maps the RAM, binds both page tables to two PASIDs and then uses
 * the sim's debug DMA to show that DMA by guest virtual address lands in the right guest page,
 * that a PTE edited without invalidation keeps translating to the old page (and the checker
 * says so), that the invalidation fixes it, and that a write to a read-only page faults with a
 * fault event. One line per step; exit status 1 if anything did not behave as stated.
 * --run CMD runs a shell command (e.g. `nestctl vm show vm0`) while the VM is still attached.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <nest/libnest.h>

#include "guest-pt.h"

#define RAM_SIZE      (16ull << 20)
#define TABLES_GPA    (1ull << 20) /* page tables live in [1 MiB, 2 MiB) */
#define TABLES_END    (2ull << 20)
#define GVA_DATA      0x400000ull /* both processes: P1 -> GPA_P1, P2 -> GPA_P2 */
#define GVA_RO	      0x401000ull /* P1: read-only page */
#define GVA_STALE     0x402000ull /* P1: remapped behind the IOMMU's back */
#define GPA_P1	      0x200000ull
#define GPA_P2	      0x300000ull
#define GPA_RO	      0x201000ull
#define GPA_OLD	      0x202000ull
#define GPA_NEW	      0x203000ull
#define EVENT_WAIT_MS 2000

struct vmm {
	const char *socket;
	const char *vm;
	const char *run; /* --run: shell command to run while the VM is attached */
	uint32_t dev;
	bool quiet;
	unsigned failures;
	int memfd;
	uint8_t *ram;
	struct guest_ram g;
	nest_client *c;
	uint64_t cr3[2];
	uint32_t pasid[2];
	unsigned n_fault, n_stale, n_other;
	struct nest_ev_fault fault;
	struct nest_ev_stale stale;
};

/* Print one transcript line; returns @ok. */
static bool step(struct vmm *v, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool step(struct vmm *v, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (!ok)
		v->failures++;
	if (v->quiet && ok)
		return ok;
	printf("%-4s  ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return ok;
}

/* A libnest call failed: say which and why. */
static bool step_err(struct vmm *v, int r, const char *what)
{
	return step(v, false, "%s: %s (%s)", what, strerror(-r), nest_client_last_error(v->c));
}

static void on_event(nest_client *c, const struct nest_event *ev, void *opaque)
{
	struct vmm *v = opaque;

	if (ev->type == NEST_EV_FAULT) {
		v->fault = ev->u.fault;
		v->n_fault++;
	} else if (ev->type == NEST_EV_STALE) {
		v->stale = ev->u.stale;
		v->n_stale++;
	} else {
		v->n_other++;
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* Events may arrive just before or just after a reply: wait until *counter moves past @before. */
static bool wait_event(struct vmm *v, const unsigned *counter, unsigned before)
{
	long long end = now_ms() + EVENT_WAIT_MS;

	while (*counter == before && now_ms() < end)
		if (nest_client_wait(v->c, 50) < 0)
			break;
	return *counter != before;
}

static bool setup_ram(struct vmm *v)
{
	v->memfd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (v->memfd < 0 || ftruncate(v->memfd, RAM_SIZE) < 0 ||
	    fcntl(v->memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		return step(v, false, "guest RAM: %s", strerror(errno));
	v->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, v->memfd, 0);
	if (v->ram == MAP_FAILED) {
		v->ram = NULL;
		return step(v, false, "guest RAM: mmap: %s", strerror(errno));
	}
	guest_ram_init(&v->g, v->ram, RAM_SIZE, TABLES_GPA, TABLES_END);
	return step(v, true, "guest RAM: %llu MiB memfd sealed with F_SEAL_SHRINK", RAM_SIZE >> 20);
}

static bool setup_tables(struct vmm *v)
{
	int r = guest_pt_new(&v->g, &v->cr3[0]);

	r = r ? r : guest_pt_new(&v->g, &v->cr3[1]);
	r = r ? r : guest_pt_map(&v->g, v->cr3[0], GVA_DATA, GPA_P1, PTE_RW | PTE_US);
	r = r ? r : guest_pt_map(&v->g, v->cr3[1], GVA_DATA, GPA_P2, PTE_RW | PTE_US);
	r = r ? r : guest_pt_map(&v->g, v->cr3[0], GVA_RO, GPA_RO, PTE_US);
	r = r ? r : guest_pt_map(&v->g, v->cr3[0], GVA_STALE, GPA_OLD, PTE_RW | PTE_US);
	if (r)
		return step(v, false, "page tables: %s", strerror(-r));
	return step(v, true,
		    "page tables: process 1 CR3 0x%" PRIx64 ", process 2 CR3 0x%" PRIx64
		    " (4-level, GVA 0x%llx -> GPA 0x%llx / 0x%llx)",
		    v->cr3[0], v->cr3[1], GVA_DATA, GPA_P1, GPA_P2);
}

static bool do_connect(struct vmm *v)
{
	struct nest_limits l;
	int r = nest_client_connect(v->socket, 0, &v->c);

	if (r < 0)
		return step(v, false, "connect %s: %s", v->socket, strerror(-r));
	nest_client_set_event_cb(v->c, on_event, v);
	nest_client_get_limits(v->c, &l);
	return step(v, true, "connected to %s (%s, protocol %u.%u, max batch %u, in flight %u)",
		    v->socket, l.software, l.proto_major, l.proto_minor, l.max_batch,
		    l.max_inflight);
}

static const char *backend_name(uint32_t b)
{
	static const char *const names[] = {"?", "sim", "vfio-type1", "vfio-nesting", "iommufd"};

	return b < sizeof(names) / sizeof(names[0]) ? names[b] : "?";
}

static bool do_attach(struct vmm *v)
{
	struct nest_vm_info info;
	int r = nest_vm_attach(v->c, v->vm, NEST_ATTACH_F_CHECKER, &info);

	if (r < 0)
		return step_err(v, r, "attach");
	if (!step(v, info.backend == NEST_BACKEND_SIM && (info.features & NEST_FEAT_SIM_DMA),
		  "attached %s: backend %s, PASID bits %u, %u devices, quota %u, features 0x%x%s",
		  v->vm, backend_name(info.backend), info.pasid_bits, info.num_devices,
		  info.pasid_quota, info.features,
		  info.features & NEST_FEAT_CHECKER ? ", checker on" : ""))
		return false;
	r = nest_mem_add(v->c, 0, RAM_SIZE, v->memfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE);
	if (r < 0)
		return step_err(v, r, "mem add");
	return step(v, true, "guest RAM registered: GPA 0x0-0x%llx read/write", RAM_SIZE - 1);
}

static bool do_devices(struct vmm *v)
{
	struct nest_device_info d;
	int fd = -1;
	int r = nest_device_get(v->c, v->dev, &d, &fd);

	if (r < 0)
		return step_err(v, r, "device get");
	if (fd >= 0)
		close(fd); /* kernel backends hand out a VFIO fd; this demo only needs the sim */
	return step(v, true, "device %u: %s, ATS %s, PASID bits %u, %s", d.dev_id, d.name,
		    d.flags & NEST_DEVICE_F_ATS ? "yes" : "no", d.pasid_bits,
		    fd >= 0 ? "device fd received" : "no device fd (sim)");
}

static bool do_pasids(struct vmm *v)
{
	for (int i = 0; i < 2; i++) {
		struct nest_bind b = {
			.format = NEST_BIND_FMT_VTD_FL, .addr_width = 48, .gpgd = v->cr3[i]};
		int r = nest_pasid_alloc(v->c, 1, NEST_PASID_MAX, 100 + i, &v->pasid[i]);

		if (r < 0)
			return step_err(v, r, "PASID alloc");
		b.hpasid = v->pasid[i];
		b.flags = NEST_BIND_F_GPASID;
		b.gpasid = 100 + i;
		r = nest_bind(v->c, &b);
		if (r < 0)
			return step_err(v, r, "bind");
		step(v, true,
		     "process %d: guest PASID %d -> host PASID %u, bound to CR3 0x%" PRIx64, i + 1,
		     100 + i, v->pasid[i], v->cr3[i]);
	}
	return true;
}

/* DMA by process @proc (0/1) of @len bytes at @gva; returns 0 / -errno, *reason the fault. */
static int dma(struct vmm *v, int proc, uint64_t gva, void *buf, size_t len, bool write,
	       uint32_t *reason)
{
	uint32_t fr = 0;
	int r = nest_debug_dma(v->c, v->dev, v->pasid[proc], gva, buf, len,
			       write ? NEST_DMA_F_WRITE : 0, NULL, &fr, NULL);

	if (reason)
		*reason = fr;
	return r;
}

static bool demo_dma_write(struct vmm *v)
{
	static const char m1[] = "DMA write by process 1", m2[] = "DMA write by process 2";
	int r = dma(v, 0, GVA_DATA + 0x10, (void *)m1, sizeof(m1), true, NULL);

	r = r ? r : dma(v, 1, GVA_DATA + 0x10, (void *)m2, sizeof(m2), true, NULL);
	if (r < 0)
		return step_err(v, r, "DMA write");
	return step(v,
		    !memcmp(v->ram + GPA_P1 + 0x10, m1, sizeof(m1)) &&
			    !memcmp(v->ram + GPA_P2 + 0x10, m2, sizeof(m2)),
		    "DMA write to GVA 0x%llx: process 1 data at GPA 0x%llx, process 2 data at "
		    "GPA 0x%llx (read back from the memfd)",
		    GVA_DATA + 0x10, GPA_P1 + 0x10, GPA_P2 + 0x10);
}

static bool demo_dma_read(struct vmm *v)
{
	static const char c1[] = "guest CPU wrote this for process 1";
	static const char c2[] = "guest CPU wrote this for process 2";
	char b1[sizeof(c1)] = "", b2[sizeof(c2)] = "";
	int r;

	memcpy(v->ram + GPA_P1 + 0x800, c1, sizeof(c1)); /* the "guest CPU" writes RAM */
	memcpy(v->ram + GPA_P2 + 0x800, c2, sizeof(c2));
	r = dma(v, 0, GVA_DATA + 0x800, b1, sizeof(b1), false, NULL);
	r = r ? r : dma(v, 1, GVA_DATA + 0x800, b2, sizeof(b2), false, NULL);
	if (r < 0)
		return step_err(v, r, "DMA read");
	return step(v, !memcmp(b1, c1, sizeof(c1)) && !memcmp(b2, c2, sizeof(c2)),
		    "DMA read of GVA 0x%llx returns what the guest wrote at GPA 0x%llx (process "
		    "1) and GPA 0x%llx (process 2)",
		    GVA_DATA + 0x800, GPA_P1 + 0x800, GPA_P2 + 0x800);
}

/* Read GVA_STALE through process 1; true if it shows @expect. */
static bool read_stale_page(struct vmm *v, const char *expect, int *ret_r)
{
	char buf[16] = "";

	*ret_r = dma(v, 0, GVA_STALE, buf, sizeof(buf), false, NULL);
	return *ret_r == 0 && !strcmp(buf, expect);
}

static bool demo_stale(struct vmm *v)
{
	unsigned before;
	uint64_t *pte;
	int r;

	strcpy((char *)v->ram + GPA_OLD, "old page");
	strcpy((char *)v->ram + GPA_NEW, "new page");
	if (!step(v, read_stale_page(v, "old page", &r),
		  "DMA read of GVA 0x%llx reads the page at GPA 0x%llx (now cached)", GVA_STALE,
		  GPA_OLD))
		return false;
	pte = guest_pt_leaf(&v->g, v->cr3[0], GVA_STALE);
	if (!pte)
		return step(v, false, "PTE of GVA 0x%llx not found", GVA_STALE);
	__atomic_store_n(pte, GPA_NEW | PTE_P | PTE_RW | PTE_US, __ATOMIC_RELEASE);
	before = v->n_stale;
	step(v, read_stale_page(v, "old page", &r),
	     "PTE of GVA 0x%llx now points to GPA 0x%llx, no invalidation: DMA still reads the "
	     "old page",
	     GVA_STALE, GPA_NEW);
	if (!wait_event(v, &v->n_stale, before))
		return step(v, false, "no NEST_EV_STALE event from the checker");
	return step(v,
		    v->stale.pasid == v->pasid[0] && v->stale.cached_gpa == GPA_OLD &&
			    v->stale.current_gpa == GPA_NEW,
		    "checker event NEST_EV_STALE: PASID %u GVA 0x%" PRIx64 " cache 0x%x served "
		    "GPA 0x%" PRIx64 ", tables say 0x%" PRIx64,
		    v->stale.pasid, v->stale.addr, v->stale.cache, v->stale.cached_gpa,
		    v->stale.current_gpa);
}

static bool demo_invalidate(struct vmm *v)
{
	struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
				   .granularity = NEST_INV_GRANU_ADDR,
				   .flags = NEST_INV_F_LEAF,
				   .pasid = v->pasid[0],
				   .addr = GVA_STALE,
				   .granule_size = GUEST_PAGE,
				   .nb_granules = 1};
	size_t done = 0;
	unsigned before;
	int ferr = 0, r = nest_invalidate(v->c, &e, 1, &done, &ferr);

	if (r < 0)
		return step_err(v, r, "invalidate");
	step(v, done == 1,
	     "invalidated IOTLB + device TLB, ADDR granularity, GVA 0x%llx "
	     "(1 entry done)",
	     GVA_STALE);
	before = v->n_stale;
	step(v, read_stale_page(v, "new page", &r), "DMA read of GVA 0x%llx now reads GPA 0x%llx",
	     GVA_STALE, GPA_NEW);
	nest_client_wait(v->c, 100); /* give a (wrong) stale report the chance to arrive */
	return step(v, v->n_stale == before, "no stale report after the invalidation");
}

static bool demo_fault(struct vmm *v)
{
	static const char ro[] = "read-only page";
	uint32_t reason = 0;
	unsigned before = v->n_fault;
	int r;

	memcpy(v->ram + GPA_RO, ro, sizeof(ro));
	r = dma(v, 0, GVA_RO, "X", 1, true, &reason);
	step(v, r == -EFAULT && reason == NEST_FAULT_WRITE && !memcmp(v->ram + GPA_RO, ro, 2),
	     "DMA write to read-only GVA 0x%llx faults (%s: %s), page unchanged", GVA_RO,
	     r ? strerror(-r) : "no error", nest_fault_reason_str(reason));
	if (!wait_event(v, &v->n_fault, before))
		return step(v, false, "no NEST_EV_FAULT event");
	return step(v,
		    v->fault.reason == NEST_FAULT_WRITE && v->fault.pasid == v->pasid[0] &&
			    v->fault.addr == GVA_RO && (v->fault.access & NEST_ACCESS_WRITE),
		    "fault event NEST_EV_FAULT: reason %s, device %u, PASID %u, GVA 0x%" PRIx64,
		    nest_fault_reason_str(v->fault.reason), v->fault.dev_id, v->fault.pasid,
		    v->fault.addr);
}

/* --run: e.g. `nestctl vm show vm0` while everything is still attached and bound. */
static void run_while_attached(struct vmm *v)
{
	pid_t pid;
	int st = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", v->run, (char *)NULL); /* our fds are O_CLOEXEC */
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		step(v, false, "run '%s': %s", v->run, strerror(errno));
		return;
	}
	step(v, WIFEXITED(st) && WEXITSTATUS(st) == 0, "ran '%s' while attached (exit status %d)",
	     v->run, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void teardown(struct vmm *v)
{
	uint32_t n = 0;
	int r;

	for (int i = 0; i < 2 && v->pasid[i]; i++) {
		r = nest_unbind(v->c, v->pasid[i]);
		if (r < 0)
			step_err(v, r, "unbind");
		else
			step(v, true, "unbound host PASID %u", v->pasid[i]);
	}
	r = nest_pasid_free(v->c, 1, NEST_PASID_MAX, &n);
	if (r < 0)
		step_err(v, r, "PASID free");
	else
		step(v, n == (v->pasid[1] ? 2u : v->pasid[0] ? 1u : 0u), "freed %u PASIDs", n);
	r = nest_mem_remove(v->c, 0, RAM_SIZE);
	r = r ? r : nest_vm_detach(v->c, 0);
	if (r < 0)
		step_err(v, r, "detach");
	else
		step(v, true, "guest RAM unregistered, detached from %s", v->vm);
}

static int parse_args(struct vmm *v, int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"vm", required_argument, NULL, 'v'},
		{"device", required_argument, NULL, 'd'},
		{"quiet", no_argument, NULL, 'q'},
		{"run", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:v:d:qr:h", opts, NULL)) >= 0) {
		if (c == 's')
			v->socket = optarg;
		else if (c == 'v')
			v->vm = optarg;
		else if (c == 'd')
			v->dev = (uint32_t)strtoul(optarg, NULL, 0);
		else if (c == 'q')
			v->quiet = true;
		else if (c == 'r')
			v->run = optarg;
		else {
			printf("Usage: %s [--socket PATH] [--vm NAME] [--device ID] [--run CMD] "
			       "[-q]\n",
			       argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	return optind == argc ? -1 : 2;
}

int main(int argc, char **argv)
{
	struct vmm v = {.socket = NEST_DEFAULT_SOCKET, .vm = "vm0", .dev = 1, .memfd = -1};
	int r = parse_args(&v, argc, argv);

	if (r >= 0)
		return r;
	if (setup_ram(&v) && setup_tables(&v) && do_connect(&v) && do_attach(&v)) {
		if (do_devices(&v) && do_pasids(&v) && demo_dma_write(&v) && demo_dma_read(&v) &&
		    demo_stale(&v) && demo_invalidate(&v) && demo_fault(&v) && v.run)
			run_while_attached(&v);
		teardown(&v);
	}
	nest_client_free(v.c);
	if (v.ram)
		munmap(v.ram, RAM_SIZE);
	if (v.memfd >= 0)
		close(v.memfd);
	if (v.failures)
		printf("example VMM: %u step(s) FAILED\n", v.failures);
	else if (!v.quiet)
		printf("example VMM: everything behaved as described\n");
	return v.failures ? 1 : 0;
}
