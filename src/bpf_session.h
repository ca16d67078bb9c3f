/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A live tracing session: loader + symbols + decoder + engine, the startup
 * snapshot, the --device filter, lost-event accounting and the final kernel
 * state from the BPF maps.  Every live command (trace, run, record, top,
 * watch) is a loop around session__poll().
 */
#ifndef __DMARW_BPF_SESSION_H
#define __DMARW_BPF_SESSION_H

#include <stdio.h>
#include "bpf_loader.h"
#include "engine.h"
#include "snapshot.h"

struct session;

/* Called for every event that passed the filter, after @e (may be NULL) saw it. */
typedef void (*session_event_fn)(void *ctx, const struct rw_event *ev);
struct ledger;
/* Called for every read of the reference ledger, after @e saw it. */
typedef void (*session_ledger_fn)(void *ctx, const struct ledger *l);

/*
 * Load the BPF object, take the startup snapshot (the kernel's device list,
 * else sysfs; see session__start_snapshot(), the caller loads it into the
 * engine before the first poll), then attach the hooks unless !attach
 * (the snapshot command).  Returns -errno with one line in @err when
 * tracing is not possible (the caller exits 2).
 */
int session__open(struct session **out, struct engine *e, bool attach,
		  session_event_fn fn, void *ctx, char *err, size_t errlen);
void session__close(struct session *s);
/* Change the event callback (a recorder opened after the session). */
void session__set_callback(struct session *s, session_event_fn fn, void *ctx);
/* The same for the ledger reads (a recorder writes them in order). */
void session__set_ledger_callback(struct session *s, session_ledger_fn fn, void *ctx);
/*
 * In ledger mode (every command but trace): read the reference ledger, feed
 * it to the engine and the ledger callback.  0 (nothing to do otherwise),
 * or -errno.  Done before every event that needs the holders and by
 * session__sync().
 */
int session__read_ledger(struct session *s);
/* Consume events for up to timeout_ms; -EINTR on a signal. */
int session__poll(struct session *s, int timeout_ms);
/* Read the ledger (ledger mode), push hook modes, hits, loss counters and
 * newly lost events into the engine; returns the number of events lost
 * since the previous call. */
uint64_t session__sync(struct session *s);
/* Startup snapshot (owned by the session). */
const struct snapshot *session__start_snapshot(const struct session *s);
/* Kernel truth now, from the BPF maps; the caller frees it. */
struct snapshot *session__kernel_state(struct session *s);
/* The degraded-mode notice: unavailable optional hooks and what they cost;
 * with @all, the mode of every hook too. */
void session__print_hooks(const struct session *s, FILE *f, bool all);
/*
 * watch --service: pin our ledger, state maps and hook counters in @dir
 * (bpf_pin.h) for top, snapshot and trace to read; removed by
 * session__close().  0, or -errno with one line in @err.
 */
int session__publish(struct session *s, const char *dir, char *err, size_t errlen);
/*
 * A session opened without hooks reads a running service's pinned state
 * (@o from pin__find()) instead: the ledger and hook counters are the
 * service's, the counts come from walks of the kernel's device list at
 * every session__sync().  0, or -errno with one line in @err.
 */
int session__follow(struct session *s, const char *dir, const struct dmarw_pin_owner *o,
		    char *err, size_t errlen);
/*
 * Our own session (trace) starts with the holders a running service
 * recorded (engine__adopt_ledger()): references taken before we started
 * are theirs, not "predating".  Returns how many entries, or -errno with
 * one line in @err.
 */
int session__adopt_service(struct session *s, const char *dir, char *err, size_t errlen);
/* The service followed, or NULL: our own session. */
const struct dmarw_pin_owner *session__followed(const struct session *s);

#endif /* __DMARW_BPF_SESSION_H */
