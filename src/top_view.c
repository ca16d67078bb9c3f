// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * top_model__update(): the copy of the engine that one refresh of `top`
 * shows (holders, channels in use, devices, the newest findings), so the
 * screen stays still while paused and the engine can move on.
 */
#include <stdio.h>
#include <string.h>
#include "top_model_priv.h"

static void view_holders(struct top_model *m, const struct engine *e)
{
	size_t i;

	m->nr_holders = 0;
	for (i = 0; i < engine__nr_holders(e) && m->nr_holders < TOP_MAX_HOLDERS; i++) {
		const struct engine_holder *h = engine__holder(e, i);
		struct view_holder *v = &m->holders[m->nr_holders++];

		v->id = h->id;
		v->chan = h->channel;
		v->refs = h->refs;
		v->leaked = h->reported;
		v->long_held = !h->reported && (h->long_held || (m->now_ns >= h->who.ts_ns &&
					m->now_ns - h->who.ts_ns >= m->min_age_ns));
		v->who = h->who;
	}
}

/* channels in use, or with holders (events lost), after view_holders() */
static void view_channels(struct top_model *m, const struct engine *e)
{
	size_t i, j;

	m->nr_chans = 0;
	for (i = 0; i < engine__nr_channels(e) && m->nr_chans < TOP_MAX_CHANNELS; i++) {
		const struct engine_channel *c = engine__channel(e, i);
		struct view_chan *v;

		if (c->client_count <= 0 && !c->held && !c->predating)
			continue;
		v = &m->chans[m->nr_chans++];
		v->idx = i;
		v->dev = c->device;
		copy_names(v->name, sizeof(v->name), c->name);
		v->client_count = c->client_count;
		v->held = c->held;
		v->predating = c->predating;
		copy_names(v->client_name, sizeof(v->client_name), c->client_name);
		v->oldest_ns = 0;
		for (j = 0; j < m->nr_holders; j++)
			if (m->holders[j].chan == i &&
			    (!v->oldest_ns || m->holders[j].who.ts_ns < v->oldest_ns))
				v->oldest_ns = m->holders[j].who.ts_ns;
	}
}

/* devices, after view_channels(): a released device without users is history */
static void view_devices(struct top_model *m, const struct engine *e)
{
	size_t i, j;

	m->nr_devs = 0;
	for (i = 0; i < engine__nr_devices(e) && m->nr_devs < TOP_MAX_DEVICES; i++) {
		const struct engine_device *d = engine__device(e, i);
		struct view_dev *v = &m->devs[m->nr_devs];

		v->idx = i;
		v->users = 0;
		v->oldest_ns = 0;
		for (j = 0; j < m->nr_chans; j++) {
			if (m->chans[j].dev != i)
				continue;
			if (m->chans[j].client_count > 0)
				v->users += m->chans[j].client_count;
			if (m->chans[j].oldest_ns &&
			    (!v->oldest_ns || m->chans[j].oldest_ns < v->oldest_ns))
				v->oldest_ns = m->chans[j].oldest_ns;
		}
		if (d->state == DMARW_DEV_RELEASED && !v->users)
			continue;
		copy_names(v->name, sizeof(v->name), d->name);
		copy_names(v->dev_name, sizeof(v->dev_name), d->dev_name);
		copy_names(v->drv_name, sizeof(v->drv_name), d->drv_name);
		v->state = d->state;
		v->kref = d->kref;
		v->has_release = d->has_release;
		m->nr_devs++;
	}
}

/* the counts by severity (suppressed ones aside) and the newest findings */
static void view_findings(struct top_model *m, const struct engine *e)
{
	size_t i, n = engine__nr_findings(e);

	m->total_findings = n;
	m->errors = m->warnings = m->infos = 0;
	for (i = 0; i < n; i++) {
		const struct finding *f = engine__finding(e, i);

		if (f->suppressed[0])
			continue;
		if (f->severity == SEVERITY_ERROR)
			m->errors++;
		else if (f->severity == SEVERITY_WARNING)
			m->warnings++;
		else
			m->infos++;
	}
	m->nr_finds = 0;
	for (i = n; i-- > 0 && m->nr_finds < TOP_MAX_FINDINGS; ) {
		const struct finding *f = engine__finding(e, i);
		struct view_finding *v = &m->finds[m->nr_finds++];

		v->idx = i;
		v->kind = f->kind;
		v->severity = f->severity;
		v->ts_ns = f->ts_ns;
		copy_names(v->device, sizeof(v->device), f->device);
		copy_names(v->channel, sizeof(v->channel), f->channel);
		copy_names(v->dev_name, sizeof(v->dev_name), f->dev_name);
		copy_names(v->drv_name, sizeof(v->drv_name), f->drv_name);
		v->has_holder = f->holder.valid;
		v->pid = f->holder.pid;
		copy_names(v->comm, sizeof(v->comm), f->holder.comm);
		copy_names(v->function, sizeof(v->function), f->holder.function);
		copy_names(v->module, sizeof(v->module), f->holder.module);
		v->count = f->count;
		v->suppressed = f->suppressed[0];
	}
}

void top_model__update(struct top_model *m, const struct engine *e, uint64_t now_ns,
		       time_t wall)
{
	const struct engine_stats *st = engine__stats(e);
	int h;

	m->e = e;
	if (m->paused && m->have_view)
		return;
	m->have_view = true;
	m->now_ns = now_ns;
	m->wall = wall;
	view_holders(m, e);
	view_channels(m, e);
	view_devices(m, e);
	view_findings(m, e);
	m->events = st->events;
	m->lost = st->lost;
	engine__hook_losses(e, &m->losses);
	for (h = 0; h < DMARW_HOOK_MAX; h++)
		m->hook_mode[h] = engine__hook(e, (enum dmarw_hook)h)->mode;
}
