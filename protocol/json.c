/* SPDX-License-Identifier: MIT */
/*
 * json.c - strict parsing of JSON received on the wire, and typed getters (STYLE.md R21).
 *
 * json-c 0.16 is lenient in ways a wire protocol must not be: even with JSON_TOKENER_STRICT it
 * accepts single-quoted strings and NaN/Infinity, and it silently clamps integer literals beyond
 * the int64/uint64 range (99999999999999999999999 becomes 18446744073709551615, with no errno).
 * So after json-c has parsed a document we re-scan its text: only standard JSON literals are
 * allowed, and every integer literal must fit in [INT64_MIN, UINT64_MAX], else -ERANGE.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "nest-caps.h"

#define NEST_JSON_DEPTH_MAX 16 /* nested objects/arrays, the top-level object included */

/* An integer literal (JSON form: -?digits) must fit in int64 (negative) or uint64. */
static int json_scan_int(const char *p, size_t n)
{
	char tmp[32];
	char *end;

	if (n >= sizeof(tmp))
		return -ERANGE; /* > 21 digits: out of range whatever they are */
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	errno = 0;
	if (tmp[0] == '-')
		(void)strtoll(tmp, &end, 10);
	else
		(void)strtoull(tmp, &end, 10);
	return errno == ERANGE ? -ERANGE : 0;
}

/* A number token starting at @p: returns its length; *is_int if it has no fraction/exponent. */
static size_t json_scan_number(const char *p, size_t n, bool *is_int)
{
	size_t i = 0;

	*is_int = true;
	while (i < n && (isdigit((unsigned char)p[i]) || strchr("-+.eE", p[i]))) {
		if (strchr(".eE", p[i]))
			*is_int = false;
		i++;
	}
	return i;
}

static int json_scan_word(const char *p, size_t n, size_t *len)
{
	size_t i = 0;

	while (i < n && isalpha((unsigned char)p[i]))
		i++;
	*len = i;
	if ((i == 4 && (!memcmp(p, "true", 4) || !memcmp(p, "null", 4))) ||
	    (i == 5 && !memcmp(p, "false", 5)))
		return 0;
	return -EINVAL; /* NaN, Infinity, ... */
}

/* Lexical re-scan of a document json-c already accepted (see the file comment). */
static int json_scan_strict(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		char c = s[i];
		size_t len;
		bool is_int;
		int r;

		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if ((unsigned char)s[i] < 0x20)
					return -EINVAL; /* raw control character in a string */
				if (s[i] == '\\')
					i++;
			}
			i++;
		} else if (c == '-' || isdigit((unsigned char)c)) {
			len = json_scan_number(s + i, n - i, &is_int);
			if (is_int && (r = json_scan_int(s + i, len)) < 0)
				return r;
			i += len;
		} else if (isalpha((unsigned char)c)) {
			if ((r = json_scan_word(s + i, n - i, &len)) < 0)
				return r;
			i += len;
		} else if (strchr("{}[]:, \t\r\n", c)) {
			i++;
		} else {
			return -EINVAL; /* single quotes, comments, ... */
		}
	}
	return 0;
}

int nest_json_parse(const char *buf, size_t len, size_t max, struct json_object **ret)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error err;
	size_t end;
	int r;

	if (!buf || len == 0 || buf[len - 1] != '\0' || memchr(buf, '\0', len - 1))
		return -EINVAL;
	if (len > max || len - 1 > (size_t)INT_MAX) /* json-c takes an int length */
		return -E2BIG;
	/* json-c counts the scalar inside the innermost container as a level too */
	tok = json_tokener_new_ex(NEST_JSON_DEPTH_MAX + 1);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)(len - 1));
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (err == json_tokener_error_depth)
		r = -E2BIG;
	else if (!o || err != json_tokener_success || end != len - 1 ||
		 !json_object_is_type(o, json_type_object))
		r = -EINVAL;
	else
		r = json_scan_strict(buf, len - 1);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*ret = o; /* the caller owns this reference */
	return 0;
}

/* Look up @key. Returns 1 with *ret set, 0 if missing (a JSON null counts as missing), or -EINVAL. */
static int json_lookup(struct json_object *obj, const char *key, int required,
		       struct json_object **ret)
{
	struct json_object *v = NULL;

	if (!json_object_is_type(obj, json_type_object))
		return -EINVAL;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return required ? -EINVAL : 0;
	*ret = v;
	return 1;
}

int nest_json_get_u64(struct json_object *obj, const char *key, uint64_t min, uint64_t max,
		      uint64_t def, int required, uint64_t *ret)
{
	struct json_object *v;
	uint64_t u;
	int r;

	r = json_lookup(obj, key, required, &v);
	if (r <= 0) {
		if (r == 0)
			*ret = def;
		return r;
	}
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	if (json_object_get_int64(v) < 0)
		return -ERANGE;
	u = json_object_get_uint64(v);
	if (u < min || u > max)
		return -ERANGE;
	*ret = u;
	return 0;
}

int nest_json_get_bool(struct json_object *obj, const char *key, int def, int required, int *ret)
{
	struct json_object *v;
	int r;

	r = json_lookup(obj, key, required, &v);
	if (r <= 0) {
		if (r == 0)
			*ret = def;
		return r;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	*ret = json_object_get_boolean(v) ? 1 : 0;
	return 0;
}

int nest_json_get_str(struct json_object *obj, const char *key, size_t max_len, const char *def,
		      int required, const char **ret)
{
	struct json_object *v;
	const char *s;
	size_t n;
	int r;

	r = json_lookup(obj, key, required, &v);
	if (r <= 0) {
		if (r == 0)
			*ret = def;
		return r;
	}
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n >= max_len)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) /* also catches \u0000 */
			return -EINVAL;
	*ret = s;
	return 0;
}

/* "0x" followed by 1..16 hex digits, nothing else. */
static int json_parse_hex(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n < 3 || n > 18 || s[0] != '0' || s[1] != 'x')
		return -EINVAL;
	for (size_t i = 2; i < n; i++) {
		int c = (unsigned char)s[i];

		if (!isxdigit(c))
			return -EINVAL;
		v = (v << 4) | (uint64_t)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	*ret = v;
	return 0;
}

int nest_json_get_addr(struct json_object *obj, const char *key, uint64_t def, int required,
		       uint64_t *ret)
{
	struct json_object *v;
	int r;

	r = json_lookup(obj, key, required, &v);
	if (r <= 0) {
		if (r == 0)
			*ret = def;
		return r;
	}
	if (json_object_is_type(v, json_type_int))
		return nest_json_get_u64(obj, key, 0, UINT64_MAX, def, required, ret);
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	return json_parse_hex(json_object_get_string(v), (size_t)json_object_get_string_len(v),
			      ret);
}
