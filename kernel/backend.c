/* SPDX-License-Identifier: MIT */
/*
 * backend.c - backend registry and selection.
 *
 * AUTO serves the devices of the configuration: simulated devices only -> sim; host devices
 * (pci=) -> the first kernel backend, in the order iommufd, vfio-nesting, vfio-type1, whose
 * probe() says the IOMMU and uAPI are usable. There is no silent fallback from host devices to
 * the sim. A forced choice must be built in and must probe OK; sim cannot serve host devices.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"

static const char *const choice_names[NEST_BE_CHOICE_MAX] = {
	[NEST_BE_CHOICE_AUTO] = "auto",
	[NEST_BE_CHOICE_SIM] = "sim",
	[NEST_BE_CHOICE_VFIO_TYPE1] = "vfio-type1",
	[NEST_BE_CHOICE_VFIO_NESTING] = "vfio-nesting",
	[NEST_BE_CHOICE_IOMMUFD] = "iommufd",
};

const char *nest_backend_choice_name(enum nest_backend_choice c)
{
	return (unsigned)c < NEST_BE_CHOICE_MAX ? choice_names[c] : "unknown";
}

int nest_backend_choice_parse(const char *s)
{
	for (int i = 0; i < NEST_BE_CHOICE_MAX; i++)
		if (strcmp(s, choice_names[i]) == 0)
			return i;
	return -EINVAL;
}

const struct nest_backend_ops *nest_backend_lookup(enum nest_backend_choice c)
{
	switch (c) {
	case NEST_BE_CHOICE_SIM:
		return &nest_backend_sim_ops;
	case NEST_BE_CHOICE_VFIO_TYPE1:
		return &nest_backend_vfio_type1_ops;
	case NEST_BE_CHOICE_VFIO_NESTING:
		return &nest_backend_vfio_nesting_ops;
	case NEST_BE_CHOICE_IOMMUFD:
		return &nest_backend_iommufd_ops;
	default:
		return NULL;
	}
}

static int backend_probe(const struct nest_backend_ops *ops, const struct nest_backend_params *p,
			 char *why, size_t len)
{
	why[0] = '\0';
	return ops->probe ? ops->probe(p, why, len) : 0;
}

static int select_forced(const struct nest_backend_params *p,
			 const struct nest_backend_ops **ret_ops, char *why, size_t len)
{
	const struct nest_backend_ops *ops = nest_backend_lookup(p->choice);
	char reason[512];
	int r;

	if (!ops) {
		snprintf(why, len, "backend %s is not built into this nestd",
			 nest_backend_choice_name(p->choice));
		return -EOPNOTSUPP;
	}
	if (ops == &nest_backend_sim_ops && (p->n_host_pci || p->n_mock)) {
		snprintf(why, len, "backend sim cannot serve host devices (%s%s is configured)",
			 p->n_host_pci ? "pci=" : "mock=yes", p->n_host_pci ? p->host_pci[0] : "");
		return -EINVAL;
	}
	r = backend_probe(ops, p, reason, sizeof(reason));
	if (r < 0) {
		snprintf(why, len, "%s", reason[0] ? reason : strerror(-r));
		return r;
	}
	snprintf(why, len, "forced by configuration%s%s", reason[0] ? "; " : "", reason);
	*ret_ops = ops;
	return 0;
}

int nest_backend_select(const struct nest_backend_params *p,
			const struct nest_backend_ops **ret_ops, char *why, size_t len)
{
	static const enum nest_backend_choice auto_order[] = {
		NEST_BE_CHOICE_IOMMUFD,
		NEST_BE_CHOICE_VFIO_NESTING,
		NEST_BE_CHOICE_VFIO_TYPE1,
	};
	char reason[512];
	size_t used = 0;

	why[0] = '\0';
	if (p->choice != NEST_BE_CHOICE_AUTO)
		return select_forced(p, ret_ops, why, len);
	if (p->n_host_pci == 0 && p->n_mock == 0) {
		snprintf(why, len,
			 "auto: no host device (pci=) is configured, so the devices are "
			 "simulated");
		*ret_ops = &nest_backend_sim_ops;
		return 0;
	}
	for (size_t i = 0; i < sizeof(auto_order) / sizeof(auto_order[0]); i++) {
		const struct nest_backend_ops *ops = nest_backend_lookup(auto_order[i]);
		int r, n;

		if (!ops) {
			snprintf(reason, sizeof(reason), "not built in");
			r = -EOPNOTSUPP;
		} else {
			r = backend_probe(ops, p, reason, sizeof(reason));
		}
		if (r == 0) {
			snprintf(why + used, len - used,
				 "%sauto: %s can serve the host devices%s%s", used ? "; " : "",
				 nest_backend_choice_name(auto_order[i]), reason[0] ? ": " : "",
				 reason);
			*ret_ops = ops;
			return 0;
		}
		n = snprintf(why + used, len - used, "%s%s: %s", used ? "; " : "",
			     nest_backend_choice_name(auto_order[i]),
			     reason[0] ? reason : strerror(-r));
		if (n > 0 && (size_t)n < len - used)
			used += (size_t)n;
	}
	return -ENODEV;
}
