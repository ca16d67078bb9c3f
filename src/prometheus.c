// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prometheus text exposition of an engine's state; see prometheus.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "engine.h"
#include "outputs.h"
#include "prometheus.h"
#include "snapshot.h"

struct label {
	const char *name;
	const char *value;
};

#define NLABELS(l)	(sizeof(l) / sizeof((l)[0]))

void prom_escape_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void prom_escape_help(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	prom_escape_help(f, help);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void labels(FILE *f, const struct label *l, size_t n)
{
	size_t i;

	if (!n)
		return;
	fputc('{', f);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "", l[i].name);
		prom_escape_label(f, l[i].value ? l[i].value : "");
		fputc('"', f);
	}
	fputc('}', f);
}

static void sample_int(FILE *f, const char *name, const struct label *l, size_t n,
		       long long v)
{
	fputs(name, f);
	labels(f, l, n);
	fprintf(f, " %lld\n", v);
}

static void sample_dbl(FILE *f, const char *name, const struct label *l, size_t n,
		       double v)
{
	fputs(name, f);
	labels(f, l, n);
	fprintf(f, " %.3f\n", v);
}

/*
 * A dev_id (and so "dma0", "dma0chan1") is reused when a device registers
 * after another unregistered; a series must appear once, so the newest
 * device of a name stands for it.
 */
static bool device_shadowed(const struct engine *e, size_t i)
{
	const struct engine_device *d = engine__device(e, i);
	size_t j;

	for (j = i + 1; j < engine__nr_devices(e); j++)
		if (!strcmp(engine__device(e, j)->name, d->name))
			return true;
	return false;
}

static bool channel_shown(const struct engine *e, size_t i)
{
	const struct engine_channel *c = engine__channel(e, i);
	size_t j;

	if (!c->name[0])
		return false;
	if (c->device < engine__nr_devices(e) &&
	    engine__device(e, c->device)->state == DMARW_DEV_RELEASED)
		return false;
	for (j = i + 1; j < engine__nr_channels(e); j++) {
		const struct engine_channel *o = engine__channel(e, j);

		if (!strcmp(o->name, c->name) && !(o->device < engine__nr_devices(e) &&
		    engine__device(e, o->device)->state == DMARW_DEV_RELEASED))
			return false;
	}
	return true;
}

static const struct snapshot_channel *truth_chan(const struct prom_opts *o,
						 const struct engine_channel *c)
{
	size_t i;

	if (!o->truth || !c->key)
		return NULL;
	for (i = 0; i < o->truth->nr_channels; i++)
		if (o->truth->channels[i].chan_key == c->key)
			return &o->truth->channels[i];
	return NULL;
}

static const struct snapshot_device *truth_dev(const struct prom_opts *o,
					       const struct engine_device *d)
{
	size_t i;

	if (!o->truth || !d->key)
		return NULL;
	for (i = 0; i < o->truth->nr_devices; i++)
		if (o->truth->devices[i].device_key == d->key)
			return &o->truth->devices[i];
	return NULL;
}

static const char *chan_device(const struct engine *e, const struct engine_channel *c,
			       char *buf, size_t len)
{
	if (c->device < engine__nr_devices(e))
		return engine__device(e, c->device)->name;
	snprintf(buf, len, "dma%d", c->dev_id);
	return buf;
}

static void write_devices(FILE *f, const struct engine *e, const struct prom_opts *o)
{
	static const uint32_t states[] = {
		DMARW_DEV_REGISTERED, DMARW_DEV_UNREGISTERING, DMARW_DEV_UNREGISTERED,
		DMARW_DEV_RELEASED, DMARW_DEV_UNKNOWN,
	};
	size_t i, s, n = engine__nr_devices(e);

	family(f, "dmarefwatch_device_state", "gauge",
	       "Device state: 1 for the current one of registered, unregistering, "
	       "unregistered, released, unknown.");
	for (i = 0; i < n; i++) {
		const struct engine_device *d = engine__device(e, i);
		uint32_t state = d->state;

		if (device_shadowed(e, i))
			continue;
		for (s = 0; s < NLABELS(states); s++) {
			struct label l[] = {
				{ "device", d->name }, { "dev_name", d->dev_name },
				{ "driver", d->drv_name },
				{ "state", engine_dev_state_name(states[s]) },
			};

			sample_int(f, "dmarefwatch_device_state", l, NLABELS(l),
				   state == states[s]);
		}
	}
	family(f, "dmarefwatch_device_kref", "gauge",
	       "The device's reference count (dma_device.ref) last read from the kernel.");
	for (i = 0; i < n; i++) {
		const struct engine_device *d = engine__device(e, i);
		const struct snapshot_device *td = truth_dev(o, d);
		int32_t kref = td && td->kref >= 0 ? td->kref : d->kref;
		struct label l[] = {
			{ "device", d->name }, { "dev_name", d->dev_name },
			{ "driver", d->drv_name },
		};

		if (kref >= 0 && !device_shadowed(e, i))
			sample_int(f, "dmarefwatch_device_kref", l, NLABELS(l), kref);
	}
	family(f, "dmarefwatch_device_release_callback", "gauge",
	       "1 if the device has a device_release callback, 0 if not "
	       "(unsafe to unbind while a channel is in use).");
	for (i = 0; i < n; i++) {
		const struct engine_device *d = engine__device(e, i);
		struct label l[] = {
			{ "device", d->name }, { "dev_name", d->dev_name },
			{ "driver", d->drv_name },
		};

		if (d->has_release >= 0 && !device_shadowed(e, i))
			sample_int(f, "dmarefwatch_device_release_callback", l, NLABELS(l),
				   d->has_release);
	}
}

/*
 * References of the channel's holders: @leaked, those reported
 * leaked-reference (holder gone, or held at the end); else those alive and
 * held longer than --min-age (long-held, not an error).
 */
static uint64_t holder_refs(const struct engine *e, size_t ci, const struct prom_opts *o,
			    bool leaked)
{
	uint64_t n = 0;
	size_t j;

	for (j = 0; j < engine__nr_holders(e); j++) {
		const struct engine_holder *h = engine__holder(e, j);

		if (h->channel != ci)
			continue;
		if (leaked ? h->reported :
		    !h->reported && (h->long_held || (o->now_ns && o->now_ns >= h->who.ts_ns &&
						      o->now_ns - h->who.ts_ns >= o->min_age_ns)))
			n += h->refs;
	}
	return n;
}

enum chan_metric {
	CM_CLIENTS, CM_HELD, CM_PREDATING, CM_LEAKED, CM_LONG_HELD, CM_GETS, CM_FAILED, CM_PUTS,
	CM_NOOP, CM_MAX
};

static const struct {
	const char *name, *type, *help;
} chan_metrics[CM_MAX] = {
	[CM_CLIENTS] = { "dmarefwatch_channel_clients", "gauge",
		"The channel's client_count (sysfs in_use) last read from the kernel." },
	[CM_HELD] = { "dmarefwatch_channel_held_references", "gauge",
		"References of the channel attributed to a traced get (a known holder)." },
	[CM_PREDATING] = { "dmarefwatch_channel_predating_references", "gauge",
		"References of the channel taken before tracing started (not judged)." },
	[CM_LEAKED] = { "dmarefwatch_channel_leaked_references", "gauge",
		"References of the channel whose holder is gone (leaked-reference)." },
	[CM_LONG_HELD] = { "dmarefwatch_channel_long_held_references", "gauge",
		"References of the channel held longer than --min-age by a holder still "
		"alive (long-held-reference, not an error)." },
	[CM_GETS] = { "dmarefwatch_channel_gets_total", "counter",
		"Successful dma_chan_get() calls on the channel seen while tracing." },
	[CM_FAILED] = { "dmarefwatch_channel_failed_gets_total", "counter",
		"dma_chan_get() calls on the channel that returned an error." },
	[CM_PUTS] = { "dmarefwatch_channel_puts_total", "counter",
		"dma_chan_put() calls that dropped a reference of the channel." },
	[CM_NOOP] = { "dmarefwatch_channel_unbalanced_puts_total", "counter",
		"dma_chan_put() calls on the channel with client_count already 0." },
};

static void write_channels(FILE *f, const struct engine *e, const struct prom_opts *o)
{
	size_t i, n = engine__nr_channels(e);
	int m;

	for (m = 0; m < CM_MAX; m++) {
		family(f, chan_metrics[m].name, chan_metrics[m].type, chan_metrics[m].help);
		for (i = 0; i < n; i++) {
			const struct engine_channel *c = engine__channel(e, i);
			const struct snapshot_channel *tc;
			char buf[FINDING_NAME_LEN];
			struct label l[] = {
				{ "channel", c->name },
				{ "device", chan_device(e, c, buf, sizeof(buf)) },
			};
			long long v = -1;

			if (!channel_shown(e, i))
				continue;
			switch (m) {
			case CM_CLIENTS:
				tc = truth_chan(o, c);
				v = tc && tc->client_count >= 0 ? tc->client_count
								: c->client_count;
				break;
			case CM_HELD:
				v = c->held;
				break;
			case CM_PREDATING:
				v = c->predating;
				break;
			case CM_LEAKED:
				v = (long long)holder_refs(e, i, o, true);
				break;
			case CM_LONG_HELD:
				v = (long long)holder_refs(e, i, o, false);
				break;
			case CM_GETS:
				v = (long long)c->gets;
				break;
			case CM_FAILED:
				v = (long long)c->failed_gets;
				break;
			case CM_PUTS:
				v = (long long)c->puts;
				break;
			case CM_NOOP:
				v = (long long)c->noop_puts;
				break;
			}
			if (v >= 0)
				sample_int(f, chan_metrics[m].name, l, NLABELS(l), v);
		}
	}
}

static void write_findings(FILE *f, const struct engine *e)
{
	uint64_t count[FINDING_KIND_MAX][2] = { { 0 } };
	size_t i;
	int k, supp;

	for (i = 0; i < engine__nr_findings(e); i++) {
		const struct finding *fd = engine__finding(e, i);

		if (fd->kind < FINDING_KIND_MAX)
			count[fd->kind][!!fd->suppressed[0]] += fd->count ? fd->count : 1;
	}
	for (supp = 0; supp < 2; supp++) {
		const char *name = supp ? "dmarefwatch_findings_suppressed_total"
					: "dmarefwatch_findings_total";

		family(f, name, "counter", supp ?
		       "Findings matched by a suppression, by kind and severity." :
		       "Findings (incidents, repeats included) not suppressed, by kind "
		       "and severity.");
		for (k = 0; k < FINDING_KIND_MAX; k++) {
			struct label l[] = {
				{ "kind", finding_kind_name((enum finding_kind)k) },
				{ "severity", finding_severity_name(
					finding_kind_severity((enum finding_kind)k)) },
			};

			sample_int(f, name, l, NLABELS(l), (long long)count[k][supp]);
		}
	}
}

enum hook_count { HC_HITS, HC_LOST, HC_LEDGER_FULL, HC_STACK_FAILED, HC_MAP_FAILED, HC_SENT };

/* One counter family per hook that has a mode, from the engine's hook counters. */
static void hook_counter(FILE *f, const struct engine *e, const char *name, const char *help,
			 enum hook_count which)
{
	int h;

	family(f, name, "counter", help);
	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		const struct engine_hook *hk = engine__hook(e, (enum dmarw_hook)h);
		struct label l[] = { { "hook", rw_hook_name((enum dmarw_hook)h) } };
		const uint64_t v[] = { hk->hits, hk->lost, hk->ledger_full, hk->stack_failed,
				       hk->map_failed, hk->sent };

		if (hk->mode != RW_HOOK_UNSET)
			sample_int(f, name, l, 1, (long long)v[which]);
	}
}

static void write_hooks(FILE *f, const struct engine *e)
{
	static const enum rw_hook_mode modes[] = {
		RW_HOOK_FENTRY, RW_HOOK_KPROBE, RW_HOOK_TRACEPOINT, RW_HOOK_UNAVAILABLE,
	};
	int h;
	size_t m;

	family(f, "dmarefwatch_hook_mode", "gauge",
	       "1 for the way each kernel function is hooked: fentry, kprobe, tracepoint "
	       "or unavailable.");
	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		const struct engine_hook *hk = engine__hook(e, (enum dmarw_hook)h);

		if (hk->mode == RW_HOOK_UNSET)
			continue;
		for (m = 0; m < NLABELS(modes); m++) {
			struct label l[] = {
				{ "hook", rw_hook_name((enum dmarw_hook)h) }, { "mode", rw_hook_mode_name(modes[m]) },
			};

			sample_int(f, "dmarefwatch_hook_mode", l, NLABELS(l),
				   hk->mode == modes[m]);
		}
	}
	hook_counter(f, e, "dmarefwatch_hook_events_total",
		     "Times each hooked kernel function ran (events produced).", HC_HITS);
	hook_counter(f, e, "dmarefwatch_hook_events_lost_total",
		     "Events of each hook lost because the ring buffer was full.", HC_LOST);
	hook_counter(f, e, "dmarefwatch_ledger_full_total",
		     "References each hook could not store in the reference ledger (full): "
		     "held by an unknown holder.", HC_LEDGER_FULL);
	hook_counter(f, e, "dmarefwatch_stack_failures_total",
		     "Kernel stacks each hook could not take (bpf_get_stack() failed).",
		     HC_STACK_FAILED);
	hook_counter(f, e, "dmarefwatch_map_update_failures_total",
		     "BPF map updates of each hook that failed (other than a full ledger).",
		     HC_MAP_FAILED);
	hook_counter(f, e, "dmarefwatch_hook_records_total",
		     "Records each hook submitted to the ring buffer.", HC_SENT);
}

static void write_stats(FILE *f, const struct engine *e)
{
	const struct engine_stats *st = engine__stats(e);
	uint64_t unknown = 0;
	size_t i;
	int t;

	family(f, "dmarefwatch_events_total", "counter",
	       "Events analysed, by event type.");
	for (t = 1; t < DMARW_EV_MAX; t++) {
		struct label l[] = { { "event", rw_event_type_name((enum dmarw_event_type)t) } };

		if (t == DMARW_EV_SNAP_DEVICE || t == DMARW_EV_SNAP_CHAN)
			continue;
		sample_int(f, "dmarefwatch_events_total", l, 1, (long long)st->by_type[t]);
	}
	family(f, "dmarefwatch_events_lost_total", "counter",
	       "Events lost in all (ring buffer full); the gauges stay exact.");
	sample_int(f, "dmarefwatch_events_lost_total", NULL, 0, (long long)st->lost);
	family(f, "dmarefwatch_holders", "gauge",
	       "Channel references now attributed to a traced get (outstanding holders).");
	sample_int(f, "dmarefwatch_holders", NULL, 0, (long long)engine__nr_holders(e));
	family(f, "dmarefwatch_references_unknown_holder", "gauge",
	       "Channel references the kernel counts whose get the reference ledger could not "
	       "record (full): their holder is unknown.");
	for (i = 0; i < engine__nr_channels(e); i++)
		unknown += engine__channel(e, i)->unknown;
	sample_int(f, "dmarefwatch_references_unknown_holder", NULL, 0, (long long)unknown);
	family(f, "dmarefwatch_ledger_reads_total", "counter",
	       "Reads of the reference ledger (the BPF map of outstanding references).");
	sample_int(f, "dmarefwatch_ledger_reads_total", NULL, 0, (long long)st->ledger_loads);
}

int prometheus__write(FILE *f, const struct engine *e, const struct prom_opts *o)
{
	struct label bl[] = {
		{ "version", o->version ? o->version : "" },
		{ "kernel", o->kernel ? o->kernel : "" },
	};

	family(f, "dmarefwatch_build_info", "gauge",
	       "Always 1; the dmarefwatch version and the kernel it watches.");
	sample_int(f, "dmarefwatch_build_info", bl, NLABELS(bl), 1);
	if (o->start_time_s > 0) {
		family(f, "dmarefwatch_start_time_seconds", "gauge",
		       "When tracing started, seconds since the epoch.");
		sample_dbl(f, "dmarefwatch_start_time_seconds", NULL, 0, o->start_time_s);
	}
	if (o->now_s > 0) {
		family(f, "dmarefwatch_last_update_timestamp_seconds", "gauge",
		       "When this file was written, seconds since the epoch.");
		sample_dbl(f, "dmarefwatch_last_update_timestamp_seconds", NULL, 0, o->now_s);
	}
	write_devices(f, e, o);
	write_channels(f, e, o);
	write_findings(f, e);
	write_hooks(f, e);
	write_stats(f, e);
	return ferror(f) ? -EIO : 0;
}

int prometheus__check_path(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file; only a regular file is replaced",
			 path);
		return -1;
	}
	return output_path_ok(path, err, errlen);
}

int prometheus__write_file(const char *path, const struct engine *e,
			   const struct prom_opts *o, char *err, size_t errlen)
{
	const char *base;
	char *tmp = NULL;
	FILE *f = NULL;
	struct stat st;
	int fd = -1, ret;

	/* replace only a regular file: never a device node, a FIFO or a symlink */
	if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file; only a regular file is replaced",
			 path);
		return -EEXIST;
	}
	base = strrchr(path, '/');
	/* ".NAME.tmp.XXXXXX" beside NAME: same file system, not "*.prom" */
	if (asprintf(&tmp, "%.*s.%s.tmp.XXXXXX", base ? (int)(base - path + 1) : 0, path,
		     base ? base + 1 : path) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create a temporary file for %s: %s", path,
			 strerror(errno));
		goto out_free;
	}
	if (fchmod(fd, 0644)) {
		ret = -errno;
		snprintf(err, errlen, "chmod %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	ret = prometheus__write(f, e, o);
	if (fflush(f) || ret)
		ret = -EIO;
	else if (fsync(fileno(f)))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -EIO;
	f = NULL;
	if (ret) {
		snprintf(err, errlen, "writing %s: %s", tmp, strerror(-ret));
		goto out_unlink;
	}
	/* the path may have changed while the metrics were written */
	if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		ret = -EEXIST;
		snprintf(err, errlen, "%s: not a regular file; only a regular file is replaced",
			 path);
		goto out_unlink;
	}
	if (rename(tmp, path)) {
		ret = -errno;
		snprintf(err, errlen, "rename %s to %s: %s", tmp, path, strerror(errno));
		goto out_unlink;
	}
	ret = 0;
	goto out_free;
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out_free:
	free(tmp);
	return ret;
}
