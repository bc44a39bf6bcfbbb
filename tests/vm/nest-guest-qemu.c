// SPDX-License-Identifier: MIT
/*
 * nest-guest-qemu - run QEMU (built with the client/qemu/ series) as an unprivileged nestd client
 * and drive it over the qtest protocol (vm-qemu, tests/vm/qemu.sh). Runs as root in the guest and
 * drops to --uid before it execs QEMU; QEMU's stdin/stdout are the qtest channel.
 *
 *   nest-guest-qemu --qemu BIN --fw DIR --socket PATH --uid UID --vm NAME --dev ID --log FILE
 *                   [--pidfile F] [--qmp SOCK --on-unplug CMD] MODE
 *
 * MODE:
 *   dma       inner guest RAM (16 MiB memfd) gets a pattern through qtest; the driver enables the
 *             vfio-pci device (edu, got through nestd) at inner PCI 00:04.0, places BAR0, and
 *             has edu copy 2048 bytes RAM -> edu buffer -> RAM at another GPA; the bytes read
 *             back through qtest must match; then QEMU is stopped with SIGTERM and must exit 0.
 *   hold      as dma, then print "ready" on stdout and wait for SIGKILL of QEMU by the script
 *             (reads the QEMU pid from --pidfile).
 *   refused   QEMU must fail to start; its stderr (in --log) is printed for the script to check.
 *   replug    as dma (on the i440fx machine: its root bus has ACPI hotplug, q35's PCIe root bus
 *             has none), then over QMP (--qmp, QEMU's socket) device_del of the edu vfio-pci,
 *             ejected through the ACPI hotplug registers as a guest's ACPI code would; once
 *             QEMU reports DEVICE_DELETED, CMD (--on-unplug, through /bin/sh) must succeed (the
 *             script checks nestd's side); then device_add of the same device, the DMA round
 *             trip again, and SIGTERM.
 * Exit 0 on success, 1 on failure, with a reason on stderr.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edu.h"

#define RAM_SIZE       (16u << 20)
#define SRC_GPA	       0x100000u
#define DST_GPA	       0x101000u
#define DMA_LEN	       2048u
#define BAR0_ADDR      0xe0000000u
#define PCI_DEV	       4u /* inner 00:04.0 */
/* i440fx's ACPI PCI hotplug registers (PIIX4 PM): bus select and eject, one bit per slot */
#define ACPI_PCIHP_SEL 0xae10u
#define ACPI_PCIHP_EJ  0xae08u
#define QMP_TIMEOUT_MS 15000

static FILE *to_qemu, *from_qemu;
static pid_t qemu_pid = -1;
static int qmp_fd = -1;
static bool qmp_deleted;	  /* DEVICE_DELETED of edu0 seen */
static const char *qmp_last = ""; /* the command waiting for its answer */

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "nest-guest-qemu: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (qemu_pid > 0)
		kill(qemu_pid, SIGKILL);
	exit(1);
}

/* One qtest command; returns the response line after "OK" (static buffer). */
__attribute__((format(printf, 1, 2))) static const char *qtest(const char *fmt, ...)
{
	static char *line;
	static size_t cap;
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vfprintf(to_qemu, fmt, ap);
	va_end(ap);
	fputc('\n', to_qemu);
	fflush(to_qemu);
	for (;;) {
		n = getline(&line, &cap, from_qemu);
		if (n < 0)
			die("QEMU closed the qtest channel (see its log)");
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (strncmp(line, "IRQ ", 4) == 0) /* asynchronous, not an answer */
			continue;
		break;
	}
	if (strncmp(line, "OK", 2) != 0) {
		char cmd[64];

		va_start(ap, fmt);
		vsnprintf(cmd, sizeof(cmd), fmt, ap);
		va_end(ap);
		die("qtest '%s': %s", cmd, line);
	}
	return line[2] == ' ' ? line + 3 : line + 2;
}

__attribute__((format(printf, 1, 2))) static uint64_t qtest_num(const char *fmt, ...)
{
	char cmd[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return strtoull(qtest("%s", cmd), NULL, 0);
}

/* One line from QMP (static buffer), or die after QMP_TIMEOUT_MS. */
static const char *qmp_line(void)
{
	static char buf[8192];
	static size_t have;
	static char line[sizeof(buf)];
	struct timespec t0, t;
	char *nl;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!(nl = memchr(buf, '\n', have))) {
		struct pollfd pfd = {.fd = qmp_fd, .events = POLLIN};
		long left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = QMP_TIMEOUT_MS -
		       ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			die("no answer from QMP within %d ms to %s", QMP_TIMEOUT_MS, qmp_last);
		if (have == sizeof(buf))
			die("QMP line longer than %zu bytes", sizeof(buf));
		n = read(qmp_fd, buf + have, sizeof(buf) - have);
		if (n <= 0)
			die("QMP connection closed");
		have += (size_t)n;
	}
	*nl = 0;
	snprintf(line, sizeof(line), "%s", buf);
	have -= (size_t)(nl + 1 - buf);
	memmove(buf, nl + 1, have);
	if (strstr(line, "\"event\": \"DEVICE_DELETED\"") && strstr(line, "\"device\": \"edu0\""))
		qmp_deleted = true;
	return line;
}

/* Send a QMP command (JSON); die unless it returns, not errors. */
static void qmp(const char *json)
{
	const char *l;

	qmp_last = json;
	if (write(qmp_fd, json, strlen(json)) != (ssize_t)strlen(json))
		die("QMP write: %s", strerror(errno));
	do {
		l = qmp_line();
		if (strncmp(l, "{\"error\"", strlen("{\"error\"")) == 0)
			die("QMP %s: %s", json, l);
	} while (strncmp(l, "{\"return\"", strlen("{\"return\"")) != 0);
}

static void qmp_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path))
		die("QMP socket path too long");
	strcpy(sa.sun_path, path);
	qmp_last = "(the greeting)";
	qmp_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (qmp_fd < 0)
		die("socket: %s", strerror(errno));
	/* QEMU creates the socket during its start-up */
	for (int i = 0; connect(qmp_fd, (struct sockaddr *)&sa, sizeof(sa)); i++) {
		if ((errno != ENOENT && errno != ECONNREFUSED) || i == 100)
			die("QMP connect %s: %s", path, strerror(errno));
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	}
	if (!strstr(qmp_line(), "\"QMP\""))
		die("no QMP greeting on %s", path);
	qmp("{\"execute\": \"qmp_capabilities\"}\n");
}

static uint32_t cfg_addr(unsigned reg)
{
	return 0x80000000u | (PCI_DEV << 11) | (reg & 0xfc);
}

static uint32_t cfg_read32(unsigned reg)
{
	qtest("outl 0xcf8 0x%x", cfg_addr(reg));
	return (uint32_t)qtest_num("inl 0xcfc");
}

static void cfg_write32(unsigned reg, uint32_t v)
{
	qtest("outl 0xcf8 0x%x", cfg_addr(reg));
	qtest("outl 0xcfc 0x%x", v);
}

static void qt_edu_write(unsigned reg, uint32_t v)
{
	qtest("writel 0x%x 0x%x", BAR0_ADDR + reg, v);
}

static uint32_t qt_edu_read(unsigned reg)
{
	return (uint32_t)qtest_num("readl 0x%x", BAR0_ADDR + reg);
}

static void qt_edu_dma(uint32_t src, uint32_t dst, uint32_t cmd)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	int i;

	qt_edu_write(EDU_REG_DMA_SRC, src);
	qt_edu_write(EDU_REG_DMA_SRC + 4, 0);
	qt_edu_write(EDU_REG_DMA_DST, dst);
	qt_edu_write(EDU_REG_DMA_DST + 4, 0);
	qt_edu_write(EDU_REG_DMA_CNT, DMA_LEN);
	qt_edu_write(EDU_REG_DMA_CNT + 4, 0);
	qt_edu_write(EDU_REG_DMA_CMD, cmd | EDU_DMA_CMD_RUN);
	/* edu finishes after a 100 ms timer of the outer machine's clock */
	for (i = 0; i < EDU_TIMEOUT_MS / 20; i++) {
		if (!(qt_edu_read(EDU_REG_DMA_CMD) & EDU_DMA_CMD_RUN))
			return;
		nanosleep(&ts, NULL);
	}
	die("edu DMA 0x%x -> 0x%x did not complete", src, dst);
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = 0;
}

static void start_qemu(const char *qemu, const char *fw, const char *sock, const char *vm,
		       unsigned dev, uid_t uid, const char *log, const char *qmp_sock)
{
	int in[2], out[2];
	char obj[512], devopt[128], mem[64], qmpopt[256];
	/* i440fx for the hotplug of replug (its root bus has ACPI hotplug), q35 otherwise */
	const char *machine = qmp_sock ? "pc,memory-backend=ram" : "q35,memory-backend=ram";

	snprintf(obj, sizeof(obj), "nestd,id=n0,socket=%s,vm=%s", sock, vm);
	snprintf(devopt, sizeof(devopt), "vfio-pci,id=edu0,nestd=n0,nestd-dev=%u,addr=0x%x", dev,
		 PCI_DEV);
	snprintf(mem, sizeof(mem), "memory-backend-memfd,id=ram,size=%u", RAM_SIZE);
	snprintf(qmpopt, sizeof(qmpopt), "unix:%s,server=on,wait=off", qmp_sock ? qmp_sock : "");
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	qemu_pid = fork();
	if (qemu_pid < 0)
		die("fork: %s", strerror(errno));
	if (qemu_pid == 0) {
		int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (lfd < 0 || dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(lfd, 2) < 0)
			_exit(126);
		if (fchown(2, uid, uid) || setgroups(0, NULL) || setgid(uid) || setuid(uid))
			_exit(126);
		execl(qemu, qemu, "-machine", machine, "-accel", "qtest", "-m", "16M", "-object",
		      mem, "-object", obj, "-device", devopt, "-L", fw, "-display", "none",
		      "-nodefaults", "-monitor", "none", "-serial", "none", "-qtest", "stdio",
		      "-qtest-log", "/dev/null", "-trace", "nestd*", "-trace", "vfio_nestd*",
		      "-trace", "vfio_listener_region_del", qmp_sock ? "-qmp" : (char *)NULL,
		      qmpopt, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	to_qemu = fdopen(in[1], "w");
	from_qemu = fdopen(out[0], "r");
	if (!to_qemu || !from_qemu)
		die("fdopen: %s", strerror(errno));
}

static int wait_qemu(void)
{
	int st;

	if (waitpid(qemu_pid, &st, 0) < 0)
		die("waitpid: %s", strerror(errno));
	qemu_pid = -1;
	return st;
}

static void dma_round_trip(void)
{
	uint8_t pat[DMA_LEN];
	char hex[2 * DMA_LEN + 1];
	const char *got;
	uint32_t id, bar;

	/* the device through nestd: edu's identity in config space and BAR0 */
	id = cfg_read32(0);
	if (id != (EDU_DEVICE_ID << 16 | EDU_VENDOR_ID))
		die("inner 00:04.0 is 0x%08x, not edu", id);
	cfg_write32(0x10, 0xffffffffu);
	bar = cfg_read32(0x10);
	printf("ok vfio-pci edu through nestd: id 0x%08x, BAR0 size 0x%x\n", id,
	       ~(bar & ~0xfu) + 1);
	cfg_write32(0x10, BAR0_ADDR);
	cfg_write32(0x04, 0x0006); /* memory space, bus master */
	id = qt_edu_read(EDU_REG_ID);
	if (id != EDU_ID_VALUE)
		die("edu id register reads 0x%08x", id);
	qt_edu_write(EDU_REG_ALIVE, 0x12345678);
	if (qt_edu_read(EDU_REG_ALIVE) != ~0x12345678u)
		die("edu liveness register does not invert");
	printf("ok edu BAR0 at 0x%x answers (id 0x%08x)\n", BAR0_ADDR, id);

	for (unsigned i = 0; i < DMA_LEN; i++)
		pat[i] = (uint8_t)(i * 7 + 0x5a);
	hex_of(pat, DMA_LEN, hex);
	qtest("write 0x%x %u 0x%s", SRC_GPA, DMA_LEN, hex);
	memset(hex, '0', 2 * DMA_LEN);
	qtest("write 0x%x %u 0x%s", DST_GPA, DMA_LEN, hex);

	qt_edu_dma(SRC_GPA, EDU_BUF_ADDR, 0);		       /* guest RAM -> edu */
	qt_edu_dma(EDU_BUF_ADDR, DST_GPA, EDU_DMA_CMD_TO_RAM); /* edu -> guest RAM */
	got = qtest("read 0x%x %u", DST_GPA, DMA_LEN);
	hex_of(pat, DMA_LEN, hex);
	if (strncmp(got, "0x", 2) != 0 || strcmp(got + 2, hex) != 0)
		die("guest RAM at 0x%x after the DMA round trip does not hold the pattern "
		    "(%.40s...)",
		    DST_GPA, got);
	printf("ok edu DMA guest RAM 0x%x -> edu -> guest RAM 0x%x: %u bytes match\n", SRC_GPA,
	       DST_GPA, DMA_LEN);
	fflush(stdout);
}

/*
 * device_del of edu0 over QMP, ejected through the ACPI hotplug registers (what the guest's _EJ0
 * does), until QEMU reports DEVICE_DELETED; then @on_unplug; then device_add of it again.
 */
static void replug(const char *qmp_sock, const char *on_unplug, unsigned dev)
{
	char cmd[256];
	int i, rc;

	qmp_connect(qmp_sock);
	qmp("{\"execute\": \"device_del\", \"arguments\": {\"id\": \"edu0\"}}\n");
	qtest("outl 0x%x 0x0", ACPI_PCIHP_SEL); /* the root bus */
	qtest("outl 0x%x 0x%x", ACPI_PCIHP_EJ, 1u << PCI_DEV);
	for (i = 0; !qmp_deleted; i++) {
		if (i == 100)
			die("no DEVICE_DELETED of edu0 after the eject");
		qmp("{\"execute\": \"query-status\"}\n"); /* reads the events in between */
		if (!qmp_deleted)
			nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	}
	if (cfg_read32(0) != 0xffffffffu)
		die("inner 00:04.0 still answers after device_del");
	printf("ok device_del: edu0 unplugged (DEVICE_DELETED), inner 00:04.0 empty\n");
	fflush(stdout);
	rc = system(on_unplug);
	if (rc != 0)
		die("'%s' failed (status 0x%x)", on_unplug, rc);

	snprintf(cmd, sizeof(cmd),
		 "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"vfio-pci\", "
		 "\"id\": \"edu0\", \"nestd\": \"n0\", \"nestd-dev\": %u, \"addr\": \"0x%x\"}}\n",
		 dev, PCI_DEV);
	qmp(cmd);
	printf("ok device_add: edu0 back (DEVICE_GET again)\n");
	dma_round_trip();
}

int main(int argc, char **argv)
{
	const char *qemu = NULL, *fw = NULL, *sock = NULL, *vm = NULL, *log = NULL, *pidfile = NULL;
	const char *qmp_sock = NULL, *on_unplug = NULL;
	bool replugging;
	unsigned dev = 1;
	uid_t uid = 65534;
	static const struct option opts[] = {
		{"qemu", 1, 0, 'q'},	  {"fw", 1, 0, 'f'},	  {"socket", 1, 0, 's'},
		{"vm", 1, 0, 'v'},	  {"dev", 1, 0, 'd'},	  {"uid", 1, 0, 'u'},
		{"log", 1, 0, 'l'},	  {"pidfile", 1, 0, 'p'}, {"qmp", 1, 0, 'm'},
		{"on-unplug", 1, 0, 'x'}, {0, 0, 0, 0},
	};
	int c, st;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			qemu = optarg;
			break;
		case 'f':
			fw = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'v':
			vm = optarg;
			break;
		case 'd':
			dev = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'u':
			uid = (uid_t)strtoul(optarg, NULL, 0);
			break;
		case 'l':
			log = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'm':
			qmp_sock = optarg;
			break;
		case 'x':
			on_unplug = optarg;
			break;
		default:
			return 2;
		}
	}
	replugging = optind == argc - 1 && strcmp(argv[optind], "replug") == 0;
	if (optind != argc - 1 || !qemu || !fw || !sock || !vm || !log ||
	    replugging != (qmp_sock && on_unplug)) {
		fprintf(stderr,
			"usage: nest-guest-qemu --qemu BIN --fw DIR --socket PATH --vm NAME "
			"--dev ID --uid UID --log FILE [--pidfile F] dma|hold|refused\n"
			"       ... --qmp SOCK --on-unplug CMD replug\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (qmp_sock)
		unlink(qmp_sock);
	start_qemu(qemu, fw, sock, vm, dev, uid, log, qmp_sock);
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%d\n", (int)qemu_pid) < 0 || fclose(f))
			die("cannot write %s", pidfile);
	}

	if (strcmp(argv[optind], "refused") == 0) {
		fclose(to_qemu);
		st = wait_qemu();
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			die("QEMU ran with a VM its user does not own");
		printf("ok QEMU refused to start (status 0x%x)\n", st);
		return 0;
	}

	dma_round_trip();
	if (replugging)
		replug(qmp_sock, on_unplug, dev);
	if (strcmp(argv[optind], "hold") == 0) {
		printf("ready\n");
		fflush(stdout);
		st = wait_qemu();
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
			die("QEMU ended with status 0x%x, not by SIGKILL", st);
		printf("ok QEMU killed\n");
		return 0;
	}
	kill(qemu_pid, SIGTERM);
	st = wait_qemu();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("QEMU exited with status 0x%x after SIGTERM", st);
	printf("ok QEMU stopped with SIGTERM, exit 0\n");
	return 0;
}
