// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* dmarefwatch record -o FILE: the engine's inputs to a trace file. */
#include <string.h>
#include "bpf_session.h"
#include "cli.h"
#include "engine.h"
#include "live.h"
#include "outputs.h"
#include "trace_file.h"

static void record_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmarefwatch [GLOBAL OPTIONS] record -o FILE [--duration SEC]\n"
		"\n"
		"Trace until Ctrl-C, SIGTERM or --duration and write everything the\n"
		"analysis uses (startup snapshot, hooks, events, lost counts, final kernel\n"
		"state) to FILE as JSON lines. `dmarefwatch report FILE` analyses it.\n"
		"Exit status: 0, or 2 when tracing is not possible, on bad arguments or\n"
		"when FILE cannot be written.\n");
}

int cmd_record(int argc, char **argv)
{
	struct trace_writer *tw = NULL;
	long long duration = -1;
	struct session *s = NULL;
	struct engine *e = NULL;
	char err[1024] = "";
	int r, ret = EXIT_ERROR;
	const struct cli_opt opts[] = {
		CLI_SECONDS_OPT("--duration", &duration, 0, NULL),
		CLI_OPT_END,
	};
	const struct cli_cmd cmd = {
		.name = "record", .usage = record_usage, .opts = opts, .nargs = 0,
	};

	r = cli_parse(&cmd, argc, argv, NULL);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_ERROR;
	if (!env.output || !strcmp(env.output, "-")) {
		p_err("record needs -o FILE");
		return EXIT_ERROR;
	}
	if (output_path_ok(env.output, err, sizeof(err))) {
		p_err("%s", err);
		return EXIT_ERROR;
	}
	e = engine__new();
	if (!e)
		goto out;
	live_signals_init();
	if (session__open(&s, e, true, NULL, NULL, err, sizeof(err))) {
		p_err("cannot trace here: %s", err);
		goto out;
	}
	tw = trace_writer__open(env.output, kernel_release(), err, sizeof(err));
	if (!tw) {
		p_err("%s", err);
		goto out;
	}
	session__set_callback(s, outputs_record_event, tw);
	session__set_ledger_callback(s, outputs_record_ledger, tw);
	if (live_start(s, e, tw) || live_loop(s, e, tw, duration, NULL, NULL) ||
	    live_finish(s, e, tw)) {
		p_err("recording to %s failed", env.output);
		goto out;
	}
	live_print_lost(e);
	ret = EXIT_OK;
out:
	if (tw && trace_writer__close(tw, err, sizeof(err))) {
		p_err("%s", err);
		ret = EXIT_ERROR;
	}
	session__close(s);
	engine__free(e);
	return ret;
}
