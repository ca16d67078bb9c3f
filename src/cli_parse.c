// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cli_parse(): the one option parser of every command (see cli.h). */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const struct cli_opt *find_opt(const struct cli_cmd *cmd, const char *arg,
				      const char **inline_val)
{
	const struct cli_opt *o;
	size_t n;

	*inline_val = NULL;
	for (o = cmd->opts; o && o->name; o++) {
		n = strlen(o->name);
		if (strncmp(arg, o->name, n))
			continue;
		if (!arg[n])
			return o;
		if (arg[n] == '=' && o->type != CLI_FLAG) {
			*inline_val = arg + n + 1;
			return o;
		}
	}
	return NULL;
}

static int set_value(const struct cli_opt *o, const char *val)
{
	long long ns;
	long v;

	switch (o->type) {
	case CLI_STR:
		*(const char **)o->dst = val;
		return 0;
	case CLI_SECONDS:
		ns = parse_duration_ns(val);
		if (ns < 0 || ns < o->min)
			break;
		*(long long *)o->dst = ns;
		return 0;
	case CLI_COUNT:
		if (parse_count(val, (long)o->min, (long)o->max, &v))
			break;
		*(long *)o->dst = v;
		return 0;
	case CLI_FAIL_ON:
		return parse_fail_on_arg(val, o->dst);
	case CLI_FLAG:
		return 0;
	}
	p_err("%s takes %s, not '%s'", o->name,
	      o->takes ? o->takes : (o->type == CLI_SECONDS ? "seconds" : "a number"), val);
	return -1;
}

/* One option of @cmd at argv[*i]: 0 taken, -1 bad. */
static int own_opt(const struct cli_cmd *cmd, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *val;
	const struct cli_opt *o = find_opt(cmd, a, &val);

	if (!o) {
		p_err("%s: unknown option '%s' (see %s --help)", cmd->name, a, cmd->name);
		return -1;
	}
	if (o->type == CLI_FLAG) {
		*(bool *)o->dst = true;
	} else {
		if (!val) {
			if (*i + 1 >= argc) {
				p_err("option %s needs a value", o->name);
				return -1;
			}
			val = argv[++*i];
		}
		if (set_value(o, val))
			return -1;
	}
	if (o->given)
		*o->given = true;
	return 0;
}

/* An argument that is no option: 0 taken, 1 the rest starts here, -1 bad. */
static int plain_arg(const struct cli_cmd *cmd, const char *a)
{
	if (cmd->nargs == CLI_ARGS_REST)
		return 1;
	if (cmd->nargs == 1 && !*cmd->arg) {
		*cmd->arg = a;
		return 0;
	}
	if (cmd->nargs == 1)
		p_err("%s takes one %s, not '%s' too", cmd->name, cmd->arg_name, a);
	else
		p_err("%s: unexpected argument '%s' (see %s --help)", cmd->name, a, cmd->name);
	return -1;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, int *rest)
{
	int i, r;

	if (cmd->nargs == 1)
		*cmd->arg = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--") && cmd->nargs == CLI_ARGS_REST) {
			i++;
			break;
		}
		r = parse_common_arg(argc, argv, &i, cmd->usage);
		if (r == ARG_DONE)
			continue;
		if (r != ARG_OWN)
			return r == ARG_HELP ? 1 : -1;
		if (a[0] == '-' && a[1]) {
			if (own_opt(cmd, argc, argv, &i))
				return -1;
			continue;
		}
		r = plain_arg(cmd, a);
		if (r < 0)
			return -1;
		if (r > 0)
			break;
	}
	if (rest)
		*rest = i;
	return 0;
}
