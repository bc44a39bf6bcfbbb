/* SPDX-License-Identifier: MIT */
/*
 * admin.c - nest_admin_call(): one JSON request on the admin socket, its JSON result back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client-internal.h"

NEST_PUBLIC int nest_admin_call(nest_client *c, const char *json_request, char **ret_json_reply)
{
	struct client_sync s;
	size_t len;
	int r;

	if (!c || !json_request || !ret_json_reply)
		return -EINVAL;
	len = strlen(json_request) + 1; /* the NUL travels with it */
	if (len > NEST_JSON_LEN_MAX) {
		client_set_error(c, 0, "ADMIN: request longer than %u bytes", NEST_JSON_LEN_MAX);
		return -E2BIG;
	}
	client_sync_init(&s);
	s.tail_alloc = true;
	r = client_call(c, NEST_OP_ADMIN, json_request, len, NULL, 0, &s);
	if (r < 0) {
		free(s.tail_buf);
		return r;
	}
	*ret_json_reply = s.tail_buf; /* ownership moves to the caller */
	return 0;
}
