/* SPDX-License-Identifier: MIT */
/*
 * systemd protocol without PID 1 (ECOSYSTEM.md §2): sd_notify messages captured on the test's
 * own NOTIFY_SOCKET, and socket activation through systemd-socket-activate --seqpacket.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "common.h"

#define SOCKET_ACTIVATE "/usr/bin/systemd-socket-activate"

/* Append every notify datagram arriving within @ms to @log ("msg|msg|..."). */
static void collect(struct td *d, char *log, size_t cap, int ms)
{
	struct timespec t0, now;
	char buf[512];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - (int)((now.tv_sec - t0.tv_sec) * 1000 +
				  (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || td_notify_recv(d, buf, sizeof(buf), left) < 0)
			return;
		for (char *p = buf; *p; p++)
			if (*p == '\n')
				*p = ';';
		strncat(log, buf, cap - strlen(log) - 2);
		strcat(log, "|");
	}
}

static int count(const char *log, const char *what)
{
	int n = 0;

	for (const char *p = log; (p = strstr(p, what)); p++)
		n++;
	return n;
}

Test(systemd, notify_ready_status_watchdog_reload_stopping)
{
	static char log[16384];
	struct td d;
	char conf[2048];
	struct timespec ts;

	td_init(&d);
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	td_notify_socket(&d);
	d.env[0] = "WATCHDOG_USEC=200000";
	cr_assert_eq(td_start(&d), 0);
	collect(&d, log, sizeof(log), 600);
	cr_expect(strstr(log, "READY=1") != NULL, "log: %s", log);
	cr_expect(strstr(log, "STATUS=") != NULL, "log: %s", log);
	cr_expect_geq(count(log, "WATCHDOG=1"), 3, "watchdog every 100 ms: %s", log);

	/* STATUS= follows attach */
	log[0] = '\0';
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	collect(&d, log, sizeof(log), 300);
	/* "1 VM", not "1 VMs" */
	cr_expect(strstr(log, "STATUS=1 VM attached, 0 held, 2 configured; ") != NULL, "log: %s",
		  log);

	/* SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 */
	log[0] = '\0';
	kill(d.pid, SIGHUP);
	collect(&d, log, sizeof(log), 400);
	const char *rl = strstr(log, "RELOADING=1;MONOTONIC_USEC=");
	cr_assert_not_null(rl, "log: %s", log);
	unsigned long long usec = strtoull(rl + strlen("RELOADING=1;MONOTONIC_USEC="), NULL, 10);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	unsigned long long now = (unsigned long long)ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
	cr_expect(usec <= now && now - usec < 5000000ull, "MONOTONIC_USEC %llu vs now %llu", usec,
		  now);
	cr_expect(strstr(rl, "READY=1") != NULL, "READY=1 after RELOADING=1: %s", log);

	/* admin reload does the same */
	log[0] = '\0';
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_admin(a, "reload", NULL, NULL), 0);
	collect(&d, log, sizeof(log), 200);
	cr_expect(strstr(log, "RELOADING=1;MONOTONIC_USEC=") != NULL, "log: %s", log);
	cr_expect(strstr(strstr(log, "RELOADING=1") ?: log, "READY=1") != NULL, "log: %s", log);
	tc_free(a);
	tc_free(t);

	/* SIGTERM: STOPPING=1, exit 0 */
	log[0] = '\0';
	kill(d.pid, SIGTERM);
	collect(&d, log, sizeof(log), 500);
	cr_expect(strstr(log, "STOPPING=1") != NULL, "log: %s", log);
	it_stop(&d);
	NO_LEAKS();
}

Test(systemd, socket_activation_seqpacket)
{
	struct td d;
	char env[160], buf[512];
	int st = 0;
	bool ready = false;

	if (access(SOCKET_ACTIVATE, X_OK) != 0)
		cr_skip_test("systemd-socket-activate is not installed");
	td_init(&d);
	char conf[2048];
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	td_notify_socket(&d);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", d.notify);
	d.pid = fork();
	cr_assert_geq(d.pid, 0);
	if (d.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (!getenv("TD_VERBOSE") && !freopen("/dev/null", "w", stderr))
			_exit(127);
		execl(SOCKET_ACTIVATE, SOCKET_ACTIVATE, "--seqpacket", "-l", d.sock,
		      "--fdname=nestd", "-E", env, NESTD_BINARY, "--config", d.conf,
		      "--admin-socket", d.admin, (char *)NULL);
		_exit(127);
	}
	struct stat sst;
	for (int i = 0; i < 500 && stat(d.sock, &sst) != 0; i++)
		usleep(10000);
	cr_assert_eq(stat(d.sock, &sst), 0, "systemd-socket-activate did not listen");
	/*
	 * the first connection makes systemd-socket-activate exec nestd with the socket; the
	 * socket file appears at bind(), before listen(): retry a refused connect for 5 s
	 */
	struct tc *t = NULL;
	for (int i = 0; i < 500 && !(t = tc_connect(d.sock)); i++)
		usleep(10000);
	cr_assert_not_null(t, "could not connect to systemd-socket-activate's socket");
	cr_assert_eq(tc_hello(t), 0);
	cr_expect_eq(tc_attach(t, "vm0", 0, NULL), 0);
	for (int i = 0; i < 20 && !ready; i++)
		ready = td_notify_recv(&d, buf, sizeof(buf), 100) == 0 && strstr(buf, "READY=1");
	cr_expect(ready, "no READY=1 from the activated daemon");
	struct tc *a = it_admin(&d);
	struct json_object *res = NULL;
	cr_expect_eq(tc_admin(a, "status", NULL, &res), 0);
	json_object_put(res);
	tc_free(a);
	tc_free(t);
	kill(d.pid, SIGTERM);
	waitpid(d.pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	cr_expect_eq(stat(d.sock, &sst), 0, "an activated socket is not nestd's to unlink");
	d.pid = 0;
	td_cleanup(&d);
	NO_LEAKS();
}

Test(systemd, watchdog_pid_selects_the_process)
{
	static char log[8192];
	struct td d;
	char conf[2048];

	/* WATCHDOG_PID = the daemon's pid: kicks */
	td_init(&d);
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	td_notify_socket(&d);
	d.env[0] = "WATCHDOG_USEC=200000";
	d.watchdog_pid = -1;
	cr_assert_eq(td_start(&d), 0);
	collect(&d, log, sizeof(log), 350);
	cr_expect_geq(count(log, "WATCHDOG=1"), 2, "log: %s", log);
	it_stop(&d);

	/* WATCHDOG_PID = another process: the watchdog is not ours, no kicks */
	log[0] = '\0';
	td_init(&d);
	td_write_conf(&d, conf);
	td_notify_socket(&d);
	d.env[0] = "WATCHDOG_USEC=200000";
	d.watchdog_pid = (int)getpid();
	cr_assert_eq(td_start(&d), 0);
	collect(&d, log, sizeof(log), 350);
	cr_expect(strstr(log, "READY=1") != NULL, "log: %s", log);
	cr_expect_eq(count(log, "WATCHDOG=1"), 0, "log: %s", log);
	it_stop(&d);
	NO_LEAKS();
}

/* debug.stall blocks the loop (no WATCHDOG=1 meanwhile), only with NESTD_DEBUG=stall and uid 0. */
Test(systemd, debug_stall_is_guarded_and_stops_the_watchdog)
{
	static char log[16384];
	struct json_object *res = NULL;
	struct td d;
	char conf[2048];

	/* without NESTD_DEBUG: refused */
	it_start(&d, NULL, NULL);
	struct tc *a = it_admin(&d);
	cr_expect_eq(tc_admin(a, "debug.stall", "{\"seconds\":1}", NULL), -EPERM);
	tc_free(a);
	it_stop(&d);

	td_init(&d);
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	td_notify_socket(&d);
	d.env[0] = "WATCHDOG_USEC=200000";
	d.env[1] = "NESTD_DEBUG=other,stall";
	cr_assert_eq(td_start(&d), 0);
	collect(&d, log, sizeof(log), 500);
	cr_expect_geq(count(log, "WATCHDOG=1"), 3, "watchdog every 100 ms: %s", log);
	a = it_admin(&d);
	cr_expect_eq(tc_admin(a, "debug.stall", "{\"seconds\":0}", NULL), -EINVAL);
	cr_expect_eq(tc_admin(a, "debug.stall", "{\"seconds\":301}", NULL), -EINVAL);
	log[0] = '\0';
	collect(&d, log, sizeof(log), 0); /* drain */
	log[0] = '\0';
	cr_assert_eq(tc_admin(a, "debug.stall", "{\"seconds\":1}", &res), 0);
	json_object_put(res);
	collect(&d, log, sizeof(log), 20);
	/* 1 s without the loop: at most the one ping due right when it came back */
	cr_expect_leq(count(log, "WATCHDOG=1"), 1, "pings during the stall: %s", log);
	log[0] = '\0';
	collect(&d, log, sizeof(log), 500);
	cr_expect_geq(count(log, "WATCHDOG=1"), 3, "pings resume: %s", log);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}
