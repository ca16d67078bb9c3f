/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The reference engine: a model of dmaengine devices, channels and the
 * holders of channel references, fed with decoded events, a startup
 * snapshot and the final kernel state.  Plain C: the live tool, replay of a
 * recorded trace and the unit tests run the same code.
 *
 * The kernel's client_count is the truth; holders are attribution.
 * References the kernel shows but that no traced get explains are counted
 * as "predating tracing" and never produce unbalanced-put or leak verdicts.
 *
 * Read access: devices, channels and holders are kept in arrays whose order
 * is stable (creation order; holders removed in place keep the order of the
 * others).  Pointers returned are valid until the next engine__feed(),
 * engine__load_snapshot(), engine__scan() or engine__finish().
 */
#ifndef __DMARW_ENGINE_H
#define __DMARW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"
#include "finding.h"
#include "ledger.h"
#include "snapshot.h"

struct engine;
struct suppressions;


struct engine_device {
	uint64_t key;			/* 0 unknown (from sysfs) */
	int32_t dev_id;
	char name[FINDING_NAME_LEN];	/* "dma0" */
	char dev_name[DMARW_NAME_LEN];
	char drv_name[DMARW_NAME_LEN];
	uint32_t state;			/* enum dmarw_dev_phase (DMARW_DEV_*) */
	int32_t kref;			/* last read from the kernel, -1 unknown */
	int32_t has_release;		/* -1 unknown, 0, 1 */
	bool kref_valid;		/* kernel has dma_device.ref */
	bool private_;			/* DMA_PRIVATE seen */
	bool from_snapshot;		/* existed before tracing */
	bool snap_unregistered;		/* ... and was unregistered already */
	bool channels_complete;		/* every channel is known to us */
	uint64_t first_ts_ns;
	uint64_t last_ts_ns;
	uint64_t registered_ts_ns;
	uint64_t unregister_ts_ns;
	uint64_t released_ts_ns;
	uint32_t released_pid;		/* task whose put or unregister released it */
	uint32_t generation;		/* bumped when a key is registered again */
	/* engine-private bookkeeping */
	bool rep_missing_release;
	bool rep_release_users;
	bool rep_pending;
	bool rep_mismatch;
	bool rep_unregister_users;
};

struct engine_channel {
	uint64_t key;			/* 0 unknown (from sysfs) */
	uint64_t device_key;
	size_t device;			/* index for engine__device() */
	int32_t dev_id;
	int32_t chan_id;
	char name[FINDING_NAME_LEN];	/* "dma0chan1" */
	int32_t client_count;		/* last read from the kernel, -1 unknown */
	/* "3f202000.mmc:rx-tx": from the startup snapshot or dma_request_chan() */
	char client_name[RW_CLIENT_LEN];
	uint32_t predating;		/* references no traced get explains */
	uint32_t held;			/* references attributed to holders */
	/*
	 * References the kernel counts whose gets found the reference ledger
	 * full (the channel map's "unrecorded", less the ones a
	 * DMARW_F_LEDGER_LOST get named): held by an unknown holder, never
	 * predating, never another holder's.
	 */
	uint32_t unknown;
	uint32_t unrecorded;		/* the channel map's count at the last read */
	uint64_t gets;
	uint64_t failed_gets;
	uint64_t puts;
	uint64_t noop_puts;
	uint64_t last_ts_ns;
	/* the last release that dropped a reference: for unbalanced-put */
	struct finding_holder last_release;
	/*
	 * The last ledger holder that let go of its last reference (a ledger
	 * read no longer had it, or a put by its id): whose reference a
	 * previous release (DMARW_F_PREV_RELEASE) dropped.
	 */
	uint64_t last_released_id;	/* its ledger id, 0 none */
	struct finding_holder last_released;
	/* dma_release_channel() seen, its dma_chan_put() not yet */
	bool release_pending_put;
	bool release_reported;
	uint32_t release_pid;
};

/* Whether the code or device that holds a reference still exists. */
enum engine_holder_state {
	HOLDER_ALIVE,			/* no unload or unbind of it seen */
	HOLDER_MODULE_UNLOADED,		/* its module was freed (module_free) */
	HOLDER_CLIENT_UNBOUND,		/* its client device lost its driver */
};

struct engine_holder {
	uint64_t id;			/* 1, 2, ... in order of the gets */
	/* the BPF reference ledger's entry (DMARW_F_LEDGER, ledger reads); 0 none */
	uint64_t ledger_id;
	/* a DMARW_F_LEDGER_LOST get: the ledger could not store it */
	bool not_in_ledger;
	size_t channel;			/* index for engine__channel() */
	uint32_t refs;			/* client_count taken by this get */
	bool reported;			/* leaked-reference already emitted */
	bool long_held;			/* long-held-reference already emitted */
	uint64_t client_key;		/* its client device (chan->slave), 0 unknown */
	enum engine_holder_state state;
	uint64_t gone_ts_ns;		/* when the unload or unbind was seen */
	/* the module freed, or the client device unbound and its driver */
	char gone_what[RW_CLIENT_LEN + DMARW_NAME_LEN + 4];
	struct finding_holder who;	/* pid, comm, function, module, stack */
};

struct engine_hook {
	enum rw_hook_mode mode;
	uint64_t hits;
	uint64_t lost;
	/* what the BPF side could not keep (engine__set_hook_losses()) */
	uint64_t ledger_full;		/* references not stored: the ledger was full */
	uint64_t stack_failed;		/* bpf_get_stack() failed */
	uint64_t map_failed;		/* another map update failed */
	uint64_t sent;			/* records submitted to the ring buffer */
};

struct engine_stats {
	uint64_t events;		/* events fed */
	uint64_t by_type[DMARW_EV_MAX];
	uint64_t lost;			/* events lost (ring buffer) */
	uint64_t predating;		/* references found predating tracing */
	uint64_t unattributed_drops;	/* references gone without a traced put */
	uint64_t holders_gone;		/* holders whose module or client died */
	uint64_t bad_events;		/* events with an unknown type */
	uint64_t alloc_failures;	/* a device, channel, holder or finding dropped: no memory */
	uint64_t ledger_loads;		/* engine__load_ledger() calls */
	uint64_t ledger_released;	/* ledger holders a ledger read no longer had */
	uint64_t ledger_lost;		/* gets the ledger could not store (DMARW_F_LEDGER_LOST) */
	uint64_t first_ts_ns;		/* time origin for relative times */
	uint64_t last_ts_ns;
	bool snapshot_loaded;
	char snapshot_source[SNAPSHOT_SOURCE_LEN];
	bool finished;
	uint64_t finish_ts_ns;
};

/* Tests: when non-zero, the Nth growth of an engine table from now fails. */
extern unsigned int engine_fault_grow;

struct engine *engine__new(void);
void engine__free(struct engine *e);

/* Findings created from now on are matched against @supp (may be NULL). */
void engine__set_suppressions(struct engine *e, struct suppressions *supp);

void engine__load_snapshot(struct engine *e, const struct snapshot *snap,
			   uint64_t now_ns);
void engine__feed(struct engine *e, const struct rw_event *ev);
void engine__set_hook(struct engine *e, enum dmarw_hook hook, enum rw_hook_mode mode,
		      uint64_t hits, uint64_t lost);
/* The BPF side's loss counters of @hook (struct dmarw_hook_stats). */
void engine__set_hook_losses(struct engine *e, enum dmarw_hook hook, uint64_t ledger_full,
			     uint64_t stack_failed, uint64_t map_failed, uint64_t sent);
/* Sums of the loss counters over the hooks (ledger_full, stack_failed, map_failed). */
void engine__hook_losses(const struct engine *e, struct ledger_losses *sum);
void engine__add_lost(struct engine *e, uint64_t n);
/* Inputs the caller could not keep for want of memory (ledger entries). */
void engine__add_alloc_failures(struct engine *e, uint64_t n);
/*
 * A read of the BPF reference ledger at @now_ns (its monotonic time): the
 * holders with a ledger id follow it.  An entry whose holder exists updates
 * its references (and client); a new one becomes a holder; a ledger holder
 * absent from @l was put and is dropped (stats.ledger_released; the
 * channel's last_released).  Holders without a ledger id are not touched.
 * The channels it changed follow their client_count: predating references
 * the ledger explains are dropped.
 */
void engine__load_ledger(struct engine *e, uint64_t now_ns, const struct ledger *l);
/*
 * Holders another session recorded before this one started (`trace` with a
 * running service): each entry of @l becomes a holder without a ledger id,
 * as if its get had been traced, and the channel's predating references it
 * explains are dropped.  Later events are judged as usual; no ledger read
 * follows (the ids are the other session's).
 */
void engine__adopt_ledger(struct engine *e, uint64_t now_ns, const struct ledger *l);
/*
 * Periodic: holders still alive and older than @min_age_ns become
 * long-held-reference (info) once; devices unregistered longer than that and
 * not released, release-pending.  Age alone never makes a leak.
 */
void engine__scan(struct engine *e, uint64_t now_ns, uint64_t min_age_ns);
/*
 * A holder died (module unloaded, client unbound) since the last verify:
 * the caller reads the kernel's client_count now and hands it to
 * engine__verify(), which reports each dead holder's reference the kernel
 * still counts as leaked-reference (and forgets the ones it no longer does).
 */
bool engine__verify_wanted(const struct engine *e);
/*
 * Another session saw the holder with ledger id @ledger_id die (a service's
 * verdict, read from its pinned state): mark it as on_module_unload() or
 * on_client_unbind() would, naming its code with @function and @module
 * (the service's names, from when the module was loaded).  True when a holder was marked;
 * engine__verify() then judges it.
 */
bool engine__holder_gone(struct engine *e, uint64_t ledger_id, enum engine_holder_state state,
			 uint64_t ts_ns, const char *what, const char *function, const char *module);
void engine__verify(struct engine *e, uint64_t now_ns, const struct snapshot *state);
/*
 * The kernel's client_count of each channel in @state (the channel map):
 * the model follows it, as after lost events; nothing is judged.
 */
void engine__sync_counts(struct engine *e, uint64_t now_ns, const struct snapshot *state);
/* End of a run after the grace period; @final is the kernel truth or NULL. */
void engine__finish(struct engine *e, uint64_t now_ns, const struct snapshot *final);

size_t engine__nr_findings(const struct engine *e);
const struct finding *engine__finding(const struct engine *e, size_t i);
/* Findings that fail at @fail_on (not suppressed, severity >= fail_on). */
size_t engine__nr_failing(const struct engine *e, enum finding_severity fail_on);
size_t engine__nr_suppressed(const struct engine *e);

size_t engine__nr_devices(const struct engine *e);
const struct engine_device *engine__device(const struct engine *e, size_t i);
size_t engine__nr_channels(const struct engine *e);
const struct engine_channel *engine__channel(const struct engine *e, size_t i);
size_t engine__nr_holders(const struct engine *e);
const struct engine_holder *engine__holder(const struct engine *e, size_t i);
const struct engine_hook *engine__hook(const struct engine *e, enum dmarw_hook hook);
const struct engine_stats *engine__stats(const struct engine *e);

/* "registered", "unregistering", "unregistered", "released", "unknown" */
const char *engine_dev_state_name(uint32_t state);

#endif /* __DMARW_ENGINE_H */
