/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The engine's inside, shared by its four files; nothing outside src/engine_*.c
 * includes this.  engine.h is the interface.
 */
#ifndef __DMARW_ENGINE_PRIV_H
#define __DMARW_ENGINE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine.h"

#define NONE ((size_t)-1)

/* Key of a channel whose memory was reused: matches no event and no snapshot. */
#define RETIRED_KEY	UINT64_MAX

struct engine {
	struct engine_device *devs;
	size_t nr_devs, cap_devs;
	struct engine_channel *chans;
	size_t nr_chans, cap_chans;
	struct engine_holder *holders;
	size_t nr_holders, cap_holders;
	struct finding *findings;
	size_t nr_findings, cap_findings;
	struct engine_hook hooks[DMARW_HOOK_MAX];
	struct engine_stats stats;
	uint64_t next_holder_id;
	bool have_t0;
	bool verify_wanted;		/* a holder died since the last verify */
	struct suppressions *supp;
};

/* A bounded string builder for evidence sentences. */
struct sbuf {
	char *buf;
	size_t len, size;
};

/* ---- engine_model.c: the model (devices, channels, holders, lookups, time, evidence strings) ---- */

void sb_init(struct sbuf *sb, char *buf, size_t size);
__attribute__((format(printf, 2, 3)))
void sb_add(struct sbuf *sb, const char *fmt, ...);
int grow(void **arr, size_t *cap, size_t nr, size_t size);
void note_time(struct engine *e, uint64_t ts);
const char *rel(const struct engine *e, uint64_t ts, char *buf, size_t len);
const char *errno_name(int64_t ret);
void who_from_event(struct finding_holder *who, const struct rw_event *ev);
void sb_who(struct sbuf *sb, const struct finding_holder *who);
void dev_set_names(struct engine_device *d);
void dev_copy_names(struct engine_device *d, const char *dev_name, size_t dev_len,
		    const char *drv_name, size_t drv_len);
size_t dev_lookup(struct engine *e, uint64_t key, int32_t dev_id);
size_t dev_new(struct engine *e, uint64_t key, int32_t dev_id, uint64_t ts);
void dev_update(struct engine_device *d, const struct rw_event *ev);
size_t dev_of_event(struct engine *e, const struct rw_event *ev);
size_t chan_lookup(struct engine *e, uint64_t key, int32_t dev_id, int32_t chan_id);
size_t chan_new(struct engine *e, uint64_t key, size_t dev, int32_t dev_id,
		int32_t chan_id, uint64_t ts);
size_t chan_of_event(struct engine *e, const struct rw_event *ev, size_t dev);
void holder_remove(struct engine *e, size_t i);
void holder_drop(struct engine *e, size_t i);
void chan_sync(struct engine *e, size_t ci, int32_t cc);
/* The new holder's index, NONE when it could not be stored. */
size_t holder_add(struct engine *e, size_t ci, const struct rw_event *ev, uint32_t refs);
bool release_one(struct engine *e, size_t ci, const struct finding_holder *rel);
bool hook_attached(const struct engine *e, enum dmarw_hook hook);

/* ---- engine_evidence.c: building findings and their evidence; the kref checks ---- */

void finding_init(struct engine *e, struct finding *f, struct sbuf *sb,
		  enum finding_kind kind, uint64_t ts, size_t di, size_t ci);
void finding_commit(struct engine *e, const struct finding *f);
int64_t dev_users(const struct engine *e, size_t di, int *in_use);
size_t sb_dev_holders(struct engine *e, struct sbuf *sb, size_t di, size_t *first_chan);
size_t finding_dev_holders(struct engine *e, struct finding *f, struct sbuf *sb, size_t di,
			   uint64_t ts);
/* @ev: the unbalanced put or release, whose DMARW_F_PREV_RELEASE prev is used */
void sb_previous_release(struct engine *e, struct finding *f, struct sbuf *sb,
			 const struct engine_channel *c, const struct rw_event *ev);
void check_kref(struct engine *e, size_t di, const struct rw_event *ev,
		const char *when);
void device_released(struct engine *e, size_t di, uint64_t ts,
		     const struct rw_event *ev, const char *how);
void touched_after_release(struct engine *e, size_t di, size_t ci,
			   const struct rw_event *ev, const char *what);
void kref_after_event(struct engine *e, size_t di, const struct rw_event *ev,
		      const char *where);
void missing_release_at_start(struct engine *e, size_t di, uint64_t ts);
void report_leak(struct engine *e, size_t hi, uint64_t now, const char *count_how);
void report_long_held(struct engine *e, size_t hi, uint64_t now, uint64_t min_age);
void report_pending(struct engine *e, size_t di, uint64_t now);
bool release_pending_candidate(const struct engine *e, const struct engine_device *d);

/* ---- engine_ledger.c: the BPF reference ledger (reads, DEV_HOLDER, ledger ids on gets and puts) ---- */

bool event_channel(struct engine *e, const struct rw_event *ev, size_t *di, size_t *ci);
size_t holder_by_ledger_id(const struct engine *e, uint64_t id);
/* References of channel @ci that unknown holders may hold: unrecorded less the named lost ones. */
uint32_t unknown_room(const struct engine *e, size_t ci);
/* A state read's unrecorded count of channel @ci: c->unrecorded, c->unknown capped by it. */
void chan_set_unrecorded(struct engine *e, size_t ci, uint32_t unrecorded);
void on_dev_holder(struct engine *e, const struct rw_event *ev);
/* CHAN_GET with DMARW_F_LEDGER, ret >= 0: the holder, after the checks. */
void ledger_get(struct engine *e, const struct rw_event *ev, size_t ci, uint32_t refs);
/* CHAN_PUT with DMARW_F_LEDGER that dropped a reference; true when one was matched. */
bool ledger_put(struct engine *e, const struct rw_event *ev, size_t ci);
void report_unknown_holder(struct engine *e, size_t ci, uint64_t now, const char *count_how);

/* ---- engine_gone.c: holders that die (module unload, client unbind) and their verdicts ---- */

void on_module_unload(struct engine *e, const struct rw_event *ev);
void on_client_unbind(struct engine *e, const struct rw_event *ev);

#endif /* __DMARW_ENGINE_PRIV_H */
