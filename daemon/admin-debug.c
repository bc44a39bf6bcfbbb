/* SPDX-License-Identifier: MIT */
/*
 * admin-debug.c - debug.stall: block the event loop for N seconds, so that a test can see systemd's
 * watchdog restart a stuck nestd (WatchdogSec= in nestd.service). Guarded three ways: admin socket
 * only, uid 0 only, and only when nestd was started with NESTD_DEBUG=stall in its environment
 * (a unit drop-in, i.e. root's decision); otherwise EPERM. A VMM can never reach it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "conn.h"
#include "log.h"
#include "nest-caps.h"

/* Is @word one of the comma-separated words of $NESTD_DEBUG? */
static bool admin_debug_enabled(const char *word)
{
	const char *env = getenv("NESTD_DEBUG");
	size_t n = strlen(word);

	for (const char *p = env; p && *p; p += strcspn(p, ","), p += *p == ',')
		if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

int admin_debug_stall(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		      size_t errlen)
{
	struct audit_rec ar = conn_audit_rec(c, "-", -1, "debug-stall");
	struct timespec ts = {0};
	uint64_t sec;
	int r;

	if (!admin_debug_enabled("stall") || c->peer.cred.uid != 0) {
		snprintf(err, errlen, "debug commands are off (NESTD_DEBUG=stall, uid 0 only)");
		return -EPERM;
	}
	r = nest_json_get_u64(args, "seconds", 1, 300, 0, 1, &sec);
	if (r < 0) {
		snprintf(err, errlen, "argument 'seconds' (1..300) is required");
		return -EINVAL;
	}
	audit_log(&ar, "blocking the event loop for %llu s", (unsigned long long)sec);
	log_msg(LOG_WARNING, "debug.stall: the event loop stops for %llu s (no watchdog pings)",
		(unsigned long long)sec);
	ts.tv_sec = (time_t)sec;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	admin_add_int(res, "stalled_sec", (int64_t)sec);
	return 0;
}
