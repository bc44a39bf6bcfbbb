/* SPDX-License-Identifier: MIT */
/*
 * Drive QEMU's `edu` test device (PCI 1234:11e8) through a VFIO device fd, in a guest test.
 *
 * edu has a 4 KiB internal buffer at 0x40000 in its own address space and a DMA engine that
 * copies between that buffer and bus addresses (IOVAs, 28-bit DMA mask); each DMA completes
 * after a 100 ms virtual-clock timer. Register map (BAR0): 0x00 id (0x010000ed), 0x80 source,
 * 0x88 destination, 0x90 count, 0x98 command (bit 0 start/busy, bit 1 direction: 0 = RAM to
 * edu, 1 = edu to RAM, as QEMU's hw/misc/edu.c implements it).
 *
 * All functions return 0 (or a count) on success and -errno on failure; none prints.
 * Only <linux/vfio.h> from Debian 12 is used; registers are accessed with pread/pwrite on the
 * device fd, so a device fd received over SCM_RIGHTS works the same as one from the group.
 *
 * A DMA that the IOMMU blocks still completes from edu's point of view: edu_dma() returns 0.
 * Detect faults from the data (the destination stays untouched) and from the kernel log: the
 * VT-d driver logs one line per fault,
 *   DMAR: [DMA Write NO_PASID] Request device [00:04.0] fault addr 0x800000 [fault reason 0x05] ...
 * (Linux 7.3 writes the device with its PCI domain, "[0000:00:04.0]"; both forms are matched).
 * edu_dmar_faults() counts those lines (reading /dev/kmsg, root only); a shell test can do the
 * same with `dmesg | grep -c 'DMAR: \[DMA .*fault addr'`. The kernel rate-limits these messages
 * (about 5 faults per 5 s are logged), so keep fault checks few or spaced out.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDU_VENDOR_ID  0x1234
#define EDU_DEVICE_ID  0x11e8
#define EDU_ID_VALUE   0x010000edu /* register 0x00: major 1, minor 0, magic 0xed */
#define EDU_BUF_ADDR   0x40000u	   /* internal DMA buffer, in edu's address space */
#define EDU_BUF_SIZE   4096u
#define EDU_DMA_LIMIT  (1ull << 28) /* edu's DMA mask: IOVAs must be below this */
#define EDU_TIMEOUT_MS 5000	    /* default DMA completion timeout (a DMA takes ~100 ms) */

#define EDU_REG_ID	   0x00
#define EDU_REG_ALIVE	   0x04
#define EDU_REG_DMA_SRC	   0x80
#define EDU_REG_DMA_DST	   0x88
#define EDU_REG_DMA_CNT	   0x90
#define EDU_REG_DMA_CMD	   0x98
#define EDU_DMA_CMD_RUN	   0x1
#define EDU_DMA_CMD_TO_RAM 0x2 /* direction bit: set = edu buffer -> RAM */

enum edu_dir {
	EDU_RAM_TO_EDU = 0, /* read IOVA into edu's buffer */
	EDU_EDU_TO_RAM = 1, /* write edu's buffer to IOVA */
};

struct edu {
	int fd; /* VFIO device fd (not owned: edu_* never closes it) */
	uint32_t num_regions;
	uint32_t num_irqs;
	uint32_t dev_flags; /* VFIO_DEVICE_FLAGS_* */
	uint64_t bar0_offset;
	uint64_t bar0_size;
	uint32_t bar0_flags; /* VFIO_REGION_INFO_FLAG_* */
	uint64_t cfg_offset;
	uint64_t cfg_size;
};

/* VFIO_DEVICE_GET_INFO and the region info of BAR0 and the config region. -ENODEV if the
 * device is not a PCI device or BAR0 is missing. Does not touch the device. */
int edu_init(struct edu *e, int device_fd);

/* Set memory space + bus master in the PCI command register (config region). */
int edu_enable_bus_master(const struct edu *e);

/* PCI config space access through the config region. */
int edu_cfg_read16(const struct edu *e, uint32_t off, uint16_t *val);
int edu_cfg_write16(const struct edu *e, uint32_t off, uint16_t val);

/* BAR0 register access (edu accepts 4-byte accesses everywhere, 8-byte ones from 0x80). */
int edu_read32(const struct edu *e, uint32_t reg, uint32_t *val);
int edu_write32(const struct edu *e, uint32_t reg, uint32_t val);
int edu_read64(const struct edu *e, uint32_t reg, uint64_t *val);
int edu_write64(const struct edu *e, uint32_t reg, uint64_t val);

/* Read the id register; -EIO if it is not EDU_ID_VALUE (id is stored either way). */
int edu_read_id(const struct edu *e, uint32_t *id);

/* Start one DMA of count bytes between IOVA iova and edu's buffer at offset buf_off.
 * -EINVAL if count is 0 or buf_off + count exceeds EDU_BUF_SIZE, -ERANGE if the IOVA range is
 * not below EDU_DMA_LIMIT, -EBUSY if a DMA is still running. */
int edu_dma_start(const struct edu *e, enum edu_dir dir, uint64_t iova, uint32_t buf_off,
		  uint32_t count);

/* Poll the command register until the running DMA has completed: 0, or -ETIMEDOUT after
 * timeout_ms (<= 0: EDU_TIMEOUT_MS). */
int edu_dma_wait(const struct edu *e, int timeout_ms);

/* edu_dma_start() + edu_dma_wait(). 0 means edu completed the DMA, not that the IOMMU let it
 * through. */
int edu_dma(const struct edu *e, enum edu_dir dir, uint64_t iova, uint32_t buf_off, uint32_t count,
	    int timeout_ms);

/* The IOMMU group number of PCI device bdf ("0000:00:04.0"), from sysfs, or -errno. */
int edu_iommu_group(const char *bdf);

/* Number of DMAR fault lines in the kernel log so far (from /dev/kmsg), only those naming the
 * device bdf ("0000:00:04.0" or "00:04.0") unless bdf is NULL; or -errno. */
int edu_dmar_faults(const char *bdf);

/* Wait until edu_dmar_faults(bdf) exceeds before (faults are logged from an interrupt, a little
 * after the DMA completed). Returns the new count, or -ETIMEDOUT after timeout_ms (<= 0: 2000)
 * if no new fault line appeared, or another -errno. */
int edu_dmar_wait_faults(const char *bdf, int before, int timeout_ms);

/* True if line (one kernel log message) is a DMAR fault report, for device bdf unless NULL. */
bool edu_is_dmar_fault_line(const char *line, const char *bdf);
