/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Command-line plumbing shared by the commands: global options, errors,
 * exit statuses.  One file per command (cmd_<name>.c) implements it.
 */
#ifndef __DMARW_CLI_H
#define __DMARW_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "bpf_loader.h"
#include "finding.h"

#define DMAREFWATCH_VERSION	"0.1.0"

/* Exit statuses (also in docs/dmarefwatch.8 and --help). */
#define EXIT_OK			0
#define EXIT_FINDINGS		1	/* report, snapshot: failing findings */
#define EXIT_ERROR		2	/* bad arguments, tracing impossible, bad files */
#define EXIT_RUN_FINDINGS	3	/* run: default --error-exitcode */

#define MAX_DEVICE_FILTERS	16

struct env {
	enum attach_mode mode;
	const char *devices[MAX_DEVICE_FILTERS];	/* --device, any of them */
	int nr_devices;
	bool json;
	const char *output;				/* -o FILE, NULL stdout */
	bool verbose;
	bool stacks;					/* --no-stacks clears */
	const char *btf;				/* --btf FILE, $DMAREFWATCH_BTF */
	uint32_t max_references;			/* --max-references, 0 default */
	bool send_balanced;				/* trace: every get/put a record */
};

extern struct env env;

/*
 * "dmarefwatch: error: ..." on stderr; with --json also {"error":"..."} on
 * stdout, one line.
 */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Sets env.json before any parsing when --json (or -j) is among the
 * arguments, so that even an error in an earlier argument is a JSON one.
 * Stops at "--" and at run's CMD.
 */
void cli_scan_json(int argc, char **argv);
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parse global options that may also stand after the command name.  Returns
 * 1 if argv[*i] was a global option (consumed, *i advanced past its value),
 * 0 if not, -1 on a bad value (message printed).
 */
int parse_global_opt(int argc, char **argv, int *i);
/* What parse_common_arg() made of argv[*i]. */
enum {
	ARG_BAD = -1,		/* a bad value: message printed, exit 2 */
	ARG_OWN = 0,		/* not a common one: the command's own */
	ARG_DONE = 1,		/* consumed (with its value) */
	ARG_HELP = 2,		/* -h/--help: usage printed, exit 0 */
};

/* -h/--help (prints @usage on stdout) and the global options, in any command. */
int parse_common_arg(int argc, char **argv, int *i, void (*usage)(FILE *f));
/* --fail-on error|warning into *out; message and -1 if bad. */
int parse_fail_on_arg(const char *val, enum finding_severity *out);

/*
 * A command's own options, for cli_parse(): every command parses its
 * arguments and words its errors the same way.
 */
enum cli_opt_type {
	CLI_STR,		/* const char **: the value */
	CLI_FLAG,		/* bool *: no value */
	CLI_SECONDS,		/* long long *: nanoseconds, at least min */
	CLI_COUNT,		/* long *: a decimal integer in [min, max] */
	CLI_FAIL_ON,		/* enum finding_severity *: error or warning */
};

struct cli_opt {
	const char *name;	/* "--grace" */
	enum cli_opt_type type;
	void *dst;
	long long min, max;
	const char *takes;	/* "OPT takes TAKES, not 'VALUE'": "1 to 255" */
	bool *given;		/* set when the option is seen, or NULL */
};

#define CLI_STR_OPT(n, d)	{ .name = (n), .type = CLI_STR, .dst = (d) }
#define CLI_FLAG_OPT(n, d)	{ .name = (n), .type = CLI_FLAG, .dst = (d) }
#define CLI_FAIL_ON_OPT(n, d)	{ .name = (n), .type = CLI_FAIL_ON, .dst = (d) }
#define CLI_SECONDS_OPT(n, d, min_ns, tk) \
	{ .name = (n), .type = CLI_SECONDS, .dst = (d), .min = (min_ns), .takes = (tk) }
#define CLI_COUNT_OPT(n, d, lo, hi, tk) \
	{ .name = (n), .type = CLI_COUNT, .dst = (d), .min = (lo), .max = (hi), .takes = (tk) }
#define CLI_OPT_END		{ .name = NULL }

#define CLI_ARGS_REST	-1	/* the first argument and all after it: run's CMD */

struct cli_cmd {
	const char *name;	/* "report" */
	void (*usage)(FILE *f);
	const struct cli_opt *opts;	/* ends with { NULL } */
	int nargs;		/* arguments that are no option: 0, 1 or CLI_ARGS_REST */
	const char **arg;	/* nargs 1: the argument, NULL when none */
	const char *arg_name;	/* nargs 1: "trace file" */
};

/*
 * The global options, -h/--help and @cmd's own options, "--opt VALUE" or
 * "--opt=VALUE".  Returns 0, 1 when the usage was printed (exit 0), -1 on
 * a bad argument (one error printed).  With CLI_ARGS_REST, *rest is the
 * index of the first argument after the options (after "--"), argc if none.
 */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, int *rest);

/* Does a device (names as the kernel has them) pass the --device filters? */
bool env_device_selected(int dev_id, const char *dev_name, const char *drv_name);
/* Open -o FILE (or stdout); p_err and NULL on failure. */
FILE *open_output(const char *path);
/* Parse "1.5", "2s", "500ms" into nanoseconds; -1 if bad. */
long long parse_duration_ns(const char *s);
/* A decimal integer in [min, max], nothing after it: 0, or -1 (no message). */
int parse_count(const char *s, long min, long max, long *out);
uint64_t now_mono_ns(void);
/* uname -r, for trace headers and reports. */
const char *kernel_release(void);

int cmd_trace(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_bpf_object(int argc, char **argv);

#endif /* __DMARW_CLI_H */
