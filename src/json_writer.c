/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * JSON writer.  Strings are written as valid UTF-8: valid multi-byte
 * sequences pass through, control characters and DEL are escaped, and a
 * byte that is not valid UTF-8 is written as \u00XX (its Latin-1 reading),
 * so kernel strings (comm, names) never produce invalid JSON.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json_writer.h"
#include "utf8.h"

#define JSONW_MAX_DEPTH	64

struct json_writer {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JSONW_MAX_DEPTH];	/* no element yet at this depth */
	bool after_name;
};

struct json_writer *jsonw__new(FILE *f, bool pretty)
{
	struct json_writer *jw = calloc(1, sizeof(*jw));

	if (!jw)
		return NULL;
	jw->f = f;
	jw->pretty = pretty;
	jw->first[0] = true;
	return jw;
}

void jsonw__free(struct json_writer *jw)
{
	free(jw);
}

static void indent(struct json_writer *jw)
{
	int i;

	if (!jw->pretty)
		return;
	fputc('\n', jw->f);
	for (i = 0; i < jw->depth; i++)
		fputs("    ", jw->f);
}

/* Separator before a value or a name. */
static void before_elem(struct json_writer *jw)
{
	if (jw->after_name) {
		jw->after_name = false;
		return;
	}
	if (jw->depth == 0)
		return;
	if (!jw->first[jw->depth])
		fputc(',', jw->f);
	jw->first[jw->depth] = false;
	indent(jw);
}

static void after_value(struct json_writer *jw)
{
	if (jw->depth == 0)
		fputc('\n', jw->f);
}

static void open_(struct json_writer *jw, char c)
{
	before_elem(jw);
	fputc(c, jw->f);
	if (jw->depth < JSONW_MAX_DEPTH - 1)
		jw->depth++;
	jw->first[jw->depth] = true;
}

static void close_(struct json_writer *jw, char c)
{
	bool empty = jw->first[jw->depth];

	if (jw->depth > 0)
		jw->depth--;
	if (!empty)
		indent(jw);
	fputc(c, jw->f);
	after_value(jw);
}

void jsonw__start_object(struct json_writer *jw)
{
	open_(jw, '{');
}

void jsonw__end_object(struct json_writer *jw)
{
	close_(jw, '}');
}

void jsonw__start_array(struct json_writer *jw)
{
	open_(jw, '[');
}

void jsonw__end_array(struct json_writer *jw)
{
	close_(jw, ']');
}


void json_escape(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	while (i < len) {
		unsigned char c = s[i];

		switch (c) {
		case '"':  fputs("\\\"", f); i++; continue;
		case '\\': fputs("\\\\", f); i++; continue;
		case '\n': fputs("\\n", f); i++; continue;
		case '\r': fputs("\\r", f); i++; continue;
		case '\t': fputs("\\t", f); i++; continue;
		case '\b': fputs("\\b", f); i++; continue;
		case '\f': fputs("\\f", f); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		n = utf8_seq(s + i, len - i, NULL);
		if (!n) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		fwrite(s + i, 1, n, f);
		i += n;
	}
}

void jsonw__name(struct json_writer *jw, const char *name)
{
	before_elem(jw);
	fputc('"', jw->f);
	json_escape(jw->f, name, strlen(name));
	fputs(jw->pretty ? "\": " : "\":", jw->f);
	jw->after_name = true;
}

void jsonw__string_len(struct json_writer *jw, const char *s, size_t len)
{
	before_elem(jw);
	fputc('"', jw->f);
	json_escape(jw->f, s, len);
	fputc('"', jw->f);
	after_value(jw);
}

void jsonw__string(struct json_writer *jw, const char *s)
{
	if (!s) {
		jsonw__null(jw);
		return;
	}
	jsonw__string_len(jw, s, strlen(s));
}

void jsonw__int(struct json_writer *jw, int64_t v)
{
	before_elem(jw);
	fprintf(jw->f, "%lld", (long long)v);
	after_value(jw);
}

void jsonw__uint(struct json_writer *jw, uint64_t v)
{
	before_elem(jw);
	fprintf(jw->f, "%llu", (unsigned long long)v);
	after_value(jw);
}

void jsonw__double(struct json_writer *jw, double v)
{
	before_elem(jw);
	if (isfinite(v))
		fprintf(jw->f, "%.9g", v);
	else
		fputs("null", jw->f);
	after_value(jw);
}

void jsonw__bool(struct json_writer *jw, bool v)
{
	before_elem(jw);
	fputs(v ? "true" : "false", jw->f);
	after_value(jw);
}

void jsonw__null(struct json_writer *jw)
{
	before_elem(jw);
	fputs("null", jw->f);
	after_value(jw);
}

void jsonw__string_field(struct json_writer *jw, const char *name, const char *s)
{
	jsonw__name(jw, name);
	jsonw__string(jw, s);
}

void jsonw__int_field(struct json_writer *jw, const char *name, int64_t v)
{
	jsonw__name(jw, name);
	jsonw__int(jw, v);
}

void jsonw__uint_field(struct json_writer *jw, const char *name, uint64_t v)
{
	jsonw__name(jw, name);
	jsonw__uint(jw, v);
}

void jsonw__double_field(struct json_writer *jw, const char *name, double v)
{
	jsonw__name(jw, name);
	jsonw__double(jw, v);
}

void jsonw__bool_field(struct json_writer *jw, const char *name, bool v)
{
	jsonw__name(jw, name);
	jsonw__bool(jw, v);
}

