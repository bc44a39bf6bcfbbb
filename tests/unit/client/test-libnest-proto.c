/* SPDX-License-Identifier: MIT */
/*
 * test-libnest-proto.c - libnest against a scripted fake nestd (a forked child speaking the
 * wire protocol through nestproto): replies out of order are matched by id, events between
 * replies reach the event callback, a reply to an unknown id kills the connection with EPROTO
 * and completes the pending request; protocol 1.1 (a fake nestd with native nesting, which the
 * sim cannot offer): HELLO says minor 1, vm_info of 72 and 88 bytes, the LIBNEST_0.1
 * nest_vm_attach, BIND_NATIVE and INVALIDATE_NATIVE on the wire (layout, batch splitting,
 * folding of done / first_error); page requests (HELLO announces "page-requests", the event's
 * fields in the callback, nest_page_response() byte for byte, libnest answering a group invalid
 * itself when there is no event callback); vIOMMU objects (HELLO announces "viommu", the six
 * calls on the wire with their replies and errors, VIOMMU_INVALIDATE batch splitting and
 * folding, EV_VEVENT as struct nest_vevent with its record readable in the callback, a LOST
 * marker without data, malformed vEVENTs ignored); the fds of a burst after a fatal reply. The fake
 * nestd's scripts are in fake-nestd.c.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client-test.h"
#include "fake-nestd.h"
#include "nest-caps.h"
#include "nest-fds.h"
#include "nest-msg.h"

struct state {
	unsigned done, events;
	unsigned order[NREQ + 1];
	uint32_t got_dev[NREQ + 1];
	int err[NREQ + 1];
	uint32_t ev_dev;
};

struct req {
	struct state *s;
	unsigned i;
};

static void reply_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	struct req *q = opaque;

	q->s->err[q->i] = r->error;
	q->s->got_dev[q->i] = r->error ? 0 : ((const struct nest_device_info *)r->fixed)->dev_id;
	q->s->order[q->s->done++] = q->i;
}

static void ev_cb(nest_client *c, const struct nest_event *ev, void *opaque)
{
	struct state *s = opaque;

	if (ev->type == NEST_EV_DEVICE_GONE) {
		s->events++;
		s->ev_dev = ev->u.device_gone.dev_id;
	}
}

Test(libnest_proto, out_of_order_replies_events_and_bogus_id)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	struct state s = {0};
	struct req q[NREQ + 1];
	struct nest_limits l;
	nest_client *c = NULL;
	int before = nest_test_count_fds(), st, r = 0;
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_REORDER);

	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	nest_client_set_event_cb(c, ev_cb, &s);
	cr_assert_eq(nest_client_get_limits(c, &l), 0);
	cr_expect_eq(l.max_inflight, NREQ, "the smaller limit wins");
	cr_expect_str_eq(l.software, "fake 1");
	for (unsigned i = 0; i <= NREQ; i++) {
		struct nest_device_get g = {.size = sizeof(g), .dev_id = 100 + i};

		q[i] = (struct req){&s, i};
		if (i == NREQ) /* the 9th waits for a free slot: all 8 replies arrive first */
			cr_expect_eq(nest_client_inflight(c), NREQ);
		cr_assert_eq(nest_client_send_async(c, NEST_OP_DEVICE_GET, &g, sizeof(g), NULL, 0,
						    reply_cb, &q[i], NULL),
			     0);
	}
	for (int i = 0; i < 100 && r >= 0; i++)
		r = nest_client_wait(c, 100);
	cr_expect_eq(r, -EPROTO);
	cr_assert_eq(s.done, NREQ + 1);
	for (unsigned i = 0; i < NREQ; i++) {
		cr_expect_eq(s.order[i], NREQ - 1 - i, "completion %u", i);
		cr_expect_eq(s.got_dev[i], 100 + i, "request %u got another's reply", i);
		cr_expect_eq(s.err[i], 0);
	}
	cr_expect_eq(s.err[NREQ], -EPROTO, "pending request completed when the connection died");
	cr_expect_eq(s.events, 1);
	cr_expect_eq(s.ev_dev, 5);
	cr_expect_eq(nest_client_process(c), -EPROTO);
	nest_client_free(c);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fake server status %d", st);
	unlink(path);
	rmdir(dir);
	cr_expect_eq(nest_test_count_fds(), before);
	NO_LEAKS();
}

Test(libnest_proto, daemon_dies_during_a_blocking_call, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	struct state s = {0};
	nest_client *c = NULL;
	uint32_t pasid = 0;
	int before = nest_test_count_fds();
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_DIE_IN_CALL);

	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	nest_client_set_event_cb(c, ev_cb, &s);
	/* returns (no hang, no SIGPIPE) with the connection error; the event still arrived */
	cr_expect_eq(nest_pasid_alloc(c, 1, 10, NEST_GPASID_NONE, &pasid), -ECONNRESET);
	cr_expect_eq(pasid, 0, "ret_ out-param untouched on failure");
	cr_expect_eq(s.events, 1);
	cr_expect_eq(s.ev_dev, 7);
	cr_expect_eq(nest_client_inflight(c), 0);
	cr_expect_neq(strlen(nest_client_last_error(c)), 0);
	/* the handle stays dead: later calls fail at once, sending included */
	cr_expect_eq(nest_unbind(c, 1), -ECONNRESET);
	{
		struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB,
					   .granularity = NEST_INV_GRANU_DOMAIN};
		size_t done = 12345;
		int first = 12345;

		cr_expect_eq(nest_invalidate(c, &e, 1, &done, &first), -ECONNRESET);
		cr_expect_eq(done, 0, "ret_done is always written");
		cr_expect_eq(first, 0, "ret_first_error is always written");
	}
	cr_expect_eq(nest_client_process(c), -ECONNRESET);
	nest_client_free(c);
	fake_finish(pid, dir, path, before);
	NO_LEAKS();
}

Test(libnest_proto, reply_with_wrong_op_is_eproto, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	nest_client *c = NULL;
	int before = nest_test_count_fds();
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_WRONG_OP);

	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	/* the id matches the DEVICE_GET in flight, the op (PASID_ALLOC) does not */
	cr_expect_eq(nest_device_get(c, 1, NULL, NULL), -EPROTO);
	cr_expect_eq(nest_vm_detach(c, 0), -EPROTO);
	nest_client_free(c);
	fake_finish(pid, dir, path, before);
	NO_LEAKS();
}

/* Replies nestd could frame correctly but whose contents cannot be true are EPROTO, not used. */
Test(libnest_proto, replies_that_lie_are_eproto, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	struct nest_vm_iova_info iova;
	struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_DOMAIN};
	nest_client *c = NULL;
	size_t done = 0;
	int first = 0, before = nest_test_count_fds();
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_BAD_REPLIES);

	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	cr_expect_eq(nest_vm_iova_info(c, &iova), -EPROTO, "a range with last < start");
	cr_expect_eq(nest_invalidate(c, &e, 1, &done, &first), -EPROTO, "3 done of 1 sent");
	cr_expect_leq(done, 1, "ret_done never says more than was sent");
	/* the blocking call's receive has no room for fds: the kernel closes them, the reply fails */
	cr_expect_eq(nest_invalidate(c, &e, 1, &done, &first), -EPROTO, "a reply with an fd");
	cr_expect_eq(nest_invalidate(c, &e, 1, &done, &first), 0, "the handle lives on");
	cr_expect_eq(done, 1);
	nest_client_free(c);
	fake_finish(pid, dir, path, before);
	NO_LEAKS();
}

Test(libnest_proto, daemon_closes_before_hello, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	nest_client *c = NULL;
	int before = nest_test_count_fds();
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_CLOSE_AT_ONCE);

	cr_expect_eq(nest_client_connect(path, 0, &c), -ECONNRESET);
	cr_expect_null(c, "no handle on failure");
	fake_finish(pid, dir, path, before);
	NO_LEAKS();
}

/* The LIBNEST_0.1 nest_vm_attach, as a program built against the 1.0 header calls it. */
typedef int (*vm_attach_0_1_fn)(nest_client *c, const char *name, uint32_t flags, void *ret);

Test(libnest_proto, protocol_1_1_native, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	uint8_t data[8] = {1}, entries[NATIVE_N * NATIVE_ELEN], old[NEST_VM_INFO_SIZE_1_0 + 16];
	struct nest_vm_info vi;
	struct nest_limits l;
	nest_client *c = NULL;
	vm_attach_0_1_fn attach_0_1;
	size_t done = 777;
	int first = 777;
	int before = nest_test_count_fds();
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_NATIVE);

	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	cr_assert_eq(nest_client_get_limits(c, &l), 0);
	cr_expect_eq(l.proto_minor, 1);
	cr_expect_eq(l.max_batch, NATIVE_BATCH);
	/* a 1.0 nestd's 72 bytes: zero-extended, the native fields read 0 */
	memset(&vi, 0xa5, sizeof(vi));
	cr_assert_eq(nest_vm_attach(c, "vm0", 0, &vi), 0);
	cr_expect_eq(vi.size, sizeof(vi), "size is this build's");
	cr_expect_eq(vi.features, native_info.features);
	cr_expect_eq(vi.mem_limit, native_info.mem_limit);
	cr_expect_eq(vi.hw_info_type, 0);
	cr_expect_eq(vi.hwpt_data_type, 0);
	cr_expect_eq(vi.inv_data_type, 0);
	cr_expect_eq(vi.inv_entry_len, 0);
	/* 1.1: all 88 bytes */
	memset(&vi, 0xa5, sizeof(vi));
	cr_assert_eq(nest_vm_attach(c, "vm0", 0, &vi), 0);
	cr_expect(!memcmp(&vi, &native_info, sizeof(vi)), "88-byte vm_info");
	/* LIBNEST_0.1: writes the 72 bytes of the 1.0 struct and not one more */
	attach_0_1 = (vm_attach_0_1_fn)dlvsym(RTLD_DEFAULT, "nest_vm_attach", "LIBNEST_0.1");
	cr_assert_not_null(attach_0_1, "nest_vm_attach@LIBNEST_0.1: %s", dlerror());
	cr_expect_neq((void *)attach_0_1, (void *)nest_vm_attach, "the default is LIBNEST_0.2");
	memset(old, 0xa5, sizeof(old));
	cr_assert_eq(attach_0_1(c, "vm0", 0, old), 0);
	cr_expect(!memcmp(old + 4, (const uint8_t *)&native_info + 4, NEST_VM_INFO_SIZE_1_0 - 4));
	for (size_t i = NEST_VM_INFO_SIZE_1_0; i < sizeof(old); i++)
		cr_expect_eq(old[i], 0xa5, "LIBNEST_0.1 nest_vm_attach wrote byte %zu", i);
	/* a reply longer than we know with a non-zero byte: E2BIG (why nestd gates by minor) */
	cr_expect_eq(nest_vm_attach(c, "vm0", 0, &vi), -E2BIG);
	/* BIND_NATIVE: local checks first (nothing sent), then the request */
	cr_expect_eq(nest_bind_native(c, NATIVE_PASID, NATIVE_HWPT, data, 0), -EINVAL);
	cr_expect_eq(nest_bind_native(c, NATIVE_PASID, NATIVE_HWPT, NULL, 8), -EINVAL);
	cr_expect_eq(nest_bind_native(c, NATIVE_PASID, NATIVE_HWPT, data, NEST_NATIVE_DATA_MAX + 1),
		     -E2BIG);
	cr_expect_eq(nest_bind_native(c, NATIVE_PASID, NATIVE_HWPT, data, sizeof(data)), 0, "%s",
		     nest_client_last_error(c));
	/* INVALIDATE_NATIVE: local entry_len checks, then 10 entries in chunks of 4 */
	for (uint32_t i = 0; i < NATIVE_N; i++)
		native_entry(i, entries + i * NATIVE_ELEN);
	cr_expect_eq(
		nest_invalidate_native(c, NATIVE_PASID, NATIVE_INV, entries, 3, 1, &done, &first),
		-EINVAL);
	cr_expect_eq(done, 0);
	cr_expect_eq(nest_invalidate_native(c, NATIVE_PASID, NATIVE_INV, entries,
					    NEST_NATIVE_ENTRY_MAX + 1, 1, NULL, NULL),
		     -E2BIG);
	cr_expect_eq(nest_invalidate_native(c, NATIVE_PASID, NATIVE_INV, NULL, NATIVE_ELEN, 1, NULL,
					    NULL),
		     -EINVAL);
	cr_expect_eq(nest_invalidate_native(c, NATIVE_PASID, NATIVE_INV, entries, NATIVE_ELEN, 0,
					    &done, &first),
		     0, "nothing to do, nothing sent");
	cr_expect_eq(nest_invalidate_native(c, NATIVE_PASID, NATIVE_INV, entries, NATIVE_ELEN,
					    NATIVE_N, &done, &first),
		     -EIO);
	cr_expect_eq(done, NATIVE_BAD_AT, "chunk results folded in order");
	cr_expect_eq(first, -EIO);
	cr_expect_neq(strstr(nest_client_last_error(c), "INVALIDATE_NATIVE"), NULL, "%s",
		      nest_client_last_error(c));
	nest_client_free(c);
	fake_finish(pid, dir, path, before);
	NO_LEAKS();
}

struct prq_state {
	unsigned events;
	struct nest_ev_page_request last;
	int answer; /* what nest_page_response() returned inside the callback */
};

static void prq_cb(nest_client *c, const struct nest_event *ev, void *opaque)
{
	struct prq_state *s = opaque;

	if (ev->type != NEST_EV_PAGE_REQUEST)
		return;
	s->events++;
	s->last = ev->u.page_request;
	/* a blocking call from inside the callback */
	s->answer = nest_page_response(c, ev->u.page_request.cookie, NEST_PAGE_RESP_SUCCESS);
}

Test(libnest_proto, page_requests, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	struct prq_state s = {.answer = 777};
	nest_client *c = NULL;
	uint32_t pasid = 0;
	int before = nest_test_count_fds();
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_PRQ);

	cr_expect_eq(sizeof(struct nest_event), 56, "struct nest_event keeps its LIBNEST_0.1 size");
	cr_expect_eq(offsetof(struct nest_event, u), 8);
	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	nest_client_set_event_cb(c, prq_cb, &s);
	cr_expect_eq(nest_pasid_alloc(c, 1, 10, NEST_GPASID_NONE, &pasid), 0);
	cr_assert_eq(s.events, 1);
	cr_expect_eq(s.last.size, sizeof(s.last));
	cr_expect_eq(s.last.flags, NEST_PRQ_F_PASID_VALID | NEST_PRQ_F_LAST_PAGE);
	cr_expect_eq(s.last.dev_id, 2);
	cr_expect_eq(s.last.pasid, 5);
	cr_expect_eq(s.last.grpid, 3);
	cr_expect_eq(s.last.perm, NEST_PRQ_PERM_READ | NEST_PRQ_PERM_WRITE);
	cr_expect_eq(s.last.addr, PRQ_ADDR);
	cr_expect_eq(s.last.length, 4096);
	cr_expect_eq(s.last.cookie, PRQ_COOKIE);
	cr_expect_eq(s.answer, 0, "answered from the callback: %s", nest_client_last_error(c));
	cr_expect_eq(nest_page_response(NULL, 1, 0), -EINVAL);
	cr_expect_eq(nest_page_response(c, 99, NEST_PAGE_RESP_INVALID), -ENOENT);
	cr_expect_neq(strstr(nest_client_last_error(c), "PAGE_RESPONSE"), NULL, "%s",
		      nest_client_last_error(c));
	/* no callback: libnest answers the group (its last request) invalid by itself */
	nest_client_set_event_cb(c, NULL, NULL);
	cr_expect_eq(nest_pasid_alloc(c, 1, 10, NEST_GPASID_NONE, &pasid), 0);
	cr_expect_eq(pasid, 1);
	cr_expect_eq(nest_vm_detach(c, 0), 0, "%s", nest_client_last_error(c));
	cr_expect_eq(s.events, 1);
	nest_client_free(c);
	fake_finish(pid, dir, path, before);
	NO_LEAKS();
}

#define VI_EVENTS_MAX 8

struct vevent_state {
	unsigned events;
	struct nest_vevent ev[VI_EVENTS_MAX];
	uint8_t data[VI_EVENTS_MAX][NEST_VEVENT_DATA_MAX]; /* copied during the callback */
};

static void vevent_cb(nest_client *c, const struct nest_event *ev, void *opaque)
{
	struct vevent_state *s = opaque;

	if (ev->type != NEST_EV_VEVENT || s->events >= VI_EVENTS_MAX)
		return;
	s->ev[s->events] = ev->u.vevent;
	if (ev->u.vevent.data && ev->u.vevent.data_len <= NEST_VEVENT_DATA_MAX)
		memcpy(s->data[s->events], ev->u.vevent.data, ev->u.vevent.data_len);
	s->events++;
}

Test(libnest_proto, viommu_objects, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	uint8_t data[8] = {1}, entries[VI_N * VI_ELEN];
	struct vevent_state s = {0};
	nest_client *c = NULL;
	uint32_t id = 777;
	size_t done = 777;
	int first = 777;
	int before = nest_test_count_fds();
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_VIOMMU);

	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	nest_client_set_event_cb(c, vevent_cb, &s);
	/* VIOMMU_ALLOC; the vEVENTs sent before its reply reach the callback */
	cr_expect_eq(nest_viommu_alloc(c, VI_DEV, VI_TYPE, &id), 0, "%s",
		     nest_client_last_error(c));
	cr_expect_eq(id, VI_ID);
	cr_assert_eq(s.events, 3,
		     "two well-formed vEVENTs and a LOST marker; the malformed ignored");
	cr_expect_eq(s.ev[0].flags, 0);
	cr_expect_eq(s.ev[0].viommu_id, VI_ID);
	cr_expect_eq(s.ev[0].sequence, VI_SEQ);
	cr_expect_eq(s.ev[0].data_len, 16);
	cr_expect_not_null(s.ev[0].data);
	for (unsigned i = 0; i < 16; i++)
		cr_expect_eq(s.data[0][i], 0x10 + i, "record byte %u", i);
	cr_expect_eq(s.ev[1].flags, NEST_VEVENT_F_LOST);
	cr_expect_eq(s.ev[1].viommu_id, VI_ID);
	cr_expect_eq(s.ev[1].sequence, VI_SEQ + 1);
	cr_expect_eq(s.ev[1].data_len, 0);
	cr_expect_null(s.ev[1].data, "no record, no pointer");
	cr_expect_eq(s.ev[2].sequence, VI_SEQ + 2, "the malformed ones (90 .. 92) were skipped");
	cr_expect_eq(s.ev[2].data_len, 4);
	cr_expect_not_null(s.ev[2].data);
	cr_expect(!memcmp(s.data[2], "\x10\x11\x12\x13", 4));
	id = 777;
	cr_expect_eq(nest_viommu_alloc(c, VI_DEV, 99, &id), -EOPNOTSUPP);
	cr_expect_eq(id, 777, "ret_id untouched on failure");
	cr_expect_neq(strstr(nest_client_last_error(c), "VIOMMU_ALLOC"), NULL, "%s",
		      nest_client_last_error(c));
	/* VDEVICE_ALLOC */
	cr_expect_eq(nest_vdevice_alloc(c, VI_ID, VI_DEV, VI_VIRT), 0, "%s",
		     nest_client_last_error(c));
	cr_expect_eq(nest_vdevice_alloc(c, VI_ID, VI_DEV, VI_VIRT), -EEXIST);
	/* VIOMMU_ATTACH: local checks first (nothing sent), then the request */
	cr_expect_eq(nest_viommu_attach(c, VI_ID, VI_DEV, NATIVE_HWPT, data, 0), -EINVAL);
	cr_expect_eq(nest_viommu_attach(c, VI_ID, VI_DEV, NATIVE_HWPT, NULL, 8), -EINVAL);
	cr_expect_eq(
		nest_viommu_attach(c, VI_ID, VI_DEV, NATIVE_HWPT, data, NEST_NATIVE_DATA_MAX + 1),
		-E2BIG);
	cr_expect_eq(nest_viommu_attach(c, VI_ID, VI_DEV, NATIVE_HWPT, data, sizeof(data)), 0, "%s",
		     nest_client_last_error(c));
	cr_expect_eq(nest_viommu_attach(c, VI_ID, VI_DEV, NATIVE_HWPT, data, sizeof(data)), -EBUSY);
	cr_expect_neq(strstr(nest_client_last_error(c), "VIOMMU_ATTACH"), NULL, "%s",
		      nest_client_last_error(c));
	/* VIOMMU_INVALIDATE: local entry_len checks, then 10 entries in chunks of 4 */
	for (uint32_t i = 0; i < VI_N; i++)
		viommu_entry(i, entries + i * VI_ELEN);
	cr_expect_eq(nest_viommu_invalidate(c, VI_ID, VI_INV, entries, 3, 1, &done, &first),
		     -EINVAL);
	cr_expect_eq(done, 0);
	cr_expect_eq(first, 0);
	cr_expect_eq(nest_viommu_invalidate(c, VI_ID, VI_INV, entries, NEST_NATIVE_ENTRY_MAX + 1, 1,
					    NULL, NULL),
		     -E2BIG);
	cr_expect_eq(nest_viommu_invalidate(c, VI_ID, VI_INV, NULL, VI_ELEN, 1, NULL, NULL),
		     -EINVAL);
	cr_expect_eq(nest_viommu_invalidate(c, VI_ID, VI_INV, entries, VI_ELEN, 0, &done, &first),
		     0, "nothing to do, nothing sent");
	cr_expect_eq(
		nest_viommu_invalidate(c, VI_ID, VI_INV, entries, VI_ELEN, VI_N, &done, &first),
		-ENOENT);
	cr_expect_eq(done, VI_BAD_AT, "chunk results folded in order");
	cr_expect_eq(first, -ENOENT);
	cr_expect_neq(strstr(nest_client_last_error(c), "VIOMMU_INVALIDATE"), NULL, "%s",
		      nest_client_last_error(c));
	/* a request-level error in the second chunk: the first chunk's entries count */
	done = 777;
	first = 777;
	cr_expect_eq(
		nest_viommu_invalidate(c, VI_ID, VI_INV, entries, VI_ELEN, VI_N2, &done, &first),
		-ENOENT);
	cr_expect_eq(done, NATIVE_BATCH, "done 0 for the failed request");
	cr_expect_eq(first, 0, "no entry failed");
	/* VIOMMU_DETACH, VIOMMU_FREE */
	cr_expect_eq(nest_viommu_detach(c, VI_ID, VI_DEV), 0, "%s", nest_client_last_error(c));
	cr_expect_eq(nest_viommu_detach(c, VI_ID, VI_DEV), -ENOENT);
	cr_expect_eq(nest_viommu_free(c, VI_ID), 0, "%s", nest_client_last_error(c));
	cr_expect_eq(nest_viommu_free(c, VI_ID), -ENOENT);
	cr_expect_neq(strstr(nest_client_last_error(c), "VIOMMU_FREE"), NULL, "%s",
		      nest_client_last_error(c));
	cr_expect_eq(s.events, 3, "no more events");
	nest_client_free(c);
	fake_finish(pid, dir, path, before);
	NO_LEAKS();
}

/*
 * libnest reads replies in bursts (rx.c): when one datagram of a burst kills the handle, the fds
 * that came with the datagrams after it, never dispatched, are closed, and every pending request
 * completes once with the error.
 */
Test(libnest_proto, fds_of_a_burst_after_a_fatal_reply_are_closed, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	struct state s = {0};
	struct req q[BURST_N];
	nest_client *c = NULL;
	int before = nest_test_count_fds(), idle;
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_BURST_FDS);

	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	for (unsigned i = 0; i < BURST_N; i++) {
		struct nest_device_get g = {.size = sizeof(g), .dev_id = 1};

		q[i] = (struct req){&s, i};
		cr_assert_eq(nest_client_send_async(c, NEST_OP_DEVICE_GET, &g, sizeof(g), NULL, 0,
						    reply_cb, &q[i], NULL),
			     0);
	}
	usleep(200 * 1000); /* every reply in the socket: one burst takes them all */
	idle = nest_test_count_fds();
	cr_expect_eq(nest_client_wait(c, -1), -EPROTO);
	cr_expect_eq(nest_test_count_fds(), idle,
		     "the fds of the undispatched replies were closed");
	cr_expect_eq(s.done, BURST_N, "every request completed once");
	for (unsigned i = 0; i < BURST_N; i++)
		cr_expect_eq(s.err[i], -EPROTO, "request %u: %d", i, s.err[i]);
	cr_expect_eq(nest_client_inflight(c), 0);
	nest_client_free(c);
	fake_finish(pid, dir, path, before);
}
