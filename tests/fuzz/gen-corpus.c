/* SPDX-License-Identifier: MIT */
/*
 * gen-corpus.c - write the seed corpus for fuzz-msg: a valid request, reply and error reply of
 * every op, every event, realistic HELLO/INVALIDATE/SIM_DMA/ADMIN messages, and a set of
 * near-misses (one rule broken each); then protocol 1.1 (BIND_NATIVE / INVALIDATE_NATIVE with the
 * VT-d and selftest-mock formats, both vm_info sizes; then PAGE_RESPONSE and EV_PAGE_REQUEST;
 * then the vIOMMU ops 17-22 and EV_VEVENT), each group generated after the older ones so that
 * the numbers of the older files stay. The output is committed in corpus/; rerun with
 *     ./gen-corpus tests/fuzz/corpus
 * after an ABI change. Files named x-<sha1> in corpus/ are not from here: they are inputs found by
 * fuzzing that add coverage (kept with `fuzz-msg -merge=1`), replayed as regression tests too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nest-msg.h"

#define HDR sizeof(struct nest_msg_hdr)

static const char *outdir;
static unsigned seq;

static void put(const char *name, const void *p, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%03u-%s", outdir, seq++, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len) {
		perror(path);
		return;
	}
	fclose(f);
}

static size_t msg(uint8_t *buf, uint16_t op, uint16_t flags, int32_t err, const void *fixed,
		  size_t flen, const void *tail, size_t tlen)
{
	struct nest_msg_hdr h = {.op = op, .flags = flags, .id = 1000 + op, .error = err};
	ssize_t n = nest_msg_encode(buf, 1 << 16, &h, fixed, flen, tail, tlen);

	return n < 0 ? 0 : (size_t)n;
}

/* A valid fixed struct for @bd: zero, size set, tail fields set by the caller. */
static void fixed_of(const struct nest_body_desc *bd, uint8_t *p)
{
	uint32_t sz = bd->size;

	memset(p, 0, 256);
	memcpy(p, &sz, sizeof(sz));
}

static void gen_every_op(void)
{
	static uint8_t buf[1 << 16], fx[256];
	char name[64];

	for (uint32_t op = 0; op < NEST_OP_MAX; op++) {
		const struct nest_op_desc *d = nest_op_desc(op);

		if (!d || d->req.tail != NEST_TAIL_NONE)
			continue;
		if (op == NEST_OP_PAGE_RESPONSE || op == NEST_EV_PAGE_REQUEST)
			continue; /* 1.1: gen_iopf(), after the older files */
		if (op >= NEST_OP_VIOMMU_ALLOC && op <= NEST_OP_VIOMMU_DETACH)
			continue; /* 1.1: gen_viommu(), after the older files */
		if ((op >= NEST_OP_VM_IOVA_INFO && op <= NEST_OP_DEVICE_HOT_RESET) ||
		    op == NEST_EV_UNBOUND)
			continue; /* newer than the committed seeds: the fuzzers reach it by mutation */
		fixed_of(&d->req, fx);
		snprintf(name, sizeof(name), "%s-%s", d->name, d->is_event ? "event" : "request");
		put(name, buf,
		    msg(buf, (uint16_t)op, d->is_event ? NEST_MSG_F_EVENT : NEST_MSG_F_REQUEST, 0,
			fx, d->req.size, NULL, 0));
		if (d->is_event)
			continue;
		fixed_of(&d->reply, fx);
		snprintf(name, sizeof(name), "%s-reply", d->name);
		put(name, buf,
		    msg(buf, (uint16_t)op, NEST_MSG_F_REPLY, 0, fx, d->reply.size, NULL, 0));
		snprintf(name, sizeof(name), "%s-error", d->name);
		put(name, buf,
		    msg(buf, (uint16_t)op, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, ENOENT, NULL, 0,
			NULL, 0));
	}
}

static void gen_typical(void)
{
	static uint8_t buf[1 << 16];
	static const char caps[] = "{\"software\":\"nestd 0.1.0\",\"max_msg_size\":65536,"
				   "\"max_fds\":4,\"max_batch\":256,\"max_inflight\":64,"
				   "\"features\":[\"bind-pgtbl\",\"cache-invld\",\"sim-dma\"]}";
	struct nest_hello h = {.size = sizeof(h), .major = 1, .caps_len = sizeof(caps)};
	struct nest_vm_attach at = {.size = sizeof(at), .flags = NEST_ATTACH_F_CHECKER};
	struct nest_mem_add ma = {.size = sizeof(ma), .flags = 3, .gpa = 0, .len = 1 << 30};
	struct nest_bind b = {.size = sizeof(b),
			      .format = 1,
			      .addr_width = 48,
			      .gpgd = 0x1000,
			      .hpasid = 5,
			      .vtd_flags = NEST_VTD_SRE};
	struct nest_pasid_alloc pa = {
		.size = sizeof(pa), .flags = 1, .min = 1, .max = 100, .gpasid = 3};
	struct nest_sim_dma dma = {.size = sizeof(dma),
				   .flags = NEST_DMA_F_WRITE,
				   .dev_id = 1,
				   .pasid = 5,
				   .addr = 0x400000,
				   .len = 8};
	struct nest_ev_fault ev = {.size = sizeof(ev), .reason = NEST_FAULT_WRITE, .pasid = 5};
	struct {
		struct nest_invalidate h;
		struct nest_inv_entry e[3];
	} inv = {{sizeof(inv.h), 0, sizeof(struct nest_inv_entry), 3},
		 {{.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
		   .granularity = 2,
		   .flags = NEST_INV_F_LEAF,
		   .pasid = 5,
		   .addr = 0x200000,
		   .granule_size = 4096,
		   .nb_granules = 16},
		  {.cache = NEST_CACHE_PASID, .granularity = 1, .pasid = 5},
		  {.cache = NEST_CACHE_IOTLB, .granularity = 0}}};
	static const char admin[] = "{\"command\":\"sim.dma\",\"args\":{\"vm\":\"vm0\","
				    "\"device\":1,\"pasid\":5,\"addr\":\"0x400000\",\"len\":64}}";

	memcpy(at.name, "vm0", 4);
	put("hello-request", buf,
	    msg(buf, NEST_OP_HELLO, NEST_MSG_F_REQUEST, 0, &h, sizeof(h), caps, sizeof(caps)));
	put("hello-reply", buf,
	    msg(buf, NEST_OP_HELLO, NEST_MSG_F_REPLY, 0, &h, sizeof(h), caps, sizeof(caps)));
	put("attach", buf,
	    msg(buf, NEST_OP_VM_ATTACH, NEST_MSG_F_REQUEST, 0, &at, sizeof(at), 0, 0));
	put("mem-add", buf,
	    msg(buf, NEST_OP_MEM_ADD, NEST_MSG_F_REQUEST, 0, &ma, sizeof(ma), 0, 0));
	put("bind", buf, msg(buf, NEST_OP_BIND, NEST_MSG_F_REQUEST, 0, &b, sizeof(b), 0, 0));
	b.size = 40; /* pat/emt omitted: zero-extended */
	put("bind-short", buf, msg(buf, NEST_OP_BIND, NEST_MSG_F_REQUEST, 0, &b, 40, 0, 0));
	put("pasid-alloc", buf,
	    msg(buf, NEST_OP_PASID_ALLOC, NEST_MSG_F_REQUEST, 0, &pa, sizeof(pa), 0, 0));
	put("invalidate", buf,
	    msg(buf, NEST_OP_INVALIDATE, NEST_MSG_F_REQUEST, 0, &inv, sizeof(inv), 0, 0));
	put("sim-dma-write", buf,
	    msg(buf, NEST_OP_SIM_DMA, NEST_MSG_F_REQUEST, 0, &dma, sizeof(dma), "ABCDEFGH", 8));
	dma.flags = 0;
	put("sim-dma-read", buf,
	    msg(buf, NEST_OP_SIM_DMA, NEST_MSG_F_REQUEST, 0, &dma, sizeof(dma), 0, 0));
	put("admin", buf,
	    msg(buf, NEST_OP_ADMIN, NEST_MSG_F_REQUEST, 0, admin, sizeof(admin), NULL, 0));
	put("admin-status", buf,
	    msg(buf, NEST_OP_ADMIN, NEST_MSG_F_REQUEST, 0, "{\"command\":\"status\"}", 21, 0, 0));
	put("ev-fault", buf, msg(buf, NEST_EV_FAULT, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev), 0, 0));
	put("unknown-op", buf, msg(buf, 99, NEST_MSG_F_REQUEST, 0, &b, sizeof(b), 0, 0));
}

static void gen_invalid(void)
{
	static uint8_t buf[1 << 16];
	struct nest_bind b = {.size = sizeof(b) + 8, .flags = NEST_BIND_F_GPASID, .gpasid = 2};
	struct nest_unbind u = {.size = sizeof(u), .hpasid = 1, .flags = 1u << 7};
	static const char *const bad_caps[] = {
		"{\"max_fds\":99999999999999999999999}",
		"{\"max_batch\":1e400}",
		"{\"software\":NaN}",
		"{'max_fds':1}",
		"[1,2,3]",
		"{\"a\":[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}",
		"{\"features\":[\"sim-dma\",7]}",
		"{\"max_msg_size\":-1} x",
	};
	uint8_t tail[16] = {0};
	size_t n;

	put("bind-longer-zero-tail", buf,
	    msg(buf, NEST_OP_BIND, NEST_MSG_F_REQUEST, 0, &b, sizeof(b), tail, 8));
	tail[3] = 1;
	put("bind-nonzero-tail", buf,
	    msg(buf, NEST_OP_BIND, NEST_MSG_F_REQUEST, 0, &b, sizeof(b), tail, 8));
	b.size = sizeof(b);
	b.flags = 1u << 7;
	put("bind-unknown-flag", buf,
	    msg(buf, NEST_OP_BIND, NEST_MSG_F_REQUEST, 0, &b, sizeof(b), 0, 0));
	put("unbind-reserved", buf,
	    msg(buf, NEST_OP_UNBIND, NEST_MSG_F_REQUEST, 0, &u, sizeof(u), 0, 0));
	n = msg(buf, NEST_OP_UNBIND, NEST_MSG_F_REQUEST | NEST_MSG_F_REPLY, 0, &u, sizeof(u), 0, 0);
	put("two-type-bits", buf, n);
	n = msg(buf, NEST_OP_UNBIND, NEST_MSG_F_REQUEST, 0, &u, sizeof(u), 0, 0);
	buf[0] += 4;
	put("size-lies", buf, n);
	put("short-header", buf, 10);
	for (size_t i = 0; i < sizeof(bad_caps) / sizeof(bad_caps[0]); i++) {
		struct nest_hello h = {.size = sizeof(h),
				       .major = 1,
				       .caps_len = (uint32_t)strlen(bad_caps[i]) + 1};

		put("hello-bad-caps", buf,
		    msg(buf, NEST_OP_HELLO, NEST_MSG_F_REQUEST, 0, &h, sizeof(h), bad_caps[i],
			h.caps_len));
		put("raw-json", bad_caps[i], strlen(bad_caps[i]) + 1);
	}
}

/* Protocol 1.1: the native ops with the kernel formats of kernel/uapi (byte-exact layouts). */
static void gen_native(void)
{
	static uint8_t buf[1 << 16];
	/* struct iommu_hwpt_vtd_s1: flags SRE, pgtbl_addr 0x1000, addr_width 48, __reserved */
	static const uint64_t vtd_s1[3] = {1, 0x1000, 48};
	/* struct iommu_hwpt_selftest: iotlb IOMMU_TEST_IOTLB_DEFAULT (0xbadbeef), pagetable_type 0 */
	static const uint32_t mock_s1[2] = {0xbadbeef, 0};
	/*
	 * 2 x struct iommu_hwpt_vtd_s1_invalidate {addr, npages, flags | __reserved << 32}: 16 pages
	 * at 0x200000 (LEAF), then everything (npages U64_MAX)
	 */
	static const uint64_t vtd_inv[6] = {0x200000, 16, 1, 0, UINT64_MAX, 0};
	/* 3 x struct iommu_hwpt_invalidate_selftest: flags, iotlb_id */
	static const uint32_t mock_inv[6] = {0, 0, 0, 3, 1, 0};
	struct nest_bind_native bn = {
		.size = sizeof(bn), .hpasid = 5, .data_type = 1, .data_len = sizeof(vtd_s1)};
	struct nest_invalidate_native in = {
		.size = sizeof(in), .entry_len = 24, .entry_num = 2, .hpasid = 5, .data_type = 0};
	struct nest_invalidate_reply ir = {.size = sizeof(ir), .done = 1, .first_error = EINVAL};
	struct nest_vm_info vi = {.size = sizeof(vi),
				  .backend = NEST_BACKEND_IOMMUFD,
				  .formats = NEST_FORMAT_VTD_FL,
				  .addr_widths = NEST_ADDR_WIDTH_48,
				  .features = NEST_FEAT_BIND_PGTBL | NEST_FEAT_CACHE_INVLD |
					      NEST_FEAT_NATIVE,
				  .pasid_bits = 20,
				  .pasid_mode = NEST_PASID_MODE_PER_DEVICE,
				  .num_devices = 2,
				  .hw_info_type = 0xfeedbeef,
				  .hwpt_data_type = 0xdead,
				  .inv_data_type = 0xdeadbeef,
				  .inv_entry_len = 8};
	uint8_t big[NEST_NATIVE_DATA_MAX + 1] = {0};

	put("bind-native-vtd", buf,
	    msg(buf, NEST_OP_BIND_NATIVE, NEST_MSG_F_REQUEST, 0, &bn, sizeof(bn), vtd_s1,
		sizeof(vtd_s1)));
	bn.data_type = 0xdead;
	bn.data_len = sizeof(mock_s1);
	put("bind-native-mock", buf,
	    msg(buf, NEST_OP_BIND_NATIVE, NEST_MSG_F_REQUEST, 0, &bn, sizeof(bn), mock_s1,
		sizeof(mock_s1)));
	bn.size = 20; /* __reserved omitted: zero-extended */
	put("bind-native-short", buf,
	    msg(buf, NEST_OP_BIND_NATIVE, NEST_MSG_F_REQUEST, 0, &bn, 20, mock_s1,
		sizeof(mock_s1)));
	bn.size = sizeof(bn);
	bn.data_len = 9;
	put("bind-native-misfit", buf,
	    msg(buf, NEST_OP_BIND_NATIVE, NEST_MSG_F_REQUEST, 0, &bn, sizeof(bn), mock_s1,
		sizeof(mock_s1)));
	bn.data_len = sizeof(big);
	put("bind-native-too-big", buf,
	    msg(buf, NEST_OP_BIND_NATIVE, NEST_MSG_F_REQUEST, 0, &bn, sizeof(bn), big,
		sizeof(big)));
	put("bind-native-reply", buf,
	    msg(buf, NEST_OP_BIND_NATIVE, NEST_MSG_F_REPLY, 0, 0, 0, 0, 0));
	put("bind-native-error", buf,
	    msg(buf, NEST_OP_BIND_NATIVE, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, EOPNOTSUPP, 0, 0, 0,
		0));
	put("invalidate-native-vtd", buf,
	    msg(buf, NEST_OP_INVALIDATE_NATIVE, NEST_MSG_F_REQUEST, 0, &in, sizeof(in), vtd_inv,
		sizeof(vtd_inv)));
	in.entry_len = 8;
	in.entry_num = 3;
	in.data_type = 0xdeadbeef;
	put("invalidate-native-mock", buf,
	    msg(buf, NEST_OP_INVALIDATE_NATIVE, NEST_MSG_F_REQUEST, 0, &in, sizeof(in), mock_inv,
		sizeof(mock_inv)));
	in.entry_len = NEST_NATIVE_ENTRY_MAX + 1;
	in.entry_num = 1;
	put("invalidate-native-long-entry", buf,
	    msg(buf, NEST_OP_INVALIDATE_NATIVE, NEST_MSG_F_REQUEST, 0, &in, sizeof(in), big,
		NEST_NATIVE_ENTRY_MAX + 1));
	in.entry_len = 64;
	in.entry_num = 1u << 26;
	put("invalidate-native-overflow", buf,
	    msg(buf, NEST_OP_INVALIDATE_NATIVE, NEST_MSG_F_REQUEST, 0, &in, sizeof(in), big, 64));
	put("invalidate-native-reply", buf,
	    msg(buf, NEST_OP_INVALIDATE_NATIVE, NEST_MSG_F_REPLY, 0, &ir, sizeof(ir), 0, 0));
	put("vm-info-1.1", buf,
	    msg(buf, NEST_OP_VM_ATTACH, NEST_MSG_F_REPLY, 0, &vi, sizeof(vi), 0, 0));
	vi.size = NEST_VM_INFO_SIZE_1_0;
	put("vm-info-1.0", buf,
	    msg(buf, NEST_OP_VM_ATTACH, NEST_MSG_F_REPLY, 0, &vi, NEST_VM_INFO_SIZE_1_0, 0, 0));
}

/* Protocol 1.1: page requests (the event, the answer, the feature). */
static void gen_iopf(void)
{
	static uint8_t buf[1 << 16];
	static const char caps[] = "{\"software\":\"myvmm 2.3\",\"features\":[\"native\","
				   "\"page-requests\"]}";
	struct nest_hello h = {.size = sizeof(h), .major = 1, .minor = 1, .caps_len = sizeof(caps)};
	struct nest_page_response pr = {
		.size = sizeof(pr), .cookie = 100, .code = NEST_PAGE_RESP_SUCCESS};
	struct nest_ev_page_request ev = {.size = sizeof(ev),
					  .flags = NEST_PRQ_F_PASID_VALID | NEST_PRQ_F_LAST_PAGE,
					  .dev_id = 1,
					  .pasid = 5,
					  .grpid = 7,
					  .perm = NEST_PRQ_PERM_READ | NEST_PRQ_PERM_WRITE,
					  .addr = 0x7f0000001000ull,
					  .length = 0,
					  .cookie = 100};
	struct nest_vm_info vi = {.size = sizeof(vi),
				  .backend = NEST_BACKEND_IOMMUFD,
				  .features = NEST_FEAT_NATIVE | NEST_FEAT_PAGE_REQUESTS,
				  .pasid_bits = 20,
				  .pasid_mode = NEST_PASID_MODE_PER_DEVICE,
				  .num_devices = 1};
	uint8_t tail[8] = {0};
	static const char admin[] = "{\"command\":\"mock.trigger_iopf\",\"args\":{\"vm\":\"vm0\","
				    "\"device\":1,\"pasid\":5,\"addr\":\"0x7f0000001000\","
				    "\"perm\":3,\"grpid\":7}}";

	put("page-response", buf,
	    msg(buf, NEST_OP_PAGE_RESPONSE, NEST_MSG_F_REQUEST, 0, &pr, sizeof(pr), 0, 0));
	pr.code = NEST_PAGE_RESP_INVALID;
	put("page-response-invalid", buf,
	    msg(buf, NEST_OP_PAGE_RESPONSE, NEST_MSG_F_REQUEST, 0, &pr, sizeof(pr), 0, 0));
	pr.code = 2;
	put("page-response-bad-code", buf,
	    msg(buf, NEST_OP_PAGE_RESPONSE, NEST_MSG_F_REQUEST, 0, &pr, sizeof(pr), 0, 0));
	pr.code = 0;
	pr.flags = 1;
	put("page-response-flag", buf,
	    msg(buf, NEST_OP_PAGE_RESPONSE, NEST_MSG_F_REQUEST, 0, &pr, sizeof(pr), 0, 0));
	pr.flags = 0;
	pr.size = 12;
	put("page-response-short", buf,
	    msg(buf, NEST_OP_PAGE_RESPONSE, NEST_MSG_F_REQUEST, 0, &pr, 12, 0, 0));
	pr.size = sizeof(pr) + sizeof(tail);
	put("page-response-longer-zero-tail", buf,
	    msg(buf, NEST_OP_PAGE_RESPONSE, NEST_MSG_F_REQUEST, 0, &pr, sizeof(pr), tail,
		sizeof(tail)));
	put("page-response-reply", buf,
	    msg(buf, NEST_OP_PAGE_RESPONSE, NEST_MSG_F_REPLY, 0, 0, 0, 0, 0));
	put("page-response-error", buf,
	    msg(buf, NEST_OP_PAGE_RESPONSE, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, ENOENT, 0, 0, 0,
		0));
	put("ev-page-request", buf,
	    msg(buf, NEST_EV_PAGE_REQUEST, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev), 0, 0));
	ev.flags = 0;
	ev.perm = NEST_PRQ_PERM_EXEC | NEST_PRQ_PERM_PRIV;
	put("ev-page-request-not-last", buf,
	    msg(buf, NEST_EV_PAGE_REQUEST, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev), 0, 0));
	ev.flags = 4;
	put("ev-page-request-unknown-flag", buf,
	    msg(buf, NEST_EV_PAGE_REQUEST, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev), 0, 0));
	ev.flags = NEST_PRQ_F_LAST_PAGE;
	ev.size = 36; /* the cookie is not optional */
	put("ev-page-request-short", buf,
	    msg(buf, NEST_EV_PAGE_REQUEST, NEST_MSG_F_EVENT, 0, &ev, 36, 0, 0));
	put("hello-page-requests", buf,
	    msg(buf, NEST_OP_HELLO, NEST_MSG_F_REQUEST, 0, &h, sizeof(h), caps, sizeof(caps)));
	put("vm-info-page-requests", buf,
	    msg(buf, NEST_OP_VM_ATTACH, NEST_MSG_F_REPLY, 0, &vi, sizeof(vi), 0, 0));
	put("admin-trigger-iopf", buf,
	    msg(buf, NEST_OP_ADMIN, NEST_MSG_F_REQUEST, 0, admin, sizeof(admin), NULL, 0));
}

/* Protocol 1.1: vIOMMU objects (ops 17-22, the Arm SMMUv3 shape) and EV_VEVENT. */
static void gen_viommu(void)
{
	static uint8_t buf[1 << 16];
	static const char caps[] = "{\"software\":\"myvmm 2.3\",\"features\":[\"native\","
				   "\"viommu\"]}";
	/* 2 x struct iommu_viommu_arm_smmuv3_invalidate: CMD_TLBI_NH_ALL, CMD_CFGI_STE of vSID 0x10 */
	static const uint64_t smmu_inv[4] = {0x10, 0, 0x1000000003ull, 0};
	/* the selftest mock's STE stand-in (struct iommu_hwpt_selftest) */
	static const uint32_t mock_ste[2] = {0xbadbeef, 0};
	/* struct iommu_viommu_event_selftest: virt_id */
	static const uint32_t vev_rec[1] = {0x10};
	struct nest_hello h = {.size = sizeof(h), .major = 1, .minor = 1, .caps_len = sizeof(caps)};
	struct nest_viommu_alloc va = {.size = sizeof(va), .dev_id = 1, .type = 1};
	struct nest_viommu_reply vr = {.size = sizeof(vr), .viommu_id = 1};
	struct nest_viommu_free vf = {.size = sizeof(vf), .viommu_id = 1};
	struct nest_vdevice_alloc vd = {
		.size = sizeof(vd), .viommu_id = 1, .dev_id = 1, .virt_id = 0x10};
	struct nest_viommu_invalidate vi = {.size = sizeof(vi),
					    .entry_len = 16,
					    .entry_num = 2,
					    .viommu_id = 1,
					    .data_type = 1};
	struct nest_invalidate_reply ir = {.size = sizeof(ir), .done = 1, .first_error = ENOENT};
	struct nest_viommu_attach at = {.size = sizeof(at),
					.viommu_id = 1,
					.dev_id = 1,
					.data_type = 0xdead,
					.data_len = sizeof(mock_ste)};
	struct nest_viommu_detach dt = {.size = sizeof(dt), .viommu_id = 1, .dev_id = 1};
	struct nest_ev_vevent ev = {
		.size = sizeof(ev), .viommu_id = 1, .sequence = 7, .data_len = sizeof(vev_rec)};
	struct nest_vm_info info = {.size = sizeof(info),
				    .backend = NEST_BACKEND_IOMMUFD,
				    .features = NEST_FEAT_NATIVE | NEST_FEAT_VIOMMU,
				    .num_devices = 1,
				    .hwpt_data_type = 0xdead,
				    .viommu_type = 1,
				    .viommu_inv_data_type = 1,
				    .viommu_inv_entry_len = 16,
				    .vevent_type = 1,
				    .vevent_len = sizeof(vev_rec)};
	uint8_t big[NEST_NATIVE_DATA_MAX + 1] = {0};
	static const char admin[] = "{\"command\":\"mock.trigger_vevent\",\"args\":{\"vm\":"
				    "\"vm0\",\"device\":1}}";

	put("viommu-alloc", buf,
	    msg(buf, NEST_OP_VIOMMU_ALLOC, NEST_MSG_F_REQUEST, 0, &va, sizeof(va), 0, 0));
	va.flags = 1;
	put("viommu-alloc-flag", buf,
	    msg(buf, NEST_OP_VIOMMU_ALLOC, NEST_MSG_F_REQUEST, 0, &va, sizeof(va), 0, 0));
	put("viommu-alloc-reply", buf,
	    msg(buf, NEST_OP_VIOMMU_ALLOC, NEST_MSG_F_REPLY, 0, &vr, sizeof(vr), 0, 0));
	put("viommu-alloc-error", buf,
	    msg(buf, NEST_OP_VIOMMU_ALLOC, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, EOPNOTSUPP, 0, 0, 0,
		0));
	put("viommu-free", buf,
	    msg(buf, NEST_OP_VIOMMU_FREE, NEST_MSG_F_REQUEST, 0, &vf, sizeof(vf), 0, 0));
	vf.__reserved = 1;
	put("viommu-free-reserved", buf,
	    msg(buf, NEST_OP_VIOMMU_FREE, NEST_MSG_F_REQUEST, 0, &vf, sizeof(vf), 0, 0));
	put("viommu-free-reply", buf,
	    msg(buf, NEST_OP_VIOMMU_FREE, NEST_MSG_F_REPLY, 0, 0, 0, 0, 0));
	put("viommu-free-error", buf,
	    msg(buf, NEST_OP_VIOMMU_FREE, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, ENOENT, 0, 0, 0, 0));
	put("vdevice-alloc", buf,
	    msg(buf, NEST_OP_VDEVICE_ALLOC, NEST_MSG_F_REQUEST, 0, &vd, sizeof(vd), 0, 0));
	vd.size = 20; /* virt_id is not optional */
	put("vdevice-alloc-short", buf,
	    msg(buf, NEST_OP_VDEVICE_ALLOC, NEST_MSG_F_REQUEST, 0, &vd, 20, 0, 0));
	put("vdevice-alloc-reply", buf,
	    msg(buf, NEST_OP_VDEVICE_ALLOC, NEST_MSG_F_REPLY, 0, 0, 0, 0, 0));
	put("vdevice-alloc-error", buf,
	    msg(buf, NEST_OP_VDEVICE_ALLOC, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, EEXIST, 0, 0, 0,
		0));
	put("viommu-invalidate-smmuv3", buf,
	    msg(buf, NEST_OP_VIOMMU_INVALIDATE, NEST_MSG_F_REQUEST, 0, &vi, sizeof(vi), smmu_inv,
		sizeof(smmu_inv)));
	vi.entry_num = 3; /* one entry short */
	put("viommu-invalidate-misfit", buf,
	    msg(buf, NEST_OP_VIOMMU_INVALIDATE, NEST_MSG_F_REQUEST, 0, &vi, sizeof(vi), smmu_inv,
		sizeof(smmu_inv)));
	vi.entry_len = NEST_NATIVE_ENTRY_MAX + 1;
	vi.entry_num = 1;
	put("viommu-invalidate-long-entry", buf,
	    msg(buf, NEST_OP_VIOMMU_INVALIDATE, NEST_MSG_F_REQUEST, 0, &vi, sizeof(vi), big,
		NEST_NATIVE_ENTRY_MAX + 1));
	put("viommu-invalidate-reply", buf,
	    msg(buf, NEST_OP_VIOMMU_INVALIDATE, NEST_MSG_F_REPLY, 0, &ir, sizeof(ir), 0, 0));
	put("viommu-invalidate-error", buf,
	    msg(buf, NEST_OP_VIOMMU_INVALIDATE, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, ENOENT, 0, 0,
		0, 0));
	put("viommu-attach", buf,
	    msg(buf, NEST_OP_VIOMMU_ATTACH, NEST_MSG_F_REQUEST, 0, &at, sizeof(at), mock_ste,
		sizeof(mock_ste)));
	at.data_len = 4; /* says 4, carries 8 */
	put("viommu-attach-misfit", buf,
	    msg(buf, NEST_OP_VIOMMU_ATTACH, NEST_MSG_F_REQUEST, 0, &at, sizeof(at), mock_ste,
		sizeof(mock_ste)));
	at.data_len = sizeof(big);
	put("viommu-attach-too-big", buf,
	    msg(buf, NEST_OP_VIOMMU_ATTACH, NEST_MSG_F_REQUEST, 0, &at, sizeof(at), big,
		sizeof(big)));
	at.data_len = 0;
	put("viommu-attach-no-data", buf,
	    msg(buf, NEST_OP_VIOMMU_ATTACH, NEST_MSG_F_REQUEST, 0, &at, sizeof(at), 0, 0));
	put("viommu-attach-reply", buf,
	    msg(buf, NEST_OP_VIOMMU_ATTACH, NEST_MSG_F_REPLY, 0, 0, 0, 0, 0));
	put("viommu-attach-error", buf,
	    msg(buf, NEST_OP_VIOMMU_ATTACH, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, EBUSY, 0, 0, 0,
		0));
	put("viommu-detach", buf,
	    msg(buf, NEST_OP_VIOMMU_DETACH, NEST_MSG_F_REQUEST, 0, &dt, sizeof(dt), 0, 0));
	put("viommu-detach-reply", buf,
	    msg(buf, NEST_OP_VIOMMU_DETACH, NEST_MSG_F_REPLY, 0, 0, 0, 0, 0));
	put("viommu-detach-error", buf,
	    msg(buf, NEST_OP_VIOMMU_DETACH, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, ENOENT, 0, 0, 0,
		0));
	put("ev-vevent", buf,
	    msg(buf, NEST_EV_VEVENT, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev), vev_rec,
		sizeof(vev_rec)));
	ev.flags = NEST_VEVENT_F_LOST;
	ev.data_len = 0;
	put("ev-vevent-lost", buf,
	    msg(buf, NEST_EV_VEVENT, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev), 0, 0));
	ev.flags = 0;
	ev.data_len = NEST_VEVENT_DATA_MAX + 1;
	put("ev-vevent-too-big", buf,
	    msg(buf, NEST_EV_VEVENT, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev), big,
		NEST_VEVENT_DATA_MAX + 1));
	ev.data_len = 8; /* says 8, carries 4 */
	put("ev-vevent-misfit", buf,
	    msg(buf, NEST_EV_VEVENT, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev), vev_rec,
		sizeof(vev_rec)));
	ev.data_len = sizeof(vev_rec);
	ev.flags = 2;
	put("ev-vevent-unknown-flag", buf,
	    msg(buf, NEST_EV_VEVENT, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev), vev_rec,
		sizeof(vev_rec)));
	ev.flags = 0;
	ev.__reserved = 1;
	put("ev-vevent-reserved", buf,
	    msg(buf, NEST_EV_VEVENT, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev), vev_rec,
		sizeof(vev_rec)));
	put("hello-viommu", buf,
	    msg(buf, NEST_OP_HELLO, NEST_MSG_F_REQUEST, 0, &h, sizeof(h), caps, sizeof(caps)));
	put("vm-info-viommu", buf,
	    msg(buf, NEST_OP_VM_ATTACH, NEST_MSG_F_REPLY, 0, &info, sizeof(info), 0, 0));
	put("admin-trigger-vevent", buf,
	    msg(buf, NEST_OP_ADMIN, NEST_MSG_F_REQUEST, 0, admin, sizeof(admin), NULL, 0));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	gen_every_op();
	gen_typical();
	gen_invalid();
	gen_native();
	gen_iopf();
	gen_viommu();
	return 0;
}
