// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Report destinations; see outputs.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "engine.h"
#include "outputs.h"
#include "report.h"
#include "trace_file.h"

int output_path_ok(const char *path, char *err, size_t errlen)
{
	const char *slash;
	char dir[4096];
	struct stat st;

	if (!path || !strcmp(path, "-"))
		return 0;
	if (!*path) {
		snprintf(err, errlen, "empty output path");
		return -1;
	}
	if (!stat(path, &st)) {
		/* a terminal, /dev/null or a pipe is written in place, never replaced */
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
			return 0;
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file, a character device or a FIFO",
				 path);
			return -1;
		}
	}
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (access(dir, W_OK | X_OK)) {
		snprintf(err, errlen, "cannot write %s: %s: %s", path, dir, strerror(errno));
		return -1;
	}
	return 0;
}

FILE *out_file__open(struct out_file *of, const char *path, char *err, size_t errlen)
{
	const char *base;
	struct stat st;
	int fd;

	memset(of, 0, sizeof(*of));
	of->path = path;
	if (!path || !strcmp(path, "-")) {
		of->f = stdout;
		return of->f;
	}
	if (output_path_ok(path, err, errlen))
		return NULL;
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		/* a device or a FIFO: written in place (nothing to rename) */
		of->f = fopen(path, "we");
		if (!of->f)
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return of->f;
	}
	/* through a symlink to a regular file: replace the file, keep the link */
	of->real = realpath(path, NULL);
	if (of->real)
		path = of->real;
	base = strrchr(path, '/');
	if (asprintf(&of->tmp, "%.*s.%s.tmp.XXXXXX", base ? (int)(base - path + 1) : 0, path,
		     base ? base + 1 : path) < 0) {
		of->tmp = NULL;
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	fd = mkostemp(of->tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file for %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	if (fchmod(fd, 0644) || !(of->f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: %s", of->tmp, strerror(errno));
		close(fd);
		unlink(of->tmp);
		goto fail;
	}
	return of->f;
fail:
	free(of->tmp);
	free(of->real);
	of->tmp = of->real = NULL;
	return NULL;
}

int out_file__close(struct out_file *of, bool commit, char *err, size_t errlen)
{
	int ret = 0;

	if (!of->f)
		return 0;
	if (fflush(of->f) || ferror(of->f)) {
		snprintf(err, errlen, "cannot write %s: %s",
			 of->tmp ? of->path : "the output", strerror(errno ? errno : EIO));
		ret = -1;
	}
	if (of->f == stdout) {
		of->f = NULL;
		return ret;
	}
	if (!of->tmp) {		/* a device or a FIFO, written in place */
		if (fclose(of->f) && !ret) {
			snprintf(err, errlen, "cannot write %s: %s", of->path, strerror(errno));
			ret = -1;
		}
		of->f = NULL;
		return ret;
	}
	if (fclose(of->f) && !ret) {
		snprintf(err, errlen, "cannot write %s: %s", of->path, strerror(errno));
		ret = -1;
	}
	of->f = NULL;
	if (commit && !ret) {
		const char *dst = of->real ? of->real : of->path;
		struct stat st;

		/* the path may have changed since the open: still only a regular file */
		if (!lstat(dst, &st) && !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: no longer a regular file; not replaced", dst);
			ret = -1;
		} else if (rename(of->tmp, dst)) {
			snprintf(err, errlen, "rename %s to %s: %s", of->tmp, dst, strerror(errno));
			ret = -1;
		}
	}
	if (!commit || ret)
		unlink(of->tmp);
	free(of->tmp);
	free(of->real);
	of->tmp = of->real = NULL;
	return ret;
}

static int check_one(const char *path)
{
	char err[512];

	if (output_path_ok(path, err, sizeof(err))) {
		p_err("%s", err);
		return -1;
	}
	return 0;
}

int outputs_check_writable(const char *output, const char *json_report, const char *junit)
{
	return check_one(output) || check_one(json_report) || check_one(junit) ? -1 : 0;
}

static int write_one(const char *path, const struct engine *e, const struct report_opts *o,
		     int (*fn)(FILE *, const struct engine *, const struct report_opts *))
{
	struct out_file of;
	char err[512];
	FILE *f = out_file__open(&of, path, err, sizeof(err));
	int ret;

	if (!f) {
		p_err("%s", err);
		return -1;
	}
	ret = fn(f, e, o);
	if (out_file__close(&of, !ret, err, sizeof(err))) {
		p_err("%s", err);
		return -1;
	}
	if (ret)
		p_err("cannot write %s", path && strcmp(path, "-") ? path : "the report");
	return ret ? -1 : 0;
}

const char *outputs_holders_from;

int outputs_write_reports(const struct engine *e, const char *output,
			  const char *json_report, const char *junit,
			  enum finding_severity fail_on, char *const *cmd,
			  const struct suppressions *supp)
{
	char command[512] = "";
	struct report_opts o;
	size_t off = 0;
	int err = 0;

	if (engine__stats(e)->alloc_failures)
		p_err("out of memory %llu time%s: devices, channels, holders or findings were "
		      "dropped, the report is incomplete",
		      (unsigned long long)engine__stats(e)->alloc_failures,
		      engine__stats(e)->alloc_failures == 1 ? "" : "s");
	report_opts__init(&o);
	o.fail_on = fail_on;
	o.verbose = env.verbose;
	o.kernel = kernel_release();
	o.supp = supp;
	o.holders_from = outputs_holders_from;
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

void outputs_record_ledger(void *trace_writer, const struct ledger *l)
{
	trace_writer__ledger(trace_writer, l);
}
