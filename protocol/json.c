/* SPDX-License-Identifier: MIT */
/*
 * json.c - strict parsing of JSON received on the wire, and typed getters (STYLE.md R21).
 *
 * json-c 0.16 is lenient in ways a wire protocol must not be: even with JSON_TOKENER_STRICT it
 * accepts single-quoted strings and NaN/Infinity, and it silently clamps integer literals beyond
 * the int64/uint64 range (99999999999999999999999 becomes 18446744073709551615, with no errno).
 * So after json-c has parsed a document we re-scan its text: only standard JSON literals are
 * allowed, and every integer literal must fit in [INT64_MIN, UINT64_MAX], else -ERANGE. The
 * re-scan also enforces what json-c gets wrong or leaves out: strict UTF-8 (RFC 3629), the depth
 * limit when the innermost value is a container, and keys cut short at an escaped NUL.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
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

/*
 * One UTF-8 sequence at @p (RFC 3629): no overlong forms, no surrogates (U+D800..U+DFFF), nothing
 * above U+10FFFF. Returns its length, or 0 if invalid. json-c's JSON_TOKENER_VALIDATE_UTF8 only
 * checks the shape of a sequence, so it lets overlongs (C0 AF, an overlong newline) and encoded
 * surrogates (ED A0 80) through.
 */
static size_t json_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0; /* continuation byte, C0/C1 (always overlong), F5..FF */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int json_hex4(const char *p, size_t n, unsigned *ret)
{
	unsigned v = 0;

	if (n < 4)
		return -EINVAL;
	for (size_t i = 0; i < 4; i++) {
		int c = (unsigned char)p[i];

		if (!isxdigit(c))
			return -EINVAL;
		v = (v << 4) | (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	*ret = v;
	return 0;
}

/*
 * A string starting at the quote at s[*i]: strict UTF-8, no raw control characters, \u escapes
 * that name a character (a high surrogate escape must be followed by a low one, a low one must
 * follow a high one). *has_nul if it contains \u0000. On return s[*i] is past the closing quote.
 */
static int json_scan_string(const char *s, size_t n, size_t *i, bool *has_nul)
{
	size_t k = *i + 1;

	*has_nul = false;
	while (k < n && s[k] != '"') {
		unsigned char c = (unsigned char)s[k];
		unsigned u, lo;
		size_t len;

		if (c < 0x20)
			return -EINVAL; /* raw control character in a string */
		if (c != '\\') {
			len = json_utf8_len((const unsigned char *)s + k, n - k);
			if (!len)
				return -EINVAL;
			k += len;
			continue;
		}
		if (k + 1 >= n)
			return -EINVAL;
		if (s[k + 1] != 'u') {
			k += 2;
			continue;
		}
		if (json_hex4(s + k + 2, n - k - 2, &u) < 0)
			return -EINVAL;
		k += 6;
		if (u == 0)
			*has_nul = true;
		if (u >= 0xdc00 && u <= 0xdfff)
			return -EINVAL; /* a low surrogate without its high one */
		if (u >= 0xd800 && u <= 0xdbff) {
			if (k + 1 >= n || s[k] != '\\' || s[k + 1] != 'u' ||
			    json_hex4(s + k + 2, n - k - 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
				return -EINVAL; /* a high surrogate without its low one */
			k += 6;
		}
	}
	*i = k + 1;
	return 0;
}

/* Lexical re-scan of a document json-c already accepted (see the file comment). */
static int json_scan_strict(const char *s, size_t n)
{
	unsigned depth = 0;

	for (size_t i = 0; i < n;) {
		char c = s[i];
		size_t len, j;
		bool is_int, has_nul;
		int r;

		if (c == '"') {
			if ((r = json_scan_string(s, n, &i, &has_nul)) < 0)
				return r;
			for (j = i; j < n && strchr(" \t\r\n", s[j]); j++)
				;
			/* json-c cuts keys at a NUL: "max_fds\u0000x" would read as max_fds */
			if (has_nul && j < n && s[j] == ':')
				return -EINVAL;
		} else if (c == '-' || isdigit((unsigned char)c)) {
			len = json_scan_number(s + i, n - i, &is_int);
			if (is_int && (r = json_scan_int(s + i, len)) < 0)
				return r;
			i += len;
		} else if (isalpha((unsigned char)c)) {
			if ((r = json_scan_word(s + i, n - i, &len)) < 0)
				return r;
			i += len;
		} else if (c == '{' || c == '[') {
			/* json-c's own limit counts a scalar inside the innermost container as a level */
			if (++depth > NEST_JSON_DEPTH_MAX)
				return -E2BIG;
			i++;
		} else if (c == '}' || c == ']') {
			depth--;
			i++;
		} else if (strchr(":, \t\r\n", c)) {
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

/* "0x" or "0X" followed by 1..16 hex digits (either case), nothing else. */
static int json_parse_hex(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n < 3 || n > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
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
