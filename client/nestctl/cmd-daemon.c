/* SPDX-License-Identifier: MIT */
/*
 * cmd-daemon.c - daemon-wide commands: status, stats, reload, log-level, __complete.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nest-admin.h"
#include "nestctl.h"

/* The levels nestd knows (nest-admin.h's log-level command), checked before asking. */
static bool cmd_is_level(const char *s)
{
	static const char *const levels[] = {"debug", "info", "notice", "warning", "err"};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcmp(s, levels[i]))
			return true;
	return false;
}

static int cmd_status(struct nestctl *ctl, int argc, char **argv)
{
	json_object *res;
	int64_t up;
	int r = nestctl_check_args(argc, argv, 0, 0, "status");

	if (r || (r = nestctl_call(ctl, NEST_ADMIN_CMD_STATUS, NULL, &res)))
		return r;
	if (ctl->json) {
		nestctl_print_json(ctl, res);
	} else if (!ctl->quiet) {
		up = nestctl_int(res, "uptime_sec", 0);
		printf("Version:      %s\n", nestctl_str(res, "version", "?"));
		printf("Backend:      %s\n", nestctl_str(res, "backend", "?"));
		printf("PID:          %" PRId64 "\n", nestctl_int(res, "pid", 0));
		printf("Uptime:       %" PRId64 "h %02" PRId64 "m %02" PRId64 "s\n", up / 3600,
		       up / 60 % 60, up % 60);
		printf("VMs:          %" PRId64 " configured, %" PRId64 " attached, %" PRId64
		       " held\n",
		       nestctl_int(res, "vms_configured", 0), nestctl_int(res, "vms_attached", 0),
		       nestctl_int(res, "vms_held", 0));
		printf("Connections:  %" PRId64 " VM, %" PRId64 " admin\n",
		       nestctl_int(res, "connections", 0),
		       nestctl_int(res, "admin_connections", 0));
		printf("Log level:    %s\n", nestctl_str(res, "log_level", "?"));
	}
	json_object_put(res);
	return 0;
}

/* Print every integer member of @obj as "  key  value" lines, aligned. */
static void cmd_print_counters(const char *title, json_object *obj)
{
	size_t w = 0;

	if (!obj || !json_object_is_type(obj, json_type_object))
		return;
	printf("%s:\n", title);
	json_object_object_foreach(obj, k1, v1)
	{
		(void)v1;
		if (strlen(k1) > w)
			w = strlen(k1);
	}
	json_object_object_foreach(obj, key, val)
		printf("  %-*s  %s\n", (int)w, key, json_object_get_string(val));
}

static int cmd_stats(struct nestctl *ctl, int argc, char **argv)
{
	json_object *res, *d = NULL, *b = NULL;
	int r = nestctl_check_args(argc, argv, 0, 0, "stats");

	if (r || (r = nestctl_call(ctl, NEST_ADMIN_CMD_STATS, NULL, &res)))
		return r;
	if (ctl->json) {
		nestctl_print_json(ctl, res);
	} else if (!ctl->quiet) {
		json_object_object_get_ex(res, "daemon", &d);
		json_object_object_get_ex(res, "backend", &b);
		cmd_print_counters("Daemon", d);
		cmd_print_counters("Backend", b);
	}
	json_object_put(res);
	return 0;
}

static int cmd_reload(struct nestctl *ctl, int argc, char **argv)
{
	json_object *res;
	int r = nestctl_check_args(argc, argv, 0, 0, "reload");

	if (r || (r = nestctl_call(ctl, NEST_ADMIN_CMD_RELOAD, NULL, &res)))
		return r;
	if (ctl->json)
		nestctl_print_json(ctl, res);
	else if (!ctl->quiet)
		printf("Configuration reloaded: %" PRId64 " VM%s configured.\n",
		       nestctl_int(res, "vms_configured", 0),
		       nestctl_int(res, "vms_configured", 0) == 1 ? "" : "s");
	json_object_put(res);
	return 0;
}

static int cmd_log_level(struct nestctl *ctl, int argc, char **argv)
{
	json_object *res, *args = NULL;
	int r = nestctl_check_args(argc, argv, 0, 1, "log-level");

	if (r)
		return r;
	if (argc == 2 && !cmd_is_level(argv[1]))
		return nestctl_usage_error("log-level: '%s' is not a level (debug, info, notice, "
					   "warning or err)",
					   argv[1]);
	if (argc == 2) {
		args = json_object_new_object();
		json_object_object_add(args, "level", json_object_new_string(argv[1]));
	}
	r = nestctl_call(ctl, NEST_ADMIN_CMD_LOG_LEVEL, args, &res);
	if (r)
		return r;
	if (ctl->json)
		nestctl_print_json(ctl, res);
	else if (!ctl->quiet)
		printf("%s\n", nestctl_str(res, "level", "?"));
	json_object_put(res);
	return 0;
}

/* Hidden helper for shell completion: `nestctl __complete vms|devices|levels`. */
static int cmd_complete(struct nestctl *ctl, int argc, char **argv)
{
	json_object *res, *arr = NULL;
	bool vms;

	if (argc != 2)
		return NESTCTL_EXIT_USAGE;
	if (!strcmp(argv[1], "levels")) {
		puts("debug\ninfo\nnotice\nwarning\nerr");
		return 0;
	}
	vms = !strcmp(argv[1], "vms");
	if (!vms && strcmp(argv[1], "devices"))
		return NESTCTL_EXIT_USAGE;
	if (nestctl_call(ctl, vms ? NEST_ADMIN_CMD_VM_LIST : NEST_ADMIN_CMD_DEVICE_LIST, NULL,
			 &res))
		return NESTCTL_EXIT_FAILURE;
	if (json_object_object_get_ex(res, vms ? "vms" : "devices", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			puts(nestctl_str(json_object_array_get_idx(arr, i), "name", ""));
	json_object_put(res);
	return 0;
}

const struct nestctl_cmd nestctl_cmds_daemon[] = {
	{"status", NULL, "", cmd_status},
	{"stats", NULL, "", cmd_stats},
	{"reload", NULL, "", cmd_reload},
	{"log-level", NULL, "[debug|info|notice|warning|err]", cmd_log_level},
	{"__complete", NULL, "", cmd_complete},
	{0},
};
