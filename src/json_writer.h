/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one JSON writer every output uses (bpftool style): objects, arrays,
 * names, escaping; pretty or compact.  A newline ends each top-level value,
 * so compact mode writes JSON lines.
 */
#ifndef __DMARW_JSON_WRITER_H
#define __DMARW_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer;

struct json_writer *jsonw__new(FILE *f, bool pretty);
void jsonw__free(struct json_writer *jw);	/* does not close the FILE */

void jsonw__start_object(struct json_writer *jw);
void jsonw__end_object(struct json_writer *jw);
void jsonw__start_array(struct json_writer *jw);
void jsonw__end_array(struct json_writer *jw);
void jsonw__name(struct json_writer *jw, const char *name);

void jsonw__string(struct json_writer *jw, const char *s);
void jsonw__string_len(struct json_writer *jw, const char *s, size_t len);
void jsonw__int(struct json_writer *jw, int64_t v);
void jsonw__uint(struct json_writer *jw, uint64_t v);
void jsonw__double(struct json_writer *jw, double v);	/* NaN/inf: null */
void jsonw__bool(struct json_writer *jw, bool v);
void jsonw__null(struct json_writer *jw);

/* name + value in one call */
void jsonw__string_field(struct json_writer *jw, const char *name, const char *s);
void jsonw__int_field(struct json_writer *jw, const char *name, int64_t v);
void jsonw__uint_field(struct json_writer *jw, const char *name, uint64_t v);
void jsonw__double_field(struct json_writer *jw, const char *name, double v);
void jsonw__bool_field(struct json_writer *jw, const char *name, bool v);

/* Write @s escaped for a JSON string body (no quotes) to @f. */
void json_escape(FILE *f, const char *s, size_t len);

#endif /* __DMARW_JSON_WRITER_H */
