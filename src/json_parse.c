/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Recursive-descent JSON parser with hard limits; see json_parse.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_parse.h"
#include "utf8.h"

struct parser {
	const char *text;
	size_t len;
	size_t pos;
	unsigned int depth;
	struct json_limits lim;
	struct json_error *err;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static void fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	size_t i;
	int line = 1, col = 1;

	if (p->failed)
		return;
	p->failed = true;
	for (i = 0; i < p->pos && i < p->len; i++) {
		if (p->text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	p->err->line = line;
	p->err->col = col;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->text[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static void value_clear(struct json_value *v)
{
	size_t i;

	if (v->type == JSON_STRING) {
		free(v->string);
	} else if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
		for (i = 0; i < v->len; i++) {
			value_clear(&v->items[i]);
			if (v->keys)
				free(v->keys[i]);
		}
		free(v->items);
		free(v->keys);
	}
	memset(v, 0, sizeof(*v));
}

void json_free(struct json_value *v)
{
	if (!v)
		return;
	value_clear(v);
	free(v);
}

static bool parse_value(struct parser *p, struct json_value *v);

static int hex4(struct parser *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (p->pos + 4 > p->len) {
		fail(p, "truncated \\u escape");
		return -1;
	}
	for (i = 0; i < 4; i++) {
		char c = p->text[p->pos++];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else {
			p->pos--;
			fail(p, "bad hex digit in \\u escape");
			return -1;
		}
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Validate one raw UTF-8 sequence at p->pos; returns its length or 0. */

/* p->pos at the opening quote.  Returns a malloc'ed string or NULL. */
/* The code point of a \\uXXXX escape (a surrogate pair: both), after the 'u'. */
static int parse_u_escape(struct parser *p, uint32_t *out)
{
	uint32_t cp, lo;

	if (hex4(p, &cp))
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		fail(p, "lone low surrogate in \\u escape");
		return -1;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->pos + 2 > p->len || p->text[p->pos] != '\\' ||
		    p->text[p->pos + 1] != 'u') {
			fail(p, "lone high surrogate in \\u escape");
			return -1;
		}
		p->pos += 2;
		if (hex4(p, &lo))
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff) {
			fail(p, "bad surrogate pair in \\u escape");
			return -1;
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0) {
		fail(p, "\\u0000 not allowed in strings");
		return -1;
	}
	*out = cp;
	return 0;
}

/* An escape at the backslash: writes its UTF-8 into @dst (4 bytes room); 0 on error. */
static size_t parse_escape(struct parser *p, char *dst)
{
	static const char plain[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	uint32_t cp;
	size_t i;
	int c;

	p->pos++;
	c = peek(p);
	if (c < 0) {
		fail(p, "unterminated string");
		return 0;
	}
	p->pos++;
	for (i = 0; plain[i]; i += 2) {
		if (c == plain[i]) {
			*dst = plain[i + 1];
			return 1;
		}
	}
	if (c == 'u')
		return parse_u_escape(p, &cp) ? 0 : put_utf8(dst, cp);
	p->pos--;
	fail(p, "bad escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
	return 0;
}

static char *parse_string(struct parser *p, size_t *outlen)
{
	size_t cap = 32, len = 0, n;
	char *buf, *nb;

	p->pos++;
	buf = malloc(cap);
	if (!buf) {
		fail(p, "out of memory");
		return NULL;
	}
	for (;;) {
		int c = peek(p);

		if (len + 5 > cap) {
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				fail(p, "out of memory");
				goto err;
			}
			buf = nb;
		}
		if (len > p->lim.max_string) {
			fail(p, "string longer than %zu bytes", p->lim.max_string);
			goto err;
		}
		if (c < 0) {
			fail(p, "unterminated string");
			goto err;
		}
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20) {
			fail(p, "control character 0x%02x in string", c);
			goto err;
		}
		if (c == '\\') {
			n = parse_escape(p, buf + len);
			if (!n)
				goto err;
			len += n;
			continue;
		}
		if (c < 0x80) {
			buf[len++] = (char)c;
			p->pos++;
			continue;
		}
		n = utf8_seq((const unsigned char *)p->text + p->pos, p->len - p->pos, NULL);
		if (!n) {
			fail(p, "invalid UTF-8 in string");
			goto err;
		}
		memcpy(buf + len, p->text + p->pos, n);
		len += n;
		p->pos += n;
	}
	buf[len] = '\0';
	*outlen = len;
	return buf;
err:
	free(buf);
	return NULL;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool parse_number(struct parser *p, struct json_value *v)
{
	size_t start = p->pos;
	bool neg = false, integer = true, overflow = false;
	uint64_t mag = 0;
	char tmp[64];

	if (peek(p) == '-') {
		neg = true;
		p->pos++;
	}
	if (!is_digit(peek(p))) {
		fail(p, "bad number");
		return false;
	}
	if (peek(p) == '0' && is_digit(p->pos + 1 < p->len ? p->text[p->pos + 1] : 0)) {
		fail(p, "leading zero in number");
		return false;
	}
	while (is_digit(peek(p))) {
		unsigned int d = (unsigned int)(peek(p) - '0');

		if (mag > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			mag = mag * 10 + d;
		p->pos++;
	}
	if (peek(p) == '.') {
		integer = false;
		p->pos++;
		if (!is_digit(peek(p))) {
			fail(p, "bad number: digit expected after '.'");
			return false;
		}
		while (is_digit(peek(p)))
			p->pos++;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		integer = false;
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!is_digit(peek(p))) {
			fail(p, "bad number: digit expected in exponent");
			return false;
		}
		while (is_digit(peek(p)))
			p->pos++;
	}
	if (p->pos - start >= sizeof(tmp)) {
		fail(p, "number too long");
		return false;
	}
	memcpy(tmp, p->text + start, p->pos - start);
	tmp[p->pos - start] = '\0';
	v->type = JSON_NUMBER;
	v->number = strtod(tmp, NULL);
	v->is_int = integer && !overflow;
	v->negative = neg && mag;
	v->magnitude = mag;
	return true;
}

static bool parse_literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n)) {
		fail(p, "unexpected character '%c'",
		     peek(p) >= 0x20 && peek(p) < 0x7f ? peek(p) : '?');
		return false;
	}
	p->pos += n;
	return true;
}

static bool push(struct parser *p, struct json_value *v, size_t *cap,
		 struct json_value *item, char *key)
{
	struct json_value *ni;
	char **nk;
	size_t ncap;

	if (v->len >= p->lim.max_items) {
		fail(p, "more than %zu elements", p->lim.max_items);
		return false;
	}
	if (v->len == *cap) {
		ncap = *cap ? *cap * 2 : 4;
		ni = realloc(v->items, ncap * sizeof(*ni));
		if (!ni) {
			fail(p, "out of memory");
			return false;
		}
		v->items = ni;
		if (v->type == JSON_OBJECT) {
			nk = realloc(v->keys, ncap * sizeof(*nk));
			if (!nk) {
				fail(p, "out of memory");
				return false;
			}
			v->keys = nk;
		}
		*cap = ncap;
	}
	v->items[v->len] = *item;
	if (v->type == JSON_OBJECT)
		v->keys[v->len] = key;
	v->len++;
	return true;
}

/*
 * Objects up to JSON_DUP_SCAN keys check each key against the previous ones;
 * a larger one sorts its keys once it is closed: O(n log n), never n^2.
 */
#define JSON_DUP_SCAN	32

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool check_dup_keys(struct parser *p, const struct json_value *v)
{
	char **sorted = malloc(v->len * sizeof(*sorted));
	size_t i;

	if (!sorted) {
		fail(p, "out of memory");
		return false;
	}
	memcpy(sorted, v->keys, v->len * sizeof(*sorted));
	qsort(sorted, v->len, sizeof(*sorted), cmp_key);
	for (i = 1; i < v->len; i++) {
		if (!strcmp(sorted[i - 1], sorted[i])) {
			fail(p, "duplicate key \"%.40s\"", sorted[i]);
			free(sorted);
			return false;
		}
	}
	free(sorted);
	return true;
}

static bool parse_container(struct parser *p, struct json_value *v, bool object)
{
	struct json_value item;
	size_t cap = 0, klen, i;
	char *key = NULL;
	char close = object ? '}' : ']';

	if (++p->depth > p->lim.max_depth) {
		fail(p, "nesting deeper than %u", p->lim.max_depth);
		return false;
	}
	v->type = object ? JSON_OBJECT : JSON_ARRAY;
	p->pos++;
	skip_ws(p);
	if (peek(p) == close) {
		p->pos++;
		p->depth--;
		return true;
	}
	for (;;) {
		skip_ws(p);
		if (object) {
			if (peek(p) != '"') {
				fail(p, peek(p) < 0 ? "unexpected end of input, object not closed" :
				     "object key (a string) expected");
				return false;
			}
			key = parse_string(p, &klen);
			if (!key)
				return false;
			/* small objects here (exact column); large ones at the end */
			for (i = 0; i < v->len && v->len < JSON_DUP_SCAN; i++) {
				if (!strcmp(v->keys[i], key)) {
					fail(p, "duplicate key \"%.40s\"", key);
					free(key);
					return false;
				}
			}
			skip_ws(p);
			if (peek(p) != ':') {
				fail(p, "':' expected after object key");
				free(key);
				return false;
			}
			p->pos++;
		}
		memset(&item, 0, sizeof(item));
		if (!parse_value(p, &item) || !push(p, v, &cap, &item, key)) {
			value_clear(&item);
			free(key);
			return false;
		}
		key = NULL;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			skip_ws(p);
			if (peek(p) == close) {
				fail(p, "trailing comma");
				return false;
			}
			continue;
		}
		if (peek(p) == close) {
			p->pos++;
			if (object && v->len > JSON_DUP_SCAN && !check_dup_keys(p, v))
				return false;
			break;
		}
		if (peek(p) < 0)
			fail(p, "unexpected end of input, %s not closed", object ? "object" : "array");
		else
			fail(p, "',' or '%c' expected", close);
		return false;
	}
	p->depth--;
	return true;
}

static bool parse_value(struct parser *p, struct json_value *v)
{
	int c;

	skip_ws(p);
	c = peek(p);
	switch (c) {
	case -1:
		fail(p, "unexpected end of input, value expected");
		return false;
	case '{':
		return parse_container(p, v, true);
	case '[':
		return parse_container(p, v, false);
	case '"':
		v->string = parse_string(p, &v->len);
		if (!v->string)
			return false;
		v->type = JSON_STRING;
		return true;
	case 't':
		v->type = JSON_BOOL;
		v->boolean = true;
		return parse_literal(p, "true");
	case 'f':
		v->type = JSON_BOOL;
		return parse_literal(p, "false");
	case 'n':
		v->type = JSON_NULL;
		return parse_literal(p, "null");
	default:
		if (c == '-' || is_digit(c))
			return parse_number(p, v);
		fail(p, "unexpected character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
		return false;
	}
}

struct json_value *json_parse(const char *text, size_t len,
			      const struct json_limits *lim, struct json_error *err)
{
	struct json_limits def = JSON_LIMITS_DEFAULT;
	struct parser p = { .text = text, .len = len, .err = err };
	struct json_value *v;

	memset(err, 0, sizeof(*err));
	p.lim = lim ? *lim : def;
	if (len > p.lim.max_bytes) {
		err->line = 1;
		err->col = 1;
		snprintf(err->msg, sizeof(err->msg), "input larger than %zu bytes",
			 p.lim.max_bytes);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return NULL;
	}
	if (!parse_value(&p, v))
		goto fail;
	skip_ws(&p);
	if (p.pos < p.len) {
		fail(&p, "trailing data after the JSON value");
		goto fail;
	}
	return v;
fail:
	json_free(v);
	return NULL;
}

const char *json_type_name(enum json_type type)
{
	switch (type) {
	case JSON_NULL:		return "null";
	case JSON_BOOL:		return "boolean";
	case JSON_NUMBER:	return "number";
	case JSON_STRING:	return "string";
	case JSON_ARRAY:	return "array";
	case JSON_OBJECT:	return "object";
	}
	return "unknown";
}

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->len; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

bool json_to_u64(const struct json_value *v, uint64_t *out)
{
	if (!v || v->type != JSON_NUMBER || !v->is_int || v->negative)
		return false;
	*out = v->magnitude;
	return true;
}

bool json_to_i64(const struct json_value *v, int64_t *out)
{
	if (!v || v->type != JSON_NUMBER || !v->is_int)
		return false;
	if (v->negative) {
		if (v->magnitude > (uint64_t)INT64_MAX + 1)
			return false;
		*out = v->magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
		       -(int64_t)v->magnitude;
		return true;
	}
	if (v->magnitude > (uint64_t)INT64_MAX)
		return false;
	*out = (int64_t)v->magnitude;
	return true;
}
