/* SPDX-License-Identifier: MIT */
/*
 * backend.c - backend registry and selection.
 *
 * AUTO: try the kernel backends that are built in (iommufd, then vfio-nesting, then vfio-type1)
 * and use the first whose probe() says the IOMMU hardware and uAPI are usable; when none is
 * (no /dev/iommu, no /dev/vfio, no nesting uAPI, or no kernel backend built), fall back to sim.
 * A forced choice must be built in and must probe OK.
 */
#include <errno.h>
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
	default:
		/* kernel backends are added here as they are built in */
		return NULL;
	}
}

static int backend_probe(const struct nest_backend_ops *ops, const struct nest_backend_params *p)
{
	return ops->probe ? ops->probe(p) : 0;
}

int nest_backend_select(const struct nest_backend_params *p,
			const struct nest_backend_ops **ret_ops)
{
	static const enum nest_backend_choice auto_order[] = {
		NEST_BE_CHOICE_IOMMUFD,
		NEST_BE_CHOICE_VFIO_NESTING,
		NEST_BE_CHOICE_VFIO_TYPE1,
	};
	const struct nest_backend_ops *ops;
	int r;

	if (p->choice != NEST_BE_CHOICE_AUTO) {
		ops = nest_backend_lookup(p->choice);
		if (!ops)
			return -EOPNOTSUPP;
		r = backend_probe(ops, p);
		if (r < 0)
			return r;
		*ret_ops = ops;
		return 0;
	}
	for (size_t i = 0; i < sizeof(auto_order) / sizeof(auto_order[0]); i++) {
		ops = nest_backend_lookup(auto_order[i]);
		if (ops && backend_probe(ops, p) == 0) {
			*ret_ops = ops;
			return 0;
		}
	}
	*ret_ops = &nest_backend_sim_ops;
	return 0;
}
