/* SPDX-License-Identifier: MIT */
/*
 * viommu-daemon.h - what the vIOMMU tests of the daemon (it-viommu-daemon, it-viommu-attach)
 * share: nestd-fake-native started with the standard configuration, clients, the vIOMMU
 * requests, and the admin views, counters and audit trail they check.
 */
#ifndef NEST_TEST_VIOMMU_DAEMON_H
#define NEST_TEST_VIOMMU_DAEMON_H

#include "common.h"
#include "nest-msg.h"

#define VIOMMU	     0x7e50u /* fake-native.c */
#define VINV	     0x7e51u
#define VEVENT	     0x7e52u
#define VFAIL	     0xfa150000u
#define VLOST	     0x1057u
#define DEV_CACHE    0xcafeu
#define CAPS_VIOMMU  "{\"software\":\"tclient\",\"features\":[\"viommu\"]}"
#define CAPS_NOTHING "{\"software\":\"tclient\"}"

struct vev {
	struct nest_ev_vevent h;
	uint8_t data[NEST_VEVENT_DATA_MAX];
};

struct ventry {
	uint32_t flags, vdev_id;
};

/* nestd-fake-native with the standard configuration (+ @extra_vm0 lines), stderr to d->log */
void start(struct td *d, const char *extra_vm0, bool capture);
struct tc *client_caps(struct td *d, uint16_t minor, const char *caps);
int v_alloc(struct tc *t, uint32_t dev, uint32_t type, uint32_t *ret);
int v_free(struct tc *t, uint32_t id);
int v_vdev(struct tc *t, uint32_t id, uint32_t dev, uint64_t virt);
int v_inv(struct tc *t, uint32_t id, uint32_t type, const struct ventry *e, uint32_t n,
	  struct nest_invalidate_reply *rep);
int trigger(struct tc *a, const char *vm, uint32_t dev);
/* mock.check_dev_cache: 1 match, 0 mismatch, -errno */
int dev_cache(struct tc *a, const char *vm, uint32_t dev, uint32_t slot, uint32_t value);
int wait_vev(struct tc *t, struct vev *ev, int ms);
long admin_num(struct tc *a, const char *cmd, const char *args, const char *obj, const char *key);
/* a backend counter (stats), a VM counter (vm.show) */
long be(struct tc *a, const char *key);
long vm_ctr(struct tc *a, const char *vm, const char *key);
/* vm.show "viommus": how many, and the device of the one with @id (-1 if none) */
int vm_viommus(struct tc *a, const char *vm, uint32_t id, long *ret_dev);

#endif
