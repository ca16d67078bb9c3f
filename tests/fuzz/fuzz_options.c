// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The option parsers: durations, counts, severities, and cli_parse() over a
 * command line made of the input's lines (every option type, --opt=VALUE,
 * "--", a command after the options).
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "finding.h"
#include "fuzz_common.h"

#define MAX_ARGS	16

static void no_usage(FILE *f)
{
	(void)f;
}

static void fuzz_cli_parse(char *s)
{
	const char *str = NULL;
	bool flag = false, given = false;
	long long ns = 0;
	long count = 0;
	enum finding_severity sev = SEVERITY_ERROR;
	const struct cli_opt opts[] = {
		CLI_STR_OPT("--file", &str),
		CLI_FLAG_OPT("--stack", &flag),
		CLI_SECONDS_OPT("--interval", &ns, 100000000LL, "seconds (at least 0.1)"),
		{ .name = "--batch", .type = CLI_COUNT, .dst = &count, .min = 0, .max = 99,
		  .takes = "0 to 99", .given = &given },
		CLI_FAIL_ON_OPT("--fail-on", &sev),
		CLI_OPT_END,
	};
	const char *arg = NULL;
	struct cli_cmd cmd = {
		.name = "fuzz", .usage = no_usage, .opts = opts, .nargs = 1, .arg = &arg,
		.arg_name = "thing",
	};
	char *argv[MAX_ARGS + 1], *line;
	int argc = 1, rest = 0, r, null, saved;

	argv[0] = (char *)"fuzz";
	while ((line = strsep(&s, "\n")) != NULL && argc < MAX_ARGS)
		argv[argc++] = line;
	argv[argc] = NULL;
	/* the parser's error lines are expected: keep them out of the log */
	fflush(stderr);
	saved = dup(2);
	null = open("/dev/null", O_WRONLY);
	if (null >= 0)
		dup2(null, 2);
	r = cli_parse(&cmd, argc, argv, NULL);
	cmd.nargs = CLI_ARGS_REST;
	cmd.arg = NULL;
	if (cli_parse(&cmd, argc, argv, &rest) == 0 && (rest < 1 || rest > argc))
		abort();
	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	if (null >= 0)
		close(null);
	if (r == 0 && ns && ns < 100000000LL)
		abort();
	if (r == 0 && given && (count < 0 || count > 99))
		abort();
	if (r == 0 && sev != SEVERITY_ERROR && sev != SEVERITY_WARNING)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	char s[256];
	long v;
	long long ns;

	if (n >= sizeof(s))
		n = sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	ns = parse_duration_ns(s);
	if (ns < -1)
		abort();
	if (!parse_count(s, 0, 1000000000L, &v) && (v < 0 || v > 1000000000L))
		abort();
	finding_severity_parse(s);
	fuzz_cli_parse(s);
	return 0;
}
