/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Parsers and writers: JSON, trace files (replay equals live, bad input),
 * suppression files, reports (JSON, text, JUnit), the sysfs snapshot.
 */
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

TEST(json_parse_good_values)
{
	static const char text[] =
		"{\"u\":18446744073709551615,\"i\":-9223372036854775808,\"f\":1.5e3,"
		"\"s\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00/\",\"t\":true,\"n\":null,"
		"\"a\":[1,[2,{}],[]]}";
	struct json_error err;
	struct json_value *v = json_parse(text, sizeof(text) - 1, NULL, &err);
	uint64_t u = 0;
	int64_t i = 0;

	CHECK(v, "parse failed: %d:%d %s", err.line, err.col, err.msg);
	CHECK(json_to_u64(json_get(v, "u"), &u) && u == UINT64_MAX, "u64 max lost");
	CHECK(json_to_i64(json_get(v, "i"), &i) && i == INT64_MIN, "i64 min lost");
	CHECK(!json_to_u64(json_get(v, "i"), &u), "negative accepted as u64");
	CHECK(!json_to_i64(json_get(v, "u"), &i), "u64 max accepted as i64");
	CHECK(json_get(v, "f")->number == 1500.0 && !json_get(v, "f")->is_int, "float");
	CHECK_STR(json_get(v, "s")->string, "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80/");
	CHECK(json_get(v, "t")->boolean, "true");
	CHECK_INT(json_get(v, "n")->type, JSON_NULL);
	CHECK_INT(json_get(v, "a")->len, 3);
	CHECK_INT(json_get(v, "a")->items[1].items[1].type, JSON_OBJECT);
	CHECK(!json_get(v, "missing"), "missing key found");
out:
	json_free(v);
}

TEST(json_parse_rejects_bad_input)
{
	static const struct {
		const char *text;
		const char *msg;
		int line, col;
	} cases[] = {
		{ "", "unexpected end of input", 1, 1 },
		{ "{", "object not closed", 1, 2 },
		{ "[1,]", "trailing comma", 1, 4 },
		{ "{\"a\":1,}", "trailing comma", 1, 8 },
		{ "{\"a\":1,\"a\":2}", "duplicate key", 1, 11 },
		{ "01", "leading zero", 1, 1 },
		{ "1.", "digit expected", 1, 3 },
		{ "1e", "exponent", 1, 3 },
		{ "+1", "unexpected character", 1, 1 },
		{ "NaN", "unexpected character", 1, 1 },
		{ "nul", "unexpected character", 1, 1 },
		{ "{a:1}", "object key", 1, 2 },
		{ "\"\\x\"", "bad escape", 1, 3 },
		{ "\"\\ud800\"", "lone high surrogate", 1, 8 },
		{ "\"\\udc00\"", "lone low surrogate", 1, 8 },
		{ "\"\\u00zz\"", "bad hex digit", 1, 6 },
		{ "\"\\u0000\"", "\\u0000", 1, 8 },
		{ "\"a\x01\"", "control character", 1, 3 },
		{ "\"\xff\"", "invalid UTF-8", 1, 2 },
		{ "\"\xc0\xaf\"", "invalid UTF-8", 1, 2 },
		{ "\"abc", "unterminated string", 1, 5 },
		{ "[1] x", "trailing data", 1, 5 },
		{ "[1 2]", "',' or ']' expected", 1, 4 },
		{ "{\"a\" 1}", "':' expected", 1, 6 },
		{ "[\n1,\n  x]", "unexpected character", 3, 3 },
		{ "{\"k\":[1,2", "array not closed", 1, 10 },
	};
	struct json_error err;
	struct json_value *v = NULL;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = json_parse(cases[i].text, strlen(cases[i].text), NULL, &err);
		CHECK(!v, "case %zu '%s' accepted", i, cases[i].text);
		CHECK(strstr(err.msg, cases[i].msg), "case %zu '%s': message '%s', expected '%s'",
		      i, cases[i].text, err.msg, cases[i].msg);
		CHECK(err.line == cases[i].line && err.col == cases[i].col,
		      "case %zu '%s': at %d:%d, expected %d:%d", i, cases[i].text, err.line,
		      err.col, cases[i].line, cases[i].col);
	}
out:
	json_free(v);
}

TEST(json_parse_limits)
{
	struct json_limits lim = JSON_LIMITS_DEFAULT;
	struct json_error err;
	struct json_value *v = NULL;
	char *deep = malloc(20001), *longs = malloc(100);
	int i;

	CHECK(deep && longs, "oom");
	for (i = 0; i < 10000; i++) {
		deep[i] = '[';
		deep[10000 + i] = ']';
	}
	deep[20000] = '\0';
	v = json_parse(deep, 20000, NULL, &err);
	CHECK(!v && strstr(err.msg, "nesting deeper"), "deep nesting: %s", err.msg);
	lim.max_string = 10;
	memset(longs, 'a', 99);
	longs[0] = '"';
	longs[98] = '"';
	longs[99] = '\0';
	v = json_parse(longs, 99, &lim, &err);
	CHECK(!v && strstr(err.msg, "string longer"), "long string: %s", err.msg);
	lim = (struct json_limits)JSON_LIMITS_DEFAULT;
	lim.max_items = 3;
	v = json_parse("[1,2,3,4]", 9, &lim, &err);
	CHECK(!v && strstr(err.msg, "more than 3"), "items: %s", err.msg);
	lim.max_bytes = 4;
	v = json_parse("[1,2,3,4]", 9, &lim, &err);
	CHECK(!v && strstr(err.msg, "larger than"), "size: %s", err.msg);
out:
	json_free(v);
	free(deep);
	free(longs);
}

/* ---- JSON writer ---- */

static char *capture_jw(bool pretty, void (*fn)(struct json_writer *jw))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct json_writer *jw;

	if (!m)
		return NULL;
	jw = jsonw__new(m, pretty);
	fn(jw);
	jsonw__free(jw);
	fclose(m);
	return buf;
}

static void write_escapes(struct json_writer *jw)
{
	jsonw__start_object(jw);
	jsonw__string_field(jw, "s", "q\"b\\n\nt\tc\x01" "d\x7f" "e\xff" "\xc3\xa9");
	jsonw__name(jw, "a");
	jsonw__start_array(jw);
	jsonw__int(jw, -5);
	jsonw__uint(jw, UINT64_MAX);
	jsonw__bool(jw, true);
	jsonw__null(jw);
	jsonw__start_object(jw);
	jsonw__end_object(jw);
	jsonw__end_array(jw);
	jsonw__end_object(jw);
}

TEST(json_writer_escaping_and_roundtrip)
{
	char *compact = capture_jw(false, write_escapes);
	char *pretty = capture_jw(true, write_escapes);
	struct json_value *v = NULL, *w = NULL;
	struct json_error err;

	CHECK(compact && pretty, "no output");
	CHECK_STR(compact, "{\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001d\\u007fe\\u00ff\xc3\xa9\","
		  "\"a\":[-5,18446744073709551615,true,null,{}]}\n");
	v = json_parse(compact, strlen(compact), NULL, &err);
	CHECK(v, "compact output does not parse: %s", err.msg);
	w = json_parse(pretty, strlen(pretty), NULL, &err);
	CHECK(w, "pretty output does not parse: %s", err.msg);
	CHECK(strchr(pretty, '\n') != strrchr(pretty, '\n'), "pretty is one line");
	CHECK_STR(json_get(v, "s")->string, json_get(w, "s")->string);
	CHECK_STR(json_get(v, "s")->string, "q\"b\\n\nt\tc\x01" "d\x7f" "e\xc3\xbf\xc3\xa9");
out:
	json_free(v);
	json_free(w);
	free(compact);
	free(pretty);
}

/* ---- trace files ---- */

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
	CHECK(!strncmp(text, "{\"dmarefwatch_trace\":2,\"kernel\":\"6.1.0-test\"", 43),
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
		{ "version", "!{\"dmarefwatch_trace\":3,\"kernel\":\"x\"}\n",
		  "unsupported trace version 3", 1 },
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

TEST(suppress_rejects_bad_files)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "kind: leaked-reference\n", ":1: expected '{'" },
		{ "{\n}\n", ":2: suppression has no name" },
		{ "{\n  n\n}\n", ":3: suppression 'n' has no 'kind:' line" },
		{ "{\n  n\n  kind: leaky\n}\n", ":3: unknown finding kind 'leaky'" },
		{ "{\n  n\n  kind: *\n  colour: red\n}\n", ":4: unknown key 'colour'" },
		{ "{\n  n\n  kind: *\n", ":3: suppression opened at line 1 is not closed" },
		{ "{\n  n\n  {\n", ":3: '{' inside the suppression opened at line 1" },
		{ "{\n  n\n  kind: *\n  kind: *\n}\n", ":4: duplicate 'kind'" },
		{ "{\n  n\n  kind: *\n  device:\n}\n", ":4: empty value for 'device'" },
		{ "{\n  two words\n}\n", ":2: expected the suppression name" },
		{ "{\n  n\n  kind *\n}\n", ":3: expected 'key: value'" },
		{ "{\n  n\n  kind: *\n  module: a\n  module: b\n}\n", ":5: duplicate 'module'" },
		{ "# c\n\n{\n n\n kind: *\n}\n}\n", ":7: expected '{'" },
		{ "{\n  n\x01\n", ":2: control character" },
	};
	struct suppressions *s = NULL;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		s = suppress__parse(cases[i].text, strlen(cases[i].text), "x.supp", err,
				    sizeof(err));
		CHECK(!s, "case %zu accepted", i);
		CHECK(!strncmp(err, "x.supp:", 7) && strstr(err, cases[i].msg),
		      "case %zu: '%s', expected '%s'", i, err, cases[i].msg);
	}
	s = suppress__load("/nonexistent.supp", err, sizeof(err));
	CHECK(!s && strstr(err, "/nonexistent.supp: "), "missing file: %s", err);
out:
	suppress__free(s);
}

TEST(suppress_matching)
{
	static const char text[] =
		"# expected in CI\n"
		"{\n\tby-frame\n\tkind: unbalanced-put\n\tfunction: deep_*\n}\n"
		"{\n\tby-driver\n\tkind: *\n\tdevice: dmarw_prov\n\tmodule: mod?\n}\n";
	struct finding f;
	struct suppressions *s;
	char err[256];

	s = suppress__parse(text, sizeof(text) - 1, "ok.supp", err, sizeof(err));
	CHECK(s, "parse: %s", err);
	CHECK_INT(suppress__count(s), 2);
	memset(&f, 0, sizeof(f));
	f.kind = FINDING_UNBALANCED_PUT;
	snprintf(f.device, sizeof(f.device), "dma0");
	snprintf(f.holder.function, sizeof(f.holder.function), "client_remove");
	f.holder.nr_frames = 2;
	snprintf(f.holder.frames[1].func, sizeof(f.holder.frames[1].func), "deep_helper");
	CHECK(suppress__match(s, &f) && !strcmp(suppress__match(s, &f), "by-frame"),
	      "function glob on any frame");
	f.kind = FINDING_LEAKED_REFERENCE;
	CHECK(!suppress__match(s, &f), "kind ignored");
	snprintf(f.drv_name, sizeof(f.drv_name), "dmarw_prov");
	snprintf(f.holder.module, sizeof(f.holder.module), "modx");
	CHECK(suppress__match(s, &f) && !strcmp(suppress__match(s, &f), "by-driver"),
	      "device glob on drv_name + module glob");
	snprintf(f.holder.module, sizeof(f.holder.module), "other");
	CHECK(!suppress__match(s, &f), "module ignored");
	CHECK_INT(suppress__used(s, 0), 2);
out:
	suppress__free(s);
}

/* ---- reports ---- */

static struct engine *engine_with_findings(void)
{
	struct engine *e = engine__new();
	struct rw_event ev;

	engine__set_hook(e, DMARW_HOOK_CHAN_GET, RW_HOOK_FENTRY, 1, 0);
	ev = ev_get(1 * S, 0, 1, 0, 1);
	ev_task(&ev, 42, "a<b>&\"c'\x01");
	ev_caller(&ev, "leaky_probe", "leaky");
	engine__feed(e, &ev);
	ev = ev_get(1 * S + 1, 0, 1, 1, 2);
	ev_task(&ev, 43, "a<b>&\"c'\x01");
	ev_caller(&ev, "leaky_probe", "leaky");
	engine__feed(e, &ev);
	engine__feed(e, &(struct rw_event){ 0 });
	ev = ev_register(2 * S, 1, false);
	engine__feed(e, &ev);
	engine__finish(e, 3 * S, NULL);
	return e;
}

static char *capture(int (*fn)(FILE *, const struct engine *, const struct report_opts *),
		     const struct engine *e, const struct report_opts *o, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	*ret = fn(m, e, o);
	fclose(m);
	return buf;
}

TEST(report_json_schema)
{
	struct engine *e = engine_with_findings();
	struct report_opts o;
	struct json_value *v = NULL;
	const struct json_value *f0, *st;
	struct json_error err;
	char *out;
	uint64_t u;
	int ret = -1;

	report_opts__init(&o);
	o.pretty = true;
	o.kernel = "6.1.0-18-amd64";
	out = capture(report__json, e, &o, &ret);
	CHECK(out && !ret, "report failed");
	v = json_parse(out, strlen(out), NULL, &err);
	CHECK(v, "report is not JSON: %d:%d %s", err.line, err.col, err.msg);
	CHECK(json_to_u64(json_get(v, "schema"), &u) && u == REPORT_SCHEMA, "schema");
	CHECK_STR(json_get(v, "result")->string, "fail");
	CHECK_INT(json_get(v, "findings")->len, 3);
	f0 = &json_get(v, "findings")->items[0];
	CHECK_STR(json_get(f0, "kind")->string, "missing-release-callback");
	f0 = &json_get(v, "findings")->items[1];
	CHECK_STR(json_get(f0, "kind")->string, "leaked-reference");
	CHECK_STR(json_get(f0, "severity")->string, "error");
	CHECK_STR(json_get(f0, "channel")->string, "dma0chan1");
	CHECK_STR(json_get(json_get(f0, "holder"), "function")->string, "leaky_probe");
	CHECK_STR(json_get(json_get(f0, "holder"), "module")->string, "leaky");
	CHECK_STR(json_get(json_get(f0, "holder"), "comm")->string, "a<b>&\"c'\x01");
	CHECK(json_get(json_get(f0, "holder"), "stack")->len > 2, "stack missing");
	CHECK(json_get(f0, "evidence")->len > 10, "evidence missing");
	CHECK(json_get(f0, "fails")->boolean, "fails");
	CHECK(json_get(v, "devices")->len == 2 && json_get(v, "channels")->len == 1,
	      "devices/channels");
	st = json_get(v, "stats");
	CHECK(json_to_u64(json_get(st, "events"), &u) && u == 4, "events");
	CHECK(json_to_u64(json_get(st, "events_unknown"), &u) && u == 1, "events_unknown");
	CHECK_INT(json_get(st, "hooks")->len, DMARW_HOOK_MAX);
	CHECK_STR(json_get(&json_get(st, "hooks")->items[0], "mode")->string, "fentry");
	CHECK(json_get(st, "references_predating_tracing"), "predating count missing");
out:
	json_free(v);
	free(out);
	engine__free(e);
}

TEST(report_text_groups_by_stack)
{
	struct engine *e = engine_with_findings();
	struct report_opts o;
	char *out;
	int ret = -1;

	report_opts__init(&o);
	out = capture(report__text, e, &o, &ret);
	CHECK(out && !ret, "report failed");
	CHECK(strstr(out, "error: leaked-reference: dma0chan1 (dmarw-prov.0, dmarw_prov), "
		     "2 times from this stack"), "no grouped leak line:\n%s", out);
	CHECK(strstr(out, "leaky_probe+0x24 [leaky]"), "no backtrace:\n%s", out);
	CHECK(strstr(out, "warning: missing-release-callback: dma1"), "no warning:\n%s", out);
	CHECK(strstr(out, "summary: 3 findings (2 errors, 1 warning, 0 info), 2 failing"),
	      "summary:\n%s", out);
	CHECK(strstr(out, "hooks: dma_chan_get=fentry"), "hooks:\n%s", out);
out:
	free(out);
	engine__free(e);
}

/* Minimal XML well-formedness: balanced tags, entities, no raw controls. */
static const char *xml_check(const char *s)
{
	static char why[128];
	const char *stack[16];
	size_t depth = 0, n;
	const char *p = s;

	if (strncmp(p, "<?xml ", 6))
		return "no XML declaration";
	p = strstr(p, "?>") + 2;
	while (*p) {
		if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
			return "raw control character";
		if (*p == '&') {
			if (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) &&
			    strncmp(p, "&gt;", 4) && strncmp(p, "&quot;", 6) &&
			    strncmp(p, "&apos;", 6) && strncmp(p, "&#13;", 5))
				return "bad entity";
		}
		if (*p == '>' )
			return "raw '>' outside a tag";
		if (*p != '<') {
			p++;
			continue;
		}
		const char *end = strchr(p, '>');

		if (!end)
			return "unterminated tag";
		for (const char *q = p + 1; q < end; q++)
			if (*q == '<')
				return "'<' inside a tag";
		if (p[1] == '/') {
			n = strcspn(p + 2, " >");
			if (!depth || strncmp(stack[depth - 1], p + 2, n) ||
			    (stack[depth - 1][n] != ' ' && stack[depth - 1][n] != '>' &&
			     stack[depth - 1][n] != '/'))
				return "mismatched closing tag";
			depth--;
		} else if (end[-1] != '/') {
			if (depth == 16)
				return "too deep";
			stack[depth++] = p + 1;
		}
		p = end + 1;
	}
	if (depth) {
		snprintf(why, sizeof(why), "%zu tags left open", depth);
		return why;
	}
	return NULL;
}

TEST(report_junit_well_formed)
{
	struct engine *e = engine_with_findings();
	struct report_opts o;
	const char *why;
	char *out = NULL, *clean = NULL;
	int ret = -1;

	report_opts__init(&o);
	o.command = "insmod leaky.ko <&>";
	out = capture(report__junit, e, &o, &ret);
	CHECK(out && !ret, "report failed");
	why = xml_check(out);
	CHECK(!why, "JUnit not well-formed: %s\n%s", why, out);
	CHECK(strstr(out, "tests=\"10\" failures=\"1\""), "counts:\n%.300s", out);
	CHECK(strstr(out, "name=\"leaked-reference\" time=\"0\">\n      <failure "
		     "type=\"leaked-reference\""), "no failing leak testcase");
	CHECK(strstr(out, "name=\"get-failed\" time=\"0\"/>"), "passing kinds missing");
	CHECK(strstr(out, "a&lt;b&gt;&amp;&quot;c&apos;\\x01"), "comm not escaped");
	CHECK(strstr(out, "<system-out>warning: missing-release-callback"),
	      "warning not in system-out");
	/* clean run: every testcase passes */
	engine__free(e);
	e = engine__new();
	engine__finish(e, 1, NULL);
	clean = capture(report__junit, e, &o, &ret);
	CHECK(clean && !xml_check(clean) && strstr(clean, "failures=\"0\""), "clean run");
out:
	free(out);
	free(clean);
	engine__free(e);
}

/* ---- events and snapshot ---- */

TEST(event_print_text_and_json)
{
	struct rw_event ev = ev_get(2 * S, 0, 1, 0, 1);
	struct json_value *v = NULL;
	struct json_writer *jw;
	struct json_error err;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	ev_kref(&ev, 1, 2);
	m = open_memstream(&buf, &len);
	CHECK(m, "memstream");
	event_print__text(m, &ev, 1 * S, false);
	fclose(m);
	CHECK(strstr(buf, "chan-get") && strstr(buf, "dma0chan1") && strstr(buf, "0->1") &&
	      strstr(buf, "1->2") && strstr(buf, "client_probe+0x24 [dmarw_client]") &&
	      strstr(buf, "1.000000"), "text line: %s", buf);
	free(buf);
	buf = NULL;
	m = open_memstream(&buf, &len);
	CHECK(m, "memstream");
	jw = jsonw__new(m, false);
	event_print__json(jw, &ev);
	jsonw__free(jw);
	fclose(m);
	v = json_parse(buf, len, NULL, &err);
	CHECK(v, "event JSON: %s", err.msg);
	CHECK_STR(json_get(v, "event")->string, "chan-get");
	CHECK_STR(json_get(v, "hook")->string, "dma_chan_get");
	CHECK_INT(json_get(v, "stack")->len, ev.nr_frames);
	CHECK(buf[len - 1] == '\n' && !strchr(buf, '\n')[1], "not one line");
	CHECK(!json_get(v, "client"), "client field on a get");
	/* a request that named its client */
	json_free(v);
	v = NULL;
	free(buf);
	buf = NULL;
	ev = ev_make(DMARW_EV_REQUEST_CHAN, 3 * S, 0, 1);
	snprintf(ev.client, sizeof(ev.client), "spi0.0:tx");
	snprintf(ev.client_drv, sizeof(ev.client_drv), "spi-bcm2835");
	m = open_memstream(&buf, &len);
	CHECK(m, "memstream");
	event_print__text(m, &ev, 1 * S, false);
	jw = jsonw__new(m, false);
	event_print__json(jw, &ev);
	jsonw__free(jw);
	fclose(m);
	CHECK(strstr(buf, "request-chan") && strstr(buf, " for spi0.0:tx (spi-bcm2835)\n"),
	      "text line: %s", buf);
	v = json_parse(strchr(buf, '\n') + 1, len - (size_t)(strchr(buf, '\n') + 1 - buf), NULL,
		       &err);
	CHECK(v, "event JSON: %s", err.msg);
	CHECK_STR(json_get(v, "client")->string, "spi0.0:tx");
	CHECK_STR(json_get(v, "client_driver")->string, "spi-bcm2835");
out:
	json_free(v);
	free(buf);
}

static int mkdirs(const char *root, const char *rel)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
}

TEST(snapshot_reads_fake_sysfs)
{
	static const char summary[] =
		"dma0 (dmarw-prov.0): number of channels: 2\n\n"
		" dma0chan1    | spi-client (via router: x)\n\n"
		"dma1 (other): number of channels: 1\n\n";
	char root[256], path[600], err[256];
	struct snapshot *snap = snapshot__new("sysfs");
	int ret;

	tmp_path(root, sizeof(root), "sysfs");
	CHECK(!mkdir(root, 0700), "mkdir %s", root);
	CHECK(!mkdirs(root, "sys/class/dma/dma0chan0") &&
	      !mkdirs(root, "sys/class/dma/dma0chan1") &&
	      !mkdirs(root, "sys/class/dma/dma1chan0") &&
	      !mkdirs(root, "sys/class/dma/notachan") &&
	      !mkdirs(root, "sys/devices/platform/dmarw-prov.0") &&
	      !mkdirs(root, "sys/bus/platform/drivers/dmarw_prov") &&
	      !mkdirs(root, "sys/kernel/debug/dmaengine"), "mkdir");
	snprintf(path, sizeof(path), "%s/sys/class/dma/dma0chan0/in_use", root);
	write_file(path, "0\n", 2);
	snprintf(path, sizeof(path), "%s/sys/class/dma/dma0chan1/in_use", root);
	write_file(path, "2\n", 2);
	snprintf(path, sizeof(path), "%s/sys/class/dma/dma1chan0/in_use", root);
	write_file(path, "garbage", 7);
	snprintf(path, sizeof(path), "%s/sys/class/dma/dma0chan0/device", root);
	CHECK(!symlink("../../../devices/platform/dmarw-prov.0", path), "symlink");
	snprintf(path, sizeof(path), "%s/sys/devices/platform/dmarw-prov.0/driver", root);
	CHECK(!symlink("../../../bus/platform/drivers/dmarw_prov", path), "symlink");
	snprintf(path, sizeof(path), "%s/sys/kernel/debug/dmaengine/summary", root);
	write_file(path, summary, sizeof(summary) - 1);

	ret = snapshot__read_sysfs(snap, root, true, err, sizeof(err));
	CHECK(!ret, "read: %s", err);
	CHECK_INT(snap->nr_channels, 3);
	CHECK_INT(snap->nr_devices, 2);
	CHECK(snap->channels[0].dev_id == 0 && snap->channels[0].chan_id == 0 &&
	      snap->channels[0].client_count == 0, "dma0chan0");
	CHECK(snap->channels[1].chan_id == 1 && snap->channels[1].client_count == 2,
	      "dma0chan1");
	CHECK_STR(snap->channels[1].client_name, "spi-client");
	CHECK_INT(snap->channels[2].client_count, -1);
	CHECK_STR(snap->devices[0].dev_name, "dmarw-prov.0");
	CHECK_STR(snap->devices[0].drv_name, "dmarw_prov");
	CHECK_INT(snap->devices[0].kref, -1);
	snapshot__free(snap);
	snap = snapshot__new("sysfs");
	snprintf(path, sizeof(path), "%s/nothing-here", root);
	CHECK(!snapshot__read_sysfs(snap, path, true, err, sizeof(err)) && !snap->nr_channels,
	      "no /sys/class/dma is an empty snapshot");
out:
	snapshot__free(snap);
	if (root[0]) {
		snprintf(path, sizeof(path), "rm -rf '%s'", root);
		if (system(path))
			fprintf(stderr, "cannot remove %s\n", root);
	}
}
