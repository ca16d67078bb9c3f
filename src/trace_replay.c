// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Trace file replay: every line fed to the engine, strictly checked
 * (writer: trace_file.c).  Format: docs/trace-format.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "json_parse.h"
#include "ledger.h"
#include "trace_file.h"

/* ---- replay ---- */

/* Ledger entries a replay keeps: those "ledger-entry" lines gave since */
#define TRACE_MAX_LEDGER	65536

struct reader {
	const char *path;
	uint64_t line;
	unsigned int version;		/* the header's dmarefwatch_trace */
	/* the last ledger line's entries, then the ledger-entry lines since */
	struct ledger *table;
	char *err;
	size_t errlen;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static int bad(struct reader *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (r->failed)
		return -EINVAL;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "%s:%llu: %s", r->path, (unsigned long long)r->line, msg);
	return -EINVAL;
}

static const struct json_value *member(struct reader *r, const struct json_value *obj,
				       const char *name, enum json_type type)
{
	const struct json_value *v = json_get(obj, name);

	if (!v) {
		bad(r, "missing field \"%s\"", name);
		return NULL;
	}
	if (v->type != type) {
		bad(r, "field \"%s\" must be %s %s, got %s", name,
		    type == JSON_ARRAY || type == JSON_OBJECT ? "an" : "a",
		    json_type_name(type), json_type_name(v->type));
		return NULL;
	}
	return v;
}

static int get_u64(struct reader *r, const struct json_value *obj, const char *name,
		   uint64_t max, uint64_t *out)
{
	const struct json_value *v = member(r, obj, name, JSON_NUMBER);

	if (!v)
		return -EINVAL;
	if (!json_to_u64(v, out) || *out > max)
		return bad(r, "field \"%s\" must be an integer in 0..%llu", name,
			   (unsigned long long)max);
	return 0;
}

static int get_i64(struct reader *r, const struct json_value *obj, const char *name,
		   int64_t min, int64_t max, int64_t *out)
{
	const struct json_value *v = member(r, obj, name, JSON_NUMBER);

	if (!v)
		return -EINVAL;
	if (!json_to_i64(v, out) || *out < min || *out > max)
		return bad(r, "field \"%s\" must be an integer in %lld..%lld", name,
			   (long long)min, (long long)max);
	return 0;
}

static int get_u32(struct reader *r, const struct json_value *obj, const char *name,
		   uint32_t *out)
{
	uint64_t v;

	if (get_u64(r, obj, name, UINT32_MAX, &v))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int get_s32(struct reader *r, const struct json_value *obj, const char *name,
		   int32_t *out)
{
	int64_t v;

	if (get_i64(r, obj, name, INT32_MIN, INT32_MAX, &v))
		return -EINVAL;
	*out = (int32_t)v;
	return 0;
}

static int get_str(struct reader *r, const struct json_value *obj, const char *name,
		   char *out, size_t size)
{
	const struct json_value *v = member(r, obj, name, JSON_STRING);

	if (!v)
		return -EINVAL;
	if (v->len >= size)
		return bad(r, "field \"%s\" longer than %zu bytes", name, size - 1);
	memcpy(out, v->string, v->len + 1);
	return 0;
}

static int read_snapshot(struct reader *r, const struct json_value *obj,
			 struct snapshot **out)
{
	const struct json_value *devs, *chans;
	struct snapshot *snap;
	char source[SNAPSHOT_SOURCE_LEN];
	size_t i;

	*out = NULL;
	if (get_str(r, obj, "source", source, sizeof(source)))
		return -EINVAL;
	devs = member(r, obj, "devices", JSON_ARRAY);
	chans = devs ? member(r, obj, "channels", JSON_ARRAY) : NULL;
	if (!chans)
		return -EINVAL;
	snap = snapshot__new(source);
	if (!snap)
		return bad(r, "out of memory");
	for (i = 0; i < devs->len; i++) {
		const struct json_value *d = &devs->items[i];
		struct snapshot_device sd = { 0 };
		int64_t v;

		if (d->type != JSON_OBJECT) {
			bad(r, "devices[%zu] must be an object", i);
			goto fail;
		}
		if (get_u64(r, d, "device", UINT64_MAX, &sd.device_key) ||
		    get_s32(r, d, "dev_id", &sd.dev_id) ||
		    get_str(r, d, "dev_name", sd.dev_name, sizeof(sd.dev_name)) ||
		    get_str(r, d, "drv_name", sd.drv_name, sizeof(sd.drv_name)) ||
		    get_s32(r, d, "kref", &sd.kref) ||
		    get_i64(r, d, "has_release", -1, 1, &v) ||
		    get_u32(r, d, "state", &sd.state))
			goto fail;
		sd.has_release = (int32_t)v;
		if (sd.state > DMARW_DEV_RELEASED) {
			bad(r, "devices[%zu]: unknown state %u", i, sd.state);
			goto fail;
		}
		if (snapshot__add_device(snap, &sd)) {
			bad(r, "out of memory");
			goto fail;
		}
	}
	for (i = 0; i < chans->len; i++) {
		const struct json_value *c = &chans->items[i];
		struct snapshot_channel sc = { 0 };

		if (c->type != JSON_OBJECT) {
			bad(r, "channels[%zu] must be an object", i);
			goto fail;
		}
		if (get_u64(r, c, "chan", UINT64_MAX, &sc.chan_key) ||
		    get_u64(r, c, "device", UINT64_MAX, &sc.device_key) ||
		    get_s32(r, c, "dev_id", &sc.dev_id) ||
		    get_s32(r, c, "chan_id", &sc.chan_id) ||
		    get_s32(r, c, "client_count", &sc.client_count) ||
		    get_str(r, c, "client_name", sc.client_name, sizeof(sc.client_name)) ||
		    (json_get(c, "unrecorded") && get_u32(r, c, "unrecorded", &sc.unrecorded)))
			goto fail;
		if (snapshot__add_channel(snap, &sc)) {
			bad(r, "out of memory");
			goto fail;
		}
	}
	*out = snap;
	return 0;
fail:
	snapshot__free(snap);
	return -EINVAL;
}

static int read_frames(struct reader *r, const struct json_value *obj, struct rw_event *ev)
{
	const struct json_value *st = member(r, obj, "stack", JSON_ARRAY);
	size_t i;

	if (!st)
		return -EINVAL;
	if (st->len > DMARW_MAX_STACK)
		return bad(r, "stack has %zu frames, at most %d", st->len, DMARW_MAX_STACK);
	for (i = 0; i < st->len; i++) {
		const struct json_value *f = &st->items[i];

		if (f->type != JSON_OBJECT)
			return bad(r, "stack[%zu] must be an object", i);
		if (get_str(r, f, "func", ev->frames[i].func, RW_FUNC_LEN) ||
		    get_u32(r, f, "off", &ev->frames[i].offset) ||
		    get_str(r, f, "module", ev->frames[i].module, RW_MODULE_LEN))
			return -EINVAL;
	}
	ev->nr_frames = (uint32_t)st->len;
	return 0;
}

/* Version 3: "ledger_id", "ledger_refs" and "prev", each only when set. */
static int read_ledger_fields(struct reader *r, const struct json_value *obj,
			      struct rw_event *ev)
{
	const struct json_value *p;

	if ((json_get(obj, "ledger_id") &&
	     get_u64(r, obj, "ledger_id", UINT64_MAX, &ev->ledger_id)) ||
	    (json_get(obj, "ledger_refs") && get_u32(r, obj, "ledger_refs", &ev->ledger_refs)))
		return -EINVAL;
	if (!json_get(obj, "prev"))
		return 0;
	p = member(r, obj, "prev", JSON_OBJECT);
	if (!p || get_u64(r, p, "ts_ns", UINT64_MAX, &ev->prev.ts_ns) ||
	    get_u32(r, p, "pid", &ev->prev.pid) || get_u32(r, p, "tgid", &ev->prev.tgid) ||
	    get_str(r, p, "comm", ev->prev.comm, sizeof(ev->prev.comm)) ||
	    get_u64(r, p, "holder_id", UINT64_MAX, &ev->prev.holder_id))
		return -EINVAL;
	return 0;
}

static int read_event(struct reader *r, const struct json_value *obj, struct rw_event *ev)
{
	const struct json_value *v;
	int t;

	memset(ev, 0, sizeof(*ev));
	v = member(r, obj, "event", JSON_STRING);
	if (!v)
		return -EINVAL;
	t = rw_event_type_parse(v->string);
	if (t < 0)
		return bad(r, "unknown event \"%.40s\"", v->string);
	ev->type = (enum dmarw_event_type)t;
	v = member(r, obj, "hook", JSON_STRING);
	if (!v)
		return -EINVAL;
	t = rw_hook_parse(v->string);
	if (t < 0)
		return bad(r, "unknown hook \"%.40s\"", v->string);
	ev->hook = (enum dmarw_hook)t;
	if (get_u64(r, obj, "ts_ns", UINT64_MAX, &ev->ts_ns) ||
	    get_u32(r, obj, "cpu", &ev->cpu) ||
	    get_u32(r, obj, "pid", &ev->pid) ||
	    get_u32(r, obj, "tgid", &ev->tgid) ||
	    get_str(r, obj, "comm", ev->comm, sizeof(ev->comm)) ||
	    get_u64(r, obj, "device", UINT64_MAX, &ev->device_key) ||
	    get_u64(r, obj, "chan", UINT64_MAX, &ev->chan_key) ||
	    get_s32(r, obj, "dev_id", &ev->dev_id) ||
	    get_s32(r, obj, "chan_id", &ev->chan_id) ||
	    get_str(r, obj, "dev_name", ev->dev_name, sizeof(ev->dev_name)) ||
	    get_str(r, obj, "drv_name", ev->drv_name, sizeof(ev->drv_name)) ||
	    get_i64(r, obj, "ret", INT64_MIN, INT64_MAX, &ev->ret) ||
	    get_s32(r, obj, "client_count_before", &ev->client_count_before) ||
	    get_s32(r, obj, "client_count_after", &ev->client_count_after) ||
	    get_s32(r, obj, "kref_before", &ev->kref_before) ||
	    get_s32(r, obj, "kref_after", &ev->kref_after) ||
	    get_u32(r, obj, "flags", &ev->flags))
		return -EINVAL;
	/* added after the first traces were written: optional, -1 when absent */
	ev->dev_in_use = -1;
	if (json_get(obj, "dev_in_use") && get_s32(r, obj, "dev_in_use", &ev->dev_in_use))
		return -EINVAL;
	/* version 1 carried the channels in use of these two in "ret" */
	if (r->version == 1 && (ev->type == DMARW_EV_DEV_UNREGISTER_BEGIN ||
				ev->type == DMARW_EV_DEV_RELEASE)) {
		ev->dev_in_use = ev->ret >= INT32_MIN && ev->ret <= INT32_MAX ? (int32_t)ev->ret : -1;
		ev->ret = 0;
	}
	/* only on request events that named a client: "" when absent */
	if ((json_get(obj, "client") &&
	     get_str(r, obj, "client", ev->client, sizeof(ev->client))) ||
	    (json_get(obj, "client_driver") &&
	     get_str(r, obj, "client_driver", ev->client_drv, sizeof(ev->client_drv))) ||
	    (json_get(obj, "client_device") &&
	     get_u64(r, obj, "client_device", UINT64_MAX, &ev->client_key)) ||
	    (json_get(obj, "module") &&
	     get_str(r, obj, "module", ev->module, sizeof(ev->module))) ||
	    read_ledger_fields(r, obj, ev))
		return -EINVAL;
	return read_frames(r, obj, ev);
}

/*
 * Read one line into *buf (grown up to TRACE_MAX_LINE).  Returns 1 with a
 * line, 0 at EOF, -EINVAL for a line that is too long or holds NUL.
 */
static int read_line(struct reader *r, FILE *f, char **buf, size_t *cap, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF) {
		if (c == '\n')
			break;
		if (c == '\0')
			return bad(r, "NUL byte in line");
		if (n >= TRACE_MAX_LINE)
			return bad(r, "line longer than %u bytes", TRACE_MAX_LINE);
		if (n + 1 >= *cap) {
			size_t ncap = *cap ? *cap * 2 : 4096;
			char *nb = realloc(*buf, ncap);

			if (!nb)
				return bad(r, "out of memory");
			*buf = nb;
			*cap = ncap;
		}
		(*buf)[n++] = (char)c;
	}
	if (ferror(f))
		return bad(r, "read error: %s", strerror(errno));
	if (c == EOF && n == 0)
		return 0;
	if (!*buf) {
		/* an empty line: nothing stored yet, so no buffer either */
		*buf = malloc(4096);
		if (!*buf)
			return bad(r, "out of memory");
		*cap = 4096;
	}
	*len = n;
	(*buf)[n] = '\0';
	return c == EOF ? 2 : 1;	/* 2: the last line has no newline */
}

static int need_v3(struct reader *r, const char *type)
{
	if (r->version >= 3)
		return 0;
	return bad(r, "\"%s\" line in a version %u trace (the reference ledger came with "
		   "version 3)", type, r->version);
}

static int read_ledger_entry(struct reader *r, const struct json_value *obj,
			     struct rw_event *ev)
{
	if (need_v3(r, "ledger-entry") || read_event(r, obj, ev))
		return -EINVAL;
	if (ev->type != DMARW_EV_DEV_HOLDER)
		return bad(r, "a ledger entry must be a \"dev-holder\" event");
	if (!ev->ledger_id)
		return bad(r, "a ledger entry needs a non-zero \"ledger_id\"");
	if (!r->table && !(r->table = ledger__new()))
		return bad(r, "out of memory");
	if (r->table->nr >= TRACE_MAX_LEDGER)
		return bad(r, "more than %d ledger entries kept", TRACE_MAX_LEDGER);
	if (ledger__add(r->table, ev))
		return bad(r, "out of memory");
	return 0;
}

/* An entry of the table and where it was, to find the newest of an id. */
struct table_ref {
	uint64_t id;
	size_t idx;
};

static int cmp_table_ref(const void *a, const void *b)
{
	const struct table_ref *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The newest table entry of ledger id @id (refs sorted by id, then place), or NULL. */
static const struct rw_event *table_find(const struct reader *r, const struct table_ref *refs,
					 size_t n, uint64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {		/* the first ref past @id */
		size_t mid = lo + (hi - lo) / 2;

		if (refs[mid].id <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && refs[lo - 1].id == id ? &r->table->entries[refs[lo - 1].idx] : NULL;
}

/* @items of a ledger line into @l, from the entries the table holds. */
static int ledger_items(struct reader *r, const struct json_value *items, struct ledger *l,
			struct rw_event *ev)
{
	size_t i, n = r->table ? r->table->nr : 0;
	struct table_ref *refs = n ? malloc(n * sizeof(*refs)) : NULL;
	const struct rw_event *ent;
	uint64_t id, nrefs;
	int ret = 0;

	if (n && !refs)
		return bad(r, "out of memory");
	for (i = 0; i < n; i++) {
		refs[i].id = r->table->entries[i].ledger_id;
		refs[i].idx = i;
	}
	if (n)
		qsort(refs, n, sizeof(*refs), cmp_table_ref);
	for (i = 0; i < items->len && !ret; i++) {
		const struct json_value *it = &items->items[i];

		if (it->type != JSON_ARRAY || it->len != 2 ||
		    !json_to_u64(&it->items[0], &id) || !json_to_u64(&it->items[1], &nrefs) ||
		    !id || nrefs > UINT32_MAX) {
			ret = bad(r, "entries[%zu] must be [ledger_id, references] (integers, "
				  "the id non-zero)", i);
			break;
		}
		ent = table_find(r, refs, n, id);
		if (!ent) {
			ret = bad(r, "entries[%zu]: ledger entry %llu has no ledger-entry line", i,
				  (unsigned long long)id);
			break;
		}
		*ev = *ent;
		ev->ledger_refs = (uint32_t)nrefs;
		if (ledger__add(l, ev))
			ret = bad(r, "out of memory");
	}
	free(refs);
	return ret;
}

/* A ledger read: replayed, then its entries are all the table keeps. */
static int read_ledger(struct reader *r, struct engine *e, const struct json_value *obj,
		       struct rw_event *ev)
{
	const struct json_value *items;
	struct ledger *l;
	uint64_t now;

	if (need_v3(r, "ledger") || get_u64(r, obj, "now_ns", UINT64_MAX, &now))
		return -EINVAL;
	items = member(r, obj, "entries", JSON_ARRAY);
	if (!items)
		return -EINVAL;
	if (items->len > TRACE_MAX_LEDGER)
		return bad(r, "more than %d ledger entries", TRACE_MAX_LEDGER);
	l = ledger__new();
	if (!l)
		return bad(r, "out of memory");
	l->ts_ns = now;
	if (ledger_items(r, items, l, ev)) {
		ledger__free(l);
		return -EINVAL;
	}
	engine__load_ledger(e, now, l);
	ledger__free(r->table);
	r->table = l;
	return 0;
}

/* A hook line's loss counters (version 3; 0 when absent). */
static int read_hook_losses(struct reader *r, struct engine *e, const struct json_value *obj,
			    enum dmarw_hook hook)
{
	static const char *const names[] = { "ledger_full", "stack_failed", "map_failed",
					      "sent" };
	uint64_t v[4] = { 0 };
	size_t i;

	for (i = 0; i < 4; i++)
		if (json_get(obj, names[i]) && get_u64(r, obj, names[i], UINT64_MAX, &v[i]))
			return -EINVAL;
	engine__set_hook_losses(e, hook, v[0], v[1], v[2], v[3]);
	return 0;
}

static int do_line(struct reader *r, struct engine *e, struct trace_info *info,
		   const struct json_value *obj, struct rw_event *ev)
{
	const struct json_value *type, *fv;
	struct snapshot *snap = NULL;
	uint64_t now, a, b;
	int t;

	type = member(r, obj, "type", JSON_STRING);
	if (!type)
		return -EINVAL;
	if (info->finished)
		return bad(r, "\"%.20s\" line after the finish line", type->string);
	if (!strcmp(type->string, "event")) {
		if (read_event(r, obj, ev))
			return -EINVAL;
		engine__feed(e, ev);
		info->events++;
	} else if (!strcmp(type->string, "snapshot")) {
		if (get_u64(r, obj, "now_ns", UINT64_MAX, &now) || read_snapshot(r, obj, &snap))
			return -EINVAL;
		engine__load_snapshot(e, snap, now);
		snapshot__free(snap);
	} else if (!strcmp(type->string, "verify")) {
		if (get_u64(r, obj, "now_ns", UINT64_MAX, &now) || read_snapshot(r, obj, &snap))
			return -EINVAL;
		engine__verify(e, now, snap);
		snapshot__free(snap);
	} else if (!strcmp(type->string, "hook")) {
		char mode[16];
		int m;

		fv = member(r, obj, "hook", JSON_STRING);
		if (!fv)
			return -EINVAL;
		t = rw_hook_parse(fv->string);
		if (t < 0)
			return bad(r, "unknown hook \"%.40s\"", fv->string);
		if (get_str(r, obj, "mode", mode, sizeof(mode)) ||
		    get_u64(r, obj, "hits", UINT64_MAX, &a) ||
		    get_u64(r, obj, "lost", UINT64_MAX, &b))
			return -EINVAL;
		m = rw_hook_mode_parse(mode);
		if (m < 0)
			return bad(r, "unknown hook mode \"%s\"", mode);
		engine__set_hook(e, (enum dmarw_hook)t, (enum rw_hook_mode)m, a, b);
		if (read_hook_losses(r, e, obj, (enum dmarw_hook)t))
			return -EINVAL;
	} else if (!strcmp(type->string, "ledger-entry")) {
		if (read_ledger_entry(r, obj, ev))
			return -EINVAL;
	} else if (!strcmp(type->string, "ledger")) {
		if (read_ledger(r, e, obj, ev))
			return -EINVAL;
	} else if (!strcmp(type->string, "lost")) {
		if (get_u64(r, obj, "count", UINT64_MAX, &a))
			return -EINVAL;
		engine__add_lost(e, a);
	} else if (!strcmp(type->string, "scan")) {
		if (get_u64(r, obj, "now_ns", UINT64_MAX, &now) ||
		    get_u64(r, obj, "min_age_ns", UINT64_MAX, &a))
			return -EINVAL;
		engine__scan(e, now, a);
	} else if (!strcmp(type->string, "finish")) {
		if (get_u64(r, obj, "now_ns", UINT64_MAX, &now))
			return -EINVAL;
		fv = json_get(obj, "final");
		if (!fv)
			return bad(r, "missing field \"final\"");
		if (fv->type == JSON_OBJECT) {
			if (read_snapshot(r, fv, &snap))
				return -EINVAL;
		} else if (fv->type != JSON_NULL) {
			return bad(r, "field \"final\" must be an object or null, got %s",
				   json_type_name(fv->type));
		}
		engine__finish(e, now, snap);
		snapshot__free(snap);
		info->finished = true;
	} else {
		return bad(r, "unknown line type \"%.40s\"", type->string);
	}
	return 0;
}

static int check_header(struct reader *r, const struct json_value *obj,
			struct trace_info *info)
{
	const struct json_value *v = json_get(obj, "dmarefwatch_trace");
	uint64_t ver;

	if (!v)
		return bad(r, "not a dmarefwatch trace (no \"dmarefwatch_trace\" header)");
	if (!json_to_u64(v, &ver))
		return bad(r, "field \"dmarefwatch_trace\" must be an integer version");
	if (ver < 1 || ver > TRACE_VERSION)
		return bad(r, "unsupported trace version %llu (this build reads 1 to %d)",
			   (unsigned long long)ver, TRACE_VERSION);
	r->version = (unsigned int)ver;
	return get_str(r, obj, "kernel", info->kernel, sizeof(info->kernel));
}

FILE *trace_file__open_input(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;
	int fd;

	/* O_NONBLOCK: a FIFO without a writer must not block the open */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (a FIFO, tty or device is refused)",
			 path);
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if (fcntl(fd, F_SETFL, 0) < 0 || !(f = fdopen(fd, "r"))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}

int trace_file__replay_info(const char *path, struct engine *e, struct trace_info *info,
			    char *err, size_t errlen)
{
	struct json_limits lim = JSON_LIMITS_DEFAULT;
	struct reader r = { .path = path, .err = err, .errlen = errlen };
	struct trace_info local;
	struct json_value *obj = NULL;
	struct json_error jerr;
	struct rw_event *ev = NULL;
	char *buf = NULL;
	size_t cap = 0, len = 0;
	int ret = 0, got;
	FILE *f;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	lim.max_bytes = TRACE_MAX_LINE;
	f = trace_file__open_input(path, err, errlen);
	if (!f)
		return -errno;
	ev = malloc(sizeof(*ev));
	if (!ev) {
		ret = bad(&r, "out of memory");
		goto out;
	}
	for (;;) {
		r.line++;
		got = read_line(&r, f, &buf, &cap, &len);
		if (got < 0) {
			ret = got;
			goto out;
		}
		if (!got)
			break;
		obj = json_parse(buf, len, &lim, &jerr);
		if (!obj && got == 2 && r.line > 1) {
			/* cut inside its last line: replay what was complete */
			info->truncated = true;
			break;
		}
		info->lines++;
		if (!obj) {
			ret = bad(&r, "column %d: %s", jerr.col, jerr.msg);
			goto out;
		}
		if (obj->type != JSON_OBJECT) {
			ret = bad(&r, "each line must be a JSON object, got %s",
				  json_type_name(obj->type));
			goto out;
		}
		if (r.line == 1)
			ret = check_header(&r, obj, info);
		else
			ret = do_line(&r, e, info, obj, ev);
		json_free(obj);
		obj = NULL;
		if (ret)
			goto out;
	}
	if (r.line == 1) {
		r.line = 0;
		ret = bad(&r, "empty file, not a dmarefwatch trace");
		snprintf(err, errlen, "%s: empty file, not a dmarefwatch trace", path);
	}
out:
	json_free(obj);
	ledger__free(r.table);
	free(ev);
	free(buf);
	fclose(f);
	return ret;
}

int trace_file__replay(const char *path, struct engine *e, char *err, size_t errlen)
{
	return trace_file__replay_info(path, e, NULL, err, errlen);
}
