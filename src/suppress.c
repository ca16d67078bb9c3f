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

struct suppressions *suppress__parse(const char *text, size_t len, const char *name,
				     char *err, size_t errlen)
{
	struct suppressions *supp;
	struct suppression cur;
	char line[SUPP_MAX_LINE + 2];
	const char *p = text, *end = text + len, *nl;
	bool in_block = false, have_name = false, have_kind = false;
	int lineno = 0, block_line = 0;
	size_t n;

	if (!name)
		name = "<suppressions>";
	supp = calloc(1, sizeof(*supp));
	if (!supp) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	if (len > SUPP_MAX_FILE) {
		snprintf(err, errlen, "%s: file too large (%zu bytes, limit %d)", name, len,
			 SUPP_MAX_FILE);
		goto fail;
	}
	while (p < end) {
		char *s, *colon, *key, *val;

		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > SUPP_MAX_LINE) {
			snprintf(err, errlen, "%s:%d: line too long (%zu bytes, limit %d)", name,
				 lineno, n, SUPP_MAX_LINE);
			goto fail;
		}
		if (memchr(p, '\0', n)) {
			snprintf(err, errlen, "%s:%d: NUL byte in line", name, lineno);
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		if (!printable(s)) {
			snprintf(err, errlen, "%s:%d: control character in line", name, lineno);
			goto fail;
		}
		if (!in_block) {
			if (strcmp(s, "{")) {
				snprintf(err, errlen, "%s:%d: expected '{' to open a suppression, got '%.40s'",
					 name, lineno, s);
				goto fail;
			}
			in_block = true;
			have_name = have_kind = false;
			block_line = lineno;
			memset(&cur, 0, sizeof(cur));
			cur.kind = -1;
			cur.line = lineno;
			continue;
		}
		if (!strcmp(s, "}")) {
			if (!have_name) {
				snprintf(err, errlen, "%s:%d: suppression has no name", name, lineno);
				goto fail;
			}
			if (!have_kind) {
				snprintf(err, errlen, "%s:%d: suppression '%s' has no 'kind:' line",
					 name, lineno, cur.name);
				goto fail;
			}
			if (supp->nr >= SUPP_MAX_ENTRIES) {
				snprintf(err, errlen, "%s:%d: too many suppressions (limit %d)", name,
					 lineno, SUPP_MAX_ENTRIES);
				goto fail;
			}
			if (add_entry(supp, &cur)) {
				snprintf(err, errlen, "%s:%d: out of memory", name, lineno);
				goto fail;
			}
			in_block = false;
			continue;
		}
		if (!strcmp(s, "{")) {
			snprintf(err, errlen, "%s:%d: '{' inside the suppression opened at line %d",
				 name, lineno, block_line);
			goto fail;
		}
		colon = strchr(s, ':');
		if (!have_name) {
			if (colon || strchr(s, ' ') || strchr(s, '\t')) {
				snprintf(err, errlen, "%s:%d: expected the suppression name (one word) "
					 "on the line after '{', got '%.40s'", name, lineno, s);
				goto fail;
			}
			if (strlen(s) >= sizeof(cur.name)) {
				snprintf(err, errlen, "%s:%d: suppression name too long (limit %zu)",
					 name, lineno, sizeof(cur.name) - 1);
				goto fail;
			}
			snprintf(cur.name, sizeof(cur.name), "%s", s);
			have_name = true;
			continue;
		}
		if (!colon) {
			snprintf(err, errlen, "%s:%d: expected 'key: value', got '%.40s'", name,
				 lineno, s);
			goto fail;
		}
		*colon = '\0';
		key = trim(s);
		val = trim(colon + 1);
		if (!*val) {
			snprintf(err, errlen, "%s:%d: empty value for '%s'", name, lineno, key);
			goto fail;
		}
		if (strlen(val) >= SUPP_FIELD_LEN) {
			snprintf(err, errlen, "%s:%d: value of '%s' too long (limit %d)", name,
				 lineno, key, SUPP_FIELD_LEN - 1);
			goto fail;
		}
		if (!strcmp(key, "kind")) {
			if (have_kind) {
				snprintf(err, errlen, "%s:%d: duplicate 'kind'", name, lineno);
				goto fail;
			}
			if (strcmp(val, "*")) {
				cur.kind = finding_kind_parse(val);
				if (cur.kind < 0) {
					snprintf(err, errlen, "%s:%d: unknown finding kind '%s'", name,
						 lineno, val);
					goto fail;
				}
			}
			have_kind = true;
		} else if (!strcmp(key, "device") || !strcmp(key, "function") ||
			   !strcmp(key, "module")) {
			char *dst = key[0] == 'd' ? cur.device :
				    key[0] == 'f' ? cur.function : cur.module;

			if (dst[0]) {
				snprintf(err, errlen, "%s:%d: duplicate '%s'", name, lineno, key);
				goto fail;
			}
			snprintf(dst, SUPP_FIELD_LEN, "%s", val);
		} else {
			snprintf(err, errlen, "%s:%d: unknown key '%.40s' (kind, device, function, "
				 "module)", name, lineno, key);
			goto fail;
		}
	}
	if (in_block) {
		snprintf(err, errlen, "%s:%d: suppression opened at line %d is not closed with '}'",
			 name, lineno, block_line);
		goto fail;
	}
	return supp;
fail:
	suppress__free(supp);
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
