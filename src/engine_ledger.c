// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The BPF reference ledger (issue 10): the kernel keeps one entry per
 * outstanding reference and matches puts to them itself.  Holders with a
 * ledger id follow the ledger's reads (engine__load_ledger()), DEV_HOLDER
 * records and the ids on get and put records; the engine's own matching
 * (release_one()) is only for events without DMARW_F_LEDGER.
 * See engine.h and docs/findings.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine_priv.h"

/* The device and channel an event is about; false when either is unknown. */
bool event_channel(struct engine *e, const struct rw_event *ev, size_t *di, size_t *ci)
{
	*di = dev_of_event(e, ev);
	if (*di == NONE)
		return false;
	*ci = chan_of_event(e, ev, *di);
	return *ci != NONE;
}

/* The holder of ledger entry @id (newest first: puts follow gets), NONE. */
size_t holder_by_ledger_id(const struct engine *e, uint64_t id)
{
	size_t i;

	if (!id)
		return NONE;
	for (i = e->nr_holders; i-- > 0;)
		if (e->holders[i].ledger_id == id)
			return i;
	return NONE;
}

uint32_t unknown_room(const struct engine *e, size_t ci)
{
	const struct engine_channel *c = &e->chans[ci];
	uint64_t named = 0;
	size_t i;

	if (!c->unrecorded)
		return 0;
	for (i = 0; i < e->nr_holders; i++)
		if (e->holders[i].channel == ci && e->holders[i].not_in_ledger)
			named += e->holders[i].refs;
	return named >= c->unrecorded ? 0 : c->unrecorded - (uint32_t)named;
}

void chan_set_unrecorded(struct engine *e, size_t ci, uint32_t unrecorded)
{
	struct engine_channel *c = &e->chans[ci];
	uint32_t room;

	c->unrecorded = unrecorded;
	room = unknown_room(e, ci);
	if (c->unknown > room)
		c->unknown = room;	/* chan_sync() follows the count after it */
}

/* The channel's last holder that let go of its last reference, by ledger id. */
static void remember_released(struct engine *e, const struct engine_holder *h)
{
	struct engine_channel *c = &e->chans[h->channel];

	if (!h->ledger_id)
		return;
	c->last_released_id = h->ledger_id;
	c->last_released = h->who;
}

/* A ledger entry's client on holder @h (when it has none) and on its channel. */
static void holder_client(struct engine *e, struct engine_holder *h, const struct rw_event *ent)
{
	struct engine_channel *c = &e->chans[h->channel];

	if (!ent->client[0] || h->who.client[0])
		return;
	memcpy(h->who.client, ent->client, sizeof(h->who.client));
	memcpy(h->who.client_drv, ent->client_drv, sizeof(h->who.client_drv));
	h->client_key = ent->client_key;
	/* as dma_request_chan()'s exit names it (on_request()) */
	snprintf(c->client_name, sizeof(c->client_name), "%s", ent->client);
}

static uint32_t entry_refs(const struct rw_event *ent)
{
	return ent->ledger_refs ? ent->ledger_refs : 1;	/* an entry holds one at least */
}

/*
 * Ledger entry @ent on holder @hi (its ledger id), or a new holder when @hi
 * is NONE.  Returns the holder's channel, NONE when it has none.
 */
static size_t ledger_upsert(struct engine *e, const struct rw_event *ent, size_t hi)
{
	struct engine_holder *h;
	struct engine_channel *c;
	uint32_t refs = entry_refs(ent);
	size_t di, ci;

	if (hi == NONE) {
		if (!event_channel(e, ent, &di, &ci))
			return NONE;
		hi = holder_add(e, ci, ent, refs);
		if (hi == NONE)
			return ci;
		e->holders[hi].ledger_id = ent->ledger_id;
	}
	h = &e->holders[hi];
	c = &e->chans[h->channel];
	if (h->refs != refs) {
		c->held = c->held >= h->refs ? c->held - h->refs : 0;
		c->held += refs;
		h->refs = refs;
	}
	holder_client(e, h, ent);
	return h->channel;
}

/*
 * Channel @ci after the ledger changed its holders: predating references
 * that the ledger explains are dropped (a count read before the get it
 * holds took them for predating); a count older than the ledger is raised
 * to what the ledger shows.  Fewer holders than the count is left for the
 * next count read: the ledger may be newer than the count.
 */
static void ledger_chan_sync(struct engine *e, size_t ci)
{
	struct engine_channel *c = &e->chans[ci];
	uint64_t known = (uint64_t)c->predating + c->held + c->unknown;
	uint64_t excess;
	uint32_t n;

	if (c->client_count < 0 || known <= (uint64_t)c->client_count)
		return;
	excess = known - (uint64_t)c->client_count;
	n = excess < c->predating ? (uint32_t)excess : c->predating;
	c->predating -= n;
	e->stats.predating -= n < e->stats.predating ? n : e->stats.predating;
	known -= n;
	if (known > (uint64_t)c->client_count)
		c->client_count = known > INT32_MAX ? INT32_MAX : (int32_t)known;
}

void on_dev_holder(struct engine *e, const struct rw_event *ev)
{
	size_t ci;

	if (!ev->ledger_id)
		return;
	ci = ledger_upsert(e, ev, holder_by_ledger_id(e, ev->ledger_id));
	if (ci != NONE)
		ledger_chan_sync(e, ci);
}

void ledger_get(struct engine *e, const struct rw_event *ev, size_t ci, uint32_t refs)
{
	size_t hi = holder_by_ledger_id(e, ev->ledger_id);

	/* a ledger read before this event has its holder already */
	if (hi == NONE) {
		chan_sync(e, ci, ev->client_count_before);
		hi = holder_add(e, ci, ev, refs);
		if (hi != NONE) {
			e->holders[hi].ledger_id = ev->ledger_id;
			/* the ledger could not store it: ours alone to name */
			e->holders[hi].not_in_ledger = !ev->ledger_id;
		}
		if (!ev->ledger_id)
			e->stats.ledger_lost++;
	}
}

/* Drop one reference of holder @i, remembering it when that was its last. */
static void ledger_drop(struct engine *e, size_t i)
{
	if (e->holders[i].refs <= 1)
		remember_released(e, &e->holders[i]);
	holder_drop(e, i);
}

/* A holder of channel @ci that the ledger does not know: same tgid, else the oldest. */
static size_t unledgered(const struct engine *e, size_t ci, uint32_t tgid)
{
	size_t i, oldest = NONE;

	for (i = 0; i < e->nr_holders; i++) {
		const struct engine_holder *h = &e->holders[i];

		if (h->channel != ci || h->ledger_id)
			continue;
		if (h->who.tgid == tgid)
			return i;
		if (oldest == NONE)
			oldest = i;
	}
	return oldest;
}

bool ledger_put(struct engine *e, const struct rw_event *ev, size_t ci)
{
	struct engine_channel *c;
	size_t hi;

	if (ev->ledger_id) {
		hi = holder_by_ledger_id(e, ev->ledger_id);
		if (hi == NONE)
			return false;	/* a ledger read dropped it already */
		chan_sync(e, ci, ev->client_count_before);
		hi = holder_by_ledger_id(e, ev->ledger_id);
		if (hi == NONE)
			return false;
		ledger_drop(e, hi);
		return true;
	}
	/* a reference the ledger does not hold: predating, else one not stored */
	chan_sync(e, ci, ev->client_count_before);
	c = &e->chans[ci];
	if (c->predating) {
		c->predating--;
		return true;
	}
	hi = unledgered(e, ci, ev->tgid);
	if (hi != NONE) {
		holder_drop(e, hi);
		return true;
	}
	if (c->unknown) {
		c->unknown--;
		return true;
	}
	return false;
}

/* ---- ledger reads ---- */

/* An entry's ledger id and its place in the read. */
struct entry_ref {
	uint64_t id;
	size_t idx;
};

static int cmp_entry(const void *a, const void *b)
{
	uint64_t x = ((const struct entry_ref *)a)->id, y = ((const struct entry_ref *)b)->id;

	return x < y ? -1 : x > y;
}

/* First position in @order (sorted by id) of ledger id @id, NONE: an id twice is one entry. */
static size_t find_entry(const struct entry_ref *order, size_t n, uint64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (order[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && order[lo].id == id ? lo : NONE;
}

/* Channel @ci is to be synced: @touched grows with the channels. */
static void touch(bool **touched, size_t *size, size_t ci)
{
	bool *t;
	size_t n;

	if (ci == NONE)
		return;
	if (ci >= *size) {
		n = ci + 16;
		t = realloc(*touched, n * sizeof(*t));
		if (!t)
			return;	/* only the sync of a new channel is lost */
		memset(t + *size, 0, (n - *size) * sizeof(*t));
		*touched = t;
		*size = n;
	}
	(*touched)[ci] = true;
}

/*
 * The holders with a ledger id against the ledger's entries, sorted by id
 * in @order: each found is updated and its entry marked in @seen; each
 * missing one was put and is dropped.  Holders keep their order.
 */
static void ledger_reconcile(struct engine *e, const struct ledger *l,
			     const struct entry_ref *order, size_t n, bool *seen, bool **touched,
			     size_t *tsize)
{
	size_t i, j, k;

	for (i = 0, j = 0; i < e->nr_holders; i++) {
		struct engine_holder *h = &e->holders[i];
		struct engine_channel *c = &e->chans[h->channel];

		if (h->ledger_id) {
			k = find_entry(order, n, h->ledger_id);
			if (k == NONE || seen[k]) {
				c->held = c->held >= h->refs ? c->held - h->refs : 0;
				remember_released(e, h);
				e->stats.ledger_released++;
				touch(touched, tsize, h->channel);
				continue;
			}
			seen[k] = true;
			if (h->refs != entry_refs(&l->entries[order[k].idx]))
				touch(touched, tsize, h->channel);
			ledger_upsert(e, &l->entries[order[k].idx], i);
		}
		if (i != j)
			e->holders[j] = e->holders[i];
		j++;
	}
	e->nr_holders = j;
}

void engine__load_ledger(struct engine *e, uint64_t now_ns, const struct ledger *l)
{
	size_t n = l ? l->nr : 0, i, ci, tsize = e->nr_chans;
	struct entry_ref *order = n ? malloc(n * sizeof(*order)) : NULL;
	bool *seen = n ? calloc(n, sizeof(*seen)) : NULL;
	bool *touched = calloc(tsize + 1, sizeof(*touched));

	note_time(e, now_ns);
	e->stats.ledger_loads++;
	if ((n && (!order || !seen)) || !touched) {
		e->stats.alloc_failures++;	/* the holders stay as they were */
		goto out;
	}
	for (i = 0; i < n; i++) {
		order[i].id = l->entries[i].ledger_id;
		order[i].idx = i;
	}
	if (n)
		qsort(order, n, sizeof(*order), cmp_entry);
	ledger_reconcile(e, l, order, n, seen, &touched, &tsize);
	for (i = 0; i < n; i++) {
		const struct rw_event *ent = &l->entries[order[i].idx];

		/* new entries in the order of their gets; an id twice counts once */
		if (seen[i] || !order[i].id || (i && order[i - 1].id == order[i].id))
			continue;
		touch(&touched, &tsize, ledger_upsert(e, ent, NONE));
	}
	for (ci = 0; ci < e->nr_chans && ci < tsize; ci++)
		if (touched[ci])
			ledger_chan_sync(e, ci);
out:
	free(order);
	free(seen);
	free(touched);
}

void engine__adopt_ledger(struct engine *e, uint64_t now_ns, const struct ledger *l)
{
	size_t n = l ? l->nr : 0, i, j, ci;

	note_time(e, now_ns);
	for (i = 0; i < n; i++) {
		const struct rw_event *ent = &l->entries[i];
		size_t before;

		if (!ent->ledger_id)
			continue;
		for (j = 0; j < i && l->entries[j].ledger_id != ent->ledger_id; j++)
			;
		if (j < i)
			continue;	/* an id twice counts once */
		before = e->nr_holders;
		ci = ledger_upsert(e, ent, NONE);
		if (ci == NONE || e->nr_holders == before)
			continue;	/* no channel, or no memory (counted) */
		/* holders are appended: the new one is the last */
		e->holders[e->nr_holders - 1].ledger_id = 0;
		ledger_chan_sync(e, ci);
	}
}

/* ---- what the ledger could not record ---- */

void report_unknown_holder(struct engine *e, size_t ci, uint64_t now, const char *count_how)
{
	const struct engine_channel *c = &e->chans[ci];
	struct ledger_losses lost;
	struct finding f;
	struct sbuf sb;

	engine__hook_losses(e, &lost);
	finding_init(e, &f, &sb, FINDING_LEAKED_REFERENCE, now, c->device, ci);
	f.refs = c->unknown;
	sb_add(&sb, "%s client_count %d %s; %u reference%s held by an unknown holder: taken "
	       "while traced, but the reference ledger was full (the channel map counts %u "
	       "reference%s of %s not recorded; the hooks counted %llu ledger full, %llu "
	       "stack failures, %llu map update failures), so who took %s is not known",
	       c->name, c->client_count, count_how, c->unknown, c->unknown == 1 ? "" : "s",
	       c->unrecorded, c->unrecorded == 1 ? "" : "s", c->name,
	       (unsigned long long)lost.ledger_full, (unsigned long long)lost.stack_failed,
	       (unsigned long long)lost.map_failed, c->unknown == 1 ? "it" : "them");
	if (c->predating)
		sb_add(&sb, "; %u more reference%s predate%s tracing (not judged)",
		       c->predating, c->predating == 1 ? "" : "s",
		       c->predating == 1 ? "s" : "");
	finding_commit(e, &f);
}
