/* SPDX-License-Identifier: MIT */
/*
 * kdouble.c - the scripted VFIO kernel double (kdouble.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kdouble.h"
#include "vfio-nesting.h"

static void mkdirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	mkdir(buf, 0755);
}

static void touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

	if (fd >= 0)
		close(fd);
}

static int kd_open(void *opaque, const char *path, int flags)
{
	struct kd *kd = opaque;
	const char *rel;
	int fd;

	if (strncmp(path, kd->dev, strlen(kd->dev)) != 0 || access(path, F_OK) < 0)
		return -ENOENT;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0 || fd >= 1024)
		return -EMFILE;
	rel = path + strlen(kd->dev);
	if (strcmp(rel, "/vfio/vfio") == 0) {
		kd->kinds[fd] = KD_CONTAINER;
		kd->objs[fd] = kd->n_containers++;
	} else {
		kd->kinds[fd] = KD_GROUP;
		kd->objs[fd] = atoi(rel + strlen("/vfio/"));
	}
	return fd;
}

static uint32_t arg_len(unsigned long req, const void *arg)
{
	uint32_t argsz;

	switch (req) {
	case VFIO_GET_API_VERSION:
	case VFIO_CHECK_EXTENSION:
	case VFIO_SET_IOMMU:
	case VFIO_DEVICE_RESET: /* no argument */
		return 0;
	case VFIO_GROUP_SET_CONTAINER:
		return sizeof(int);
	case VFIO_GROUP_GET_DEVICE_FD:
		return (uint32_t)strlen(arg) + 1;
	default:
		memcpy(&argsz, arg, sizeof(argsz));
		return argsz;
	}
}

static void kd_record(struct kd *kd, int fd, unsigned long req, void *arg)
{
	struct kd_call *c;
	uint32_t len;

	if (kd->n_calls >= KD_LOG_MAX)
		return;
	c = &kd->calls[kd->n_calls++];
	*c = (struct kd_call){.kind = kd->kinds[fd], .obj = kd->objs[fd], .req = req};
	len = arg_len(req, arg);
	if (len == 0)
		c->arg = (unsigned long)arg;
	c->len = len > KD_BYTES_MAX ? KD_BYTES_MAX : len;
	if (c->len)
		memcpy(c->bytes, arg, c->len);
}

/* GET_INFO: the iova range cap, then the configured nesting / DMA_AVAIL cap. */
static int kd_get_info(struct kd *kd, struct vfio_iommu_type1_info *info)
{
	uint8_t buf[256] = {0};
	struct vfio_iommu_type1_info *out = (void *)buf;
	struct vfio_iommu_type1_info_cap_iova_range *ir;
	uint32_t off = sizeof(*out), ir_len;

	out->flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	out->iova_pgsizes = 0x40201000;
	out->cap_offset = off;
	ir = (void *)(buf + off);
	ir_len = sizeof(*ir) + sizeof(struct vfio_iova_range);
	ir->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	ir->header.version = 1;
	ir->nr_iovas = 1;
	ir->iova_ranges[0].start = kd->range_start;
	ir->iova_ranges[0].end = kd->range_last;
	off += ir_len;
	if (kd->cap == KD_CAP_DMA_AVAIL) {
		struct vfio_info_cap_header *h = (void *)(buf + off);

		ir->header.next = off;
		h->id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
		h->version = 1;
		*(uint32_t *)(h + 1) = 65535;
		off += 12;
	} else if (kd->cap == KD_CAP_V7) {
		struct vfio_iommu_type1_info_cap_nesting *cn = (void *)(buf + off);

		ir->header.next = off;
		cn->header.id = NEST_VFIO_CAP_NESTING_ID_V7;
		cn->header.version = 1;
		cn->info = (struct iommu_nesting_info){
			.argsz = sizeof(cn->info),
			.format = IOMMU_PASID_FORMAT_INTEL_VTD,
			.features = IOMMU_NESTING_FEAT_SYSWIDE_PASID |
				    IOMMU_NESTING_FEAT_BIND_PGTBL | IOMMU_NESTING_FEAT_CACHE_INVLD,
			.addr_width = 48,
			.pasid_bits = 20,
			.vendor.vtd = {.cap_reg = 0x00d2008c22260286, .ecap_reg = 0x490080f00f4a},
		};
		off += sizeof(*cn);
	}
	out->argsz = off;
	if (info->argsz < off) {
		info->argsz = off; /* like the kernel: ask again with room */
		info->flags = out->flags & ~VFIO_IOMMU_INFO_CAPS;
		return 0;
	}
	memcpy(info, buf, off);
	return 0;
}

static int kd_container(struct kd *kd, unsigned long req, void *arg)
{
	struct vfio_iommu_type1_pasid_request *pr = arg;

	switch (req) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		if ((unsigned long)arg == VFIO_TYPE1v2_IOMMU)
			return 1;
		return (unsigned long)arg == VFIO_TYPE1_NESTING_IOMMU && kd->nesting_ext;
	case VFIO_SET_IOMMU:
		if ((unsigned long)arg == VFIO_TYPE1_NESTING_IOMMU && kd->set_iommu_nesting_errno)
			return -kd->set_iommu_nesting_errno;
		return 0;
	case VFIO_IOMMU_GET_INFO:
		return kd_get_info(kd, arg);
	case VFIO_IOMMU_MAP_DMA:
		return 0;
	case VFIO_IOMMU_UNMAP_DMA:
		return 0;	       /* size stays as asked: all of it unmapped */
	case VFIO_IOMMU_PASID_REQUEST: /* = VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY on mainline */
		if (kd->cap != KD_CAP_V7)
			return -ENOTTY;
		return (pr->flags & VFIO_IOMMU_FLAG_ALLOC_PASID) ? (int)kd->next_pasid++ : 0;
	case VFIO_IOMMU_NESTING_OP:
		return kd->cap == KD_CAP_V7 ? 0 : -ENOTTY;
	default:
		return -ENOTTY;
	}
}

/* Viable unless a device of the group has a driver other than vfio-pci. */
static bool kd_group_viable(const struct kd *kd, int grp)
{
	char path[512], link[512];
	struct dirent *de;
	bool viable = true;
	DIR *d;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", kd->sysfs, grp);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices/%s/driver",
			 kd->sysfs, grp, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			if (!strstr(link, "/vfio-pci"))
				viable = false;
		}
	}
	if (d)
		closedir(d);
	return viable;
}

static int kd_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	struct kd *kd = opaque;
	struct vfio_group_status *st = arg;
	int r;

	if (fd < 0 || fd >= 1024 || kd->kinds[fd] == KD_NONE)
		return -EBADF;
	kd_record(kd, fd, req, arg);
	if (kd->fail_req_errno && kd->fail_req == req) {
		r = -kd->fail_req_errno;
		kd->fail_req_errno = 0;
		return r;
	}
	if (kd->kinds[fd] == KD_CONTAINER)
		return kd_container(kd, req, arg);
	switch (req) {
	case VFIO_GROUP_GET_STATUS:
		st->flags = kd_group_viable(kd, kd->objs[fd]) ? VFIO_GROUP_FLAGS_VIABLE : 0;
		return 0;
	case VFIO_GROUP_SET_CONTAINER:
		return 0;
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: {
		struct vfio_pci_hot_reset_info *hi = arg;

		if (!kd->n_reset_deps)
			return -ENODEV;
		hi->count = kd->n_reset_deps;
		if (hi->argsz < sizeof(*hi) + kd->n_reset_deps * sizeof(hi->devices[0]))
			return -ENOSPC;
		memcpy(hi->devices, kd->reset_deps, kd->n_reset_deps * sizeof(hi->devices[0]));
		return 0;
	}
	case VFIO_DEVICE_PCI_HOT_RESET:
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD:
		r = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (r >= 0 && r < 1024)
			kd->kinds[r] = KD_DEVICE;
		return r < 0 ? -errno : r;
	default:
		return -ENOTTY;
	}
}

void kd_init(struct kd *kd, const char *const *devices, unsigned n)
{
	char path[512], target[512];

	memset(kd, 0, sizeof(*kd));
	snprintf(kd->root, sizeof(kd->root), "/tmp/nest-kd.XXXXXX");
	if (!mkdtemp(kd->root))
		abort();
	snprintf(kd->sysfs, sizeof(kd->sysfs), "%s/sys", kd->root);
	snprintf(kd->dev, sizeof(kd->dev), "%s/dev", kd->root);
	snprintf(path, sizeof(path), "%s/vfio", kd->dev);
	mkdirs(path);
	snprintf(path, sizeof(path), "%s/vfio/vfio", kd->dev);
	touch(path);
	for (unsigned i = 0; i < n; i++) {
		char pci[32], drv[32] = "vfio-pci";
		int grp = 0;

		/* "DDDD:BB:DD.F:GROUP[:DRIVER]" */
		if (strlen(devices[i]) < 14 || sscanf(devices[i], "%12s", pci) != 1 ||
		    sscanf(devices[i] + 13, "%d:%31s", &grp, drv) < 1)
			abort();
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", kd->sysfs, pci);
		mkdirs(path);
		snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", kd->sysfs, grp);
		mkdirs(path);
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", kd->sysfs, pci);
		snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%d", grp);
		if (symlink(target, path) < 0)
			abort();
		snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s", kd->sysfs, drv);
		mkdirs(path);
		snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices/%s", kd->sysfs, grp,
			 pci);
		mkdirs(path);
		snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices/%s/driver",
			 kd->sysfs, grp, pci);
		snprintf(target, sizeof(target), "%s/bus/pci/drivers/%s", kd->sysfs, drv);
		if (symlink(target, path) < 0)
			abort();
		snprintf(path, sizeof(path), "%s/vfio/%d", kd->dev, grp);
		touch(path);
	}
	kd->sys = (struct nest_vfio_sys){.open = kd_open,
					 .ioctl = kd_ioctl,
					 .opaque = kd,
					 .sysfs_root = kd->sysfs,
					 .dev_root = kd->dev};
	kd->next_pasid = 100;
	kd->range_start = 0;
	kd->range_last = 0xfedfffff; /* below the x86 interrupt range, as VT-d reports */
	kd->fail_req = ~0ul;
}

void kd_fini(struct kd *kd)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", kd->root);
	if (system(cmd) != 0)
		fprintf(stderr, "kd: could not remove %s\n", kd->root);
}

unsigned kd_count(const struct kd *kd, unsigned long req)
{
	unsigned n = 0;

	for (unsigned i = 0; i < kd->n_calls; i++)
		n += kd->calls[i].req == req;
	return n;
}

const struct kd_call *kd_find(const struct kd *kd, unsigned long req, unsigned n)
{
	for (unsigned i = 0; i < kd->n_calls; i++)
		if (kd->calls[i].req == req && n-- == 0)
			return &kd->calls[i];
	return NULL;
}
