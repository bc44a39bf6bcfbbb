/* SPDX-License-Identifier: MIT */
/*
 * config.h - nestd configuration: /etc/nestd/nestd.conf + nestd.conf.d/ *.conf drop-ins,
 * systemd-style INI ([Section], Key=value, '#'/';' comments). See nestd.conf(5).
 *
 * The parsed result is immutable: a reload builds a new struct nestd_config and swaps it in only
 * when it parsed and validated completely (a bad reload keeps the old one).
 */
#ifndef NESTD_CONFIG_H
#define NESTD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "nest-proto.h"
#include "pasid-windows.h"

#define NESTD_CONFIG_PATH    "/etc/nestd/nestd.conf"
#define NESTD_SOCKET_PATH    "/run/nestd/nestd.sock"
#define NESTD_ADMIN_PATH     "/run/nestd/admin.sock"
#define NESTD_VMS_MAX	     1024
#define NESTD_VM_OWNERS_MAX  16
#define NESTD_VM_DEVICES_MAX 64
#define NESTD_PCI_ADDR_MAX   13	 /* "DDDD:BB:DD.F" + NUL */
#define NESTD_PATH_MAX	     108 /* sizeof(sun_path) */

enum nestd_backend_choice {
	NESTD_BACKEND_AUTO = 0,
	NESTD_BACKEND_SIM,
	NESTD_BACKEND_VFIO_TYPE1,
	NESTD_BACKEND_VFIO_NESTING,
	NESTD_BACKEND_IOMMUFD,
	NESTD_BACKEND_MAX,
};

struct nestd_device_cfg {
	char name[NEST_DEVICE_NAME_MAX]; /* unique within the VM */
	uint32_t id;			 /* dev_id on the wire, unique within the VM */
	bool ats;			 /* sim: device has a device TLB */
	uint32_t pasid_bits;		 /* sim: PASID width, 1..20 */
	char pci[NESTD_PCI_ADDR_MAX];	 /* host device: "DDDD:BB:DD.F"; "" = simulated device */
	bool mock;			 /* an iommufd selftest mock device (iommufd backend) */
};

struct nestd_vm_cfg {
	char name[NEST_VM_NAME_MAX];
	uid_t uids[NESTD_VM_OWNERS_MAX]; /* peers whose SO_PEERCRED uid matches may attach */
	size_t n_uids;
	gid_t gids
		[NESTD_VM_OWNERS_MAX]; /* ... or in one of these groups (primary or supplementary) */
	size_t n_gids;
	struct nestd_device_cfg devices[NESTD_VM_DEVICES_MAX];
	size_t n_devices;
	uint32_t pasid_quota; /* max PASIDs held at once; default 64 */
	/* PASIDRange=: the VM's own PASID window (exclusive); 0-0 = the shared pool */
	uint32_t pasid_min, pasid_max;
	uint64_t mem_limit;   /* max bytes of registered guest RAM; default 64 GiB */
	uint32_t max_regions; /* default [Limits] MaxRegionsPerVM */
	uint32_t grace_sec;   /* hold state this long after the VMM disconnects; 0 = none */
	bool checker;	      /* sim: stale-translation checker on by default for this VM */
};

struct nestd_limits {
	uint32_t max_msg_size;	     /* NEST_MSG_SIZE_DEFAULT */
	uint32_t max_fds;	     /* NEST_FDS_PER_MSG_MAX */
	uint32_t max_batch;	     /* NEST_BATCH_DEFAULT */
	uint32_t max_inflight;	     /* NEST_INFLIGHT_DEFAULT */
	uint32_t max_conns;	     /* 1024, VM + admin connections */
	uint32_t max_conns_per_uid;  /* 64 */
	uint32_t admin_reserve;	     /* 8 slots of max_conns only admin peers may take */
	uint32_t max_regions_per_vm; /* 256 */
	uint32_t max_outq; /* 256 queued outgoing messages per connection, then disconnect */
	uint32_t hello_timeout_sec; /* 10: connections that do not HELLO in time are closed */
	uint32_t audit_rate;	    /* 20 audit records/s per (VM, uid), then folded; 0: never */
	uint32_t audit_burst;	    /* 200 */
	uint32_t audit_summary_sec; /* 10: one summary of folded records per period */
};

struct nestd_sim_cfg {
	uint32_t iotlb_entries;	      /* 4096 */
	uint32_t devtlb_entries;      /* 512 */
	uint32_t pasid_cache_entries; /* 256 */
	uint32_t max_gaw;	      /* 48: guest physical address width (reserved-bit checks) */
	uint32_t touch_limit_mib;     /* 64: holes of its memfds one VM's DMA may fill, in MiB */
};

struct nestd_config {
	enum nestd_backend_choice backend;
	char socket_path[NESTD_PATH_MAX];
	uint32_t socket_mode;  /* 0660 */
	char socket_group[64]; /* "" = primary group of the daemon */
	char admin_socket_path[NESTD_PATH_MAX];
	char admin_group[64]; /* "" = root only */
	int log_level;	      /* syslog priority, LOG_INFO */
	struct nestd_limits limits;
	struct nestd_sim_cfg sim;
	struct nestd_vm_cfg *vms; /* n_vms entries, names unique */
	size_t n_vms;
	struct nestd_pasid_windows pasid_windows; /* the VMs' PASIDRange= windows, sorted */
};

/* Fill @c with every default (no VMs). */
void nestd_config_defaults(struct nestd_config *c);

/*
 * nestd_config_load() - parse @path (must exist unless it is the default path) and then every
 * "*.conf" in "@path.d/" in lexical order; later keys override earlier ones, [VM] sections add
 * VMs (a [VM] with the Name= of an earlier one replaces it).
 * On error returns -errno and writes "<file>:<line>: <Key>: <what is wrong>" into @err.
 */
int nestd_config_load(const char *path, struct nestd_config **ret, char *err, size_t errlen);

struct nestd_config *nestd_config_free(struct nestd_config *c);

/* Print the effective configuration in the same INI format (re-parsable). */
int nestd_config_dump(const struct nestd_config *c, FILE *f);

const char *nestd_backend_name(enum nestd_backend_choice b);
const struct nestd_vm_cfg *nestd_config_find_vm(const struct nestd_config *c, const char *name);

/* Host devices of @c (pci= set), for the backend probe: fills up to @max pointers into @c. */
size_t nestd_config_host_pci(const struct nestd_config *c, const char **ret, size_t max);
/* Number of iommufd mock devices (mock=yes) in @c. */
size_t nestd_config_n_mock(const struct nestd_config *c);
/* A device a kernel backend serves (host PCI device or iommufd mock), not the sim. */
static inline bool nestd_device_is_kernel(const struct nestd_device_cfg *d)
{
	return d->pci[0] || d->mock;
}

#endif /* NESTD_CONFIG_H */
