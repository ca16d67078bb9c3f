/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * JSON report (schema REPORT_SCHEMA): findings, devices, channels, stats.
 * Field names are documented in docs/findings.md.
 */
#include <errno.h>
#include <string.h>
#include "engine.h"
#include "event_print.h"
#include "json_writer.h"
#include "report.h"
#include "suppress.h"

static void json_holder(struct json_writer *jw, const struct finding_holder *h)
{
	jsonw__start_object(jw);
	jsonw__uint_field(jw, "pid", h->pid);
	jsonw__uint_field(jw, "tgid", h->tgid);
	jsonw__string_field(jw, "comm", h->comm);
	jsonw__string_field(jw, "module", h->module);
	jsonw__string_field(jw, "function", h->function);
	jsonw__string_field(jw, "client", h->client);
	jsonw__string_field(jw, "client_driver", h->client_drv);
	jsonw__uint_field(jw, "ts_ns", h->ts_ns);
	jsonw__name(jw, "stack");
	event_print__json_frames(jw, h->frames, h->nr_frames);
	jsonw__end_object(jw);
}

void report__json_finding(struct json_writer *jw, const struct finding *fd,
			  enum finding_severity fail_on)
{
	jsonw__start_object(jw);
	jsonw__string_field(jw, "kind", finding_kind_name(fd->kind));
	jsonw__string_field(jw, "severity", finding_severity_name(fd->severity));
	jsonw__bool_field(jw, "fails", finding__fails(fd, fail_on));
	jsonw__name(jw, "suppressed");
	if (fd->suppressed[0])
		jsonw__string(jw, fd->suppressed);
	else
		jsonw__bool(jw, false);
	jsonw__uint_field(jw, "ts_ns", fd->ts_ns);
	jsonw__string_field(jw, "device", fd->device);
	jsonw__string_field(jw, "dev_name", fd->dev_name);
	jsonw__string_field(jw, "drv_name", fd->drv_name);
	jsonw__name(jw, "channel");
	if (fd->channel[0])
		jsonw__string(jw, fd->channel);
	else
		jsonw__null(jw);
	jsonw__name(jw, "holder");
	if (fd->holder.valid)
		json_holder(jw, &fd->holder);
	else
		jsonw__null(jw);
	jsonw__uint_field(jw, "age_ns", fd->age_ns);
	jsonw__double_field(jw, "age_s", (double)fd->age_ns / 1e9);
	jsonw__uint_field(jw, "references", fd->refs);
	jsonw__uint_field(jw, "count", fd->count);
	jsonw__name(jw, "related");
	if (fd->related.valid) {
		jsonw__start_object(jw);
		jsonw__string_field(jw, "what", fd->related_what);
		jsonw__name(jw, "task");
		json_holder(jw, &fd->related);
		jsonw__end_object(jw);
	} else {
		jsonw__null(jw);
	}
	jsonw__string_field(jw, "evidence", fd->evidence);
	jsonw__end_object(jw);
}

/* "ledger": the reference ledger's reads and what the BPF side lost, summed */
static void json_ledger_stats(struct json_writer *jw, const struct engine *e)
{
	const struct engine_stats *st = engine__stats(e);
	struct ledger_losses sum;
	uint64_t sent = 0, unknown = 0;
	size_t i;

	engine__hook_losses(e, &sum);
	for (i = 0; i < DMARW_HOOK_MAX; i++)
		sent += engine__hook(e, (enum dmarw_hook)i)->sent;
	for (i = 0; i < engine__nr_channels(e); i++)
		unknown += engine__channel(e, i)->unknown;
	jsonw__name(jw, "ledger");
	jsonw__start_object(jw);
	jsonw__uint_field(jw, "reads", st->ledger_loads);
	jsonw__uint_field(jw, "holders_released", st->ledger_released);
	jsonw__uint_field(jw, "gets_not_recorded", st->ledger_lost);
	jsonw__uint_field(jw, "references_unknown_holder", unknown);
	jsonw__uint_field(jw, "ledger_full", sum.ledger_full);
	jsonw__uint_field(jw, "stack_failed", sum.stack_failed);
	jsonw__uint_field(jw, "map_failed", sum.map_failed);
	jsonw__uint_field(jw, "sent", sent);
	jsonw__end_object(jw);
}

void report__json_stats(struct json_writer *jw, const struct engine *e,
			enum finding_severity fail_on)
{
	const struct engine_stats *st = engine__stats(e);
	int i;

	jsonw__start_object(jw);
	jsonw__uint_field(jw, "events", st->events);
	jsonw__name(jw, "events_by_type");
	jsonw__start_object(jw);
	for (i = 1; i < DMARW_EV_MAX; i++)
		jsonw__uint_field(jw, rw_event_type_name((enum dmarw_event_type)i),
				  st->by_type[i]);
	jsonw__end_object(jw);
	jsonw__uint_field(jw, "events_lost", st->lost);
	jsonw__uint_field(jw, "events_unknown", st->bad_events);
	jsonw__uint_field(jw, "allocation_failures", st->alloc_failures);
	jsonw__uint_field(jw, "references_predating_tracing", st->predating);
	jsonw__uint_field(jw, "references_dropped_unseen", st->unattributed_drops);
	jsonw__uint_field(jw, "holders_gone", st->holders_gone);
	jsonw__uint_field(jw, "holders_outstanding", engine__nr_holders(e));
	jsonw__uint_field(jw, "findings", engine__nr_findings(e));
	jsonw__uint_field(jw, "failing", engine__nr_failing(e, fail_on));
	jsonw__uint_field(jw, "suppressed", engine__nr_suppressed(e));
	jsonw__name(jw, "snapshot");
	if (st->snapshot_loaded)
		jsonw__string(jw, st->snapshot_source);
	else
		jsonw__null(jw);
	jsonw__uint_field(jw, "first_ts_ns", st->first_ts_ns);
	jsonw__uint_field(jw, "last_ts_ns", st->last_ts_ns);
	jsonw__name(jw, "hooks");
	jsonw__start_array(jw);
	for (i = 0; i < DMARW_HOOK_MAX; i++) {
		const struct engine_hook *h = engine__hook(e, (enum dmarw_hook)i);

		jsonw__start_object(jw);
		jsonw__string_field(jw, "hook", rw_hook_name((enum dmarw_hook)i));
		jsonw__name(jw, "mode");
		if (h->mode != RW_HOOK_UNSET)
			jsonw__string(jw, rw_hook_mode_name(h->mode));
		else
			jsonw__null(jw);
		jsonw__uint_field(jw, "hits", h->hits);
		jsonw__uint_field(jw, "lost", h->lost);
		jsonw__uint_field(jw, "ledger_full", h->ledger_full);
		jsonw__uint_field(jw, "stack_failed", h->stack_failed);
		jsonw__uint_field(jw, "map_failed", h->map_failed);
		jsonw__uint_field(jw, "sent", h->sent);
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
	json_ledger_stats(jw, e);
	jsonw__end_object(jw);
}

static void json_devices(struct json_writer *jw, const struct engine *e)
{
	size_t i;

	jsonw__start_array(jw);
	for (i = 0; i < engine__nr_devices(e); i++) {
		const struct engine_device *d = engine__device(e, i);

		jsonw__start_object(jw);
		jsonw__string_field(jw, "device", d->name);
		jsonw__int_field(jw, "dev_id", d->dev_id);
		jsonw__string_field(jw, "dev_name", d->dev_name);
		jsonw__string_field(jw, "drv_name", d->drv_name);
		jsonw__string_field(jw, "state", engine_dev_state_name(d->state));
		jsonw__name(jw, "kref");
		if (d->kref >= 0)
			jsonw__int(jw, d->kref);
		else
			jsonw__null(jw);
		jsonw__name(jw, "has_release");
		if (d->has_release >= 0)
			jsonw__bool(jw, d->has_release);
		else
			jsonw__null(jw);
		jsonw__bool_field(jw, "private", d->private_);
		jsonw__bool_field(jw, "predates_tracing", d->from_snapshot);
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
}

static void json_channels(struct json_writer *jw, const struct engine *e)
{
	const struct engine_stats *st = engine__stats(e);
	uint64_t now = st->finished ? st->finish_ts_ns : st->last_ts_ns;
	size_t i, j;

	jsonw__start_array(jw);
	for (i = 0; i < engine__nr_channels(e); i++) {
		const struct engine_channel *c = engine__channel(e, i);

		jsonw__start_object(jw);
		jsonw__string_field(jw, "channel", c->name);
		jsonw__string_field(jw, "device", c->device < engine__nr_devices(e) ?
				    engine__device(e, c->device)->name : "");
		jsonw__int_field(jw, "dev_id", c->dev_id);
		jsonw__int_field(jw, "chan_id", c->chan_id);
		jsonw__name(jw, "client_count");
		if (c->client_count >= 0)
			jsonw__int(jw, c->client_count);
		else
			jsonw__null(jw);
		jsonw__string_field(jw, "client_name", c->client_name);
		jsonw__uint_field(jw, "held", c->held);
		jsonw__uint_field(jw, "predating", c->predating);
		jsonw__uint_field(jw, "unknown", c->unknown);
		jsonw__uint_field(jw, "gets", c->gets);
		jsonw__uint_field(jw, "failed_gets", c->failed_gets);
		jsonw__uint_field(jw, "puts", c->puts);
		jsonw__uint_field(jw, "noop_puts", c->noop_puts);
		jsonw__name(jw, "holders");
		jsonw__start_array(jw);
		for (j = 0; j < engine__nr_holders(e); j++) {
			const struct engine_holder *h = engine__holder(e, j);

			if (h->channel != i)
				continue;
			jsonw__start_object(jw);
			jsonw__uint_field(jw, "pid", h->who.pid);
			jsonw__string_field(jw, "comm", h->who.comm);
			jsonw__string_field(jw, "module", h->who.module);
			jsonw__string_field(jw, "function", h->who.function);
			jsonw__uint_field(jw, "references", h->refs);
			jsonw__uint_field(jw, "since_ns", h->who.ts_ns);
			jsonw__uint_field(jw, "age_ns", now > h->who.ts_ns ? now - h->who.ts_ns : 0);
			jsonw__uint_field(jw, "ledger_id", h->ledger_id);
			jsonw__end_object(jw);
		}
		jsonw__end_array(jw);
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
}

int report__json(FILE *f, const struct engine *e, const struct report_opts *o)
{
	struct json_writer *jw = jsonw__new(f, o->pretty);
	size_t i;

	if (!jw)
		return -ENOMEM;
	jsonw__start_object(jw);
	jsonw__uint_field(jw, "schema", REPORT_SCHEMA);
	jsonw__string_field(jw, "tool", "dmarefwatch");
	if (o->kernel)
		jsonw__string_field(jw, "kernel", o->kernel);
	if (o->command)
		jsonw__string_field(jw, "command", o->command);
	if (o->holders_from)
		jsonw__string_field(jw, "holders_from", o->holders_from);
	jsonw__string_field(jw, "fail_on", finding_severity_name(o->fail_on));
	jsonw__string_field(jw, "result", engine__nr_failing(e, o->fail_on) ? "fail" : "pass");
	jsonw__name(jw, "findings");
	jsonw__start_array(jw);
	for (i = 0; i < engine__nr_findings(e); i++)
		report__json_finding(jw, engine__finding(e, i), o->fail_on);
	jsonw__end_array(jw);
	jsonw__name(jw, "devices");
	json_devices(jw, e);
	jsonw__name(jw, "channels");
	json_channels(jw, e);
	jsonw__name(jw, "stats");
	report__json_stats(jw, e, o->fail_on);
	jsonw__name(jw, "suppressions");
	jsonw__start_array(jw);
	for (i = 0; o->supp && i < suppress__count(o->supp); i++) {
		jsonw__start_object(jw);
		jsonw__string_field(jw, "name", suppress__name(o->supp, i));
		jsonw__uint_field(jw, "used", suppress__used(o->supp, i));
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
	jsonw__end_object(jw);
	jsonw__free(jw);
	return ferror(f) ? -EIO : 0;
}
