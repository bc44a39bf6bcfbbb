/* SPDX-License-Identifier: MIT */
/*
 * fuzz-admin.c - libFuzzer harness for the admin socket's command handlers, in-process: a real
 * nestd (sim backend, fuzz-daemon.c, with a config file it can reload) where vm0 is attached
 * with guest memory and two bound PASIDs, vm1 is attached with nothing else, vm2 is detached.
 * An input is up to 8 JSON requests separated by NUL bytes; each goes out as one ADMIN request
 * on an admin connection (peer: this process's uid, an admin) through the connection's
 * receive path, and is answered by whatever handler it names (status, vm.list, vm.show,
 * vm.evict, pasid.list, device.list, stats, reload, log-level, sim.translate, sim.dma, the
 * mock commands, debug.stall).
 *
 * Invariants (abort on failure; leaks are LSan's):
 *  - every request gets exactly one reply, to its id, on the admin op;
 *  - a success reply is one NUL-terminated JSON object; an error reply has a positive errno
 *    and, when it has a body, a JSON object with an "error" string;
 *  - only EPERM closes the admin connection (debug.stall without NESTD_DEBUG);
 *  - after the input, the daemon still answers status and vm.list with every configured VM,
 *    a VM shown attached has a live connection, and vm0 (unless evicted) still holds its
 *    PASIDs and memory; evicted VMs are attached again for the next input;
 *  - no fds pile up (checked every 64 inputs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conn.h"
#include "fuzz-daemon.h"
#include "log.h"
#include "nest-admin.h"
#include "nest-msg.h"
#include "nestd.h"
#include "vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_REQS_MAX 8

static struct {
	bool ready;
	struct fzd_client adm;
	struct fzd_client vmc[2]; /* vm0, vm1 */
	int memfd;
} fz;

static const char *const fz_vm_names[] = {"vm0", "vm1", "vm2"};

static void fz_attach(unsigned i)
{
	struct nest_vm_attach a = {.size = sizeof(a)};
	struct nest_mem_add m = {
		.size = sizeof(m), .flags = NEST_MEM_F_READ | NEST_MEM_F_WRITE, .len = FZD_MEM};
	static struct fzd_reply rep;
	struct fzd_client *c = &fz.vmc[i];

	snprintf(a.name, sizeof(a.name), "%s", fz_vm_names[i]);
	fzd_client_open(c, NEST_SOCK_VM);
	fzd_call_ok(c, NEST_OP_VM_ATTACH, &a, sizeof(a), NULL, 0, -1, &rep);
	if (i != 0)
		return;
	fzd_call_ok(c, NEST_OP_MEM_ADD, &m, sizeof(m), NULL, 0, fz.memfd, &rep);
	for (uint32_t p = 100; p < 102; p++) {
		struct nest_pasid_alloc pa = {.size = sizeof(pa), .min = p, .max = p};
		struct nest_bind b = {.size = sizeof(b),
				      .format = NEST_BIND_FMT_VTD_FL,
				      .addr_width = 48,
				      .gpgd = FZD_GPGD,
				      .hpasid = p};

		fzd_call_ok(c, NEST_OP_PASID_ALLOC, &pa, sizeof(pa), NULL, 0, -1, &rep);
		fzd_call_ok(c, NEST_OP_BIND, &b, sizeof(b), NULL, 0, -1, &rep);
	}
}

static void fz_setup(void)
{
	char conf[1024];

	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\nLogLevel=err\n"
		 "[Limits]\nAuditRate=1\nAuditBurst=1\nAuditSummarySec=3600\n"
		 "[VM]\nName=vm0\nOwner=%u\nDevice=dsa0 id=1 ats=yes pasid-bits=20\n"
		 "Device=iax0 id=2\nPASIDQuota=16\n"
		 "[VM]\nName=vm1\nOwner=%u\nDevice=dsa1 id=7\nPASIDQuota=4\n"
		 "[VM]\nName=vm2\nOwner=%u\nDevice=dsa2 id=9 ats=yes\n",
		 (unsigned)getuid(), (unsigned)getuid(), (unsigned)getuid());
	fzd_start(conf);
	fz.memfd = fzd_guest_memfd();
	fz.ready = true;
}

/* vm0 and vm1 attached (again, after an eviction) and the admin connection open. */
static void fz_restore(void)
{
	struct nestd *d = fzd_daemon();

	log_set_level(LOG_ERR); /* a log-level request is undone */
	for (unsigned i = 0; i < 2; i++) {
		struct vm *vm = nestd_find_vm(d, fz_vm_names[i]);

		FZ_CHECK(vm != NULL);
		if (fz.vmc[i].conn && !fz.vmc[i].closed && vm->state == VM_ATTACHED &&
		    vm->conn == fz.vmc[i].conn)
			continue;
		if (fz.vmc[i].fd > 0 || fz.vmc[i].conn)
			fzd_client_close(&fz.vmc[i]);
		fz_attach(i);
	}
	if (!fz.adm.conn || fz.adm.closed) {
		if (fz.adm.fd > 0)
			fzd_client_close(&fz.adm);
		fzd_client_open(&fz.adm, NEST_SOCK_ADMIN);
	}
}

/* One reply to an ADMIN request, checked. Returns the parsed result (success) or NULL. */
static struct json_object *fz_check_reply(const struct fzd_reply *rep)
{
	struct json_object *o, *e;
	const char *s = (const char *)rep->body;

	FZ_CHECK(rep->hdr.op == NEST_OP_ADMIN);
	if (rep->hdr.flags & NEST_MSG_F_ERROR) {
		FZ_CHECK(rep->hdr.error > 0 && rep->hdr.error < 4096);
		if (rep->body_len == 0)
			return NULL;
		FZ_CHECK(s[rep->body_len - 1] == '\0' && strlen(s) + 1 == rep->body_len);
		o = json_tokener_parse(s);
		FZ_CHECK(o && json_object_is_type(o, json_type_object));
		FZ_CHECK(json_object_object_get_ex(o, "error", &e) &&
			 json_object_is_type(e, json_type_string));
		json_object_put(o);
		return NULL;
	}
	FZ_CHECK(rep->body_len > 0 && s[rep->body_len - 1] == '\0' &&
		 strlen(s) + 1 == rep->body_len);
	o = json_tokener_parse(s);
	FZ_CHECK(o && json_object_is_type(o, json_type_object));
	return o;
}

static struct json_object *fz_admin(const char *req, size_t len, int *ret_err)
{
	static struct fzd_reply rep;
	struct json_object *o;
	int r = fzd_call(&fz.adm, NEST_OP_ADMIN, NULL, 0, req, len, -1, &rep);

	FZ_CHECK(r == 0); /* answered, whatever it was */
	o = fz_check_reply(&rep);
	*ret_err = rep.hdr.flags & NEST_MSG_F_ERROR ? rep.hdr.error : 0;
	/* only EPERM (and EPROTO, which a well-framed JSON request never is) closes */
	FZ_CHECK(!fz.adm.closed || *ret_err == EPERM);
	return o;
}

/* The daemon is still whole: status answers, vm.list has every VM and agrees with its state. */
static void fz_check_daemon(void)
{
	static const char st[] = "{\"command\":\"status\"}", vl[] = "{\"command\":\"vm.list\"}";
	struct nestd *d = fzd_daemon();
	struct json_object *o, *vms;
	int err;

	if (fz.adm.closed)
		fzd_client_open(&fz.adm, NEST_SOCK_ADMIN);
	o = fz_admin(st, sizeof(st), &err);
	FZ_CHECK(err == 0 && o);
	json_object_put(o);
	o = fz_admin(vl, sizeof(vl), &err);
	FZ_CHECK(err == 0 && o);
	FZ_CHECK(json_object_object_get_ex(o, "vms", &vms) &&
		 json_object_is_type(vms, json_type_array));
	FZ_CHECK(json_object_array_length(vms) == d->cfg->n_vms);
	json_object_put(o);
	for (size_t i = 0; i < d->n_vms; i++) {
		struct vm *vm = d->vms[i];

		if (vm->state == VM_ATTACHED) {
			struct conn *c;
			bool live = false;

			TAILQ_FOREACH(c, &d->conns, link)
			live |= c == vm->conn && c->vm == vm;
			FZ_CHECK(live);
			FZ_CHECK(vm->ctx != NULL);
		}
		if (vm->state == VM_DETACHED)
			FZ_CHECK(vm->n_pasids == 0 && vm->n_regions == 0 && vm->conn == NULL);
		FZ_CHECK(vm->n_pasids <= vm->cfg.pasid_quota);
	}
	struct vm *vm0 = nestd_find_vm(d, "vm0");

	if (vm0->state == VM_ATTACHED && vm0->conn == fz.vmc[0].conn)
		FZ_CHECK(vm0->n_pasids == 2 && vm0->n_bound == 2 && vm0->n_regions == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char req[NEST_JSON_LEN_MAX + 1];
	unsigned n = 0;

	if (!fz.ready)
		fz_setup();
	fz_restore();
	while (size > 0 && n < FZ_REQS_MAX) {
		const uint8_t *end = memchr(data, '\0', size);
		size_t len = end ? (size_t)(end - data) : size;
		struct json_object *o;
		int err;

		if (len > NEST_JSON_LEN_MAX)
			len = NEST_JSON_LEN_MAX;
		memcpy(req, data, len);
		req[len] = '\0';
		if (fz.adm.closed)
			fzd_client_open(&fz.adm, NEST_SOCK_ADMIN);
		o = fz_admin(req, len + 1, &err);
		json_object_put(o);
		n++;
		data += end ? len + 1 : len;
		size -= end ? len + 1 : len;
	}
	fzd_pump(); /* what evictions and closes left for the loop */
	fz_check_daemon();
	fzd_check_fds();
	return 0;
}
