/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for daemon/log.c and daemon/audit.c: log_escape(), level names and filtering, the
 * stderr line format of log records and audit records, backend selection ($JOURNAL_STREAM).
 * Stderr is captured in a memfd inside the (forked) test worker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "log.h"
#include "nest-test.h"

/* ---- log_escape ---- */

struct esc_case {
	char in[40];
	size_t in_len;
	size_t cap;
	char out[80];
};

ParameterizedTestParameters(log, escape)
{
	static struct esc_case cases[] = {
		{"hello world", 11, 64, "hello world"},
		{"", 0, 64, ""},
		{"a\"b\\c", 5, 64, "a\\x22b\\x5cc"},	      /* quote, backslash */
		{"a\nb\tc\rd", 7, 64, "a\\x0ab\\x09c\\x0dd"}, /* control characters */
		{"x\0y", 3, 64, "x\\x00y"},		      /* NUL inside the length */
		{"\x1b[31m", 5, 64, "\\x1b[31m"},	      /* terminal escape */
		{"\x7f", 1, 64, "\\x7f"},		      /* DEL */
		{"caf\xc3\xa9", 5, 64, "caf\\xc3\\xa9"},      /* UTF-8 bytes */
		{"\xff\xfe", 2, 64, "\\xff\\xfe"},
		{"abc", 2, 64, "ab"},	       /* in_len wins over the NUL */
		{"abcdefg", 7, 8, "abcdefg"},  /* exactly fits: no cut */
		{"abcdefgh", 8, 8, "abcd..."}, /* cut: cap-1 bytes incl. "..." */
		{"ab\x01", 3, 7, "ab\\x01"},   /* escape exactly fits */
		{"ab\x01", 3, 6, "ab..."},     /* never split an escape */
		{"ab\x01z", 4, 7, "ab..."},
		{"\x01\x02\x03", 3, 10, "\\x01..."},
		{"abcdef", 6, 4, "..."},
		{"abcdef", 6, 3, ".."},
		{"abcdef", 6, 2, "."},
		{"abcdef", 6, 1, ""},
		{"a", 1, 2, "a"},
	};

	return cr_make_param_array(struct esc_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct esc_case *ec, log, escape)
{
	char out[128];

	memset(out, 'Z', sizeof(out));
	cr_assert_eq(log_escape(ec->in, ec->in_len, out, ec->cap), out);
	cr_expect_str_eq(out, ec->out, "in_len %zu cap %zu", ec->in_len, ec->cap);
	cr_expect_lt(strlen(out), ec->cap);
	cr_expect_eq(out[ec->cap], 'Z', "nothing written past cap");
}

Test(log, escape_edge_cases)
{
	char out[12] = "unchanged";

	cr_expect_eq(log_escape("abc", 3, out, 0), out);
	cr_expect_eq(out[0], 'u', "cap 0 writes nothing");
	cr_expect_str_eq(log_escape(NULL, 5, out, sizeof(out)), "");
}

/* ---- levels ---- */

Test(log, level_names)
{
	static const struct {
		const char *name;
		int level;
	} lv[] = {{"debug", LOG_DEBUG},
		  {"info", LOG_INFO},
		  {"notice", LOG_NOTICE},
		  {"warning", LOG_WARNING},
		  {"err", LOG_ERR}};

	for (size_t i = 0; i < 5; i++) {
		cr_expect_eq(log_level_parse(lv[i].name), lv[i].level);
		cr_expect_str_eq(log_level_name(lv[i].level), lv[i].name);
	}
	cr_expect_eq(log_level_parse("verbose"), -EINVAL);
	cr_expect_eq(log_level_parse("DEBUG"), -EINVAL);
	cr_expect_eq(log_level_parse(""), -EINVAL);
	cr_expect_eq(log_level_parse(NULL), -EINVAL);
	cr_expect_eq(log_level_parse("crit"), -EINVAL, "below err is not settable");
	cr_expect_str_eq(log_level_name(99), "unknown");
	cr_expect_str_eq(log_level_name(-1), "unknown");

	cr_expect_eq(log_get_level(), LOG_INFO, "default");
	log_set_level(LOG_DEBUG);
	cr_expect_eq(log_get_level(), LOG_DEBUG);
	log_set_level(LOG_EMERG);
	cr_expect_eq(log_get_level(), LOG_ERR, "clamped to err");
	log_set_level(42);
	cr_expect_eq(log_get_level(), LOG_DEBUG, "clamped to debug");
}

/* ---- stderr capture ---- */

struct capture {
	int fd;
	int saved;
};

static void capture_begin(struct capture *cap)
{
	cap->fd = memfd_create("nestd-test-stderr", MFD_CLOEXEC);
	cr_assert_geq(cap->fd, 0);
	cap->saved = dup(STDERR_FILENO);
	cr_assert_geq(cap->saved, 0);
	cr_assert_eq(dup2(cap->fd, STDERR_FILENO), STDERR_FILENO);
	cr_assert_eq(setenv("NESTD_LOG", "stderr", 1), 0);
	log_setup();
}

/* Everything written to stderr since capture_begin() (caller frees). */
static char *capture_end(struct capture *cap)
{
	struct stat st;
	char *buf;

	cr_assert_eq(dup2(cap->saved, STDERR_FILENO), STDERR_FILENO);
	close(cap->saved);
	cr_assert_eq(fstat(cap->fd, &st), 0);
	buf = calloc(1, (size_t)st.st_size + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(pread(cap->fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(cap->fd);
	return buf;
}

Test(log, stderr_format_and_filter)
{
	struct capture cap;
	char want[512], *got;
	int pid = (int)getpid(), r;

	capture_begin(&cap);
	cr_expect_str_eq(log_backend_name(), "stderr");
	log_set_level(LOG_INFO);
	log_msg(LOG_INFO, "hello %d", 42);
	log_msg(LOG_DEBUG, "not shown");
	log_msg(LOG_WARNING, "two\nlines"); /* one record = one line */
	errno = EBUSY;
	r = log_errno(LOG_ERR, -ENOENT, "open %s", "/x");
	cr_expect_eq(r, -ENOENT);
	cr_expect_eq(errno, EBUSY, "errno preserved");
	cr_expect_eq(log_errno(LOG_DEBUG, EPERM, "filtered"), -EPERM, "positive err accepted");
	log_set_level(LOG_DEBUG);
	log_msg(LOG_DEBUG, "now shown");
	got = capture_end(&cap);

	snprintf(want, sizeof(want),
		 "nestd[%d]: info: hello 42\n"
		 "nestd[%d]: warning: two lines\n"
		 "nestd[%d]: err: open /x: No such file or directory\n"
		 "nestd[%d]: debug: now shown\n",
		 pid, pid, pid, pid);
	cr_expect_str_eq(got, want);
	free(got);
	NO_LEAKS();
}

Test(log, audit_stderr_format)
{
	struct capture cap;
	char want[1024], *got;
	int pid = (int)getpid();
	struct audit_rec bind = {.vm = "vm0", .uid = 1000, .pid = 123, .pasid = 5, .op = "bind"};
	struct audit_rec bad = {.vm = "evil\n\"vm",
				.uid = 0,
				.pid = 7,
				.pasid = -1,
				.op = "attach",
				.result = -EPERM};
	struct audit_rec odd = {.vm = NULL,
				.uid = 4294967294u,
				.pid = 1,
				.pasid = 1048575,
				.op = "pasid-free",
				.result = -4095};

	capture_begin(&cap);
	log_set_level(LOG_ERR); /* audit records are never filtered */
	audit_log(&bind, "hwpt=%u", 3);
	audit_log(&bad, NULL);
	audit_log(&odd, "%s", "");
	bind.result = -ENOENT;
	bind.op = "unbind";
	audit_log(&bind, "dev=%s", "a\nb"); /* a newline the caller forgot to escape */
	got = capture_end(&cap);

	snprintf(
		want, sizeof(want),
		"nestd[%d]: audit: op=bind vm=vm0 uid=1000 pid=123 pasid=5 result=ok hwpt=3\n"
		"nestd[%d]: audit: op=attach vm=evil\\x0a\\x22vm uid=0 pid=7 result=EPERM\n"
		"nestd[%d]: audit: op=pasid-free vm=- uid=4294967294 pid=1 pasid=1048575 "
		"result=errno-4095\n"
		"nestd[%d]: audit: op=unbind vm=vm0 uid=1000 pid=123 pasid=5 result=ENOENT dev=a b\n",
		pid, pid, pid, pid);
	cr_expect_str_eq(got, want);
	free(got);
	NO_LEAKS();
}

/* ---- backend selection ---- */

Test(log, backend_selection)
{
	struct capture cap;
	struct stat st;
	char js[64];

	capture_begin(&cap); /* stderr is now our memfd */
	cr_assert_eq(fstat(STDERR_FILENO, &st), 0);

	unsetenv("NESTD_LOG");
	unsetenv("JOURNAL_STREAM");
	log_setup();
	cr_expect_str_eq(log_backend_name(), "stderr");

	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_setup();
	cr_expect_str_eq(log_backend_name(), "journal", "stderr matches $JOURNAL_STREAM");

	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	log_setup();
	cr_expect_str_eq(log_backend_name(), "stderr", "inherited from a parent: not ours");

	setenv("JOURNAL_STREAM", "garbage", 1);
	log_setup();
	cr_expect_str_eq(log_backend_name(), "stderr");

	setenv("NESTD_LOG", "journal", 1);
	log_setup();
	cr_expect_str_eq(log_backend_name(), "journal", "forced");

	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	setenv("NESTD_LOG", "stderr", 1);
	log_setup();
	cr_expect_str_eq(log_backend_name(), "stderr", "NESTD_LOG=stderr wins");

	free(capture_end(&cap));
	NO_LEAKS();
}

/*
 * The journal path builds its fields (iovecs) without overflowing anything. Without journald
 * sd_journal_send() drops the records (ECOSYSTEM.md §1.5), so only run where there is none: a
 * test must not write into a real journal.
 */
Test(log, journal_backend_runs_without_journald)
{
	struct audit_rec r = {.vm = "vm0", .uid = 1, .pid = 2, .pasid = 3, .op = "bind"};
	char big[3000];

	if (access("/run/systemd/journal/socket", F_OK) == 0)
		cr_skip_test("journald is running here");
	setenv("NESTD_LOG", "journal", 1);
	log_setup();
	cr_assert_str_eq(log_backend_name(), "journal");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_msg(LOG_INFO, "journal %s", big);
	audit_log(&r, "detail %s", big);
	r.pasid = -1;
	r.vm = NULL;
	r.op = NULL;
	r.result = -EINVAL;
	audit_log(&r, NULL);
	cr_expect_eq(log_errno(LOG_ERR, -EIO, "x"), -EIO);
	NO_LEAKS();
}

/* ---- audit folding with a full key table ---- */

static unsigned count_str(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

#define AUDIT_VMS 1032u /* more (VM, uid) keys than the table holds (1,024) */

static void audit_n(const char *vm, unsigned n)
{
	struct audit_rec r = {.vm = vm, .uid = 1000, .pid = 1, .pasid = 7, .op = "bind"};

	for (unsigned i = 0; i < n; i++)
		audit_log(&r, NULL);
}

/* Keys compared to find the keys of @n records of @vm, all folded. */
static uint64_t audit_probes(const char *vm, unsigned n)
{
	uint64_t before = audit_rate_probes();

	audit_n(vm, n);
	return audit_rate_probes() - before;
}

/*
 * Every key of a full table keeps its own bucket and counts, the keys past it share "*", and the
 * record of the last key finds it as the first one's does: a hash chain of a key or two (a scan of
 * the table compared 1,024 keys for the 1,024th VM's records, ~100x the first's instructions).
 */
Test(log, audit_fold_full_key_table, .timeout = 60)
{
	struct capture cap;
	char vm[32], line[128], *got;
	uint64_t first, last;

	capture_begin(&cap);
	audit_rate_set(1, 2, 3600);
	for (unsigned i = 0; i < AUDIT_VMS; i++) {
		snprintf(vm, sizeof(vm), "vm%u", i);
		audit_n(vm, 3); /* two written, the third starts folding */
	}
	for (unsigned i = 0; i < 1024; i++) {
		snprintf(vm, sizeof(vm), "vm%u", i);
		audit_n(vm, 1); /* folded into its own key */
	}
	cr_expect_eq(audit_rate_folded(), 1024u * 2 + (AUDIT_VMS - 1024) * 3 - 2);
	first = audit_probes("vm0", 2000);
	last = audit_probes("vm1023", 2000);
	audit_rate_flush();
	got = capture_end(&cap);
	cr_expect_eq(count_str(got, "op=bind vm=vm1023 "), 2);
	/* the overflow key's bucket took vm1024's two, then folded the rest */
	cr_expect_eq(count_str(got, "op=bind vm=vm1024 "), 2);
	cr_expect_eq(count_str(got, "op=bind vm=vm1025 "), 0);
	cr_expect_eq(count_str(got, "op=audit-fold "), 1025);
	cr_expect_eq(count_str(got, "op=audit-summary "), 1025);
	cr_expect_eq(count_str(got, "vm=vm1023 uid=1000 pid=0 result=ok folded 2002 records"), 1,
		     "vm1023's summary");
	snprintf(line, sizeof(line), "vm=* uid=4294967295 pid=0 result=ok folded %u records",
		 (AUDIT_VMS - 1024) * 3 - 2);
	cr_expect_eq(count_str(got, line), 1, "the overflow key's summary");
	/* 1,032 keys in 2,048 buckets, seeded at random: chains of 8 are all but impossible */
	cr_expect_leq(first, 2000u * 8, "keys compared for 2,000 records of vm0: %llu",
		      (unsigned long long)first);
	cr_expect_leq(last, 2000u * 8, "keys compared for 2,000 records of vm1023: %llu",
		      (unsigned long long)last);
	free(got);
	NO_LEAKS();
}

/* An idle key is reused for another (VM, uid), and the one it held gets a key of its own again. */
Test(log, audit_fold_reuses_idle_keys, .timeout = 60)
{
	struct capture cap;
	char vm[32], *got;

	capture_begin(&cap);
	audit_rate_set(50, 1, 3600); /* a bucket of 1, refilled every 20 ms */
	for (unsigned i = 0; i < 1024; i++) {
		snprintf(vm, sizeof(vm), "vm%u", i);
		audit_n(vm, 1);
	}
	usleep(60 * 1000);   /* every key idle again */
	audit_n("vmnew", 2); /* takes vm0's key: written, then folding */
	audit_n("vm0", 2);   /* takes vm1's: written, then folding */
	audit_n("vm1", 2);   /* and vm2's */
	audit_n("vmnew", 1); /* still its own key, folding */
	cr_expect_eq(audit_rate_folded(), 4);
	audit_rate_flush();
	got = capture_end(&cap);
	cr_expect_eq(count_str(got, "op=bind vm=vm0 "), 2);
	cr_expect_eq(count_str(got, "op=bind vm=vmnew "), 1);
	cr_expect_eq(count_str(got, "op=audit-fold vm=vmnew "), 1);
	cr_expect_eq(count_str(got, "op=audit-fold vm=vm0 "), 1);
	cr_expect_eq(count_str(got, "op=audit-fold vm=vm1 "), 1);
	cr_expect_eq(count_str(got, "vm=vmnew uid=1000 pid=0 result=ok folded 2 records"), 1);
	cr_expect_eq(count_str(got, "vm=vm0 uid=1000 pid=0 result=ok folded 1 records"), 1);
	free(got);
	NO_LEAKS();
}

/*
 * A full table of busy keys is scanned once for an idle one, not for every record of a new key:
 * until the soonest time a key can be idle, new keys share "*" at the cost of a hash lookup (a
 * scan per record compared 1,024 keys). Once a key can be idle, the next new key scans and
 * takes it.
 */
Test(log, audit_fold_busy_table_scanned_once, .timeout = 60)
{
	struct capture cap;
	char vm[32], *got;
	uint64_t probes;

	capture_begin(&cap);
	audit_rate_set(50, 2, 3600); /* a bucket of 2, a token every 20 ms */
	for (unsigned i = 0; i < 1024; i++) {
		snprintf(vm, sizeof(vm), "vm%u", i);
		audit_n(vm, 1); /* one token left: busy for 20 ms */
	}
	probes = audit_rate_probes();
	for (unsigned i = 0; i < 2000; i++) {
		snprintf(vm, sizeof(vm), "new%u", i);
		audit_n(vm, 1); /* no idle key: "*" */
	}
	probes = audit_rate_probes() - probes;
	cr_expect_geq(probes, 1024u, "the first new key scans the table");
	cr_expect_leq(probes, 1024u + 2000u * 8, "keys compared for 2,000 new keys: %llu",
		      (unsigned long long)probes);
	usleep(60 * 1000);  /* every key idle again */
	audit_n("late", 3); /* scans, takes a key of its own: two written, then folding */
	audit_rate_flush();
	got = capture_end(&cap);
	cr_expect_eq(count_str(got, "op=audit-fold vm=* "), 1, "the new keys shared \"*\"");
	cr_expect_eq(count_str(got, "op=audit-fold vm=late "), 1, "late has a key of its own");
	cr_expect_eq(count_str(got, "op=bind vm=late "), 2);
	free(got);
	NO_LEAKS();
}

/*
 * Keys whose summary period ended while nothing looked at them (no tick in this test) stop
 * folding when a scan for an idle key meets them, and new keys take them over one by one from
 * where the last scan stopped: 2,000 new keys on a table of 1,024 such keys cost about two
 * passes over it, not a scan each (a scan that skipped the overdue keys found none idle and
 * scanned again for every new key).
 */
Test(log, audit_fold_overdue_keys_reused_in_one_pass, .timeout = 60)
{
	struct capture cap;
	char vm[32], *got;
	uint64_t probes;

	capture_begin(&cap);
	audit_rate_set(1, 1, 1); /* a bucket of 1, a summary every second */
	for (unsigned i = 0; i < 1024; i++) {
		snprintf(vm, sizeof(vm), "vm%u", i);
		audit_n(vm, 2); /* one written, one folded: folding */
	}
	usleep(1100 * 1000); /* every period over, no tick has ended it */
	probes = audit_rate_probes();
	for (unsigned i = 0; i < 2000; i++) {
		snprintf(vm, sizeof(vm), "new%u", i);
		audit_n(vm, 1);
	}
	probes = audit_rate_probes() - probes;
	cr_expect_leq(probes, 3u * 1024 + 2000u * 8, "keys compared for 2,000 new keys: %llu",
		      (unsigned long long)probes);
	audit_rate_flush();
	got = capture_end(&cap);
	cr_expect_eq(count_str(got, "stopped folding"), 1024u, "every overdue key stopped folding");
	cr_expect_eq(count_str(got, "op=bind vm=new1023 "), 1, "the 1,024th new key has its own");
	free(got);
	NO_LEAKS();
}
