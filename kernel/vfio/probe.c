/* SPDX-License-Identifier: MIT */
/*
 * probe.c - can the VFIO backends serve the configured host devices on this kernel?
 *
 * vfio-type1: /dev/vfio/vfio answers the API version and offers VFIO_TYPE1v2_IOMMU, and every
 * configured PCI device exists, has an IOMMU group and that group has a VFIO node.
 *
 * vfio-nesting additionally needs the nesting series (never merged). CHECK_EXTENSION of
 * VFIO_TYPE1_NESTING_IOMMU is not proof: mainline answered 1 until 6.13 without having the
 * series. So the probe puts the first configured device's group into a scratch container,
 * selects VFIO_TYPE1_NESTING_IOMMU and requires the series' nesting capability in
 * VFIO_IOMMU_GET_INFO. No seed-numbered ioctl (0x3B76/0x3B77 mean other things on mainline) is
 * issued, and the scratch container and group are closed again whatever the outcome.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vfio-internal.h"
#include "vfio-nesting.h"

static void probe_be(struct nest_backend *be, const struct nest_backend_params *p, bool nesting)
{
	memset(be, 0, sizeof(*be));
	be->sys = *vfio_sys_or_real(p->vfio_sys);
	be->nesting = nesting;
}

static int probe_fail(struct nest_backend *be, int r, char *why, size_t len)
{
	snprintf(why, len, "%s", be->err);
	return r;
}

static int probe_type1(struct nest_backend *be, const struct nest_backend_params *p, char *why,
		       size_t len)
{
	struct vfio_container *c;
	char node[NEST_VFIO_ROOT_MAX + 32];
	int r, num;

	if (p->n_mock) {
		snprintf(why, len,
			 "the VFIO backends cannot serve iommufd mock devices (mock=yes)");
		return -EOPNOTSUPP;
	}
	r = vfio_container_open(be, &c);
	if (r < 0)
		return probe_fail(be, r, why, len);
	vfio_container_close(c);
	for (size_t i = 0; i < p->n_host_pci; i++) {
		r = vfio_pci_group(be, p->host_pci[i], &num);
		if (r < 0)
			return probe_fail(be, r, why, len);
		snprintf(node, sizeof(node), "%s/vfio/%d", be->sys.dev_root, num);
		if (access(node, F_OK) < 0) {
			r = vfio_fail(be, ENODEV,
				      "PCI device %s: IOMMU group %d has no VFIO node %s (bind the "
				      "device to vfio-pci)",
				      p->host_pci[i], num, node);
			return probe_fail(be, r, why, len);
		}
	}
	return 0;
}

int vfio_type1_probe(const struct nest_backend_params *p, char *why, size_t len)
{
	struct nest_backend be;

	probe_be(&be, p, false);
	return probe_type1(&be, p, why, len);
}

int vfio_nesting_probe(const struct nest_backend_params *p, char *why, size_t len)
{
	struct nest_backend be;
	struct vfio_container *c = NULL;
	struct vfio_group g = {.fd = -1};
	struct vfio_nesting_caps caps = {0};
	bool has = false;
	int r, num;

	probe_be(&be, p, true);
	if (p->n_host_pci == 0) {
		snprintf(why, len,
			 "vfio-nesting probes with a host device and none (pci=) is "
			 "configured");
		return -ENODEV;
	}
	r = probe_type1(&be, p, why, len);
	if (r < 0)
		return r;
	r = vfio_pci_group(&be, p->host_pci[0], &num);
	if (r == 0)
		r = vfio_container_open(&be, &c);
	if (r == 0)
		r = vfio_group_open(&be, &g, num);
	if (r == 0)
		r = vfio_group_set_container(&be, &g, c);
	if (r == 0) {
		r = vfio_container_set_iommu(&be, c); /* CHECK_EXTENSION, SET_IOMMU, GET_INFO */
		has = r == 0 && c->has_nesting;
		caps = c->nest;
	}
	vfio_group_close(&g);
	vfio_container_close(c);
	if (r < 0) {
		snprintf(why, len, "%s; this kernel cannot nest on the IOMMU of %s", be.err,
			 p->host_pci[0]);
		return r;
	}
	if (!has) {
		snprintf(why, len,
			 "VFIO_TYPE1_NESTING_IOMMU was accepted but VFIO_IOMMU_GET_INFO "
			 "has no nesting capability: this kernel lacks the VFIO nesting "
			 "series (no nesting ioctl was issued)");
		return -EOPNOTSUPP;
	}
	if (!(caps.features & IOMMU_NESTING_FEAT_BIND_PGTBL)) {
		snprintf(why, len, "the nesting capability offers no BIND_PGTBL (features 0x%x)",
			 caps.features);
		return -EOPNOTSUPP;
	}
	snprintf(why, len, "nesting capability: format %u, features 0x%x, %u PASID bits",
		 caps.format, caps.features, caps.pasid_bits);
	return 0;
}
