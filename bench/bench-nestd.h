/* SPDX-License-Identifier: MIT */
/*
 * bench-nestd.h - a private nestd for a benchmark: the nestd of this build (NESTD_BINARY, or the
 * program's argument, or $NESTD_BINARY) with the sim backend on sockets in a mkdtemp directory,
 * its configuration written there, its log kept there and shown when it fails, stopped with
 * SIGTERM (it must exit 0) and the directory removed at the end. Optionally with NOTIFY_SOCKET
 * set to a datagram socket of ours, as systemd does for Type=notify, to time exec to READY=1.
 */
#ifndef NEST_BENCH_NESTD_H
#define NEST_BENCH_NESTD_H

#include <stdbool.h>
#include <sys/types.h>

#include <nest/libnest.h>

/* Every [VM] is Name=vmI, Owner=<our uid>, Device=dsa0 id=1 ats=yes pasid-bits=20. */
struct bench_nestd_conf {
	unsigned n_vms;
	const char *vm_keys; /* more lines for every [VM] ("PASIDQuota=65536\n"), or NULL */
	const char *limits;  /* more lines for [Limits] (MaxBatch=1024 is always there), or NULL */
};

struct bench_nestd {
	const char *binary;
	char dir[64], conf[96], log[96], sock[96], admin[96], notify[96];
	pid_t pid;
	int notify_fd; /* our datagram socket at notify[], -1 until a start with notify */
	double t_exec; /* bench_now() just before the fork of the last start */
};

/*
 * The nestd to run: @arg if not NULL, else $NESTD_BINARY if set, else the build's NESTD_BINARY.
 */
const char *bench_nestd_binary(const char *arg);

/* Make the private directory /tmp/bench-@tag-XXXXXX and the paths in it. */
int bench_nestd_init(struct bench_nestd *n, const char *binary, const char *tag);

/* Write n->conf. */
int bench_nestd_config(struct bench_nestd *n, const struct bench_nestd_conf *cf);

/*
 * Fork and exec nestd with n->conf on n->sock and n->admin, stdout and stderr to n->log.
 * With @notify, NOTIFY_SOCKET names our datagram socket (bench_nestd_wait_ready()); without it,
 * no service-manager variable from our environment reaches nestd.
 */
int bench_nestd_start(struct bench_nestd *n, bool notify);

/* Wait for READY=1 on the notify socket; *ret_sec: seconds from the fork to its arrival. */
int bench_nestd_wait_ready(struct bench_nestd *n, double *ret_sec);

/* Connect to the VM socket (HELLO done), retrying while nestd is starting. */
int bench_nestd_connect(struct bench_nestd *n, nest_client **ret);

/* nestd's resident set (VmRSS of /proc/PID/status) in KiB, or -errno. */
long bench_nestd_rss_kib(const struct bench_nestd *n);

/* SIGTERM; nestd must exit 0 within 30 s. Accepts a stopped nestd. */
int bench_nestd_stop(struct bench_nestd *n);

/* Stop nestd if it runs, close the notify socket, remove the directory and what is in it. */
int bench_nestd_cleanup(struct bench_nestd *n);

#endif /* NEST_BENCH_NESTD_H */
