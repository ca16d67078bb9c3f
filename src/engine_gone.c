// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Holders that die: a module unloaded, a client device unbound.  Their
 * references are judged against the kernel's count read right after.
 * See engine.h and docs/findings.md.
 */
#include <stdio.h>
#include <string.h>
#include "engine_priv.h"

/* ---- holders that die: module unload, client unbind ---- */

/*
 * Was @h's reference taken from @module's code: its holder frame, or, when
 * that is a kernel helper, the first module frame above it.
 */
static bool holder_in_module(const struct engine_holder *h, const char *module)
{
	const struct finding_holder *w = &h->who;
	int idx = finding_holder_frame(w->frames, w->nr_frames);
	uint32_t i;

	if (!module[0])
		return false;
	if (!strcmp(w->module, module))
		return true;
	if (idx < 0)
		return false;
	for (i = (uint32_t)idx; i < w->nr_frames; i++)
		if (w->frames[i].module[0])
			return !strcmp(w->frames[i].module, module);
	return false;
}

/* Is @h's client the device "@dev" of @ev (key, or its name when unkeyed)? */
static bool holder_of_client(const struct engine_holder *h, const struct rw_event *ev)
{
	size_t n = strnlen(ev->client, sizeof(ev->client));

	if (h->client_key && ev->client_key)
		return h->client_key == ev->client_key;
	return n && !strncmp(h->who.client, ev->client, n) &&
	       (h->who.client[n] == ':' || !h->who.client[n]);
}

static void holder_gone(struct engine *e, struct engine_holder *h,
			enum engine_holder_state state, uint64_t ts, const char *what)
{
	h->state = state;
	h->gone_ts_ns = ts;
	snprintf(h->gone_what, sizeof(h->gone_what), "%s", what);
	e->stats.holders_gone++;
	e->verify_wanted = true;
}

/*
 * A reference taken after the death is not the dead holder's: the module
 * loaded again, the device bound again and its probe took a channel.  The
 * ledger read that comes before the event is later than it, so it may
 * hold such references already.
 */
static bool taken_after(const struct engine_holder *h, const struct rw_event *ev)
{
	return h->who.ts_ns > ev->ts_ns;
}

void on_module_unload(struct engine *e, const struct rw_event *ev)
{
	size_t i;

	for (i = 0; i < e->nr_holders; i++) {
		struct engine_holder *h = &e->holders[i];

		if (h->state == HOLDER_ALIVE && !h->reported && !taken_after(h, ev) &&
		    holder_in_module(h, ev->module))
			holder_gone(e, h, HOLDER_MODULE_UNLOADED, ev->ts_ns, ev->module);
	}
}

void on_client_unbind(struct engine *e, const struct rw_event *ev)
{
	size_t i;

	for (i = 0; i < e->nr_holders; i++) {
		struct engine_holder *h = &e->holders[i];
		char what[sizeof(h->gone_what)];
		/* the event's driver, else the one the request saw */
		const char *drv = ev->client_drv[0] ? ev->client_drv : h->who.client_drv;

		if (h->state != HOLDER_ALIVE || h->reported || taken_after(h, ev) ||
		    !holder_of_client(h, ev))
			continue;
		snprintf(what, sizeof(what), "%s%s%s%s", ev->client, drv[0] ? " (" : "", drv,
			 drv[0] ? ")" : "");
		holder_gone(e, h, HOLDER_CLIENT_UNBOUND, ev->ts_ns, what);
	}
}

bool engine__holder_gone(struct engine *e, uint64_t ledger_id, enum engine_holder_state state,
			 uint64_t ts_ns, const char *what, const char *function, const char *module)
{
	size_t i = ledger_id ? holder_by_ledger_id(e, ledger_id) : NONE;
	struct engine_holder *h;

	if (i == NONE || state == HOLDER_ALIVE)
		return false;
	h = &e->holders[i];
	if (h->state != HOLDER_ALIVE || h->reported)
		return false;
	/*
	 * The service named the holder while its module was loaded; once it is
	 * gone, our own symbols cannot (its frames resolve to nothing, or the
	 * first frame outside the core becomes a caller in vmlinux).
	 */
	if (function && function[0]) {
		snprintf(h->who.function, sizeof(h->who.function), "%s", function);
		snprintf(h->who.module, sizeof(h->who.module), "%s", module ? module : "");
	}
	holder_gone(e, h, state, ts_ns, what ? what : "");
	return true;
}

bool engine__verify_wanted(const struct engine *e)
{
	return e->verify_wanted;
}

/* @state's entry of channel @ci, NULL when it has none */
static const struct snapshot_channel *state_chan(const struct engine *e, size_t ci,
						 const struct snapshot *state)
{
	const struct engine_channel *c = &e->chans[ci];
	size_t i;

	for (i = 0; state && i < state->nr_channels; i++) {
		const struct snapshot_channel *sc = &state->channels[i];

		if (c->key && sc->chan_key ? sc->chan_key == c->key :
		    sc->dev_id == c->dev_id && sc->chan_id == c->chan_id)
			return sc;
	}
	return NULL;
}

/*
 * Judge the dead holders of channel @ci against the kernel's count @cc: the
 * references of the living (and of those already reported) explain part of
 * it; each dead holder's reference the rest still covers is leaked, one the
 * kernel no longer counts was put while its event was lost.
 */
static void verify_channel(struct engine *e, size_t ci, int32_t cc, const char *count_how,
			   uint64_t now)
{
	int64_t left = cc;
	size_t i;

	/* references whose gets the ledger could not record: nobody's to blame */
	left -= unknown_room(e, ci);
	for (i = 0; i < e->nr_holders; i++) {
		const struct engine_holder *h = &e->holders[i];

		if (h->channel == ci && (h->state == HOLDER_ALIVE || h->reported))
			left -= h->refs;
	}
	for (i = 0; i < e->nr_holders; i++) {
		struct engine_holder *h = &e->holders[i];

		if (h->channel != ci || h->state == HOLDER_ALIVE || h->reported)
			continue;
		if (left >= h->refs) {
			left -= h->refs;
			report_leak(e, i, now, count_how);
			continue;
		}
		/* the kernel does not count it: a put whose event was lost */
		e->stats.unattributed_drops += h->refs;
		e->chans[ci].held -= h->refs < e->chans[ci].held ? h->refs : e->chans[ci].held;
		holder_remove(e, i--);
	}
}

void engine__verify(struct engine *e, uint64_t now_ns, const struct snapshot *state)
{
	size_t ci, i;

	note_time(e, now_ns);
	e->verify_wanted = false;
	for (ci = 0; ci < e->nr_chans; ci++) {
		const struct snapshot_channel *sc = state_chan(e, ci, state);
		int32_t cc = sc ? sc->client_count : -1;

		for (i = 0; i < e->nr_holders; i++)
			if (e->holders[i].channel == ci && e->holders[i].state != HOLDER_ALIVE &&
			    !e->holders[i].reported)
				break;
		if (i == e->nr_holders)
			continue;
		if (cc >= 0) {
			chan_set_unrecorded(e, ci, sc->unrecorded);
			e->chans[ci].client_count = cc;
			verify_channel(e, ci, cc, "in the kernel after it (the channel map "
				       "that every get and put updates)", now_ns);
			chan_sync(e, ci, cc);
		} else {
			verify_channel(e, ci, e->chans[ci].client_count,
				       "per the traced events (not in the kernel state read)",
				       now_ns);
		}
	}
}
