/* SPDX-License-Identifier: MIT */
/*
 * vIOMMU objects (protocol 1.1) on the real nestd with the sim backend, which has none: vm_info
 * without NEST_FEAT_VIOMMU (112 bytes to a minor-1 client, 72 to a minor-0 one), the six vIOMMU
 * ops answer EOPNOTSUPP once the generic checks passed (body rules of §5, fds), fds sent with them
 * are closed. The paths with a backend that has vIOMMUs are in test-viommu-daemon.c.
 */
#include "common.h"
#include "nest-msg.h"

#define CAPS_VIOMMU "{\"software\":\"tclient\",\"features\":[\"viommu\"]}"

static int call(struct tc *t, uint16_t op, const void *b, size_t len, const void *tail, size_t tlen,
		const int *fds, unsigned nfds)
{
	return tc_call(t, op, b, len, tail, tlen, fds, nfds, NULL, 0, NULL);
}

Test(viommu, ops_on_the_sim)
{
	struct td d;
	struct nest_vm_info vi;
	uint8_t data[NEST_NATIVE_DATA_MAX + 1] = {1};
	int base, fds[2];

	it_start(&d, NULL, NULL);
	base = td_fd_count_stable(&d);
	struct tc *t = tc_connect(d.sock);
	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_caps(t, CAPS_VIOMMU), 0, "the feature name is known");
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect_eq(vi.features & NEST_FEAT_VIOMMU, 0, "the sim has no vIOMMUs");
	struct nest_viommu_alloc va = {.size = sizeof(va), .dev_id = 1, .type = vi.viommu_type};
	struct nest_viommu_free vf = {.size = sizeof(vf), .viommu_id = 1};
	struct nest_vdevice_alloc vd = {.size = sizeof(vd), .viommu_id = 1, .dev_id = 1};
	struct nest_viommu_invalidate in = {
		.size = sizeof(in), .entry_len = 8, .entry_num = 1, .viommu_id = 1};
	struct nest_viommu_attach at = {.size = sizeof(at),
					.viommu_id = 1,
					.dev_id = 1,
					.data_type = vi.hwpt_data_type,
					.data_len = 8};
	struct nest_viommu_detach dt = {.size = sizeof(dt), .viommu_id = 1, .dev_id = 1};
	cr_expect_eq(call(t, NEST_OP_VIOMMU_ALLOC, &va, sizeof(va), NULL, 0, NULL, 0), -EOPNOTSUPP);
	cr_expect_eq(call(t, NEST_OP_VIOMMU_FREE, &vf, sizeof(vf), NULL, 0, NULL, 0), -EOPNOTSUPP);
	cr_expect_eq(call(t, NEST_OP_VDEVICE_ALLOC, &vd, sizeof(vd), NULL, 0, NULL, 0),
		     -EOPNOTSUPP);
	cr_expect_eq(call(t, NEST_OP_VIOMMU_INVALIDATE, &in, sizeof(in), data, 8, NULL, 0),
		     -EOPNOTSUPP);
	cr_expect_eq(call(t, NEST_OP_VIOMMU_ATTACH, &at, sizeof(at), data, 8, NULL, 0),
		     -EOPNOTSUPP);
	cr_expect_eq(call(t, NEST_OP_VIOMMU_DETACH, &dt, sizeof(dt), NULL, 0, NULL, 0),
		     -EOPNOTSUPP);
	/* VIOMMU_ATTACH: the body rules come before it */
	cr_expect_eq(call(t, NEST_OP_VIOMMU_ATTACH, &at, sizeof(at), data, 7, NULL, 0), -EINVAL,
		     "short data");
	cr_expect_eq(call(t, NEST_OP_VIOMMU_ATTACH, &at, sizeof(at), data, 9, NULL, 0), -EINVAL,
		     "long data");
	at.data_len = 0;
	cr_expect_eq(call(t, NEST_OP_VIOMMU_ATTACH, &at, sizeof(at), NULL, 0, NULL, 0), -EINVAL,
		     "no data");
	at.data_len = NEST_NATIVE_DATA_MAX + 1;
	cr_expect_eq(call(t, NEST_OP_VIOMMU_ATTACH, &at, sizeof(at), data, sizeof(data), NULL, 0),
		     -E2BIG);
	at.data_len = 8;
	at.size = 20;
	cr_expect_eq(call(t, NEST_OP_VIOMMU_ATTACH, &at, 20, NULL, 0, NULL, 0), -EINVAL,
		     "shorter than 24");
	at.size = sizeof(at);
	at.flags = 1;
	cr_expect_eq(call(t, NEST_OP_VIOMMU_ATTACH, &at, sizeof(at), data, 8, NULL, 0), -EOPNOTSUPP,
		     "a flag");
	at.flags = 0;
	dt.size = 12;
	cr_expect_eq(call(t, NEST_OP_VIOMMU_DETACH, &dt, 12, NULL, 0, NULL, 0), -EINVAL,
		     "detach shorter than 16");
	dt.size = sizeof(dt);
	cr_expect_eq(call(t, NEST_OP_VIOMMU_DETACH, &dt, sizeof(dt), data, 4, NULL, 0), -EINVAL,
		     "bytes after the struct");
	/* fds: EINVAL, and nestd keeps none of them */
	fds[0] = tc_memfd(4096, true);
	fds[1] = tc_memfd(4096, true);
	cr_expect_eq(call(t, NEST_OP_VIOMMU_ATTACH, &at, sizeof(at), data, 8, fds, 2), -EINVAL);
	cr_expect_eq(call(t, NEST_OP_VIOMMU_DETACH, &dt, sizeof(dt), NULL, 0, fds, 1), -EINVAL);
	cr_expect_eq(call(t, NEST_OP_VIOMMU_ALLOC, &va, sizeof(va), NULL, 0, fds, 2), -EINVAL);
	close(fds[0]);
	close(fds[1]);
	cr_expect_eq(call(t, NEST_OP_VIOMMU_DETACH, &dt, sizeof(dt), NULL, 0, NULL, 0), -EOPNOTSUPP,
		     "the connection is still usable");
	tc_free(t);
	cr_expect_eq(td_fd_count_stable(&d), base, "every fd closed");
	it_stop(&d);
	NO_LEAKS();
}

/* vm_info: 112 bytes to a client that said minor 1, the 72-byte 1.0 prefix to minor 0. */
Test(viommu, vm_info_size_by_minor)
{
	struct td d;
	struct nest_vm_attach va = {.size = sizeof(va)};
	uint8_t out[sizeof(struct nest_vm_info) + 8];
	size_t len = 0;

	snprintf(va.name, sizeof(va.name), "vm0");
	it_start(&d, NULL, NULL);
	for (uint16_t minor = 0; minor <= 1; minor++) {
		struct tc *t = tc_connect(d.sock);

		cr_assert_not_null(t);
		cr_assert_eq(tc_hello_minor(t, minor, CAPS_VIOMMU), 0);
		cr_assert_eq(tc_call(t, NEST_OP_VM_ATTACH, &va, sizeof(va), NULL, 0, NULL, 0, out,
				     sizeof(out), &len),
			     0);
		cr_expect_eq(len, minor ? 112 : 72, "minor %u", minor);
		cr_expect_eq(*(uint32_t *)out, minor ? 112 : 72);
		cr_assert_eq(tc_detach(t, 0), 0);
		tc_free(t);
	}
	it_stop(&d);
	NO_LEAKS();
}
