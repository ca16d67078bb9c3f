/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Engine scenarios: every finding kind fires on the buggy sequence and
 * stays silent on the correct sequence next to it.  This file: the
 * device's life (unregister, release, kref, release callback) and requests.
 */
#include "engine_scenarios.h"

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
