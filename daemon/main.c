/* SPDX-License-Identifier: MIT */
/*
 * main.c - nestd(8): command line, config, then the daemon context runs the loop.
 *
 *   nestd [--config PATH] [--dump-config] [--socket PATH] [--admin-socket PATH]
 *         [--backend NAME] [--log-level LEVEL] [--version] [-h|--help]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nestd.h"

/* The command line: the only mutable globals of the daemon (STYLE.md R17). */
static const char *arg_config;
static const char *arg_socket;
static const char *arg_admin_socket;
static const char *arg_backend;
static int arg_log_level = -1;
static bool arg_dump_config;

static void main_usage(FILE *f)
{
	fprintf(f, "Usage: nestd [OPTIONS]\n"
		   "Broker of nested-IOMMU operations (PASIDs, stage-1 binds, invalidations).\n\n"
		   "  -c, --config PATH        configuration file (default " NESTD_CONFIG_PATH ")\n"
		   "      --dump-config        print the effective configuration and exit\n"
		   "  -s, --socket PATH        VM socket path (overrides Socket=)\n"
		   "  -a, --admin-socket PATH  admin socket path (overrides AdminSocket=)\n"
		   "  -b, --backend NAME       auto, sim, vfio-type1, vfio-nesting, iommufd\n"
		   "  -l, --log-level LEVEL    debug, info, notice, warning, err\n"
		   "  -V, --version            print the version and exit\n"
		   "  -h, --help               this help\n");
}

/* 0: run, 1: exit 0 now, -1: usage error */
static int main_parse_args(int argc, char **argv)
{
	enum { OPT_DUMP = 0x100 };
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"dump-config", no_argument, NULL, OPT_DUMP},
		{"socket", required_argument, NULL, 's'},
		{"admin-socket", required_argument, NULL, 'a'},
		{"backend", required_argument, NULL, 'b'},
		{"log-level", required_argument, NULL, 'l'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:s:a:b:l:Vh", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			arg_config = optarg;
			break;
		case OPT_DUMP:
			arg_dump_config = true;
			break;
		case 's':
			arg_socket = optarg;
			break;
		case 'a':
			arg_admin_socket = optarg;
			break;
		case 'b':
			arg_backend = optarg;
			break;
		case 'l':
			arg_log_level = log_level_parse(optarg);
			if (arg_log_level < 0) {
				fprintf(stderr, "nestd: unknown log level '%s'\n", optarg);
				return -1;
			}
			break;
		case 'V':
			printf("nestd %s\n", NESTD_VERSION);
			return 1;
		case 'h':
			main_usage(stdout);
			return 1;
		default:
			main_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nestd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (arg_backend && nest_backend_choice_parse(arg_backend) < 0) {
		fprintf(stderr, "nestd: unknown backend '%s'\n", arg_backend);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct nestd_args args;
	struct nestd_config *cfg = NULL;
	struct nestd *d = NULL;
	char err[512] = "";
	int r;

	r = main_parse_args(argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : 2;
	log_setup();
	if (arg_log_level >= 0)
		log_set_level(arg_log_level);
	r = nestd_config_load(arg_config ? arg_config : NESTD_CONFIG_PATH, &cfg, err, sizeof(err));
	if (r < 0) {
		log_msg(LOG_ERR, "configuration: %s", err[0] ? err : strerror(-r));
		return EXIT_FAILURE;
	}
	if (arg_dump_config) {
		r = nestd_config_dump(cfg, stdout);
		nestd_config_free(cfg);
		return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	if (arg_log_level < 0)
		log_set_level(cfg->log_level);
	args = (struct nestd_args){
		.config_path = arg_config,
		.socket_path = arg_socket,
		.admin_path = arg_admin_socket,
		.backend = arg_backend,
		.log_level = arg_log_level,
	};
	r = nestd_new(&args, cfg, &d); /* cfg is consumed */
	if (r < 0)
		return EXIT_FAILURE;
	r = nestd_run(d);
	nestd_free(d);
	return r;
}
