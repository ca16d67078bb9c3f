/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Recorded traces: JSON lines, one per engine input, in order (see
 * docs/trace-format.md).  The writer has one call per engine input; replay
 * makes the same calls on an engine, so `report FILE` gives exactly the
 * findings of the live run.  Keys in the file are small opaque numbers:
 * the writer renumbers whatever keys it is given, so no kernel address
 * reaches the file.
 */
#ifndef __DMARW_TRACE_FILE_H
#define __DMARW_TRACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "event.h"
#include "snapshot.h"

/*
 * 2: unregister-begin and release events carry the device's channels in use
 * in "dev_in_use" (1 carried them in "ret"; still read).
 * 3: the reference ledger: "ledger" lines (engine__load_ledger()), events
 * with "ledger_id", "ledger_refs", "prev" and the "dev-holder" event, hook
 * lines with the loss counters, "unrecorded" on state channels (1 and 2
 * still read).
 */
#define TRACE_VERSION		3
#define TRACE_MAX_LINE		(4u << 20)	/* bytes, one line */
#define TRACE_KERNEL_LEN	128

struct engine;
struct engine_hook;
struct ledger;
struct trace_writer;

/* @path "-" is stdout.  @kernel: uname -r.  NULL on error (@err set). */
struct trace_writer *trace_writer__open(const char *path, const char *kernel,
					char *err, size_t errlen);
/* Each returns 0 or -EIO (the stream failed; the message is for close). */
/* The kernel state read after a holder died (engine__verify()'s input). */
int trace_writer__verify(struct trace_writer *tw, const struct snapshot *state,
			 uint64_t now_ns);
int trace_writer__snapshot(struct trace_writer *tw, const struct snapshot *snap,
			   uint64_t now_ns);
int trace_writer__hook(struct trace_writer *tw, enum dmarw_hook hook, enum rw_hook_mode mode,
		       uint64_t hits, uint64_t lost);
/*
 * The hook line with every counter of @hk (mode, hits, lost and the loss
 * counters of engine__set_hook_losses()); trace_writer__hook() writes the
 * loss counters as 0.
 */
int trace_writer__hook_counts(struct trace_writer *tw, enum dmarw_hook hook,
			      const struct engine_hook *hk);
int trace_writer__event(struct trace_writer *tw, const struct rw_event *ev);
/* A read of the reference ledger (engine__load_ledger()'s input, at l->ts_ns). */
int trace_writer__ledger(struct trace_writer *tw, const struct ledger *l);
int trace_writer__lost(struct trace_writer *tw, uint64_t n);
int trace_writer__scan(struct trace_writer *tw, uint64_t now_ns, uint64_t min_age_ns);
int trace_writer__finish(struct trace_writer *tw, uint64_t now_ns,
			 const struct snapshot *final);
/* Flush and close; 0, or -errno with @err set.  Frees @tw in any case. */
int trace_writer__close(struct trace_writer *tw, char *err, size_t errlen);

struct trace_info {
	char kernel[TRACE_KERNEL_LEN];	/* from the header */
	uint64_t lines;
	uint64_t events;
	bool finished;			/* the finish line was present */
	bool truncated;			/* cut inside its last line, which was skipped */
};

/*
 * Feed every line of @path to @e.  0 on success; on bad input -EINVAL (or
 * -errno) with "FILE:LINE: what was wrong" in @err.  @info may be NULL.
 * A recording without a finish line (interrupted) replays fine and says so
 * in info->finished: the caller decides whether to call engine__finish().
 */
int trace_file__replay_info(const char *path, struct engine *e, struct trace_info *info,
			    char *err, size_t errlen);
/*
 * Open @path for reading as a trace or suppression file: only a regular
 * file (a FIFO, tty or device is refused without blocking).  NULL with
 * "PATH: why" in @err.
 */
FILE *trace_file__open_input(const char *path, char *err, size_t errlen);
int trace_file__replay(const char *path, struct engine *e, char *err, size_t errlen);

#endif /* __DMARW_TRACE_FILE_H */
