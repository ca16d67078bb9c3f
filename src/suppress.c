/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Suppression files (docs/suppressions.md): blocks of
 *	{
 *		name
 *		kind: <finding kind or *>
 *		device: <glob>		optional, dma0 / dma0chan1 / dev_name / drv_name
 *		function: <glob>	optional, holder frame or any frame
 *		module: <glob>		optional, holder module
 *	}
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suppress.h"
#include "trace_file.h"

#define SUPP_MAX_FILE	(1 << 20)
#define SUPP_MAX_LINE	1024
#define SUPP_MAX_ENTRIES 4096
#define SUPP_FIELD_LEN	128

struct suppression {
	char name[FINDING_SUPP_LEN];
	int kind;			/* -1: any */
	char device[SUPP_FIELD_LEN];	/* "" = any */
	char function[SUPP_FIELD_LEN];
	char module[SUPP_FIELD_LEN];
	uint64_t used;
	int line;
};

struct suppressions {
	struct suppression *list;
	size_t nr, cap;
};

void suppress__free(struct suppressions *supp)
{
	if (!supp)
		return;
	free(supp->list);
	free(supp);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
	return true;
}

static int add_entry(struct suppressions *supp, const struct suppression *s)
{
	struct suppression *p;
	size_t ncap;

	if (supp->nr == supp->cap) {
		ncap = supp->cap ? supp->cap * 2 : 8;
		p = realloc(supp->list, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		supp->list = p;
		supp->cap = ncap;
	}
	supp->list[supp->nr++] = *s;
	return 0;
}

/* The parser's place in the text: where errors point, what block is open. */
struct parser {
	struct suppressions *supp;
	struct suppression cur;
	const char *name;
	char *err;
	size_t errlen;
	int lineno;
	int block_line;		/* the open '{', 0 outside a block */
	bool have_name, have_kind;
};

/* One error, "NAME:LINE: what" (no line number before the first line). */
__attribute__((format(printf, 2, 3)))
static int perr(struct parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->lineno)
		snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->name, ps->lineno, msg);
	else
		snprintf(ps->err, ps->errlen, "%s: %s", ps->name, msg);
	return -1;
}

static int block_open(struct parser *ps, const char *s)
{
	if (strcmp(s, "{"))
		return perr(ps, "expected '{' to open a suppression, got '%.40s'", s);
	ps->block_line = ps->lineno;
	ps->have_name = ps->have_kind = false;
	memset(&ps->cur, 0, sizeof(ps->cur));
	ps->cur.kind = -1;
	ps->cur.line = ps->lineno;
	return 0;
}

static int block_close(struct parser *ps)
{
	if (!ps->have_name)
		return perr(ps, "suppression has no name");
	if (!ps->have_kind)
		return perr(ps, "suppression '%s' has no 'kind:' line", ps->cur.name);
	if (ps->supp->nr >= SUPP_MAX_ENTRIES)
		return perr(ps, "too many suppressions (limit %d)", SUPP_MAX_ENTRIES);
	if (add_entry(ps->supp, &ps->cur))
		return perr(ps, "out of memory");
	ps->block_line = 0;
	return 0;
}

static int block_name(struct parser *ps, const char *s)
{
	if (strchr(s, ':') || strchr(s, ' ') || strchr(s, '\t'))
		return perr(ps, "expected the suppression name (one word) on the line after "
			    "'{', got '%.40s'", s);
	if (strlen(s) >= sizeof(ps->cur.name))
		return perr(ps, "suppression name too long (limit %zu)", sizeof(ps->cur.name) - 1);
	snprintf(ps->cur.name, sizeof(ps->cur.name), "%s", s);
	ps->have_name = true;
	return 0;
}

/* "key: value" inside a block. */
static int block_field(struct parser *ps, char *s)
{
	char *colon = strchr(s, ':'), *key, *val, *dst;

	if (!colon)
		return perr(ps, "expected 'key: value', got '%.40s'", s);
	*colon = '\0';
	key = trim(s);
	val = trim(colon + 1);
	if (!*val)
		return perr(ps, "empty value for '%s'", key);
	if (strlen(val) >= SUPP_FIELD_LEN)
		return perr(ps, "value of '%s' too long (limit %d)", key, SUPP_FIELD_LEN - 1);
	if (!strcmp(key, "kind")) {
		if (ps->have_kind)
			return perr(ps, "duplicate 'kind'");
		if (strcmp(val, "*")) {
			ps->cur.kind = finding_kind_parse(val);
			if (ps->cur.kind < 0)
				return perr(ps, "unknown finding kind '%s'", val);
		}
		ps->have_kind = true;
		return 0;
	}
	if (!strcmp(key, "device"))
		dst = ps->cur.device;
	else if (!strcmp(key, "function"))
		dst = ps->cur.function;
	else if (!strcmp(key, "module"))
		dst = ps->cur.module;
	else
		return perr(ps, "unknown key '%.40s' (kind, device, function, module)", key);
	if (dst[0])
		return perr(ps, "duplicate '%s'", key);
	snprintf(dst, SUPP_FIELD_LEN, "%s", val);
	return 0;
}

/* One trimmed, non-empty, non-comment line. */
static int parse_line(struct parser *ps, char *s)
{
	if (!printable(s))
		return perr(ps, "control character in line");
	if (!ps->block_line)
		return block_open(ps, s);
	if (!strcmp(s, "}"))
		return block_close(ps);
	if (!strcmp(s, "{"))
		return perr(ps, "'{' inside the suppression opened at line %d", ps->block_line);
	if (!ps->have_name)
		return block_name(ps, s);
	return block_field(ps, s);
}

struct suppressions *suppress__parse(const char *text, size_t len, const char *name,
				     char *err, size_t errlen)
{
	struct parser ps = { .name = name ? name : "<suppressions>", .err = err,
			     .errlen = errlen };
	char line[SUPP_MAX_LINE + 2];
	const char *p = text, *end = text + len, *nl;
	size_t n;
	char *s;

	ps.supp = calloc(1, sizeof(*ps.supp));
	if (!ps.supp) {
		perr(&ps, "out of memory");
		return NULL;
	}
	if (len > SUPP_MAX_FILE) {
		perr(&ps, "file too large (%zu bytes, limit %d)", len, SUPP_MAX_FILE);
		goto fail;
	}
	while (p < end) {
		ps.lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > SUPP_MAX_LINE) {
			perr(&ps, "line too long (%zu bytes, limit %d)", n, SUPP_MAX_LINE);
			goto fail;
		}
		if (memchr(p, '\0', n)) {
			perr(&ps, "NUL byte in line");
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;
		s = trim(line);
		if (*s && *s != '#' && parse_line(&ps, s))
			goto fail;
	}
	if (ps.block_line) {
		perr(&ps, "suppression opened at line %d is not closed with '}'", ps.block_line);
		goto fail;
	}
	return ps.supp;
fail:
	suppress__free(ps.supp);
	return NULL;
}

struct suppressions *suppress__load(const char *path, char *err, size_t errlen)
{
	struct suppressions *supp = NULL;
	char *buf = NULL;
	size_t len;
	FILE *f;

	f = trace_file__open_input(path, err, errlen);
	if (!f)
		return NULL;
	buf = malloc(SUPP_MAX_FILE + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	len = fread(buf, 1, SUPP_MAX_FILE + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		goto out;
	}
	supp = suppress__parse(buf, len, path, err, errlen);
out:
	free(buf);
	fclose(f);
	return supp;
}

static bool glob(const char *pattern, const char *s)
{
	return s && fnmatch(pattern, s, 0) == 0;
}

static bool match_function(const struct suppression *s, const struct finding *f)
{
	uint32_t i;

	if (glob(s->function, f->holder.function))
		return true;
	for (i = 0; i < f->holder.nr_frames && i < DMARW_MAX_STACK; i++)
		if (glob(s->function, f->holder.frames[i].func))
			return true;
	return false;
}

static bool match_one(const struct suppression *s, const struct finding *f)
{
	if (s->kind >= 0 && s->kind != (int)f->kind)
		return false;
	if (s->device[0] && !glob(s->device, f->device) && !glob(s->device, f->channel) &&
	    !glob(s->device, f->dev_name) && !glob(s->device, f->drv_name))
		return false;
	if (s->function[0] && !match_function(s, f))
		return false;
	if (s->module[0] && !glob(s->module, f->holder.module))
		return false;
	return true;
}

const char *suppress__match(struct suppressions *supp, const struct finding *f)
{
	size_t i;

	if (!supp)
		return NULL;
	for (i = 0; i < supp->nr; i++) {
		if (match_one(&supp->list[i], f)) {
			supp->list[i].used++;
			return supp->list[i].name;
		}
	}
	return NULL;
}

size_t suppress__count(const struct suppressions *supp)
{
	return supp ? supp->nr : 0;
}

const char *suppress__name(const struct suppressions *supp, size_t i)
{
	return supp && i < supp->nr ? supp->list[i].name : NULL;
}

uint64_t suppress__used(const struct suppressions *supp, size_t i)
{
	return supp && i < supp->nr ? supp->list[i].used : 0;
}
