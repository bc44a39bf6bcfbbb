/* SPDX-License-Identifier: MIT */
/* Start, HELLO, attach, admin status, clean SIGTERM exit. */
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "common.h"

/* Run nestd with @args (NULL-terminated, after argv[0]) and capture stdout; returns exit code. */
static int run_nestd(const char *const *args, char *out, size_t cap)
{
	int p[2], st = 0;
	size_t n = 0;
	ssize_t r;

	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		const char *argv[16] = {NESTD_BINARY};
		int dn = open("/dev/null", O_WRONLY);

		for (int i = 0; args[i] && i < 14; i++)
			argv[i + 1] = args[i];
		dup2(p[1], STDOUT_FILENO);
		dup2(dn, STDERR_FILENO);
		execv(NESTD_BINARY, (char **)argv);
		_exit(127);
	}
	close(p[1]);
	while (n + 1 < cap && (r = read(p[0], out + n, cap - n - 1)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(basic, hello_attach_status)
{
	struct td d;
	struct nest_vm_info info;
	struct json_object *res = NULL, *v;

	it_start(&d, NULL, NULL);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &info), 0);
	cr_expect_eq(info.backend, NEST_BACKEND_SIM);
	cr_expect_eq(info.num_devices, 2);
	cr_expect_eq(info.pasid_quota, 8);
	cr_expect_eq(info.pasid_mode, NEST_PASID_MODE_SYSTEM);
	cr_expect_eq(info.reattached, 0);
	cr_expect(info.formats & NEST_FORMAT_VTD_FL);

	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_admin(a, "status", NULL, &res), 0);
	cr_assert(json_object_object_get_ex(res, "backend", &v));
	cr_expect_str_eq(json_object_get_string(v), "sim");
	cr_assert(json_object_object_get_ex(res, "vms_attached", &v));
	cr_expect_eq(json_object_get_int(v), 1);
	cr_assert(json_object_object_get_ex(res, "vms_configured", &v));
	cr_expect_eq(json_object_get_int(v), 2);
	cr_assert(json_object_object_get_ex(res, "pid", &v));
	cr_expect_eq(json_object_get_int(v), d.pid);
	json_object_put(res);
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(basic, only_hello_before_hello)
{
	struct td d;
	struct nest_vm_attach at = {.size = sizeof(at)};

	it_start(&d, NULL, NULL);
	struct tc *t = tc_connect(d.sock);
	cr_assert_not_null(t);
	strcpy(at.name, "vm0");
	cr_expect_eq(
		tc_call(t, NEST_OP_VM_ATTACH, &at, sizeof(at), NULL, 0, NULL, 0, NULL, 0, NULL),
		-EPERM);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(basic, command_line)
{
	static char out[16384];
	struct td d;
	char conf[2048];

	td_init(&d);
	it_std_conf(conf, sizeof(conf), "GracePeriodSec=7", NULL);
	td_write_conf(&d, conf);
	const char *dump[] = {"--config", d.conf, "--dump-config", NULL};
	cr_expect_eq(run_nestd(dump, out, sizeof(out)), 0);
	cr_expect(strstr(out, "[VM]\nName=vm0\n") != NULL, "dump: %s", out);
	cr_expect(strstr(out, "GracePeriodSec=7") != NULL);
	cr_expect(strstr(out, "Backend=sim") != NULL);
	const char *ver[] = {"--version", NULL};
	cr_expect_eq(run_nestd(ver, out, sizeof(out)), 0);
	cr_expect(strstr(out, "nestd 0.1.0") != NULL);
	const char *help[] = {"-h", NULL};
	cr_expect_eq(run_nestd(help, out, sizeof(out)), 0);
	cr_expect(strstr(out, "--admin-socket") != NULL);
	const char *bad[] = {"--frob", NULL};
	cr_expect_eq(run_nestd(bad, out, sizeof(out)), 2);
	const char *badbe[] = {"--backend", "nope", NULL};
	cr_expect_eq(run_nestd(badbe, out, sizeof(out)), 2);
	/* a forced backend that is not built in / usable: start fails */
	const char *type1[] = {"--config", d.conf,	     "--backend", "vfio-type1", "--socket",
			       d.sock,	   "--admin-socket", d.admin,	  NULL};
	cr_expect_eq(run_nestd(type1, out, sizeof(out)), 1);
	/* a broken config: exit 1 */
	td_write_conf(&d, "[Daemon]\nBogus=1\n");
	cr_expect_eq(run_nestd(dump, out, sizeof(out)), 1);
	td_cleanup(&d);
	NO_LEAKS();
}

static int bind_stale_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	cr_assert_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

Test(basic, socket_paths_modes_and_stale_sockets)
{
	struct td d;
	struct td d2;
	struct stat st;
	char conf[2048];

	/* a stale socket (nobody listening) is replaced */
	td_init(&d);
	it_std_conf(conf, sizeof(conf), NULL, "SocketMode=0640");
	td_write_conf(&d, conf);
	close(bind_stale_socket(d.sock));
	cr_assert_eq(td_start(&d), 0);
	cr_assert_eq(stat(d.sock, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0640);
	cr_assert_eq(stat(d.admin, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600, "admin socket without AdminGroup is 0600");
	/* a second daemon on the same paths refuses to steal a live socket */
	td_init(&d2);
	td_write_conf(&d2, conf);
	snprintf(d2.sock, sizeof(d2.sock), "%s", d.sock);
	cr_expect_neq(td_start(&d2), 0);
	td_cleanup(&d2);
	struct tc *t = it_client(&d);
	tc_free(t);
	it_stop(&d);

	/* something that is not a socket is never unlinked */
	td_init(&d);
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	int fd = open(d.sock, O_CREAT | O_WRONLY, 0600);
	close(fd);
	cr_expect_neq(td_start(&d), 0);
	cr_assert_eq(stat(d.sock, &st), 0);
	cr_expect(S_ISREG(st.st_mode), "the regular file is still there");
	td_cleanup(&d);
	NO_LEAKS();
}
