/* SPDX-License-Identifier: MIT */
/* Stage 2: the VM's RAM regions, mapped MAP_SHARED from the caller's fds, sorted by GPA. */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "sim-internal.h"

/* First region whose end is above @gpa (the only candidate to contain it). */
static uint32_t sim_s2_search(const struct sim_s2 *s2, uint64_t gpa)
{
	uint32_t lo = 0, hi = s2->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct sim_region *r = &s2->v[mid];

		if (r->gpa + r->len <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct sim_region *sim_s2_lookup(const struct sim_s2 *s2, uint64_t gpa)
{
	uint32_t i = sim_s2_search(s2, gpa);

	if (i < s2->n && s2->v[i].gpa <= gpa)
		return &s2->v[i];
	return NULL;
}

void sim_s2_clear(struct sim_s2 *s2)
{
	for (uint32_t i = 0; i < s2->n; i++)
		munmap(s2->v[i].hva, s2->v[i].len);
	free(s2->v);
	*s2 = (struct sim_s2){0};
}

static int sim_s2_check_args(const struct nest_sim *sim, uint64_t gpa, uint64_t len,
			     uint64_t fd_offset, uint32_t perms)
{
	uint64_t end;

	if (perms & ~NEST_SIM_PERM_VALID)
		return -EOPNOTSUPP;
	if (!perms || !len)
		return -EINVAL;
	if (__builtin_add_overflow(gpa, len, &end) ||
	    __builtin_add_overflow(fd_offset, len, &(uint64_t){0}))
		return -EOVERFLOW;
	if ((gpa | len | fd_offset) & SIM_PAGE_MASK)
		return -EINVAL;
	if (end > (1ull << sim->cfg.max_gaw))
		return -EINVAL;
	/* mmap takes size_t / off_t: refuse what they cannot express */
	if (len > SIZE_MAX || fd_offset + len > (uint64_t)INT64_MAX)
		return -EINVAL;
	return 0;
}

#define SIM_SHMEM_THP "/sys/kernel/mm/transparent_hugepage/shmem_enabled"

bool sim_s2_thp_refused(int madv_errno, bool shmem, const char *shmem_enabled)
{
	const char *sel;

	if (madv_errno == 0 || madv_errno == EINVAL) /* advised, or a kernel without THP */
		return false;
	if (!shmem || !shmem_enabled) /* no shmem huge pages: not tmpfs, or no THP at all */
		return false;
	sel = strchr(shmem_enabled, '[');
	/* "deny" turns huge pages off for every tmpfs mount and memfd; anything else may not */
	return !(sel && strncmp(sel, "[deny]", 6) == 0);
}

/*
 * Faults through our view of a hole must bring 4 KiB into existence, as sim-touch.c counts: on
 * shmem with transparent huge pages (shmem_enabled "always", "within_size", "force", or a tmpfs
 * mounted huge=) a fault would fill a whole 2 MiB page, charged to nestd. MADV_NOHUGEPAGE on our
 * mapping makes our faults allocate base pages whatever the file's setting (the VMM's own
 * mappings keep theirs). Where the advice is refused (a seccomp filter) and the file could get
 * huge pages, the region is refused: what we would fill could not be bounded.
 */
static int sim_s2_no_thp(int fd, void *p, uint64_t len)
{
	char buf[128] = "";
	struct statfs sf;
	bool shmem, no_thp;
	ssize_t n;
	int tfd, err;

	if (madvise(p, (size_t)len, MADV_NOHUGEPAGE) == 0)
		return 0;
	err = errno;
	if (err == EINVAL) /* a kernel without THP */
		return 0;
	shmem = fstatfs(fd, &sf) < 0 || sf.f_type == (typeof(sf.f_type))TMPFS_MAGIC;
	/*
	 * absent from a mounted sysfs: a kernel without THP; unreadable for any other reason (no
	 * sysfs in a sandbox, EACCES): "", which is refused for a shmem file
	 */
	tfd = open(SIM_SHMEM_THP, O_RDONLY | O_CLOEXEC);
	if (tfd >= 0) {
		n = read(tfd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(tfd);
		return sim_s2_thp_refused(err, shmem, buf) ? -EINVAL : 0;
	}
	no_thp = errno == ENOENT && statfs("/sys/kernel/mm", &sf) == 0 &&
		 sf.f_type == (typeof(sf.f_type))SYSFS_MAGIC;
	return sim_s2_thp_refused(err, shmem, no_thp ? NULL : "") ? -EINVAL : 0;
}

static int sim_s2_map(int fd, uint64_t len, uint64_t fd_offset, uint32_t perms, uint8_t **ret)
{
	struct stat st;
	int prot = 0;
	void *p;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size < fd_offset + len)
		return -EINVAL;
	if (perms & NEST_SIM_PERM_R)
		prot |= PROT_READ;
	if (perms & NEST_SIM_PERM_W)
		prot |= PROT_WRITE;
	p = mmap(NULL, (size_t)len, prot, MAP_SHARED, fd, (off_t)fd_offset);
	if (p == MAP_FAILED)
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	if (sim_s2_no_thp(fd, p, len) < 0) {
		munmap(p, (size_t)len);
		return -EINVAL;
	}
	*ret = p;
	return 0;
}

int nest_sim_region_add(struct nest_sim *sim, uint32_t domain, uint64_t gpa, uint64_t len, int fd,
			uint64_t fd_offset, uint32_t perms)
{
	struct sim_domain *dom = sim_domain_get(sim, domain);
	struct sim_s2 *s2;
	struct stat st;
	uint8_t *hva;
	uint32_t at;
	int r;

	if (!dom)
		return -ENOENT;
	s2 = &dom->s2;
	r = sim_s2_check_args(sim, gpa, len, fd_offset, perms);
	if (r < 0)
		return r;
	at = sim_s2_search(s2, gpa);
	if (at < s2->n && s2->v[at].gpa < gpa + len)
		return -EEXIST;
	if (s2->n >= NEST_SIM_REGIONS_MAX)
		return -ENOSPC;
	if (s2->n == s2->cap) {
		uint32_t cap = s2->cap ? s2->cap * 2 : 8;
		struct sim_region *nv = realloc(s2->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s2->v = nv;
		s2->cap = cap;
	}
	if (fstat(fd, &st) < 0)
		return -EINVAL;
	r = sim_s2_map(fd, len, fd_offset, perms, &hva);
	if (r < 0)
		return r;
	memmove(&s2->v[at + 1], &s2->v[at], (s2->n - at) * sizeof(*s2->v));
	s2->v[at] = (struct sim_region){.gpa = gpa,
					.len = len,
					.hva = hva,
					.perms = perms,
					.fd_offset = fd_offset,
					.file_dev = (uint64_t)st.st_dev,
					.file_ino = (uint64_t)st.st_ino};
	s2->n++;
	s2->bytes += len;
	sim_touch_region_added(s2, &s2->v[at]); /* what of its file we recorded and is gone */
	return 0;
}

int nest_sim_region_remove(struct nest_sim *sim, uint32_t domain, uint64_t gpa, uint64_t len)
{
	struct sim_domain *dom = sim_domain_get(sim, domain);
	struct sim_s2 *s2;
	uint32_t at;

	if (!dom)
		return -ENOENT;
	s2 = &dom->s2;
	at = sim_s2_search(s2, gpa);
	if (at >= s2->n || s2->v[at].gpa != gpa || s2->v[at].len != len)
		return -ENOENT;
	/* memory safety: no cached host pointer may outlive the mapping */
	sim_domain_flush_tlbs(sim, dom);
	munmap(s2->v[at].hva, s2->v[at].len);
	s2->bytes -= len;
	memmove(&s2->v[at], &s2->v[at + 1], (s2->n - at - 1) * sizeof(*s2->v));
	s2->n--;
	return 0;
}
