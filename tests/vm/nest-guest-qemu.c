// SPDX-License-Identifier: MIT
/*
 * nest-guest-qemu - run QEMU (built with the client/qemu/ series) as an unprivileged nestd client
 * and drive it over the qtest protocol (vm-qemu, tests/vm/qemu.sh). Runs as root in the guest and
 * drops to --uid before it execs QEMU; QEMU's stdin/stdout are the qtest channel.
 *
 *   nest-guest-qemu --qemu BIN --fw DIR --socket PATH --uid UID --vm NAME --dev ID --log FILE MODE
 *
 * MODE:
 *   dma       inner guest RAM (16 MiB memfd) gets a pattern through qtest; the driver enables the
 *             vfio-pci device (edu, got through nestd) at inner PCI 00:04.0, places BAR0, and
 *             has edu copy 2048 bytes RAM -> edu buffer -> RAM at another GPA; the bytes read
 *             back through qtest must match; then QEMU is stopped with SIGTERM and must exit 0.
 *   hold      as dma, then print "ready" on stdout and wait for SIGKILL of QEMU by the script
 *             (reads the QEMU pid from --pidfile).
 *   refused   QEMU must fail to start; its stderr (in --log) is printed for the script to check.
 * Exit 0 on success, 1 on failure, with a reason on stderr.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edu.h"

#define RAM_SIZE  (16u << 20)
#define SRC_GPA	  0x100000u
#define DST_GPA	  0x101000u
#define DMA_LEN	  2048u
#define BAR0_ADDR 0xe0000000u
#define PCI_DEV	  4u /* inner 00:04.0 */

static FILE *to_qemu, *from_qemu;
static pid_t qemu_pid = -1;

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
		       unsigned dev, uid_t uid, const char *log)
{
	int in[2], out[2];
	char obj[512], devopt[128], mem[64];

	snprintf(obj, sizeof(obj), "nestd,id=n0,socket=%s,vm=%s", sock, vm);
	snprintf(devopt, sizeof(devopt), "vfio-pci,id=edu0,nestd=n0,nestd-dev=%u,addr=0x%x", dev,
		 PCI_DEV);
	snprintf(mem, sizeof(mem), "memory-backend-memfd,id=ram,size=%u", RAM_SIZE);
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
		execl(qemu, qemu, "-machine", "q35,memory-backend=ram", "-accel", "qtest", "-m",
		      "16M", "-object", mem, "-object", obj, "-device", devopt, "-L", fw,
		      "-display", "none", "-nodefaults", "-monitor", "none", "-serial", "none",
		      "-qtest", "stdio", "-qtest-log", "/dev/null", (char *)NULL);
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

int main(int argc, char **argv)
{
	const char *qemu = NULL, *fw = NULL, *sock = NULL, *vm = NULL, *log = NULL, *pidfile = NULL;
	unsigned dev = 1;
	uid_t uid = 65534;
	static const struct option opts[] = {
		{"qemu", 1, 0, 'q'}, {"fw", 1, 0, 'f'},	     {"socket", 1, 0, 's'},
		{"vm", 1, 0, 'v'},   {"dev", 1, 0, 'd'},     {"uid", 1, 0, 'u'},
		{"log", 1, 0, 'l'},  {"pidfile", 1, 0, 'p'}, {0, 0, 0, 0},
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
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || !qemu || !fw || !sock || !vm || !log) {
		fprintf(stderr,
			"usage: nest-guest-qemu --qemu BIN --fw DIR --socket PATH --vm NAME "
			"--dev ID --uid UID --log FILE [--pidfile F] dma|hold|refused\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	start_qemu(qemu, fw, sock, vm, dev, uid, log);
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
