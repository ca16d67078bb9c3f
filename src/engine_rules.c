// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The engine's rules: what each event, the startup snapshot, the periodic
 * scan and the end of a run mean for the model and which findings they make.
 * See engine.h and docs/findings.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "engine_priv.h"

/* ---- events ---- */

static void on_chan_get(struct engine *e, const struct rw_event *ev)
{
	size_t di, ci;
	struct engine_device *d;
	struct engine_channel *c;
	struct finding f;
	struct sbuf sb;
	uint32_t delta = 1;
	char t[32];

	if (!event_channel(e, ev, &di, &ci))
		return;
	d = &e->devs[di];
	c = &e->chans[ci];

	if (ev->ret < 0) {
		c->failed_gets++;
		chan_sync(e, ci, ev->client_count_after >= 0 ? ev->client_count_after
							      : ev->client_count_before);
		finding_init(e, &f, &sb, FINDING_GET_FAILED, ev->ts_ns, di, ci);
		who_from_event(&f.holder, ev);
		sb_add(&sb, "dma_chan_get on %s returned %lld (%s) at %s for ", c->name,
		       (long long)ev->ret, errno_name(ev->ret), rel(e, ev->ts_ns, t, sizeof(t)));
		sb_who(&sb, &f.holder);
		sb_add(&sb, "; client_count %d -> %d", ev->client_count_before,
		       ev->client_count_after);
		if (ev->flags & DMARW_F_KREF_VALID)
			sb_add(&sb, ", device kref %d", ev->kref_before);
		if (ev->ret == -ENODEV && ev->kref_before == 0)
			sb_add(&sb, ": the device is going away (kref_get_unless_zero failed)");
		else if (d->state == DMARW_DEV_UNREGISTERING ||
			 d->state == DMARW_DEV_UNREGISTERED)
			sb_add(&sb, ": device %s is being unregistered", d->name);
		finding_commit(e, &f);
		kref_after_event(e, di, ev, "kref read 0 at exit of dma_chan_get");
		return;
	}

	c->gets++;
	d = &e->devs[di];
	if (d->state == DMARW_DEV_RELEASED) {
		touched_after_release(e, di, ci, ev, "dma_chan_get");
	} else if (d->state == DMARW_DEV_UNREGISTERING || d->state == DMARW_DEV_UNREGISTERED) {
		char t2[32];

		finding_init(e, &f, &sb, FINDING_GET_AFTER_UNREGISTER, ev->ts_ns, di, ci);
		who_from_event(&f.holder, ev);
		sb_add(&sb, "dma_chan_get on %s succeeded at %s (client_count %d -> %d) for ",
		       c->name, rel(e, ev->ts_ns, t, sizeof(t)), ev->client_count_before,
		       ev->client_count_after);
		sb_who(&sb, &f.holder);
		sb_add(&sb, " after dma_async_device_unregister(%s) began at %s", d->name,
		       rel(e, d->unregister_ts_ns, t2, sizeof(t2)));
		finding_commit(e, &f);
	}

	/* balance_ref_count() can take several references in one get */
	if (ev->client_count_before >= 0 && ev->client_count_after > ev->client_count_before)
		delta = (uint32_t)(ev->client_count_after - ev->client_count_before);
	if (ev->flags & DMARW_F_LEDGER) {
		ledger_get(e, ev, ci, delta);
	} else {
		chan_sync(e, ci, ev->client_count_before);
		holder_add(e, ci, ev, delta);
	}
	c = &e->chans[ci];
	if (ev->client_count_after >= 0)
		chan_sync(e, ci, ev->client_count_after);
	else if (c->client_count >= 0)
		c->client_count += (int32_t)delta;
	kref_after_event(e, di, ev, "kref read 0 at exit of dma_chan_get");
	check_kref(e, di, ev, "at exit of dma_chan_get");
}

/*
 * dma_device_release() runs inside the put that drops the last reference,
 * so its event comes before that put's exit: a put by the releasing task
 * that found the device alive at entry (kref 1, this channel's last client)
 * is the release itself.
 */
static bool put_released_device(const struct engine_device *d, const struct rw_event *ev)
{
	return d->state == DMARW_DEV_RELEASED && d->released_pid == ev->pid &&
	       ev->kref_before == 1 && ev->client_count_before == 1;
}

/*
 * A put on a channel in use of a device that was unregistered before tracing
 * began, said when the first such put is seen (its task is the client that
 * held the reference).  The kernel shows it one of two ways at startup:
 *  - listed as unregistered: dma_async_device_unregister() leaves the device
 *    on dma_device_list until its release, with chancnt 0 (the BPF walk's
 *    DMARW_F_UNREGISTERED);
 *  - not listed at all (sysfs drops the channels at unregister; or the
 *    device was listed under no name we could walk): judged only with a
 *    startup snapshot, the register hook attached, no event lost.
 * Either way no traced get may have touched the device (one registered
 * between the snapshot and the attach hands out channels under tracing).
 */
static void unregistered_before_tracing(struct engine *e, size_t di, size_t ci,
					const struct rw_event *ev, const struct finding_holder *who)
{
	struct engine_device *d = &e->devs[di];
	bool released_here = put_released_device(d, ev);
	bool listed = d->snap_unregistered &&
		      (d->state == DMARW_DEV_UNREGISTERED || released_here);
	bool unlisted = !d->from_snapshot && e->stats.snapshot_loaded && !e->stats.lost &&
			(d->state == DMARW_DEV_UNKNOWN || released_here) &&
			hook_attached(e, DMARW_HOOK_DEV_REGISTER);
	struct finding f;
	struct sbuf sb;
	char t[32];
	size_t i;

	if ((!listed && !unlisted) || d->registered_ts_ns || d->unregister_ts_ns ||
	    d->rep_unregister_users || ev->client_count_before <= 0)
		return;
	for (i = 0; i < e->nr_chans; i++)
		if (e->chans[i].device == di && e->chans[i].gets)
			return;
	if (d->state == DMARW_DEV_UNKNOWN)
		d->state = DMARW_DEV_UNREGISTERED;
	d->rep_unregister_users = true;
	finding_init(e, &f, &sb, FINDING_UNREGISTER_WITH_USERS, ev->ts_ns, di, ci);
	f.holder = *who;
	f.refs = (uint32_t)ev->client_count_before;
	sb_add(&sb, "%s read client_count %d at entry of %s at %s, called by ",
	       e->chans[ci].name, ev->client_count_before, rw_hook_name(ev->hook),
	       rel(e, ev->ts_ns, t, sizeof(t)));
	sb_who(&sb, who);
	if (listed)
		sb_add(&sb, "; the kernel's device list showed %s unregistered when tracing "
		       "started (snapshot from %s: chancnt 0, not released)", d->name,
		       e->stats.snapshot_source);
	else
		sb_add(&sb, "; %s was not in the kernel's device list when tracing started "
		       "(snapshot from %s) and its registration was not seen since",
		       d->name, e->stats.snapshot_source);
	sb_add(&sb, ": it had been unregistered while this channel was in use");
	if (d->has_release == 0)
		sb_add(&sb, "; the device has no device_release callback");
	finding_commit(e, &f);
}

/*
 * dma_chan_put() on client_count 0: the kernel returns without dropping.
 * One unbalanced-put, unless dma_release_channel() just reported it.
 */
static void on_noop_put(struct engine *e, const struct rw_event *ev, size_t di, size_t ci,
			const struct finding_holder *who)
{
	struct engine_channel *c = &e->chans[ci];
	bool same_incident = c->release_pending_put && c->release_pid == ev->pid &&
			     c->release_reported;
	struct finding f;
	struct sbuf sb;
	char t[32];

	c->noop_puts++;
	c->release_pending_put = false;
	chan_sync(e, ci, 0);
	if (!same_incident) {
		finding_init(e, &f, &sb, FINDING_UNBALANCED_PUT, ev->ts_ns, di, ci);
		f.holder = *who;
		sb_add(&sb, "dma_chan_put on %s read client_count 0 at entry (kernel "
		       "returned without dropping) at %s, called by ", c->name,
		       rel(e, ev->ts_ns, t, sizeof(t)));
		sb_who(&sb, who);
		sb_previous_release(e, &f, &sb, c, ev);
		finding_commit(e, &f);
	}
	kref_after_event(e, di, ev, "kref read 0 at exit of dma_chan_put");
	check_kref(e, di, ev, "at exit of dma_chan_put");
}

static void on_chan_put(struct engine *e, const struct rw_event *ev)
{
	struct finding_holder who;
	struct engine_channel *c;
	size_t di, ci;

	if (!event_channel(e, ev, &di, &ci))
		return;
	who_from_event(&who, ev);
	unregistered_before_tracing(e, di, ci, ev, &who);

	/* a put on a released device, unless it is the one that released it */
	if (e->devs[di].state == DMARW_DEV_RELEASED && !put_released_device(&e->devs[di], ev))
		touched_after_release(e, di, ci, ev, "dma_chan_put");

	if (ev->client_count_before == 0) {
		on_noop_put(e, ev, di, ci, &who);
		return;
	}

	c = &e->chans[ci];
	c->release_pending_put = false;
	if (ev->flags & DMARW_F_LEDGER) {
		/* the ledger matched it (by id); ledger_put() syncs the count */
		ledger_put(e, ev, ci);
		c = &e->chans[ci];
		c->puts++;
		c->last_release = who;
	} else {
		chan_sync(e, ci, ev->client_count_before);
		if (release_one(e, ci, &who) || ev->client_count_before > 0) {
			c = &e->chans[ci];
			c->puts++;
			c->last_release = who;
		}
	}
	c = &e->chans[ci];
	if (ev->client_count_after >= 0)
		chan_sync(e, ci, ev->client_count_after);
	else if (ev->client_count_before > 0)
		c->client_count = ev->client_count_before - 1;
	else if (c->client_count > 0)
		c->client_count--;
	if (!c->client_count)
		c->client_name[0] = '\0';	/* the kernel forgets it too */
	kref_after_event(e, di, ev, "kref read 0 at exit of dma_chan_put");
	check_kref(e, di, ev, "at exit of dma_chan_put");
}

/*
 * dma_request_chan() returned: name its client on the channel and on the
 * reference that the request's dma_chan_get() gave the same task just
 * before (the newest holder of the channel).
 */
static void on_request(struct engine *e, const struct rw_event *ev)
{
	struct finding_holder *who;
	size_t di, ci, i;

	if (!ev->client[0] || ev->ret || !event_channel(e, ev, &di, &ci)) {
		if (ev->device_key || ev->dev_id >= 0)
			dev_of_event(e, ev);
		return;
	}
	snprintf(e->chans[ci].client_name, sizeof(e->chans[ci].client_name), "%s", ev->client);
	for (i = e->nr_holders; i-- > 0;) {
		if (e->holders[i].channel != ci)
			continue;
		who = &e->holders[i].who;
		if (who->pid == ev->pid && !who->client[0]) {
			memcpy(who->client, ev->client, sizeof(who->client));
			memcpy(who->client_drv, ev->client_drv, sizeof(who->client_drv));
			e->holders[i].client_key = ev->client_key;
		}
		break;
	}
}

static void on_release_channel(struct engine *e, const struct rw_event *ev)
{
	size_t di, ci;
	struct engine_channel *c;
	struct finding f;
	struct sbuf sb;
	char t[32];

	if (!event_channel(e, ev, &di, &ci))
		return;
	c = &e->chans[ci];
	c->release_pending_put = true;
	c->release_pid = ev->pid;
	c->release_reported = false;
	if (ev->client_count_before < 0 || ev->client_count_before == 1)
		return;

	finding_init(e, &f, &sb, FINDING_UNBALANCED_PUT, ev->ts_ns, di, ci);
	who_from_event(&f.holder, ev);
	sb_add(&sb, "dma_release_channel on %s read client_count %d at entry (the kernel's "
	       "WARN_ONCE: expected 1) at %s, called by ", c->name, ev->client_count_before,
	       rel(e, ev->ts_ns, t, sizeof(t)));
	sb_who(&sb, &f.holder);
	if (ev->client_count_before == 0)
		sb_add(&sb, "; the dma_chan_put that follows returns without dropping");
	sb_previous_release(e, &f, &sb, c, ev);
	finding_commit(e, &f);
	c->release_reported = true;
}

static void on_register(struct engine *e, const struct rw_event *ev)
{
	size_t di = dev_lookup(e, ev->device_key, ev->dev_id);
	struct engine_device *d;
	struct finding f;
	struct sbuf sb;
	char t[32];

	if (di != NONE && ev->ret == 0 &&
	    (e->devs[di].state == DMARW_DEV_UNREGISTERED ||
	     e->devs[di].state == DMARW_DEV_RELEASED)) {
		/* the same memory registered again: a new device */
		uint32_t gen = e->devs[di].generation + 1;
		uint64_t key = e->devs[di].key;
		size_t ci;

		/* its old channels died with it; new ones may reuse their memory */
		for (ci = 0; ci < e->nr_chans; ci++) {
			if (e->chans[ci].device != di)
				continue;
			e->chans[ci].key = RETIRED_KEY;
			e->chans[ci].client_count = 0;
		}

		memset(&e->devs[di], 0, sizeof(e->devs[di]));
		d = &e->devs[di];
		d->key = key;
		d->dev_id = ev->dev_id;
		d->kref = -1;
		d->has_release = -1;
		d->generation = gen;
		d->first_ts_ns = ev->ts_ns;
		dev_set_names(d);
	}
	if (di == NONE)
		di = dev_new(e, ev->device_key, ev->dev_id, ev->ts_ns);
	if (di == NONE)
		return;
	d = &e->devs[di];
	dev_update(d, ev);
	if (ev->ret != 0)
		return;
	d->state = DMARW_DEV_REGISTERED;
	d->registered_ts_ns = ev->ts_ns;
	/* every get on its channels from now on is traced: unseen ones are at 0 */
	d->channels_complete = true;
	kref_after_event(e, di, ev, "kref read 0 at exit of dma_async_device_register");
	d = &e->devs[di];
	if (d->has_release == 0 && !d->rep_missing_release) {
		d->rep_missing_release = true;
		finding_init(e, &f, &sb, FINDING_MISSING_RELEASE_CALLBACK, ev->ts_ns, di, NONE);
		who_from_event(&f.holder, ev);
		sb_add(&sb, "dma_async_device_register(%s) returned 0 at %s for ", d->name,
		       rel(e, ev->ts_ns, t, sizeof(t)));
		sb_who(&sb, &f.holder);
		sb_add(&sb, " with device->device_release unset");
		if (d->drv_name[0])
			sb_add(&sb, " (driver %s)", d->drv_name);
		sb_add(&sb, ": unbinding the driver while a client holds a channel frees "
		       "memory still in use");
		finding_commit(e, &f);
	}
	check_kref(e, di, ev, "at exit of dma_async_device_register");
}

static void on_unregister_begin(struct engine *e, const struct rw_event *ev)
{
	size_t di = dev_of_event(e, ev);
	struct engine_device *d;
	struct finding_holder who;
	struct finding f;
	struct sbuf sb;
	int64_t users, model;
	int in_use = -1, model_in_use;
	char t[32];
	bool from_kernel = ev->client_count_before >= 0;

	if (di == NONE)
		return;
	d = &e->devs[di];
	if (d->state != DMARW_DEV_RELEASED)
		d->state = DMARW_DEV_UNREGISTERING;
	d->unregister_ts_ns = ev->ts_ns;
	if (ev->flags & DMARW_F_KREF_VALID && ev->kref_before >= 0)
		d->kref = ev->kref_before;

	model = dev_users(e, di, &model_in_use);
	users = from_kernel ? ev->client_count_before : model;
	in_use = from_kernel && ev->dev_in_use >= 0 ? ev->dev_in_use : model_in_use;
	if (users <= 0 || d->rep_unregister_users)
		return;
	d->rep_unregister_users = true;

	who_from_event(&who, ev);
	finding_init(e, &f, &sb, FINDING_UNREGISTER_WITH_USERS, ev->ts_ns, di, NONE);
	f.refs = (uint32_t)users;
	f.related = who;
	snprintf(f.related_what, sizeof(f.related_what), "unregister");
	sb_add(&sb, "dma_async_device_unregister(%s) entered at %s by ", d->name,
	       rel(e, ev->ts_ns, t, sizeof(t)));
	sb_who(&sb, &who);
	sb_add(&sb, " while %d channel%s had users, client_count sum %lld %s:", in_use,
	       in_use == 1 ? "" : "s", (long long)users,
	       from_kernel ? "read from the kernel" : "per the traced events");
	finding_dev_holders(e, &f, &sb, di, ev->ts_ns);
	if (d->has_release == 0)
		sb_add(&sb, "; the device has no device_release callback");
	finding_commit(e, &f);
}

static void on_unregister_end(struct engine *e, const struct rw_event *ev)
{
	size_t di = dev_of_event(e, ev);

	if (di == NONE)
		return;
	if (e->devs[di].state != DMARW_DEV_RELEASED)
		e->devs[di].state = DMARW_DEV_UNREGISTERED;
	kref_after_event(e, di, ev, "kref read 0 at exit of dma_async_device_unregister");
}

static void on_dev_release(struct engine *e, const struct rw_event *ev)
{
	size_t di = dev_of_event(e, ev);

	if (di == NONE)
		return;
	if (ev->flags & DMARW_F_KREF_VALID && ev->kref_before >= 0)
		e->devs[di].kref = ev->kref_after >= 0 ? ev->kref_after : ev->kref_before;
	device_released(e, di, ev->ts_ns, ev,
			(ev->flags & DMARW_F_RELEASE_INFERRED) ?
			"kref read 0, release inferred" : "dma_device_release entered");
}

/* dmaengine_get/put: intent only, the dma_chan_get/put they cause carry the counts */
static void on_dmaengine_get_put(struct engine *e, const struct rw_event *ev)
{
	if (ev->device_key || ev->dev_id >= 0)
		dev_of_event(e, ev);
}

typedef void (*event_handler)(struct engine *e, const struct rw_event *ev);

static const event_handler handlers[DMARW_EV_MAX] = {
	[DMARW_EV_CHAN_GET] = on_chan_get,
	[DMARW_EV_CHAN_PUT] = on_chan_put,
	[DMARW_EV_DEV_REGISTER] = on_register,
	[DMARW_EV_DEV_UNREGISTER_BEGIN] = on_unregister_begin,
	[DMARW_EV_DEV_UNREGISTER_END] = on_unregister_end,
	[DMARW_EV_DEV_RELEASE] = on_dev_release,
	[DMARW_EV_RELEASE_CHANNEL] = on_release_channel,
	[DMARW_EV_REQUEST_CHAN] = on_request,
	[DMARW_EV_DMAENGINE_GET] = on_dmaengine_get_put,
	[DMARW_EV_DMAENGINE_PUT] = on_dmaengine_get_put,
	[DMARW_EV_MODULE_UNLOAD] = on_module_unload,
	[DMARW_EV_CLIENT_UNBIND] = on_client_unbind,
	[DMARW_EV_DEV_HOLDER] = on_dev_holder,
};

void engine__feed(struct engine *e, const struct rw_event *ev)
{
	note_time(e, ev->ts_ns);
	e->stats.events++;
	if ((unsigned int)ev->type < DMARW_EV_MAX)
		e->stats.by_type[ev->type]++;

	if (ev->type < DMARW_EV_CHAN_GET || (unsigned int)ev->type >= DMARW_EV_MAX) {
		e->stats.bad_events++;
		return;
	}
	/* none for the startup walk's records and a module's symbols: no events */
	if (handlers[ev->type])
		handlers[ev->type](e, ev);
}

void engine__load_snapshot(struct engine *e, const struct snapshot *snap, uint64_t now_ns)
{
	size_t i, di, ci;

	note_time(e, now_ns);
	e->stats.snapshot_loaded = true;
	snprintf(e->stats.snapshot_source, sizeof(e->stats.snapshot_source), "%s",
		 snap->source);

	for (i = 0; i < snap->nr_devices; i++) {
		const struct snapshot_device *sd = &snap->devices[i];
		struct engine_device *d;

		di = dev_lookup(e, sd->device_key, sd->dev_id);
		if (di == NONE)
			di = dev_new(e, sd->device_key, sd->dev_id, now_ns);
		if (di == NONE)
			return;
		d = &e->devs[di];
		d->from_snapshot = true;
		d->channels_complete = true;
		dev_copy_names(d, sd->dev_name, sizeof(sd->dev_name), sd->drv_name,
			       sizeof(sd->drv_name));
		d->state = sd->state ? sd->state : DMARW_DEV_REGISTERED;
		d->snap_unregistered = d->state == DMARW_DEV_UNREGISTERED;
		if (sd->kref >= 0) {
			d->kref = sd->kref;
			d->kref_valid = true;
		}
		if (sd->has_release >= 0)
			d->has_release = sd->has_release;
	}
	for (i = 0; i < snap->nr_channels; i++) {
		const struct snapshot_channel *sc = &snap->channels[i];

		di = dev_lookup(e, sc->device_key, sc->dev_id);
		if (di == NONE) {
			di = dev_new(e, sc->device_key, sc->dev_id, now_ns);
			if (di == NONE)
				return;
			e->devs[di].from_snapshot = true;
			e->devs[di].state = DMARW_DEV_REGISTERED;
		}
		ci = chan_lookup(e, sc->chan_key, sc->dev_id, sc->chan_id);
		if (ci == NONE)
			ci = chan_new(e, sc->chan_key, di, sc->dev_id, sc->chan_id, now_ns);
		if (ci == NONE)
			return;
		e->chans[ci].device = di;
		e->chans[ci].device_key = e->devs[di].key;
		if (sc->client_name[0])
			snprintf(e->chans[ci].client_name, sizeof(e->chans[ci].client_name),
				 "%.*s", (int)sizeof(sc->client_name) - 1, sc->client_name);
		chan_sync(e, ci, sc->client_count);
	}
	for (i = 0; i < e->nr_devs; i++) {
		missing_release_at_start(e, i, now_ns);
		check_kref(e, i, NULL, "in the startup snapshot");
	}
}

void engine__scan(struct engine *e, uint64_t now_ns, uint64_t min_age_ns)
{
	size_t i;

	note_time(e, now_ns);
	for (i = 0; i < e->nr_holders; i++) {
		const struct engine_holder *h = &e->holders[i];

		if (h->reported || h->long_held || h->state != HOLDER_ALIVE ||
		    now_ns < h->who.ts_ns || now_ns - h->who.ts_ns < min_age_ns)
			continue;
		report_long_held(e, i, now_ns, min_age_ns);
	}
	for (i = 0; i < e->nr_devs; i++) {
		struct engine_device *d = &e->devs[i];

		if (!release_pending_candidate(e, d) || now_ns < d->unregister_ts_ns ||
		    now_ns - d->unregister_ts_ns < min_age_ns)
			continue;
		report_pending(e, i, now_ns);
	}
}

void engine__sync_counts(struct engine *e, uint64_t now_ns, const struct snapshot *state)
{
	size_t i, ci;

	note_time(e, now_ns);
	for (i = 0; state && i < state->nr_channels; i++) {
		const struct snapshot_channel *sc = &state->channels[i];

		ci = chan_lookup(e, sc->chan_key, sc->dev_id, sc->chan_id);
		if (ci == NONE)
			continue;
		chan_set_unrecorded(e, ci, sc->unrecorded);
		chan_sync(e, ci, sc->client_count);
	}
}

void engine__finish(struct engine *e, uint64_t now_ns, const struct snapshot *final)
{
	size_t i, di;

	note_time(e, now_ns);
	if (final) {
		for (i = 0; i < final->nr_devices; i++) {
			const struct snapshot_device *sd = &final->devices[i];

			di = dev_lookup(e, sd->device_key, sd->dev_id);
			if (di == NONE)
				continue;
			if (sd->kref >= 0) {
				e->devs[di].kref = sd->kref;
				e->devs[di].kref_valid = true;
			}
			if (sd->has_release >= 0)
				e->devs[di].has_release = sd->has_release;
			if (sd->state == DMARW_DEV_RELEASED)
				device_released(e, di, now_ns, NULL,
						"state released in the final kernel state");
		}
		engine__sync_counts(e, now_ns, final);
	}
	e->stats.finished = true;
	e->stats.finish_ts_ns = now_ns;

	if (e->verify_wanted)
		engine__verify(e, now_ns, final);
	for (i = 0; i < e->nr_holders; i++)
		if (!e->holders[i].reported)
			report_leak(e, i, now_ns, final ? "read from the kernel at the end" :
				    "per the traced events");
	for (i = 0; i < e->nr_chans; i++)
		if (e->chans[i].unknown)
			report_unknown_holder(e, i, now_ns, final ? "read from the kernel at the end" :
					      "per the traced events");
	for (i = 0; i < e->nr_devs; i++)
		if (release_pending_candidate(e, &e->devs[i]))
			report_pending(e, i, now_ns);
	for (i = 0; i < e->nr_devs; i++)
		check_kref(e, i, NULL, "in the final kernel state");
}
