/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The JSON parser and writer: values, bad input, limits, escaping. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "event_print.h"
#include "harness.h"
#include "helpers.h"
#include "json_parse.h"
#include "json_writer.h"
#include "report.h"
#include "snapshot.h"
#include "suppress.h"
#include "trace_file.h"

#define S	1000000000ull

/* ---- JSON parser ---- */

TEST(json_parse_good_values)
{
	static const char text[] =
		"{\"u\":18446744073709551615,\"i\":-9223372036854775808,\"f\":1.5e3,"
		"\"s\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00/\",\"t\":true,\"n\":null,"
		"\"a\":[1,[2,{}],[]]}";
	struct json_error err;
	struct json_value *v = json_parse(text, sizeof(text) - 1, NULL, &err);
	uint64_t u = 0;
	int64_t i = 0;

	CHECK(v, "parse failed: %d:%d %s", err.line, err.col, err.msg);
	CHECK(json_to_u64(json_get(v, "u"), &u) && u == UINT64_MAX, "u64 max lost");
	CHECK(json_to_i64(json_get(v, "i"), &i) && i == INT64_MIN, "i64 min lost");
	CHECK(!json_to_u64(json_get(v, "i"), &u), "negative accepted as u64");
	CHECK(!json_to_i64(json_get(v, "u"), &i), "u64 max accepted as i64");
	CHECK(json_get(v, "f")->number == 1500.0 && !json_get(v, "f")->is_int, "float");
	CHECK_STR(json_get(v, "s")->string, "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80/");
	CHECK(json_get(v, "t")->boolean, "true");
	CHECK_INT(json_get(v, "n")->type, JSON_NULL);
	CHECK_INT(json_get(v, "a")->len, 3);
	CHECK_INT(json_get(v, "a")->items[1].items[1].type, JSON_OBJECT);
	CHECK(!json_get(v, "missing"), "missing key found");
out:
	json_free(v);
}

TEST(json_parse_rejects_bad_input)
{
	static const struct {
		const char *text;
		const char *msg;
		int line, col;
	} cases[] = {
		{ "", "unexpected end of input", 1, 1 },
		{ "{", "object not closed", 1, 2 },
		{ "[1,]", "trailing comma", 1, 4 },
		{ "{\"a\":1,}", "trailing comma", 1, 8 },
		{ "{\"a\":1,\"a\":2}", "duplicate key", 1, 11 },
		{ "01", "leading zero", 1, 1 },
		{ "1.", "digit expected", 1, 3 },
		{ "1e", "exponent", 1, 3 },
		{ "+1", "unexpected character", 1, 1 },
		{ "NaN", "unexpected character", 1, 1 },
		{ "nul", "unexpected character", 1, 1 },
		{ "{a:1}", "object key", 1, 2 },
		{ "\"\\x\"", "bad escape", 1, 3 },
		{ "\"\\ud800\"", "lone high surrogate", 1, 8 },
		{ "\"\\udc00\"", "lone low surrogate", 1, 8 },
		{ "\"\\u00zz\"", "bad hex digit", 1, 6 },
		{ "\"\\u0000\"", "\\u0000", 1, 8 },
		{ "\"a\x01\"", "control character", 1, 3 },
		{ "\"\xff\"", "invalid UTF-8", 1, 2 },
		{ "\"\xc0\xaf\"", "invalid UTF-8", 1, 2 },
		{ "\"abc", "unterminated string", 1, 5 },
		{ "[1] x", "trailing data", 1, 5 },
		{ "[1 2]", "',' or ']' expected", 1, 4 },
		{ "{\"a\" 1}", "':' expected", 1, 6 },
		{ "[\n1,\n  x]", "unexpected character", 3, 3 },
		{ "{\"k\":[1,2", "array not closed", 1, 10 },
	};
	struct json_error err;
	struct json_value *v = NULL;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = json_parse(cases[i].text, strlen(cases[i].text), NULL, &err);
		CHECK(!v, "case %zu '%s' accepted", i, cases[i].text);
		CHECK(strstr(err.msg, cases[i].msg), "case %zu '%s': message '%s', expected '%s'",
		      i, cases[i].text, err.msg, cases[i].msg);
		CHECK(err.line == cases[i].line && err.col == cases[i].col,
		      "case %zu '%s': at %d:%d, expected %d:%d", i, cases[i].text, err.line,
		      err.col, cases[i].line, cases[i].col);
	}
out:
	json_free(v);
}

TEST(json_parse_limits)
{
	struct json_limits lim = JSON_LIMITS_DEFAULT;
	struct json_error err;
	struct json_value *v = NULL;
	char *deep = malloc(20001), *longs = malloc(100);
	int i;

	CHECK(deep && longs, "oom");
	for (i = 0; i < 10000; i++) {
		deep[i] = '[';
		deep[10000 + i] = ']';
	}
	deep[20000] = '\0';
	v = json_parse(deep, 20000, NULL, &err);
	CHECK(!v && strstr(err.msg, "nesting deeper"), "deep nesting: %s", err.msg);
	lim.max_string = 10;
	memset(longs, 'a', 99);
	longs[0] = '"';
	longs[98] = '"';
	longs[99] = '\0';
	v = json_parse(longs, 99, &lim, &err);
	CHECK(!v && strstr(err.msg, "string longer"), "long string: %s", err.msg);
	lim = (struct json_limits)JSON_LIMITS_DEFAULT;
	lim.max_items = 3;
	v = json_parse("[1,2,3,4]", 9, &lim, &err);
	CHECK(!v && strstr(err.msg, "more than 3"), "items: %s", err.msg);
	lim.max_bytes = 4;
	v = json_parse("[1,2,3,4]", 9, &lim, &err);
	CHECK(!v && strstr(err.msg, "larger than"), "size: %s", err.msg);
out:
	json_free(v);
	free(deep);
	free(longs);
}

/* ---- JSON writer ---- */

static char *capture_jw(bool pretty, void (*fn)(struct json_writer *jw))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct json_writer *jw;

	if (!m)
		return NULL;
	jw = jsonw__new(m, pretty);
	fn(jw);
	jsonw__free(jw);
	fclose(m);
	return buf;
}

static void write_escapes(struct json_writer *jw)
{
	jsonw__start_object(jw);
	jsonw__string_field(jw, "s", "q\"b\\n\nt\tc\x01" "d\x7f" "e\xff" "\xc3\xa9");
	jsonw__name(jw, "a");
	jsonw__start_array(jw);
	jsonw__int(jw, -5);
	jsonw__uint(jw, UINT64_MAX);
	jsonw__bool(jw, true);
	jsonw__null(jw);
	jsonw__start_object(jw);
	jsonw__end_object(jw);
	jsonw__end_array(jw);
	jsonw__end_object(jw);
}

TEST(json_writer_escaping_and_roundtrip)
{
	char *compact = capture_jw(false, write_escapes);
	char *pretty = capture_jw(true, write_escapes);
	struct json_value *v = NULL, *w = NULL;
	struct json_error err;

	CHECK(compact && pretty, "no output");
	CHECK_STR(compact, "{\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001d\\u007fe\\u00ff\xc3\xa9\","
		  "\"a\":[-5,18446744073709551615,true,null,{}]}\n");
	v = json_parse(compact, strlen(compact), NULL, &err);
	CHECK(v, "compact output does not parse: %s", err.msg);
	w = json_parse(pretty, strlen(pretty), NULL, &err);
	CHECK(w, "pretty output does not parse: %s", err.msg);
	CHECK(strchr(pretty, '\n') != strrchr(pretty, '\n'), "pretty is one line");
	CHECK_STR(json_get(v, "s")->string, json_get(w, "s")->string);
	CHECK_STR(json_get(v, "s")->string, "q\"b\\n\nt\tc\x01" "d\x7f" "e\xc3\xbf\xc3\xa9");
out:
	json_free(v);
	json_free(w);
	free(compact);
	free(pretty);
}

/* ---- trace files ---- */
