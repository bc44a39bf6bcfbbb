/* SPDX-License-Identifier: MIT */
/*
 * config.c - load nestd.conf and its drop-ins into a struct nestd_config; see config.h and
 * nestd.conf(5). Global sections ([Daemon], [Limits], [Sim]) live here, [VM] in config-vm.c,
 * value parsers in config-value.c, the line syntax in ini.c.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config-internal.h"
#include "ini.h"
#include "log.h"

#define CFG_DROPINS_MAX	  1024 /* *.conf files in nestd.conf.d/ */
#define CFG_FILE_PATH_MAX 4096

#define CFG_OFF(f) offsetof(struct nestd_config, f)

/* Every numeric global key: range, default, and where it lives. The single source of both. */
static const struct cfg_num_key cfg_num_keys[] = {
	{CFG_SEC_LIMITS, "MaxMessageSize", CFG_OFF(limits.max_msg_size), NEST_MSG_SIZE_MIN,
	 NEST_MSG_SIZE_MAX, NEST_MSG_SIZE_DEFAULT},
	{CFG_SEC_LIMITS, "MaxFdsPerMessage", CFG_OFF(limits.max_fds), 1, NEST_FDS_PER_MSG_MAX,
	 NEST_FDS_PER_MSG_MAX},
	{CFG_SEC_LIMITS, "MaxBatch", CFG_OFF(limits.max_batch), 1, NEST_BATCH_MAX,
	 NEST_BATCH_DEFAULT},
	{CFG_SEC_LIMITS, "MaxInflight", CFG_OFF(limits.max_inflight), 1, NEST_INFLIGHT_MAX,
	 NEST_INFLIGHT_DEFAULT},
	{CFG_SEC_LIMITS, "MaxConnections", CFG_OFF(limits.max_conns), 1, 65536, 1024},
	{CFG_SEC_LIMITS, "MaxConnectionsPerUser", CFG_OFF(limits.max_conns_per_uid), 1, 65536, 64},
	{CFG_SEC_LIMITS, "AdminReserve", CFG_OFF(limits.admin_reserve), 0, 1024, 8},
	{CFG_SEC_LIMITS, "MaxRegionsPerVM", CFG_OFF(limits.max_regions_per_vm), 1, 65536, 256},
	{CFG_SEC_LIMITS, "MaxOutputQueue", CFG_OFF(limits.max_outq), 1, 65536, 256},
	{CFG_SEC_LIMITS, "HelloTimeoutSec", CFG_OFF(limits.hello_timeout_sec), 1, 3600, 10},
	{CFG_SEC_LIMITS, "AuditRate", CFG_OFF(limits.audit_rate), 0, 1000000, 20},
	{CFG_SEC_LIMITS, "AuditBurst", CFG_OFF(limits.audit_burst), 1, 1000000, 200},
	{CFG_SEC_LIMITS, "AuditSummarySec", CFG_OFF(limits.audit_summary_sec), 1, 3600, 10},
	{CFG_SEC_SIM, "IOTLBEntries", CFG_OFF(sim.iotlb_entries), 4, 65536, 4096},
	{CFG_SEC_SIM, "DeviceTLBEntries", CFG_OFF(sim.devtlb_entries), 4, 65536, 512},
	{CFG_SEC_SIM, "PASIDCacheEntries", CFG_OFF(sim.pasid_cache_entries), 4, 65536, 256},
	{CFG_SEC_SIM, "MaxGuestAddressWidth", CFG_OFF(sim.max_gaw), 39, 52, 48},
	{CFG_SEC_SIM, "MaterializeLimitMiB", CFG_OFF(sim.touch_limit_mib), 1, 1048576, 64},
};
#define CFG_NUM_KEYS (sizeof(cfg_num_keys) / sizeof(cfg_num_keys[0]))

static const char *const cfg_section_names[CFG_SEC_MAX] = {
	[CFG_SEC_DAEMON] = "Daemon",
	[CFG_SEC_LIMITS] = "Limits",
	[CFG_SEC_SIM] = "Sim",
	[CFG_SEC_VM] = "VM",
};

static const char *const cfg_backend_names[NESTD_BACKEND_MAX] = {
	[NESTD_BACKEND_AUTO] = "auto",
	[NESTD_BACKEND_SIM] = "sim",
	[NESTD_BACKEND_VFIO_TYPE1] = "vfio-type1",
	[NESTD_BACKEND_VFIO_NESTING] = "vfio-nesting",
	[NESTD_BACKEND_IOMMUFD] = "iommufd",
};

size_t nestd_config_host_pci(const struct nestd_config *c, const char **ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_vms; i++)
		for (size_t k = 0; k < c->vms[i].n_devices; k++)
			if (c->vms[i].devices[k].pci[0] && n < max)
				ret[n++] = c->vms[i].devices[k].pci;
	return n;
}

size_t nestd_config_n_mock(const struct nestd_config *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_vms; i++)
		for (size_t k = 0; k < c->vms[i].n_devices; k++)
			n += c->vms[i].devices[k].mock;
	return n;
}

const char *nestd_backend_name(enum nestd_backend_choice b)
{
	if ((unsigned)b >= NESTD_BACKEND_MAX)
		return "unknown";
	return cfg_backend_names[b];
}

void nestd_config_defaults(struct nestd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->backend = NESTD_BACKEND_AUTO;
	strcpy(c->socket_path, NESTD_SOCKET_PATH);
	c->socket_mode = 0660;
	strcpy(c->admin_socket_path, NESTD_ADMIN_PATH);
	c->log_level = LOG_INFO;
	for (size_t i = 0; i < CFG_NUM_KEYS; i++)
		memcpy((char *)c + cfg_num_keys[i].off, &cfg_num_keys[i].def, sizeof(uint32_t));
}

struct nestd_config *nestd_config_free(struct nestd_config *c)
{
	if (c) {
		nestd_pasid_windows_free(&c->pasid_windows);
		free(c->vms);
		free(c);
	}
	return NULL;
}

const struct nestd_vm_cfg *nestd_config_find_vm(const struct nestd_config *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->n_vms; i++)
		if (strcmp(c->vms[i].name, name) == 0)
			return &c->vms[i];
	return NULL;
}

/* SocketGroup=/AdminGroup=: stored as written, but it must resolve now (typos fail early). */
static int cfg_group_name(struct cfg_parser *p, const char *key, const char *v, char *dst,
			  size_t len)
{
	gid_t gid;
	int r;

	if (!*v) {
		dst[0] = '\0';
		return 0;
	}
	if (!cfg_valid_account(v, len))
		return cfg_error(p, key, "'%s' is not a valid group name or number", cfg_esc(p, v));
	r = cfg_parse_gid(p, key, v, &gid);
	if (r < 0)
		return r;
	strcpy(dst, v);
	return 0;
}

static int cfg_socket(struct cfg_parser *p, const char *key, const char *v, char *dst,
		      const char *def)
{
	int r = 0;

	if (!*v)
		strcpy(dst, def);
	else
		r = cfg_parse_path(p, key, v, dst, NESTD_PATH_MAX);
	if (r == 0) {
		snprintf(p->sock_file, sizeof(p->sock_file), "%s", p->file);
		p->sock_line = p->line;
		p->sock_key = strcmp(key, "Socket") == 0 ? "Socket" : "AdminSocket";
	}
	return r;
}

static int cfg_daemon_assign(struct cfg_parser *p, const char *key, const char *v)
{
	struct nestd_config *c = p->c;
	int r;

	if (strcmp(key, "Backend") == 0) {
		for (int b = 0; b < NESTD_BACKEND_MAX; b++)
			if (strcmp(v, cfg_backend_names[b]) == 0 || (!*v && b == 0)) {
				c->backend = (enum nestd_backend_choice)b;
				return 0;
			}
		return cfg_error(
			p, key,
			"unknown backend '%s' (expected auto, sim, vfio-type1, vfio-nesting, iommufd)",
			cfg_esc(p, v));
	}
	if (strcmp(key, "Socket") == 0)
		return cfg_socket(p, key, v, c->socket_path, NESTD_SOCKET_PATH);
	if (strcmp(key, "AdminSocket") == 0)
		return cfg_socket(p, key, v, c->admin_socket_path, NESTD_ADMIN_PATH);
	if (strcmp(key, "SocketMode") == 0) {
		c->socket_mode = 0660;
		return *v ? cfg_parse_mode(p, key, v, &c->socket_mode) : 0;
	}
	if (strcmp(key, "SocketGroup") == 0)
		return cfg_group_name(p, key, v, c->socket_group, sizeof(c->socket_group));
	if (strcmp(key, "AdminGroup") == 0)
		return cfg_group_name(p, key, v, c->admin_group, sizeof(c->admin_group));
	if (strcmp(key, "LogLevel") == 0) {
		r = *v ? log_level_parse(v) : LOG_INFO;
		if (r < 0)
			return cfg_error(
				p, key,
				"unknown level '%s' (expected debug, info, notice, warning, err)",
				cfg_esc(p, v));
		c->log_level = r;
		return 0;
	}
	return cfg_error(p, NULL, "%s: unknown key in [Daemon]", cfg_esc(p, key));
}

static int cfg_on_section(void *userdata, const char *file, unsigned line, const char *name)
{
	struct cfg_parser *p = userdata;
	int r;

	r = cfg_vm_end(p); /* the previous [VM], if any, is complete now */
	if (r < 0)
		return r;
	p->file = file;
	p->line = line;
	for (int s = CFG_SEC_DAEMON; s < CFG_SEC_MAX; s++)
		if (strcmp(name, cfg_section_names[s]) == 0) {
			p->sec = (enum cfg_section)s;
			return s == CFG_SEC_VM ? cfg_vm_begin(p) : 0;
		}
	return cfg_error(p, NULL, "[%s]: unknown section (expected Daemon, Limits, Sim, VM)",
			 cfg_esc(p, name));
}

static int cfg_on_assign(void *userdata, const char *file, unsigned line, const char *key,
			 const char *value)
{
	struct cfg_parser *p = userdata;

	p->file = file;
	p->line = line;
	switch (p->sec) {
	case CFG_SEC_NONE:
		return cfg_error(p, NULL, "%s: assignment outside of any [Section]",
				 cfg_esc(p, key));
	case CFG_SEC_DAEMON:
		return cfg_daemon_assign(p, key, value);
	case CFG_SEC_VM:
		return cfg_vm_assign(p, key, value);
	default:
		break;
	}
	for (size_t i = 0; i < CFG_NUM_KEYS; i++)
		if (cfg_num_keys[i].sec == p->sec && strcmp(key, cfg_num_keys[i].key) == 0)
			return cfg_num_assign(p, &cfg_num_keys[i], p->c, value);
	return cfg_error(p, NULL, "%s: unknown key in [%s]", cfg_esc(p, key),
			 cfg_section_names[p->sec]);
}

static const struct ini_handler cfg_ini = {
	.section = cfg_on_section,
	.assign = cfg_on_assign,
};

/* One file: sections never continue into the next file. */
static int cfg_load_file(struct cfg_parser *p, const char *path)
{
	int r;

	p->sec = CFG_SEC_NONE;
	p->file = path;
	p->line = 0;
	r = ini_parse_file(path, &cfg_ini, p, p->err, p->errlen);
	if (r == 0)
		r = cfg_vm_end(p);
	free(p->vm); /* only non-NULL after an error */
	p->vm = NULL;
	return r;
}

static int cfg_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the regular "*.conf" files in @dir, sorted; *ret_n = 0 if @dir does not exist. */
static int cfg_list_dropins(struct cfg_parser *p, const char *dir, char ***ret, size_t *ret_n)
{
	char **names = NULL, path[CFG_FILE_PATH_MAX];
	size_t n = 0, len;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT) {
			*ret = NULL;
			*ret_n = 0;
			return 0;
		}
		r = -errno;
		snprintf(p->err, p->errlen, "%s: cannot open directory: %s", dir, strerror(-r));
		return r;
	}
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue; /* cannot be opened anyway */
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue; /* dangling links, directories, fifos: not config files */
		if (n >= CFG_DROPINS_MAX) {
			snprintf(p->err, p->errlen, "%s: too many drop-ins (max %d)", dir,
				 CFG_DROPINS_MAX);
			r = -E2BIG;
			break;
		}
		char **nn = realloc(names, (n + 1) * sizeof(*names));

		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			snprintf(p->err, p->errlen, "%s: out of memory", dir);
			r = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return r;
	}
	if (n)
		qsort(names, n, sizeof(*names), cfg_strcmp);
	*ret = names;
	*ret_n = n;
	return 0;
}

static int cfg_load_dropins(struct cfg_parser *p, const char *path)
{
	char dir[CFG_FILE_PATH_MAX], file[CFG_FILE_PATH_MAX], **names = NULL;
	size_t n = 0;
	int r;

	if (snprintf(dir, sizeof(dir), "%s.d", path) >= (int)sizeof(dir)) {
		snprintf(p->err, p->errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	r = cfg_list_dropins(p, dir, &names, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		/* cfg_list_dropins() checked that this fits */
		if (snprintf(file, sizeof(file), "%s/%s", dir, names[i]) < (int)sizeof(file))
			r = cfg_load_file(p, file);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* Checks that need the whole configuration, and values inherited from [Limits]. */
static int cfg_finish(struct cfg_parser *p)
{
	struct nestd_config *c = p->c;
	int r;

	if (strcmp(c->socket_path, c->admin_socket_path) == 0) {
		p->file = p->sock_file;
		p->line = p->sock_line;
		return cfg_error(p, p->sock_key, "Socket= and AdminSocket= must differ");
	}
	for (size_t i = 0; i < c->n_vms; i++)
		if (c->vms[i].max_regions == 0)
			c->vms[i].max_regions = c->limits.max_regions_per_vm;
	/* the [VM] sections' checks already refused overlapping windows: ENOMEM is what is left */
	r = nestd_pasid_windows_build(&c->pasid_windows, c->vms, c->n_vms);
	if (r < 0)
		snprintf(p->err, p->errlen, "PASIDRange=: %s",
			 r == -ENOMEM ? "out of memory" : "windows overlap");
	return r;
}

int nestd_config_load(const char *path, struct nestd_config **ret, char *err, size_t errlen)
{
	struct cfg_parser p = {0};
	char dummy[1];
	struct stat st;
	int r = 0;

	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!path)
		path = NESTD_CONFIG_PATH;
	p.err = err;
	p.errlen = errlen;
	p.c = calloc(1, sizeof(*p.c));
	if (!p.c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	nestd_config_defaults(p.c);

	/* Only the default file may be absent: an explicit --config must name a real file. */
	if (strcmp(path, NESTD_CONFIG_PATH) != 0 || stat(path, &st) == 0 || errno != ENOENT)
		r = cfg_load_file(&p, path);
	if (r == 0)
		r = cfg_load_dropins(&p, path);
	if (r == 0)
		r = cfg_finish(&p);
	if (r < 0) {
		nestd_config_free(p.c);
		return r;
	}
	*ret = p.c;
	return 0;
}

static void cfg_dump_nums(const struct nestd_config *c, enum cfg_section sec, FILE *f)
{
	fprintf(f, "\n[%s]\n", cfg_section_names[sec]);
	for (size_t i = 0; i < CFG_NUM_KEYS; i++) {
		uint32_t v;

		if (cfg_num_keys[i].sec != sec)
			continue;
		memcpy(&v, (const char *)c + cfg_num_keys[i].off, sizeof(v));
		fprintf(f, "%s=%u\n", cfg_num_keys[i].key, v);
	}
}

int nestd_config_dump(const struct nestd_config *c, FILE *f)
{
	fprintf(f, "# nestd effective configuration (nestd --dump-config)\n");
	fprintf(f, "[Daemon]\nBackend=%s\nSocket=%s\nSocketMode=%04o\nSocketGroup=%s\n",
		nestd_backend_name(c->backend), c->socket_path, (unsigned)c->socket_mode,
		c->socket_group);
	fprintf(f, "AdminSocket=%s\nAdminGroup=%s\nLogLevel=%s\n", c->admin_socket_path,
		c->admin_group, log_level_name(c->log_level));
	cfg_dump_nums(c, CFG_SEC_LIMITS, f);
	cfg_dump_nums(c, CFG_SEC_SIM, f);
	for (size_t i = 0; i < c->n_vms; i++)
		cfg_vm_dump(&c->vms[i], f);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}
