/* SPDX-License-Identifier: MIT */
/*
 * fake-nestd.h - a scripted fake nestd for libnest's protocol tests (test-libnest-proto.c): a
 * forked child that speaks the wire protocol through nestproto and follows one script per mode
 * (fake-nestd.c), for what the real nestd and its sim cannot be made to do: answer out of order,
 * lie, die mid-call, speak protocol 1.1 with native nesting, page requests and vIOMMU objects.
 */
#ifndef NEST_FAKE_NESTD_H
#define NEST_FAKE_NESTD_H

#include <stdint.h>
#include <sys/types.h>

#include "client-test.h"

#define NREQ 8

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

#define PRQ_ADDR   0x7f0000001000ull
#define PRQ_COOKIE 41u

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

/* FAKE_BURST_FDS: the DEVICE_GETs the fake reads before it answers (fake_serve_burst()) */
#define BURST_N 4

/* What VM_ATTACH answers in FAKE_NATIVE (fake_serve_native()). */
extern const struct nest_vm_info native_info;

/* Entry @i of the INVALIDATE_NATIVE batch (8 bytes) and of the VIOMMU_INVALIDATE one (16). */
void native_entry(uint32_t i, uint8_t *e);
void viommu_entry(uint32_t i, uint8_t *e);

/* Fork the fake in @mode, listening on @dir (a mkdtemp template)/fake.sock, written to @path. */
pid_t fake_start(char *dir, char *path, size_t cap, enum fake_mode mode);

/* Reap the fake (it must exit 0), remove its socket and @dir, and check no fd of ours leaked. */
void fake_finish(pid_t pid, char *dir, char *path, int fds_before);

#endif /* NEST_FAKE_NESTD_H */
