/* SPDX-License-Identifier: MIT */
/* fake-nestd.c - the scripted fake nestd of test-libnest-proto.c (fake-nestd.h). */
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

const struct nest_vm_info native_info = {
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
void native_entry(uint32_t i, uint8_t *e)
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

/* Entry i of the batches: a CMDQ command whose first word is i. */
void viommu_entry(uint32_t i, uint8_t *e)
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

pid_t fake_start(char *dir, char *path, size_t cap, enum fake_mode mode)
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

void fake_finish(pid_t pid, char *dir, char *path, int fds_before)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fake server status %d", st);
	unlink(path);
	rmdir(dir);
	cr_expect_eq(nest_test_count_fds(), fds_before, "no fd leaked");
}
