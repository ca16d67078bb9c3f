// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * dmarefwatch run -- CMD: trace while CMD runs, wait the grace period,
 * report.  CMD starts only after every hook is attached.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "bpf_session.h"
#include "bpf_loader.h"
#include "cli.h"
#include "engine.h"
#include "live.h"
#include "outputs.h"
#include "suppress.h"
#include "trace_file.h"

struct run_opts {
	long long grace_ns;
	long error_exitcode;
	enum finding_severity fail_on;
	const char *junit;
	const char *json_report;
	const char *suppressions;
	const char *record;
	char **cmd;
};

struct child {
	pid_t pid;
	int status;
	bool done;
};

static void run_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmarefwatch [GLOBAL OPTIONS] run [--grace SEC] [--error-exitcode N]\n"
		"       [--fail-on error|warning] [--junit FILE] [--json-report FILE]\n"
		"       [--suppressions FILE] [--record FILE] -- CMD [ARGS...]\n"
		"\n"
		"Attach every hook, run CMD, keep tracing for the grace period after it\n"
		"exits, then report the findings (text, or JSON with --json, on stdout\n"
		"or -o FILE). References still held at the end are leaked-reference.\n"
		"  --grace SEC           keep tracing after CMD exits (default 1)\n"
		"  --error-exitcode N    exit status when a finding fails (default 3)\n"
		"  --fail-on LEVEL       error (default) or warning: what fails the run\n"
		"  --junit FILE          JUnit XML for CI\n"
		"  --json-report FILE    the JSON report, besides the text one\n"
		"  --suppressions FILE   expected findings (see dmarefwatch(8))\n"
		"  --record FILE         also record a trace; `report FILE` gives the\n"
		"                        same findings\n"
		"Exit status: CMD's status when no finding fails; N (3) when one does;\n"
		"2 when tracing could not start, on bad arguments or bad files, or when\n"
		"the engine ran out of memory and CMD exited 0.\n");
}

static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	const struct cli_opt opts[] = {
		CLI_SECONDS_OPT("--grace", &o->grace_ns, 0, NULL),
		CLI_COUNT_OPT("--error-exitcode", &o->error_exitcode, 1, 255, "1 to 255"),
		CLI_FAIL_ON_OPT("--fail-on", &o->fail_on),
		CLI_STR_OPT("--junit", &o->junit),
		CLI_STR_OPT("--json-report", &o->json_report),
		CLI_STR_OPT("--suppressions", &o->suppressions),
		CLI_STR_OPT("--record", &o->record),
		CLI_OPT_END,
	};
	const struct cli_cmd cmd = {
		.name = "run", .usage = run_usage, .opts = opts, .nargs = CLI_ARGS_REST,
	};
	int i, r;

	r = cli_parse(&cmd, argc, argv, &i);
	if (r)
		return r;
	if (i >= argc) {
		p_err("run needs a command: dmarefwatch run [OPTIONS] -- CMD [ARGS...]");
		return -1;
	}
	o->cmd = argv + i;
	return 0;
}

/*
 * Start CMD.  A close-on-exec pipe tells us whether exec worked, so that a
 * missing command is an error of ours (exit 2), not a status of CMD's.
 */
static int start_child(char **cmd, struct child *c)
{
	int fds[2], err = 0;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	c->pid = fork();
	if (c->pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (!c->pid) {
		struct sigaction sa = { .sa_handler = SIG_DFL };

		close(fds[0]);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		execvp(cmd[0], cmd);
		err = errno;
		n = write(fds[1], &err, sizeof(err));
		(void)n;
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], &err, sizeof(err));
	close(fds[0]);
	if (n == sizeof(err)) {
		waitpid(c->pid, &c->status, 0);
		c->done = true;
		return -err;
	}
	return 0;
}

static int child_tick(void *ctx, uint64_t now_ns)
{
	struct child *c = ctx;

	(void)now_ns;
	if (waitpid(c->pid, &c->status, WNOHANG) == c->pid)
		c->done = true;
	return c->done;
}

static int child_exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_ERROR;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = {
		.grace_ns = 1000000000LL,
		.error_exitcode = EXIT_RUN_FINDINGS,
		.fail_on = SEVERITY_ERROR,
	};
	struct suppressions *supp = NULL;
	struct trace_writer *tw = NULL;
	struct child child = { 0 };
	struct session *s = NULL;
	struct engine *e = NULL;
	char err[1024] = "";
	int r, ret = EXIT_ERROR;

	r = parse_run_opts(argc, argv, &o);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_ERROR;
	if (o.suppressions) {
		supp = suppress__load(o.suppressions, err, sizeof(err));
		if (!supp) {
			p_err("%s", err);
			return EXIT_ERROR;
		}
	}
	/* every output must be writable before CMD runs, not after */
	if (outputs_check_writable(env.output, o.json_report, o.junit))
		goto out;
	if (o.record && output_path_ok(o.record, err, sizeof(err))) {
		p_err("%s", err);
		goto out;
	}
	e = engine__new();
	if (!e)
		goto out;
	engine__set_suppressions(e, supp);
	live_signals_init();
	if (session__open(&s, e, true, NULL, NULL, err, sizeof(err))) {
		p_err("cannot trace here: %s", err);
		goto out;
	}
	if (o.record) {
		tw = trace_writer__open(o.record, kernel_release(), err, sizeof(err));
		if (!tw) {
			p_err("%s", err);
			goto out;
		}
		session__set_callback(s, outputs_record_event, tw);
		session__set_ledger_callback(s, outputs_record_ledger, tw);
	}
	if (live_start(s, e, tw))
		goto out_record;
	loader__startup_mark(env.verbose, "engine start");
	r = start_child(o.cmd, &child);
	if (r) {
		p_err("cannot run %s: %s", o.cmd[0], strerror(-r));
		goto out;
	}
	if (live_loop(s, e, tw, -1, child_tick, &child))
		goto out;
	if (!child.done) {
		/* we were told to stop: so is CMD */
		kill(child.pid, SIGTERM);
		waitpid(child.pid, &child.status, 0);
		child.done = true;
	}
	live_exiting = 0;
	/* releases that CMD's exit sets off (module unload, close) land now */
	if (live_loop(s, e, tw, o.grace_ns, NULL, NULL) || live_finish(s, e, tw))
		goto out_record;
	live_print_lost(e);
	if (outputs_write_reports(e, env.output, o.json_report, o.junit, o.fail_on,
				  o.cmd, supp))
		goto out;
	ret = engine__nr_failing(e, o.fail_on) ? o.error_exitcode
					       : child_exit_status(child.status);
	if (!ret && engine__stats(e)->alloc_failures)
		ret = EXIT_ERROR;	/* something was dropped: never a clean pass */
	goto out;
out_record:
	p_err("tracing failed%s%s", o.record ? " or cannot write " : "",
	      o.record ? o.record : "");
out:
	if (tw && trace_writer__close(tw, err, sizeof(err))) {
		p_err("%s", err);
		ret = EXIT_ERROR;
	}
	session__close(s);
	engine__free(e);
	suppress__free(supp);
	return ret;
}
