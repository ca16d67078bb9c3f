/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The polling loop and signal handling shared by the live commands. */
#ifndef __DMARW_LIVE_H
#define __DMARW_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pin_owner.h"

struct session;
struct engine;
struct trace_writer;

extern volatile sig_atomic_t live_exiting;	/* SIGINT, SIGTERM */
extern volatile sig_atomic_t live_hup;		/* SIGHUP */

void live_signals_init(void);
/*
 * Poll until a signal, @duration_ns (< 0: forever) or until @tick returns
 * non-zero; @tick runs about every 100 ms, live_sync() every second.
 * 0, or -errno on a poll error.
 */
int live_loop(struct session *s, struct engine *e, struct trace_writer *tw,
	      long long duration_ns, int (*tick)(void *ctx, uint64_t now_ns), void *ctx);
/*
 * The engine inputs that do not come from events, done once for the engine
 * and once for the recording (@tw may be NULL) with the same values, so a
 * replay of the recording gives the same findings.
 */
int live_start(struct session *s, struct engine *e, struct trace_writer *tw);
int live_sync(struct session *s, struct engine *e, struct trace_writer *tw);
/* Final kernel state from the maps, engine__finish() and its record. */
int live_finish(struct session *s, struct engine *e, struct trace_writer *tw);
/*
 * Is a service (watch --service) running?  1: yes, @o is its owner record
 * and @note describes it; 0: no (or its state is stale), @note says why;
 * -1: its state cannot be looked at (permissions), the error is printed.
 */
int live_service(struct dmarw_pin_owner *o, char *note, size_t len);
/*
 * A session without hooks that reads the running service @o's pinned state
 * (session__follow()).  0, or -errno with one line in @err.
 */
int live_follow(struct session **out, struct engine *e, const struct dmarw_pin_owner *o,
		char *err, size_t errlen);
/* "dmarefwatch: N events lost ..." on stderr when any were. */
void live_print_lost(const struct engine *e);

#endif /* __DMARW_LIVE_H */
