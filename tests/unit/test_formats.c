/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Suppression files, reports (JSON, text, JUnit), event lines, the sysfs
 * snapshot.  JSON itself: test_json.c; trace files: test_trace.c.
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

/* the summary says what the BPF side lost, per hook; JSON always has the counters */
TEST(report_ledger_losses)
{
	struct engine *e = engine_with_findings();
	struct json_value *v = NULL;
	struct json_error err;
	struct report_opts o;
	const struct json_value *st, *led;
	char *out = NULL;
	uint64_t u;
	int ret = -1;

	report_opts__init(&o);
	out = capture(report__text, e, &o, &ret);
	CHECK(out && !ret, "report failed");
	CHECK(!strstr(out, "lost in the kernel"), "losses said with none:\n%s", out);
	free(out);
	engine__set_hook_losses(e, DMARW_HOOK_CHAN_GET, 2, 1, 0, 5);
	out = capture(report__text, e, &o, &ret);
	CHECK(out && !ret, "report failed");
	CHECK(strstr(out, "lost in the kernel: 2 references not recorded (ledger full: held by "
		     "an unknown holder), 1 stack not taken, 0 map updates failed: dma_chan_get "
		     "ledger full 2 dma_chan_get stack failed 1\n"), "summary:\n%s", out);
	free(out);
	out = capture(report__json, e, &o, &ret);
	CHECK(out && !ret, "json failed");
	v = json_parse(out, strlen(out), NULL, &err);
	CHECK(v, "not JSON: %s", err.msg);
	st = json_get(v, "stats");
	led = json_get(st, "ledger");
	CHECK(led, "no stats.ledger");
	CHECK(json_to_u64(json_get(led, "ledger_full"), &u) && u == 2, "ledger_full");
	CHECK(json_to_u64(json_get(led, "sent"), &u) && u == 5, "sent");
	CHECK(json_to_u64(json_get(&json_get(st, "hooks")->items[0], "stack_failed"), &u) &&
	      u == 1, "hooks[0].stack_failed");
out:
	json_free(v);
	free(out);
	engine__free(e);
}
