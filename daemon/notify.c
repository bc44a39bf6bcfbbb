/* SPDX-License-Identifier: MIT */
/*
 * notify.c - the systemd notification protocol (sd_notify(3)); every call is a no-op when
 * $NOTIFY_SOCKET is unset. The watchdog is kicked from a timer of the event loop at half the
 * interval, so a wedged loop stops kicking it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "nestd.h"

void notify_ready(struct nestd *d)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", d->status[0] ? d->status : "running");
}

void notify_status(struct nestd *d, const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

void notify_reloading(void)
{
	/* MONOTONIC_USEC: ignored by systemd 252, required by Type=notify-reload (>= 253) */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, nestd_now_usec());
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

static void notify_on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

int notify_watchdog_setup(struct nestd *d)
{
	uint64_t usec = 0;
	struct timeval tv;

	/* > 0 only if WATCHDOG_USEC is set and WATCHDOG_PID is unset or ours */
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	d->watchdog_usec = usec;
	d->ev_watchdog = event_new(d->base, -1, EV_PERSIST, notify_on_watchdog, d);
	if (!d->ev_watchdog)
		return -ENOMEM;
	tv.tv_sec = (time_t)(usec / 2 / 1000000u);
	tv.tv_usec = (suseconds_t)(usec / 2 % 1000000u);
	event_add(d->ev_watchdog, &tv);
	sd_notify(0, "WATCHDOG=1");
	log_msg(LOG_INFO, "watchdog: kicking every %" PRIu64 " ms", usec / 2000);
	return 0;
}
