/* SPDX-License-Identifier: MIT */
/* bench-nestd.c - start, watch and stop a private nestd for a benchmark, see bench-nestd.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-nestd.h"
#include "bench-util.h"

#ifndef NESTD_BINARY
#error "NESTD_BINARY (path of the nestd executable) must be defined by the build"
#endif

/* generous: nestd may run under valgrind (bench/callgrind) on a loaded machine */
#define START_TRIES 3000 /* x 10 ms to wait for nestd's socket or READY=1 */
#define STOP_TRIES  3000 /* x 10 ms to wait for nestd to exit on SIGTERM */

const char *bench_nestd_binary(const char *arg)
{
	const char *env = getenv("NESTD_BINARY");

	return arg ? arg : env && env[0] ? env : NESTD_BINARY;
}

int bench_nestd_init(struct bench_nestd *n, const char *binary, const char *tag)
{
	*n = (struct bench_nestd){.binary = binary, .notify_fd = -1};
	snprintf(n->dir, sizeof(n->dir), "/tmp/bench-%s-XXXXXX", tag);
	if (!mkdtemp(n->dir)) {
		n->dir[0] = '\0';
		return bench_fail(NULL, "mkdtemp", -errno);
	}
	snprintf(n->conf, sizeof(n->conf), "%s/nestd.conf", n->dir);
	snprintf(n->log, sizeof(n->log), "%s/nestd.log", n->dir);
	snprintf(n->sock, sizeof(n->sock), "%s/vm.sock", n->dir);
	snprintf(n->admin, sizeof(n->admin), "%s/admin.sock", n->dir);
	snprintf(n->notify, sizeof(n->notify), "%s/notify.sock", n->dir);
	if (access(binary, X_OK) < 0)
		return bench_fail(NULL, binary, -errno);
	return 0;
}

int bench_nestd_config(struct bench_nestd *n, const struct bench_nestd_conf *cf)
{
	FILE *f = fopen(n->conf, "we");

	if (!f)
		return bench_fail(NULL, n->conf, -errno);
	fprintf(f, "[Daemon]\nBackend=sim\n\n[Limits]\nMaxBatch=%u\n%s", NEST_BATCH_MAX,
		cf->limits ? cf->limits : "");
	for (unsigned i = 0; i < cf->n_vms; i++)
		fprintf(f,
			"\n[VM]\nName=vm%u\nOwner=%u\nDevice=dsa0 id=1 ats=yes pasid-bits=20\n%s",
			i, (unsigned)getuid(), cf->vm_keys ? cf->vm_keys : "");
	if (ferror(f) | (fclose(f) != 0))
		return bench_fail(NULL, n->conf, -EIO);
	return 0;
}

static void bench_nestd_exec(const struct bench_nestd *n, bool notify)
{
	char *argv[] = {(char *)n->binary, "--config",	     (char *)n->conf,  "--socket",
			(char *)n->sock,   "--admin-socket", (char *)n->admin, NULL};
	int lf = open(n->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	prctl(PR_SET_PDEATHSIG, SIGTERM); /* the bench crashed: take nestd down with it */
	if (lf < 0 || dup2(lf, STDOUT_FILENO) < 0 || dup2(lf, STDERR_FILENO) < 0)
		_exit(126);
	/* a private daemon: not the service manager's, whatever environment runs the bench */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("LISTEN_PID");
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	unsetenv("JOURNAL_STREAM");
	if (notify && setenv("NOTIFY_SOCKET", n->notify, 1) < 0)
		_exit(126);
	execv(n->binary, argv);
	_exit(127);
}

static void bench_nestd_log_tail(const struct bench_nestd *n)
{
	char line[512];
	FILE *f = n->log[0] ? fopen(n->log, "re") : NULL;

	if (!f)
		return;
	fprintf(stderr, "%s: nestd log (%s):\n", program_invocation_short_name, n->log);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

static int bench_nestd_notify_open(struct bench_nestd *n)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (n->notify_fd >= 0)
		return 0;
	if (strlen(n->notify) >= sizeof(sa.sun_path))
		return bench_fail(NULL, n->notify, -ENAMETOOLONG);
	strcpy(sa.sun_path, n->notify);
	n->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->notify_fd < 0)
		return bench_fail(NULL, "notify socket", -errno);
	if (bind(n->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return bench_fail(NULL, n->notify, -errno);
	return 0;
}

int bench_nestd_start(struct bench_nestd *n, bool notify)
{
	int r;

	if (notify && (r = bench_nestd_notify_open(n)) < 0)
		return r;
	fflush(NULL);
	n->t_exec = bench_now();
	n->pid = fork();
	if (n->pid < 0) {
		n->pid = 0;
		return bench_fail(NULL, "fork", -errno);
	}
	if (n->pid == 0)
		bench_nestd_exec(n, notify);
	return 0;
}

/* nestd is gone before it was up: show why. */
static int bench_nestd_died(struct bench_nestd *n, int st)
{
	n->pid = 0;
	bench_nestd_log_tail(n);
	fprintf(stderr, "%s: nestd wait status 0x%x\n", program_invocation_short_name,
		(unsigned)st);
	return bench_fail(NULL, "nestd exited at start", -ECHILD);
}

int bench_nestd_wait_ready(struct bench_nestd *n, double *ret_sec)
{
	struct pollfd p = {.fd = n->notify_fd, .events = POLLIN};
	char msg[4096];
	int st;

	for (int i = 0; i < START_TRIES; i++) {
		int r = poll(&p, 1, 10);
		ssize_t len;

		if (r < 0 && errno != EINTR)
			return bench_fail(NULL, "poll notify socket", -errno);
		if (r <= 0) {
			if (waitpid(n->pid, &st, WNOHANG) == n->pid)
				return bench_nestd_died(n, st);
			continue;
		}
		len = recv(n->notify_fd, msg, sizeof(msg) - 1, 0);
		if (len < 0)
			return bench_fail(NULL, "recv notify socket", -errno);
		msg[len] = '\0';
		/* sd_notify(3): newline-separated assignments, READY=1 among them */
		if (strncmp(msg, "READY=1", 7) == 0 || strstr(msg, "\nREADY=1")) {
			*ret_sec = bench_now() - n->t_exec;
			return 0;
		}
	}
	bench_nestd_log_tail(n);
	return bench_fail(NULL, "no READY=1 from nestd", -ETIMEDOUT);
}

int bench_nestd_connect(struct bench_nestd *n, nest_client **ret)
{
	int r = -ENOENT, st;

	for (int i = 0; i < START_TRIES; i++) {
		r = nest_client_connect(n->sock, 0, ret);
		if (r == 0)
			return 0;
		if (r != -ENOENT && r != -ECONNREFUSED)
			break;
		if (waitpid(n->pid, &st, WNOHANG) == n->pid)
			return bench_nestd_died(n, st);
		usleep(10000);
	}
	bench_nestd_log_tail(n);
	return bench_fail(NULL, "connect to nestd", r);
}

long bench_nestd_rss_kib(const struct bench_nestd *n)
{
	char path[64], line[256];
	long kib = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)n->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int bench_nestd_stop(struct bench_nestd *n)
{
	int st = 0;

	if (n->pid <= 0)
		return 0;
	kill(n->pid, SIGTERM);
	for (int i = 0; waitpid(n->pid, &st, WNOHANG) != n->pid; i++) {
		if (i == STOP_TRIES) {
			kill(n->pid, SIGKILL);
			waitpid(n->pid, &st, 0);
			n->pid = 0;
			bench_nestd_log_tail(n);
			return bench_fail(NULL, "nestd did not exit on SIGTERM", -ETIMEDOUT);
		}
		usleep(10000);
	}
	n->pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		bench_nestd_log_tail(n);
		fprintf(stderr, "%s: nestd wait status 0x%x\n", program_invocation_short_name,
			(unsigned)st);
		return bench_fail(NULL, "nestd did not exit 0 on SIGTERM", -EIO);
	}
	return 0;
}

int bench_nestd_cleanup(struct bench_nestd *n)
{
	int r = bench_nestd_stop(n);
	struct dirent *de;
	DIR *d;

	if (n->notify_fd >= 0)
		close(n->notify_fd);
	n->notify_fd = -1;
	if (!n->dir[0])
		return r;
	d = opendir(n->dir);
	if (!d)
		return bench_fail(NULL, n->dir, -errno);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    unlinkat(dirfd(d), de->d_name, 0) < 0)
			r = bench_fail(NULL, de->d_name, -errno);
	closedir(d);
	if (rmdir(n->dir) < 0)
		r = bench_fail(NULL, n->dir, -errno);
	n->dir[0] = '\0';
	return r;
}
