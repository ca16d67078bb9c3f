/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small, strict, bounded JSON parser for trace and expectation files.
 * RFC 8259 only (no comments, no trailing commas, no NaN), duplicate keys
 * and NUL characters rejected, limits on size, depth, string length and
 * element count.  Errors carry line and column (1-based).  Integers keep
 * all 64 bits.
 */
#ifndef __DMARW_JSON_PARSE_H
#define __DMARW_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_value {
	enum json_type type;
	bool boolean;
	bool is_int;			/* number without fraction/exponent that fits */
	bool negative;			/* is_int: value is -magnitude */
	uint64_t magnitude;		/* is_int */
	double number;			/* every number */
	char *string;			/* JSON_STRING: NUL-terminated, no NUL inside */
	size_t len;			/* string length, or element count */
	struct json_value *items;	/* JSON_ARRAY / JSON_OBJECT values */
	char **keys;			/* JSON_OBJECT keys, same order */
};

struct json_limits {
	size_t max_bytes;		/* whole text */
	unsigned int max_depth;		/* nesting of arrays/objects */
	size_t max_string;		/* bytes of one decoded string */
	size_t max_items;		/* elements of one array/object */
};

#define JSON_LIMITS_DEFAULT { .max_bytes = 4 << 20, .max_depth = 32, \
			      .max_string = 64 << 10, .max_items = 1 << 16 }

struct json_error {
	int line;
	int col;
	char msg[160];
};

/* NULL on error (@err filled).  Free with json_free(). */
struct json_value *json_parse(const char *text, size_t len,
			      const struct json_limits *lim, struct json_error *err);
void json_free(struct json_value *v);

const char *json_type_name(enum json_type type);
/* Object member, NULL if absent or @obj is not an object. */
const struct json_value *json_get(const struct json_value *obj, const char *key);
/* Conversions: false if the type or range does not fit. */
bool json_to_u64(const struct json_value *v, uint64_t *out);
bool json_to_i64(const struct json_value *v, int64_t *out);

#endif /* __DMARW_JSON_PARSE_H */
