/* SPDX-License-Identifier: MIT */
/*
 * test-nestctl.c - the nestctl binary against a real nestd: table and JSON shapes, --no-legend,
 * exit codes, vm show while a libnest client has the VM attached.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client-test.h"

static struct nestd_proc d;

static void setup(void)
{
	nestd_start(&d, NULL);
}

static void teardown(void)
{
	nestd_stop(&d);
}

TestSuite(nestctl, .init = setup, .fini = teardown, .timeout = 60);

struct out {
	int status;
	char *out;
	char *err;
};

/* Run nestctl with -s <admin socket> and the given args (NULL-terminated). */
static struct out ctl(const char *first, ...)
{
	char *argv[32] = {NESTCTL_BIN, "-s", d.admin};
	int n = 3;
	struct out o;
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	o.status = run_capture(argv, &o.out, &o.err);
	return o;
}

static void out_free(struct out *o)
{
	free(o->out);
	free(o->err);
}

static json_object *parse_obj(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert(o && json_object_is_type(o, json_type_object), "not a JSON object: %s", s);
	return o;
}

static void expect_keys(json_object *o, const char *const *keys)
{
	for (; *keys; keys++)
		cr_expect(json_object_object_get_ex(o, *keys, NULL), "missing key %s", *keys);
}

/* Line @n (0-based) of @s, copied into @buf. */
static const char *line(const char *s, int n, char *buf, size_t cap)
{
	while (n-- > 0 && s)
		s = (s = strchr(s, '\n')) ? s + 1 : NULL;
	cr_assert(s, "no such line");
	snprintf(buf, cap, "%.*s", (int)strcspn(s, "\n"), s);
	return buf;
}

Test(nestctl, vm_list_table_and_no_legend)
{
	struct out o = ctl("vm", "list", NULL);
	char h[256], r0[256], r1[256];
	const char *st;

	cr_assert_eq(o.status, 0, "%s", o.err);
	line(o.out, 0, h, sizeof(h));
	line(o.out, 1, r0, sizeof(r0));
	line(o.out, 2, r1, sizeof(r1));
	cr_expect(strncmp(h, "NAME", 4) == 0, "header: %s", h);
	st = strstr(h, "STATE");
	cr_assert(st);
	cr_expect(strncmp(r0 + (st - h), "detached", 8) == 0, "STATE column aligned: '%s'", r0);
	cr_expect(strncmp(r1 + (st - h), "detached", 8) == 0, "STATE column aligned: '%s'", r1);
	cr_expect(strstr(o.out, "\n2 VMs listed.\n"), "%s", o.out);
	out_free(&o);

	o = ctl("--no-legend", "vm", "list", NULL);
	cr_assert_eq(o.status, 0);
	cr_expect(strncmp(o.out, "vm0", 3) == 0, "%s", o.out);
	cr_expect_null(strstr(o.out, "NAME"));
	cr_expect_null(strstr(o.out, "listed"));
	out_free(&o);
	NO_LEAKS();
}

Test(nestctl, json_shapes)
{
	static const char *const status_keys[] = {
		"version",	     "backend",	     "pid",	 "uptime_sec",
		"vms_configured",    "vms_attached", "vms_held", "connections",
		"admin_connections", "log_level",    NULL};
	static const char *const vm_keys[] = {"name",	   "state",   "uid",	"pid",
					      "devices",   "regions", "pasids", "bindings",
					      "mem_bytes", NULL};
	static const char *const dev_keys[] = {"vm",	     "id",    "name", "ats",
					       "pasid_bits", "taken", NULL};
	struct out o = ctl("--json=short", "status", NULL);
	json_object *j, *a;

	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_expect_eq(strchr(o.out, '\n'), o.out + strlen(o.out) - 1, "short = one line");
	j = parse_obj(o.out);
	expect_keys(j, status_keys);
	json_object_put(j);
	out_free(&o);

	o = ctl("-j", "vm", "list", NULL); /* not a tty: short */
	cr_assert_eq(o.status, 0);
	cr_expect_eq(strchr(o.out, '\n'), o.out + strlen(o.out) - 1);
	j = parse_obj(o.out);
	cr_assert(json_object_object_get_ex(j, "vms", &a) && json_object_array_length(a) == 2);
	expect_keys(json_object_array_get_idx(a, 0), vm_keys);
	json_object_put(j);
	out_free(&o);

	o = ctl("--json=pretty", "device", "list", NULL);
	cr_assert_eq(o.status, 0);
	cr_expect_gt(strchr(o.out, '\n') - o.out, 0);
	cr_expect_neq(strchr(o.out, '\n'), o.out + strlen(o.out) - 1, "pretty = several lines");
	j = parse_obj(o.out);
	cr_assert(json_object_object_get_ex(j, "devices", &a) && json_object_array_length(a) == 3);
	expect_keys(json_object_array_get_idx(a, 0), dev_keys);
	json_object_put(j);
	out_free(&o);
	NO_LEAKS();
}

Test(nestctl, vm_show_attached)
{
	static const char *const show_keys[] = {
		"name",	      "state",	     "uid",	  "pid",       "owner_uids",
		"owner_gids", "pasid_quota", "mem_limit", "grace_sec", "checker",
		"devices",    "regions",     "pasids",	  "counters",  NULL};
	struct test_vm t;
	uint32_t p;
	char buf[64];
	struct out o;
	json_object *j, *v;

	test_vm_attach(&t, &d, NEST_ATTACH_F_CHECKER, 1 << 20);
	cr_assert_eq(nest_pasid_alloc(t.c, 1, NEST_PASID_MAX, 7, &p), 0);

	o = ctl("vm", "show", "vm0", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_expect(strstr(o.out, "State:        attached"), "%s", o.out);
	snprintf(buf, sizeof(buf), "pid %d", (int)getpid());
	cr_expect(strstr(o.out, buf), "%s", o.out);
	cr_expect(strstr(o.out, "dsa0"));
	out_free(&o);

	o = ctl("--json=short", "vm", "show", "vm0", NULL);
	cr_assert_eq(o.status, 0);
	j = parse_obj(o.out);
	expect_keys(j, show_keys);
	cr_assert(json_object_object_get_ex(j, "state", &v));
	cr_expect_str_eq(json_object_get_string(v), "attached");
	cr_assert(json_object_object_get_ex(j, "pid", &v));
	cr_expect_eq(json_object_get_int(v), getpid());
	cr_assert(json_object_object_get_ex(j, "regions", &v));
	cr_expect_eq(json_object_array_length(v), 1);
	json_object_put(j);
	out_free(&o);

	o = ctl("pasid", "list", "--vm", "vm0", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_expect(strstr(o.out, "1 PASID listed."), "%s", o.out);
	out_free(&o);
	test_vm_free(&t);
	NO_LEAKS();
}

Test(nestctl, exit_codes)
{
	char *argv[] = {NESTCTL_BIN, "-s", "/nonexistent/admin.sock", "status", NULL};
	struct out o;

	o.status = run_capture(argv, &o.out, &o.err);
	cr_expect_eq(o.status, 3, "daemon not running");
	cr_expect(strstr(o.err, "cannot connect to /nonexistent/admin.sock: No such file or "
				"directory (is nestd running?)"),
		  "%s", o.err);
	out_free(&o);

	o = ctl("status", NULL);
	cr_expect_eq(o.status, 0);
	out_free(&o);
	o = ctl("frobnicate", NULL);
	cr_expect_eq(o.status, 2);
	cr_expect(strstr(o.err, "unknown command"));
	out_free(&o);
	o = ctl("vm", "show", NULL);
	cr_expect_eq(o.status, 2);
	out_free(&o);
	o = ctl("--json=ugly", "status", NULL);
	cr_expect_eq(o.status, 2);
	out_free(&o);
	o = ctl("sim", "dma", "vm0", "1", "1", "0x1000", NULL);
	cr_expect_eq(o.status, 2, "neither --read nor --write");
	out_free(&o);
	o = ctl("vm", "show", "nope", NULL);
	cr_expect_eq(o.status, 3, "unknown VM");
	cr_expect_neq(o.err[0], '\0');
	out_free(&o);
	o = ctl("log-level", "loud", NULL);
	cr_expect_eq(o.status, 2, "a malformed argument is a usage error");
	cr_expect(strstr(o.err, "nestctl: log-level: 'loud' is not a level"), "%s", o.err);
	out_free(&o);
	o = ctl("-q", "log-level", "debug", NULL);
	cr_expect_eq(o.status, 0);
	cr_expect_str_eq(o.out, "");
	out_free(&o);
	o = ctl("--version", NULL);
	cr_expect_eq(o.status, 0);
	cr_expect(strstr(o.out, "nestctl 0.1.0"));
	out_free(&o);
	NO_LEAKS();
}

Test(nestctl, permission_denied_is_exit_4)
{
	char *argv[] = {NESTCTL_BIN, "-s", d.admin, "status", NULL};
	struct out o;

	/* without write permission on the socket connect() fails with EACCES; root bypasses
	 * file permissions, so as root run nestctl without CAP_DAC_OVERRIDE */
	cr_assert(chmod(d.admin, 0) == 0);
	o.status = run_capture_as(argv, true, &o.out, &o.err);
	cr_expect_eq(o.status, 4, "%s", o.err);
	cr_expect(strstr(o.err, "Permission denied"), "%s", o.err);
	out_free(&o);
	NO_LEAKS();
}

Test(nestctl, sim_translate_and_dma)
{
	struct test_vm t;
	struct out o;
	json_object *j, *v;

	test_vm_attach(&t, &d, 0, 1 << 20);
	/* no PASID bound: the translation faults and nestctl says so with exit 1 */
	o = ctl("sim", "translate", "vm0", "1", "1", "0x1000", "--write", NULL);
	cr_expect_eq(o.status, 1, "%s %s", o.out, o.err);
	cr_expect(strstr(o.out, "fault"), "%s", o.out);
	out_free(&o);
	o = ctl("--json=short", "sim", "dma", "vm0", "1", "1", "0x1000", "--read", "4", NULL);
	cr_expect_eq(o.status, 1);
	j = parse_obj(o.out);
	cr_assert(json_object_object_get_ex(j, "fault", &v));
	cr_expect(json_object_is_type(v, json_type_string));
	cr_expect(json_object_object_get_ex(j, "done", NULL));
	json_object_put(j);
	out_free(&o);
	test_vm_free(&t);
	NO_LEAKS();
}

/* The remaining commands: stats, reload, log-level, vm evict, device list, pasid list. */
Test(nestctl, stats_reload_loglevel_evict_device_pasid)
{
	static const char *const daemon_keys[] = {
		"connections_total", "connections_rejected", "requests", "errors", "events",
		"protocol_errors",   "slow_disconnects",     NULL};
	static const char *const pasid_keys[] = {"vm", "pasid", "gpasid", "bound", "gpgd", NULL};
	struct test_vm t;
	json_object *j, *v;
	char buf[256];
	struct out o;
	uint32_t p;

	o = ctl("stats", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_expect(strstr(o.out, "Daemon:") && strstr(o.out, "Backend:"), "%s", o.out);
	out_free(&o);
	o = ctl("--json=short", "stats", NULL);
	cr_assert_eq(o.status, 0);
	j = parse_obj(o.out);
	cr_assert(json_object_object_get_ex(j, "daemon", &v));
	expect_keys(v, daemon_keys);
	cr_assert(json_object_object_get_ex(j, "backend", &v));
	cr_expect(json_object_is_type(v, json_type_object));
	json_object_put(j);
	out_free(&o);

	o = ctl("--json=short", "reload", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	j = parse_obj(o.out);
	cr_assert(json_object_object_get_ex(j, "reloaded", &v));
	cr_expect(json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(j, "vms_configured", &v));
	cr_expect_eq(json_object_get_int(v), 2);
	json_object_put(j);
	out_free(&o);
	o = ctl("reload", NULL);
	cr_expect_eq(o.status, 0);
	cr_expect(strstr(o.out, "2 VMs configured"), "%s", o.out);
	out_free(&o);

	o = ctl("--json=short", "log-level", "notice", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	j = parse_obj(o.out);
	cr_assert(json_object_object_get_ex(j, "level", &v));
	cr_expect_str_eq(json_object_get_string(v), "notice");
	json_object_put(j);
	out_free(&o);
	o = ctl("log-level", NULL); /* no argument: the current level */
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect(strstr(o.out, "notice"), "%s", o.out);
	out_free(&o);

	o = ctl("device", "list", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_expect(strstr(line(o.out, 0, buf, sizeof(buf)), "PASID-BITS"), "%s", o.out);
	cr_expect(strstr(o.out, "\n3 devices listed.\n"), "%s", o.out);
	out_free(&o);

	test_vm_attach(&t, &d, 0, 1 << 20);
	cr_assert_eq(nest_pasid_alloc(t.c, 1, NEST_PASID_MAX, 9, &p), 0);
	o = ctl("--json=short", "pasid", "list", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	j = parse_obj(o.out);
	cr_assert(json_object_object_get_ex(j, "pasids", &v) && json_object_array_length(v) == 1);
	expect_keys(json_object_array_get_idx(v, 0), pasid_keys);
	json_object_put(j);
	out_free(&o);

	/* evicting the attached VM ends its connection: libnest sees the handle die */
	o = ctl("vm", "evict", "vm0", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect(strstr(o.out, "vm0"), "%s", o.out);
	out_free(&o);
	for (int i = 0; i < 100 && nest_client_wait(t.c, 50) >= 0; i++)
		;
	cr_expect_eq(nest_vm_detach(t.c, 0), -ECONNRESET);
	o = ctl("vm", "evict", "nope", NULL);
	cr_expect_eq(o.status, 3, "%s", o.err);
	out_free(&o);
	test_vm_free(&t);
	NO_LEAKS();
}

/* Errors in the CLI's words; options after the command (like systemctl); --help everywhere. */
Test(nestctl, cli_words_late_options_and_help)
{
	struct out o;

	/* the daemon's refusal names the command as typed, not its wire name "vm.show" */
	o = ctl("vm", "show", "nope", NULL);
	cr_expect_eq(o.status, 3);
	cr_expect(strstr(o.err, "nestctl: vm show: ") == o.err, "%s", o.err);
	cr_expect(!strstr(o.err, "vm.show"), "%s", o.err);
	out_free(&o);
	o = ctl("sim", "translate", "vm1", "1", "1", "0", NULL);
	cr_expect_eq(o.status, 3, "vm1 is not attached");
	cr_expect(strstr(o.err, "nestctl: sim translate: ") == o.err, "%s", o.err);
	out_free(&o);

	/* global options after the command */
	o = ctl("vm", "list", "--json=short", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect(o.out[0] == '{' && strchr(o.out, '\n') == o.out + strlen(o.out) - 1, "%s", o.out);
	out_free(&o);
	o = ctl("status", "-q", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "");
	out_free(&o);
	o = ctl("pasid", "list", "-j", "--vm", "vm0", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "{\"pasids\":[]}\n");
	out_free(&o);
	o = ctl("device", "list", "--no-legend", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect(!strstr(o.out, "NAME") && !strstr(o.out, "listed"), "%s", o.out);
	out_free(&o);

	/* precise usage errors */
	o = ctl("status", "extra", NULL);
	cr_expect_eq(o.status, 2);
	cr_expect(strstr(o.err, "nestctl: status: takes no arguments (got 'extra')"), "%s", o.err);
	out_free(&o);
	o = ctl("vm", "list", "--bogus", NULL);
	cr_expect_eq(o.status, 2);
	cr_expect(strstr(o.err, "nestctl: vm list: unknown option '--bogus'"), "%s", o.err);
	out_free(&o);
	o = ctl("log-level", "info", "more", NULL);
	cr_expect_eq(o.status, 2);
	cr_expect(strstr(o.err, "nestctl: log-level: unexpected argument 'more'"), "%s", o.err);
	out_free(&o);

	/* every command answers --help (exit 0, its usage on stdout, nothing sent) */
	static const char *const cmds[][2] = {
		{"status", NULL},   {"stats", NULL},	  {"reload", NULL}, {"log-level", NULL},
		{"vm", "list"},	    {"vm", "show"},	  {"vm", "evict"},  {"pasid", "list"},
		{"device", "list"}, {"sim", "translate"}, {"sim", "dma"},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char want[64];

		o = cmds[i][1] ? ctl(cmds[i][0], cmds[i][1], "--help", NULL)
			       : ctl(cmds[i][0], "--help", NULL);
		snprintf(want, sizeof(want), "Usage: nestctl [OPTIONS] %s%s%s", cmds[i][0],
			 cmds[i][1] ? " " : "", cmds[i][1] ? cmds[i][1] : "");
		cr_expect_eq(o.status, 0, "%s --help: %s", cmds[i][0], o.err);
		cr_expect(strstr(o.out, want) == o.out, "%s --help: %s", cmds[i][0], o.out);
		out_free(&o);
	}
	o = ctl("vm", "--help", NULL);
	cr_expect_eq(o.status, 0);
	cr_expect(strstr(o.out, "nestctl [OPTIONS] vm show NAME"), "%s", o.out);
	out_free(&o);
	NO_LEAKS();
}
