/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the errors of daemon/config.c (+ config-vm.c, config-value.c, ini.c): the
 * "<file>:<line>: <Key>: <what>" message of every kind of mistake, size limits, drop-ins.
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

/* ---- errors: "<file>:<line>: <Key>: <what>" ---- */

struct bad_case {
	char conf[200];
	char err[200]; /* expected message after "<file>:" */
};

ParameterizedTestParameters(config, bad)
{
	static struct bad_case cases[] = {
		{"[Daemon]\nFoo=1\n", "2: Foo: unknown key in [Daemon]"},
		{"[Limits]\nMaxFoo=1\n", "2: MaxFoo: unknown key in [Limits]"},
		{"[Sim]\nTLB=1\n", "2: TLB: unknown key in [Sim]"},
		{"[VM]\nName=v\nFoo=1\n", "3: Foo: unknown key in [VM]"},
		{"[Bogus]\n", "1: [Bogus]: unknown section (expected Daemon, Limits, Sim, VM)"},
		{"[daemon]\n", "1: [daemon]: unknown section (expected Daemon, Limits, Sim, VM)"},
		{"Backend=sim\n", "1: Backend: assignment outside of any [Section]"},
		{"[Daemon]\njunk\n", "2: expected [Section] or Key=value"},
		{"[Daemon\n", "1: malformed section header (expected [Section])"},
		{"[]\n", "1: malformed section header (expected [Section])"},
		{"[Daemon] x\n", "1: malformed section header (expected [Section])"},
		{"[Daemon]\n = 5\n", "2: missing key before '='"},
		{"[Limits]\nMaxBatch=abc\n", "2: MaxBatch: 'abc' is not a number"},
		{"[Limits]\nMaxBatch=-1\n", "2: MaxBatch: '-1' is not a number"},
		{"[Limits]\nMaxBatch=+5\n", "2: MaxBatch: '+5' is not a number"},
		{"[Limits]\nMaxBatch=0x10\n", "2: MaxBatch: '0x10' is not a number"},
		{"[Limits]\nMaxBatch=5 x\n", "2: MaxBatch: '5 x' is not a number"},
		{"[Limits]\nMaxBatch=5000\n", "2: MaxBatch: '5000' is out of range (1..1024)"},
		{"[Limits]\nMaxBatch=0\n", "2: MaxBatch: '0' is out of range (1..1024)"},
		{"[Limits]\nMaxBatch=99999999999999999999999\n",
		 "2: MaxBatch: '99999999999999999999999' is out of range (1..1024)"},
		{"[Limits]\nMaxMessageSize=1024\n",
		 "2: MaxMessageSize: '1024' is out of range (4096..1048576)"},
		{"[Limits]\nMaxFdsPerMessage=5\n",
		 "2: MaxFdsPerMessage: '5' is out of range (1..4)"},
		{"[Limits]\nMaxInflight=1025\n",
		 "2: MaxInflight: '1025' is out of range (1..1024)"},
		{"[Limits]\nHelloTimeoutSec=0\n",
		 "2: HelloTimeoutSec: '0' is out of range (1..3600)"},
		{"[Sim]\nMaxGuestAddressWidth=38\n",
		 "2: MaxGuestAddressWidth: '38' is out of range (39..52)"},
		{"[Sim]\nIOTLBEntries=2\n", "2: IOTLBEntries: '2' is out of range (4..65536)"},
		{"[Daemon]\nBackend=kvm\n",
		 "2: Backend: unknown backend 'kvm' (expected auto, sim, vfio-type1, vfio-nesting, iommufd)"},
		{"[Daemon]\nLogLevel=verbose\n",
		 "2: LogLevel: unknown level 'verbose' (expected debug, info, notice, warning, err)"},
		{"[Daemon]\nSocketMode=0689\n",
		 "2: SocketMode: '0689' is not an octal mode (like 0660)"},
		{"[Daemon]\nSocketMode=rw\n",
		 "2: SocketMode: 'rw' is not an octal mode (like 0660)"},
		{"[Daemon]\nSocketMode=1777\n",
		 "2: SocketMode: '1777' is out of range (0000..0777)"},
		{"[Daemon]\nSocket=run/x.sock\n",
		 "2: Socket: 'run/x.sock' is not an absolute path"},
		{"[Daemon]\nSocket=rel\"x\\y\n",
		 "2: Socket: 'rel\\x22x\\x5cy' is not an absolute path"},
		{"[Daemon]\nSocket=/run/x.sock\nAdminSocket=/run/x.sock\n",
		 "3: AdminSocket: Socket= and AdminSocket= must differ"},
		{"[Daemon]\nSocketGroup=no-such-group-nestd\n",
		 "2: SocketGroup: unknown group 'no-such-group-nestd'"},
		{"[Daemon]\nAdminGroup=a b\n",
		 "2: AdminGroup: 'a b' is not a valid group name or number"},
		{"[VM]\nName=a/b\n",
		 "2: Name: 'a/b' is not a valid VM name (1..63 of A-Z a-z 0-9 _ . -)"},
		{"[VM]\nName=\n",
		 "2: Name: '' is not a valid VM name (1..63 of A-Z a-z 0-9 _ . -)"},
		{"[VM]\nOwner=0\n", "1: Name: [VM] section without Name="},
		{"[Daemon]\n[VM]\nName=vm0\n",
		 "2: Owner: VM vm0 has no Owner= or Group=, so no one could attach it"},
		{"[VM]\nName=vm0\nOwner=0\nOwner=\n[Limits]\n",
		 "1: Owner: VM vm0 has no Owner= or Group=, so no one could attach it"},
		{"[VM]\nName=v\nOwner=no-such-user-nestd\n",
		 "3: Owner: unknown user 'no-such-user-nestd'"},
		{"[VM]\nName=v\nGroup=no-such-group-nestd\n",
		 "3: Group: unknown group 'no-such-group-nestd'"},
		{"[VM]\nName=v\nOwner=4294967295\n",
		 "3: Owner: '4294967295' is out of range (0..4294967294)"},
		{"[VM]\nName=v\nOwner=-5\n", "3: Owner: '-5' is not a user name or number"},
		{"[VM]\nName=v\nChecker=maybe\n",
		 "3: Checker: 'maybe' is not a boolean (yes/no, true/false, on/off, 1/0)"},
		{"[VM]\nName=v\nPASIDQuota=0\n", "3: PASIDQuota: '0' is out of range (1..65536)"},
		{"[VM]\nName=v\nPASIDQuota=65537\n",
		 "3: PASIDQuota: '65537' is out of range (1..65536)"},
		{"[VM]\nName=v\nGracePeriodSec=86401\n",
		 "3: GracePeriodSec: '86401' is out of range (0..86400)"},
		{"[VM]\nName=v\nMaxRegions=0\n", "3: MaxRegions: '0' is out of range (1..65536)"},
		{"[VM]\nName=v\nMemoryLimit=12Q\n",
		 "3: MemoryLimit: '12Q' is not a size (bytes, or a number with K, M, G, T)"},
		{"[VM]\nName=v\nMemoryLimit=G\n",
		 "3: MemoryLimit: 'G' is not a size (bytes, or a number with K, M, G, T)"},
		{"[VM]\nName=v\nMemoryLimit=1K\n",
		 "3: MemoryLimit: '1K' is out of range (4K..4096T)"},
		{"[VM]\nName=v\nMemoryLimit=20000000T\n",
		 "3: MemoryLimit: '20000000T' is out of range (4K..4096T)"},
		{"[VM]\nName=v\nOwner=0\nDevice=x id=1\nDevice=y id=1\n",
		 "5: Device: y: id=1 is already used by x"},
		{"[VM]\nName=v\nOwner=0\nDevice=x id=1\nDevice=x id=2\n",
		 "5: Device: device name x is used twice"},
		{"[VM]\nName=v\nDevice=x ats=yes\n", "3: Device: x: id= is required"},
		{"[VM]\nName=v\nDevice=x id=1 foo=2\n",
		 "3: Device: unknown option 'foo' (expected id=, ats=, pasid-bits=, pci=, mock=)"},
		{"[VM]\nName=v\nDevice=x id\n", "3: Device: 'id' is not an option=value pair"},
		{"[VM]\nName=v\nDevice=x id=1 id=2\n", "3: Device: option id= given twice"},
		{"[VM]\nName=v\nDevice=x id=1 pasid-bits=21\n",
		 "3: Device: '21' is out of range (1..20)"},
		{"[VM]\nName=v\nDevice=x id=1 pasid-bits=0\n",
		 "3: Device: '0' is out of range (1..20)"},
		{"[VM]\nName=v\nDevice=x id=2147483648\n",
		 "3: Device: '2147483648' is out of range (0..2147483647)"},
		{"[VM]\nName=v\nDevice=x id=1 ats=perhaps\n",
		 "3: Device: 'perhaps' is not a boolean (yes/no, true/false, on/off, 1/0)"},
		{"[VM]\nName=v\nDevice=x id=1 pci=\n",
		 "3: Device: pci= is not a PCI address (DDDD:BB:DD.F, e.g. 0000:00:04.0)"},
		{"[VM]\nName=v\nDevice=x id=1 pci=0000:00:20.0\n",
		 "3: Device: pci=0000:00:20.0 is not a PCI address (DDDD:BB:DD.F, e.g. 0000:00:04.0)"},
		{"[VM]\nName=v\nDevice=x id=1 pci=00:04.0/../x\n",
		 "3: Device: pci=00:04.0/../x is not a PCI address (DDDD:BB:DD.F, e.g. 0000:00:04.0)"},
		{"[VM]\nName=v\nDevice=x id=1 pci=00:04.0 ats=yes\n",
		 "3: Device: x: ats= and pasid-bits= describe simulated devices; a host device (pci=) "
		 "or mock device has what its IOMMU reports"},
		{"[VM]\nName=v\nDevice=x id=1 mock=yes pasid-bits=4\n",
		 "3: Device: x: ats= and pasid-bits= describe simulated devices; a host device (pci=) "
		 "or mock device has what its IOMMU reports"},
		{"[VM]\nName=v\nDevice=x id=1 mock=yes pci=00:04.0\n",
		 "3: Device: x: pci= and mock=yes exclude each other"},
		{"[VM]\nName=a\nOwner=0\nDevice=x id=1\n[VM]\nName=b\nOwner=0\n"
		 "Device=y id=1 mock=yes\n",
		 "5: Device: VM b has host devices but VM a has simulated ones; one nestd serves one "
		 "backend"},
		{"[VM]\nName=v\nOwner=0\nDevice=x id=1\nDevice=y id=2 pci=00:04.0\n",
		 "5: Device: y: VM v mixes simulated devices and host devices (pci=, mock=); a VM is "
		 "served by one backend"},
		{"[VM]\nName=v\nOwner=0\nDevice=x id=1 pci=00:04.0\nDevice=y id=2 pci=0000:00:04.0\n",
		 "5: Device: y: pci=0000:00:04.0 is already device x"},
		{"[VM]\nName=a\nOwner=0\nDevice=x id=1 pci=00:04.0\n[VM]\nName=b\nOwner=0\n"
		 "Device=y id=1 pci=00:04.0\n",
		 "5: Device: pci=0000:00:04.0 is given to VM a and VM b; a host device belongs to one VM"},
		{"[VM]\nName=v\nPASIDRange=5\n",
		 "3: PASIDRange: '5' is not MIN-MAX (e.g. 4096-8191)"},
		{"[VM]\nName=v\nPASIDRange=0-9\n",
		 "3: PASIDRange: '0' is out of range (1..1048575)"},
		{"[VM]\nName=v\nPASIDRange=1-1048576\n",
		 "3: PASIDRange: '1048576' is out of range (1..1048575)"},
		{"[VM]\nName=v\nPASIDRange=9-8\n", "3: PASIDRange: 9-8: MIN is above MAX"},
		{"[VM]\nName=v\nOwner=0\nPASIDRange=1-10\n",
		 "1: PASIDRange: VM v: 1-10 holds 10 PASIDs, fewer than PASIDQuota=64"},
		{"[VM]\nName=a\nOwner=0\nPASIDRange=100-199\n[VM]\nName=b\nOwner=0\n"
		 "PASIDRange=1-100\n",
		 "5: PASIDRange: VM b: 1-100 overlaps VM a's 100-199; PASID windows are exclusive"},
		{"[VM]\nName=v\nDevice=a/b id=1\n",
		 "3: Device: 'a/b' is not a valid device name (1..31 of A-Z a-z 0-9 _ . : -)"},
		{"[VM]\nName=v\nDevice=id=1\n",
		 "3: Device: 'id=1' is not a valid device name (1..31 of A-Z a-z 0-9 _ . : -)"},
	};

	return cr_make_param_array(struct bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *bc, config, bad)
{
	char dir[64], path[256], err[ERRLEN], want[512];
	struct nestd_config *c = (struct nestd_config *)0x1;

	tdir_make(dir);
	cr_expect_eq(load_text(dir, bc->conf, &c, err, path), -EINVAL, "config:\n%s", bc->conf);
	snprintf(want, sizeof(want), "%s:%s", path, bc->err);
	cr_expect_str_eq(err, want, "config:\n%s", bc->conf);
	cr_expect_eq(c, (struct nestd_config *)0x1, "ret untouched on failure");
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, line_too_long_and_nul_byte)
{
	char dir[64], path[256], err[ERRLEN], want[512];
	struct nestd_config *c = NULL;
	size_t n = 4200;
	char *text = malloc(n + 64);

	tdir_make(dir);
	/* 4096 bytes is still fine ... */
	strcpy(text, "[Daemon]\n#");
	memset(text + 10, 'x', 4095);
	strcpy(text + 10 + 4095, "\n");
	cr_assert_eq(load_text(dir, text, &c, err, path), 0, "%s", err);
	c = nestd_config_free(c);
	/* ... 4097 is not */
	strcpy(text, "[Daemon]\n#");
	memset(text + 10, 'x', 4096);
	strcpy(text + 10 + 4096, "\n");
	cr_expect_eq(load_text(dir, text, &c, err, path), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: line too long (more than 4096 bytes)", path);
	cr_expect_str_eq(err, want);
	free(text);

	/* write_file() would stop at the NUL */
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fwrite("[Daemon]\nLogLevel=err\0x\n", 1, 24, f);
	fclose(f);
	cr_expect_eq(nestd_config_load(path, &c, err, ERRLEN), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	cr_expect_str_eq(err, want);
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, file_too_large)
{
	char dir[64], path[256], err[ERRLEN], want[512];
	struct nestd_config *c = NULL;
	FILE *f;

	tdir_make(dir);
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 1024 * 1024 / 16 + 1; i++)
		fputs("# padding......\n", f); /* 16 bytes a line */
	fclose(f);
	cr_expect_eq(nestd_config_load(path, &c, err, ERRLEN), -EFBIG);
	snprintf(want, sizeof(want), "%s: file too large (more than 1048576 bytes)", path);
	cr_expect_str_eq(err, want);
	tdir_remove(dir);
	NO_LEAKS();
}

Test(config, error_in_dropin_names_the_dropin)
{
	char dir[64], path[256], err[ERRLEN], sub[128], want[512];
	struct nestd_config *c = NULL;

	tdir_make(dir);
	snprintf(sub, sizeof(sub), "%s/nestd.conf.d", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	write_in(sub, "10-ok.conf", "[Limits]\nMaxBatch=5\n");
	/* A drop-in starts outside any section, even if the previous file ended in one. */
	write_in(sub, "20-bad.conf", "# x\nMaxBatch=6\n");
	cr_expect_eq(load_text(dir, "[Limits]\n", &c, err, path), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/20-bad.conf:2: MaxBatch: assignment outside of any [Section]", sub);
	cr_expect_str_eq(err, want);
	tdir_remove(dir);
	NO_LEAKS();
}

/* Builds a config text of @n_vms [VM] sections, each with @n_owners Owner= and @n_dev Device=. */
