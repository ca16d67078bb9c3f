/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The polling loop and signal handling shared by the live commands. */
#ifndef __DMARW_LIVE_H
#define __DMARW_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

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
/* "dmarefwatch: N events lost ..." on stderr when any were. */
void live_print_lost(const struct engine *e);

#endif /* __DMARW_LIVE_H */
