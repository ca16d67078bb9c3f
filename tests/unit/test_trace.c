/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Recorded traces: a replay gives the live findings; bad files are refused
 * with the file, line and field. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "event_print.h"
#include "harness.h"
#include "helpers.h"
#include "json_parse.h"
#include "json_writer.h"
#include "report.h"
#include "snapshot.h"
#include "suppress.h"
#include "trace_file.h"

#define S	1000000000ull

/* ---- JSON parser ---- */

static bool holder_eq(const struct finding_holder *a, const struct finding_holder *b)
{
	uint32_t i;

	if (a->valid != b->valid || a->pid != b->pid || a->tgid != b->tgid ||
	    strcmp(a->comm, b->comm) || strcmp(a->module, b->module) ||
	    strcmp(a->function, b->function) || a->ts_ns != b->ts_ns ||
	    strcmp(a->client, b->client) || strcmp(a->client_drv, b->client_drv) ||
	    a->nr_frames != b->nr_frames)
		return false;
	for (i = 0; i < a->nr_frames; i++)
		if (strcmp(a->frames[i].func, b->frames[i].func) ||
		    strcmp(a->frames[i].module, b->frames[i].module) ||
		    a->frames[i].offset != b->frames[i].offset)
			return false;
	return true;
}

/* NULL if equal, else which field differs */
static const char *finding_diff(const struct finding *a, const struct finding *b)
{
	if (a->kind != b->kind)
		return "kind";
	if (a->severity != b->severity)
		return "severity";
	if (a->ts_ns != b->ts_ns)
		return "ts_ns";
	if (a->dev_id != b->dev_id || a->chan_id != b->chan_id)
		return "dev_id/chan_id";
	if (strcmp(a->device, b->device) || strcmp(a->channel, b->channel))
		return "device/channel";
	if (strcmp(a->dev_name, b->dev_name) || strcmp(a->drv_name, b->drv_name))
		return "dev_name/drv_name";
	if (!holder_eq(&a->holder, &b->holder))
		return "holder";
	if (a->age_ns != b->age_ns)
		return "age_ns";
	if (a->refs != b->refs || a->count != b->count)
		return "refs/count";
	if (strcmp(a->related_what, b->related_what) || !holder_eq(&a->related, &b->related))
		return "related";
	if (strcmp(a->evidence, b->evidence))
		return "evidence";
	if (strcmp(a->suppressed, b->suppressed))
		return "suppressed";
	return NULL;
}

struct dual {
	struct engine *e;
	struct trace_writer *tw;
};

static void dfeed(struct dual *d, struct rw_event ev)
{
	/* kernel-looking keys: the writer must renumber them */
	if (ev.device_key)
		ev.device_key |= 0xffff888000000000ull;
	if (ev.chan_key)
		ev.chan_key |= 0xffff888000000000ull;
	engine__feed(d->e, &ev);
	trace_writer__event(d->tw, &ev);
}

/* A run touching every finding kind, a snapshot, hooks, lost events. */
static void rich_run(struct dual *d)
{
	struct snapshot *snap = snapshot__new("sysfs"), *fin = snapshot__new("bpf");
	struct snapshot_device sd = { .dev_id = 5, .kref = -1, .has_release = 0,
				      .state = DMARW_DEV_REGISTERED };
	struct snapshot_channel sc = { .dev_id = 5, .chan_id = 0, .client_count = 1 };
	struct snapshot_channel fc = { .chan_key = 0, .dev_id = 1, .chan_id = 0,
				       .client_count = 1 };
	struct rw_event ev;
	int h;

	snprintf(sd.dev_name, sizeof(sd.dev_name), "old \"dma\"\\0");
	snprintf(sc.client_name, sizeof(sc.client_name), "spi0");
	snapshot__add_device(snap, &sd);
	snapshot__add_channel(snap, &sc);
	engine__load_snapshot(d->e, snap, 1 * S);
	trace_writer__snapshot(d->tw, snap, 1 * S);
	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		enum rw_hook_mode mode = h == DMARW_HOOK_DEV_RELEASE ? RW_HOOK_UNAVAILABLE :
									 RW_HOOK_KPROBE;

		engine__set_hook(d->e, (enum dmarw_hook)h, mode, (uint64_t)h * 3, 0);
		trace_writer__hook(d->tw, (enum dmarw_hook)h, mode, (uint64_t)h * 3, 0);
	}
	/* dma0: registered without release callback, double release */
	ev = ev_register(2 * S, 0, false);
	ev_kref(&ev, -1, 1);
	dfeed(d, ev);
	ev = ev_get(2 * S + 10, 0, 1, 0, 1);
	ev_kref(&ev, 1, 2);
	ev_task(&ev, 77, "t\xe9st\ncomm");
	dfeed(d, ev);
	ev = ev_release(2 * S + 20, 0, 1, 1);
	dfeed(d, ev);
	ev = ev_put(2 * S + 21, 0, 1, 1, 0);
	ev_kref(&ev, 2, 1);
	dfeed(d, ev);
	dfeed(d, ev_release(2 * S + 30, 0, 1, 0));
	dfeed(d, ev_put(2 * S + 31, 0, 1, 0, 0));
	/* dma1: old kernel kref underflow, leak, unregister with users */
	ev = ev_register(3 * S, 1, true);
	ev_kref(&ev, -1, 1);
	dfeed(d, ev);
	ev = ev_get(3 * S + 1, 1, 0, 0, 1);
	ev_kref(&ev, 1, 2);
	dfeed(d, ev);
	ev = ev_make(DMARW_EV_REQUEST_CHAN, 3 * S + 1, 1, 0);
	snprintf(ev.client, sizeof(ev.client), "spi0.0:\"tx\"");
	snprintf(ev.client_drv, sizeof(ev.client_drv), "spi-bcm2835");
	dfeed(d, ev);
	ev = ev_get(3 * S + 2, 1, 0, 1, 2);
	ev_caller(&ev, "other_probe", "other");
	ev_kref(&ev, 2, 2);
	dfeed(d, ev);
	ev = ev_put(3 * S + 3, 1, 0, 2, 1);
	ev_caller(&ev, "other_remove", "other");
	ev_kref(&ev, 2, 1);
	dfeed(d, ev);
	ev = ev_get(3 * S + 4, 1, 2, 0, 0);
	ev.ret = -ENOMEM;
	dfeed(d, ev);
	dfeed(d, ev_unreg_begin(4 * S, 1, 1, 1));
	ev = ev_get(4 * S + 1, 1, 3, 0, 1);
	dfeed(d, ev);
	ev = ev_unreg_end(4 * S + 2, 1);
	ev_kref(&ev, 2, 1);
	dfeed(d, ev);
	ev = ev_make(DMARW_EV_DMAENGINE_GET, 4 * S + 3, -1, -1);
	dfeed(d, ev);
	engine__add_lost(d->e, 3);
	trace_writer__lost(d->tw, 3);
	engine__scan(d->e, 5 * S, 1 * S);
	trace_writer__scan(d->tw, 5 * S, 1 * S);
	fc.device_key = 0;
	snapshot__add_channel(fin, &fc);
	engine__finish(d->e, 9 * S, fin);
	trace_writer__finish(d->tw, 9 * S, fin);
	snapshot__free(snap);
	snapshot__free(fin);
}

TEST(trace_replay_equals_live)
{
	char path[256], err[512];
	struct dual d = { 0 };
	struct engine *r = engine__new();
	struct trace_info info;
	size_t i, kinds = 0, clients = 0;
	bool seen[FINDING_KIND_MAX] = { false };
	char *text = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int ret;

	tmp_path(path, sizeof(path), "replay");
	d.e = engine__new();
	d.tw = trace_writer__open(path, "6.1.0-test", err, sizeof(err));
	CHECK(d.tw, "open: %s", err);
	rich_run(&d);
	ret = trace_writer__close(d.tw, err, sizeof(err));
	CHECK(!ret, "close: %s", err);
	ret = trace_file__replay_info(path, r, &info, err, sizeof(err));
	CHECK(!ret, "replay: %s", err);
	CHECK(info.finished, "finish line not seen");
	CHECK_STR(info.kernel, "6.1.0-test");
	CHECK_INT(engine__nr_findings(r), engine__nr_findings(d.e));
	for (i = 0; i < engine__nr_findings(d.e); i++) {
		const char *diff = finding_diff(engine__finding(d.e, i), engine__finding(r, i));

		CHECK(!diff, "finding %zu (%s) differs in %s", i,
		      finding_kind_name(engine__finding(d.e, i)->kind), diff);
		seen[engine__finding(d.e, i)->kind] = true;
		clients += !strcmp(engine__finding(r, i)->holder.client, "spi0.0:\"tx\"");
	}
	CHECK(clients > 0, "no finding names the client of dma1chan0");
	for (i = 0; i < FINDING_KIND_MAX; i++)
		kinds += seen[i];
	CHECK(kinds >= 8, "rich run produced only %zu finding kinds", kinds);
	CHECK_INT(engine__nr_devices(r), engine__nr_devices(d.e));
	CHECK_INT(engine__nr_channels(r), engine__nr_channels(d.e));
	CHECK_INT(engine__nr_holders(r), engine__nr_holders(d.e));
	for (i = 0; i < engine__nr_channels(r); i++) {
		CHECK_STR(engine__channel(r, i)->name, engine__channel(d.e, i)->name);
		CHECK_INT(engine__channel(r, i)->client_count, engine__channel(d.e, i)->client_count);
		CHECK_INT(engine__channel(r, i)->predating, engine__channel(d.e, i)->predating);
	}
	CHECK_INT(engine__stats(r)->events, engine__stats(d.e)->events);
	CHECK_INT(engine__stats(r)->lost, engine__stats(d.e)->lost);
	CHECK_INT(engine__stats(r)->predating, engine__stats(d.e)->predating);
	CHECK_STR(rw_hook_mode_name(engine__hook(r, DMARW_HOOK_DEV_RELEASE)->mode), "unavailable");
	CHECK_INT(engine__hook(r, DMARW_HOOK_DMAENGINE_PUT)->hits, 27);
	/* no kernel address in the file */
	f = fopen(path, "r");
	CHECK(f, "reopen");
	text = malloc(1 << 20);
	CHECK(text, "oom");
	len = fread(text, 1, (1 << 20) - 1, f);
	text[len] = '\0';
	CHECK(!strstr(text, "18446612"), "a kernel address reached the trace file");
	CHECK(!strncmp(text, "{\"dmarefwatch_trace\":3,\"kernel\":\"6.1.0-test\"", 43),
	      "header: %.60s", text);
out:
	if (f)
		fclose(f);
	free(text);
	unlink(path);
	engine__free(d.e);
	engine__free(r);
}

static const char good_header[] = "{\"dmarefwatch_trace\":1,\"kernel\":\"6.1\"}\n";
static const char good_event[] =
	"{\"type\":\"event\",\"event\":\"chan-get\",\"hook\":\"dma_chan_get\",\"ts_ns\":5,"
	"\"cpu\":0,\"pid\":1,\"tgid\":1,\"comm\":\"x\",\"device\":1,\"chan\":2,\"dev_id\":0,"
	"\"chan_id\":0,\"dev_name\":\"\",\"drv_name\":\"\",\"ret\":0,"
	"\"client_count_before\":0,\"client_count_after\":1,\"kref_before\":-1,"
	"\"kref_after\":-1,\"flags\":0,\"stack\":[{\"func\":\"f\",\"off\":1,\"module\":\"\"}]}\n";

TEST(trace_replay_rejects_bad_input)
{
	static const struct {
		const char *name;
		const char *body;	/* after the header unless it starts with '!' */
		const char *msg;
		int line;
	} cases[] = {
		{ "empty", "!", "empty file", 0 },
		{ "not json", "!hello\n", "unexpected character", 1 },
		{ "no header", "!{\"type\":\"lost\",\"count\":1}\n", "no \"dmarefwatch_trace\"", 1 },
		{ "version", "!{\"dmarefwatch_trace\":4,\"kernel\":\"x\"}\n",
		  "unsupported trace version 4 (this build reads 1 to 3)", 1 },
		{ "ledger in v1", "{\"type\":\"ledger\",\"now_ns\":1,\"entries\":[]}\n",
		  "\"ledger\" line in a version 1 trace", 2 },
		{ "ledger-entry in v1", "{\"type\":\"ledger-entry\"}\n",
		  "\"ledger-entry\" line in a version 1 trace", 2 },
		{ "header not object", "![1]\n", "must be a JSON object", 1 },
		{ "header kernel type", "!{\"dmarefwatch_trace\":1,\"kernel\":5}\n",
		  "\"kernel\" must be a string", 1 },
		{ "unknown type", "{\"type\":\"bogus\"}\n", "unknown line type \"bogus\"", 2 },
		{ "missing type", "{\"count\":1}\n", "missing field \"type\"", 2 },
		{ "missing field", "{\"type\":\"lost\"}\n", "missing field \"count\"", 2 },
		{ "wrong type", "{\"type\":\"lost\",\"count\":\"3\"}\n",
		  "\"count\" must be a number, got string", 2 },
		{ "negative count", "{\"type\":\"lost\",\"count\":-3}\n", "must be an integer", 2 },
		{ "truncated", "{\"type\":\"event\",\"event\":\"chan-g\n{}\n", "unterminated string", 2 },
		{ "blank line", "\n", "unexpected end of input", 2 },
		{ "unknown event",
		  "{\"type\":\"event\",\"event\":\"chan-steal\",\"hook\":\"dma_chan_get\"}\n",
		  "unknown event \"chan-steal\"", 2 },
		{ "unknown hook", "{\"type\":\"hook\",\"hook\":\"x\",\"mode\":\"fentry\","
		  "\"hits\":0,\"lost\":0}\n", "unknown hook \"x\"", 2 },
		{ "bad mode", "{\"type\":\"hook\",\"hook\":\"dma_chan_get\",\"mode\":\"uprobe\","
		  "\"hits\":0,\"lost\":0}\n", "unknown hook mode", 2 },
		{ "after finish", "{\"type\":\"finish\",\"now_ns\":1,\"final\":null}\n"
		  "{\"type\":\"lost\",\"count\":1}\n", "after the finish line", 3 },
		{ "final type", "{\"type\":\"finish\",\"now_ns\":1,\"final\":3}\n",
		  "\"final\" must be an object or null", 2 },
		{ "snapshot devices", "{\"type\":\"snapshot\",\"now_ns\":1,\"source\":\"sysfs\","
		  "\"devices\":{},\"channels\":[]}\n", "\"devices\" must be an array", 2 },
		{ "snapshot state", "{\"type\":\"snapshot\",\"now_ns\":1,\"source\":\"bpf\","
		  "\"devices\":[{\"device\":1,\"dev_id\":0,\"dev_name\":\"\",\"drv_name\":\"\","
		  "\"kref\":1,\"has_release\":1,\"state\":9}],\"channels\":[]}\n",
		  "unknown state 9", 2 },
		{ "has_release range", "{\"type\":\"snapshot\",\"now_ns\":1,\"source\":\"bpf\","
		  "\"devices\":[{\"device\":1,\"dev_id\":0,\"dev_name\":\"\",\"drv_name\":\"\","
		  "\"kref\":1,\"has_release\":2,\"state\":1}],\"channels\":[]}\n",
		  "\"has_release\" must be an integer in -1..1", 2 },
	};
	char path[256], err[512];
	struct engine *e = NULL;
	size_t i;

	tmp_path(path, sizeof(path), "bad");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[300], *data;
		const char *body = cases[i].body;
		size_t len;
		int ret;

		if (body[0] == '!') {
			data = strdup(body + 1);
		} else {
			data = malloc(strlen(good_header) + strlen(body) + 1);
			if (data)
				sprintf(data, "%s%s", good_header, body);
		}
		CHECK(data, "oom");
		len = strlen(data);
		ret = write_file(path, data, len);
		free(data);
		CHECK(!ret, "write %s", path);
		e = engine__new();
		err[0] = '\0';
		ret = trace_file__replay(path, e, err, sizeof(err));
		engine__free(e);
		e = NULL;
		CHECK(ret < 0, "case '%s' accepted", cases[i].name);
		CHECK(strstr(err, cases[i].msg), "case '%s': message '%s', expected '%s'",
		      cases[i].name, err, cases[i].msg);
		if (cases[i].line)
			snprintf(want, sizeof(want), "%s:%d: ", path, cases[i].line);
		else
			snprintf(want, sizeof(want), "%s: ", path);
		CHECK(!strncmp(err, want, strlen(want)), "case '%s': message '%s' does not "
		      "start with '%s'", cases[i].name, err, want);
	}
out:
	engine__free(e);
	unlink(path);
}

TEST(trace_replay_field_errors_name_the_field)
{
	static const struct {
		const char *from, *to, *msg;
	} cases[] = {
		{ "\"cpu\":0", "\"cpu\":-1", "\"cpu\" must be an integer in 0..4294967295" },
		{ "\"comm\":\"x\"", "\"comm\":\"0123456789abcdefXYZ\"", "\"comm\" longer than 15" },
		{ "\"dev_id\":0", "\"dev_id\":2147483648", "\"dev_id\" must be an integer" },
		{ "\"ts_ns\":5", "\"ts_ns\":5.5", "\"ts_ns\" must be an integer" },
		{ "\"ret\":0", "\"ret\":true", "\"ret\" must be a number, got boolean" },
		{ "\"stack\":[", "\"stack\":[3,", "stack[0] must be an object" },
		{ "\"off\":1", "\"off\":null", "\"off\" must be a number, got null" },
		{ "\"flags\":0,", "", "missing field \"flags\"" },
	};
	char path[256], err[512], line[2048], want[600];
	struct engine *e = NULL;
	size_t i;

	tmp_path(path, sizeof(path), "field");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *at = strstr(good_event, cases[i].from);
		int ret;

		CHECK(at, "case %zu: pattern not in the good event", i);
		snprintf(line, sizeof(line), "%s%.*s%s%s", good_header, (int)(at - good_event),
			 good_event, cases[i].to, at + strlen(cases[i].from));
		CHECK(!write_file(path, line, strlen(line)), "write");
		e = engine__new();
		ret = trace_file__replay(path, e, err, sizeof(err));
		engine__free(e);
		e = NULL;
		CHECK(ret < 0, "case %zu accepted", i);
		snprintf(want, sizeof(want), "%s:2: ", path);
		CHECK(!strncmp(err, want, strlen(want)) && strstr(err, cases[i].msg),
		      "case %zu: '%s', expected '%s'", i, err, cases[i].msg);
	}
	/* the good event itself replays, and a stack of 33 frames does not */
	snprintf(line, sizeof(line), "%s%s", good_header, good_event);
	CHECK(!write_file(path, line, strlen(line)), "write");
	e = engine__new();
	CHECK(!trace_file__replay(path, e, err, sizeof(err)), "good event: %s", err);
	CHECK_INT(engine__stats(e)->events, 1);
out:
	engine__free(e);
	unlink(path);
}

TEST(trace_replay_huge_line_and_nul)
{
	char path[256], err[512];
	struct engine *e = engine__new();
	size_t n = TRACE_MAX_LINE + 100;
	char *big = malloc(n + sizeof(good_header));
	int ret;

	tmp_path(path, sizeof(path), "huge");
	CHECK(big, "oom");
	strcpy(big, good_header);
	memset(big + strlen(good_header), ' ', n - strlen(good_header));
	big[n - 1] = '\n';
	CHECK(!write_file(path, big, n), "write");
	ret = trace_file__replay(path, e, err, sizeof(err));
	CHECK(ret < 0 && strstr(err, ":2: line longer than"), "huge line: %s", err);
	CHECK(!write_file(path, "{\"dmarefwatch_trace\":1,\0\"kernel\":\"x\"}\n", 38), "write");
	ret = trace_file__replay(path, e, err, sizeof(err));
	CHECK(ret < 0 && strstr(err, ":1: NUL byte"), "NUL: %s", err);
	ret = trace_file__replay("/nonexistent/trace.jsonl", e, err, sizeof(err));
	CHECK(ret == -ENOENT && strstr(err, "/nonexistent/trace.jsonl: "), "missing file: %s",
	      err);
out:
	free(big);
	unlink(path);
	engine__free(e);
}

TEST(trace_replay_without_finish)
{
	char path[256], err[512], data[4096];
	struct engine *e = engine__new();
	struct trace_info info;

	tmp_path(path, sizeof(path), "nofinish");
	snprintf(data, sizeof(data), "%s%s", good_header, good_event);
	CHECK(!write_file(path, data, strlen(data)), "write");
	CHECK(!trace_file__replay_info(path, e, &info, err, sizeof(err)), "replay: %s", err);
	CHECK(!info.finished, "finish reported");
	CHECK_INT(info.events, 1);
	CHECK_INT(engine__nr_holders(e), 1);
out:
	unlink(path);
	engine__free(e);
}

/* ---- suppressions ---- */

/* ---- version 3: the reference ledger ---- */

#define KERNEL_KEYS	0xffff888000000000ull

static struct rw_event ledger_entry(uint64_t id, uint64_t ts, int dev, int chan, uint32_t refs)
{
	struct rw_event ev = ev_ledger_entry(id, ts, dev, chan, refs);

	ev.device_key |= KERNEL_KEYS;
	ev.chan_key |= KERNEL_KEYS;
	return ev;
}

static void dual_ledger(struct dual *d, uint64_t now, const struct rw_event *ents, size_t n)
{
	struct ledger *l = ledger_of(now, ents, n);

	engine__load_ledger(d->e, now, l);
	trace_writer__ledger(d->tw, l);
	ledger__free(l);
}

/* A ledger-mode run: reads, a lost get, a DEV_HOLDER, a double put with prev. */
static void ledger_run(struct dual *d)
{
	struct snapshot *fin = snapshot__new("bpf");
	struct snapshot_channel fc = { .chan_key = CHAN_KEY(0, 2) | KERNEL_KEYS,
				       .device_key = DEV_KEY(0) | KERNEL_KEYS, .dev_id = 0,
				       .chan_id = 2, .client_count = 2, .unrecorded = 1 };
	struct rw_event ents[3], ev;

	engine__set_hook(d->e, DMARW_HOOK_CHAN_GET, RW_HOOK_FENTRY, 10, 0);
	engine__set_hook_losses(d->e, DMARW_HOOK_CHAN_GET, 1, 2, 3, 4);
	trace_writer__hook_counts(d->tw, DMARW_HOOK_CHAN_GET,
				  engine__hook(d->e, DMARW_HOOK_CHAN_GET));
	dfeed(d, ev_register(1 * S, 0, true));
	ents[0] = ledger_entry(1, 2 * S, 0, 1, 1);
	ents[1] = ledger_entry(2, 2 * S + 1, 0, 2, 1);
	ev_caller(&ents[1], "leaky_probe", "leaky");
	dual_ledger(d, 3 * S, ents, 2);
	/* the same entries again, one with its client now: its stack not written again */
	snprintf(ents[0].client, sizeof(ents[0].client), "spi0:rx");
	ents[2] = ledger_entry(3, 3 * S + 5, 0, 1, 1);
	dual_ledger(d, 4 * S, ents, 3);
	dual_ledger(d, 5 * S, &ents[1], 2);		/* 1 released */
	ev = ev_put(6 * S, 0, 1, 0, 0);
	ev.flags |= DMARW_F_LEDGER | DMARW_F_PREV_RELEASE;
	ev.prev.pid = 77;
	ev.prev.tgid = 77;
	snprintf(ev.prev.comm, sizeof(ev.prev.comm), "rel");
	ev.prev.ts_ns = 4 * S + 5;
	ev.prev.holder_id = 1;
	dfeed(d, ev);
	ev = ev_get(6 * S + 1, 0, 2, 1, 2);
	ev.flags |= DMARW_F_LEDGER | DMARW_F_LEDGER_LOST;
	dfeed(d, ev);
	ents[0] = ents[1];
	ents[0].ts_ns = 7 * S;
	ents[0].ledger_refs = 1;
	ents[0].hook = DMARW_HOOK_DEV_UNREGISTER;
	dfeed(d, ents[0]);
	dfeed(d, ev_unreg_begin(7 * S + 1, 0, 3, 2));
	dual_ledger(d, 8 * S, &ents[1], 1);
	snapshot__add_channel(fin, &fc);
	engine__finish(d->e, 9 * S, fin);
	trace_writer__finish(d->tw, 9 * S, fin);
	snapshot__free(fin);
}

static size_t count_str(const char *text, const char *s)
{
	size_t n = 0;

	for (; (text = strstr(text, s)); text++)
		n++;
	return n;
}

TEST(trace_v3_ledger_round_trip)
{
	char path[256], err[512];
	struct dual d = { 0 };
	struct engine *r = engine__new();
	char *text = NULL;
	size_t i, len;
	FILE *f = NULL;

	tmp_path(path, sizeof(path), "ledger");
	d.e = engine__new();
	d.tw = trace_writer__open(path, "6.12-test", err, sizeof(err));
	CHECK(d.tw, "open: %s", err);
	ledger_run(&d);
	CHECK(!trace_writer__close(d.tw, err, sizeof(err)), "close: %s", err);
	CHECK(!trace_file__replay(path, r, err, sizeof(err)), "replay: %s", err);
	CHECK(engine__nr_findings(d.e) >= 4, "only %zu findings", engine__nr_findings(d.e));
	CHECK_INT(engine__nr_findings(r), engine__nr_findings(d.e));
	for (i = 0; i < engine__nr_findings(d.e); i++) {
		const char *diff = finding_diff(engine__finding(d.e, i), engine__finding(r, i));

		CHECK(!diff, "finding %zu (%s) differs in %s: %s", i,
		      finding_kind_name(engine__finding(d.e, i)->kind), diff,
		      engine__finding(r, i)->evidence);
	}
	CHECK_INT(count_kind(r, FINDING_UNBALANCED_PUT), 1);
	CHECK(strstr(find_kind(r, FINDING_UNBALANCED_PUT)->evidence,
		     "previous release by pid 77 (rel)"), "%s",
	      find_kind(r, FINDING_UNBALANCED_PUT)->evidence);
	CHECK(strstr(find_kind(r, FINDING_UNREGISTER_WITH_USERS)->evidence,
		     "from leaky_probe [leaky]"), "%s",
	      find_kind(r, FINDING_UNREGISTER_WITH_USERS)->evidence);
	CHECK_INT(engine__nr_holders(r), engine__nr_holders(d.e));
	CHECK_INT(engine__stats(r)->ledger_loads, 4);
	CHECK_INT(engine__stats(r)->ledger_released, engine__stats(d.e)->ledger_released);
	CHECK_INT(engine__stats(r)->ledger_lost, 1);
	CHECK_INT(engine__hook(r, DMARW_HOOK_CHAN_GET)->stack_failed, 2);
	CHECK_INT(engine__hook(r, DMARW_HOOK_CHAN_GET)->sent, 4);
	for (i = 0; i < engine__nr_channels(r); i++)
		CHECK_INT(engine__channel(r, i)->unknown, engine__channel(d.e, i)->unknown);
	f = fopen(path, "r");
	CHECK(f, "reopen");
	text = calloc(1, 1 << 20);
	CHECK(text, "oom");
	len = fread(text, 1, (1 << 20) - 1, f);
	text[len] = '\0';
	CHECK(!strncmp(text, "{\"dmarefwatch_trace\":3,", 23), "header: %.40s", text);
	/* entries 1, 2, 3 and 1 again with its client: 4 ledger-entry lines */
	CHECK_INT(count_str(text, "\"type\":\"ledger-entry\""), 4);
	CHECK_INT(count_str(text, "\"type\":\"ledger\""), 4);
	CHECK(strstr(text, "\"prev\":{\"ts_ns\":"), "no prev: %.200s", text);
	CHECK(!strstr(text, "18446612"), "a kernel address reached the trace file");
out:
	if (f)
		fclose(f);
	free(text);
	unlink(path);
	engine__free(d.e);
	engine__free(r);
}

/* version 2 files (no ledger, no loss counters) still replay */
TEST(trace_v2_still_replays)
{
	static const char v2[] =
		"{\"dmarefwatch_trace\":2,\"kernel\":\"6.1\",\"tool\":\"dmarefwatch\"}\n"
		"{\"type\":\"hook\",\"hook\":\"dma_chan_get\",\"mode\":\"fentry\",\"hits\":1,"
		"\"lost\":0}\n"
		"{\"type\":\"event\",\"event\":\"chan-get\",\"hook\":\"dma_chan_get\",\"ts_ns\":5,"
		"\"cpu\":0,\"pid\":1,\"tgid\":1,\"comm\":\"x\",\"device\":1,\"chan\":2,\"dev_id\":0,"
		"\"chan_id\":0,\"dev_name\":\"\",\"drv_name\":\"\",\"ret\":0,"
		"\"client_count_before\":0,\"client_count_after\":1,\"kref_before\":-1,"
		"\"kref_after\":-1,\"flags\":0,\"dev_in_use\":-1,"
		"\"stack\":[{\"func\":\"f\",\"off\":1,\"module\":\"m\"}]}\n"
		"{\"type\":\"finish\",\"now_ns\":9,\"final\":null}\n";
	char path[256], err[512];
	struct engine *e = engine__new();

	tmp_path(path, sizeof(path), "v2");
	CHECK(!write_file(path, v2, sizeof(v2) - 1), "write");
	CHECK(!trace_file__replay(path, e, err, sizeof(err)), "replay: %s", err);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 1);
	CHECK_INT(engine__hook(e, DMARW_HOOK_CHAN_GET)->hits, 1);
	CHECK_INT(engine__hook(e, DMARW_HOOK_CHAN_GET)->ledger_full, 0);
	CHECK_INT(engine__stats(e)->ledger_loads, 0);
out:
	unlink(path);
	engine__free(e);
}
