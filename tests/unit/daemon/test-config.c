/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for daemon/config.c (+ config-vm.c, config-value.c, ini.c): every key, defaults,
 * drop-in order, resets, the file:line: Key: error of every kind of mistake, dump/load round trip.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "config-test.h"
#include "nest-test.h"

Test(config, defaults_from_empty_file)
{
	char dir[64], path[256], err[ERRLEN];
	struct nestd_config *c = NULL, d;

	tdir_make(dir);
	cr_assert_eq(load_text(dir, "# nothing\n", &c, err, path), 0, "%s", err);
	nestd_config_defaults(&d);
	cr_expect_eq(c->backend, NESTD_BACKEND_AUTO);
	cr_expect_str_eq(c->socket_path, NESTD_SOCKET_PATH);
	cr_expect_str_eq(c->admin_socket_path, NESTD_ADMIN_PATH);
	cr_expect_eq(c->socket_mode, 0660);
	cr_expect_str_eq(c->socket_group, "");
	cr_expect_str_eq(c->admin_group, "");
	cr_expect_eq(c->log_level, LOG_INFO);
	cr_expect_eq(c->limits.max_msg_size, NEST_MSG_SIZE_DEFAULT);
	cr_expect_eq(c->limits.max_fds, NEST_FDS_PER_MSG_MAX);
	cr_expect_eq(c->limits.max_batch, NEST_BATCH_DEFAULT);
	cr_expect_eq(c->limits.max_inflight, NEST_INFLIGHT_DEFAULT);
	cr_expect_eq(c->limits.max_conns, 1024);
	cr_expect_eq(c->limits.max_conns_per_uid, 64);
	cr_expect_eq(c->limits.max_regions_per_vm, 256);
	cr_expect_eq(c->limits.max_outq, 256);
	cr_expect_eq(c->limits.hello_timeout_sec, 10);
	cr_expect_eq(c->sim.iotlb_entries, 4096);
	cr_expect_eq(c->sim.devtlb_entries, 512);
	cr_expect_eq(c->sim.pasid_cache_entries, 256);
	cr_expect_eq(c->sim.max_gaw, 48);
	cr_expect_eq(c->n_vms, 0);
	cr_expect_null(c->vms);
	cr_expect_eq(memcmp(c, &d, sizeof(d)), 0, "load of an empty file == defaults");
	nestd_config_free(c);
	tdir_remove(dir);
	NO_LEAKS();
}

static const char full_conf[] = "# every key\n"
				"[Daemon]\n"
				"Backend = sim\n"
				"Socket=/tmp/x/nestd.sock\n"
				"SocketMode=0600\n"
				"SocketGroup=root\n"
				"AdminSocket=/tmp/x/admin.sock\n"
				"AdminGroup=0\n"
				"LogLevel=debug\n"
				"[Limits]\n"
				"MaxMessageSize=8192\n"
				"MaxFdsPerMessage=2\n"
				"MaxBatch=100\n"
				"MaxInflight=10\n"
				"MaxConnections=50\n"
				"MaxConnectionsPerUser=5\n"
				"MaxRegionsPerVM=32\n"
				"MaxOutputQueue=16\n"
				"HelloTimeoutSec=3\n"
				"[Sim]\n"
				"IOTLBEntries=64\n"
				"DeviceTLBEntries=32\n"
				"PASIDCacheEntries=16\n"
				"MaxGuestAddressWidth=39\n"
				"[VM]\n"
				"Name=vm0\n"
				"Owner=root\n"
				"Owner=1000\n"
				"Group=root\n"
				"Group=2000\n"
				"PASIDQuota=8\n"
				"PASIDRange=4096-8191\n"
				"MemoryLimit=2G\n"
				"MaxRegions=7\n"
				"GracePeriodSec=30\n"
				"Checker=yes\n"
				"Device=nic0 id=1 ats=yes\n"
				"Device=disk0 id=7 pasid-bits=8\n"
				"[VM]\n"
				"Name=vm-1.b_2\n"
				"Group=100\n";

/* Host and mock devices (a configuration of kernel-backend devices only). */
static const char hw_conf[] = "[Daemon]\n"
			      "Backend=iommufd\n"
			      "[VM]\n"
			      "Name=hw\n"
			      "Owner=0\n"
			      "Device=edu0 id=3 pci=00:04.0\n"
			      "Device=edu1 id=4 pci=0000:0A:1f.7\n"
			      "[VM]\n"
			      "Name=mock\n"
			      "Owner=0\n"
			      "Device=m0 id=1 mock=yes\n";

Test(config, host_and_mock_devices)
{
	char dir[64], path[256], err[ERRLEN], *d1;
	struct nestd_config *c = NULL;
	const struct nestd_vm_cfg *vm;
	const char *pci[4];

	tdir_make(dir);
	cr_assert_eq(load_text(dir, hw_conf, &c, err, path), 0, "%s", err);
	vm = nestd_config_find_vm(c, "hw");
	cr_assert_not_null(vm);
	cr_assert_eq(vm->n_devices, 2);
	cr_expect_str_eq(vm->devices[0].pci, "0000:00:04.0"); /* canonical form */
	cr_expect_str_eq(vm->devices[1].pci, "0000:0a:1f.7");
	cr_expect_not(vm->devices[0].mock);
	cr_expect_eq(nestd_config_host_pci(c, pci, 4), 2);
	cr_expect_str_eq(pci[1], "0000:0a:1f.7");
	vm = nestd_config_find_vm(c, "mock");
	cr_assert_not_null(vm);
	cr_expect(vm->devices[0].mock);
	cr_expect_eq(nestd_config_n_mock(c), 1);
	d1 = dump_str(c);
	cr_expect(strstr(d1, "Device=edu0 id=3 pci=0000:00:04.0\n"), "%s", d1);
	cr_expect(strstr(d1, "Device=m0 id=1 mock=yes\n"), "%s", d1);
	free(d1);
	nestd_config_free(c);
	tdir_remove(dir);
}

Test(config, every_key)
{
	char dir[64], path[256], err[ERRLEN];
	struct nestd_config *c = NULL;
	const struct nestd_vm_cfg *vm;

	tdir_make(dir);
	cr_assert_eq(load_text(dir, full_conf, &c, err, path), 0, "%s", err);
	cr_expect_eq(c->backend, NESTD_BACKEND_SIM);
	cr_expect_str_eq(c->socket_path, "/tmp/x/nestd.sock");
	cr_expect_eq(c->socket_mode, 0600);
	cr_expect_str_eq(c->socket_group, "root");
	cr_expect_str_eq(c->admin_socket_path, "/tmp/x/admin.sock");
	cr_expect_str_eq(c->admin_group, "0");
	cr_expect_eq(c->log_level, LOG_DEBUG);
	cr_expect_eq(c->limits.max_msg_size, 8192);
	cr_expect_eq(c->limits.max_fds, 2);
	cr_expect_eq(c->limits.max_batch, 100);
	cr_expect_eq(c->limits.max_inflight, 10);
	cr_expect_eq(c->limits.max_conns, 50);
	cr_expect_eq(c->limits.max_conns_per_uid, 5);
	cr_expect_eq(c->limits.max_regions_per_vm, 32);
	cr_expect_eq(c->limits.max_outq, 16);
	cr_expect_eq(c->limits.hello_timeout_sec, 3);
	cr_expect_eq(c->sim.iotlb_entries, 64);
	cr_expect_eq(c->sim.devtlb_entries, 32);
	cr_expect_eq(c->sim.pasid_cache_entries, 16);
	cr_expect_eq(c->sim.max_gaw, 39);
	cr_assert_eq(c->n_vms, 2);

	vm = nestd_config_find_vm(c, "vm0");
	cr_assert_not_null(vm);
	cr_expect_eq(vm, &c->vms[0]);
	cr_assert_eq(vm->n_uids, 2);
	cr_expect_eq(vm->uids[0], 0);
	cr_expect_eq(vm->uids[1], 1000);
	cr_assert_eq(vm->n_gids, 2);
	cr_expect_eq(vm->gids[0], 0);
	cr_expect_eq(vm->gids[1], 2000);
	cr_expect_eq(vm->pasid_quota, 8);
	cr_expect_eq(vm->pasid_min, 4096);
	cr_expect_eq(vm->pasid_max, 8191);
	cr_expect_eq(c->vms[1].pasid_max, 0, "no PASIDRange=: the shared pool");
	cr_expect_eq(vm->mem_limit, 2ull << 30);
	cr_expect_eq(vm->max_regions, 7);
	cr_expect_eq(vm->grace_sec, 30);
	cr_expect(vm->checker);
	cr_assert_eq(vm->n_devices, 2);
	cr_expect_str_eq(vm->devices[0].name, "nic0");
	cr_expect_eq(vm->devices[0].id, 1);
	cr_expect(vm->devices[0].ats);
	cr_expect_eq(vm->devices[0].pasid_bits, 20);
	cr_expect_str_eq(vm->devices[0].pci, "");
	cr_expect_str_eq(vm->devices[1].name, "disk0");
	cr_expect_eq(vm->devices[1].id, 7);
	cr_expect_not(vm->devices[1].ats);
	cr_expect_eq(vm->devices[1].pasid_bits, 8);
	cr_expect_str_eq(vm->devices[1].pci, "");

	/* Second VM: per-VM defaults, MaxRegions inherited from [Limits]. */
	vm = nestd_config_find_vm(c, "vm-1.b_2");
	cr_assert_not_null(vm);
	cr_expect_eq(vm->n_uids, 0);
	cr_assert_eq(vm->n_gids, 1);
	cr_expect_eq(vm->gids[0], 100);
	cr_expect_eq(vm->pasid_quota, 64);
	cr_expect_eq(vm->mem_limit, 64ull << 30);
	cr_expect_eq(vm->max_regions, 32);
	cr_expect_eq(vm->grace_sec, 0);
	cr_expect_not(vm->checker);
	cr_expect_eq(vm->n_devices, 0);
	cr_expect_null(nestd_config_find_vm(c, "vm1"));
	cr_expect_null(nestd_config_find_vm(c, NULL));

	nestd_config_free(c);
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, names)
{
	cr_expect_str_eq(nestd_backend_name(NESTD_BACKEND_AUTO), "auto");
	cr_expect_str_eq(nestd_backend_name(NESTD_BACKEND_SIM), "sim");
	cr_expect_str_eq(nestd_backend_name(NESTD_BACKEND_VFIO_TYPE1), "vfio-type1");
	cr_expect_str_eq(nestd_backend_name(NESTD_BACKEND_VFIO_NESTING), "vfio-nesting");
	cr_expect_str_eq(nestd_backend_name(NESTD_BACKEND_IOMMUFD), "iommufd");
	cr_expect_str_eq(nestd_backend_name(NESTD_BACKEND_MAX), "unknown");
	cr_expect_null(nestd_config_free(NULL));
}

Test(config, syntax_whitespace_comments_crlf_bom)
{
	char dir[64], path[256], err[ERRLEN];
	struct nestd_config *c = NULL;

	tdir_make(dir);
	cr_assert_eq(load_text(dir,
			       "\xef\xbb\xbf# comment\r\n"
			       "; another comment\r\n"
			       "\r\n"
			       "  [ Limits ]  \r\n"
			       "\tMaxBatch   =   77 \t\r\n"
			       "MaxInflight=9", /* no final newline */
			       &c, err, path),
		     0, "%s", err);
	cr_expect_eq(c->limits.max_batch, 77);
	cr_expect_eq(c->limits.max_inflight, 9);
	nestd_config_free(c);
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, booleans_and_sizes)
{
	static const char *const yes[] = {"1", "yes", "true", "on", "YES", "True"};
	static const char *const no[] = {"0", "no", "false", "off", "NO", "Off"};
	static const struct {
		const char *in;
		unsigned long long out;
	} sizes[] = {{"4096", 4096},	   {"4K", 4096},       {"4k", 4096},
		     {"3M", 3ull << 20},   {"5G", 5ull << 30}, {"2T", 2ull << 40},
		     {"4096T", 4ull << 50}};
	char dir[64], path[256], err[ERRLEN], text[256];
	struct nestd_config *c = NULL;

	tdir_make(dir);
	for (size_t i = 0; i < 6; i++) {
		for (int b = 0; b < 2; b++) {
			snprintf(text, sizeof(text), "[VM]\nName=v\nOwner=0\nChecker=%s\n",
				 b ? yes[i] : no[i]);
			cr_assert_eq(load_text(dir, text, &c, err, path), 0, "%s", err);
			cr_expect_eq(c->vms[0].checker, b, "Checker=%s", b ? yes[i] : no[i]);
			c = nestd_config_free(c);
		}
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(text, sizeof(text), "[VM]\nName=v\nOwner=0\nMemoryLimit=%s\n",
			 sizes[i].in);
		cr_assert_eq(load_text(dir, text, &c, err, path), 0, "%s", err);
		cr_expect_eq(c->vms[0].mem_limit, sizes[i].out, "MemoryLimit=%s", sizes[i].in);
		c = nestd_config_free(c);
	}
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, empty_value_resets)
{
	char dir[64], path[256], err[ERRLEN];
	struct nestd_config *c = NULL;
	const struct nestd_vm_cfg *vm;

	tdir_make(dir);
	cr_assert_eq(load_text(dir,
			       "[Daemon]\nBackend=sim\nBackend=\nSocket=/a/b\nSocket=\n"
			       "SocketMode=0600\nSocketMode=\nSocketGroup=root\nSocketGroup=\n"
			       "LogLevel=err\nLogLevel=\n"
			       "[Limits]\nMaxBatch=3\nMaxBatch=\n"
			       "[VM]\nName=v\nOwner=1\nOwner=2\nOwner=\nOwner=3\nOwner=3\n"
			       "Group=5\nGroup=\n"
			       "Device=a id=1\nDevice=\nDevice=b id=1\n"
			       "PASIDQuota=3\nPASIDQuota=\nMemoryLimit=1G\nMemoryLimit=\n"
			       "Checker=yes\nChecker=\n",
			       &c, err, path),
		     0, "%s", err);
	cr_expect_eq(c->backend, NESTD_BACKEND_AUTO);
	cr_expect_str_eq(c->socket_path, NESTD_SOCKET_PATH);
	cr_expect_eq(c->socket_mode, 0660);
	cr_expect_str_eq(c->socket_group, "");
	cr_expect_eq(c->log_level, LOG_INFO);
	cr_expect_eq(c->limits.max_batch, NEST_BATCH_DEFAULT);
	vm = &c->vms[0];
	cr_assert_eq(vm->n_uids, 1, "Owner= reset, then 3 twice (deduplicated)");
	cr_expect_eq(vm->uids[0], 3);
	cr_expect_eq(vm->n_gids, 0);
	cr_assert_eq(vm->n_devices, 1);
	cr_expect_str_eq(vm->devices[0].name, "b");
	cr_expect_eq(vm->pasid_quota, 64);
	cr_expect_eq(vm->mem_limit, 64ull << 30);
	cr_expect_not(vm->checker);
	nestd_config_free(c);
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, user_and_group_names_resolve)
{
	char dir[64], path[256], err[ERRLEN];
	struct nestd_config *c = NULL;

	tdir_make(dir);
	cr_assert_eq(
		load_text(dir, "[VM]\nName=v\nOwner=root\nOwner=0\nGroup=root\n", &c, err, path), 0,
		"%s", err);
	cr_assert_eq(c->vms[0].n_uids, 1, "root and 0 are the same uid");
	cr_expect_eq(c->vms[0].uids[0], 0);
	cr_assert_eq(c->vms[0].n_gids, 1);
	cr_expect_eq(c->vms[0].gids[0], 0);
	nestd_config_free(c);
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, dropins_in_lexical_order)
{
	char dir[64], path[256], err[ERRLEN], sub[128];
	struct nestd_config *c = NULL;

	tdir_make(dir);
	snprintf(sub, sizeof(sub), "%s/nestd.conf.d", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	write_in(sub, "20-b.conf", "[Limits]\nMaxBatch=30\n");
	write_in(sub, "10-a.conf", "[Limits]\nMaxBatch=20\nMaxInflight=5\n");
	write_in(sub, "30-c.conf.disabled", "[Limits]\nMaxBatch=99\n");
	write_in(sub, ".hidden.conf", "[Limits]\nMaxBatch=98\n");
	write_in(sub, "A.conf", "[Limits]\nMaxOutputQueue=11\n");
	snprintf(path, sizeof(path), "%s/dir.conf", sub);
	cr_assert_eq(mkdir(path, 0755), 0); /* not a regular file: skipped */
	snprintf(path, sizeof(path), "%s/dangling.conf", sub);
	cr_assert_eq(symlink("/nonexistent/nestd-test", path), 0);
	snprintf(path, sizeof(path), "%s/99-link.conf", sub);
	write_in(dir, "target", "[Limits]\nHelloTimeoutSec=7\n");
	cr_assert_eq(symlink("../target", path), 0); /* a link to a regular file counts */

	cr_assert_eq(load_text(dir, "[Limits]\nMaxBatch=10\nMaxOutputQueue=12\n", &c, err, path), 0,
		     "%s", err);
	cr_expect_eq(c->limits.max_batch, 30, "20-b.conf is read after 10-a.conf");
	cr_expect_eq(c->limits.max_inflight, 5);
	cr_expect_eq(c->limits.max_outq, 11, "A.conf sorts after 99-link.conf (strcmp)");
	cr_expect_eq(c->limits.hello_timeout_sec, 7);
	nestd_config_free(c);
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, dropin_replaces_vm_and_inherits_limits)
{
	char dir[64], path[256], err[ERRLEN], sub[128];
	struct nestd_config *c = NULL;

	tdir_make(dir);
	snprintf(sub, sizeof(sub), "%s/nestd.conf.d", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	write_in(sub, "50-vm.conf",
		 "[VM]\nName=a\nGroup=9\nDevice=z id=3\n[Limits]\nMaxRegionsPerVM=99\n");
	cr_assert_eq(load_text(dir,
			       "[VM]\nName=a\nOwner=1\nDevice=x id=1\nDevice=y id=2\n"
			       "[VM]\nName=b\nOwner=2\nMaxRegions=5\n",
			       &c, err, path),
		     0, "%s", err);
	cr_assert_eq(c->n_vms, 2);
	cr_expect_str_eq(c->vms[0].name, "a", "replaced in place");
	cr_expect_eq(c->vms[0].n_uids, 0, "the drop-in's [VM] a replaces all of it");
	cr_expect_eq(c->vms[0].n_gids, 1);
	cr_assert_eq(c->vms[0].n_devices, 1);
	cr_expect_str_eq(c->vms[0].devices[0].name, "z");
	cr_expect_eq(c->vms[0].max_regions, 99, "inherits [Limits] set in a later file");
	cr_expect_str_eq(c->vms[1].name, "b");
	cr_expect_eq(c->vms[1].max_regions, 5);
	nestd_config_free(c);
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, dump_load_dump_roundtrip)
{
	char dir[64], path[256], path2[256], err[ERRLEN];
	struct nestd_config *c = NULL, *c2 = NULL;
	char *d1, *d2;

	tdir_make(dir);
	cr_assert_eq(load_text(dir, full_conf, &c, err, path), 0, "%s", err);
	d1 = dump_str(c);
	snprintf(path2, sizeof(path2), "%s/dumped.conf", dir);
	write_file(path2, d1);
	cr_assert_eq(nestd_config_load(path2, &c2, err, ERRLEN), 0, "%s\n%s", err, d1);
	d2 = dump_str(c2);
	cr_expect_str_eq(d1, d2);
	cr_expect(strstr(d1, "Device=disk0 id=7 ats=no pasid-bits=8\n"));

	cr_expect(strstr(d1, "MemoryLimit=2G\n"));
	cr_expect(strstr(d1, "SocketMode=0600\n"));
	cr_expect(strstr(d1, "Owner=1000\n"));
	cr_expect_eq(c->n_vms, c2->n_vms);
	cr_expect_eq(memcmp(c->vms, c2->vms, c->n_vms * sizeof(*c->vms)), 0);
	free(d1);
	free(d2);
	nestd_config_free(c);
	nestd_config_free(c2);

	/* Defaults dump and re-load to the defaults too. */
	cr_assert_eq(load_text(dir, "", &c, err, path), 0, "%s", err);
	d1 = dump_str(c);
	write_file(path2, d1);
	cr_assert_eq(nestd_config_load(path2, &c2, err, ERRLEN), 0, "%s", err);
	cr_expect_eq(memcmp(c, c2, sizeof(*c)), 0);
	free(d1);
	nestd_config_free(c);
	nestd_config_free(c2);
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, explicit_missing_file_is_an_error)
{
	char dir[64], path[256], err[ERRLEN], want[300];
	struct nestd_config *c = (struct nestd_config *)0x1;

	tdir_make(dir);
	snprintf(path, sizeof(path), "%s/nope.conf", dir);
	cr_expect_eq(nestd_config_load(path, &c, err, ERRLEN), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	cr_expect_str_eq(err, want);
	cr_expect_eq(c, (struct nestd_config *)0x1, "ret untouched on failure");
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, default_path_may_be_missing)
{
	struct nestd_config *c = NULL, d;
	char err[ERRLEN];

	/* Only meaningful on a machine without /etc/nestd (like the build hosts). */
	if (access(NESTD_CONFIG_PATH, F_OK) == 0 || access(NESTD_CONFIG_PATH ".d", F_OK) == 0)
		cr_skip_test("%s exists here", NESTD_CONFIG_PATH);
	cr_assert_eq(nestd_config_load(NULL, &c, err, ERRLEN), 0, "%s", err);
	nestd_config_defaults(&d);
	cr_expect_eq(memcmp(c, &d, sizeof(d)), 0);
	nestd_config_free(c);
	NO_LEAKS();
}

static char *gen_vms(size_t n_vms, size_t n_owners, size_t n_dev)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	for (size_t v = 0; v < n_vms; v++) {
		fprintf(f, "[VM]\nName=vm%zu\n", v);
		for (size_t o = 0; o < n_owners; o++)
			fprintf(f, "Owner=%zu\n", 1000 + o);
		for (size_t d = 0; d < n_dev; d++)
			fprintf(f, "Device=d%zu id=%zu\n", d, d);
	}
	fclose(f);
	return buf;
}

Test(config, table_limits)
{
	char dir[64], path[256], err[ERRLEN], want[512];
	struct nestd_config *c = NULL;
	char *text;

	tdir_make(dir);
	text = gen_vms(NESTD_VMS_MAX, 1, 1);
	cr_assert_eq(load_text(dir, text, &c, err, path), 0, "%s", err);
	cr_expect_eq(c->n_vms, NESTD_VMS_MAX);
	c = nestd_config_free(c);
	free(text);

	text = gen_vms(NESTD_VMS_MAX + 1, 1, 0);
	cr_expect_eq(load_text(dir, text, &c, err, path), -EINVAL);
	snprintf(want, sizeof(want), "%s:%u: too many [VM] sections (max %u)", path,
		 NESTD_VMS_MAX * 3 + 1, NESTD_VMS_MAX);
	cr_expect_str_eq(err, want);
	free(text);

	text = gen_vms(1, NESTD_VM_OWNERS_MAX + 1, 0);
	cr_expect_eq(load_text(dir, text, &c, err, path), -EINVAL);
	snprintf(want, sizeof(want), "%s:%u: Owner: too many entries (max %u)", path,
		 NESTD_VM_OWNERS_MAX + 3, NESTD_VM_OWNERS_MAX);
	cr_expect_str_eq(err, want);
	free(text);

	text = gen_vms(1, 1, NESTD_VM_DEVICES_MAX + 1);
	cr_expect_eq(load_text(dir, text, &c, err, path), -EINVAL);
	snprintf(want, sizeof(want), "%s:%u: Device: too many devices (max %u)", path,
		 NESTD_VM_DEVICES_MAX + 4, NESTD_VM_DEVICES_MAX);
	cr_expect_str_eq(err, want);
	free(text);
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, null_err_buffer_is_fine)
{
	char dir[64], path[256];
	struct nestd_config *c = NULL;

	tdir_make(dir);
	snprintf(path, sizeof(path), "%s/nestd.conf", dir);
	write_file(path, "[Bogus]\n");
	cr_expect_eq(nestd_config_load(path, &c, NULL, 0), -EINVAL);
	cr_expect_null(c);
	tdir_remove(dir);
	NO_LEAKS();
}

/*
 * The shipped systemd/nestd.conf: as is, it loads to the defaults; with every "#Key=value" line
 * above the example [VM] uncommented, it still does (the file shows the real defaults).
 */
Test(config, shipped_default_file_shows_the_defaults)
{
	char dir[64], path[256], err[ERRLEN], line[512];
	struct nestd_config *c = NULL, d;
	char *text = NULL;
	size_t len = 0;
	FILE *in, *out;

	tdir_make(dir);
	nestd_config_defaults(&d);
	cr_assert_eq(nestd_config_load(NEST_TREE "/systemd/nestd.conf", &c, err, ERRLEN), 0, "%s",
		     err);
	cr_expect_eq(memcmp(c, &d, sizeof(d)), 0);
	c = nestd_config_free(c);

	in = fopen(NEST_TREE "/systemd/nestd.conf", "r");
	cr_assert_not_null(in);
	out = open_memstream(&text, &len);
	cr_assert_not_null(out);
	while (fgets(line, sizeof(line), in)) {
		if (strncmp(line, "#[VM]", 5) == 0)
			break;
		if (line[0] == '#' && line[1] >= 'A' && line[1] <= 'Z' && strchr(line, '='))
			fputs(line + 1, out);
		else
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	cr_expect(strstr(text, "\nMaxGuestAddressWidth=48\n"), "keys were uncommented");
	cr_assert_eq(load_text(dir, text, &c, err, path), 0, "%s", err);
	cr_expect_eq(memcmp(c, &d, sizeof(d)), 0, "uncommented defaults == compiled-in defaults");
	nestd_config_free(c);
	free(text);
	tdir_remove(dir);
	NO_LEAKS();
}
