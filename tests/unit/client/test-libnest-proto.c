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
 * marker without data, malformed vEVENTs ignored).
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
#include "nest-caps.h"
#include "nest-fds.h"
#include "nest-msg.h"

#define NREQ 8

static void fake_send(int fd, uint16_t op, uint16_t flags, uint32_t id, const void *body,
		      size_t len)
{
	uint8_t buf[8192];
	struct nest_msg_hdr h = {.op = op, .flags = flags, .id = id};
	ssize_t n = nest_msg_encode(buf, sizeof(buf), &h, body, len, NULL, 0);

	if (n < 0 || nest_fds_send(fd, buf, (size_t)n, NULL, 0, 0) < 0)
		_exit(10);
}

static void fake_recv(int fd, struct nest_msg *m, uint8_t *buf, size_t cap)
{
	unsigned nfds = 0;
	int fds[NEST_FDS_PER_MSG_MAX];
	ssize_t n = nest_fds_recv(fd, buf, cap, fds, NEST_FDS_PER_MSG_MAX, &nfds, 0);

	if (n <= 0 || nest_msg_parse(buf, (size_t)n, cap, m) < 0)
		_exit(11);
}

/* Answer HELLO (with @max_batch); returns the minor version the client announced. */
static uint16_t fake_hello_batch(int c, uint32_t max_batch)
{
	uint8_t buf[8192], body[4096];
	struct nest_hello h = {.size = sizeof(h), .major = NEST_PROTO_MAJOR, .minor = 1};
	struct nest_hello req;
	struct nest_caps caps;
	struct nest_msg m;
	size_t len;

	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_HELLO || m.body_len < sizeof(req))
		_exit(12);
	memcpy(&req, m.body, sizeof(req));
	nest_caps_init(&caps);
	strcpy(caps.software, "fake 1");
	caps.max_inflight = NREQ;
	caps.max_batch = max_batch;
	if (nest_caps_format(&caps, (char *)body + sizeof(h), sizeof(body) - sizeof(h), &len))
		_exit(13);
	h.caps_len = (uint32_t)len;
	memcpy(body, &h, sizeof(h));
	fake_send(c, NEST_OP_HELLO, NEST_MSG_F_REPLY, m.hdr.id, body, sizeof(h) + len);
	return req.minor;
}

static void fake_hello(int c)
{
	fake_hello_batch(c, NEST_BATCH_DEFAULT);
}

/* What the fake nestd does after accepting. */
enum fake_mode {
	FAKE_REORDER,	    /* HELLO, NREQ DEVICE_GETs answered in reverse, an event, a bogus id */
	FAKE_DIE_IN_CALL,   /* HELLO, read one request, send an event, exit without replying */
	FAKE_WRONG_OP,	    /* HELLO, answer one request with the right id but another op */
	FAKE_CLOSE_AT_ONCE, /* accept and close: no HELLO reply */
	FAKE_NATIVE,	    /* a 1.1 nestd with native nesting, see fake_serve_native() */
	FAKE_PRQ,	    /* a 1.1 nestd that sends page requests, see fake_serve_prq() */
	FAKE_VIOMMU,	    /* a 1.1 nestd with vIOMMU objects, see fake_serve_viommu() */
	FAKE_BAD_REPLIES,   /* well-framed replies whose contents lie, see fake_serve_bad() */
	FAKE_BURST_FDS,	    /* a bogus reply, then replies with fds: see fake_serve_burst() */
};

/* The iommufd selftest mock's types (kernel/uapi/iommufd-test.h), as VM_ATTACH announces them. */
#define NATIVE_HW_INFO 0xfeedbeefu /* IOMMU_HW_INFO_TYPE_SELFTEST */
#define NATIVE_HWPT    0xdeadu	   /* IOMMU_HWPT_DATA_SELFTEST, 8 bytes */
#define NATIVE_INV     0xdeadbeefu /* IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 8-byte entries */
#define NATIVE_ELEN    8u
#define NATIVE_BATCH   4u /* the fake's max_batch: 10 entries go in 3 requests */
#define NATIVE_N       10u
#define NATIVE_PASID   5u
#define NATIVE_BAD_AT  5u /* the entry the fake reports failing (EIO) */

static const struct nest_vm_info native_info = {
	.size = sizeof(struct nest_vm_info),
	.backend = NEST_BACKEND_IOMMUFD,
	.formats = NEST_FORMAT_VTD_FL,
	.addr_widths = NEST_ADDR_WIDTH_48,
	.features = NEST_FEAT_BIND_PGTBL | NEST_FEAT_CACHE_INVLD | NEST_FEAT_NATIVE,
	.pasid_bits = 20,
	.pasid_mode = NEST_PASID_MODE_PER_DEVICE,
	.num_devices = 2,
	.pasid_quota = 8,
	.max_regions = 16,
	.mem_limit = 1u << 30,
	.hw_info_type = NATIVE_HW_INFO,
	.hwpt_data_type = NATIVE_HWPT,
	.inv_data_type = NATIVE_INV,
	.inv_entry_len = NATIVE_ELEN,
};

/* Entry i of the batch the test sends: flags 0, iotlb_id i (struct iommu_hwpt_invalidate_selftest) */
static void native_entry(uint32_t i, uint8_t *e)
{
	uint32_t w[2] = {0, i};

	memcpy(e, w, sizeof(w));
}

/*
 * The 1.1 fake: HELLO (minor 1 expected, max_batch NATIVE_BATCH), three VM_ATTACHes answered with
 * the 72-byte 1.0 struct, the 88-byte one and again 88 bytes (for the LIBNEST_0.1 symbol), one
 * with a non-zero byte past 88 (what a 1.0 client would get from a careless nestd), one
 * BIND_NATIVE, then the INVALIDATE_NATIVE chunks (entry NATIVE_BAD_AT fails with EIO). Exit
 * status 20+: the client sent something else than expected.
 */
static void fake_serve_native(int c)
{
	uint8_t buf[8192], big[sizeof(struct nest_vm_info) + 8] = {0};
	struct nest_bind_native b;
	struct nest_msg m;
	uint32_t first = 0;

	if (fake_hello_batch(c, NATIVE_BATCH) != NEST_PROTO_MINOR)
		_exit(20);
	for (int i = 0; i < 4; i++) {
		fake_recv(c, &m, buf, sizeof(buf));
		if (m.hdr.op != NEST_OP_VM_ATTACH)
			_exit(21);
		memcpy(big, &native_info, sizeof(native_info));
		if (i == 0)
			memcpy(big, &(uint32_t){NEST_VM_INFO_SIZE_1_0}, 4);
		if (i == 3) {
			memcpy(big, &(uint32_t){sizeof(big)}, 4);
			big[sizeof(big) - 1] = 1;
		}
		fake_send(c, NEST_OP_VM_ATTACH, NEST_MSG_F_REPLY, m.hdr.id, big,
			  i == 0   ? NEST_VM_INFO_SIZE_1_0
			  : i == 3 ? sizeof(big)
				   : sizeof(native_info));
	}
	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_BIND_NATIVE || m.body_len != sizeof(b) + 8)
		_exit(22);
	memcpy(&b, m.body, sizeof(b));
	if (b.size != sizeof(b) || b.flags || b.hpasid != NATIVE_PASID ||
	    b.data_type != NATIVE_HWPT || b.data_len != 8 || b.dev_id ||
	    memcmp(m.body + sizeof(b), "\1\0\0\0\0\0\0\0", 8))
		_exit(23);
	fake_send(c, NEST_OP_BIND_NATIVE, NEST_MSG_F_REPLY, m.hdr.id, NULL, 0);
	while (first < NATIVE_N) {
		struct nest_invalidate_native v;
		struct nest_invalidate_reply rep = {.size = sizeof(rep)};
		uint8_t e[NATIVE_ELEN];

		fake_recv(c, &m, buf, sizeof(buf));
		if (m.hdr.op != NEST_OP_INVALIDATE_NATIVE || m.body_len < sizeof(v))
			_exit(24);
		memcpy(&v, m.body, sizeof(v));
		if (v.size != sizeof(v) || v.flags || v.entry_len != NATIVE_ELEN ||
		    v.hpasid != NATIVE_PASID || v.data_type != NATIVE_INV ||
		    v.entry_num !=
			    (NATIVE_N - first < NATIVE_BATCH ? NATIVE_N - first : NATIVE_BATCH) ||
		    m.body_len != sizeof(v) + v.entry_num * NATIVE_ELEN)
			_exit(25);
		for (uint32_t i = 0; i < v.entry_num; i++) {
			native_entry(first + i, e);
			if (memcmp(m.body + sizeof(v) + i * NATIVE_ELEN, e, NATIVE_ELEN))
				_exit(26);
		}
		rep.done = v.entry_num;
		if (first <= NATIVE_BAD_AT && NATIVE_BAD_AT < first + v.entry_num) {
			rep.done = NATIVE_BAD_AT - first;
			rep.first_error = EIO;
		}
		fake_send(c, NEST_OP_INVALIDATE_NATIVE, NEST_MSG_F_REPLY, m.hdr.id, &rep,
			  sizeof(rep));
		first += v.entry_num;
	}
	(void)recv(c, buf, sizeof(buf), 0); /* wait for the client to hang up */
	_exit(0);
}

#define PRQ_ADDR   0x7f0000001000ull
#define PRQ_COOKIE 41u

static void fake_event(int c, uint32_t flags, uint32_t cookie)
{
	struct nest_ev_page_request ev = {.size = sizeof(ev),
					  .flags = flags,
					  .dev_id = 2,
					  .pasid = 5,
					  .grpid = 3,
					  .perm = NEST_PRQ_PERM_READ | NEST_PRQ_PERM_WRITE,
					  .addr = PRQ_ADDR,
					  .length = 4096,
					  .cookie = cookie};

	fake_send(c, NEST_EV_PAGE_REQUEST, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev));
}

/* The next message must be PAGE_RESPONSE {16, 0, @cookie, @code}; answer it with @err. */
static void fake_expect_response(int c, uint32_t cookie, uint32_t code, int err, int status)
{
	struct nest_page_response want = {.size = sizeof(want), .cookie = cookie, .code = code};
	struct nest_msg_hdr h = {.op = NEST_OP_PAGE_RESPONSE};
	uint8_t buf[8192], out[64];
	struct nest_msg m;
	ssize_t n;

	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_PAGE_RESPONSE || m.body_len != sizeof(want) ||
	    memcmp(m.body, &want, sizeof(want)))
		_exit(status);
	h.flags = NEST_MSG_F_REPLY | (err ? NEST_MSG_F_ERROR : 0);
	h.id = m.hdr.id;
	h.error = err;
	n = nest_msg_encode(out, sizeof(out), &h, NULL, 0, NULL, 0);
	if (n < 0 || nest_fds_send(c, out, (size_t)n, NULL, 0, 0) < 0)
		_exit(10);
}

/*
 * The page request fake: HELLO (the client must announce minor 1 and "page-requests"); during a
 * PASID_ALLOC a page request, answered SUCCESS from the client's event callback (a blocking call
 * inside a blocking call); an answer to an unknown cookie (ENOENT); then, with no callback, during a PASID_ALLOC: a group of two requests, of which
 * libnest must answer the last one invalid, and a malformed one (an unknown flag) it must
 * ignore; a VM_DETACH ends it. Exit status 30+: the client sent something else.
 */
static void fake_serve_prq(int c)
{
	struct nest_pasid_reply pr = {.size = sizeof(pr), .pasid = 1};
	struct nest_hello h = {.size = sizeof(h), .major = NEST_PROTO_MAJOR, .minor = 1}, req;
	uint8_t buf[8192], body[4096];
	struct nest_caps caps;
	struct nest_msg m;
	size_t len;

	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_HELLO || m.body_len < sizeof(req))
		_exit(30);
	memcpy(&req, m.body, sizeof(req));
	if (req.minor < 1 ||
	    nest_caps_parse((const char *)m.body + sizeof(req), m.body_len - sizeof(req), &caps) ||
	    !(caps.features & NEST_FEAT_PAGE_REQUESTS))
		_exit(31);
	nest_caps_init(&caps);
	caps.features = NEST_FEAT_PAGE_REQUESTS;
	if (nest_caps_format(&caps, (char *)body + sizeof(h), sizeof(body) - sizeof(h), &len))
		_exit(13);
	h.caps_len = (uint32_t)len;
	memcpy(body, &h, sizeof(h));
	fake_send(c, NEST_OP_HELLO, NEST_MSG_F_REPLY, m.hdr.id, body, sizeof(h) + len);
	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_PASID_ALLOC)
		_exit(32);
	fake_event(c, NEST_PRQ_F_PASID_VALID | NEST_PRQ_F_LAST_PAGE, PRQ_COOKIE);
	fake_expect_response(c, PRQ_COOKIE, NEST_PAGE_RESP_SUCCESS, 0, 33);
	fake_send(c, NEST_OP_PASID_ALLOC, NEST_MSG_F_REPLY, m.hdr.id, &pr, sizeof(pr));
	fake_expect_response(c, 99, NEST_PAGE_RESP_INVALID, ENOENT, 37);
	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_PASID_ALLOC)
		_exit(34);
	fake_event(c, NEST_PRQ_F_PASID_VALID, 50);
	fake_event(c, NEST_PRQ_F_PASID_VALID | NEST_PRQ_F_LAST_PAGE, 51);
	fake_send(c, NEST_OP_PASID_ALLOC, NEST_MSG_F_REPLY, m.hdr.id, &pr, sizeof(pr));
	fake_expect_response(c, 51, NEST_PAGE_RESP_INVALID, 0, 35);
	fake_event(c, NEST_PRQ_F_LAST_PAGE | 4, 52);
	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_VM_DETACH)
		_exit(36);
	fake_send(c, NEST_OP_VM_DETACH, NEST_MSG_F_REPLY, m.hdr.id, NULL, 0);
	(void)recv(c, buf, sizeof(buf), 0); /* wait for the client to hang up */
	_exit(0);
}

/* vIOMMU objects: the fake's types and ids (the Arm SMMUv3 shape; the values are arbitrary). */
#define VI_TYPE	  1u	    /* IOMMU_VIOMMU_TYPE_ARM_SMMUV3 */
#define VI_INV	  1u	    /* IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, 16-byte entries */
#define VI_ELEN	  16u	    /* one CMDQ command */
#define VI_ID	  3u	    /* the vIOMMU id the fake hands out */
#define VI_DEV	  2u	    /* the device it nests on */
#define VI_VIRT	  0x1234ull /* the device's virtual id (StreamID) */
#define VI_N	  10u	    /* entries of the batch: 3 requests of at most NATIVE_BATCH */
#define VI_BAD_AT 5u	    /* the entry the fake reports failing (ENOENT: a foreign vSID) */
#define VI_N2	  6u	    /* the second batch: its second request fails as a whole */
#define VI_SEQ	  7u	    /* the first vEVENT's sequence number */

/* Entry i of the batches: a CMDQ command whose first word is i. */
static void viommu_entry(uint32_t i, uint8_t *e)
{
	uint32_t w[4] = {i, 0x20, (uint32_t)VI_VIRT, 0};

	memcpy(e, w, sizeof(w));
}

/* The next message must be @op with exactly @len bytes @want; returns its id. */
static uint32_t fake_expect(int c, uint16_t op, const void *want, size_t len, int status)
{
	uint8_t buf[8192];
	struct nest_msg m;

	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != op || m.body_len != len || memcmp(m.body, want, len))
		_exit(status);
	return m.hdr.id;
}

/* Reply to request @id of @op: with errno @err (no body), or success with @body. */
static void fake_reply(int c, uint16_t op, uint32_t id, int err, const void *body, size_t len)
{
	struct nest_msg_hdr h = {.op = op,
				 .flags = NEST_MSG_F_REPLY | (err ? NEST_MSG_F_ERROR : 0),
				 .id = id,
				 .error = err};
	uint8_t out[256];
	ssize_t n = nest_msg_encode(out, sizeof(out), &h, body, err ? 0 : len, NULL, 0);

	if (n < 0 || nest_fds_send(c, out, (size_t)n, NULL, 0, 0) < 0)
		_exit(10);
}

/* An EV_VEVENT whose data_len field says @data_len and which carries @tail_len bytes 0x10.. */
static void fake_vevent(int c, uint32_t flags, uint32_t seq, uint32_t data_len, size_t tail_len)
{
	struct nest_ev_vevent ev = {.size = sizeof(ev),
				    .flags = flags,
				    .viommu_id = VI_ID,
				    .sequence = seq,
				    .data_len = data_len};
	uint8_t body[sizeof(ev) + 64];

	memcpy(body, &ev, sizeof(ev));
	for (size_t i = 0; i < tail_len; i++)
		body[sizeof(ev) + i] = (uint8_t)(0x10 + i);
	fake_send(c, NEST_EV_VEVENT, NEST_MSG_F_EVENT, 0, body, sizeof(ev) + tail_len);
}

/*
 * The vIOMMU fake: HELLO (the client must announce minor 1 and "viommu"; max_batch
 * NATIVE_BATCH); during the first VIOMMU_ALLOC the vEVENTs (one with a 16-byte record, a LOST
 * marker without data, three malformed ones libnest must ignore: data_len 33, data_len 16 with
 * 12 bytes, data_len 0 with 4 bytes; then one with 4 bytes); then each of the six calls once
 * answered and once with its error (VIOMMU_INVALIDATE: entry VI_BAD_AT fails, then a request
 * fails as a whole). Exit status 40+: the client sent something else.
 */
static void fake_serve_viommu(int c)
{
	struct nest_hello h = {.size = sizeof(h), .major = NEST_PROTO_MAJOR, .minor = 1}, req;
	struct nest_viommu_reply vr = {.size = sizeof(vr), .viommu_id = VI_ID};
	struct nest_viommu_alloc va = {.size = sizeof(va), .dev_id = VI_DEV, .type = VI_TYPE};
	struct nest_viommu_free vf = {.size = sizeof(vf), .viommu_id = VI_ID};
	struct nest_vdevice_alloc vd = {
		.size = sizeof(vd), .viommu_id = VI_ID, .dev_id = VI_DEV, .virt_id = VI_VIRT};
	struct nest_viommu_attach at = {.size = sizeof(at),
					.viommu_id = VI_ID,
					.dev_id = VI_DEV,
					.data_type = NATIVE_HWPT,
					.data_len = 8};
	struct nest_viommu_detach dt = {.size = sizeof(dt), .viommu_id = VI_ID, .dev_id = VI_DEV};
	uint8_t buf[8192], body[4096], atb[sizeof(at) + 8] = {0};
	struct nest_caps caps;
	struct nest_msg m;
	uint32_t id;
	size_t len;

	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_HELLO || m.body_len < sizeof(req))
		_exit(40);
	memcpy(&req, m.body, sizeof(req));
	if (req.minor < 1 ||
	    nest_caps_parse((const char *)m.body + sizeof(req), m.body_len - sizeof(req), &caps) ||
	    !(caps.features & NEST_FEAT_VIOMMU))
		_exit(41);
	nest_caps_init(&caps);
	caps.features = NEST_FEAT_VIOMMU;
	caps.max_batch = NATIVE_BATCH;
	if (nest_caps_format(&caps, (char *)body + sizeof(h), sizeof(body) - sizeof(h), &len))
		_exit(13);
	h.caps_len = (uint32_t)len;
	memcpy(body, &h, sizeof(h));
	fake_send(c, NEST_OP_HELLO, NEST_MSG_F_REPLY, m.hdr.id, body, sizeof(h) + len);
	/* VIOMMU_ALLOC, with the vEVENTs before its reply */
	id = fake_expect(c, NEST_OP_VIOMMU_ALLOC, &va, sizeof(va), 42);
	fake_vevent(c, 0, VI_SEQ, 16, 16);
	fake_vevent(c, NEST_VEVENT_F_LOST, VI_SEQ + 1, 0, 0);
	fake_vevent(c, 0, 90, NEST_VEVENT_DATA_MAX + 1, NEST_VEVENT_DATA_MAX + 1);
	fake_vevent(c, 0, 91, 16, 12);
	fake_vevent(c, 0, 92, 0, 4);
	fake_vevent(c, 0, VI_SEQ + 2, 4, 4);
	fake_reply(c, NEST_OP_VIOMMU_ALLOC, id, 0, &vr, sizeof(vr));
	va.type = 99;
	id = fake_expect(c, NEST_OP_VIOMMU_ALLOC, &va, sizeof(va), 43);
	fake_reply(c, NEST_OP_VIOMMU_ALLOC, id, EOPNOTSUPP, NULL, 0);
	/* VDEVICE_ALLOC: then the same virtual id again */
	for (int i = 0; i < 2; i++) {
		id = fake_expect(c, NEST_OP_VDEVICE_ALLOC, &vd, sizeof(vd), 44);
		fake_reply(c, NEST_OP_VDEVICE_ALLOC, id, i ? EEXIST : 0, NULL, 0);
	}
	/* VIOMMU_ATTACH: the struct and the 8 data bytes; attached already the second time */
	memcpy(atb, &at, sizeof(at));
	atb[sizeof(at)] = 1;
	for (int i = 0; i < 2; i++) {
		id = fake_expect(c, NEST_OP_VIOMMU_ATTACH, atb, sizeof(atb), 45);
		fake_reply(c, NEST_OP_VIOMMU_ATTACH, id, i ? EBUSY : 0, NULL, 0);
	}
	/* VIOMMU_INVALIDATE: VI_N entries in chunks, then VI_N2 whose second request fails */
	for (uint32_t batch = 0; batch < 2; batch++) {
		uint32_t n = batch ? VI_N2 : VI_N, first = 0;

		while (first < n) {
			struct nest_viommu_invalidate v;
			struct nest_invalidate_reply rep = {.size = sizeof(rep)};
			uint8_t e[VI_ELEN];

			fake_recv(c, &m, buf, sizeof(buf));
			if (m.hdr.op != NEST_OP_VIOMMU_INVALIDATE || m.body_len < sizeof(v))
				_exit(46);
			memcpy(&v, m.body, sizeof(v));
			if (v.size != sizeof(v) || v.flags || v.entry_len != VI_ELEN ||
			    v.viommu_id != VI_ID || v.data_type != VI_INV ||
			    v.entry_num != (n - first < NATIVE_BATCH ? n - first : NATIVE_BATCH) ||
			    m.body_len != sizeof(v) + v.entry_num * VI_ELEN)
				_exit(47);
			for (uint32_t i = 0; i < v.entry_num; i++) {
				viommu_entry(first + i, e);
				if (memcmp(m.body + sizeof(v) + i * VI_ELEN, e, VI_ELEN))
					_exit(48);
			}
			rep.done = v.entry_num;
			if (!batch && first <= VI_BAD_AT && VI_BAD_AT < first + v.entry_num) {
				rep.done = VI_BAD_AT - first;
				rep.first_error = ENOENT;
			}
			fake_reply(c, NEST_OP_VIOMMU_INVALIDATE, m.hdr.id,
				   batch && first ? ENOENT : 0, &rep, sizeof(rep));
			first += v.entry_num;
		}
	}
	/* VIOMMU_DETACH, VIOMMU_FREE: then not attached / not live any more */
	for (int i = 0; i < 2; i++) {
		id = fake_expect(c, NEST_OP_VIOMMU_DETACH, &dt, sizeof(dt), 49);
		fake_reply(c, NEST_OP_VIOMMU_DETACH, id, i ? ENOENT : 0, NULL, 0);
	}
	for (int i = 0; i < 2; i++) {
		id = fake_expect(c, NEST_OP_VIOMMU_FREE, &vf, sizeof(vf), 50);
		fake_reply(c, NEST_OP_VIOMMU_FREE, id, i ? ENOENT : 0, NULL, 0);
	}
	(void)recv(c, buf, sizeof(buf), 0); /* wait for the client to hang up */
	_exit(0);
}

/*
 * HELLO, then a VM_IOVA_INFO reply with a range that ends before it starts and an INVALIDATE
 * reply that says more entries were done than were sent: both pass the wire checks.
 */
static void fake_serve_bad(int c)
{
	struct nest_vm_iova_info iova = {.size = sizeof(iova),
					 .pgsizes = 4096,
					 .num_ranges = 1,
					 .ranges = {{.start = 0x2000, .last = 0x1000}}};
	struct nest_invalidate_reply inv = {.size = sizeof(inv), .done = 3};
	uint8_t buf[8192];
	struct nest_msg m;

	fake_hello(c);
	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_VM_IOVA_INFO)
		_exit(30);
	fake_reply(c, m.hdr.op, m.hdr.id, 0, &iova, sizeof(iova));
	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_INVALIDATE)
		_exit(31);
	fake_reply(c, m.hdr.op, m.hdr.id, 0, &inv, sizeof(inv));
	/* a true reply, but with an fd INVALIDATE's reply cannot carry; then one without */
	inv.done = 1;
	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_INVALIDATE)
		_exit(32);
	{
		struct nest_msg_hdr h = {.op = m.hdr.op, .flags = NEST_MSG_F_REPLY, .id = m.hdr.id};
		int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ssize_t n = nest_msg_encode(buf, sizeof(buf), &h, &inv, sizeof(inv), NULL, 0);

		if (null_fd < 0 || n < 0 || nest_fds_send(c, buf, (size_t)n, &null_fd, 1, 0) < 0)
			_exit(33);
		close(null_fd);
	}
	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_INVALIDATE)
		_exit(34);
	fake_reply(c, m.hdr.op, m.hdr.id, 0, &inv, sizeof(inv));
	(void)recv(c, buf, sizeof(buf), 0); /* wait for the client to hang up */
	_exit(0);
}

/*
 * HELLO, then BURST_N DEVICE_GETs read; answered with a reply to an id nobody sent (the client
 * dies of it, -EPROTO) followed by BURST_N - 1 true replies that each carry an fd, all sent
 * before the client reads: one burst whose fds after the fatal slot are never dispatched.
 */
#define BURST_N 4
static void fake_serve_burst(int c)
{
	uint32_t ids[BURST_N];
	uint8_t buf[8192];
	struct nest_msg m;
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null_fd < 0)
		_exit(15);
	fake_hello(c);
	for (int i = 0; i < BURST_N; i++) {
		fake_recv(c, &m, buf, sizeof(buf));
		ids[i] = m.hdr.id;
	}
	fake_send(c, NEST_OP_DEVICE_GET, NEST_MSG_F_REPLY, ids[0] ^ 0x80000000u, NULL, 0);
	for (int i = 1; i < BURST_N; i++) {
		struct nest_device_info di = {.size = sizeof(di), .dev_id = 1};
		struct nest_msg_hdr h = {
			.op = NEST_OP_DEVICE_GET, .flags = NEST_MSG_F_REPLY, .id = ids[i]};
		ssize_t n = nest_msg_encode(buf, sizeof(buf), &h, &di, sizeof(di), NULL, 0);

		if (n < 0 || nest_fds_send(c, buf, (size_t)n, &null_fd, 1, 0) < 0)
			_exit(16);
	}
	(void)recv(c, buf, sizeof(buf), 0); /* wait for the client to hang up */
	_exit(0);
}

static void fake_serve_short(int c, enum fake_mode mode)
{
	struct nest_ev_device_gone ev = {.size = sizeof(ev), .dev_id = 7};
	struct nest_pasid_reply pr = {.size = sizeof(pr), .pasid = 1};
	uint8_t buf[8192];
	struct nest_msg m;

	if (mode == FAKE_CLOSE_AT_ONCE)
		_exit(0);
	if (mode == FAKE_NATIVE)
		fake_serve_native(c);
	if (mode == FAKE_PRQ)
		fake_serve_prq(c);
	if (mode == FAKE_VIOMMU)
		fake_serve_viommu(c);
	if (mode == FAKE_BAD_REPLIES)
		fake_serve_bad(c);
	if (mode == FAKE_BURST_FDS)
		fake_serve_burst(c);
	fake_hello(c);
	fake_recv(c, &m, buf, sizeof(buf));
	if (mode == FAKE_DIE_IN_CALL) {
		fake_send(c, NEST_EV_DEVICE_GONE, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev));
		_exit(0); /* the kernel closes the socket: EOF for the client */
	}
	fake_send(c, NEST_OP_PASID_ALLOC, NEST_MSG_F_REPLY, m.hdr.id, &pr, sizeof(pr));
	(void)recv(c, buf, sizeof(buf), 0);
	_exit(0);
}

static void fake_serve(int lfd, enum fake_mode mode)
{
	uint32_t ids[NREQ], devs[NREQ];
	struct nest_ev_device_gone ev = {.size = sizeof(ev), .dev_id = 5};
	uint8_t buf[8192];
	struct nest_msg m;
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0)
		_exit(14);
	if (mode != FAKE_REORDER)
		fake_serve_short(c, mode);
	fake_hello(c);
	for (int i = 0; i < NREQ; i++) {
		struct nest_device_get g;

		fake_recv(c, &m, buf, sizeof(buf));
		memcpy(&g, m.body, sizeof(g));
		ids[i] = m.hdr.id;
		devs[i] = g.dev_id;
	}
	for (int i = NREQ - 1; i >= 0; i--) {
		struct nest_device_info di = {.size = sizeof(di), .dev_id = devs[i]};

		if (i == NREQ / 2)
			fake_send(c, NEST_EV_DEVICE_GONE, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev));
		fake_send(c, NEST_OP_DEVICE_GET, NEST_MSG_F_REPLY, ids[i], &di, sizeof(di));
	}
	fake_recv(c, &m, buf, sizeof(buf));
	fake_send(c, NEST_OP_DEVICE_GET, NEST_MSG_F_REPLY, m.hdr.id + 1000, NULL, 0);
	(void)recv(c, buf, sizeof(buf), 0); /* wait for the client to hang up */
	_exit(0);
}

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

static pid_t fake_start(char *dir, char *path, size_t cap, enum fake_mode mode)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	pid_t pid;

	cr_assert(mkdtemp(dir));
	snprintf(path, cap, "%s/fake.sock", dir);
	cr_assert(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	cr_assert(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 4) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		fake_serve(lfd, mode);
	close(lfd);
	return pid;
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

static void fake_finish(pid_t pid, char *dir, char *path, int fds_before)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fake server status %d", st);
	unlink(path);
	rmdir(dir);
	cr_expect_eq(nest_test_count_fds(), fds_before, "no fd leaked");
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
