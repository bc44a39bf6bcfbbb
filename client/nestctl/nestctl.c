/* SPDX-License-Identifier: MIT */
/*
 * nestctl.c - operator CLI for nestd: `nestctl [global options] <noun> <verb> [args]`.
 * Global options, dispatch, the admin call and error-to-exit-code mapping (nestctl(1)).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nest-admin.h"
#include "nestctl.h"

static const struct nestctl_cmd *const nestctl_tables[] = {
	nestctl_cmds_daemon,
	nestctl_cmds_vm,
	nestctl_cmds_sim,
};

int nestctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("nestctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'nestctl --help' for more information.\n", stderr);
	return NESTCTL_EXIT_USAGE;
}

int nestctl_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("nestctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* Map a -errno from nestd or the connection to an exit code (nestctl(1) EXIT STATUS). */
static int nestctl_exit_code(int err)
{
	switch (-err) {
	case ENOENT:
	case ECONNREFUSED:
	case ENOTCONN:
		return NESTCTL_EXIT_NOT_FOUND;
	case EPERM:
	case EACCES:
		return NESTCTL_EXIT_PERM;
	default:
		return NESTCTL_EXIT_FAILURE;
	}
}

static int nestctl_connect(struct nestctl *ctl)
{
	int r;

	if (ctl->client)
		return 0;
	r = nest_admin_connect(ctl->socket, 0, &ctl->client);
	if (r == -ENOENT || r == -ECONNREFUSED)
		return nestctl_error(NESTCTL_EXIT_NOT_FOUND,
				     "cannot connect to %s: %s (is nestd running?)", ctl->socket,
				     strerror(-r));
	if (r == -EACCES || r == -EPERM)
		return nestctl_error(NESTCTL_EXIT_PERM,
				     "cannot connect to %s: %s (the admin socket needs root or the "
				     "admin group)",
				     ctl->socket, strerror(-r));
	if (r < 0)
		return nestctl_error(NESTCTL_EXIT_FAILURE, "cannot connect to %s: %s", ctl->socket,
				     strerror(-r));
	return 0;
}

int nestctl_call(struct nestctl *ctl, const char *command, json_object *args, json_object **ret)
{
	json_object *req = json_object_new_object();
	char *reply = NULL;
	json_object *res;
	int r;

	json_object_object_add(req, "command", json_object_new_string(command));
	if (args)
		json_object_object_add(req, "args", args); /* consumed */
	r = nestctl_connect(ctl);
	if (r) {
		json_object_put(req);
		return r;
	}
	r = nest_admin_call(ctl->client,
			    json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), &reply);
	json_object_put(req);
	if (r < 0) {
		const char *detail = nest_client_last_error(ctl->client);

		/* "ADMIN: text" from libnest: drop the op prefix for operators */
		if (strncmp(detail, "ADMIN: ", 7) == 0)
			detail += 7;
		return nestctl_error(nestctl_exit_code(r), "%s: %s",
				     ctl->cmd_name[0] ? ctl->cmd_name : command,
				     *detail ? detail : strerror(-r));
	}
	res = json_tokener_parse(reply);
	free(reply);
	if (!res || !json_object_is_type(res, json_type_object)) {
		json_object_put(res);
		return nestctl_error(NESTCTL_EXIT_FAILURE, "%s: nestd sent a malformed result",
				     ctl->cmd_name[0] ? ctl->cmd_name : command);
	}
	*ret = res;
	return 0;
}

void nestctl_print_json(const struct nestctl *ctl, json_object *result)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	if (ctl->quiet)
		return;
	flags |= ctl->json == NESTCTL_JSON_PRETTY
			 ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			 : JSON_C_TO_STRING_PLAIN;
	puts(json_object_to_json_string_ext(result, flags));
}

static void nestctl_help(void)
{
	printf("Usage: nestctl [OPTIONS] <noun> <verb> [ARGS]\n\n"
	       "Query and control nestd, the PASID / nested-IOMMU broker.\n\n"
	       "Commands:\n");
	for (size_t t = 0; t < sizeof(nestctl_tables) / sizeof(nestctl_tables[0]); t++)
		for (const struct nestctl_cmd *c = nestctl_tables[t]; c->noun; c++)
			if (c->noun[0] != '_')
				printf("  %s%s%s%s%s\n", c->noun, c->verb ? " " : "",
				       c->verb ? c->verb : "", *c->usage ? " " : "", c->usage);
	printf("\nOptions:\n"
	       "  -s, --socket=PATH      admin socket (default $NESTCTL_SOCKET or %s)\n"
	       "  -j                     JSON output (pretty on a terminal, short otherwise)\n"
	       "      --json=MODE        JSON output: pretty, short or off\n"
	       "      --no-legend        no table headers and footers\n"
	       "      --no-pager         accepted for compatibility; nestctl never pages\n"
	       "  -q, --quiet            print nothing on success\n"
	       "  -h, --help             show this help\n"
	       "      --version          show the version\n\n"
	       "See nestctl(1).\n",
	       NEST_DEFAULT_ADMIN_SOCKET);
}

enum { OPT_JSON = 0x100, OPT_NO_LEGEND, OPT_NO_PAGER, OPT_VERSION };

static int nestctl_parse_json_mode(struct nestctl *ctl, const char *arg)
{
	if (!arg || !strcmp(arg, "pretty"))
		ctl->json = NESTCTL_JSON_PRETTY;
	else if (!strcmp(arg, "short"))
		ctl->json = NESTCTL_JSON_SHORT;
	else if (!strcmp(arg, "off"))
		ctl->json = NESTCTL_JSON_OFF;
	else
		return nestctl_usage_error("--json: expected pretty, short or off, got '%s'", arg);
	return 0;
}

/* Returns -1 to continue, else an exit code. */
static int nestctl_parse_global(struct nestctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", optional_argument, NULL, OPT_JSON},
		{"no-legend", no_argument, NULL, OPT_NO_LEGEND},
		{"no-pager", no_argument, NULL, OPT_NO_PAGER},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	int c, r;

	/* '+': stop at the first non-option so that command options reach the command */
	while ((c = getopt_long(argc, argv, "+s:jqh", opts, NULL)) >= 0) {
		switch (c) {
		case 's':
			ctl->socket = optarg;
			break;
		case 'j':
			ctl->json =
				isatty(STDOUT_FILENO) ? NESTCTL_JSON_PRETTY : NESTCTL_JSON_SHORT;
			break;
		case OPT_JSON:
			r = nestctl_parse_json_mode(ctl, optarg);
			if (r)
				return r;
			break;
		case OPT_NO_LEGEND:
			ctl->legend = false;
			break;
		case OPT_NO_PAGER:
			break;
		case 'q':
			ctl->quiet = true;
			break;
		case 'h':
			nestctl_help();
			return NESTCTL_EXIT_OK;
		case OPT_VERSION:
			printf("nestctl %s (libnest %s)\n", NESTCTL_VERSION, nest_version());
			return NESTCTL_EXIT_OK;
		default:
			return NESTCTL_EXIT_USAGE; /* getopt printed why */
		}
	}
	return -1;
}

static const struct nestctl_cmd *nestctl_find(const char *noun, const char *verb, bool *ret_noun)
{
	*ret_noun = false;
	for (size_t t = 0; t < sizeof(nestctl_tables) / sizeof(nestctl_tables[0]); t++) {
		for (const struct nestctl_cmd *c = nestctl_tables[t]; c->noun; c++) {
			if (strcmp(c->noun, noun))
				continue;
			*ret_noun = true;
			if (!c->verb || (verb && !strcmp(c->verb, verb)))
				return c;
		}
	}
	return NULL;
}

/*
 * Global options after the command (as systemctl and ip take them): -s/--socket, -j, --json,
 * --no-legend, --no-pager, -q/--quiet and -h/--help are taken out of the command's arguments
 * (up to a "--"); the rest stays for the command, in order. Returns -1 to go on, or an exit code
 * (--help printed the command's usage).
 */
static int nestctl_late_options(struct nestctl *ctl, const struct nestctl_cmd *cmd, int *argc,
				char **argv)
{
	int n = 1, r;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[n++] = argv[i++];
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("Usage: nestctl [OPTIONS] %s%s%s%s%s\n\nSee nestctl --help and "
			       "nestctl(1).\n",
			       cmd->noun, cmd->verb ? " " : "", cmd->verb ? cmd->verb : "",
			       *cmd->usage ? " " : "", cmd->usage);
			return NESTCTL_EXIT_OK;
		} else if (!strcmp(a, "-j")) {
			ctl->json =
				isatty(STDOUT_FILENO) ? NESTCTL_JSON_PRETTY : NESTCTL_JSON_SHORT;
		} else if (!strcmp(a, "--json") || !strncmp(a, "--json=", 7)) {
			r = nestctl_parse_json_mode(ctl, a[6] ? a + 7 : NULL);
			if (r)
				return r;
		} else if (!strcmp(a, "--no-legend")) {
			ctl->legend = false;
		} else if (!strcmp(a, "--no-pager")) {
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			ctl->quiet = true;
		} else if (!strcmp(a, "-s") || !strcmp(a, "--socket")) {
			if (i + 1 >= *argc)
				return nestctl_usage_error("%s: %s needs a PATH", ctl->cmd_name, a);
			ctl->socket = argv[++i];
		} else if (!strncmp(a, "--socket=", 9)) {
			ctl->socket = a + 9;
		} else if (!strncmp(a, "-s", 2)) {
			ctl->socket = a + 2;
		} else {
			argv[n++] = argv[i];
		}
	}
	*argc = n;
	argv[n] = NULL;
	return -1;
}

static int nestctl_dispatch(struct nestctl *ctl, int argc, char **argv)
{
	const struct nestctl_cmd *cmd;
	bool noun_known;
	int skip, r;

	if (argc < 1)
		return nestctl_usage_error("missing command");
	cmd = nestctl_find(argv[0], argc > 1 ? argv[1] : NULL, &noun_known);
	if (!cmd && !noun_known)
		return nestctl_usage_error("unknown command '%s'", argv[0]);
	if (!cmd && argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage:\n");
		for (size_t t = 0; t < sizeof(nestctl_tables) / sizeof(nestctl_tables[0]); t++)
			for (const struct nestctl_cmd *c = nestctl_tables[t]; c->noun; c++)
				if (!strcmp(c->noun, argv[0]))
					printf("  nestctl [OPTIONS] %s %s%s%s\n", c->noun, c->verb,
					       *c->usage ? " " : "", c->usage);
		return NESTCTL_EXIT_OK;
	}
	if (!cmd)
		return argc > 1 ? nestctl_usage_error("unknown command '%s %s'", argv[0], argv[1])
				: nestctl_usage_error("'%s' needs a verb", argv[0]);
	skip = cmd->verb ? 2 : 1;
	snprintf(ctl->cmd_name, sizeof(ctl->cmd_name), "%s%s%s", cmd->noun, cmd->verb ? " " : "",
		 cmd->verb ? cmd->verb : "");
	/* command functions see argv[0] = "noun verb" position, getopt-style */
	argc = argc - skip + 1;
	argv = argv + skip - 1;
	r = nestctl_late_options(ctl, cmd, &argc, argv);
	if (r >= 0)
		return r;
	return cmd->fn(ctl, argc, argv);
}

int main(int argc, char **argv)
{
	struct nestctl ctl = {.legend = true};
	const char *env = getenv("NESTCTL_SOCKET");
	int r;

	ctl.socket = env && *env ? env : NEST_DEFAULT_ADMIN_SOCKET;
	r = nestctl_parse_global(&ctl, argc, argv);
	if (r >= 0)
		return r;
	r = nestctl_dispatch(&ctl, argc - optind, argv + optind);
	nest_client_free(ctl.client);
	fflush(stdout);
	if (ferror(stdout))
		return NESTCTL_EXIT_FAILURE;
	return r;
}
