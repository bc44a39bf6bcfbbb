/* SPDX-License-Identifier: MIT */
/*
 * cmd-vm.c - VM, PASID and device commands: vm list|show|evict, pasid list, device list.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nest-admin.h"
#include "nestctl.h"

#define NUMBUF 32

static json_object *cmd_array(json_object *o, const char *key)
{
	json_object *a = NULL;

	if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
		return NULL;
	return a;
}

static const char *yes_no(json_object *o, const char *key)
{
	return nestctl_bool(o, key) ? "yes" : "no";
}

/* Print @res[@key] (an array of objects) as a table; @keys name the members per column. */
static size_t cmd_table(json_object *res, const char *key, const char *const *headers,
			const char *const *keys, size_t ncols, bool legend)
{
	struct nestctl_table *t = nestctl_table_new(headers, ncols);
	json_object *arr = cmd_array(res, key);
	char bufs[16][NUMBUF];
	const char *cells[16];
	size_t n = 0;

	if (!t)
		return 0;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *row = json_object_array_get_idx(arr, i);

		for (size_t c = 0; c < ncols; c++) {
			const char *k = keys[c];

			if (k[0] == '?') /* boolean column */
				cells[c] = yes_no(row, k + 1);
			else if (k[0] == '#') /* number or null */
				cells[c] = nestctl_int_or_dash(row, k + 1, bufs[c], NUMBUF);
			else if (k[0] == '%') /* byte count */
				cells[c] = nestctl_bytes(row, k + 1, bufs[c], NUMBUF);
			else
				cells[c] = nestctl_str(row, k, "-");
		}
		nestctl_table_add(t, cells);
	}
	for (size_t c = 0; c < ncols; c++)
		if (keys[c][0] == '#' || keys[c][0] == '%')
			nestctl_table_align_right(t, c);
	nestctl_table_print(t, legend);
	n = nestctl_table_rows(t);
	nestctl_table_free(t);
	return n;
}

static int cmd_vm_list(struct nestctl *ctl, int argc, char **argv)
{
	static const char *const h[] = {"NAME",	   "STATE",  "UID",	 "PID",	  "DEVICES",
					"REGIONS", "PASIDS", "BINDINGS", "MEMORY"};
	static const char *const k[] = {"name",	    "state",   "#uid",	    "#pid",	 "#devices",
					"#regions", "#pasids", "#bindings", "%mem_bytes"};
	json_object *res;
	size_t n;
	int r;

	if ((r = nestctl_check_args(argc, argv, 0, 0, "vm list")))
		return r;
	r = nestctl_call(ctl, NEST_ADMIN_CMD_VM_LIST, NULL, &res);
	if (r)
		return r;
	if (ctl->json) {
		nestctl_print_json(ctl, res);
	} else if (!ctl->quiet) {
		n = cmd_table(res, "vms", h, k, 9, ctl->legend);
		nestctl_footer(ctl, n, "VM", "VMs");
	}
	json_object_put(res);
	return 0;
}

static json_object *cmd_name_args(const char *key, const char *name)
{
	json_object *args = json_object_new_object();

	json_object_object_add(args, key, json_object_new_string(name));
	return args;
}

static void cmd_vm_show_sections(const struct nestctl *ctl, json_object *res)
{
	static const char *const dh[] = {"ID", "NAME", "ATS", "PASID-BITS", "TAKEN"};
	static const char *const dk[] = {"#id", "name", "?ats", "#pasid_bits", "?taken"};
	static const char *const rh[] = {"GPA", "LEN", "FD-OFFSET", "READ", "WRITE"};
	static const char *const rk[] = {"gpa", "len", "fd_offset", "?read", "?write"};
	static const char *const ph[] = {"PASID", "GPASID", "BOUND", "FORMAT", "GPGD", "WIDTH"};
	static const char *const pk[] = {"#pasid", "#gpasid", "?bound",
					 "format", "gpgd",    "#addr_width"};
	json_object *cnt = NULL;

	printf("\nDevices:\n");
	cmd_table(res, "devices", dh, dk, 5, ctl->legend);
	printf("\nMemory regions:\n");
	cmd_table(res, "regions", rh, rk, 5, ctl->legend);
	printf("\nPASIDs:\n");
	cmd_table(res, "pasids", ph, pk, 6, ctl->legend);
	if (json_object_object_get_ex(res, "counters", &cnt) &&
	    json_object_is_type(cnt, json_type_object)) {
		printf("\nCounters:\n");
		json_object_object_foreach(cnt, key, val)
			printf("  %-14s %s\n", key, json_object_get_string(val));
	}
}

static void cmd_vm_show_human(const struct nestctl *ctl, json_object *res)
{
	char b1[NUMBUF], b2[NUMBUF], b3[NUMBUF];

	printf("Name:         %s\n", nestctl_str(res, "name", "?"));
	printf("State:        %s\n", nestctl_str(res, "state", "?"));
	printf("Client:       uid %s, pid %s\n", nestctl_int_or_dash(res, "uid", b1, NUMBUF),
	       nestctl_int_or_dash(res, "pid", b2, NUMBUF));
	printf("Owners:       uids %s, gids %s\n",
	       json_object_to_json_string_ext(cmd_array(res, "owner_uids"), JSON_C_TO_STRING_PLAIN),
	       json_object_to_json_string_ext(cmd_array(res, "owner_gids"),
					      JSON_C_TO_STRING_PLAIN));
	printf("PASID quota:  %s\n", nestctl_int_or_dash(res, "pasid_quota", b1, NUMBUF));
	printf("Memory limit: %s\n", nestctl_bytes(res, "mem_limit", b3, NUMBUF));
	printf("Grace period: %ss\n", nestctl_int_or_dash(res, "grace_sec", b2, NUMBUF));
	printf("Checker:      %s\n", yes_no(res, "checker"));
	json_object *m;

	if (json_object_object_get_ex(res, "materialized", &m) && m) /* sim: holes nestd filled */
		printf("Materialized: %s of %s (released %s, refused %s)\n",
		       nestctl_bytes(m, "bytes", b1, NUMBUF), nestctl_bytes(m, "limit", b2, NUMBUF),
		       nestctl_bytes(m, "released", b3, NUMBUF),
		       json_object_get_string(json_object_object_get(m, "refused")));
	cmd_vm_show_sections(ctl, res);
}

static int cmd_vm_show(struct nestctl *ctl, int argc, char **argv)
{
	json_object *res;
	int r;

	if (argc != 2)
		return nestctl_usage_error("vm show: expected one VM name");
	r = nestctl_call(ctl, NEST_ADMIN_CMD_VM_SHOW, cmd_name_args("name", argv[1]), &res);
	if (r)
		return r;
	if (ctl->json)
		nestctl_print_json(ctl, res);
	else if (!ctl->quiet)
		cmd_vm_show_human(ctl, res);
	json_object_put(res);
	return 0;
}

static int cmd_vm_evict(struct nestctl *ctl, int argc, char **argv)
{
	json_object *res;
	int r;

	if (argc != 2)
		return nestctl_usage_error("vm evict: expected one VM name");
	r = nestctl_call(ctl, NEST_ADMIN_CMD_VM_EVICT, cmd_name_args("name", argv[1]), &res);
	if (r)
		return r;
	if (ctl->json)
		nestctl_print_json(ctl, res);
	else if (!ctl->quiet)
		printf("Evicted VM %s.\n", nestctl_str(res, "evicted", argv[1]));
	json_object_put(res);
	return 0;
}

static int cmd_pasid_list(struct nestctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"vm", required_argument, NULL, 'v'}, {0}};
	static const char *const h[] = {"VM", "PASID", "GPASID", "BOUND", "GPGD"};
	static const char *const k[] = {"vm", "#pasid", "#gpasid", "?bound", "gpgd"};
	json_object *res, *args = NULL;
	const char *vm = NULL;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		if (c != 'v')
			return NESTCTL_EXIT_USAGE;
		vm = optarg;
	}
	if (optind != argc)
		return nestctl_usage_error("pasid list: unexpected argument '%s'", argv[optind]);
	if (vm)
		args = cmd_name_args("vm", vm);
	r = nestctl_call(ctl, NEST_ADMIN_CMD_PASID_LIST, args, &res);
	if (r)
		return r;
	if (ctl->json) {
		nestctl_print_json(ctl, res);
	} else if (!ctl->quiet) {
		size_t n = cmd_table(res, "pasids", h, k, 5, ctl->legend);

		nestctl_footer(ctl, n, "PASID", "PASIDs");
	}
	json_object_put(res);
	return 0;
}

static int cmd_device_list(struct nestctl *ctl, int argc, char **argv)
{
	static const char *const h[] = {"VM", "ID", "NAME", "ATS", "PASID-BITS", "TAKEN"};
	static const char *const k[] = {"vm", "#id", "name", "?ats", "#pasid_bits", "?taken"};
	json_object *res;
	int r;

	if ((r = nestctl_check_args(argc, argv, 0, 0, "device list")))
		return r;
	r = nestctl_call(ctl, NEST_ADMIN_CMD_DEVICE_LIST, NULL, &res);
	if (r)
		return r;
	if (ctl->json) {
		nestctl_print_json(ctl, res);
	} else if (!ctl->quiet) {
		size_t n = cmd_table(res, "devices", h, k, 6, ctl->legend);

		nestctl_footer(ctl, n, "device", "devices");
	}
	json_object_put(res);
	return 0;
}

const struct nestctl_cmd nestctl_cmds_vm[] = {
	{"vm", "list", "", cmd_vm_list},	 {"vm", "show", "NAME", cmd_vm_show},
	{"vm", "evict", "NAME", cmd_vm_evict},	 {"pasid", "list", "[--vm NAME]", cmd_pasid_list},
	{"device", "list", "", cmd_device_list}, {0},
};
