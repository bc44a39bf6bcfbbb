/* SPDX-License-Identifier: MIT */
/*
 * test-caps.c - the HELLO capability document and the strict JSON parser and getters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "nest-caps.h"
#include "nest-proto.h"
#include "nest-test.h"

/* Parse a C string (its NUL is the terminating NUL). */
static int parse(const char *s, struct nest_caps *c)
{
	return nest_caps_parse(s, strlen(s) + 1, c);
}

Test(caps, defaults)
{
	struct nest_caps c, d;

	memset(&c, 0xaa, sizeof(c));
	cr_assert_eq(parse("{}", &c), 0);
	nest_caps_init(&d);
	cr_expect_eq(c.max_msg_size, NEST_MSG_SIZE_DEFAULT);
	cr_expect_eq(c.max_fds, NEST_FDS_PER_MSG_MAX);
	cr_expect_eq(c.max_batch, NEST_BATCH_DEFAULT);
	cr_expect_eq(c.max_inflight, NEST_INFLIGHT_DEFAULT);
	cr_expect_eq(c.features, 0);
	cr_expect_str_eq(c.software, "");
	cr_expect(!memcmp(&c, &d, sizeof(c)));
	NO_LEAKS();
}

Test(caps, full_document)
{
	struct nest_caps c;

	cr_assert_eq(
		parse("{ \"software\": \"qemu 9.0\", \"max_msg_size\": 4096, \"max_fds\": 1,"
		      " \"max_batch\": 1024, \"max_inflight\": 1,"
		      " \"features\": [\"sim-dma\", \"checker\", \"time-travel\", \"sim-dma\"],"
		      " \"unknown\": {\"nested\": [1, 2.5, null]} }",
		      &c),
		0);
	cr_expect_str_eq(c.software, "qemu 9.0");
	cr_expect_eq(c.max_msg_size, 4096);
	cr_expect_eq(c.max_fds, 1);
	cr_expect_eq(c.max_batch, 1024);
	cr_expect_eq(c.max_inflight, 1);
	cr_expect_eq(c.features, NEST_FEAT_SIM_DMA | NEST_FEAT_CHECKER);
	NO_LEAKS();
}

struct limit_case {
	const char *key;
	uint64_t min, max;
};

static const struct limit_case limits[] = {
	{"max_msg_size", NEST_MSG_SIZE_MIN, NEST_MSG_SIZE_MAX},
	{"max_fds", 1, NEST_FDS_PER_MSG_MAX},
	{"max_batch", 1, NEST_BATCH_MAX},
	{"max_inflight", 1, NEST_INFLIGHT_MAX},
};

static int parse_kv(const char *key, const char *value)
{
	char doc[256];
	struct nest_caps c;

	snprintf(doc, sizeof(doc), "{\"%s\": %s}", key, value);
	memset(&c, 0x5a, sizeof(c));
	int r = parse(doc, &c);

	if (r < 0) { /* ret untouched on failure */
		struct nest_caps pat;

		memset(&pat, 0x5a, sizeof(pat));
		cr_expect(!memcmp(&c, &pat, sizeof(c)), "%s=%s wrote ret", key, value);
	}
	return r;
}

Test(caps, limits_ranges_and_types)
{
	static const char *const wrong_type[] = {
		"\"4\"", "4.0", "1e3", "true", "[4]", "{}", "1e400", "-1e400", "0.5",
	};
	static const char *const out_of_range[] = {
		"-1",
		"99999999999999999999999",
		"18446744073709551616",
		"-9223372036854775809",
		"18446744073709551615",
		"9223372036854775808",
		"-99999999999999999999999",
	};
	char v[32];

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		const struct limit_case *l = &limits[i];

		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->min);
		cr_expect_eq(parse_kv(l->key, v), 0, "%s min", l->key);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->max);
		cr_expect_eq(parse_kv(l->key, v), 0, "%s max", l->key);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->min - 1);
		cr_expect_eq(parse_kv(l->key, v), -ERANGE, "%s min-1", l->key);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->max + 1);
		cr_expect_eq(parse_kv(l->key, v), -ERANGE, "%s max+1", l->key);
		for (size_t j = 0; j < sizeof(wrong_type) / sizeof(wrong_type[0]); j++)
			cr_expect_eq(parse_kv(l->key, wrong_type[j]), -EINVAL, "%s = %s", l->key,
				     wrong_type[j]);
		for (size_t j = 0; j < sizeof(out_of_range) / sizeof(out_of_range[0]); j++)
			cr_expect_eq(parse_kv(l->key, out_of_range[j]), -ERANGE, "%s = %s", l->key,
				     out_of_range[j]);
	}
	NO_LEAKS();
}

Test(caps, huge_literals_anywhere)
{
	/* json-c would clamp these silently; the parser refuses them even under unknown keys */
	cr_expect_eq(parse_kv("whatever", "99999999999999999999999"), -ERANGE);
	cr_expect_eq(parse_kv("whatever", "[1, -99999999999999999999]"), -ERANGE);
	cr_expect_eq(parse_kv("whatever", "18446744073709551615"), 0, "UINT64_MAX fits");
	cr_expect_eq(parse_kv("whatever", "-9223372036854775808"), 0, "INT64_MIN fits");
	cr_expect_eq(parse_kv("whatever", "1e400"), 0, "a double, unused: fine");
	cr_expect_eq(parse_kv("whatever", "\"99999999999999999999999\""), 0, "a string");
	NO_LEAKS();
}

Test(caps, software_and_features)
{
	char doc[256], name[80];

	memset(name, 'a', 63);
	name[63] = '\0';
	snprintf(doc, sizeof(doc), "\"%s\"", name);
	cr_expect_eq(parse_kv("software", doc), 0, "63 bytes");
	name[63] = 'a';
	name[64] = '\0';
	snprintf(doc, sizeof(doc), "\"%s\"", name);
	cr_expect_eq(parse_kv("software", doc), -EINVAL, "64 bytes");
	cr_expect_eq(parse_kv("software", "\"a\\u0001b\""), -EINVAL, "control character");
	cr_expect_eq(parse_kv("software", "\"a\\u0000b\""), -EINVAL, "escaped NUL");
	cr_expect_eq(parse_kv("software", "\"tab\\there\""), -EINVAL);
	cr_expect_eq(parse_kv("software", "\"caf\\u00e9\""), 0, "UTF-8 is fine");
	cr_expect_eq(parse_kv("software", "42"), -EINVAL);
	cr_expect_eq(parse_kv("software", "null"), 0, "null counts as absent");
	cr_expect_eq(parse_kv("features", "\"sim-dma\""), -EINVAL);
	cr_expect_eq(parse_kv("features", "[\"sim-dma\", 1]"), -EINVAL);
	cr_expect_eq(parse_kv("features", "[[\"sim-dma\"]]"), -EINVAL);
	cr_expect_eq(parse_kv("features", "{}"), -EINVAL);
	cr_expect_eq(parse_kv("features", "[]"), 0);
	{
		struct nest_caps c;

		cr_assert_eq(parse("{\"features\": [\"sim-dma\\u0000\", \"checker2\", \"Checker\","
				   " \"fault-events\"]}",
				   &c),
			     0);
		cr_expect_eq(c.features, NEST_FEAT_FAULT_EVENTS, "only exact names count");
	}
	{
		/* every feature name of PROTOCOL.md §4 and its bit, and nothing else */
		struct nest_caps c;

		cr_assert_eq(parse("{\"features\": [\"bind-pgtbl\", \"cache-invld\","
				   " \"syswide-pasid\", \"sim-dma\", \"fault-events\","
				   " \"checker\", \"native\", \"page-requests\", \"viommu\","
				   " \"bind-device\", \"bind-rid\", \"bind-replace\"]}",
				   &c),
			     0);
		cr_expect_eq(c.features, NEST_FEAT_VALID);
		cr_expect_eq(NEST_FEAT_NATIVE, 0x40);
		cr_expect_eq(NEST_FEAT_PAGE_REQUESTS, 0x80);
		cr_expect_eq(NEST_FEAT_VIOMMU, 0x100);
		cr_expect_eq(NEST_FEAT_BIND_DEVICE, 0x200);
		cr_expect_eq(NEST_FEAT_BIND_RID, 0x400);
		cr_expect_eq(NEST_FEAT_BIND_REPLACE, 0x800);
		cr_expect_eq(NEST_FEAT_VALID, 0xfff);
		cr_assert_eq(parse("{\"features\": [\"viommu\", \"vIOMMU\"]}", &c), 0);
		cr_expect_eq(c.features, NEST_FEAT_VIOMMU);
		cr_assert_eq(parse("{\"features\": [\"native\"]}", &c), 0);
		cr_expect_eq(c.features, NEST_FEAT_NATIVE);
		cr_assert_eq(parse("{\"features\": [\"page-requests\", \"page-request\"]}", &c), 0);
		cr_expect_eq(c.features, NEST_FEAT_PAGE_REQUESTS);
	}
	NO_LEAKS();
}

Test(caps, framing_of_the_document)
{
	struct nest_caps c;
	char *big;

	cr_expect_eq(nest_caps_parse("{}", 2, &c), -EINVAL, "missing NUL");
	cr_expect_eq(nest_caps_parse("{}\0{}", 6, &c), -EINVAL, "embedded NUL");
	cr_expect_eq(nest_caps_parse("{\0}", 4, &c), -EINVAL, "embedded NUL inside");
	cr_expect_eq(nest_caps_parse("", 0, &c), -EINVAL, "empty");
	cr_expect_eq(nest_caps_parse(NULL, 0, &c), -EINVAL);
	cr_expect_eq(parse("", &c), -EINVAL, "only the NUL");
	cr_expect_eq(parse("{} x", &c), -EINVAL, "trailing garbage");
	cr_expect_eq(parse("{}{}", &c), -EINVAL, "two documents");
	cr_expect_eq(parse("{} \n\t", &c), 0, "trailing whitespace");
	cr_expect_eq(parse("[]", &c), -EINVAL, "array");
	cr_expect_eq(parse("42", &c), -EINVAL, "number");
	cr_expect_eq(parse("\"x\"", &c), -EINVAL, "string");
	cr_expect_eq(parse("null", &c), -EINVAL, "null");
	cr_expect_eq(parse("{\"max_fds\": 1", &c), -EINVAL, "unterminated");
	cr_expect_eq(parse("{'max_fds': 1}", &c), -EINVAL, "single quotes");
	cr_expect_eq(parse("{\"a\": NaN}", &c), -EINVAL, "NaN");
	cr_expect_eq(parse("{\"a\": Infinity}", &c), -EINVAL, "Infinity");
	cr_expect_eq(parse("{\"a\": 1,}", &c), -EINVAL, "trailing comma");
	cr_expect_eq(parse("{\"a\": 01}", &c), -EINVAL, "leading zero");
	cr_expect_eq(parse("{/* c */}", &c), -EINVAL, "comment");
	cr_expect_eq(parse("{\"a\": \"\xff\"}", &c), -EINVAL, "invalid UTF-8");

	/* depth: 16 levels are fine, 17 are not */
	cr_expect_eq(parse("{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}", &c), 0, "depth 16");
	cr_expect_eq(parse("{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}", &c), -E2BIG, "depth 17");
	/* the innermost value a container: json-c alone would let 17 levels through (issue 10) */
	cr_expect_eq(parse("{\"a\":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}", &c), 0, "depth 16, empty");
	cr_expect_eq(parse("{\"a\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}", &c), -E2BIG,
		     "depth 17, empty array");
	cr_expect_eq(parse("{\"a\":[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]}", &c), -E2BIG,
		     "depth 17, empty object");
	cr_expect_eq(parse("{\"a\":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]],\"b\":[{}]}", &c), 0,
		     "depth 16 then siblings");
	cr_expect_eq(parse("{\"a\":\"[[[[[[[[[[[[[[[[[[\"}", &c), 0, "brackets in a string");

	/* size: NEST_CAPS_LEN_MAX including the NUL */
	big = malloc(NEST_CAPS_LEN_MAX + 1);
	cr_assert_not_null(big);
	memset(big, ' ', NEST_CAPS_LEN_MAX + 1);
	big[0] = '{';
	big[NEST_CAPS_LEN_MAX - 2] = '}';
	big[NEST_CAPS_LEN_MAX - 1] = '\0';
	cr_expect_eq(nest_caps_parse(big, NEST_CAPS_LEN_MAX, &c), 0);
	big[NEST_CAPS_LEN_MAX - 1] = '}';
	big[NEST_CAPS_LEN_MAX - 2] = ' ';
	big[NEST_CAPS_LEN_MAX] = '\0';
	cr_expect_eq(nest_caps_parse(big, NEST_CAPS_LEN_MAX + 1, &c), -E2BIG);
	free(big);
	NO_LEAKS();
}

Test(caps, format_round_trip)
{
	struct nest_caps c, back;
	char buf[512];
	size_t len = 0;

	nest_caps_init(&c);
	strcpy(c.software, "nestd \"0.1\" / test");
	c.max_msg_size = 8192;
	c.max_fds = 2;
	c.max_batch = 7;
	c.max_inflight = 3;
	c.features = NEST_FEAT_VALID;
	cr_assert_eq(nest_caps_format(&c, buf, sizeof(buf), &len), 0);
	cr_expect_eq(len, strlen(buf) + 1);
	cr_assert_eq(nest_caps_parse(buf, len, &back), 0, "%s", buf);
	cr_expect(!memcmp(&c, &back, sizeof(c)), "%s", buf);
	len = 777;
	cr_expect_eq(nest_caps_format(&c, buf, strlen(buf), &len), -EMSGSIZE);
	cr_expect_eq(len, 777);
	NO_LEAKS();
}

Test(caps, negotiation)
{
	struct nest_caps a, b, r;

	nest_caps_init(&a);
	nest_caps_init(&b);
	strcpy(a.software, "nestd");
	strcpy(b.software, "vmm");
	a.max_msg_size = 8192;
	b.max_msg_size = NEST_MSG_SIZE_MAX;
	a.max_fds = 4;
	b.max_fds = 1;
	a.max_batch = 10;
	b.max_batch = 11;
	a.max_inflight = 100;
	b.max_inflight = 99;
	a.features = NEST_FEAT_SIM_DMA | NEST_FEAT_CHECKER | NEST_FEAT_BIND_PGTBL;
	b.features = NEST_FEAT_SIM_DMA | NEST_FEAT_FAULT_EVENTS | NEST_FEAT_BIND_PGTBL;
	nest_caps_negotiate(&a, &b, &r);
	cr_expect_eq(r.max_msg_size, 8192);
	cr_expect_eq(r.max_fds, 1);
	cr_expect_eq(r.max_batch, 10);
	cr_expect_eq(r.max_inflight, 99);
	cr_expect_eq(r.features, NEST_FEAT_SIM_DMA | NEST_FEAT_BIND_PGTBL);
	cr_expect_str_eq(r.software, "vmm");
	nest_caps_negotiate(&b, &a, &r);
	cr_expect_eq(r.max_msg_size, 8192);
	cr_expect_eq(r.max_fds, 1);
	NO_LEAKS();
}

static struct json_object *doc(const char *s)
{
	struct json_object *o = NULL;

	cr_assert_eq(nest_json_parse(s, strlen(s) + 1, NEST_JSON_LEN_MAX, &o), 0, "%s", s);
	return o;
}

Test(caps, json_parse_limits)
{
	struct json_object *o = (struct json_object *)0x1;

	cr_expect_eq(nest_json_parse("{}", 3, 2, &o), -E2BIG);
	cr_expect_eq(o, (struct json_object *)0x1, "ret written on failure");
	cr_expect_eq(nest_json_parse("{}", 3, 3, &o), 0);
	json_object_put(o);
	NO_LEAKS();
}

Test(caps, getters)
{
	struct json_object *o = doc("{\"n\": 7, \"big\": 18446744073709551615, \"neg\": -3,"
				    " \"d\": 7.0, \"s\": \"str\", \"b\": true, \"f\": false,"
				    " \"z\": null, \"arr\": [1]}");
	uint64_t u = 1234;
	int b = 5;
	const char *s = "unset";

	cr_expect_eq(nest_json_get_u64(o, "n", 0, 10, 0, 1, &u), 0);
	cr_expect_eq(u, 7);
	cr_expect_eq(nest_json_get_u64(o, "n", 8, 10, 0, 1, &u), -ERANGE);
	cr_expect_eq(nest_json_get_u64(o, "n", 0, 6, 0, 1, &u), -ERANGE);
	cr_expect_eq(nest_json_get_u64(o, "big", 0, UINT64_MAX, 0, 1, &u), 0);
	cr_expect_eq(u, UINT64_MAX);
	cr_expect_eq(nest_json_get_u64(o, "big", 0, UINT64_MAX - 1, 0, 1, &u), -ERANGE);
	u = 1;
	cr_expect_eq(nest_json_get_u64(o, "neg", 0, UINT64_MAX, 0, 1, &u), -ERANGE);
	cr_expect_eq(u, 1, "ret written on failure");
	cr_expect_eq(nest_json_get_u64(o, "d", 0, 10, 0, 1, &u), -EINVAL);
	cr_expect_eq(nest_json_get_u64(o, "s", 0, 10, 0, 1, &u), -EINVAL);
	cr_expect_eq(nest_json_get_u64(o, "b", 0, 10, 0, 1, &u), -EINVAL);
	cr_expect_eq(nest_json_get_u64(o, "arr", 0, 10, 0, 1, &u), -EINVAL);
	cr_expect_eq(nest_json_get_u64(o, "missing", 0, 10, 9, 0, &u), 0);
	cr_expect_eq(u, 9);
	cr_expect_eq(nest_json_get_u64(o, "missing", 0, 10, 9, 1, &u), -EINVAL);
	cr_expect_eq(nest_json_get_u64(o, "z", 0, 10, 8, 0, &u), 0);
	cr_expect_eq(u, 8, "null = absent");

	cr_expect_eq(nest_json_get_bool(o, "b", 0, 1, &b), 0);
	cr_expect_eq(b, 1);
	cr_expect_eq(nest_json_get_bool(o, "f", 1, 1, &b), 0);
	cr_expect_eq(b, 0);
	cr_expect_eq(nest_json_get_bool(o, "n", 0, 1, &b), -EINVAL);
	cr_expect_eq(nest_json_get_bool(o, "s", 0, 1, &b), -EINVAL);
	cr_expect_eq(nest_json_get_bool(o, "missing", 1, 0, &b), 0);
	cr_expect_eq(b, 1);
	cr_expect_eq(nest_json_get_bool(o, "missing", 1, 1, &b), -EINVAL);

	cr_expect_eq(nest_json_get_str(o, "s", 4, NULL, 1, &s), 0);
	cr_expect_str_eq(s, "str");
	cr_expect_eq(nest_json_get_str(o, "s", 3, NULL, 1, &s), -EINVAL, "length == max_len");
	cr_expect_eq(nest_json_get_str(o, "n", 10, NULL, 1, &s), -EINVAL);
	cr_expect_eq(nest_json_get_str(o, "missing", 10, "dflt", 0, &s), 0);
	cr_expect_str_eq(s, "dflt");
	cr_expect_eq(nest_json_get_str(o, "missing", 10, "dflt", 1, &s), -EINVAL);

	cr_expect_eq(nest_json_get_u64(json_object_object_get(o, "arr"), "n", 0, 1, 0, 0, &u),
		     -EINVAL, "not an object");
	json_object_put(o);
	NO_LEAKS();
}

Test(caps, addr_getter)
{
	static const struct {
		char value[40];
		int r;
		uint64_t v;
	} cases[] = {
		{"\"0x0\"", 0, 0},
		{"\"0x1000\"", 0, 0x1000},
		{"\"0xdeadBEEF\"", 0, 0xdeadbeef},
		{"\"0xffffffffffffffff\"", 0, UINT64_MAX},
		{"\"0x0000000000001000\"", 0, 0x1000},
		{"4096", 0, 4096},
		{"18446744073709551615", 0, UINT64_MAX},
		{"0", 0, 0},
		{"\"0x\"", -EINVAL, 0},
		{"\"0x10000000000000000\"", -EINVAL, 0},
		{"\"0X10\"", 0, 0x10},
		{"\"0XdeadBEEF\"", 0, 0xdeadbeef},
		{"\"0X\"", -EINVAL, 0},
		{"\"00x10\"", -EINVAL, 0},
		{"\"10\"", -EINVAL, 0},
		{"\" 0x10\"", -EINVAL, 0},
		{"\"0x10 \"", -EINVAL, 0},
		{"\"0x-1\"", -EINVAL, 0},
		{"\"0x1g\"", -EINVAL, 0},
		{"\"\"", -EINVAL, 0},
		{"-1", -ERANGE, 0},
		{"1.5", -EINVAL, 0},
		{"true", -EINVAL, 0},
		{"[4096]", -EINVAL, 0},
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *o;
		uint64_t v = 0xabcdef;

		snprintf(buf, sizeof(buf), "{\"gpa\": %.39s}", cases[i].value);
		o = doc(buf);
		cr_expect_eq(nest_json_get_addr(o, "gpa", 0, 1, &v), cases[i].r, "%s",
			     cases[i].value);
		cr_expect_eq(v, cases[i].r ? 0xabcdef : cases[i].v, "%s", cases[i].value);
		json_object_put(o);
	}
	{
		struct json_object *o = doc("{}");
		uint64_t v = 0;

		cr_expect_eq(nest_json_get_addr(o, "gpa", 77, 0, &v), 0);
		cr_expect_eq(v, 77);
		cr_expect_eq(nest_json_get_addr(o, "gpa", 77, 1, &v), -EINVAL);
		json_object_put(o);
	}
	NO_LEAKS();
}

/* Strict UTF-8 (RFC 3629) in every string, keys and unknown keys included (issue 10 item 6). */
Test(caps, strict_utf8)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
		{"caf\xc3\xa9", 1},		 /* U+00E9 */
		{"\xe2\x82\xac", 1},		 /* U+20AC */
		{"\xef\xbf\xbf", 1},		 /* U+FFFF */
		{"\xf0\x9f\x98\x80", 1},	 /* U+1F600 */
		{"\xf4\x8f\xbf\xbf", 1},	 /* U+10FFFF */
		{"\xed\x9f\xbf", 1},		 /* U+D7FF */
		{"\xee\x80\x80", 1},		 /* U+E000 */
		{"\\ud83d\\ude00", 1},		 /* a surrogate pair, escaped */
		{"\xc0\xaf", 0},		 /* overlong '/' */
		{"\xc0\x8a", 0},		 /* overlong newline */
		{"\xc1\xbf", 0},		 /* overlong */
		{"\xe0\x80\xaf", 0},		 /* overlong, 3 bytes */
		{"\xe0\x9f\xbf", 0},		 /* overlong U+07FF */
		{"\xf0\x80\x80\xaf", 0},	 /* overlong, 4 bytes */
		{"\xf0\x8f\xbf\xbf", 0},	 /* overlong U+FFFF */
		{"\xed\xa0\x80", 0},		 /* U+D800, encoded */
		{"\xed\xbf\xbf", 0},		 /* U+DFFF, encoded */
		{"\xed\xa0\xbd\xed\xb8\x80", 0}, /* a CESU-8 pair */
		{"\xf4\x90\x80\x80", 0},	 /* U+110000 */
		{"\xf5\x80\x80\x80", 0},	 /* F5 */
		{"\xff", 0},			 /* FF */
		{"\x80", 0},			 /* lone continuation */
		{"\xc3", 0},			 /* truncated */
		{"\xe2\x82", 0},		 /* truncated */
		{"\xe2\x82x", 0},		 /* bad continuation */
		{"\\ud800", 0},			 /* lone high surrogate escape */
		{"\\udfff", 0},			 /* lone low surrogate escape */
		{"\\ud800\\u0041", 0},		 /* high surrogate, then not a low one */
		{"\\ude00\\ud83d", 0},		 /* reversed pair */
	};
	char doc[128];
	struct nest_caps c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int want = cases[i].ok ? 0 : -EINVAL;

		snprintf(doc, sizeof(doc), "{\"software\": \"%s\"}", cases[i].s);
		cr_expect_eq(parse(doc, &c), want, "software %zu", i);
		snprintf(doc, sizeof(doc), "{\"unknown\": [\"%s\"]}", cases[i].s);
		cr_expect_eq(parse(doc, &c), want, "unknown value %zu", i);
		snprintf(doc, sizeof(doc), "{\"k%s\": 1}", cases[i].s);
		cr_expect_eq(parse(doc, &c), want, "key %zu", i);
	}
	/* an overlong newline is not a way around "no control characters" */
	cr_expect_eq(parse("{\"software\": \"a\xc0\x8a\"}", &c), -EINVAL);
	cr_expect_eq(parse("{\"software\": \"\xc3\xa9t\xc3\xa9\"}", &c), 0);
	cr_expect_str_eq(c.software, "\xc3\xa9t\xc3\xa9");
	NO_LEAKS();
}

/* json-c cuts keys at an escaped NUL: such keys are refused, never aliased (issue 10 item 7). */
Test(caps, key_with_nul)
{
	struct nest_caps c, d;

	nest_caps_init(&d);
	memset(&c, 0x5a, sizeof(c));
	cr_expect_eq(parse("{\"max_fds\\u0000x\": 1}", &c), -EINVAL);
	cr_expect_eq(parse("{\"max_fds\\u0000\": 1}", &c), -EINVAL);
	cr_expect_eq(parse("{\"\\u0000\": 1}", &c), -EINVAL);
	cr_expect_eq(parse("{\"unknown\": {\"a\\u0000b\" : 1}}", &c), -EINVAL, "nested key");
	cr_expect_eq(parse("{\"features\\u0000\": [\"sim-dma\"]}", &c), -EINVAL);
	cr_expect_eq(c.max_fds, 0x5a5a5a5a, "ret untouched");
	/* not a NUL: an escaped backslash followed by "u0000", and a NUL in a value */
	cr_expect_eq(parse("{\"max_fds\\\\u0000x\": 1}", &c), 0);
	cr_expect_eq(c.max_fds, d.max_fds, "an unknown key, ignored");
	cr_expect_eq(parse("{\"unknown\": \"a\\u0000b\"}", &c), 0, "unused value");
	cr_expect_eq(parse("{\"unknown\": [\"a\\u0000b\", \"x\"]}", &c), 0);
	NO_LEAKS();
}
