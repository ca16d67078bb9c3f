/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where the reports of run, report and snapshot go: the main report (text,
 * or JSON with --json) on stdout or -o FILE, plus --json-report and --junit
 * files.  Plain C over report.h; shared by the live and offline commands.
 */
#ifndef __DMARW_OUTPUTS_H
#define __DMARW_OUTPUTS_H

#include "finding.h"
#include "event.h"

struct engine;
struct suppressions;

/* Open (and truncate) every named file now, so a bad path fails early. */
int outputs_check_writable(const char *output, const char *json_report, const char *junit);
/* Write every report; @cmd is run's command (NULL otherwise).  0 or -1. */
int outputs_write_reports(const struct engine *e, const char *output,
			  const char *json_report, const char *junit,
			  enum finding_severity fail_on, char *const *cmd,
			  const struct suppressions *supp);
/* session_event_fn that appends the event to a struct trace_writer. */
void outputs_record_event(void *trace_writer, const struct rw_event *ev);

#endif /* __DMARW_OUTPUTS_H */
