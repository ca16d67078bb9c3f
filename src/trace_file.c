/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Trace file writer (replay: trace_replay.c).  Format: docs/trace-format.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "event_print.h"
#include "json_writer.h"
#include "ledger.h"
#include "outputs.h"
#include "trace_file.h"

/* ---- writer ---- */

struct trace_writer {
	FILE *f;
	bool own;
	struct out_file of;		/* own: a temporary file renamed at close */
	struct json_writer *jw;
	uint64_t *keys;			/* keys[i] is written as i + 1 */
	size_t nr_keys, cap_keys;
	size_t last;
	/* ledger entries written (sorted by id): a ledger line names them by id */
	struct written_entry *written;
	size_t nr_written, cap_written;
	bool failed;
	char path[256];
};

struct written_entry {
	uint64_t id;
	bool client;			/* written with its client */
};

struct trace_writer *trace_writer__open(const char *path, const char *kernel,
					char *err, size_t errlen)
{
	struct trace_writer *tw = calloc(1, sizeof(*tw));

	if (!tw) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	snprintf(tw->path, sizeof(tw->path), "%s", path);
	if (!strcmp(path, "-")) {
		tw->f = stdout;
	} else {
		tw->f = out_file__open(&tw->of, tw->path, err, errlen);
		tw->own = true;
	}
	if (!tw->f) {
		free(tw);
		return NULL;
	}
	tw->jw = jsonw__new(tw->f, false);
	if (!tw->jw) {
		snprintf(err, errlen, "%s: out of memory", path);
		if (tw->own)
			out_file__close(&tw->of, false, err, 0);
		free(tw);
		return NULL;
	}
	jsonw__start_object(tw->jw);
	jsonw__uint_field(tw->jw, "dmarefwatch_trace", TRACE_VERSION);
	jsonw__string_field(tw->jw, "kernel", kernel ? kernel : "");
	jsonw__string_field(tw->jw, "tool", "dmarefwatch");
	jsonw__end_object(tw->jw);
	return tw;
}

/* Opaque key -> small number in the file, 0 stays 0. */
static uint64_t map_key(struct trace_writer *tw, uint64_t key)
{
	uint64_t *nk;
	size_t i, ncap;

	if (!key)
		return 0;
	if (tw->last < tw->nr_keys && tw->keys[tw->last] == key)
		return tw->last + 1;
	for (i = 0; i < tw->nr_keys; i++) {
		if (tw->keys[i] == key) {
			tw->last = i;
			return i + 1;
		}
	}
	if (tw->nr_keys == tw->cap_keys) {
		ncap = tw->cap_keys ? tw->cap_keys * 2 : 32;
		nk = realloc(tw->keys, ncap * sizeof(*nk));
		if (!nk) {
			tw->failed = true;
			return 0;
		}
		tw->keys = nk;
		tw->cap_keys = ncap;
	}
	tw->keys[tw->nr_keys] = key;
	tw->last = tw->nr_keys;
	return ++tw->nr_keys;
}

static int status(struct trace_writer *tw)
{
	if (ferror(tw->f))
		tw->failed = true;
	return tw->failed ? -EIO : 0;
}

static void str_field(struct json_writer *jw, const char *name, const char *s, size_t max)
{
	jsonw__name(jw, name);
	jsonw__string_len(jw, s, strnlen(s, max));
}

static void write_snapshot_body(struct trace_writer *tw, const struct snapshot *snap)
{
	struct json_writer *jw = tw->jw;
	size_t i;

	str_field(jw, "source", snap->source, sizeof(snap->source));
	jsonw__name(jw, "devices");
	jsonw__start_array(jw);
	for (i = 0; i < snap->nr_devices; i++) {
		const struct snapshot_device *d = &snap->devices[i];

		jsonw__start_object(jw);
		jsonw__uint_field(jw, "device", map_key(tw, d->device_key));
		jsonw__int_field(jw, "dev_id", d->dev_id);
		str_field(jw, "dev_name", d->dev_name, sizeof(d->dev_name));
		str_field(jw, "drv_name", d->drv_name, sizeof(d->drv_name));
		jsonw__int_field(jw, "kref", d->kref);
		jsonw__int_field(jw, "has_release", d->has_release);
		jsonw__uint_field(jw, "state", d->state);
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
	jsonw__name(jw, "channels");
	jsonw__start_array(jw);
	for (i = 0; i < snap->nr_channels; i++) {
		const struct snapshot_channel *c = &snap->channels[i];

		jsonw__start_object(jw);
		jsonw__uint_field(jw, "chan", map_key(tw, c->chan_key));
		jsonw__uint_field(jw, "device", map_key(tw, c->device_key));
		jsonw__int_field(jw, "dev_id", c->dev_id);
		jsonw__int_field(jw, "chan_id", c->chan_id);
		jsonw__int_field(jw, "client_count", c->client_count);
		str_field(jw, "client_name", c->client_name, sizeof(c->client_name));
		if (c->unrecorded)
			jsonw__uint_field(jw, "unrecorded", c->unrecorded);
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
}

/* {"type":TYPE,"now_ns":N,<the snapshot>}: the startup snapshot, a verify */
static int write_state_line(struct trace_writer *tw, const char *type,
			    const struct snapshot *snap, uint64_t now_ns)
{
	jsonw__start_object(tw->jw);
	jsonw__string_field(tw->jw, "type", type);
	jsonw__uint_field(tw->jw, "now_ns", now_ns);
	write_snapshot_body(tw, snap);
	jsonw__end_object(tw->jw);
	return status(tw);
}

int trace_writer__snapshot(struct trace_writer *tw, const struct snapshot *snap,
			   uint64_t now_ns)
{
	return write_state_line(tw, "snapshot", snap, now_ns);
}

int trace_writer__verify(struct trace_writer *tw, const struct snapshot *state,
			 uint64_t now_ns)
{
	return write_state_line(tw, "verify", state, now_ns);
}

static int write_hook(struct trace_writer *tw, enum dmarw_hook hook, enum rw_hook_mode mode,
		      uint64_t hits, uint64_t lost, const struct engine_hook *hk)
{
	jsonw__start_object(tw->jw);
	jsonw__string_field(tw->jw, "type", "hook");
	jsonw__string_field(tw->jw, "hook", rw_hook_name(hook));
	jsonw__string_field(tw->jw, "mode", rw_hook_mode_name(mode));
	jsonw__uint_field(tw->jw, "hits", hits);
	jsonw__uint_field(tw->jw, "lost", lost);
	jsonw__uint_field(tw->jw, "ledger_full", hk ? hk->ledger_full : 0);
	jsonw__uint_field(tw->jw, "stack_failed", hk ? hk->stack_failed : 0);
	jsonw__uint_field(tw->jw, "map_failed", hk ? hk->map_failed : 0);
	jsonw__uint_field(tw->jw, "sent", hk ? hk->sent : 0);
	jsonw__end_object(tw->jw);
	return status(tw);
}

int trace_writer__hook(struct trace_writer *tw, enum dmarw_hook hook, enum rw_hook_mode mode,
		       uint64_t hits, uint64_t lost)
{
	return write_hook(tw, hook, mode, hits, lost, NULL);
}

int trace_writer__hook_counts(struct trace_writer *tw, enum dmarw_hook hook,
			      const struct engine_hook *hk)
{
	return write_hook(tw, hook, hk->mode, hk->hits, hk->lost, hk);
}

/* {"type":TYPE, the event's fields}: its keys renumbered */
static int write_event_line(struct trace_writer *tw, const char *type,
			    const struct rw_event *ev)
{
	struct rw_event *copy = malloc(sizeof(*copy));

	if (!copy) {
		tw->failed = true;
		return -ENOMEM;
	}
	*copy = *ev;
	copy->device_key = map_key(tw, ev->device_key);
	copy->chan_key = map_key(tw, ev->chan_key);
	copy->client_key = map_key(tw, ev->client_key);
	jsonw__start_object(tw->jw);
	jsonw__string_field(tw->jw, "type", type);
	event_print__json_fields(tw->jw, copy);
	jsonw__end_object(tw->jw);
	free(copy);
	return status(tw);
}

int trace_writer__event(struct trace_writer *tw, const struct rw_event *ev)
{
	return write_event_line(tw, "event", ev);
}

static int cmp_written(const void *a, const void *b)
{
	uint64_t x = ((const struct written_entry *)a)->id;
	uint64_t y = ((const struct written_entry *)b)->id;

	return x < y ? -1 : x > y;
}

/* Was entry @ent written before (with its client when it has one now)? */
static bool entry_written(const struct trace_writer *tw, const struct rw_event *ent)
{
	struct written_entry key = { .id = ent->ledger_id };
	const struct written_entry *w;

	if (!tw->nr_written)
		return false;
	w = bsearch(&key, tw->written, tw->nr_written, sizeof(key), cmp_written);
	return w && (w->client || !ent->client[0]);
}

/*
 * One "ledger-entry" line per entry not written before (or that gained its
 * client since), then the "ledger" line naming every entry by id with its
 * references: an entry's stack is written once, not at every read.
 */
int trace_writer__ledger(struct trace_writer *tw, const struct ledger *l)
{
	struct written_entry *now = l->nr ? malloc(l->nr * sizeof(*now)) : NULL;
	size_t i;

	if (l->nr && !now) {
		tw->failed = true;
		return -ENOMEM;
	}
	for (i = 0; i < l->nr; i++) {
		const struct rw_event *ent = &l->entries[i];

		if (!entry_written(tw, ent) && write_event_line(tw, "ledger-entry", ent))
			break;
		now[i].id = ent->ledger_id;
		now[i].client = ent->client[0] != '\0';
	}
	if (i < l->nr) {
		free(now);
		return -EIO;
	}
	if (l->nr)
		qsort(now, l->nr, sizeof(*now), cmp_written);
	free(tw->written);
	tw->written = now;
	tw->nr_written = tw->cap_written = l->nr;
	jsonw__start_object(tw->jw);
	jsonw__string_field(tw->jw, "type", "ledger");
	jsonw__uint_field(tw->jw, "now_ns", l->ts_ns);
	jsonw__name(tw->jw, "entries");
	jsonw__start_array(tw->jw);
	for (i = 0; i < l->nr; i++) {
		jsonw__start_array(tw->jw);
		jsonw__uint(tw->jw, l->entries[i].ledger_id);
		jsonw__uint(tw->jw, l->entries[i].ledger_refs);
		jsonw__end_array(tw->jw);
	}
	jsonw__end_array(tw->jw);
	jsonw__end_object(tw->jw);
	return status(tw);
}

int trace_writer__lost(struct trace_writer *tw, uint64_t n)
{
	jsonw__start_object(tw->jw);
	jsonw__string_field(tw->jw, "type", "lost");
	jsonw__uint_field(tw->jw, "count", n);
	jsonw__end_object(tw->jw);
	return status(tw);
}

int trace_writer__scan(struct trace_writer *tw, uint64_t now_ns, uint64_t min_age_ns)
{
	jsonw__start_object(tw->jw);
	jsonw__string_field(tw->jw, "type", "scan");
	jsonw__uint_field(tw->jw, "now_ns", now_ns);
	jsonw__uint_field(tw->jw, "min_age_ns", min_age_ns);
	jsonw__end_object(tw->jw);
	return status(tw);
}

int trace_writer__finish(struct trace_writer *tw, uint64_t now_ns,
			 const struct snapshot *final)
{
	jsonw__start_object(tw->jw);
	jsonw__string_field(tw->jw, "type", "finish");
	jsonw__uint_field(tw->jw, "now_ns", now_ns);
	jsonw__name(tw->jw, "final");
	if (final) {
		jsonw__start_object(tw->jw);
		write_snapshot_body(tw, final);
		jsonw__end_object(tw->jw);
	} else {
		jsonw__null(tw->jw);
	}
	jsonw__end_object(tw->jw);
	return status(tw);
}

int trace_writer__close(struct trace_writer *tw, char *err, size_t errlen)
{
	int ret = 0;

	if (!tw)
		return 0;
	if (fflush(tw->f) || ferror(tw->f))
		tw->failed = true;
	if (tw->own && out_file__close(&tw->of, !tw->failed, err, errlen)) {
		ret = -EIO;
	} else if (tw->failed) {
		ret = -EIO;
		snprintf(err, errlen, "%s: write error", tw->path);
	}
	jsonw__free(tw->jw);
	free(tw->keys);
	free(tw->written);
	free(tw);
	return ret;
}
