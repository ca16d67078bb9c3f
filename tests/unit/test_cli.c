// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cli_parse(): the one option parser of every command, and its errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "harness.h"

static void no_usage(FILE *f)
{
	fputs("usage\n", f);
}

struct parsed {
	const char *str;
	bool flag, count_given;
	long long ns;
	long count;
	enum finding_severity sev;
	const char *arg;
};

/* cli_parse() over @args (a command line after the program name); stderr into @err. */
static int parse(struct parsed *p, int nargs, const char *const *args, int *rest,
		 char *err, size_t errlen)
{
	const struct cli_opt opts[] = {
		CLI_STR_OPT("--file", &p->str),
		CLI_FLAG_OPT("--stack", &p->flag),
		CLI_SECONDS_OPT("--interval", &p->ns, 100000000LL, "seconds (at least 0.1)"),
		{ .name = "--batch", .type = CLI_COUNT, .dst = &p->count, .min = 1, .max = 9,
		  .takes = "1 to 9", .given = &p->count_given },
		CLI_FAIL_ON_OPT("--fail-on", &p->sev),
		CLI_OPT_END,
	};
	const struct cli_cmd cmd = {
		.name = "demo", .usage = no_usage, .opts = opts, .nargs = rest ? CLI_ARGS_REST : 1,
		.arg = &p->arg, .arg_name = "thing",
	};
	char *argv[16];
	FILE *tmp = tmpfile();
	int i, r, saved = dup(2);
	size_t n;

	argv[0] = (char *)"demo";
	for (i = 0; i < nargs && i < 15; i++)
		argv[i + 1] = (char *)args[i];
	memset(p, 0, sizeof(*p));
	fflush(stderr);
	if (tmp)
		dup2(fileno(tmp), 2);
	r = cli_parse(&cmd, nargs + 1, argv, rest);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	err[0] = '\0';
	if (tmp) {
		rewind(tmp);
		n = fread(err, 1, errlen - 1, tmp);
		err[n] = '\0';
		fclose(tmp);
	}
	return r;
}

TEST(cli_parse_values)
{
	static const char *const args[] = {
		"--file", "a", "--stack", "--interval=2", "--batch", "3", "--fail-on", "warning", "x",
	};
	struct parsed p;
	char err[512];

	CHECK(parse(&p, 9, args, NULL, err, sizeof(err)) == 0, "refused: %s", err);
	CHECK(p.str && !strcmp(p.str, "a"), "--file");
	CHECK(p.flag, "--stack");
	CHECK(p.ns == 2000000000LL, "--interval=2 gave %lld", p.ns);
	CHECK(p.count == 3 && p.count_given, "--batch");
	CHECK(p.sev == SEVERITY_WARNING, "--fail-on");
	CHECK(p.arg && !strcmp(p.arg, "x"), "argument");
out:;
}

TEST(cli_parse_rest_is_the_command)
{
	static const char *const args[] = { "--stack", "make", "--file", "-j" };
	static const char *const dashes[] = { "--", "--stack" };
	struct parsed p;
	char err[512];
	int rest = 0;

	CHECK(parse(&p, 4, args, &rest, err, sizeof(err)) == 0, "refused: %s", err);
	CHECK(rest == 2 && p.flag && !p.str, "rest %d", rest);
	CHECK(parse(&p, 2, dashes, &rest, err, sizeof(err)) == 0, "refused: %s", err);
	CHECK(rest == 2 && !p.flag, "after --: rest %d", rest);
out:;
}

TEST(cli_parse_errors_are_worded_once)
{
	static const struct {
		int n;
		const char *args[3];
		const char *msg;
	} cases[] = {
		{ 1, { "--frob" }, "demo: unknown option '--frob' (see demo --help)" },
		{ 1, { "--file" }, "option --file needs a value" },
		{ 2, { "--interval", "0.01" }, "--interval takes seconds (at least 0.1), not '0.01'" },
		{ 2, { "--interval", "soon" }, "--interval takes seconds (at least 0.1), not 'soon'" },
		{ 2, { "--batch", "10" }, "--batch takes 1 to 9, not '10'" },
		{ 1, { "--batch=3x" }, "--batch takes 1 to 9, not '3x'" },
		{ 2, { "--fail-on", "never" }, "--fail-on takes error or warning, not 'never'" },
		{ 2, { "a", "b" }, "demo takes one thing, not 'b' too" },
		{ 1, { "--stack=1" }, "demo: unknown option '--stack=1'" },
	};
	struct parsed p;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(parse(&p, cases[i].n, cases[i].args, NULL, err, sizeof(err)) == -1,
		      "case %zu accepted", i);
		CHECK(strstr(err, cases[i].msg), "case %zu: '%s', expected '%s'", i, err,
		      cases[i].msg);
		CHECK(strchr(err, '\n') == err + strlen(err) - 1, "case %zu: not one line: %s",
		      i, err);
	}
out:;
}
