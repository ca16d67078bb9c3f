/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Event lines for `trace`.
 */
#include <string.h>
#include "event_print.h"
#include "finding.h"
#include "json_writer.h"

void event_print__header(FILE *f)
{
	fprintf(f, "%-12s %-3s %-16s %-15s %-20s %-12s %-9s %-11s %-4s %s\n", "TIME(s)",
		"CPU", "COMM", "PID/TID", "EVENT", "OBJECT", "CLIENTS", "KREF", "RET",
		"CALLER");
}

static void chan_name(const struct rw_event *ev, char *buf, size_t len)
{
	if (ev->chan_id >= 0 && ev->dev_id >= 0)
		snprintf(buf, len, "dma%dchan%d", ev->dev_id, ev->chan_id);
	else if (ev->dev_id >= 0)
		snprintf(buf, len, "dma%d", ev->dev_id);
	else
		snprintf(buf, len, "-");
}

static void count_pair(char *buf, size_t len, int32_t a, int32_t b)
{
	char x[16], y[16];

	if (a < 0 && b < 0) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(x, sizeof(x), a < 0 ? "?" : "%d", a);
	snprintf(y, sizeof(y), b < 0 ? "?" : "%d", b);
	snprintf(buf, len, "%s->%s", x, y);
}

void event_print__text(FILE *f, const struct rw_event *ev, uint64_t t0_ns, bool stack)
{
	char obj[48], cc[40], kref[40], task[32], cl[FINDING_CLIENT_STR_LEN];
	uint32_t i, nr = ev->nr_frames > DMARW_MAX_STACK ? DMARW_MAX_STACK : ev->nr_frames;
	int idx;
	double t = ev->ts_ns >= t0_ns ? (double)(ev->ts_ns - t0_ns) / 1e9 :
		   -(double)(t0_ns - ev->ts_ns) / 1e9;

	chan_name(ev, obj, sizeof(obj));
	count_pair(cc, sizeof(cc), ev->client_count_before, ev->client_count_after);
	if (ev->flags & DMARW_F_KREF_VALID)
		count_pair(kref, sizeof(kref), ev->kref_before, ev->kref_after);
	else
		snprintf(kref, sizeof(kref), "-");
	snprintf(task, sizeof(task), "%u/%u", ev->tgid, ev->pid);
	fprintf(f, "%12.6f %-3u %-16.16s %-15s %-20s %-12s %-9s %-11s %-4lld ", t, ev->cpu,
		ev->comm, task, rw_event_type_name(ev->type), obj, cc, kref,
		(long long)ev->ret);
	idx = finding_holder_frame(ev->frames, nr);
	if (idx >= 0)
		fprintf(f, "%.*s+0x%x [%.*s]", RW_FUNC_LEN, ev->frames[idx].func,
			ev->frames[idx].offset, RW_MODULE_LEN,
			ev->frames[idx].module[0] ? ev->frames[idx].module : "vmlinux");
	else
		fputs("-", f);
	if (ev->dev_name[0])
		fprintf(f, " (%.*s)", DMARW_NAME_LEN, ev->dev_name);
	if (ev->module[0])
		fprintf(f, " module %.*s", RW_MODULE_LEN, ev->module);
	fputs(finding_client_str(cl, sizeof(cl), ev->client, ev->client_drv), f);
	fputc('\n', f);
	if (!stack)
		return;
	for (i = 0; i < nr; i++)
		fprintf(f, "        %.*s+0x%x%s%.*s%s\n", RW_FUNC_LEN,
			ev->frames[i].func[0] ? ev->frames[i].func : "?",
			ev->frames[i].offset, ev->frames[i].module[0] ? " [" : "",
			RW_MODULE_LEN, ev->frames[i].module, ev->frames[i].module[0] ? "]" : "");
}

static void str_field(struct json_writer *jw, const char *name, const char *s, size_t max)
{
	jsonw__name(jw, name);
	jsonw__string_len(jw, s, strnlen(s, max));
}

void event_print__json_frames(struct json_writer *jw, const struct rw_frame *frames,
			      uint32_t nr)
{
	uint32_t i;

	if (nr > DMARW_MAX_STACK)
		nr = DMARW_MAX_STACK;
	jsonw__start_array(jw);
	for (i = 0; i < nr; i++) {
		jsonw__start_object(jw);
		str_field(jw, "func", frames[i].func, RW_FUNC_LEN);
		jsonw__uint_field(jw, "off", frames[i].offset);
		str_field(jw, "module", frames[i].module, RW_MODULE_LEN);
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
}

void event_print__json_fields(struct json_writer *jw, const struct rw_event *ev)
{
	jsonw__string_field(jw, "event", rw_event_type_name(ev->type));
	jsonw__string_field(jw, "hook", rw_hook_name(ev->hook));
	jsonw__uint_field(jw, "ts_ns", ev->ts_ns);
	jsonw__uint_field(jw, "cpu", ev->cpu);
	jsonw__uint_field(jw, "pid", ev->pid);
	jsonw__uint_field(jw, "tgid", ev->tgid);
	str_field(jw, "comm", ev->comm, DMARW_COMM_LEN);
	jsonw__uint_field(jw, "device", ev->device_key);
	jsonw__uint_field(jw, "chan", ev->chan_key);
	jsonw__int_field(jw, "dev_id", ev->dev_id);
	jsonw__int_field(jw, "chan_id", ev->chan_id);
	str_field(jw, "dev_name", ev->dev_name, DMARW_NAME_LEN);
	str_field(jw, "drv_name", ev->drv_name, DMARW_NAME_LEN);
	jsonw__int_field(jw, "ret", ev->ret);
	jsonw__int_field(jw, "client_count_before", ev->client_count_before);
	jsonw__int_field(jw, "client_count_after", ev->client_count_after);
	jsonw__int_field(jw, "kref_before", ev->kref_before);
	jsonw__int_field(jw, "kref_after", ev->kref_after);
	jsonw__uint_field(jw, "flags", ev->flags);
	jsonw__int_field(jw, "dev_in_use", ev->dev_in_use);
	if (ev->client[0]) {	/* dma_request_chan() and client-unbind events */
		str_field(jw, "client", ev->client, RW_CLIENT_LEN);
		str_field(jw, "client_driver", ev->client_drv, DMARW_NAME_LEN);
	}
	if (ev->client_key)
		jsonw__uint_field(jw, "client_device", ev->client_key);
	if (ev->module[0])	/* module-unload events */
		str_field(jw, "module", ev->module, RW_MODULE_LEN);
	/* the reference ledger (DMARW_F_LEDGER, dev-holder): only when set */
	if (ev->ledger_id)
		jsonw__uint_field(jw, "ledger_id", ev->ledger_id);
	if (ev->ledger_refs)
		jsonw__uint_field(jw, "ledger_refs", ev->ledger_refs);
	if (ev->flags & DMARW_F_PREV_RELEASE) {
		jsonw__name(jw, "prev");
		jsonw__start_object(jw);
		jsonw__uint_field(jw, "ts_ns", ev->prev.ts_ns);
		jsonw__uint_field(jw, "pid", ev->prev.pid);
		jsonw__uint_field(jw, "tgid", ev->prev.tgid);
		str_field(jw, "comm", ev->prev.comm, DMARW_COMM_LEN);
		jsonw__uint_field(jw, "holder_id", ev->prev.holder_id);
		jsonw__end_object(jw);
	}
	jsonw__name(jw, "stack");
	event_print__json_frames(jw, ev->frames, ev->nr_frames);
}

void event_print__json(struct json_writer *jw, const struct rw_event *ev)
{
	jsonw__start_object(jw);
	event_print__json_fields(jw, ev);
	jsonw__end_object(jw);
}
