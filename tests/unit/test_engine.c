/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Engine scenarios: every finding kind fires on the buggy sequence and
 * stays silent on the correct sequence next to it.  This file: holders,
 * leaks, unbalanced puts, references predating tracing, release matching.
 */
#include "engine_scenarios.h"

TEST(event_name_tables)
{
	int i;

	for (i = 1; i < DMARW_EV_MAX; i++)
		CHECK_INT(rw_event_type_parse(rw_event_type_name((enum dmarw_event_type)i)), i);
	for (i = 0; i < DMARW_HOOK_MAX; i++)
		CHECK_INT(rw_hook_parse(rw_hook_name((enum dmarw_hook)i)), i);
	CHECK_STR(rw_event_type_name(DMARW_EV_DEV_UNREGISTER_BEGIN), "dev-unregister-begin");
	CHECK_STR(rw_hook_name(DMARW_HOOK_REQUEST_CHANNEL), "__dma_request_channel");
	CHECK_INT(rw_event_type_parse("nope"), -1);
	CHECK_INT(rw_hook_parse(NULL), -1);
	for (i = 0; i < FINDING_KIND_MAX; i++)
		CHECK_INT(finding_kind_parse(finding_kind_name((enum finding_kind)i)), i);
	CHECK_STR(finding_severity_name(finding_kind_severity(FINDING_GET_FAILED)), "info");
	CHECK_STR(finding_severity_name(finding_kind_severity(FINDING_RELEASE_PENDING)), "warning");
out:;
}

TEST(holder_frame_skips_core_and_tracing)
{
	struct rw_frame fr[8];
	const char *funcs[] = { "bpf_trampoline_6442", "arch_rethook_trampoline",
				"dma_chan_get.isra.0", "find_candidate.constprop.0",
				"__dma_request_channel", "acpi_dma_request_slave_chan_by_index",
				"my_client_probe", "platform_probe" };
	int i;

	memset(fr, 0, sizeof(fr));
	for (i = 0; i < 8; i++)
		snprintf(fr[i].func, sizeof(fr[i].func), "%s", funcs[i]);
	CHECK_INT(finding_holder_frame(fr, 8), 6);
	CHECK_INT(finding_holder_frame(fr, 6), -1);
	snprintf(fr[0].func, sizeof(fr[0].func), "some_prog");
	snprintf(fr[0].module, sizeof(fr[0].module), "bpf");
	CHECK(finding_frame_is_core(&fr[0]), "[bpf] frame not skipped");
out:;
}

TEST(leak_fires_with_holder)
{
	struct engine *e = engine__new();
	const struct finding *f;

	feed(e, ev_get(1 * S, 0, 1, 0, 1));
	engine__finish(e, 3 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 1);
	f = find_kind(e, FINDING_LEAKED_REFERENCE);
	CHECK(f, "no leaked-reference");
	CHECK_STR(f->channel, "dma0chan1");
	CHECK_STR(f->device, "dma0");
	CHECK_STR(f->dev_name, "dmarw-prov.0");
	CHECK_STR(f->holder.function, "client_probe");
	CHECK_STR(f->holder.module, "dmarw_client");
	CHECK_STR(f->holder.comm, "insmod");
	CHECK_INT(f->holder.pid, 200);
	CHECK_INT(f->age_ns, 2 * S);
	CHECK_INT(f->severity, SEVERITY_ERROR);
	CHECK(strstr(f->evidence, "dma0chan1 client_count 1"), "evidence: %s", f->evidence);
	CHECK(f->holder.nr_frames > 3, "stack not kept");
	CHECK_SANE(e);
out:
	engine__free(e);
}

TEST(leak_silent_when_released)
{
	struct engine *e = engine__new();

	request_release(e, 1 * S);
	engine__finish(e, 3 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
	CHECK_INT(engine__nr_holders(e), 0);
	CHECK_INT(engine__channel(e, 0)->client_count, 0);
out:
	engine__free(e);
}

TEST(leak_module_vmlinux_when_no_module)
{
	struct engine *e = engine__new();
	struct rw_event ev = ev_get(1 * S, 0, 1, 0, 1);
	const struct finding *f;

	ev_caller(&ev, "async_tx_init", "");
	engine__feed(e, &ev);
	engine__finish(e, 2 * S, NULL);
	CHECK_FIND(f, e, FINDING_LEAKED_REFERENCE);
	CHECK_STR(f->holder.module, "vmlinux");
out:
	engine__free(e);
}

TEST(unbalanced_put_double_release_one_finding)
{
	struct engine *e = engine__new();
	const struct finding *f;
	struct rw_event ev;

	request_release(e, 1 * S);
	ev = ev_release(2 * S, 0, 1, 0);
	ev_task(&ev, 201, "client2");
	engine__feed(e, &ev);
	ev = ev_put(2 * S + 1, 0, 1, 0, 0);
	ev_task(&ev, 201, "client2");
	engine__feed(e, &ev);
	engine__finish(e, 4 * S, NULL);
	CHECK_INT(count_kind(e, FINDING_UNBALANCED_PUT), 1);
	CHECK_INT(engine__nr_findings(e), 1);
	CHECK_FIND(f, e, FINDING_UNBALANCED_PUT);
	CHECK_INT(f->holder.pid, 201);
	CHECK(f->related.valid, "no previous release stack");
	CHECK_STR(f->related_what, "previous-release");
	CHECK_INT(f->related.pid, 200);
	CHECK(strstr(f->evidence, "client_count 0 at entry"), "evidence: %s", f->evidence);
	CHECK(strstr(f->evidence, "previous release by pid 200"), "evidence: %s", f->evidence);
	CHECK_SANE(e);
out:
	engine__free(e);
}

TEST(unbalanced_put_bare_chan_put)
{
	struct engine *e = engine__new();
	const struct finding *f;

	request_release(e, 1 * S);
	feed(e, ev_put(2 * S, 0, 1, 0, 0));
	engine__finish(e, 3 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 1);
	f = find_kind(e, FINDING_UNBALANCED_PUT);
	CHECK(f, "no unbalanced-put");
	CHECK(strstr(f->evidence, "dma_chan_put on dma0chan1 read client_count 0"),
	      "evidence: %s", f->evidence);
	CHECK(strstr(f->evidence, "at +0.001s"), "no time of previous release: %s", f->evidence);
out:
	engine__free(e);
}

TEST(unbalanced_put_release_channel_count_two)
{
	struct engine *e = engine__new();
	const struct finding *f;

	feed(e, ev_get(1 * S, 0, 1, 0, 1));
	feed(e, ev_get(1 * S + 5, 0, 1, 1, 2));
	feed(e, ev_release(2 * S, 0, 1, 2));
	feed(e, ev_put(2 * S + 1, 0, 1, 2, 1));
	CHECK_INT(count_kind(e, FINDING_UNBALANCED_PUT), 1);
	CHECK_FIND(f, e, FINDING_UNBALANCED_PUT);
	CHECK(strstr(f->evidence, "WARN_ONCE"), "evidence lacks WARN_ONCE");
	CHECK_INT(engine__channel(e, 0)->client_count, 1);
out:
	engine__free(e);
}

TEST(unbalanced_put_repeats_counted_once)
{
	struct engine *e = engine__new();
	int i;

	request_release(e, 1 * S);
	for (i = 0; i < 3; i++) {
		feed(e, ev_release(2 * S + i * MS, 0, 1, 0));
		feed(e, ev_put(2 * S + i * MS + 1, 0, 1, 0, 0));
	}
	CHECK_INT(engine__nr_findings(e), 1);
	CHECK_INT(engine__finding(e, 0)->count, 3);
out:
	engine__free(e);
}

TEST(predating_snapshot_no_false_put_or_leak)
{
	struct engine *e = engine__new();
	struct snapshot *snap = snapshot__new("sysfs");
	struct snapshot_device d = { .device_key = 0, .dev_id = 0, .kref = -1,
				     .has_release = -1, .state = DMARW_DEV_REGISTERED };
	struct snapshot_channel c = { .dev_id = 0, .chan_id = 1, .client_count = 1 };
	struct snapshot_channel c0 = { .dev_id = 0, .chan_id = 0, .client_count = 0 };

	snapshot__add_device(snap, &d);
	snapshot__add_channel(snap, &c0);
	snapshot__add_channel(snap, &c);
	engine__load_snapshot(e, snap, 1 * S);
	CHECK_INT(engine__stats(e)->predating, 1);
	/* the predating holder releases: kernel says client_count 1 */
	feed(e, ev_release(2 * S, 0, 1, 1));
	feed(e, ev_put(2 * S + 1, 0, 1, 1, 0));
	engine__finish(e, 5 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
	CHECK_INT(engine__nr_channels(e), 2);
	CHECK_INT(engine__channel(e, 1)->key, CHAN_KEY(0, 1));
	CHECK_INT(engine__channel(e, 1)->predating, 0);
out:
	snapshot__free(snap);
	engine__free(e);
}

TEST(predating_still_held_no_leak)
{
	struct engine *e = engine__new();
	struct snapshot *snap = snapshot__new("bpf");
	struct snapshot_channel c = { .chan_key = CHAN_KEY(0, 1), .device_key = DEV_KEY(0),
				      .dev_id = 0, .chan_id = 1, .client_count = 2 };

	snapshot__add_channel(snap, &c);
	engine__load_snapshot(e, snap, 1 * S);
	request_release(e, 2 * S);	/* unrelated get/put in between: 2->3->2 */
	engine__finish(e, 5 * S, snap);
	CHECK_INT(engine__nr_findings(e), 0);
	CHECK_INT(engine__channel(e, 0)->predating, 2);
out:
	snapshot__free(snap);
	engine__free(e);
}

TEST(predating_found_mid_trace)
{
	struct engine *e = engine__new();

	/* no snapshot: a put with client_count_before 1 and no known holder */
	feed(e, ev_release(1 * S, 0, 1, 1));
	feed(e, ev_put(1 * S + 1, 0, 1, 1, 0));
	engine__finish(e, 2 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
	CHECK_INT(engine__stats(e)->predating, 1);
out:
	engine__free(e);
}

TEST(predating_other_module_release_keeps_real_leak)
{
	struct engine *e = engine__new();
	struct snapshot *snap = snapshot__new("sysfs");
	struct snapshot_channel c = { .dev_id = 0, .chan_id = 1, .client_count = 1 };
	struct rw_event ev;
	const struct finding *f;

	snapshot__add_channel(snap, &c);
	engine__load_snapshot(e, snap, 1 * S);
	ev = ev_get(2 * S, 0, 1, 1, 2);	/* module B takes a reference */
	ev_caller(&ev, "b_probe", "mod_b");
	engine__feed(e, &ev);
	ev = ev_put(3 * S, 0, 1, 2, 1);	/* module A (predating) drops its own */
	ev_caller(&ev, "a_remove", "mod_a");
	engine__feed(e, &ev);
	engine__finish(e, 4 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 1);
	f = find_kind(e, FINDING_LEAKED_REFERENCE);
	CHECK(f, "B's leak not reported");
	CHECK_STR(f->holder.module, "mod_b");
out:
	snapshot__free(snap);
	engine__free(e);
}

TEST(release_matched_by_module_then_tgid)
{
	struct engine *e = engine__new();
	struct rw_event ev;
	const struct finding *f;

	ev = ev_get(1 * S, 0, 1, 0, 1);
	ev_caller(&ev, "a_probe", "mod_a");
	engine__feed(e, &ev);
	ev = ev_get(2 * S, 0, 1, 1, 2);
	ev_caller(&ev, "b_probe", "mod_b");
	ev_task(&ev, 555, "modprobe");
	engine__feed(e, &ev);
	ev = ev_put(3 * S, 0, 1, 2, 1);	/* mod_b releases, different task */
	ev_caller(&ev, "b_remove", "mod_b");
	ev_task(&ev, 600, "rmmod");
	engine__feed(e, &ev);
	engine__finish(e, 4 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 1);
	f = engine__finding(e, 0);
	CHECK_STR(f->holder.module, "mod_a");
	CHECK_STR(f->holder.function, "a_probe");
out:
	engine__free(e);
}

TEST(public_channel_balance_jump)
{
	struct engine *e = engine__new();
	struct rw_event ev;

	/* dmaengine_get with two async_tx users: one get, client_count 0 -> 2 */
	ev = ev_get(1 * S, 0, 1, 0, 2);
	ev_caller(&ev, "async_tx_register", "async_tx");
	engine__feed(e, &ev);
	CHECK_INT(engine__nr_holders(e), 1);
	CHECK_INT(engine__holder(e, 0)->refs, 2);
	ev = ev_put(2 * S, 0, 1, 2, 1);
	ev_caller(&ev, "async_tx_unregister", "async_tx");
	engine__feed(e, &ev);
	ev = ev_put(3 * S, 0, 1, 1, 0);
	ev_caller(&ev, "async_tx_unregister", "async_tx");
	engine__feed(e, &ev);
	engine__finish(e, 4 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
	CHECK_INT(engine__stats(e)->predating, 0);
out:
	engine__free(e);
}

TEST(public_channel_balance_jump_leak_one)
{
	struct engine *e = engine__new();
	const struct finding *f;

	feed(e, ev_get(1 * S, 0, 1, 0, 2));
	feed(e, ev_put(2 * S, 0, 1, 2, 1));
	engine__finish(e, 4 * S, NULL);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 1);
	CHECK_FIND(f, e, FINDING_LEAKED_REFERENCE);
	CHECK_INT(f->refs, 1);
	CHECK_INT(engine__stats(e)->predating, 0);
out:
	engine__free(e);
}
