/* SPDX-License-Identifier: MIT */
/*
 * nspawn-client.c - the client side of the systemd-as-PID-1 test (check-nspawn.sh), run inside
 * the container against the installed nestd:
 *   nspawn-client admin JSON         one admin request on /run/nestd/admin.sock; prints the result
 *                                    (exit 0) or "error -ERRNO: detail" (exit 1)
 *   nspawn-client restart VM READY   attach VM, create the file READY, wait for nestd to go away
 *                                    (EV_SHUTDOWN reason 0, then the connection closes), connect
 *                                    again (retrying up to 20 s) and re-attach; prints each step
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nest/libnest.h>

static int shutdown_reason = -1;

static void on_event(nest_client *c, const struct nest_event *ev, void *opaque)
{
	if (ev->type == NEST_EV_SHUTDOWN)
		shutdown_reason = (int)ev->u.shutdown.reason;
}

static int cmd_admin(const char *json)
{
	nest_client *c = NULL;
	char *reply = NULL;
	int r = nest_admin_connect(NULL, 0, &c);

	if (r == 0)
		r = nest_admin_call(c, json, &reply);
	if (r < 0) {
		printf("error %d: %s\n", r, c ? nest_client_last_error(c) : strerror(-r));
		nest_client_free(c);
		return 1;
	}
	printf("%s\n", reply);
	free(reply);
	nest_client_free(c);
	return 0;
}

static int cmd_restart(const char *vm, const char *ready)
{
	struct nest_vm_info vi;
	nest_client *c = NULL;
	int r, fd;

	if ((r = nest_client_connect(NULL, 0, &c)) < 0 || (r = nest_vm_attach(c, vm, 0, &vi)) < 0) {
		printf("FAIL first attach of %s: %d %s\n", vm, r,
		       c ? nest_client_last_error(c) : "");
		return 1;
	}
	nest_client_set_event_cb(c, on_event, NULL);
	printf("attached %s\n", vm);
	fflush(stdout);
	fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	/* until nestd goes away: 60 s at most */
	for (int i = 0; i < 600 && r >= 0; i++)
		r = nest_client_wait(c, 100);
	printf("disconnected: %d (%s), shutdown event reason %d\n", r, strerror(-r),
	       shutdown_reason);
	nest_client_free(c);
	c = NULL;
	if (r != -ECONNRESET || shutdown_reason != 0) {
		printf("FAIL not a clean disconnect\n");
		return 1;
	}
	for (int i = 0; i < 200; i++) {
		struct timespec nap = {.tv_nsec = 100 * 1000 * 1000};

		r = nest_client_connect(NULL, 0, &c);
		if (r == 0)
			break;
		nanosleep(&nap, NULL);
	}
	if (r < 0 || (r = nest_vm_attach(c, vm, 0, &vi)) < 0) {
		printf("FAIL re-attach of %s: %d %s\n", vm, r, c ? nest_client_last_error(c) : "");
		nest_client_free(c);
		return 1;
	}
	printf("re-attached %s\n", vm);
	r = nest_vm_detach(c, 0);
	nest_client_free(c);
	return r < 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "admin"))
		return cmd_admin(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "restart"))
		return cmd_restart(argv[2], argv[3]);
	fprintf(stderr, "usage: nspawn-client admin JSON | restart VM READY-FILE\n");
	return 2;
}
