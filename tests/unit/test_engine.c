/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Engine scenarios: every finding kind fires on the buggy sequence and
 * stays silent on the correct sequence next to it.
 */
#include <errno.h>
#include <stdlib.h>
#include "harness.h"
#include "helpers.h"
#include "snapshot.h"
#include "suppress.h"

#define MS	1000000ull
#define S	1000000000ull

static void feed(struct engine *e, struct rw_event ev)
{
	engine__feed(e, &ev);
}

/* request + release of dma0chan1 by one client */
static void request_release(struct engine *e, uint64_t t)
{
	feed(e, ev_get(t, 0, 1, 0, 1));
	feed(e, ev_release(t + MS, 0, 1, 1));
	feed(e, ev_put(t + MS + 1, 0, 1, 1, 0));
}

#define CHECK_SANE(e) do {						\
		const char *why_ = findings_sane(e);			\
		CHECK(!why_, "%s", why_);				\
	} while (0)

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

TEST(unregister_with_users_fires)
{
	struct engine *e = engine__new();
	const struct finding *f;

	feed(e, ev_register(1 * S, 0, true));
	feed(e, ev_get(2 * S, 0, 1, 0, 1));
	feed(e, ev_unreg_begin(3 * S, 0, 1, 1));
	CHECK_INT(count_kind(e, FINDING_UNREGISTER_WITH_USERS), 1);
	CHECK_FIND(f, e, FINDING_UNREGISTER_WITH_USERS);
	CHECK_STR(f->channel, "dma0chan1");
	CHECK_STR(f->holder.function, "client_probe");
	CHECK_STR(f->related.function, "dmarw_prov_remove");
	CHECK(strstr(f->evidence, "read from the kernel"), "evidence: %s", f->evidence);
	CHECK(strstr(f->evidence, "held by pid 200"), "evidence: %s", f->evidence);
	CHECK_INT(f->age_ns, 1 * S);
	CHECK_SANE(e);
out:
	engine__free(e);
}

/* dma_request_chan()'s exit names the client of the get just before it. */
static struct rw_event ev_request(uint64_t ts, int dev, int chan, const char *client,
				  const char *drv)
{
	struct rw_event ev = ev_make(DMARW_EV_REQUEST_CHAN, ts, dev, chan);

	snprintf(ev.client, sizeof(ev.client), "%s", client);
	snprintf(ev.client_drv, sizeof(ev.client_drv), "%s", drv);
	return ev;
}

TEST(request_names_the_client_of_the_holder)
{
	struct engine *e = engine__new();
	const struct finding *f;
	struct rw_event ev;

	feed(e, ev_register(1 * S, 0, true));
	feed(e, ev_get(2 * S, 0, 1, 0, 1));
	feed(e, ev_request(2 * S + 1, 0, 1, "3f202000.mmc:rx-tx", "sdhost-bcm2835"));
	/* another task's request does not rename the first holder */
	feed(e, ev_get(2 * S + 2, 0, 2, 0, 1));
	ev = ev_request(2 * S + 3, 0, 2, "3f204000.spi:tx", "spi-bcm2835");
	ev_task(&ev, 300, "kworker/0:1");
	feed(e, ev);
	CHECK_STR(engine__channel(e, 0)->client_name, "3f202000.mmc:rx-tx");
	feed(e, ev_unreg_begin(3 * S, 0, 2, 2));
	CHECK_INT(count_kind(e, FINDING_UNREGISTER_WITH_USERS), 1);
	CHECK_FIND(f, e, FINDING_UNREGISTER_WITH_USERS);
	CHECK_STR(f->holder.client, "3f202000.mmc:rx-tx");
	CHECK_STR(f->holder.client_drv, "sdhost-bcm2835");
	CHECK(strstr(f->evidence, "from client_probe [dmarw_client] for 3f202000.mmc:rx-tx "
		     "(sdhost-bcm2835) since"), "evidence: %s", f->evidence);
	CHECK(!strstr(f->evidence, "3f204000.spi"), "evidence: %s", f->evidence);
	/* the put that drops the last reference: the kernel forgets the client */
	feed(e, ev_put(4 * S, 0, 1, 1, 0));
	CHECK_STR(engine__channel(e, 0)->client_name, "");
	engine__finish(e, 5 * S, NULL);
	f = find_kind(e, FINDING_LEAKED_REFERENCE);
	CHECK(f, "no leaked-reference");
	CHECK_STR(f->channel, "dma0chan2");
	CHECK_STR(f->holder.client, "");
	CHECK_SANE(e);
out:
	engine__free(e);
}

/*
 * Seen on arm64 6.1 after the controller unbind: the clients release their
 * channels of a device that the kernel no longer lists.  @variant breaks
 * one of the conditions the inference rests on.
 */
static size_t unlisted_put_findings(int variant, struct finding *out)
{
	struct engine *e = engine__new();
	struct snapshot *snap = snapshot__new("bpf");
	struct snapshot_channel c = { .dev_id = 1, .chan_id = 0, .client_count = 0 };
	struct rw_event ev;
	size_t n;
	int h;

	/* the kernel lists another device only */
	c.chan_key = CHAN_KEY(1, 0);
	c.device_key = DEV_KEY(1);
	snapshot__add_channel(snap, &c);
	if (variant >= 6) {	/* ... and dma0 as unregistered, dma0chan2 in use */
		struct snapshot_device sd = { .device_key = DEV_KEY(0), .dev_id = 0,
					      .kref = 2, .has_release = 1,
					      .state = DMARW_DEV_UNREGISTERED };
		struct snapshot_channel sc = { .chan_key = CHAN_KEY(0, 2),
					       .device_key = DEV_KEY(0), .dev_id = 0,
					       .chan_id = 2, .client_count = 1 };

		snapshot__add_device(snap, &sd);
		snapshot__add_channel(snap, &sc);
	}
	if (variant != 1)
		engine__load_snapshot(e, snap, 1 * S);
	for (h = 0; h < DMARW_HOOK_MAX; h++)
		engine__set_hook(e, (enum dmarw_hook)h,
				 variant == 2 && h == DMARW_HOOK_DEV_REGISTER ? RW_HOOK_UNAVAILABLE : RW_HOOK_KPROBE,
				 0, 0);
	if (variant == 3)
		engine__add_lost(e, 1);
	if (variant == 4) {
		ev = ev_get(2 * S, 0, 2, 0, 1);
		feed(e, ev);
	}
	if (variant == 5 || variant == 7)	/* the put releases the device: first */
		feed(e, ev_dev_release(3 * S - 1, 0, 0));
	ev = ev_put(3 * S, 0, 2, 1, 0);
	ev_caller(&ev, "spi_remove", "spi_bcm2835");
	ev.flags |= DMARW_F_RELEASE_FIELD;	/* and no DMARW_F_HAS_RELEASE */
	if (variant == 5 || variant == 7)
		ev_kref(&ev, 1, 0);
	feed(e, ev);
	ev = ev_put(3 * S + 1, 0, 3, 1, 0);
	feed(e, ev);
	n = count_kind(e, FINDING_UNREGISTER_WITH_USERS);
	if (n && out)
		*out = *find_kind(e, FINDING_UNREGISTER_WITH_USERS);
	snapshot__free(snap);
	engine__free(e);
	return n;
}

TEST(put_on_device_unregistered_before_tracing)
{
	struct finding *f = calloc(1, sizeof(*f));

	CHECK(f, "oom");
	CHECK_INT(unlisted_put_findings(0, f), 1);
	CHECK_STR(f->channel, "dma0chan2");
	CHECK_STR(f->holder.function, "spi_remove");
	CHECK_STR(f->holder.module, "spi_bcm2835");
	CHECK(strstr(f->evidence, "dma0chan2 read client_count 1 at entry of dma_chan_put"),
	      "evidence: %s", f->evidence);
	CHECK(strstr(f->evidence, "dma0 was not in the kernel's device list when tracing "
		     "started (snapshot from bpf)"), "evidence: %s", f->evidence);
	CHECK(strstr(f->evidence, "no device_release callback"), "evidence: %s", f->evidence);
	CHECK_INT(unlisted_put_findings(5, NULL), 1);	/* the last put */
	/* the kernel still lists it, unregistered */
	CHECK_INT(unlisted_put_findings(6, f), 1);
	CHECK(strstr(f->evidence, "the kernel's device list showed dma0 unregistered when "
		     "tracing started (snapshot from bpf"), "evidence: %s", f->evidence);
	CHECK_INT(unlisted_put_findings(7, NULL), 1);	/* listed, the last put */
	CHECK_INT(unlisted_put_findings(1, NULL), 0);	/* no snapshot */
	CHECK_INT(unlisted_put_findings(2, NULL), 0);	/* registrations not traced */
	CHECK_INT(unlisted_put_findings(3, NULL), 0);	/* events lost */
	CHECK_INT(unlisted_put_findings(4, NULL), 0);	/* a traced get on the device */
out:
	free(f);
}

TEST(unregister_with_users_counts_predating)
{
	struct engine *e = engine__new();
	struct snapshot *snap = snapshot__new("sysfs");
	struct snapshot_channel c = { .dev_id = 0, .chan_id = 1, .client_count = 1 };
	const struct finding *f;

	snapshot__add_channel(snap, &c);
	engine__load_snapshot(e, snap, 1 * S);
	feed(e, ev_unreg_begin(3 * S, 0, 1, 1));
	CHECK_INT(count_kind(e, FINDING_UNREGISTER_WITH_USERS), 1);
	CHECK_FIND(f, e, FINDING_UNREGISTER_WITH_USERS);
	CHECK(strstr(f->evidence, "1 reference predates tracing"), "evidence: %s", f->evidence);
out:
	snapshot__free(snap);
	engine__free(e);
}

TEST(unregister_without_users_silent)
{
	struct engine *e = engine__new();

	feed(e, ev_register(1 * S, 0, true));
	request_release(e, 2 * S);
	feed(e, ev_unreg_begin(3 * S, 0, 0, 0));
	feed(e, ev_unreg_end(3 * S + 1, 0));
	feed(e, ev_dev_release(3 * S + 2, 0, 0));
	engine__finish(e, 5 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
	CHECK_STR(engine_dev_state_name(engine__device(e, 0)->state), "released");
out:
	engine__free(e);
}

TEST(unregister_with_users_model_when_not_read)
{
	struct engine *e = engine__new();
	const struct finding *f;

	feed(e, ev_register(1 * S, 0, true));
	feed(e, ev_get(2 * S, 0, 1, 0, 1));
	feed(e, ev_unreg_begin(3 * S, 0, -1, -1));
	CHECK_INT(count_kind(e, FINDING_UNREGISTER_WITH_USERS), 1);
	CHECK_FIND(f, e, FINDING_UNREGISTER_WITH_USERS);
	CHECK(strstr(f->evidence, "per the traced events"),
	      "evidence does not say where the count is from");
out:
	engine__free(e);
}

TEST(get_after_unregister_fires)
{
	struct engine *e = engine__new();
	const struct finding *f;

	feed(e, ev_register(1 * S, 0, true));
	feed(e, ev_unreg_begin(2 * S, 0, 0, 0));
	feed(e, ev_get(2 * S + 5, 0, 1, 0, 1));
	CHECK_INT(count_kind(e, FINDING_GET_AFTER_UNREGISTER), 1);
	CHECK_FIND(f, e, FINDING_GET_AFTER_UNREGISTER);
	CHECK_STR(f->holder.function, "client_probe");
	CHECK(strstr(f->evidence, "after dma_async_device_unregister(dma0)"),
	      "evidence: %s", f->evidence);
out:
	engine__free(e);
}

TEST(get_before_unregister_silent)
{
	struct engine *e = engine__new();

	feed(e, ev_register(1 * S, 0, true));
	request_release(e, 2 * S);
	feed(e, ev_unreg_begin(3 * S, 0, 0, 0));
	CHECK_INT(count_kind(e, FINDING_GET_AFTER_UNREGISTER), 0);
	CHECK_INT(engine__nr_findings(e), 0);
out:
	engine__free(e);
}

TEST(release_with_users_fires)
{
	struct engine *e = engine__new();
	struct rw_event ev;
	const struct finding *f;

	ev = ev_register(1 * S, 0, true);
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	ev = ev_get(2 * S, 0, 1, 0, 1);
	ev_kref(&ev, 1, 2);
	engine__feed(e, &ev);
	feed(e, ev_dev_release(3 * S, 0, 1));
	CHECK_INT(count_kind(e, FINDING_RELEASE_WITH_USERS), 1);
	CHECK_FIND(f, e, FINDING_RELEASE_WITH_USERS);
	CHECK_STR(f->channel, "dma0chan1");
	CHECK_STR(f->holder.function, "client_probe");
	/* the client's later put touches the freed device: same incident */
	ev = ev_put(4 * S, 0, 1, 1, 0);
	engine__feed(e, &ev);
	CHECK_INT(count_kind(e, FINDING_RELEASE_WITH_USERS), 1);
out:
	engine__free(e);
}

TEST(release_without_users_silent)
{
	struct engine *e = engine__new();
	struct rw_event ev;

	ev = ev_register(1 * S, 0, true);
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	ev = ev_get(2 * S, 0, 1, 0, 1);
	ev_kref(&ev, 1, 2);
	engine__feed(e, &ev);
	ev = ev_put(3 * S, 0, 1, 1, 0);
	ev_kref(&ev, 2, 1);
	engine__feed(e, &ev);
	ev = ev_unreg_begin(4 * S, 0, 0, 0);
	engine__feed(e, &ev);
	ev = ev_unreg_end(4 * S + 1, 0);
	ev_kref(&ev, 1, 0);		/* registration ref dropped: released */
	engine__feed(e, &ev);
	engine__finish(e, 6 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
	CHECK_STR(engine_dev_state_name(engine__device(e, 0)->state), "released");
out:
	engine__free(e);
}

TEST(release_after_get_on_released_device)
{
	struct engine *e = engine__new();
	const struct finding *f;

	feed(e, ev_register(1 * S, 0, true));
	feed(e, ev_unreg_begin(2 * S, 0, 0, 0));
	feed(e, ev_unreg_end(2 * S + 1, 0));
	feed(e, ev_dev_release(2 * S + 2, 0, 0));
	CHECK_INT(engine__nr_findings(e), 0);
	feed(e, ev_get(3 * S, 0, 1, 0, 1));
	CHECK_INT(count_kind(e, FINDING_RELEASE_WITH_USERS), 1);
	CHECK_FIND(f, e, FINDING_RELEASE_WITH_USERS);
	CHECK(strstr(f->evidence, "after device dma0 was released"), "evidence: %s", f->evidence);
out:
	engine__free(e);
}

/* kernels 5.6+ without the stable fix drop the device kref on every put */
TEST(refcount_mismatch_old_kernel_underflow)
{
	struct engine *e = engine__new();
	struct rw_event ev;
	const struct finding *f;

	ev = ev_register(1 * S, 0, true);
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	ev = ev_get(2 * S, 0, 1, 0, 1);		/* client A: first client, kref 1 -> 2 */
	ev_kref(&ev, 1, 2);
	engine__feed(e, &ev);
	ev = ev_get(3 * S, 0, 1, 1, 2);		/* client B: kref unchanged */
	ev_task(&ev, 201, "insmod");
	ev_kref(&ev, 2, 2);
	engine__feed(e, &ev);
	CHECK_INT(engine__nr_findings(e), 0);
	ev = ev_put(4 * S, 0, 1, 2, 1);		/* A puts: old kernel drops kref */
	ev_kref(&ev, 2, 1);
	engine__feed(e, &ev);
	CHECK_INT(count_kind(e, FINDING_REFCOUNT_MISMATCH), 1);
	CHECK_FIND(f, e, FINDING_REFCOUNT_MISMATCH);
	CHECK(strstr(f->evidence, "kref read 1"), "evidence: %s", f->evidence);
	CHECK(strstr(f->evidence, "expected 2 = 1 (registration) + 1 channel in use"),
	      "evidence: %s", f->evidence);
	CHECK(strstr(f->evidence, "underflow"), "evidence: %s", f->evidence);
	/* B puts: kref 1 -> 0, device released while registered, no users left */
	ev = ev_put(5 * S, 0, 1, 1, 0);
	ev_task(&ev, 201, "insmod");
	ev_kref(&ev, 1, 0);
	engine__feed(e, &ev);
	CHECK_INT(count_kind(e, FINDING_REFCOUNT_MISMATCH), 1);
	CHECK_STR(engine_dev_state_name(engine__device(e, 0)->state), "released");
	CHECK_SANE(e);
out:
	engine__free(e);
}

TEST(refcount_mismatch_old_kernel_release_with_users)
{
	struct engine *e = engine__new();
	struct rw_event ev;
	int i;
	const struct finding *f;

	ev = ev_register(1 * S, 0, true);
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	for (i = 0; i < 3; i++) {
		ev = ev_get(2 * S + i, 0, 1, i, i + 1);
		ev_task(&ev, 200 + i, "insmod");
		ev_kref(&ev, i ? 2 : 1, 2);
		engine__feed(e, &ev);
	}
	for (i = 0; i < 2; i++) {
		ev = ev_put(3 * S + i, 0, 1, 3 - i, 2 - i);
		ev_task(&ev, 200 + i, "rmmod");
		ev_kref(&ev, 2 - i, 1 - i);
		engine__feed(e, &ev);
	}
	CHECK_INT(count_kind(e, FINDING_REFCOUNT_MISMATCH), 1);
	CHECK_INT(count_kind(e, FINDING_RELEASE_WITH_USERS), 1);
	CHECK_FIND(f, e, FINDING_RELEASE_WITH_USERS);
	CHECK(strstr(f->evidence, "kref read 0"), "evidence: %s", f->evidence);
out:
	engine__free(e);
}

TEST(refcount_mismatch_silent_new_kernel)
{
	struct engine *e = engine__new();
	struct rw_event ev;

	ev = ev_register(1 * S, 0, true);
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	ev = ev_get(2 * S, 0, 1, 0, 1);
	ev_kref(&ev, 1, 2);
	engine__feed(e, &ev);
	ev = ev_get(3 * S, 0, 1, 1, 2);
	ev_kref(&ev, 2, 2);
	engine__feed(e, &ev);
	ev = ev_put(4 * S, 0, 1, 2, 1);		/* fixed kernel: kref kept */
	ev_kref(&ev, 2, 2);
	engine__feed(e, &ev);
	ev = ev_put(5 * S, 0, 1, 1, 0);		/* last client: kref dropped */
	ev_kref(&ev, 2, 1);
	engine__feed(e, &ev);
	engine__finish(e, 6 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
out:
	engine__free(e);
}

TEST(refcount_mismatch_silent_when_channels_unknown)
{
	struct engine *e = engine__new();
	struct rw_event ev;

	/* device never seen registering, no snapshot: other channels unknown */
	ev = ev_get(2 * S, 0, 1, 0, 1);
	ev_kref(&ev, 2, 3);
	engine__feed(e, &ev);
	ev = ev_put(3 * S, 0, 1, 1, 0);
	ev_kref(&ev, 3, 2);
	engine__feed(e, &ev);
	engine__finish(e, 4 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
out:
	engine__free(e);
}

TEST(refcount_mismatch_from_bpf_snapshot)
{
	struct engine *e = engine__new();
	struct snapshot *snap = snapshot__new("bpf");
	struct snapshot_device d = { .device_key = DEV_KEY(0), .dev_id = 0, .kref = 1,
				     .has_release = 1, .state = DMARW_DEV_REGISTERED };
	struct snapshot_channel c = { .chan_key = CHAN_KEY(0, 0), .device_key = DEV_KEY(0),
				      .dev_id = 0, .chan_id = 0, .client_count = 1 };

	snapshot__add_device(snap, &d);
	snapshot__add_channel(snap, &c);
	engine__load_snapshot(e, snap, 1 * S);
	CHECK_INT(count_kind(e, FINDING_REFCOUNT_MISMATCH), 1);
	CHECK(strstr(engine__finding(e, 0)->evidence, "startup snapshot"), "evidence: %s",
	      engine__finding(e, 0)->evidence);
	snap->devices[0].kref = 2;		/* consistent: silent */
	engine__free(e);
	e = engine__new();
	engine__load_snapshot(e, snap, 1 * S);
	CHECK_INT(engine__nr_findings(e), 0);
out:
	snapshot__free(snap);
	engine__free(e);
}

TEST(release_pending_fires)
{
	struct engine *e = engine__new();
	struct rw_event ev;
	const struct finding *f;

	ev = ev_register(1 * S, 0, true);
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	ev = ev_get(2 * S, 0, 1, 0, 1);
	ev_kref(&ev, 1, 2);
	engine__feed(e, &ev);
	engine__feed(e, &(struct rw_event){ 0 }); /* bad event type: counted, ignored */
	ev = ev_unreg_begin(3 * S, 0, 1, 1);
	ev_kref(&ev, 2, 2);
	engine__feed(e, &ev);
	ev = ev_unreg_end(3 * S + 1, 0);
	ev_kref(&ev, 2, 1);
	engine__feed(e, &ev);
	engine__finish(e, 6 * S, NULL);
	CHECK_INT(count_kind(e, FINDING_RELEASE_PENDING), 1);
	CHECK_INT(count_kind(e, FINDING_UNREGISTER_WITH_USERS), 1);
	CHECK_INT(count_kind(e, FINDING_LEAKED_REFERENCE), 1);
	CHECK_FIND(f, e, FINDING_RELEASE_PENDING);
	CHECK_INT(f->severity, SEVERITY_WARNING);
	CHECK_STR(f->holder.function, "client_probe");
	CHECK(strstr(f->evidence, "not released after 3.000s"), "evidence: %s", f->evidence);
	CHECK_INT(engine__stats(e)->bad_events, 1);
out:
	engine__free(e);
}

TEST(release_pending_silent_when_released)
{
	struct engine *e = engine__new();
	struct rw_event ev;

	ev = ev_register(1 * S, 0, true);
	ev_kref(&ev, -1, 1);
	engine__feed(e, &ev);
	ev = ev_unreg_begin(3 * S, 0, 0, 0);
	engine__feed(e, &ev);
	ev = ev_unreg_end(3 * S + 1, 0);
	ev_kref(&ev, 1, 1);
	engine__feed(e, &ev);
	ev = ev_dev_release(3 * S + 2, 0, 0);
	ev.flags |= DMARW_F_RELEASE_INFERRED;
	engine__feed(e, &ev);
	engine__finish(e, 6 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 0);
out:
	engine__free(e);
}

TEST(missing_release_callback_fires)
{
	struct engine *e = engine__new();
	const struct finding *f;

	feed(e, ev_register(1 * S, 0, false));
	CHECK_INT(count_kind(e, FINDING_MISSING_RELEASE_CALLBACK), 1);
	CHECK_FIND(f, e, FINDING_MISSING_RELEASE_CALLBACK);
	CHECK_INT(f->severity, SEVERITY_WARNING);
	CHECK_STR(f->holder.function, "dmarw_prov_probe");
	CHECK(!finding__fails(f, SEVERITY_ERROR), "warning fails at --fail-on error");
	CHECK(finding__fails(f, SEVERITY_WARNING), "warning passes at --fail-on warning");
out:
	engine__free(e);
}

TEST(missing_release_callback_silent)
{
	struct engine *e = engine__new();
	struct rw_event ev;

	feed(e, ev_register(1 * S, 0, true));
	ev = ev_register(1 * S, 1, false);
	ev.flags &= ~DMARW_F_RELEASE_FIELD;	/* kernel without the field */
	engine__feed(e, &ev);
	CHECK_INT(engine__nr_findings(e), 0);
out:
	engine__free(e);
}

TEST(missing_release_callback_at_startup)
{
	struct engine *e = engine__new();
	struct snapshot *snap = snapshot__new("bpf");
	struct snapshot_device d = { .device_key = DEV_KEY(3), .dev_id = 3, .kref = -1,
				     .has_release = 0, .state = DMARW_DEV_REGISTERED };

	snprintf(d.dev_name, sizeof(d.dev_name), "old-dma.0");
	snapshot__add_device(snap, &d);
	engine__load_snapshot(e, snap, 1 * S);
	CHECK_INT(count_kind(e, FINDING_MISSING_RELEASE_CALLBACK), 1);
	CHECK_STR(engine__finding(e, 0)->device, "dma3");
	CHECK(strstr(engine__finding(e, 0)->evidence, "at startup"), "evidence: %s",
	      engine__finding(e, 0)->evidence);
out:
	snapshot__free(snap);
	engine__free(e);
}

/*
 * Seen on arm64 6.12: bcm2835-dma unbound with three channels in use, its
 * channels unlinked by the driver, the device still listed with kref 3.
 * Not a kref overflow of a registered device.
 */
TEST(unregistered_at_startup_no_kref_verdict)
{
	struct engine *e = engine__new();
	struct snapshot *snap = snapshot__new("bpf");
	struct snapshot_device d = { .device_key = DEV_KEY(0), .dev_id = 0, .kref = 3,
				     .has_release = 0, .state = DMARW_DEV_UNREGISTERED };
	const struct finding *f;

	snapshot__add_device(snap, &d);
	engine__load_snapshot(e, snap, 1 * S);
	CHECK_INT(count_kind(e, FINDING_REFCOUNT_MISMATCH), 0);
	CHECK_INT(count_kind(e, FINDING_MISSING_RELEASE_CALLBACK), 1);
	CHECK_FIND(f, e, FINDING_MISSING_RELEASE_CALLBACK);
	CHECK(strstr(f->evidence, "found unregistered at startup"), "evidence: %s", f->evidence);
	CHECK_SANE(e);
out:
	snapshot__free(snap);
	engine__free(e);
}

TEST(get_failed_info)
{
	struct engine *e = engine__new();
	struct rw_event ev = ev_get(1 * S, 0, 1, 0, 0);
	const struct finding *f;

	ev.ret = -ENODEV;
	ev_kref(&ev, 0, 0);
	engine__feed(e, &ev);
	engine__finish(e, 2 * S, NULL);
	CHECK_INT(engine__nr_findings(e), 1);
	f = find_kind(e, FINDING_GET_FAILED);
	CHECK(f, "no get-failed");
	CHECK_INT(f->severity, SEVERITY_INFO);
	CHECK(strstr(f->evidence, "returned -19 (ENODEV)"), "evidence: %s", f->evidence);
	CHECK_INT(engine__nr_failing(e, SEVERITY_ERROR), 0);
	CHECK_INT(engine__nr_failing(e, SEVERITY_INFO), 1);
	CHECK_INT(engine__nr_holders(e), 0);
out:
	engine__free(e);
}

TEST(get_ok_no_get_failed)
{
	struct engine *e = engine__new();

	request_release(e, 1 * S);
	CHECK_INT(count_kind(e, FINDING_GET_FAILED), 0);
out:
	engine__free(e);
}

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
