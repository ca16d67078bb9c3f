/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reports of an engine's findings and state: text (kmemleak/ref_tracker
 * style, grouped by holder stack), JSON (schema REPORT_SCHEMA) and JUnit XML
 * (one testcase per finding kind).  Outputs know nothing of BPF.
 */
#ifndef __DMARW_REPORT_H
#define __DMARW_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "finding.h"

/* The report's "schema" member: docs/schema/report.schema.json */
#define REPORT_SCHEMA	2

struct engine;
struct json_writer;
struct suppressions;

struct report_opts {
	enum finding_severity fail_on;	/* --fail-on, default error */
	bool pretty;			/* JSON: indent */
	bool verbose;			/* text: every stack in full */
	const char *suite;		/* JUnit testsuite name, default "dmarefwatch" */
	const char *command;		/* what ran (run -- CMD), or NULL */
	const char *kernel;		/* uname -r, or NULL */
	const struct suppressions *supp; /* to list used/unused suppressions, or NULL */
	/* whose holders: "service pid 812, since ..." (snapshot), or NULL */
	const char *holders_from;
};

void report_opts__init(struct report_opts *o);

/* Each returns 0, or -EIO if writing failed. */
int report__text(FILE *f, const struct engine *e, const struct report_opts *o);
int report__json(FILE *f, const struct engine *e, const struct report_opts *o);
int report__junit(FILE *f, const struct engine *e, const struct report_opts *o);

/* One finding, for streaming outputs (watch): a text block / a JSON object. */
void report__text_finding(FILE *f, const struct engine *e, const struct finding *fd,
			  bool verbose);
void report__json_finding(struct json_writer *jw, const struct finding *fd,
			  enum finding_severity fail_on);
/* The "stats" object of the JSON report. */
void report__json_stats(struct json_writer *jw, const struct engine *e,
			enum finding_severity fail_on);

/* Text escaping for XML 1.0 character data and attributes. */
void xml_escape(FILE *f, const char *s, size_t len);

#endif /* __DMARW_REPORT_H */
