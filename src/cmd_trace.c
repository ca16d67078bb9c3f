// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* dmarefwatch trace: one line per event (JSON lines with --json). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "bpf_session.h"
#include "cli.h"
#include "engine.h"
#include "event_print.h"
#include "json_writer.h"
#include "live.h"
#include "outputs.h"
#include "report.h"

struct trace_ctx {
	FILE *out;
	struct json_writer *jw;
	struct engine *e;
	size_t findings_seen;
	uint64_t t0_ns;
	bool stack;
};

static void trace_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmarefwatch [GLOBAL OPTIONS] trace [--duration SEC] [--stack]\n"
		"\n"
		"Print one line per dmaengine reference event (JSON lines with --json)\n"
		"until Ctrl-C, SIGTERM or --duration, and a leaked-reference the moment\n"
		"its holder is gone (a module unloaded, a client device unbound, with\n"
		"the channel still held: a {\"finding\": ...} line with --json).\n"
		"While a service (watch --service) runs, the references taken before\n"
		"trace started have the holders the service recorded.\n"
		"  --duration SEC  stop after SEC seconds (500ms, 2m also work)\n"
		"  --stack         print the kernel stack under each text line\n"
		"Exit status: 0, or 2 when tracing is not possible or on bad arguments.\n");
}

static void on_event(void *ctx, const struct rw_event *ev)
{
	struct trace_ctx *t = ctx;

	if (t->jw) {
		event_print__json(t->jw, ev);	/* ends its line */
	} else {
		event_print__text(t->out, ev, t->t0_ns, t->stack);
	}
	fflush(t->out);
}

/* A holder died with its reference held: say so at once. */
static int trace_tick(void *ctx, uint64_t now_ns)
{
	struct trace_ctx *t = ctx;
	size_t n = engine__nr_findings(t->e);

	(void)now_ns;
	for (; t->findings_seen < n; t->findings_seen++) {
		const struct finding *fd = engine__finding(t->e, t->findings_seen);

		if (fd->kind != FINDING_LEAKED_REFERENCE)
			continue;
		if (t->jw) {
			jsonw__start_object(t->jw);
			jsonw__name(t->jw, "finding");
			report__json_finding(t->jw, fd, SEVERITY_ERROR);
			jsonw__end_object(t->jw);
		} else {
			report__text_finding(t->out, t->e, fd, false);
		}
		fflush(t->out);
	}
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_ctx t = { 0 };
	long long duration = -1;
	struct session *s = NULL;
	struct engine *e = NULL;
	struct out_file of = { 0 };
	bool traced = false;
	char err[1024] = "", note[512];
	struct dmarw_pin_owner owner;
	int r, ret = EXIT_ERROR;
	const struct cli_opt opts[] = {
		CLI_SECONDS_OPT("--duration", &duration, 0, NULL),
		CLI_FLAG_OPT("--stack", &t.stack),
		CLI_OPT_END,
	};
	const struct cli_cmd cmd = {
		.name = "trace", .usage = trace_usage, .opts = opts, .nargs = 0,
	};

	r = cli_parse(&cmd, argc, argv, NULL);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_ERROR;
	/* a temporary file beside -o FILE: FILE is replaced only once tracing ran */
	t.out = out_file__open(&of, env.output, err, sizeof(err));
	if (!t.out) {
		p_err("%s", err);
		return EXIT_ERROR;
	}
	if (env.json) {
		t.jw = jsonw__new(t.out, false);
		if (!t.jw)
			goto out;
	}
	e = engine__new();
	if (!e)
		goto out;
	live_signals_init();
	/* the command that shows everything: every get and put is a record */
	env.send_balanced = true;
	if (session__open(&s, e, true, on_event, &t, err, sizeof(err))) {
		p_err("cannot trace here: %s", err);
		goto out;
	}
	r = live_service(&owner, note, sizeof(note));
	if (r < 0)
		goto out;
	traced = true;
	live_start(s, e, NULL);
	if (r > 0) {
		/* references taken before we started: the service knows whose */
		r = session__adopt_service(s, pin__dir(), err, sizeof(err));
		if (r < 0)
			p_info("the running %s: %s; references taken before tracing stay "
			       "unattributed", note, err);
		else
			p_info("%d reference%s taken before tracing named from the running %s",
			       r, r == 1 ? "" : "s", note);
	}
	t.t0_ns = now_mono_ns();
	if (!t.jw)
		event_print__header(t.out);
	fflush(t.out);
	t.e = e;
	ret = live_loop(s, e, NULL, duration, trace_tick, &t);
	if (!ret) {
		live_sync(s, e, NULL);
		live_print_lost(e);
	}
	ret = ret ? EXIT_ERROR : EXIT_OK;
out:
	session__close(s);
	engine__free(e);
	jsonw__free(t.jw);
	if (out_file__close(&of, traced, err, sizeof(err))) {
		p_err("%s", err);
		ret = EXIT_ERROR;
	}
	return ret;
}
