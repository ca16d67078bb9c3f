// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * dmarefwatch watch: the long-running mode.  New findings as they happen,
 * a leak report every --interval (text, or JSON lines with --json), metrics
 * for Prometheus' node_exporter textfile collector, a final report on
 * SIGTERM/SIGINT; SIGHUP reopens -o FILE (logrotate).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bpf_session.h"
#include "cli.h"
#include "engine.h"
#include "json_writer.h"
#include "live.h"
#include "outputs.h"
#include "prometheus.h"
#include "report.h"
#include "sd_notify.h"
#include "suppress.h"

/* The "schema" member of every --json line: docs/schema/watch-line.schema.json */
#define WATCH_SCHEMA	1

struct watch {
	long long interval_ns;
	long long min_age_ns;
	long long duration_ns;
	const char *prometheus;
	const char *suppressions;
	bool service;			/* pin the state for top/snapshot/trace */
	const char *output;		/* NULL: stdout */
	FILE *out;
	struct json_writer *jw;
	struct session *s;
	struct engine *e;
	size_t findings_shown;
	uint64_t last_report_ns;
	double start_wall_s;
	uint64_t reports;
	char last_prom_err[256];
};

static void watch_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmarefwatch [GLOBAL OPTIONS] watch [--interval SEC] [--min-age SEC]\n"
		"       [--prometheus FILE] [--suppressions FILE] [--duration SEC] [--service]\n"
		"\n"
		"Trace until SIGTERM, SIGINT or --duration: print each new finding as it\n"
		"happens and a leak report every interval (text, or JSON lines with\n"
		"--json) on stdout or -o FILE (appended to; SIGHUP reopens it). A channel\n"
		"reference whose holder is gone (its module unloaded, its client device\n"
		"unbound) is a leaked-reference at the next report; one held longer than\n"
		"--min-age by a live holder is a long-held-reference (info, not an error).\n"
		"SIGTERM and SIGINT print a final report and exit 0.\n"
		"  --interval SEC      leak scan, report and metrics period (default 60)\n"
		"  --min-age SEC       age that makes a long-held-reference (default 300)\n"
		"  --prometheus FILE   write metrics there every interval, atomically, in\n"
		"                      the text format (node_exporter textfile collector;\n"
		"                      docs/metrics.md)\n"
		"  --suppressions FILE expected findings (see dmarefwatch(8))\n"
		"  --duration SEC      stop after SEC seconds, as on SIGTERM\n"
		"  --service           the machine's service: pin the reference ledger and\n"
		"                      the state in " DMARW_PIN_DIR " (root's only;\n"
		"                      $DMAREFWATCH_PIN_DIR) for top, snapshot and trace to\n"
		"                      read while it runs, removed when it stops (a stale\n"
		"                      one left by a kill is removed at start); one per\n"
		"                      machine; tells systemd (Type=notify) once attached\n"
		"Exit status: 0 on SIGTERM, SIGINT or --duration; 2 when tracing is not\n"
		"possible, on bad arguments or when an output cannot be written at start.\n");
}

static int parse_watch_opts(int argc, char **argv, struct watch *w)
{
	const struct cli_opt opts[] = {
		CLI_SECONDS_OPT("--interval", &w->interval_ns, 100000000LL,
				"seconds (at least 0.1)"),
		CLI_SECONDS_OPT("--min-age", &w->min_age_ns, 0, NULL),
		CLI_SECONDS_OPT("--duration", &w->duration_ns, 0, NULL),
		CLI_STR_OPT("--prometheus", &w->prometheus),
		CLI_STR_OPT("--suppressions", &w->suppressions),
		CLI_FLAG_OPT("--service", &w->service),
		CLI_OPT_END,
	};
	const struct cli_cmd cmd = {
		.name = "watch", .usage = watch_usage, .opts = opts, .nargs = 0,
	};

	return cli_parse(&cmd, argc, argv, NULL);
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "2024-05-07T12:03:04Z" */
static const char *wall_str(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static int open_out(struct watch *w)
{
	if (!w->output) {
		w->out = stdout;
	} else {
		w->out = fopen(w->output, "ae");
		if (!w->out) {
			p_err("cannot write %s: %s", w->output, strerror(errno));
			return -1;
		}
	}
	if (env.json) {
		w->jw = jsonw__new(w->out, false);
		if (!w->jw)
			return -1;
	}
	return 0;
}

static void close_out(struct watch *w)
{
	jsonw__free(w->jw);
	w->jw = NULL;
	if (w->out && w->out != stdout)
		fclose(w->out);
	w->out = NULL;
}

/* SIGHUP: the log was rotated; keep the old stream if the new one fails */
static void reopen_out(struct watch *w)
{
	FILE *nf;

	if (!w->output)
		return;
	nf = fopen(w->output, "ae");
	if (!nf) {
		p_err("SIGHUP: cannot reopen %s: %s; writing on", w->output, strerror(errno));
		return;
	}
	close_out(w);
	w->out = nf;
	if (env.json)
		w->jw = jsonw__new(w->out, false);
}

static void print_new_findings(struct watch *w)
{
	size_t n = engine__nr_findings(w->e);
	char t[32];

	for (; w->findings_shown < n; w->findings_shown++) {
		const struct finding *fd = engine__finding(w->e, w->findings_shown);

		if (w->jw) {
			jsonw__start_object(w->jw);
			jsonw__uint_field(w->jw, "schema", WATCH_SCHEMA);
			jsonw__string_field(w->jw, "type", "finding");
			jsonw__string_field(w->jw, "time", wall_str(t, sizeof(t)));
			jsonw__name(w->jw, "finding");
			report__json_finding(w->jw, fd, SEVERITY_ERROR);
			jsonw__end_object(w->jw);
		} else {
			fprintf(w->out, "%s ", wall_str(t, sizeof(t)));
			report__text_finding(w->out, w->e, fd, env.verbose);
		}
	}
	fflush(w->out);
}

static const char *chan_device_name(const struct engine *e, const struct engine_channel *c)
{
	return c->device < engine__nr_devices(e) ? engine__device(e, c->device)->name : "";
}

/* Reported leaked-reference: its holder is gone (or the run ended). */
static bool holder_leaked(const struct engine_holder *h)
{
	return h->reported;
}

/* Alive and held longer than --min-age: information, not an error. */
static bool holder_long_held(const struct watch *w, const struct engine_holder *h, uint64_t now)
{
	return !h->reported && (h->long_held || (now >= h->who.ts_ns &&
				now - h->who.ts_ns >= (uint64_t)w->min_age_ns));
}

static void json_holder(struct json_writer *jw, const struct engine *e,
			const struct engine_holder *h, uint64_t now)
{
	const struct engine_channel *c = engine__channel(e, h->channel);

	jsonw__start_object(jw);
	jsonw__string_field(jw, "channel", c->name);
	jsonw__string_field(jw, "device", chan_device_name(e, c));
	jsonw__int_field(jw, "client_count", c->client_count);
	jsonw__uint_field(jw, "references", h->refs);
	jsonw__double_field(jw, "age_s", now > h->who.ts_ns ?
			    (double)(now - h->who.ts_ns) / 1e9 : 0);
	jsonw__uint_field(jw, "pid", h->who.pid);
	jsonw__string_field(jw, "comm", h->who.comm);
	jsonw__string_field(jw, "function", h->who.function);
	jsonw__string_field(jw, "module", h->who.module);
	jsonw__string_field(jw, "client", h->who.client);
	jsonw__string_field(jw, "holder_state", h->state == HOLDER_MODULE_UNLOADED ?
			    "module-unloaded" : h->state == HOLDER_CLIENT_UNBOUND ?
			    "client-unbound" : "alive");
	jsonw__uint_field(jw, "since_ns", h->who.ts_ns);
	jsonw__end_object(jw);
}

static void report_json(struct watch *w, uint64_t now, bool final)
{
	struct json_writer *jw = w->jw;
	const struct engine *e = w->e;
	size_t i;
	char t[32];

	jsonw__start_object(jw);
	jsonw__uint_field(jw, "schema", WATCH_SCHEMA);
	jsonw__string_field(jw, "type", "report");
	jsonw__string_field(jw, "time", wall_str(t, sizeof(t)));
	jsonw__bool_field(jw, "final", final);
	jsonw__double_field(jw, "min_age_s", (double)w->min_age_ns / 1e9);
	jsonw__name(jw, "leaks");
	jsonw__start_array(jw);
	for (i = 0; i < engine__nr_holders(e); i++)
		if (holder_leaked(engine__holder(e, i)))
			json_holder(jw, e, engine__holder(e, i), now);
	jsonw__end_array(jw);
	jsonw__name(jw, "long_held");
	jsonw__start_array(jw);
	for (i = 0; i < engine__nr_holders(e); i++)
		if (holder_long_held(w, engine__holder(e, i), now))
			json_holder(jw, e, engine__holder(e, i), now);
	jsonw__end_array(jw);
	jsonw__name(jw, "channels_in_use");
	jsonw__start_array(jw);
	for (i = 0; i < engine__nr_channels(e); i++) {
		const struct engine_channel *c = engine__channel(e, i);

		if (c->client_count <= 0)
			continue;
		jsonw__start_object(jw);
		jsonw__string_field(jw, "channel", c->name);
		jsonw__string_field(jw, "device", chan_device_name(e, c));
		jsonw__int_field(jw, "client_count", c->client_count);
		jsonw__uint_field(jw, "held", c->held);
		jsonw__uint_field(jw, "predating", c->predating);
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
	jsonw__name(jw, "stats");
	report__json_stats(jw, e, SEVERITY_ERROR);
	jsonw__end_object(jw);
}

static void report_text(struct watch *w, uint64_t now, bool final)
{
	const struct engine *e = w->e;
	const struct engine_stats *st = engine__stats(e);
	size_t i, leaks = 0, longheld = 0, in_use = 0;
	char t[32];

	for (i = 0; i < engine__nr_holders(e); i++) {
		leaks += holder_leaked(engine__holder(e, i));
		longheld += holder_long_held(w, engine__holder(e, i), now);
	}
	for (i = 0; i < engine__nr_channels(e); i++)
		in_use += engine__channel(e, i)->client_count > 0;
	fprintf(w->out, "%s %sreport: %zu leaked reference%s (holder gone), %zu held over "
		"%.3fs, %zu channel%s in use, %zu finding%s (%zu failing); %llu events, "
		"%llu lost\n", wall_str(t, sizeof(t)), final ? "final " : "", leaks,
		leaks == 1 ? "" : "s", longheld, (double)w->min_age_ns / 1e9, in_use,
		in_use == 1 ? "" : "s",
		engine__nr_findings(e), engine__nr_findings(e) == 1 ? "" : "s",
		engine__nr_failing(e, SEVERITY_ERROR), (unsigned long long)st->events,
		(unsigned long long)st->lost);
	for (i = 0; i < engine__nr_holders(e); i++) {
		const struct engine_holder *h = engine__holder(e, i);
		const struct engine_channel *c = engine__channel(e, h->channel);

		if (!holder_leaked(h) && !holder_long_held(w, h, now))
			continue;
		fprintf(w->out, "  %s: %s client_count %d: pid %u (%s) in %s [%s], "
			"age %.3fs%s\n", holder_leaked(h) ? "leaked" : "long-held", c->name,
			c->client_count, h->who.pid, h->who.comm,
			h->who.function[0] ? h->who.function : "?", h->who.module,
			now > h->who.ts_ns ? (double)(now - h->who.ts_ns) / 1e9 : 0.0,
			h->refs > 1 ? ", several references" : "");
	}
	for (i = 0; i < engine__nr_channels(e); i++) {
		const struct engine_channel *c = engine__channel(e, i);

		if (c->client_count <= 0)
			continue;
		fprintf(w->out, "  in use: %s client_count %d, %u held by traced gets, "
			"%u predating tracing%s%s\n", c->name, c->client_count, c->held,
			c->predating, c->client_name[0] ? ", client " : "", c->client_name);
	}
}

/* @truth: the kernel state just read, or NULL to read it here */
static int write_metrics(struct watch *w, uint64_t now, const struct snapshot *truth)
{
	struct prom_opts o = {
		.version = DMAREFWATCH_VERSION, .kernel = kernel_release(),
		.start_time_s = w->start_wall_s, .now_s = wall_now(),
		.now_ns = now, .min_age_ns = w->min_age_ns,
	};
	struct snapshot *own = NULL;
	char err[512] = "";
	int ret;

	if (!w->prometheus)
		return 0;
	if (!truth)
		truth = own = session__kernel_state(w->s);
	o.truth = truth;
	ret = prometheus__write_file(w->prometheus, w->e, &o, err, sizeof(err));
	snapshot__free(own);
	if (ret && strcmp(err, w->last_prom_err))
		p_err("%s", err);
	snprintf(w->last_prom_err, sizeof(w->last_prom_err), "%s", ret ? err : "");
	return ret;
}

static void periodic(struct watch *w, uint64_t now, bool final)
{
	/* the holders and the kernel's counts, exact after lost events, before
	 * anything is said */
	struct snapshot *truth;

	session__read_ledger(w->s);
	truth = session__kernel_state(w->s);

	engine__sync_counts(w->e, now, truth);
	engine__scan(w->e, now, w->min_age_ns);
	print_new_findings(w);
	if (w->jw)
		report_json(w, now, final);
	else
		report_text(w, now, final);
	fflush(w->out);
	write_metrics(w, now, truth);
	snapshot__free(truth);
	w->last_report_ns = now;
	w->reports++;
}

static int watch_tick(void *ctx, uint64_t now_ns)
{
	struct watch *w = ctx;

	if (live_hup) {
		live_hup = 0;
		reopen_out(w);
	}
	print_new_findings(w);
	if (now_ns - w->last_report_ns >= (uint64_t)w->interval_ns)
		periodic(w, now_ns, false);
	return 0;
}

int cmd_watch(int argc, char **argv)
{
	struct watch w = {
		.interval_ns = 60 * 1000000000LL,
		.min_age_ns = 300 * 1000000000LL,
		.duration_ns = -1,
	};
	struct suppressions *supp = NULL;
	char err[1024] = "";
	int r, ret = EXIT_ERROR;
	uint64_t now;

	r = parse_watch_opts(argc, argv, &w);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_ERROR;
	w.output = env.output && strcmp(env.output, "-") ? env.output : NULL;
	if (w.suppressions) {
		supp = suppress__load(w.suppressions, err, sizeof(err));
		if (!supp) {
			p_err("%s", err);
			return EXIT_ERROR;
		}
	}
	/* the metrics path is checked before anything is attached */
	if (w.prometheus && prometheus__check_path(w.prometheus, err, sizeof(err))) {
		p_err("%s", err);
		goto out;
	}
	if (open_out(&w))
		goto out;
	w.e = engine__new();
	if (!w.e)
		goto out;
	engine__set_suppressions(w.e, supp);
	live_signals_init();
	if (session__open(&w.s, w.e, true, NULL, NULL, err, sizeof(err))) {
		p_err("cannot trace here: %s", err);
		goto out;
	}
	if (live_start(w.s, w.e, NULL))
		goto out;
	if (w.service && session__publish(w.s, pin__dir(), err, sizeof(err))) {
		p_err("%s", err);
		goto out;
	}
	w.start_wall_s = wall_now();
	now = now_mono_ns();
	w.last_report_ns = now;
	/* a metrics file that cannot be written is an error now, not in an hour */
	if (write_metrics(&w, now, NULL))
		goto out;
	if (env.verbose)
		p_info("watching: report every %.3fs, long-held after %.3fs%s%s",
		       w.interval_ns / 1e9, w.min_age_ns / 1e9,
		       w.prometheus ? ", metrics to " : "", w.prometheus ? w.prometheus : "");
	/* attached (and pinned): the units ordered after ours may start */
	r = sd_notify_send("READY=1");
	if (r < 0)
		p_err("cannot tell systemd we are ready (NOTIFY_SOCKET): %s", strerror(-r));
	if (live_loop(w.s, w.e, NULL, w.duration_ns, watch_tick, &w))
		goto out;
	sd_notify_send("STOPPING=1");
	live_sync(w.s, w.e, NULL);
	periodic(&w, now_mono_ns(), true);
	live_print_lost(w.e);
	ret = EXIT_OK;
out:
	session__close(w.s);
	engine__free(w.e);
	close_out(&w);
	suppress__free(supp);
	return ret;
}
