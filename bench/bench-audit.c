/* SPDX-License-Identifier: MIT */
/*
 * bench-audit: what nestd's audit record costs on each log backend (issue 12: "the audit
 * record's cost, journald vs stderr, shown separately").
 *
 * Three private nestd (bench-nestd.h), one VM each, PASID_ALLOC + PASID_FREE pairs through
 * libnest (each request writes one audit record):
 *   journal  NESTD_LOG=journal, AuditRate=0 (no folding: every record is sent to journald)
 *   stderr   NESTD_LOG=stderr (the log file in the bench's directory), AuditRate=0
 *   folded   NESTD_LOG=stderr, AuditRate=1 AuditBurst=1: past the first record every one is
 *            folded into a summary, so the pair pays the record's formatting and the rate check
 *            but writes nothing: the floor
 * in windows of BENCH_WINDOW_S rotating over the three, BENCH_REPS rounds. Per pair: wall clock
 * (median of the windows) and CPU time (the least of the windows) of nestd and this process, and
 * for the journal also of systemd-journald (found by its process name), which does the rest of
 * a journal record's work. Without a journal socket (/run/systemd/journal/socket) the journal
 * rows are left out with a note: bench/journald runs this inside a container booted with
 * systemd. Exit status: 0 when every operation succeeded and every nestd exited 0.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nest/libnest.h>

#include "bench-nestd.h"
#include "bench-util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

enum { SIDE_JOURNAL, SIDE_STDERR, SIDE_FOLDED, N_SIDES };

static const char *const side_name[N_SIDES] = {"journal", "stderr", "folded"};

struct side {
	struct bench_nestd nestd;
	nest_client *c;
	double us[BENCH_REPS], cpu_us[BENCH_REPS];
	double extra_us[BENCH_REPS]; /* the journal's: systemd-journald's share of cpu_us */
};

/* The pid of systemd-journald, or 0. */
static pid_t journald_pid(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t pid = 0;

	while (d && !pid && (de = readdir(d))) {
		char path[300], comm[64] = "";
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && strcmp(comm, "systemd-journal\n") == 0)
			pid = (pid_t)atoi(de->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
	return pid;
}

static int audit_start(struct side *s, int which, const char *binary)
{
	const struct bench_nestd_conf cf = {
		.n_vms = 1,
		.limits = which == SIDE_FOLDED ? "AuditRate=1\nAuditBurst=1\n" : "AuditRate=0\n",
	};
	int r;

	if (setenv("NESTD_LOG", which == SIDE_JOURNAL ? "journal" : "stderr", 1) < 0)
		return bench_fail(NULL, "setenv", -errno);
	if ((r = bench_nestd_init(&s->nestd, binary, side_name[which])) < 0 ||
	    (r = bench_nestd_config(&s->nestd, &cf)) < 0 ||
	    (r = bench_nestd_start(&s->nestd, false)) < 0 ||
	    (r = bench_nestd_connect(&s->nestd, &s->c)) < 0)
		return r;
	if ((r = nest_vm_attach(s->c, "vm0", 0, NULL)) < 0)
		return bench_fail(s->c, "VM_ATTACH", r);
	return bench_pasid_pair(s->c, NULL); /* folded: the one record the burst allows */
}

/*
 * One window of pairs on @s: wall and CPU (nestd, this process, @extra if not 0) per pair;
 * @extra's share into *@extra_us.
 */
static int audit_window(struct side *s, pid_t extra, double window, double *us, double *cpu_us,
			double *extra_us)
{
	double e0 = extra ? bench_cpu(extra) : 0;
	double c0 = bench_cpu(s->nestd.pid) + bench_cpu(0) + e0;
	double t0 = bench_now(), end = t0 + window, t;
	uint64_t n = 0;
	int r;

	do {
		if ((r = bench_pasid_pair(s->c, NULL)) < 0)
			return r;
		n++;
	} while ((t = bench_now()) < end);
	*us = (t - t0) * 1e6 / (double)n;
	*extra_us = ((extra ? bench_cpu(extra) : 0) - e0) * 1e6 / (double)n;
	*cpu_us = (bench_cpu(s->nestd.pid) + bench_cpu(0) + e0 + *extra_us / 1e6 * (double)n - c0) *
		  1e6 / (double)n;
	return 0;
}

static void audit_row(const char *what, const char *floor_what, double a_us, double a_cpu,
		      double f_us, double f_cpu)
{
	printf("| audit | PASID alloc+free pair, records %s | %.2f us (CPU %.2f us) | records %s: "
	       "%.2f us (CPU %.2f us) | %.2fx (CPU %.2fx) | - |\n",
	       what, a_us, a_cpu, floor_what, f_us, f_cpu, a_us / f_us, a_cpu / f_cpu);
}

static int audit_run(struct side *sd, int first, pid_t jpid)
{
	double us[N_SIDES], cpu[N_SIDES], extra[N_SIDES];
	int r;

	for (int i = first; i < N_SIDES; i++) /* warm-up */
		if ((r = audit_window(&sd[i], 0, BENCH_WARMUP_S, &us[i], &cpu[i], &extra[i])) < 0)
			return r;
	for (int k = 0; k < BENCH_REPS; k++)
		for (int i = first; i < N_SIDES; i++)
			if ((r = audit_window(&sd[i], i == SIDE_JOURNAL ? jpid : 0, BENCH_WINDOW_S,
					      &sd[i].us[k], &sd[i].cpu_us[k], &sd[i].extra_us[k])) <
			    0)
				return r;
	for (int i = first; i < N_SIDES; i++) {
		us[i] = bench_median(sd[i].us, BENCH_REPS);
		cpu[i] = bench_percentile(sd[i].cpu_us, BENCH_REPS, 0);
		extra[i] = bench_median(sd[i].extra_us, BENCH_REPS);
	}
	printf("%-8s %12s %14s\n", "records", "us/pair", "CPU us/pair");
	for (int i = first; i < N_SIDES; i++)
		printf("%-8s %12.2f %14.2f%s\n", side_name[i], us[i], cpu[i],
		       i == SIDE_JOURNAL ? "  (nestd + bench + systemd-journald)" : "");
	if (first == SIDE_JOURNAL)
		printf("systemd-journald's share of the journal pair: %.2f us of CPU (median)\n",
		       extra[SIDE_JOURNAL]);
	if (first == SIDE_JOURNAL)
		printf("\none record: to the journal %.2f us of CPU, to stderr %.2f us "
		       "(pair minus folded pair, halved); journal / stderr %.2fx\n",
		       (cpu[SIDE_JOURNAL] - cpu[SIDE_FOLDED]) / 2,
		       (cpu[SIDE_STDERR] - cpu[SIDE_FOLDED]) / 2,
		       (cpu[SIDE_JOURNAL] - cpu[SIDE_FOLDED]) /
			       (cpu[SIDE_STDERR] - cpu[SIDE_FOLDED]));
	printf("\nMarkdown rows (bench/run):\n");
	if (first == SIDE_JOURNAL) {
		audit_row("to the journal (CPU with systemd-journald's)", "to stderr (a file)",
			  us[SIDE_JOURNAL], cpu[SIDE_JOURNAL], us[SIDE_STDERR], cpu[SIDE_STDERR]);
		audit_row("to the journal (CPU with systemd-journald's)", "folded, none written",
			  us[SIDE_JOURNAL], cpu[SIDE_JOURNAL], us[SIDE_FOLDED], cpu[SIDE_FOLDED]);
	}
	audit_row("to stderr (a file)", "folded, none written", us[SIDE_STDERR], cpu[SIDE_STDERR],
		  us[SIDE_FOLDED], cpu[SIDE_FOLDED]);
	return 0;
}

int main(int argc, char **argv)
{
	struct side sd[N_SIDES];
	const char *binary;
	char machine[96];
	pid_t jpid = 0;
	int first = SIDE_JOURNAL, r = 0;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: bench-audit [NESTD]  (default: $NESTD_BINARY, else %s)\n",
			bench_nestd_binary(NULL));
		return 2;
	}
	binary = bench_nestd_binary(argc == 2 ? argv[1] : NULL);
	memset(sd, 0, sizeof(sd));
	for (int i = 0; i < N_SIDES; i++)
		sd[i].nestd.notify_fd = -1;
	bench_machine(machine, sizeof(machine));
	printf("bench-audit: nestd (%s, sim backend), PASID_ALLOC + PASID_FREE pairs, one audit "
	       "record per request; %s\n",
	       binary, machine);
	if (access(JOURNAL_SOCKET, W_OK) < 0 || !(jpid = journald_pid())) {
		printf("no journald here (%s, a systemd-journald process): journal rows left out; "
		       "bench/journald runs this under systemd\n",
		       JOURNAL_SOCKET);
		first = SIDE_STDERR;
	}
	for (int i = first; i < N_SIDES && r == 0; i++)
		r = audit_start(&sd[i], i, binary);
	if (r == 0)
		r = audit_run(sd, first, jpid);
	for (int i = 0; i < N_SIDES; i++) {
		nest_client_free(sd[i].c);
		if (sd[i].nestd.dir[0] && bench_nestd_cleanup(&sd[i].nestd) < 0)
			r = -EIO;
	}
	return r < 0 ? 1 : 0;
}
