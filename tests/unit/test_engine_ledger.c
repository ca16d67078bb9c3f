/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Engine scenarios of the reference ledger (issue 10): ledger reads
 * reconcile the holders by id, DEV_HOLDER records, gets and puts with
 * DMARW_F_LEDGER, the previous release an unbalanced put carries, and
 * references whose gets the ledger could not record.
 */
#include "engine_scenarios.h"

static struct rw_event entry(uint64_t id, uint64_t ts, int dev, int chan, uint32_t refs)
{
	return ev_ledger_entry(id, ts, dev, chan, refs);
}

/* A ledger read of the @n entries @ents at @now. */
static void load(struct engine *e, uint64_t now, const struct rw_event *ents, size_t n)
{
	struct ledger *l = ledger_of(now, ents, n);

	engine__load_ledger(e, now, l);
	ledger__free(l);
}

static const struct engine_holder *holder_of(const struct engine *e, uint64_t ledger_id)
{
	size_t i;

	for (i = 0; i < engine__nr_holders(e); i++)
		if (engine__holder(e, i)->ledger_id == ledger_id)
			return engine__holder(e, i);
	return NULL;
}

static struct rw_event ledger_ev(struct rw_event ev, uint64_t id)
{
	ev.flags |= DMARW_F_LEDGER;
	ev.ledger_id = id;
	return ev;
}

TEST(ledger_reconcile_adds_updates_removes)
{
	struct engine *e = engine__new();
	struct rw_event ents[3];
	const struct engine_holder *h;

	/* a holder from an event without ledger ids: never the ledger's */
	feed(e, ev_get(1 * S, 0, 3, 0, 1));
	ents[0] = entry(1, 2 * S, 0, 1, 1);
	ents[1] = entry(2, 2 * S + 1, 0, 2, 1);
	load(e, 3 * S, ents, 2);
	CHECK_INT(engine__nr_holders(e), 3);
	CHECK(holder_of(e, 1) && holder_of(e, 2), "ledger holders not added");
	CHECK_INT(engine__stats(e)->ledger_loads, 1);

	ents[0].ledger_refs = 2;
	snprintf(ents[0].client, sizeof(ents[0].client), "spi0:rx");
	snprintf(ents[0].client_drv, sizeof(ents[0].client_drv), "spi-bcm2835");
	ents[1] = entry(3, 3 * S, 0, 1, 1);
	load(e, 4 * S, ents, 2);
	CHECK_INT(engine__nr_holders(e), 3);
	h = holder_of(e, 1);
	CHECK(h, "holder 1 gone");
	CHECK_INT(h->refs, 2);
	CHECK_STR(h->who.client, "spi0:rx");
	CHECK_STR(engine__channel(e, h->channel)->client_name, "spi0:rx");
	CHECK(!holder_of(e, 2), "holder 2 kept after its entry went");
	CHECK(holder_of(e, 3), "holder 3 not added");
	CHECK(holder_of(e, 0), "the event's holder was touched");
	CHECK_INT(engine__stats(e)->ledger_released, 1);
	CHECK_INT(engine__channel(e, holder_of(e, 1)->channel)->held, 3);
	CHECK_INT(engine__channel(e, 2)->held, 0);
	CHECK_INT(engine__channel(e, 2)->last_released_id, 2);
	CHECK_STR(engine__channel(e, 2)->last_released.function, "client_probe");
	/* the order of creation: the event's, 1, 3 */
	CHECK_INT(engine__holder(e, 0)->ledger_id, 0);
	CHECK_INT(engine__holder(e, 1)->ledger_id, 1);
	CHECK_INT(engine__holder(e, 2)->ledger_id, 3);
	CHECK_INT(engine__nr_findings(e), 0);
out:
	engine__free(e);
}

/* a few thousand entries, half of them gone at the next read */
TEST(ledger_reconcile_thousands)
{
	struct engine *e = engine__new();
	struct rw_event *ents = calloc(4000, sizeof(*ents));
	size_t i, n = 0;

	CHECK(ents, "oom");
	for (i = 0; i < 4000; i++)
		ents[i] = entry(4000 - i, i, 0, (int)(i % 8), 1);
	load(e, 1 * S, ents, 4000);
	CHECK_INT(engine__nr_holders(e), 4000);
	/* gets in id order: the holders too */
	CHECK_INT(engine__holder(e, 0)->ledger_id, 1);
	for (i = 0; i < 4000; i++)
		if (!((i / 8) % 2))
			ents[n++] = ents[i];
	load(e, 2 * S, ents, n);
	CHECK_INT(engine__nr_holders(e), 2000);
	CHECK_INT(engine__stats(e)->ledger_released, 2000);
	for (i = 0; i < 8; i++)
		CHECK_INT(engine__channel(e, i)->held, 250);
out:
	free(ents);
	engine__free(e);
}

TEST(ledger_get_after_reconcile_not_duplicated)
{
	struct engine *e = engine__new();
	struct rw_event ent = entry(7, 1 * S, 0, 1, 1);
	const struct engine_channel *c;

	load(e, 2 * S, &ent, 1);
	feed(e, ledger_ev(ev_get(1 * S, 0, 1, 0, 1), 7));
	CHECK_INT(engine__nr_holders(e), 1);
	c = engine__channel(e, 0);
	CHECK_INT(c->held, 1);
	CHECK_INT(c->predating, 0);
	CHECK_INT(c->client_count, 1);
	CHECK_INT(engine__stats(e)->predating, 0);
	/* a get the ledger has not shown yet makes its holder */
	feed(e, ledger_ev(ev_get(3 * S, 0, 1, 1, 2), 8));
	CHECK_INT(engine__nr_holders(e), 2);
	CHECK(holder_of(e, 8), "holder 8 missing");
	/* ... which the next read keeps, not twice */
	load(e, 4 * S, (struct rw_event[]){ ent, entry(8, 3 * S, 0, 1, 1) }, 2);
	CHECK_INT(engine__nr_holders(e), 2);
	CHECK_INT(engine__channel(e, 0)->held, 2);
out:
	engine__free(e);
}

TEST(ledger_put_by_id)
{
	struct engine *e = engine__new();
	struct rw_event ent = entry(7, 1 * S, 0, 1, 1);

	load(e, 2 * S, &ent, 1);
	load(e, 3 * S, NULL, 0);
	CHECK_INT(engine__nr_holders(e), 0);
	/* its put arrives after the read that dropped it: nothing more */
	feed(e, ledger_ev(ev_put(2 * S, 0, 1, 1, 0), 7));
	CHECK_INT(engine__nr_holders(e), 0);
	CHECK_INT(engine__channel(e, 0)->predating, 0);
	CHECK_INT(engine__stats(e)->predating, 0);
	CHECK_INT(engine__stats(e)->unattributed_drops, 0);
	/* trace: every get and put streamed, the put names its entry */
	feed(e, ledger_ev(ev_get(4 * S, 0, 1, 0, 1), 9));
	feed(e, ledger_ev(ev_get(4 * S + 1, 0, 1, 1, 2), 10));
	feed(e, ledger_ev(ev_put(5 * S, 0, 1, 2, 1), 9));
	CHECK_INT(engine__nr_holders(e), 1);
	CHECK(holder_of(e, 10), "the wrong holder let go");
	CHECK_INT(engine__channel(e, 0)->last_released_id, 9);
	engine__finish(e, 6 * S, NULL);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 1);
	CHECK_INT(find_kind(e, FINDING_LEAKED_REFERENCE)->holder.ts_ns, 4 * S + 1);
out:
	engine__free(e);
}

TEST(ledger_put_id0_predating_then_unledgered)
{
	struct engine *e = engine__new();
	struct snapshot *snap = snapshot__new("bpf");
	struct snapshot_channel sc = { .chan_key = CHAN_KEY(0, 1), .device_key = DEV_KEY(0),
				       .dev_id = 0, .chan_id = 1, .client_count = 1 };
	struct rw_event ev;

	CHECK(snap && !snapshot__add_channel(snap, &sc), "oom");
	engine__load_snapshot(e, snap, 1 * S);
	CHECK_INT(engine__channel(e, 0)->predating, 1);
	/* a get the ledger could not store: named by its event */
	ev = ledger_ev(ev_get(2 * S, 0, 1, 1, 2), 0);
	ev.flags |= DMARW_F_LEDGER_LOST;
	ev_task(&ev, 300, "lost");
	engine__feed(e, &ev);
	CHECK_INT(engine__nr_holders(e), 1);
	CHECK(engine__holder(e, 0)->not_in_ledger, "not marked");
	CHECK_INT(engine__stats(e)->ledger_lost, 1);
	/* a read of the ledger never drops it */
	load(e, 3 * S, NULL, 0);
	CHECK_INT(engine__nr_holders(e), 1);
	/* a put of a reference the ledger does not hold: the predating one */
	feed(e, ledger_ev(ev_put(4 * S, 0, 1, 2, 1), 0));
	CHECK_INT(engine__channel(e, 0)->predating, 0);
	CHECK_INT(engine__nr_holders(e), 1);
	/* then the one the ledger lost */
	feed(e, ledger_ev(ev_put(5 * S, 0, 1, 1, 0), 0));
	CHECK_INT(engine__nr_holders(e), 0);
	CHECK_INT(engine__channel(e, 0)->held, 0);
	engine__finish(e, 6 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
out:
	snapshot__free(snap);
	engine__free(e);
}

TEST(ledger_dev_holder_names_unregister_holder)
{
	struct engine *e = engine__new();
	struct rw_event ev, ent;
	const struct finding *f;

	feed(e, ev_register(1 * S, 0, true));
	load(e, 2 * S, NULL, 0);
	ent = entry(5, 1 * S + 5, 0, 1, 1);
	ev_caller(&ent, "leaky_probe", "leaky");
	ev_task(&ent, 222, "leaker");
	ent.ts_ns = 3 * S;	/* the record's own time is the get's */
	engine__feed(e, &ent);
	ev = ev_unreg_begin(3 * S + 1, 0, 1, 1);
	engine__feed(e, &ev);
	/* let go a microsecond later: the next read no longer has it */
	load(e, 3 * S + 2, NULL, 0);
	feed(e, ev_unreg_end(3 * S + 3, 0));
	engine__finish(e, 5 * S, NULL);
	CHECK_FIND(f, e, FINDING_UNREGISTER_WITH_USERS);
	CHECK_STR(f->holder.function, "leaky_probe");
	CHECK_INT(f->holder.pid, 222);
	CHECK(strstr(f->evidence, "held by pid 222 (leaker) from leaky_probe [leaky]"),
	      "evidence: %s", f->evidence);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 0);
	CHECK_INT(engine__nr_holders(e), 0);
	CHECK_SANE(e);
out:
	engine__free(e);
}

TEST(ledger_unrecorded_is_unknown_holder_leak)
{
	struct engine *e = engine__new();
	struct snapshot *fin = snapshot__new("bpf");
	struct snapshot_channel sc = { .chan_key = CHAN_KEY(0, 1), .device_key = DEV_KEY(0),
				       .dev_id = 0, .chan_id = 1, .client_count = 3,
				       .unrecorded = 2 };
	struct rw_event ent = entry(1, 1 * S, 0, 1, 1);
	const struct finding *f;
	size_t i, unknown = 0, named = 0;

	CHECK(fin && !snapshot__add_channel(fin, &sc), "oom");
	engine__set_hook_losses(e, DMARW_HOOK_CHAN_GET, 2, 1, 0, 40);
	load(e, 2 * S, &ent, 1);
	load(e, 3 * S, &ent, 1);
	engine__finish(e, 4 * S, fin);
	CHECK_INT(engine__channel(e, 0)->unknown, 2);
	CHECK_INT(engine__channel(e, 0)->predating, 0);
	CHECK_INT(engine__stats(e)->predating, 0);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 2);
	for (i = 0; i < engine__nr_findings(e); i++) {
		f = engine__finding(e, i);
		if (f->holder.valid) {
			named++;
			CHECK_INT(f->refs, 1);
			continue;
		}
		unknown++;
		CHECK_INT(f->refs, 2);
		CHECK_STR(f->channel, "dma0chan1");
		CHECK(strstr(f->evidence, "2 references held by an unknown holder") &&
		      strstr(f->evidence, "ledger was full") &&
		      strstr(f->evidence, "2 ledger full, 1 stack failures"),
		      "evidence: %s", f->evidence);
	}
	CHECK_INT(named, 1);
	CHECK_INT(unknown, 1);
	CHECK_SANE(e);
out:
	snapshot__free(fin);
	engine__free(e);
}

/* more references than the ledger lost: the rest predates, nobody is blamed */
TEST(ledger_unrecorded_bounded)
{
	struct engine *e = engine__new();
	struct snapshot *st = snapshot__new("bpf");
	struct snapshot_channel sc = { .chan_key = CHAN_KEY(0, 1), .device_key = DEV_KEY(0),
				       .dev_id = 0, .chan_id = 1, .client_count = 3,
				       .unrecorded = 1 };
	struct rw_event ent = entry(1, 1 * S, 0, 1, 1);

	CHECK(st && !snapshot__add_channel(st, &sc), "oom");
	load(e, 2 * S, &ent, 1);
	engine__sync_counts(e, 3 * S, st);
	CHECK_INT(engine__channel(e, 0)->unknown, 1);
	CHECK_INT(engine__channel(e, 0)->predating, 1);
	CHECK_INT(engine__channel(e, 0)->held, 1);
	/* the unknown holder let go: the count and unrecorded say so */
	st->channels[0].client_count = 2;
	st->channels[0].unrecorded = 0;
	engine__sync_counts(e, 4 * S, st);
	CHECK_INT(engine__channel(e, 0)->unknown, 0);
	CHECK_INT(engine__channel(e, 0)->predating, 1);
	CHECK_INT(engine__nr_holders(e), 1);
out:
	snapshot__free(st);
	engine__free(e);
}

TEST(ledger_previous_release_from_event)
{
	struct engine *e = engine__new();
	struct rw_event ent = entry(3, 1 * S, 0, 1, 1), ev;
	const struct finding *f;

	load(e, 2 * S, &ent, 1);
	load(e, 3 * S, NULL, 0);	/* released: remembered */
	ev = ledger_ev(ev_put(4 * S, 0, 1, 0, 0), 0);
	ev_task(&ev, 201, "client2");
	ev.flags |= DMARW_F_PREV_RELEASE;
	ev.prev.pid = 77;
	ev.prev.tgid = 77;
	snprintf(ev.prev.comm, sizeof(ev.prev.comm), "rel");
	ev.prev.ts_ns = 2 * S + 500000000ull;
	ev.prev.holder_id = 3;
	engine__feed(e, &ev);
	CHECK_FIND(f, e, FINDING_UNBALANCED_PUT);
	CHECK_INT(f->holder.pid, 201);
	CHECK(strstr(f->evidence, "previous release by pid 77 (rel) at +0.500s"),
	      "evidence: %s", f->evidence);
	CHECK(strstr(f->evidence, "taken by client_probe [dmarw_client]"),
	      "evidence: %s", f->evidence);
	CHECK(f->related.valid, "no related");
	CHECK_INT(f->related.pid, 77);
	CHECK_INT(f->related.nr_frames, 0);
	CHECK_STR(f->related_what, "previous-release");
	CHECK_SANE(e);
out:
	engine__free(e);
}

TEST(ledger_release_channel_prev_and_none)
{
	struct engine *e = engine__new();
	struct rw_event ev;
	const struct finding *f;

	/* dma_release_channel() on client_count 2, its prev of an entry not known */
	ev = ledger_ev(ev_release(1 * S, 0, 1, 2), 0);
	ev.flags |= DMARW_F_PREV_RELEASE;
	ev.prev.pid = 55;
	snprintf(ev.prev.comm, sizeof(ev.prev.comm), "other");
	ev.prev.ts_ns = 1 * S - 1000;
	ev.prev.holder_id = 99;
	engine__feed(e, &ev);
	CHECK_FIND(f, e, FINDING_UNBALANCED_PUT);
	CHECK(strstr(f->evidence, "previous release by pid 55 (other)") &&
	      strstr(f->evidence, "ledger entry 99"), "evidence: %s", f->evidence);
	/* a ledger put without prev: no release seen (balanced puts are not sent) */
	ev = ledger_ev(ev_put(2 * S, 1, 0, 0, 0), 0);
	engine__feed(e, &ev);
	CHECK_INT(count_kind(e, FINDING_UNBALANCED_PUT), 2);
	f = engine__finding(e, 1);
	CHECK(strstr(f->evidence, "no earlier release of dma1chan0 seen while tracing"),
	      "evidence: %s", f->evidence);
	CHECK(!f->related.valid, "related set");
out:
	engine__free(e);
}

TEST(ledger_hook_losses)
{
	struct engine *e = engine__new();
	struct ledger_losses sum;

	engine__set_hook_losses(e, DMARW_HOOK_CHAN_GET, 3, 4, 5, 6);
	engine__set_hook_losses(e, DMARW_HOOK_CHAN_PUT, 1, 0, 2, 7);
	engine__set_hook_losses(e, DMARW_HOOK_MAX, 9, 9, 9, 9);	/* ignored */
	engine__hook_losses(e, &sum);
	CHECK_INT(sum.ledger_full, 4);
	CHECK_INT(sum.stack_failed, 4);
	CHECK_INT(sum.map_failed, 7);
	CHECK_INT(engine__hook(e, DMARW_HOOK_CHAN_PUT)->sent, 7);
out:
	engine__free(e);
}

/* `trace` reads no ledger: a ledger holder whose put was lost follows the count */
TEST(ledger_ids_without_reads_follow_the_count)
{
	struct engine *e = engine__new();

	feed(e, ledger_ev(ev_get(1 * S, 0, 1, 0, 1), 1));
	/* its put lost: the next get reads client_count 0 */
	feed(e, ledger_ev(ev_get(2 * S, 0, 1, 0, 1), 2));
	CHECK_INT(engine__nr_holders(e), 1);
	CHECK(holder_of(e, 2), "the wrong holder dropped");
	/* once the ledger is read, it alone drops its holders */
	load(e, 3 * S, (struct rw_event[]){ entry(2, 2 * S, 0, 1, 1) }, 1);
	feed(e, ledger_ev(ev_get(4 * S, 0, 1, 0, 1), 3));
	CHECK_INT(engine__nr_holders(e), 2);
out:
	engine__free(e);
}

/* an id twice in one read (a bad recording) is one holder */
TEST(ledger_duplicate_ids_one_holder)
{
	struct engine *e = engine__new();
	struct rw_event ents[3] = { entry(4, 1 * S, 0, 1, 1), entry(4, 1 * S, 0, 1, 1),
				    entry(4, 1 * S, 0, 1, 1) };

	load(e, 2 * S, ents, 3);
	CHECK_INT(engine__nr_holders(e), 1);
	load(e, 3 * S, ents, 3);
	CHECK_INT(engine__nr_holders(e), 1);
	CHECK_INT(engine__channel(e, 0)->held, 1);
out:
	engine__free(e);
}

/*
 * trace with a running service: the service's holders of references taken
 * before tracing become plain holders (no ledger id: trace's own ids would
 * collide), the predating count they explain goes, and the unload of their
 * module is a leak with the holder named.
 */
TEST(ledger_adopted_holders_are_plain)
{
	struct engine *e = engine__new();
	struct snapshot *snap = snapshot__new("bpf"), *now = snapshot__new("bpf");
	struct snapshot_channel sc = { .chan_key = CHAN_KEY(0, 1), .device_key = DEV_KEY(0),
				       .dev_id = 0, .chan_id = 1, .client_count = 2 };
	struct rw_event ents[2], ev;
	struct ledger *l = NULL;
	const struct finding *f;

	CHECK(snap && now && !snapshot__add_channel(snap, &sc) && !snapshot__add_channel(now, &sc),
	      "oom");
	engine__load_snapshot(e, snap, 1 * S);
	CHECK_INT(engine__channel(e, 0)->predating, 2);
	ents[0] = entry(7, S / 2, 0, 1, 1);
	ents[1] = ents[0];	/* an id twice counts once */
	l = ledger_of(2 * S, ents, 2);
	CHECK(l, "oom");
	engine__adopt_ledger(e, 2 * S, l);
	CHECK_INT(engine__nr_holders(e), 1);
	CHECK_INT(engine__holder(e, 0)->ledger_id, 0);
	CHECK_INT(engine__holder(e, 0)->who.ts_ns, S / 2);
	CHECK_INT(engine__channel(e, 0)->predating, 1);
	CHECK_INT(engine__channel(e, 0)->held, 1);
	CHECK_INT(engine__stats(e)->ledger_loads, 0);
	/* trace's own ledger id 7 on another channel: another holder */
	feed(e, ledger_ev(ev_get(3 * S, 0, 2, 0, 1), 7));
	CHECK_INT(engine__nr_holders(e), 2);
	/* the adopted holder's module goes: its reference is a leak */
	ev = ev_make(DMARW_EV_MODULE_UNLOAD, 4 * S, -1, -1);
	ev.hook = DMARW_HOOK_MODULE_FREE;
	snprintf(ev.module, sizeof(ev.module), "dmarw_client");
	feed(e, ev);
	CHECK(engine__verify_wanted(e), "no verify after the unload");
	engine__verify(e, 5 * S, now);
	f = find_kind(e, FINDING_LEAKED_REFERENCE);
	CHECK(f, "no leaked-reference");
	CHECK_STR(f->channel, "dma0chan1");
	CHECK_STR(f->holder.function, "client_probe");
	CHECK_INT(f->holder.ts_ns, S / 2);
out:
	ledger__free(l);
	snapshot__free(snap);
	snapshot__free(now);
	engine__free(e);
}

/*
 * top or snapshot following a service: the service saw the holder's module
 * go (its "gone" map); the reader marks the holder by ledger id with the
 * service's names for its code, and the verify makes it a leak.
 */
TEST(ledger_gone_from_service)
{
	struct engine *e = engine__new();
	struct snapshot *now = snapshot__new("bpf");
	struct snapshot_channel sc = { .chan_key = CHAN_KEY(0, 1), .device_key = DEV_KEY(0),
				       .dev_id = 0, .chan_id = 1, .client_count = 1 };
	struct rw_event ents[1];
	const struct finding *f;

	CHECK(now && !snapshot__add_channel(now, &sc), "oom");
	ents[0] = entry(5, 1 * S, 0, 1, 1);
	load(e, 2 * S, ents, 1);
	CHECK_INT(engine__nr_holders(e), 1);
	CHECK(!engine__holder_gone(e, 6, HOLDER_MODULE_UNLOADED, 3 * S, "x", "f", "m"),
	      "an unknown id marked");
	CHECK(!engine__holder_gone(e, 5, HOLDER_ALIVE, 3 * S, "x", "f", "m"), "alive marked");
	CHECK(engine__holder_gone(e, 5, HOLDER_MODULE_UNLOADED, 3 * S, "dmarw_client",
				  "dmarw_client_request_by_mask", "dmarw_client"), "not marked");
	CHECK(!engine__holder_gone(e, 5, HOLDER_MODULE_UNLOADED, 4 * S, "dmarw_client", "f", "m"),
	      "marked twice");
	CHECK(engine__verify_wanted(e), "no verify wanted");
	engine__verify(e, 5 * S, now);
	f = find_kind(e, FINDING_LEAKED_REFERENCE);
	CHECK(f, "no leaked-reference");
	CHECK_STR(f->holder.function, "dmarw_client_request_by_mask");
	CHECK_STR(f->holder.module, "dmarw_client");
	CHECK(strstr(f->evidence, "dmarw_client"), "evidence: %s", f->evidence);
	/* the kernel no longer counting it: a put we did not see, no leak */
	engine__free(e);
	e = engine__new();
	CHECK(e, "oom");
	load(e, 2 * S, ents, 1);
	now->channels[0].client_count = 0;
	CHECK(engine__holder_gone(e, 5, HOLDER_CLIENT_UNBOUND, 3 * S, "c (d)", "g", "h"), "mark");
	engine__verify(e, 5 * S, now);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 0);
out:
	snapshot__free(now);
	engine__free(e);
}
