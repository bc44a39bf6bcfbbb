/* SPDX-License-Identifier: MIT */
/*
 * client-test.c - see client-test.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client-test.h"

static bool sock_ready(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void nestd_write_conf(struct nestd_proc *d, const char *extra)
{
	FILE *f = fopen(d->conf, "we");

	cr_assert(f, "cannot write %s", d->conf);
	fprintf(f,
		"[Daemon]\nBackend=sim\n\n"
		"[VM]\nName=vm0\nOwner=%u\nPASIDQuota=16\nGracePeriodSec=0\n"
		"Device=dsa0 id=1 ats=yes pasid-bits=20\n"
		"Device=iax0 id=2 ats=no pasid-bits=20\n\n"
		"[VM]\nName=vm1\nOwner=%u\nPASIDQuota=4\nGracePeriodSec=0\n"
		"Device=dsa1 id=1 ats=no pasid-bits=20\n\n%s",
		(unsigned)getuid(), (unsigned)getuid() + 4242u, extra ? extra : "");
	fclose(f);
}

void nestd_start(struct nestd_proc *d, const char *extra)
{
	struct timespec pause = {0, 20 * 1000 * 1000};

	snprintf(d->dir, sizeof(d->dir), "/tmp/nest-client-XXXXXX");
	cr_assert(mkdtemp(d->dir), "mkdtemp: %s", strerror(errno));
	snprintf(d->conf, sizeof(d->conf), "%s/nestd.conf", d->dir);
	snprintf(d->sock, sizeof(d->sock), "%s/nestd.sock", d->dir);
	snprintf(d->admin, sizeof(d->admin), "%s/admin.sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/nestd.log", d->dir);
	nestd_write_conf(d, extra);

	d->pid = fork();
	cr_assert(d->pid >= 0);
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(NESTD_BIN, "nestd", "--config", d->conf, "--socket", d->sock,
		      "--admin-socket", d->admin, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) { /* 10 s */
		int st;

		if (sock_ready(d->sock) && sock_ready(d->admin))
			return;
		cr_assert(waitpid(d->pid, &st, WNOHANG) == 0, "nestd exited early (see %s)",
			  d->log);
		nanosleep(&pause, NULL);
	}
	cr_assert_fail("nestd did not start listening");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int nestd_stop(struct nestd_proc *d)
{
	struct timespec pause = {0, 10 * 1000 * 1000};
	int st = 0, code = -1;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		for (int i = 0; i < 500; i++) {
			if (waitpid(d->pid, &st, WNOHANG) == d->pid)
				break;
			if (i == 499) {
				kill(d->pid, SIGKILL);
				waitpid(d->pid, &st, 0);
			}
			nanosleep(&pause, NULL);
		}
		code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		d->pid = 0;
	}
	if (d->dir[0])
		nftw(d->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	d->dir[0] = '\0';
	return code;
}

/* Read both pipes until EOF. */
static void run_drain(int out, int err, char **ret_out, char **ret_err)
{
	struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = err, .events = POLLIN}};
	char *buf[2] = {NULL, NULL};
	size_t len[2] = {0, 0};
	int open_n = 2;

	while (open_n > 0 && poll(p, 2, 30000) > 0) {
		for (int i = 0; i < 2; i++) {
			char tmp[4096];
			ssize_t n;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(p[i].fd, tmp, sizeof(tmp));
			if (n <= 0) {
				p[i].fd = -1;
				open_n--;
				continue;
			}
			buf[i] = realloc(buf[i], len[i] + (size_t)n + 1);
			memcpy(buf[i] + len[i], tmp, (size_t)n);
			len[i] += (size_t)n;
			buf[i][len[i]] = '\0';
		}
	}
	*ret_out = buf[0] ? buf[0] : strdup("");
	*ret_err = buf[1] ? buf[1] : strdup("");
}

int run_capture(char *const argv[], char **ret_out, char **ret_err)
{
	return run_capture_as(argv, false, ret_out, ret_err);
}

/*
 * Drop root's power to bypass file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from the
 * bounding set, so the program exec'd next runs as root without them. Unlike switching to an
 * unprivileged uid, the binary stays reachable when the build tree is under a 0700 /root.
 */
static int drop_dac_caps(void)
{
	if (prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) < 0 ||
	    prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int run_capture_as(char *const argv[], bool no_dac, char **ret_out, char **ret_err)
{
	int po[2], pe[2], st;
	pid_t pid;

	cr_assert(pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		if (no_dac && geteuid() == 0 && drop_dac_caps() < 0) {
			dprintf(STDERR_FILENO, "test: cannot drop DAC capabilities: %m\n");
			_exit(125);
		}
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "test: exec %s: %m\n", argv[0]);
		_exit(126);
	}
	close(po[1]);
	close(pe[1]);
	run_drain(po[0], pe[0], ret_out, ret_err);
	close(po[0]);
	close(pe[0]);
	cr_assert(waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void test_vm_attach(struct test_vm *t, const struct nestd_proc *d, uint32_t flags,
		    uint64_t ram_size)
{
	struct nest_vm_info info;
	int r;

	memset(t, 0, sizeof(*t));
	t->memfd = -1;
	r = nest_client_connect(d->sock, 0, &t->c);
	cr_assert_eq(r, 0, "connect: %s", strerror(-r));
	r = nest_vm_attach(t->c, "vm0", flags, &info);
	cr_assert_eq(r, 0, "attach: %s (%s)", strerror(-r), nest_client_last_error(t->c));
	if (!ram_size)
		return;
	t->ram_size = ram_size;
	t->memfd = memfd_create("test-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	cr_assert(t->memfd >= 0);
	cr_assert(ftruncate(t->memfd, (off_t)ram_size) == 0);
	cr_assert(fcntl(t->memfd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	t->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, t->memfd, 0);
	cr_assert(t->ram != MAP_FAILED);
	r = nest_mem_add(t->c, 0, ram_size, t->memfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE);
	cr_assert_eq(r, 0, "mem add: %s (%s)", strerror(-r), nest_client_last_error(t->c));
}

void test_vm_free(struct test_vm *t)
{
	t->c = nest_client_free(t->c);
	if (t->ram)
		munmap(t->ram, t->ram_size);
	if (t->memfd >= 0)
		close(t->memfd);
	t->ram = NULL;
	t->memfd = -1;
}
