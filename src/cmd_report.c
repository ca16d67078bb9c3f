// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* dmarefwatch report FILE: the analysis of a recorded trace, offline. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "engine.h"
#include "outputs.h"
#include "suppress.h"
#include "trace_file.h"

static void report_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmarefwatch [GLOBAL OPTIONS] report [--fail-on error|warning]\n"
		"       [--suppressions FILE] [--json-report FILE] [--junit FILE] TRACE\n"
		"\n"
		"Replay a trace written by `record` or `run --record` through the same\n"
		"engine: the findings are those of the live run.  Needs no privileges\n"
		"and no BPF.  TRACE and FILE must be regular files; a recording cut\n"
		"inside its last line replays up to the last complete line, with a warning.\n"
		"Exit status: 0 no failing finding, 1 failing findings, 2 bad arguments,\n"
		"a bad trace or suppression file, or out of memory.\n");
}

int cmd_report(int argc, char **argv)
{
	enum finding_severity fail_on = SEVERITY_ERROR;
	const char *path = NULL, *supp_path = NULL, *json_report = NULL, *junit = NULL;
	struct suppressions *supp = NULL;
	struct trace_info info;
	struct engine *e = NULL;
	char err[1024] = "";
	int r, ret = EXIT_ERROR;
	const struct cli_opt opts[] = {
		CLI_FAIL_ON_OPT("--fail-on", &fail_on),
		CLI_STR_OPT("--suppressions", &supp_path),
		CLI_STR_OPT("--json-report", &json_report),
		CLI_STR_OPT("--junit", &junit),
		CLI_OPT_END,
	};
	const struct cli_cmd cmd = {
		.name = "report", .usage = report_usage, .opts = opts, .nargs = 1, .arg = &path,
		.arg_name = "trace file",
	};

	r = cli_parse(&cmd, argc, argv, NULL);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_ERROR;
	if (!path) {
		p_err("report needs a trace file (see report --help)");
		return EXIT_ERROR;
	}
	if (supp_path) {
		supp = suppress__load(supp_path, err, sizeof(err));
		if (!supp) {
			p_err("%s", err);
			return EXIT_ERROR;
		}
	}
	e = engine__new();
	if (!e)
		goto out;
	engine__set_suppressions(e, supp);
	if (trace_file__replay_info(path, e, &info, err, sizeof(err))) {
		p_err("%s", err);
		goto out;
	}
	if (info.truncated)
		p_info("warning: %s: cut inside line %llu (interrupted recording?): "
		       "replayed up to the last complete line", path,
		       (unsigned long long)info.lines + 1);
	if (!info.finished) {
		/* an interrupted recording: judge at its last event, from events only */
		p_info("warning: %s has no end (interrupted recording?): leak verdicts "
		       "rest on its events alone, without the final kernel state", path);
		engine__finish(e, engine__stats(e)->last_ts_ns, NULL);
	}
	if (outputs_write_reports(e, env.output, json_report, junit, fail_on, NULL, supp))
		goto out;
	ret = engine__nr_failing(e, fail_on) ? EXIT_FINDINGS : EXIT_OK;
	if (!ret && engine__stats(e)->alloc_failures)
		ret = EXIT_ERROR;	/* something was dropped: never a clean pass */
out:
	engine__free(e);
	suppress__free(supp);
	return ret;
}
