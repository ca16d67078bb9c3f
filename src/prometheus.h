/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Metrics for Prometheus in the text exposition format (version 0.0.4), as
 * node_exporter's textfile collector reads them: no timestamps, one HELP
 * and TYPE per family, every name prefixed "dmarefwatch_".  The metric
 * names and labels are documented in docs/metrics.md.  Plain C over the
 * engine; knows nothing of BPF.
 */
#ifndef __DMARW_PROMETHEUS_H
#define __DMARW_PROMETHEUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct engine;
struct snapshot;

struct prom_opts {
	const char *version;		/* dmarefwatch_build_info{version} */
	const char *kernel;		/* dmarefwatch_build_info{kernel} */
	double start_time_s;		/* wall clock, seconds since the epoch; 0 omit */
	double now_s;			/* wall clock of this write; 0 omit */
	uint64_t now_ns;		/* monotonic now, for ages; 0 n/a */
	uint64_t min_age_ns;		/* --min-age, for the leaked-reference gauge */
	/*
	 * Kernel truth (the BPF maps) or NULL: client_count and kref found here
	 * by key win over the engine's last-read values, so the gauges stay
	 * exact when events were lost.
	 */
	const struct snapshot *truth;
};

/* The whole exposition to @f; 0, or -EIO if writing failed. */
int prometheus__write(FILE *f, const struct engine *e, const struct prom_opts *o);

/*
 * Write the exposition to @path atomically: a temporary file in the same
 * directory (not ending in .prom, so the textfile collector ignores it),
 * fsync, mode 0644, rename over @path.  Readers see the old file or the new
 * one, never part of one.  0, or -errno with a message in @err.
 */
/* A regular file or nothing at @path, in a writable directory: 0, else -1 with @err. */
int prometheus__check_path(const char *path, char *err, size_t errlen);
int prometheus__write_file(const char *path, const struct engine *e,
			   const struct prom_opts *o, char *err, size_t errlen);

/* Label value escaping: backslash, double quote and newline (\\ \" \n). */
void prom_escape_label(FILE *f, const char *s);
/* HELP text escaping: backslash and newline. */
void prom_escape_help(FILE *f, const char *s);

#endif /* __DMARW_PROMETHEUS_H */
