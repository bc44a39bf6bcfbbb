/* SPDX-License-Identifier: MIT */
/*
 * admin.c - the admin command table and the daemon-wide commands (status, stats, evict,
 * reload, log-level).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "nest-admin.h"
#include "nest-caps.h"
#include "vm.h"

void admin_add_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void admin_add_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, json_object_new_string(s));
}

void admin_add_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

void admin_add_hex(struct json_object *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	admin_add_str(o, key, buf);
}

void admin_add_null(struct json_object *o, const char *key)
{
	json_object_object_add(o, key, NULL);
}

int admin_arg_vm(struct nestd *d, struct json_object *args, const char *key, struct vm **ret,
		 char *err, size_t errlen)
{
	const char *name = NULL;
	struct vm *vm;
	int r = nest_json_get_str(args, key, NEST_VM_NAME_MAX, NULL, 1, &name);

	if (r < 0) {
		snprintf(err, errlen, "argument '%s': a VM name is required", key);
		return r;
	}
	vm = nestd_find_vm(d, name);
	if (!vm) {
		char esc[96];

		snprintf(err, errlen, "no such VM: %s",
			 log_escape(name, strlen(name), esc, sizeof(esc)));
		return -ENOENT;
	}
	*ret = vm;
	return 0;
}

static int admin_status(struct conn *c, struct json_object *args, struct json_object *res,
			char *err, size_t errlen)
{
	struct nestd *d = c->d;
	unsigned attached = 0, held = 0;

	for (size_t i = 0; i < d->n_vms; i++) {
		attached += d->vms[i]->state == VM_ATTACHED;
		held += d->vms[i]->state == VM_HELD;
	}
	admin_add_str(res, "version", NESTD_VERSION);
	admin_add_str(res, "backend", d->be_info.name);
	admin_add_int(res, "pid", getpid());
	admin_add_int(res, "uptime_sec", (int64_t)((nestd_now_usec() - d->start_usec) / 1000000u));
	admin_add_int(res, "vms_configured", (int64_t)d->cfg->n_vms);
	admin_add_int(res, "vms_attached", attached);
	admin_add_int(res, "vms_held", held);
	admin_add_int(res, "connections", d->n_vm_conns);
	admin_add_int(res, "admin_connections", d->n_admin_conns);
	admin_add_int(res, "max_connections", d->conn_cap);
	admin_add_int(res, "admin_reserve", d->admin_reserve);
	admin_add_int(res, "fd_limit", (int64_t)d->nofile);
	admin_add_str(res, "log_level", log_level_name(log_get_level()));
	return 0;
}

static int admin_stats(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		       size_t errlen)
{
	const struct nestd_stats *s = &c->d->stats;
	struct json_object *dm = json_object_new_object();
	struct json_object *be = NULL;

	admin_add_int(dm, "connections_total", (int64_t)s->connections_total);
	admin_add_int(dm, "connections_rejected", (int64_t)s->connections_rejected);
	admin_add_int(dm, "requests", (int64_t)s->requests);
	admin_add_int(dm, "errors", (int64_t)s->errors);
	admin_add_int(dm, "events", (int64_t)s->events);
	admin_add_int(dm, "protocol_errors", (int64_t)s->protocol_errors);
	admin_add_int(dm, "slow_disconnects", (int64_t)s->slow_disconnects);
	admin_add_int(dm, "fd_shortages", (int64_t)s->fd_shortages);
	admin_add_int(dm, "audit_folded", (int64_t)audit_rate_folded());
	admin_add_int(dm, "page_requests", (int64_t)s->page_requests);
	admin_add_int(dm, "page_responses", (int64_t)s->page_responses);
	admin_add_int(dm, "page_refusals", (int64_t)s->page_refusals);
	admin_add_int(dm, "vevents", (int64_t)s->vevents);
	admin_add_int(dm, "vevents_dropped", (int64_t)s->vevents_dropped);
	json_object_object_add(res, "daemon", dm);
	if (!c->d->be_ops->counters || c->d->be_ops->counters(c->d->be, &be) < 0)
		be = json_object_new_object();
	json_object_object_add(res, "backend", be);
	return 0;
}

static int admin_vm_evict(struct conn *c, struct json_object *args, struct json_object *res,
			  char *err, size_t errlen)
{
	struct nest_ev_shutdown ev = {.size = sizeof(ev), .reason = 1};
	struct audit_rec ar = conn_audit_rec(c, NULL, -1, "evict");
	const char *was;
	struct vm *vm;
	int r = admin_arg_vm(c->d, args, "name", &vm, err, errlen);

	if (r < 0)
		return r;
	ar.vm = vm->cfg.name;
	was = vm_state_name(vm->state);
	if (vm->conn) {
		struct conn *vc = vm->conn;

		vm_teardown(vm, "evicted by the operator"); /* grace period ignored */
		conn_send_event(vc, NEST_EV_SHUTDOWN, &ev, sizeof(ev));
		conn_close(vc, "VM evicted by the operator");
	} else {
		vm_teardown(vm, "evicted by the operator");
	}
	audit_log(&ar, "evicted (was %s)", was);
	admin_add_str(res, "evicted", vm->cfg.name);
	nestd_update_status(c->d);
	return 0;
}

static int admin_reload(struct conn *c, struct json_object *args, struct json_object *res,
			char *err, size_t errlen)
{
	int r = nestd_reload(c->d, &c->peer.cred, err, errlen);

	if (r < 0)
		return -EINVAL;
	admin_add_bool(res, "reloaded", true);
	admin_add_int(res, "vms_configured", (int64_t)c->d->cfg->n_vms);
	return 0;
}

static int admin_log_level(struct conn *c, struct json_object *args, struct json_object *res,
			   char *err, size_t errlen)
{
	struct audit_rec ar = conn_audit_rec(c, "-", -1, "log-level");
	const char *lv = NULL;
	int r = nest_json_get_str(args, "level", 16, NULL, 0, &lv);

	if (r == 0 && lv) {
		r = log_level_parse(lv);
		if (r < 0 || r < LOG_ERR) {
			snprintf(err, errlen, "unknown level (debug, info, notice, warning, err)");
			return -EINVAL;
		}
		log_set_level(r);
		audit_log(&ar, "level %s", log_level_name(r)); /* a change of what gets logged */
		r = 0;
	}
	if (r < 0) {
		snprintf(err, errlen, "argument 'level': a string is required");
		return r;
	}
	admin_add_str(res, "level", log_level_name(log_get_level()));
	return 0;
}

static const struct {
	const char *name;
	admin_fn fn;
} admin_cmds[] = {
	{NEST_ADMIN_CMD_STATUS, admin_status},
	{NEST_ADMIN_CMD_VM_LIST, admin_vm_list},
	{NEST_ADMIN_CMD_VM_SHOW, admin_vm_show},
	{NEST_ADMIN_CMD_VM_EVICT, admin_vm_evict},
	{NEST_ADMIN_CMD_PASID_LIST, admin_pasid_list},
	{NEST_ADMIN_CMD_DEVICE_LIST, admin_device_list},
	{NEST_ADMIN_CMD_STATS, admin_stats},
	{NEST_ADMIN_CMD_RELOAD, admin_reload},
	{NEST_ADMIN_CMD_LOG_LEVEL, admin_log_level},
	{NEST_ADMIN_CMD_SIM_TRANSLATE, admin_sim_translate},
	{NEST_ADMIN_CMD_SIM_DMA, admin_sim_dma},
	{NEST_ADMIN_CMD_MOCK_IOTLB, admin_mock_check_iotlb},
	{NEST_ADMIN_CMD_MOCK_IOPF, admin_mock_trigger_iopf},
	{NEST_ADMIN_CMD_MOCK_VEVENT, admin_mock_trigger_vevent},
	{NEST_ADMIN_CMD_MOCK_DEV_CACHE, admin_mock_check_dev_cache},
	{NEST_ADMIN_CMD_DEBUG_STALL, admin_debug_stall},
};

static int admin_run(struct conn *c, struct json_object *req, struct json_object *res, char *err,
		     size_t errlen)
{
	struct json_object *args = NULL, *own_args = NULL;
	const char *cmd = NULL;
	char esc[64];
	int r = nest_json_get_str(req, "command", 64, NULL, 1, &cmd);

	if (r < 0) {
		snprintf(err, errlen, "'command' (a string) is required");
		return -EINVAL;
	}
	if (json_object_object_get_ex(req, "args", &args) && args) {
		if (!json_object_is_type(args, json_type_object)) {
			snprintf(err, errlen, "'args' must be an object");
			return -EINVAL;
		}
	} else {
		args = own_args = json_object_new_object();
	}
	r = -ENOTTY;
	for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++)
		if (strcmp(cmd, admin_cmds[i].name) == 0) {
			r = admin_cmds[i].fn(c, args, res, err, errlen);
			break;
		}
	if (r == -ENOTTY && !err[0])
		snprintf(err, errlen, "unknown command: %s",
			 log_escape(cmd, strlen(cmd), esc, sizeof(esc)));
	json_object_put(own_args);
	return r;
}

int op_admin(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	struct json_object *req = NULL, *res;
	int r = nest_json_parse((const char *)rq->tail.ptr, rq->tail.len, NEST_JSON_LEN_MAX, &req);

	if (r < 0) {
		snprintf(rp->err, sizeof(rp->err), "malformed JSON request");
		return r;
	}
	res = json_object_new_object();
	r = admin_run(c, req, res, rp->err, sizeof(rp->err));
	if (r == 0) {
		rp->json = strdup(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
		if (!rp->json)
			r = -ENOMEM;
	}
	json_object_put(res);
	json_object_put(req);
	return r;
}
