/* SPDX-License-Identifier: MIT */
/*
 * cmd-sim.c - sim backend debugging: sim translate, sim dma.
 *
 *   nestctl sim translate VM DEV PASID ADDR [--write] [--exec] [--priv]
 *   nestctl sim dma VM DEV PASID ADDR (--read LEN | --write HEX) [--exec] [--priv]
 *
 * Both exit 1 when the access faulted (the result is printed either way).
 */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nest-admin.h"
#include "nestctl.h"

struct sim_args {
	const char *vm;
	uint64_t dev, pasid, addr;
	bool write, exec, priv;
	uint64_t read_len; /* dma --read */
	const char *hex;   /* dma --write */
};

static int sim_check_hex(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n % 2 || n / 2 > NEST_DMA_LEN_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -1;
	return 0;
}

/* Parse "VM DEV PASID ADDR" + options. @dma selects the dma option set. */
static int sim_parse(int argc, char **argv, bool dma, struct sim_args *a)
{
	/* translate: --write is a flag; dma: --write takes the data */
	static const struct option topts[] = {
		{"write", no_argument, NULL, 'w'},
		{"exec", no_argument, NULL, 'x'},
		{"priv", no_argument, NULL, 'p'},
		{0},
	};
	static const struct option dopts[] = {
		{"write", required_argument, NULL, 'w'},
		{"read", required_argument, NULL, 'r'},
		{"exec", no_argument, NULL, 'x'},
		{"priv", no_argument, NULL, 'p'},
		{0},
	};
	const char *what = dma ? "sim dma" : "sim translate";
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", dma ? dopts : topts, NULL)) >= 0) {
		if (c == 'w') {
			a->write = true;
			a->hex = optarg;
		} else if (c == 'x') {
			a->exec = true;
		} else if (c == 'p') {
			a->priv = true;
		} else if (c == 'r' && dma) {
			if (nestctl_parse_u64(optarg, NEST_DMA_LEN_MAX, &a->read_len) ||
			    !a->read_len)
				return nestctl_usage_error("%s: --read: length 1..%u", what,
							   NEST_DMA_LEN_MAX);
		} else {
			return nestctl_usage_error("%s: unknown option", what);
		}
	}
	if (argc - optind != 4)
		return nestctl_usage_error("%s: expected VM DEV PASID ADDR", what);
	a->vm = argv[optind];
	if (nestctl_parse_u64(argv[optind + 1], UINT32_MAX, &a->dev) ||
	    nestctl_parse_u64(argv[optind + 2], NEST_PASID_MAX, &a->pasid) ||
	    nestctl_parse_u64(argv[optind + 3], UINT64_MAX, &a->addr))
		return nestctl_usage_error("%s: DEV, PASID and ADDR must be numbers", what);
	if (dma && !a->write == !a->read_len)
		return nestctl_usage_error("sim dma: give exactly one of --read LEN, --write HEX");
	if (dma && a->write && sim_check_hex(a->hex))
		return nestctl_usage_error("sim dma: --write: 1..%u bytes of hex digits",
					   NEST_DMA_LEN_MAX);
	return 0;
}

static json_object *sim_request(const struct sim_args *a, bool dma)
{
	json_object *args = json_object_new_object();
	char addr[24];

	snprintf(addr, sizeof(addr), "0x%" PRIx64, a->addr);
	json_object_object_add(args, "vm", json_object_new_string(a->vm));
	json_object_object_add(args, "device", json_object_new_int64((int64_t)a->dev));
	json_object_object_add(args, "pasid", json_object_new_int64((int64_t)a->pasid));
	json_object_object_add(args, "addr", json_object_new_string(addr));
	if (dma && a->write)
		json_object_object_add(args, "data", json_object_new_string(a->hex));
	else if (dma)
		json_object_object_add(args, "len", json_object_new_int64((int64_t)a->read_len));
	else
		json_object_object_add(args, "write", json_object_new_boolean(a->write));
	json_object_object_add(args, "exec", json_object_new_boolean(a->exec));
	json_object_object_add(args, "priv", json_object_new_boolean(a->priv));
	return args;
}

static int cmd_sim_translate(struct nestctl *ctl, int argc, char **argv)
{
	struct sim_args a = {0};
	json_object *res;
	bool ok;
	int r = sim_parse(argc, argv, false, &a);

	if (r ||
	    (r = nestctl_call(ctl, NEST_ADMIN_CMD_SIM_TRANSLATE, sim_request(&a, false), &res)))
		return r;
	ok = nestctl_bool(res, "ok");
	if (ctl->json)
		nestctl_print_json(ctl, res);
	else if (!ctl->quiet && ok)
		printf("0x%" PRIx64 " -> %s (%" PRId64 "-byte page%s)\n", a.addr,
		       nestctl_str(res, "gpa", "?"), nestctl_int(res, "page_size", 0),
		       nestctl_bool(res, "cached") ? ", cached" : "");
	else if (!ctl->quiet)
		printf("0x%" PRIx64 ": fault %s\n", a.addr, nestctl_str(res, "fault", "?"));
	json_object_put(res);
	return ok ? NESTCTL_EXIT_OK : NESTCTL_EXIT_FAILURE;
}

/* Hex dump of a "data" string: 16 bytes per line with the device address. */
static void sim_dump(uint64_t addr, const char *hex)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		if (i % 16 == 0)
			printf("%s%016" PRIx64 ":", i ? "\n" : "", addr + i);
		printf(" %.2s", hex + 2 * i);
	}
	if (n)
		putchar('\n');
}

static int cmd_sim_dma(struct nestctl *ctl, int argc, char **argv)
{
	struct sim_args a = {0};
	const char *fault;
	json_object *res;
	int r = sim_parse(argc, argv, true, &a);

	if (r || (r = nestctl_call(ctl, NEST_ADMIN_CMD_SIM_DMA, sim_request(&a, true), &res)))
		return r;
	fault = nestctl_str(res, "fault", NULL);
	if (ctl->json) {
		nestctl_print_json(ctl, res);
	} else if (!ctl->quiet) {
		if (!a.write)
			sim_dump(a.addr, nestctl_str(res, "data", ""));
		else
			printf("Wrote %" PRId64 " bytes.\n", nestctl_int(res, "done", 0));
		if (fault)
			printf("fault %s at %s after %" PRId64 " bytes\n", fault,
			       nestctl_str(res, "fault_addr", "?"), nestctl_int(res, "done", 0));
	}
	json_object_put(res);
	return fault ? NESTCTL_EXIT_FAILURE : NESTCTL_EXIT_OK;
}

const struct nestctl_cmd nestctl_cmds_sim[] = {
	{"sim", "translate", "VM DEV PASID ADDR [--write] [--exec] [--priv]", cmd_sim_translate},
	{"sim", "dma", "VM DEV PASID ADDR (--read LEN | --write HEX) [--exec] [--priv]",
	 cmd_sim_dma},
	{0},
};
