// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Report destinations; see outputs.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "outputs.h"
#include "report.h"
#include "trace_file.h"

static int check_one(const char *path)
{
	FILE *f;

	if (!path || !strcmp(path, "-"))
		return 0;
	f = fopen(path, "we");
	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

int outputs_check_writable(const char *output, const char *json_report, const char *junit)
{
	return check_one(output) || check_one(json_report) || check_one(junit) ? -1 : 0;
}

static int write_one(const char *path, const struct engine *e, const struct report_opts *o,
		     int (*fn)(FILE *, const struct engine *, const struct report_opts *))
{
	FILE *f = open_output(path);
	int err;

	if (!f)
		return -1;
	err = fn(f, e, o);
	if (fflush(f) || ferror(f))
		err = -1;
	if (f != stdout && fclose(f))
		err = -1;
	if (err)
		p_err("cannot write %s", path && strcmp(path, "-") ? path : "the report");
	return err ? -1 : 0;
}

int outputs_write_reports(const struct engine *e, const char *output,
			  const char *json_report, const char *junit,
			  enum finding_severity fail_on, char *const *cmd,
			  const struct suppressions *supp)
{
	char command[512] = "";
	struct report_opts o;
	size_t off = 0;
	int err = 0;

	report_opts__init(&o);
	o.fail_on = fail_on;
	o.verbose = env.verbose;
	o.kernel = kernel_release();
	o.supp = supp;
	for (; cmd && *cmd && off < sizeof(command); cmd++)
		off += snprintf(command + off, sizeof(command) - off, "%s%s",
				off ? " " : "", *cmd);
	o.command = off ? command : NULL;
	o.pretty = true;
	err |= write_one(output, e, &o, env.json ? report__json : report__text);
	if (json_report)
		err |= write_one(json_report, e, &o, report__json);
	if (junit)
		err |= write_one(junit, e, &o, report__junit);
	return err ? -1 : 0;
}

void outputs_record_event(void *trace_writer, const struct rw_event *ev)
{
	trace_writer__event(trace_writer, ev);
}
