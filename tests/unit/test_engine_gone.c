/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Engine scenarios: every finding kind fires on the buggy sequence and
 * stays silent on the correct sequence next to it.  This file: holders
 * that die (module unload, client unbind), scans, the kernel's counts after
 * lost events, suppressions, hooks, key reuse.
 */
#include "engine_scenarios.h"

TEST(scan_reports_long_held_once_never_a_leak)
{
	struct engine *e = engine__new();
	const struct finding *f;

	feed(e, ev_get(1 * S, 0, 1, 0, 1));
	feed(e, ev_get(9 * S, 0, 2, 0, 1));
	engine__scan(e, 5 * S, 3 * S);
	CHECK_INT(count_kind(e, FINDING_LONG_HELD_REFERENCE), 1);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 0);
	f = find_kind(e, FINDING_LONG_HELD_REFERENCE);
	CHECK(f, "no long-held-reference");
	CHECK_INT(f->severity, SEVERITY_INFO);
	CHECK(strstr(f->evidence, "--min-age") && strstr(f->evidence, "age alone is no leak"),
	      "evidence: %s", f->evidence);
	engine__scan(e, 6 * S, 3 * S);
	CHECK_INT(count_kind(e, FINDING_LONG_HELD_REFERENCE), 1);
	engine__scan(e, 13 * S, 3 * S);
	CHECK_INT(count_kind(e, FINDING_LONG_HELD_REFERENCE), 2);
	CHECK_INT(engine__nr_failing(e, SEVERITY_ERROR), 0);
	/* the end of a run still judges what is held */
	engine__finish(e, 14 * S, NULL);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 2);
out:
	engine__free(e);
}

static struct rw_event ev_unload(uint64_t ts, const char *module)
{
	struct rw_event ev = ev_make(DMARW_EV_MODULE_UNLOAD, ts, -1, -1);

	ev.hook = DMARW_HOOK_MODULE_FREE;
	snprintf(ev.module, sizeof(ev.module), "%s", module);
	return ev;
}

static struct rw_event ev_request_client(uint64_t ts, int dev, int chan, uint64_t client_key,
					 const char *client)
{
	struct rw_event ev = ev_make(DMARW_EV_REQUEST_CHAN, ts, dev, chan);

	ev.hook = DMARW_HOOK_REQUEST_CHAN;
	ev.client_key = client_key;
	snprintf(ev.client, sizeof(ev.client), "%s", client);
	snprintf(ev.client_drv, sizeof(ev.client_drv), "dmarw_client");
	return ev;
}

static struct rw_event ev_unbind(uint64_t ts, uint64_t client_key, const char *dev)
{
	struct rw_event ev = ev_make(DMARW_EV_CLIENT_UNBIND, ts, -1, -1);

	ev.hook = DMARW_HOOK_DRIVER_UNBIND;
	ev.client_key = client_key;
	snprintf(ev.client, sizeof(ev.client), "%s", dev);
	snprintf(ev.client_drv, sizeof(ev.client_drv), "dmarw_client");
	return ev;
}

/* The kernel's count of dma@dev chan@chan, as a verify reads it. */
static struct snapshot *state_of(int dev, int chan, int client_count)
{
	struct snapshot *snap = snapshot__new("bpf");
	struct snapshot_channel c = { .dev_id = dev, .chan_id = chan,
				      .client_count = client_count };

	if (snap && snapshot__add_channel(snap, &c)) {
		snapshot__free(snap);
		return NULL;
	}
	return snap;
}

TEST(sync_counts_follows_the_kernel_after_lost_puts)
{
	struct engine *e = engine__new();
	struct snapshot *st = state_of(0, 1, 0);

	CHECK(st, "snapshot");
	st->channels[0].chan_key = CHAN_KEY(0, 1);	/* as the live session keys it */
	feed(e, ev_get(1 * S, 0, 1, 0, 1));
	engine__add_lost(e, 1);		/* its put */
	CHECK_INT(engine__channel(e, 0)->client_count, 1);
	engine__sync_counts(e, 2 * S, st);
	CHECK_INT(engine__channel(e, 0)->client_count, 0);
	CHECK_INT(engine__nr_holders(e), 0);
	CHECK_INT(engine__nr_findings(e), 0);
out:
	snapshot__free(st);
	engine__free(e);
}

TEST(module_unload_with_reference_held_is_a_leak_at_once)
{
	struct engine *e = engine__new();
	struct snapshot *st = state_of(0, 1, 1);
	const struct finding *f;
	struct rw_event ev;

	CHECK(st, "snapshot");
	engine__set_hook(e, DMARW_HOOK_MODULE_FREE, RW_HOOK_TRACEPOINT, 1, 0);
	ev = ev_get(1 * S, 0, 1, 0, 1);
	ev_caller(&ev, "leaky_take", "leaky");
	feed(e, ev);
	feed(e, ev_get(1 * S, 0, 2, 0, 1));	/* dmarw_client's: stays alive */
	feed(e, ev_unload(2 * S, "other"));
	CHECK(!engine__verify_wanted(e), "an unrelated module's unload needs no verify");
	feed(e, ev_unload(3 * S, "leaky"));
	CHECK(engine__verify_wanted(e), "no verify asked for");
	engine__verify(e, 3 * S + 1000, st);
	CHECK(!engine__verify_wanted(e), "verify still wanted");
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 1);
	f = find_kind(e, FINDING_LEAKED_REFERENCE);
	CHECK(f, "no leak");
	CHECK_STR(f->holder.function, "leaky_take");
	CHECK_STR(f->holder.module, "leaky");
	CHECK_STR(f->channel, "dma0chan1");
	CHECK(strstr(f->evidence, "module leaky was unloaded at") &&
	      strstr(f->evidence, "the holder is gone") &&
	      strstr(f->evidence, "client_count 1 in the kernel after it"),
	      "evidence: %s", f->evidence);
	/* the end reports the other one, held by a live holder, and nothing twice */
	engine__finish(e, 4 * S, NULL);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 2);
	CHECK(strstr(engine__finding(e, 1)->evidence, "the holder is alive: module "
		     "dmarw_client not unloaded"), "evidence: %s", engine__finding(e, 1)->evidence);
out:
	snapshot__free(st);
	engine__free(e);
}

TEST(module_unload_after_put_or_uncounted_is_no_leak)
{
	struct engine *e = engine__new();
	struct snapshot *st = state_of(0, 2, 0);
	struct rw_event ev;

	CHECK(st, "snapshot");
	/* released before the unload: nothing */
	ev = ev_get(1 * S, 0, 1, 0, 1);
	ev_caller(&ev, "leaky_take", "leaky");
	feed(e, ev);
	ev = ev_put(2 * S, 0, 1, 1, 0);
	ev_caller(&ev, "leaky_give", "leaky");
	feed(e, ev);
	/* its put lost: the kernel count (0) says it was released */
	ev = ev_get(2 * S, 0, 2, 0, 1);
	ev_caller(&ev, "leaky_take", "leaky");
	feed(e, ev);
	feed(e, ev_unload(3 * S, "leaky"));
	engine__verify(e, 3 * S, st);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 0);
	CHECK_INT(engine__nr_holders(e), 0);
	engine__finish(e, 4 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
out:
	snapshot__free(st);
	engine__free(e);
}

TEST(client_unbound_holding_is_a_leak_and_others_are_not)
{
	struct engine *e = engine__new();
	struct snapshot *st = state_of(0, 1, 1);
	const struct finding *f;

	CHECK(st, "snapshot");
	feed(e, ev_get(1 * S, 0, 1, 0, 1));
	feed(e, ev_request_client(1 * S, 0, 1, 77, "dmarw-client.0:rx"));
	feed(e, ev_get(1 * S, 0, 2, 0, 1));
	feed(e, ev_request_client(1 * S, 0, 2, 78, "dmarw-client.1:rx"));
	feed(e, ev_unbind(2 * S, 79, "serial8250"));
	CHECK(!engine__verify_wanted(e), "another device's unbind needs no verify");
	feed(e, ev_unbind(3 * S, 77, "dmarw-client.0"));
	CHECK(engine__verify_wanted(e), "no verify asked for");
	engine__verify(e, 3 * S, st);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 1);
	f = find_kind(e, FINDING_LEAKED_REFERENCE);
	CHECK(f, "no leak");
	CHECK_STR(f->holder.client, "dmarw-client.0:rx");
	CHECK(strstr(f->evidence, "client device dmarw-client.0 (dmarw_client) was unbound") &&
	      strstr(f->evidence, "the holder is gone"), "evidence: %s", f->evidence);
	CHECK_INT(engine__nr_failing(e, SEVERITY_ERROR), 1);
out:
	snapshot__free(st);
	engine__free(e);
}

TEST(final_snapshot_is_truth_after_lost_events)
{
	struct engine *e = engine__new();
	struct snapshot *fin = snapshot__new("bpf");
	struct snapshot_channel c = { .chan_key = CHAN_KEY(0, 1), .device_key = DEV_KEY(0),
				      .dev_id = 0, .chan_id = 1, .client_count = 0 };

	feed(e, ev_get(1 * S, 0, 1, 0, 1));
	engine__add_lost(e, 2);		/* the put was lost */
	snapshot__add_channel(fin, &c);
	engine__finish(e, 3 * S, fin);
	CHECK_INT(engine__nr_findings(e), 0);
	CHECK_INT(engine__stats(e)->lost, 2);
	CHECK_INT(engine__stats(e)->unattributed_drops, 1);
out:
	snapshot__free(fin);
	engine__free(e);
}

TEST(suppressed_finding_kept_not_failing)
{
	static const char text[] =
		"{\n  keep-dma0\n  kind: leaked-reference\n  device: dma0*\n"
		"  function: client_*\n  module: dmarw_client\n}\n";
	char err[256];
	struct suppressions *supp = suppress__parse(text, sizeof(text) - 1, "t.supp", err,
						    sizeof(err));
	struct engine *e = engine__new();

	CHECK(supp, "parse: %s", err);
	engine__set_suppressions(e, supp);
	feed(e, ev_get(1 * S, 0, 1, 0, 1));
	feed(e, ev_get(1 * S, 1, 0, 0, 1));
	engine__finish(e, 2 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 2);
	CHECK_STR(engine__finding(e, 0)->suppressed, "keep-dma0");
	CHECK_STR(engine__finding(e, 1)->suppressed, "");
	CHECK_INT(engine__nr_failing(e, SEVERITY_ERROR), 1);
	CHECK_INT(engine__nr_suppressed(e), 1);
	CHECK_INT(suppress__used(supp, 0), 1);
out:
	engine__free(e);
	suppress__free(supp);
}

TEST(device_key_reuse_new_registration)
{
	struct engine *e = engine__new();

	feed(e, ev_register(1 * S, 0, false));
	feed(e, ev_unreg_begin(2 * S, 0, 0, 0));
	feed(e, ev_unreg_end(2 * S + 1, 0));
	feed(e, ev_dev_release(2 * S + 2, 0, 0));
	feed(e, ev_register(3 * S, 0, false));	/* module reloaded, same memory */
	CHECK_INT(count_kind(e, FINDING_MISSING_RELEASE_CALLBACK), 2);
	CHECK_INT(engine__nr_devices(e), 1);
	CHECK_STR(engine_dev_state_name(engine__device(e, 0)->state), "registered");
	CHECK_INT(engine__device(e, 0)->generation, 1);
out:
	engine__free(e);
}

TEST(hooks_and_counters)
{
	struct engine *e = engine__new();

	engine__set_hook(e, DMARW_HOOK_CHAN_GET, RW_HOOK_FENTRY, 10, 0);
	engine__set_hook(e, DMARW_HOOK_DEV_RELEASE, RW_HOOK_UNAVAILABLE, 0, 0);
	request_release(e, 1 * S);
	CHECK_STR(rw_hook_mode_name(engine__hook(e, DMARW_HOOK_CHAN_GET)->mode), "fentry");
	CHECK_INT(engine__hook(e, DMARW_HOOK_CHAN_GET)->hits, 10);
	CHECK_INT(engine__stats(e)->events, 3);
	CHECK_INT(engine__stats(e)->by_type[DMARW_EV_CHAN_GET], 1);
	CHECK_INT(engine__channel(e, 0)->gets, 1);
	CHECK_INT(engine__channel(e, 0)->puts, 1);
out:
	engine__free(e);
}

/*
 * Seen on 6.1 with fexit: the client's last put drops the last device
 * reference after an unbind, dma_device_release() (hooked at entry) runs
 * inside that put, so its event precedes the put's exit event.  That put is
 * the release, not a use after it.
 */
TEST(release_inside_last_put_after_unbind_silent)
{
	struct engine *e = engine__new();
	struct rw_event ev;

	ev = ev_register(1 * S, 0, true);
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	ev = ev_get(2 * S, 0, 0, 0, 1);
	ev_kref(&ev, 1, 2);
	engine__feed(e, &ev);
	ev = ev_unreg_begin(3 * S, 0, 1, 1);
	ev_kref(&ev, 2, -1);
	engine__feed(e, &ev);
	ev = ev_unreg_end(3 * S + 1, 0);
	ev_kref(&ev, 2, 1);
	engine__feed(e, &ev);
	CHECK_INT(count_kind(e, FINDING_UNREGISTER_WITH_USERS), 1);
	ev = ev_dev_release(4 * S, 0, 0);
	ev_task(&ev, 77, "bash");
	engine__feed(e, &ev);
	ev = ev_put(4 * S + 1, 0, 0, 1, 0);
	ev_kref(&ev, 1, 0);
	ev_task(&ev, 77, "bash");
	engine__feed(e, &ev);
	engine__finish(e, 6 * S, NULL);
	CHECK_INT(count_kind(e, FINDING_RELEASE_WITH_USERS), 0);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 0);
	CHECK_INT(count_kind(e, FINDING_RELEASE_PENDING), 0);
	/* another task's put after that release still is a use after release */
	ev = ev_put(5 * S, 0, 0, 1, 0);
	ev_kref(&ev, 1, 0);
	ev_task(&ev, 78, "other");
	engine__feed(e, &ev);
	CHECK_INT(count_kind(e, FINDING_RELEASE_WITH_USERS), 1);
out:
	engine__free(e);
}

/*
 * The kref check on a get/put uses the kernel's own view carried by the
 * event (every channel's client_count read with the kref under
 * dma_list_mutex): right after lost events, and with channels we never saw.
 */
TEST(refcount_check_uses_kernel_view_after_loss)
{
	struct engine *e = engine__new();
	struct rw_event ev;
	const struct finding *f;

	ev = ev_register(1 * S, 0, true);
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	engine__add_lost(e, 5);
	/* two other channels in use that we never saw: kref 4 is right */
	ev = ev_get(2 * S, 0, 1, 0, 1);
	ev_kref(&ev, 3, 4);
	ev.dev_in_use = 3;
	engine__feed(e, &ev);
	CHECK_INT(count_kind(e, FINDING_REFCOUNT_MISMATCH), 0);
	/* the kernel says 2 channels in use but the kref is 1: underflow */
	ev = ev_put(3 * S, 0, 1, 1, 0);
	ev_kref(&ev, 4, 1);
	ev.dev_in_use = 2;
	engine__feed(e, &ev);
	CHECK_INT(count_kind(e, FINDING_REFCOUNT_MISMATCH), 1);
	CHECK_FIND(f, e, FINDING_REFCOUNT_MISMATCH);
	CHECK(strstr(f->evidence, "underflow"), "evidence: %s", f->evidence);
out:
	engine__free(e);
}

/*
 * Seen with watch: unbind frees the provider's channels, the rebound device
 * (new memory, same dev_id) gets channel structs at the freed addresses.
 * The new channel must not inherit the old one's holders or counts.
 */
TEST(rebind_reusing_channel_memory_is_a_new_channel)
{
	struct engine *e = engine__new();
	struct rw_event ev;
	uint64_t old_key;

	ev = ev_register(1 * S, 0, true);
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	ev = ev_get(2 * S, 0, 1, 0, 1);
	ev_kref(&ev, 1, 2);
	engine__feed(e, &ev);
	old_key = ev.chan_key;
	ev = ev_put(3 * S, 0, 1, 1, 0);
	ev_kref(&ev, 2, 1);
	engine__feed(e, &ev);
	feed(e, ev_unreg_begin(4 * S, 0, 0, 0));
	ev = ev_unreg_end(4 * S + 1, 0);
	ev_kref(&ev, 1, 0);
	engine__feed(e, &ev);
	/* the new device lives elsewhere; its channel 0 sits where chan 1 was */
	ev = ev_register(5 * S, 0, true);
	ev.device_key = 999;
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	ev = ev_get(6 * S, 0, 0, 0, 1);
	ev.device_key = 999;
	ev.chan_key = old_key;
	ev_kref(&ev, 1, 2);
	ev.dev_in_use = 1;
	engine__feed(e, &ev);
	CHECK_INT(engine__nr_channels(e), 2);
	CHECK_STR(engine__channel(e, 1)->name, "dma0chan0");
	CHECK_STR(engine__channel(e, 0)->name, "dma0chan1");
	CHECK_INT(engine__channel(e, 0)->client_count, 0);
	CHECK_INT(count_kind(e, FINDING_REFCOUNT_MISMATCH), 0);
out:
	engine__free(e);
}

/*
 * Unbind then bind again: the ledger read before the unbind event already
 * holds the reference the new probe took, after the unbind: not gone.
 */
TEST(gone_unbind_spares_the_rebind_reference)
{
	struct engine *e = engine__new();
	struct rw_event old = ev_ledger_entry(1, 1 * S, 0, 1, 1);
	struct rw_event again = ev_ledger_entry(2, 3 * S, 0, 2, 1);
	struct ledger *l;

	old.client_key = again.client_key = 77;
	snprintf(old.client, sizeof(old.client), "dmarw-client.0:rx");
	snprintf(again.client, sizeof(again.client), "dmarw-client.0:rx");
	l = ledger_of(4 * S, (struct rw_event[]){ old, again }, 2);
	engine__load_ledger(e, 4 * S, l);
	ledger__free(l);
	feed(e, ev_unbind(2 * S, 77, "dmarw-client.0"));
	CHECK_INT(engine__stats(e)->holders_gone, 1);
	CHECK_INT(engine__holder(e, 0)->state, HOLDER_CLIENT_UNBOUND);
	CHECK_INT(engine__holder(e, 1)->state, HOLDER_ALIVE);
out:
	engine__free(e);
}
