/* SPDX-License-Identifier: MIT */
/*
 * test-example.c - the example VMM (client/examples/example-vmm.c) runs against a real nestd
 * and must exit 0, with every step of its transcript "ok".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-test.h"

Test(example, vmm_transcript_all_ok, .timeout = 60)
{
	struct nestd_proc d;
	char *out = NULL, *err = NULL;
	int st;

	nestd_start(&d, NULL);
	{
		char *argv[] = {EXAMPLE_BIN, "--socket", d.sock, "--vm", "vm0", NULL};

		st = run_capture(argv, &out, &err);
	}
	cr_log_info("%s", out);
	cr_expect_eq(st, 0, "example VMM failed:\n%s%s", out, err);
	cr_expect_null(strstr(out, "FAIL"), "%s", out);
	cr_expect(strstr(out, "checker event NEST_EV_STALE"), "%s", out);
	cr_expect(strstr(out, "fault event NEST_EV_FAULT: reason write"), "%s", out);
	cr_expect(strstr(out, "everything behaved as described"), "%s", out);
	free(out);
	free(err);
	nestd_stop(&d);
	NO_LEAKS();
}

Test(example, run_nestctl_while_attached, .timeout = 60)
{
	struct nestd_proc d;
	char *out = NULL, *err = NULL, cmd[512];
	int st;

	nestd_start(&d, NULL);
	snprintf(cmd, sizeof(cmd), "%s -s %s vm show vm0", NESTCTL_BIN, d.admin);
	{
		char *argv[] = {EXAMPLE_BIN, "--socket", d.sock, "-q", "--run", cmd, NULL};

		st = run_capture(argv, &out, &err);
	}
	cr_expect_eq(st, 0, "%s%s", out, err);
	cr_expect(strstr(out, "State:        attached"), "%s", out);
	cr_expect(strstr(out, "Checker:      yes"), "%s", out);
	free(out);
	free(err);
	nestd_stop(&d);
	NO_LEAKS();
}

Test(example, fails_without_daemon, .timeout = 30)
{
	char *argv[] = {EXAMPLE_BIN, "--socket", "/nonexistent/nestd.sock", "-q", NULL};
	char *out = NULL, *err = NULL;

	cr_expect_eq(run_capture(argv, &out, &err), 1);
	cr_expect(strstr(out, "FAIL"), "%s", out);
	free(out);
	free(err);
	NO_LEAKS();
}
