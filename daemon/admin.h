/* SPDX-License-Identifier: MIT */
/*
 * admin.h - the admin socket commands (protocol/nest-admin.h has the result shapes).
 *
 * Each command builds a new JSON result object or returns -errno with a message in @err.
 * Who may use the admin socket is decided at accept (conn.c): uid 0, the daemon's own uid, or a
 * peer in the AdminGroup (primary or supplementary group, see peer.h).
 */
#ifndef NESTD_ADMIN_H
#define NESTD_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "nestd.h"

struct conn;

typedef int (*admin_fn)(struct conn *c, struct json_object *args, struct json_object *res,
			char *err, size_t errlen);

/* admin-vm.c */
int admin_vm_list(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		  size_t errlen);
int admin_vm_show(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		  size_t errlen);
int admin_pasid_list(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		     size_t errlen);
int admin_device_list(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		      size_t errlen);
/* admin-sim.c */
int admin_sim_translate(struct conn *c, struct json_object *args, struct json_object *res,
			char *err, size_t errlen);
int admin_sim_dma(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		  size_t errlen);
/* admin-mock.c */
int admin_mock_check_iotlb(struct conn *c, struct json_object *args, struct json_object *res,
			   char *err, size_t errlen);
int admin_mock_trigger_vevent(struct conn *c, struct json_object *args, struct json_object *res,
			      char *err, size_t errlen);
int admin_mock_check_dev_cache(struct conn *c, struct json_object *args, struct json_object *res,
			       char *err, size_t errlen);
int admin_mock_trigger_iopf(struct conn *c, struct json_object *args, struct json_object *res,
			    char *err, size_t errlen);

/* admin-debug.c */
int admin_debug_stall(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		      size_t errlen);

/* JSON building helpers (admin.c) */
void admin_add_int(struct json_object *o, const char *key, int64_t v);
void admin_add_str(struct json_object *o, const char *key, const char *s);
void admin_add_bool(struct json_object *o, const char *key, bool v);
void admin_add_hex(struct json_object *o, const char *key, uint64_t v);
void admin_add_null(struct json_object *o, const char *key);
/* "name" argument -> a configured VM, or -ENOENT / -EINVAL with @err set. */
int admin_arg_vm(struct nestd *d, struct json_object *args, const char *key, struct vm **ret,
		 char *err, size_t errlen);

#endif /* NESTD_ADMIN_H */
