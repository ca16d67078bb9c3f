// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The engine's model: devices, channels and holders, their lookups and
 * the kernel counts they follow; the read access of engine.h.
 * See engine.h and docs/findings.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine_priv.h"
#include "suppress.h"

void sb_init(struct sbuf *sb, char *buf, size_t size)
{
	sb->buf = buf;
	sb->len = 0;
	sb->size = size;
	buf[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
void sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->len + 1 >= sb->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sb->size - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb->len += (size_t)n;
	if (sb->len >= sb->size) {
		sb->len = sb->size - 1;
		/* mark the cut */
		if (sb->size > 4)
			memcpy(sb->buf + sb->size - 4, "...", 4);
	}
}

unsigned int engine_fault_grow;

int grow(void **arr, size_t *cap, size_t nr, size_t size)
{
	size_t ncap;
	void *p;

	if (nr < *cap)
		return 0;
	if (engine_fault_grow && !--engine_fault_grow)
		return -ENOMEM;	/* a test injects the failure */
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

struct engine *engine__new(void)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->next_holder_id = 1;
	return e;
}

void engine__free(struct engine *e)
{
	if (!e)
		return;
	free(e->devs);
	free(e->chans);
	free(e->holders);
	free(e->findings);
	free(e);
}

void engine__set_suppressions(struct engine *e, struct suppressions *supp)
{
	e->supp = supp;
}

void note_time(struct engine *e, uint64_t ts)
{
	if (!e->have_t0) {
		e->have_t0 = true;
		e->stats.first_ts_ns = ts;
	}
	if (ts > e->stats.last_ts_ns)
		e->stats.last_ts_ns = ts;
}

/* "+1.203s" relative to the start of tracing */
const char *rel(const struct engine *e, uint64_t ts, char *buf, size_t len)
{
	uint64_t t0 = e->stats.first_ts_ns;

	if (ts >= t0)
		snprintf(buf, len, "+%.3fs", (double)(ts - t0) / 1e9);
	else
		snprintf(buf, len, "-%.3fs", (double)(t0 - ts) / 1e9);
	return buf;
}

const char *errno_name(int64_t ret)
{
	switch (-ret) {
	case ENODEV:	return "ENODEV";
	case ENOMEM:	return "ENOMEM";
	case EBUSY:	return "EBUSY";
	case EINVAL:	return "EINVAL";
	case ENOSPC:	return "ENOSPC";
	case 517:	return "EPROBE_DEFER";
	case EIO:	return "EIO";
	case EAGAIN:	return "EAGAIN";
	default:	return "error";
	}
}

/* ---- holders of a stack ---- */

void who_from_event(struct finding_holder *who, const struct rw_event *ev)
{
	uint32_t nr = ev->nr_frames > DMARW_MAX_STACK ? DMARW_MAX_STACK : ev->nr_frames;
	int idx;

	memset(who, 0, sizeof(*who));
	who->valid = true;
	who->pid = ev->pid;
	who->tgid = ev->tgid;
	memcpy(who->comm, ev->comm, sizeof(who->comm));
	who->comm[sizeof(who->comm) - 1] = '\0';
	who->ts_ns = ev->ts_ns;
	who->nr_frames = nr;
	memcpy(who->frames, ev->frames, nr * sizeof(ev->frames[0]));
	for (uint32_t i = 0; i < nr; i++) {
		who->frames[i].func[RW_FUNC_LEN - 1] = '\0';
		who->frames[i].module[RW_MODULE_LEN - 1] = '\0';
	}
	idx = finding_holder_frame(who->frames, nr);
	if (idx < 0)
		return;
	/* both NUL-terminated above, and no longer than their destinations */
	strcpy(who->function, who->frames[idx].func);
	strcpy(who->module, who->frames[idx].module[0] ? who->frames[idx].module : "vmlinux");
}

/* "pid 88 (insmod) from client_init [dmarw_client]" */
void sb_who(struct sbuf *sb, const struct finding_holder *who)
{
	char cl[FINDING_CLIENT_STR_LEN];

	sb_add(sb, "pid %u (%s)", who->pid, who->comm);
	if (who->function[0])
		sb_add(sb, " from %s [%s]", who->function, who->module);
	else if (!who->nr_frames)
		sb_add(sb, " (no stack)");
	sb_add(sb, "%s", finding_client_str(cl, sizeof(cl), who->client, who->client_drv));
}

/* ---- devices and channels ---- */

/* The kernel's device and driver names, where given ("" keeps what we had). */
void dev_copy_names(struct engine_device *d, const char *dev_name, size_t dev_len,
		    const char *drv_name, size_t drv_len)
{
	if (dev_name[0])
		snprintf(d->dev_name, sizeof(d->dev_name), "%.*s", (int)dev_len - 1, dev_name);
	if (drv_name[0])
		snprintf(d->drv_name, sizeof(d->drv_name), "%.*s", (int)drv_len - 1, drv_name);
}

void dev_set_names(struct engine_device *d)
{
	if (d->dev_id >= 0)
		snprintf(d->name, sizeof(d->name), "dma%d", d->dev_id);
	else
		snprintf(d->name, sizeof(d->name), "dma?");
}

static void chan_set_name(struct engine_channel *c)
{
	if (c->dev_id >= 0 && c->chan_id >= 0)
		snprintf(c->name, sizeof(c->name), "dma%dchan%d", c->dev_id, c->chan_id);
	else if (c->chan_id >= 0)
		snprintf(c->name, sizeof(c->name), "dma?chan%d", c->chan_id);
	else
		snprintf(c->name, sizeof(c->name), "dma?chan?");
}

size_t dev_lookup(struct engine *e, uint64_t key, int32_t dev_id)
{
	size_t i;

	if (key) {
		for (i = 0; i < e->nr_devs; i++)
			if (e->devs[i].key == key)
				return i;
	}
	if (dev_id < 0)
		return NONE;
	for (i = 0; i < e->nr_devs; i++) {
		if (e->devs[i].key == 0 && e->devs[i].dev_id == dev_id) {
			e->devs[i].key = key;
			return i;
		}
	}
	return NONE;
}

size_t dev_new(struct engine *e, uint64_t key, int32_t dev_id, uint64_t ts)
{
	struct engine_device *d;

	if (grow((void **)&e->devs, &e->cap_devs, e->nr_devs, sizeof(*d))) {
		e->stats.alloc_failures++;
		return NONE;
	}
	d = &e->devs[e->nr_devs];
	memset(d, 0, sizeof(*d));
	d->key = key;
	d->dev_id = dev_id;
	d->state = DMARW_DEV_UNKNOWN;
	d->kref = -1;
	d->has_release = -1;
	d->first_ts_ns = ts;
	d->last_ts_ns = ts;
	dev_set_names(d);
	return e->nr_devs++;
}

void dev_update(struct engine_device *d, const struct rw_event *ev)
{
	if (ev->dev_id >= 0 && d->dev_id != ev->dev_id) {
		d->dev_id = ev->dev_id;
		dev_set_names(d);
	}
	dev_copy_names(d, ev->dev_name, sizeof(ev->dev_name), ev->drv_name,
		       sizeof(ev->drv_name));
	if (ev->flags & DMARW_F_KREF_VALID)
		d->kref_valid = true;
	if (ev->flags & DMARW_F_PRIVATE)
		d->private_ = true;
	if (ev->flags & DMARW_F_RELEASE_FIELD)
		d->has_release = !!(ev->flags & DMARW_F_HAS_RELEASE);
	if (ev->ts_ns > d->last_ts_ns)
		d->last_ts_ns = ev->ts_ns;
}

size_t dev_of_event(struct engine *e, const struct rw_event *ev)
{
	size_t i = dev_lookup(e, ev->device_key, ev->dev_id);

	if (i == NONE)
		i = dev_new(e, ev->device_key, ev->dev_id, ev->ts_ns);
	if (i != NONE)
		dev_update(&e->devs[i], ev);
	return i;
}


size_t chan_lookup(struct engine *e, uint64_t key, int32_t dev_id, int32_t chan_id)
{
	size_t i;

	if (key) {
		for (i = 0; i < e->nr_chans; i++)
			if (e->chans[i].key == key)
				return i;
	}
	if (dev_id < 0 || chan_id < 0)
		return NONE;
	for (i = 0; i < e->nr_chans; i++) {
		if (e->chans[i].key == 0 && e->chans[i].dev_id == dev_id &&
		    e->chans[i].chan_id == chan_id) {
			e->chans[i].key = key;
			return i;
		}
	}
	return NONE;
}

size_t chan_new(struct engine *e, uint64_t key, size_t dev, int32_t dev_id,
		int32_t chan_id, uint64_t ts)
{
	struct engine_channel *c;

	if (grow((void **)&e->chans, &e->cap_chans, e->nr_chans, sizeof(*c))) {
		e->stats.alloc_failures++;
		return NONE;
	}
	c = &e->chans[e->nr_chans];
	memset(c, 0, sizeof(*c));
	c->key = key;
	c->device = dev;
	c->device_key = dev != NONE ? e->devs[dev].key : 0;
	c->dev_id = dev_id;
	c->chan_id = chan_id;
	c->client_count = -1;
	c->last_ts_ns = ts;
	chan_set_name(c);
	return e->nr_chans++;
}

size_t chan_of_event(struct engine *e, const struct rw_event *ev, size_t dev)
{
	struct engine_channel *c;
	size_t i;

	if (!ev->chan_key && ev->chan_id < 0)
		return NONE;
	i = chan_lookup(e, ev->chan_key, ev->dev_id, ev->chan_id);
	/*
	 * A channel's device, dev_id and chan_id never change while it lives:
	 * a known key with another identity is new memory at a freed
	 * channel's address (a driver unbound and bound again).  The old
	 * entry keeps its holders and history under a key no event carries.
	 */
	if (i != NONE && ev->chan_key &&
	    ((ev->dev_id >= 0 && e->chans[i].dev_id >= 0 && e->chans[i].dev_id != ev->dev_id) ||
	     (ev->chan_id >= 0 && e->chans[i].chan_id >= 0 &&
	      e->chans[i].chan_id != ev->chan_id) ||
	     (dev != NONE && e->chans[i].device != NONE && e->chans[i].device != dev))) {
		e->chans[i].key = RETIRED_KEY;
		i = NONE;
	}
	if (i == NONE)
		i = chan_new(e, ev->chan_key, dev, ev->dev_id, ev->chan_id, ev->ts_ns);
	if (i == NONE)
		return NONE;
	c = &e->chans[i];
	if (dev != NONE) {
		c->device = dev;
		c->device_key = e->devs[dev].key;
	}
	if ((ev->dev_id >= 0 && c->dev_id != ev->dev_id) ||
	    (ev->chan_id >= 0 && c->chan_id != ev->chan_id)) {
		if (ev->dev_id >= 0)
			c->dev_id = ev->dev_id;
		if (ev->chan_id >= 0)
			c->chan_id = ev->chan_id;
		chan_set_name(c);
	}
	if (ev->ts_ns > c->last_ts_ns)
		c->last_ts_ns = ev->ts_ns;
	return i;
}

/* ---- holders ---- */

void holder_remove(struct engine *e, size_t i)
{
	memmove(&e->holders[i], &e->holders[i + 1],
		(e->nr_holders - i - 1) * sizeof(e->holders[0]));
	e->nr_holders--;
}

/* Drop one reference from holder @i of channel @c. */
void holder_drop(struct engine *e, size_t i)
{
	struct engine_channel *c = &e->chans[e->holders[i].channel];

	if (c->held)
		c->held--;
	if (--e->holders[i].refs == 0)
		holder_remove(e, i);
}

/*
 * The first holder of channel @ci that chan_sync() may drop, NONE: one
 * without a ledger id, while the ledger is read (live); any when it never
 * was (`trace`: a put of a ledger holder whose event was lost).
 */
static size_t unledgered_holder(const struct engine *e, size_t ci)
{
	size_t i;

	for (i = 0; i < e->nr_holders; i++)
		if (e->holders[i].channel == ci &&
		    (!e->holders[i].ledger_id || !e->stats.ledger_loads))
			return i;
	return NONE;
}

/*
 * Make the model agree with a client_count read from the kernel: more
 * references than we know are held by unknown holders up to what the
 * ledger could not record, and beyond that predate tracing (or their gets
 * were lost); fewer means puts we did not see, dropped from the predating
 * ones first, then the unknown ones, then from the oldest holders without
 * a ledger id (the ledger alone says when its holders let go).
 */
void chan_sync(struct engine *e, size_t ci, int32_t cc)
{
	struct engine_channel *c = &e->chans[ci];
	uint64_t known = (uint64_t)c->predating + c->held + c->unknown;
	uint64_t extra;
	uint32_t room;
	size_t i;

	if (cc < 0)
		return;
	c->client_count = cc;
	if ((uint64_t)cc > known) {
		extra = (uint64_t)cc - known;
		room = c->unrecorded ? unknown_room(e, ci) : 0;
		room = room > c->unknown ? room - c->unknown : 0;
		if (room) {
			room = extra < room ? (uint32_t)extra : room;
			c->unknown += room;
			extra -= room;
		}
		c->predating += (uint32_t)extra;
		e->stats.predating += extra;
		return;
	}
	while ((uint64_t)cc < known) {
		if (c->predating) {
			c->predating--;
		} else if (c->unknown) {
			c->unknown--;
		} else {
			i = unledgered_holder(e, ci);
			if (i == NONE)
				break;
			holder_drop(e, i);
		}
		known--;
		e->stats.unattributed_drops++;
	}
}

size_t holder_add(struct engine *e, size_t ci, const struct rw_event *ev, uint32_t refs)
{
	struct engine_holder *h;

	if (grow((void **)&e->holders, &e->cap_holders, e->nr_holders, sizeof(*h))) {
		e->stats.alloc_failures++;
		return NONE;
	}
	h = &e->holders[e->nr_holders++];
	memset(h, 0, sizeof(*h));
	h->id = e->next_holder_id++;
	h->channel = ci;
	h->refs = refs;
	who_from_event(&h->who, ev);
	e->chans[ci].held += refs;
	return e->nr_holders - 1;
}

/*
 * Match a release to a holder: same tgid and module first, then same
 * module, then references that predate tracing, then the oldest holder.
 * Returns false when nothing could be matched.
 */
bool release_one(struct engine *e, size_t ci, const struct finding_holder *rel)
{
	struct engine_channel *c = &e->chans[ci];
	size_t i, same_mod = NONE, oldest = NONE;

	for (i = 0; i < e->nr_holders; i++) {
		const struct engine_holder *h = &e->holders[i];

		if (h->channel != ci)
			continue;
		if (oldest == NONE)
			oldest = i;
		if (!rel->module[0] || strcmp(h->who.module, rel->module))
			continue;
		if (h->who.tgid == rel->tgid) {
			holder_drop(e, i);
			return true;
		}
		if (same_mod == NONE)
			same_mod = i;
	}
	if (same_mod != NONE) {
		holder_drop(e, same_mod);
		return true;
	}
	if (c->predating) {
		c->predating--;
		return true;
	}
	if (oldest != NONE) {
		holder_drop(e, oldest);
		return true;
	}
	return false;
}

/* A hook the BPF side attached (not unavailable, not unset). */
bool hook_attached(const struct engine *e, enum dmarw_hook hook)
{
	return rw_hook_mode_attached(e->hooks[hook].mode);
}

void engine__set_hook(struct engine *e, enum dmarw_hook hook, enum rw_hook_mode mode,
		      uint64_t hits, uint64_t lost)
{
	if ((unsigned int)hook >= DMARW_HOOK_MAX)
		return;
	e->hooks[hook].mode = (unsigned int)mode < RW_HOOK_MODE_MAX ? mode : RW_HOOK_UNSET;
	e->hooks[hook].hits = hits;
	e->hooks[hook].lost = lost;
}

void engine__set_hook_losses(struct engine *e, enum dmarw_hook hook, uint64_t ledger_full,
			     uint64_t stack_failed, uint64_t map_failed, uint64_t sent)
{
	if ((unsigned int)hook >= DMARW_HOOK_MAX)
		return;
	e->hooks[hook].ledger_full = ledger_full;
	e->hooks[hook].stack_failed = stack_failed;
	e->hooks[hook].map_failed = map_failed;
	e->hooks[hook].sent = sent;
}

void engine__hook_losses(const struct engine *e, struct ledger_losses *sum)
{
	int i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < DMARW_HOOK_MAX; i++) {
		sum->ledger_full += e->hooks[i].ledger_full;
		sum->stack_failed += e->hooks[i].stack_failed;
		sum->map_failed += e->hooks[i].map_failed;
	}
}

void engine__add_lost(struct engine *e, uint64_t n)
{
	e->stats.lost += n;
}

/* ---- read access ---- */

size_t engine__nr_findings(const struct engine *e)
{
	return e->nr_findings;
}

const struct finding *engine__finding(const struct engine *e, size_t i)
{
	return i < e->nr_findings ? &e->findings[i] : NULL;
}

size_t engine__nr_failing(const struct engine *e, enum finding_severity fail_on)
{
	size_t i, n = 0;

	for (i = 0; i < e->nr_findings; i++)
		if (finding__fails(&e->findings[i], fail_on))
			n++;
	return n;
}

size_t engine__nr_suppressed(const struct engine *e)
{
	size_t i, n = 0;

	for (i = 0; i < e->nr_findings; i++)
		if (e->findings[i].suppressed[0])
			n++;
	return n;
}

size_t engine__nr_devices(const struct engine *e)
{
	return e->nr_devs;
}

const struct engine_device *engine__device(const struct engine *e, size_t i)
{
	return i < e->nr_devs ? &e->devs[i] : NULL;
}

size_t engine__nr_channels(const struct engine *e)
{
	return e->nr_chans;
}

const struct engine_channel *engine__channel(const struct engine *e, size_t i)
{
	return i < e->nr_chans ? &e->chans[i] : NULL;
}

size_t engine__nr_holders(const struct engine *e)
{
	return e->nr_holders;
}

const struct engine_holder *engine__holder(const struct engine *e, size_t i)
{
	return i < e->nr_holders ? &e->holders[i] : NULL;
}

const struct engine_hook *engine__hook(const struct engine *e, enum dmarw_hook hook)
{
	return (unsigned int)hook < DMARW_HOOK_MAX ? &e->hooks[hook] : NULL;
}

const struct engine_stats *engine__stats(const struct engine *e)
{
	return &e->stats;
}

const char *engine_dev_state_name(uint32_t state)
{
	switch (state) {
	case DMARW_DEV_REGISTERED:	return "registered";
	case DMARW_DEV_UNREGISTERING:	return "unregistering";
	case DMARW_DEV_UNREGISTERED:	return "unregistered";
	case DMARW_DEV_RELEASED:	return "released";
	default:			return "unknown";
	}
}

void engine__add_alloc_failures(struct engine *e, uint64_t n)
{
	e->stats.alloc_failures += n;
}
