/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where the reports of run, report and snapshot go: the main report (text,
 * or JSON with --json) on stdout or -o FILE, plus --json-report and --junit
 * files.  Plain C over report.h; shared by the live and offline commands.
 */
#ifndef __DMARW_OUTPUTS_H
#define __DMARW_OUTPUTS_H

#include <stdbool.h>
#include <stdio.h>
#include "finding.h"
#include "event.h"

struct engine;
struct suppressions;

/*
 * Every output file is written to ".NAME.tmp.XXXXXX" beside NAME and renamed
 * into place when complete, only over a regular file or a missing path: a
 * failed start, a crash or a kill never truncates or half-writes NAME.  A
 * character device (/dev/null, a tty) or a FIFO is written in place.
 */
struct out_file {
	FILE *f;
	const char *path;
	char *tmp;		/* NULL for stdout, a device or a FIFO (written in place) */
	char *real;		/* a symlink's regular target, replaced instead of the link */
};

/*
 * @path is "-" (or NULL), a character device or FIFO, or a regular or missing
 * file in a writable directory.
 */
int output_path_ok(const char *path, char *err, size_t errlen);
/* "-" or NULL is stdout.  NULL with @err set on failure. */
FILE *out_file__open(struct out_file *of, const char *path, char *err, size_t errlen);
/* Flush and close; @commit renames the temporary file into place, else removes it. */
int out_file__close(struct out_file *of, bool commit, char *err, size_t errlen);

/* Check every named path now (nothing is opened or truncated): a bad one fails early. */
int outputs_check_writable(const char *output, const char *json_report, const char *junit);
/* Set by snapshot: the reports' holders_from (struct report_opts), or NULL. */
extern const char *outputs_holders_from;
/* Write every report; @cmd is run's command (NULL otherwise).  0 or -1. */
int outputs_write_reports(const struct engine *e, const char *output,
			  const char *json_report, const char *junit,
			  enum finding_severity fail_on, char *const *cmd,
			  const struct suppressions *supp);
/* session_event_fn that appends the event to a struct trace_writer. */
void outputs_record_event(void *trace_writer, const struct rw_event *ev);
struct ledger;
/* A session's ledger callback: the read goes to the recording in order. */
void outputs_record_ledger(void *trace_writer, const struct ledger *l);

#endif /* __DMARW_OUTPUTS_H */
