/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Constructors of rw_event sequences for the engine tests.
 *
 * Keys: device dma<N> has key 100+N, channel dma<N>chan<M> 1000+100*N+M.
 * The default task is pid/tgid 200 "insmod"; the default caller is
 * client_probe [dmarw_client], under the dmaengine frames of the event.
 */
#ifndef __DMARW_TEST_HELPERS_H
#define __DMARW_TEST_HELPERS_H

#include "engine.h"
#include "event.h"

#define DEV_KEY(d)	(100u + (d))
#define CHAN_KEY(d, c)	(1000u + 100u * (d) + (c))

struct rw_event ev_make(enum dmarw_event_type type, uint64_t ts, int dev, int chan);
/* dma_chan_get returned @ret with client_count @ccb -> @cca */
struct rw_event ev_get(uint64_t ts, int dev, int chan, int ccb, int cca);
/* Ledger entry @id: dma<dev>chan<chan>'s reference taken at @ts, @refs references. */
struct rw_event ev_ledger_entry(uint64_t id, uint64_t ts, int dev, int chan, uint32_t refs);
struct ledger;
/* A ledger read of the @n entries @ents at @now (aborts without memory). */
struct ledger *ledger_of(uint64_t now, const struct rw_event *ents, size_t n);
struct rw_event ev_put(uint64_t ts, int dev, int chan, int ccb, int cca);
struct rw_event ev_release(uint64_t ts, int dev, int chan, int ccb);
struct rw_event ev_register(uint64_t ts, int dev, bool release_cb);
struct rw_event ev_unreg_begin(uint64_t ts, int dev, int users_sum, int chans_in_use);
struct rw_event ev_unreg_end(uint64_t ts, int dev);
struct rw_event ev_dev_release(uint64_t ts, int dev, int users_sum);

void ev_task(struct rw_event *ev, uint32_t pid, const char *comm);
/* Replace the caller frame (and what sits under it). */
void ev_caller(struct rw_event *ev, const char *func, const char *module);
void ev_kref(struct rw_event *ev, int before, int after);

/* Number of findings of @kind. */
size_t count_kind(const struct engine *e, enum finding_kind kind);
const struct finding *find_kind(const struct engine *e, enum finding_kind kind);
/*
 * In a TEST: @f = the first finding of @kind in @e; when there is none, one
 * FAIL line and the test is left (CHECK of harness.h) instead of a NULL
 * dereference.
 */
#define CHECK_FIND(f, e, kind)						\
	do {								\
		(f) = find_kind((e), (kind));				\
		CHECK((f), "no %s finding", #kind);			\
	} while (0)
/* NULL if every finding has kind, severity and evidence; else a message. */
const char *findings_sane(const struct engine *e);

/* A fresh temp file path under $TMPDIR (caller unlinks). */
void tmp_path(char *buf, size_t len, const char *tag);
int write_file(const char *path, const char *data, size_t len);

#endif /* __DMARW_TEST_HELPERS_H */
