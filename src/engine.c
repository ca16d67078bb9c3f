/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The reference engine.  See engine.h for the model and docs/findings.md
 * for every finding kind and the evidence it prints.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "suppress.h"

#define NONE ((size_t)-1)

struct engine {
	struct engine_device *devs;
	size_t nr_devs, cap_devs;
	struct engine_channel *chans;
	size_t nr_chans, cap_chans;
	struct engine_holder *holders;
	size_t nr_holders, cap_holders;
	struct finding *findings;
	size_t nr_findings, cap_findings;
	struct engine_hook hooks[DMARW_HOOK_MAX];
	struct engine_stats stats;
	uint64_t next_holder_id;
	bool have_t0;
	struct suppressions *supp;
};

/* A bounded string builder for evidence sentences. */
struct sbuf {
	char *buf;
	size_t len, size;
};

static void sb_init(struct sbuf *sb, char *buf, size_t size)
{
	sb->buf = buf;
	sb->len = 0;
	sb->size = size;
	buf[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sb_add(struct sbuf *sb, const char *fmt, ...)
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

static int grow(void **arr, size_t *cap, size_t nr, size_t size)
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

static void note_time(struct engine *e, uint64_t ts)
{
	if (!e->have_t0) {
		e->have_t0 = true;
		e->stats.first_ts_ns = ts;
	}
	if (ts > e->stats.last_ts_ns)
		e->stats.last_ts_ns = ts;
}

/* "+1.203s" relative to the start of tracing */
static const char *rel(const struct engine *e, uint64_t ts, char *buf, size_t len)
{
	uint64_t t0 = e->stats.first_ts_ns;

	if (ts >= t0)
		snprintf(buf, len, "+%.3fs", (double)(ts - t0) / 1e9);
	else
		snprintf(buf, len, "-%.3fs", (double)(t0 - ts) / 1e9);
	return buf;
}

static const char *errno_name(int64_t ret)
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

static void who_from_event(struct finding_holder *who, const struct rw_event *ev)
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
static void sb_who(struct sbuf *sb, const struct finding_holder *who)
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

static void dev_set_names(struct engine_device *d)
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

static size_t dev_lookup(struct engine *e, uint64_t key, int32_t dev_id)
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

static size_t dev_new(struct engine *e, uint64_t key, int32_t dev_id, uint64_t ts)
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

static void dev_update(struct engine_device *d, const struct rw_event *ev)
{
	if (ev->dev_id >= 0 && d->dev_id != ev->dev_id) {
		d->dev_id = ev->dev_id;
		dev_set_names(d);
	}
	if (ev->dev_name[0])
		snprintf(d->dev_name, sizeof(d->dev_name), "%.*s",
			 (int)sizeof(ev->dev_name) - 1, ev->dev_name);
	if (ev->drv_name[0])
		snprintf(d->drv_name, sizeof(d->drv_name), "%.*s",
			 (int)sizeof(ev->drv_name) - 1, ev->drv_name);
	if (ev->flags & DMARW_F_KREF_VALID)
		d->kref_valid = true;
	if (ev->flags & DMARW_F_PRIVATE)
		d->private_ = true;
	if (ev->flags & DMARW_F_RELEASE_FIELD)
		d->has_release = !!(ev->flags & DMARW_F_HAS_RELEASE);
	if (ev->ts_ns > d->last_ts_ns)
		d->last_ts_ns = ev->ts_ns;
}

static size_t dev_of_event(struct engine *e, const struct rw_event *ev)
{
	size_t i = dev_lookup(e, ev->device_key, ev->dev_id);

	if (i == NONE)
		i = dev_new(e, ev->device_key, ev->dev_id, ev->ts_ns);
	if (i != NONE)
		dev_update(&e->devs[i], ev);
	return i;
}

/* Key of a channel whose memory was reused: matches no event and no snapshot. */
#define RETIRED_KEY	UINT64_MAX

static size_t chan_lookup(struct engine *e, uint64_t key, int32_t dev_id, int32_t chan_id)
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

static size_t chan_new(struct engine *e, uint64_t key, size_t dev, int32_t dev_id,
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

static size_t chan_of_event(struct engine *e, const struct rw_event *ev, size_t dev)
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

static void holder_remove(struct engine *e, size_t i)
{
	memmove(&e->holders[i], &e->holders[i + 1],
		(e->nr_holders - i - 1) * sizeof(e->holders[0]));
	e->nr_holders--;
}

/* Drop one reference from holder @i of channel @c. */
static void holder_drop(struct engine *e, size_t i)
{
	struct engine_channel *c = &e->chans[e->holders[i].channel];

	if (c->held)
		c->held--;
	if (--e->holders[i].refs == 0)
		holder_remove(e, i);
}

/*
 * Make the model agree with a client_count read from the kernel: more
 * references than we know predate tracing (or their gets were lost); fewer
 * means puts we did not see, dropped from the predating ones first, then
 * from the oldest holders.
 */
static void chan_sync(struct engine *e, size_t ci, int32_t cc)
{
	struct engine_channel *c = &e->chans[ci];
	uint64_t known = (uint64_t)c->predating + c->held;
	size_t i;

	if (cc < 0)
		return;
	c->client_count = cc;
	if ((uint64_t)cc > known) {
		c->predating += (uint32_t)((uint64_t)cc - known);
		e->stats.predating += (uint64_t)cc - known;
		return;
	}
	while ((uint64_t)cc < known) {
		known--;
		e->stats.unattributed_drops++;
		if (c->predating) {
			c->predating--;
			continue;
		}
		for (i = 0; i < e->nr_holders; i++)
			if (e->holders[i].channel == ci)
				break;
		if (i == e->nr_holders)
			break;
		holder_drop(e, i);
	}
}

static void holder_add(struct engine *e, size_t ci, const struct rw_event *ev, uint32_t refs)
{
	struct engine_holder *h;

	if (grow((void **)&e->holders, &e->cap_holders, e->nr_holders, sizeof(*h))) {
		e->stats.alloc_failures++;
		return;
	}
	h = &e->holders[e->nr_holders++];
	memset(h, 0, sizeof(*h));
	h->id = e->next_holder_id++;
	h->channel = ci;
	h->refs = refs;
	who_from_event(&h->who, ev);
	e->chans[ci].held += refs;
}

/*
 * Match a release to a holder: same tgid and module first, then same
 * module, then references that predate tracing, then the oldest holder.
 * Returns false when nothing could be matched.
 */
static bool release_one(struct engine *e, size_t ci, const struct finding_holder *rel)
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

/* ---- findings ---- */

static void finding_init(struct engine *e, struct finding *f, enum finding_kind kind,
			 uint64_t ts, size_t di, size_t ci)
{
	const struct engine_device *d = di != NONE ? &e->devs[di] : NULL;
	const struct engine_channel *c = ci != NONE ? &e->chans[ci] : NULL;

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->severity = finding_kind_severity(kind);
	f->ts_ns = ts;
	f->refs = 1;
	f->count = 1;
	f->dev_id = d ? d->dev_id : (c ? c->dev_id : -1);
	f->chan_id = c ? c->chan_id : -1;
	if (d) {
		snprintf(f->device, sizeof(f->device), "%s", d->name);
		memcpy(f->dev_name, d->dev_name, sizeof(f->dev_name));
		memcpy(f->drv_name, d->drv_name, sizeof(f->drv_name));
	} else if (c && c->dev_id >= 0) {
		snprintf(f->device, sizeof(f->device), "dma%d", c->dev_id);
	}
	if (c)
		snprintf(f->channel, sizeof(f->channel), "%s", c->name);
}

/* Kinds where a repeat of the same code path is the same incident. */
static bool kind_repeats(enum finding_kind kind)
{
	return kind == FINDING_UNBALANCED_PUT || kind == FINDING_GET_FAILED ||
	       kind == FINDING_GET_AFTER_UNREGISTER;
}

static void finding_commit(struct engine *e, const struct finding *f)
{
	const char *name;
	size_t i;

	if (kind_repeats(f->kind)) {
		for (i = 0; i < e->nr_findings; i++) {
			struct finding *o = &e->findings[i];

			if (o->kind == f->kind && !strcmp(o->channel, f->channel) &&
			    !strcmp(o->device, f->device) &&
			    !strcmp(o->holder.function, f->holder.function) &&
			    !strcmp(o->holder.module, f->holder.module)) {
				o->count++;
				return;
			}
		}
	}
	if (grow((void **)&e->findings, &e->cap_findings, e->nr_findings, sizeof(*f))) {
		e->stats.alloc_failures++;
		return;
	}
	e->findings[e->nr_findings] = *f;
	if (e->supp) {
		name = suppress__match(e->supp, f);
		if (name)
			snprintf(e->findings[e->nr_findings].suppressed,
				 sizeof(f->suppressed), "%s", name);
	}
	e->nr_findings++;
}

/* Sum of client_count over the device's channels; -1 if any is unknown. */
static int64_t dev_users(const struct engine *e, size_t di, int *in_use)
{
	int64_t sum = 0;
	size_t i;

	*in_use = 0;
	for (i = 0; i < e->nr_chans; i++) {
		if (e->chans[i].device != di)
			continue;
		if (e->chans[i].client_count < 0)
			return -1;
		sum += e->chans[i].client_count;
		if (e->chans[i].client_count > 0)
			(*in_use)++;
	}
	return sum;
}

/* Append "dma0chan0 client_count 2: held by ..., 1 predates tracing" for
 * every channel of @di in use; returns the oldest holder index or NONE. */
static size_t sb_dev_holders(struct engine *e, struct sbuf *sb, size_t di, size_t *first_chan)
{
	size_t i, j, oldest = NONE;
	char t[32];
	bool any = false;

	*first_chan = NONE;
	for (i = 0; i < e->nr_chans; i++) {
		const struct engine_channel *c = &e->chans[i];
		bool first = true;

		if (c->device != di || (c->client_count <= 0 && !c->held))
			continue;
		if (*first_chan == NONE)
			*first_chan = i;
		sb_add(sb, "%s %s client_count %d", any ? ";" : "", c->name, c->client_count);
		any = true;
		for (j = 0; j < e->nr_holders; j++) {
			const struct engine_holder *h = &e->holders[j];

			if (h->channel != i)
				continue;
			if (oldest == NONE)
				oldest = j;
			sb_add(sb, "%s", first ? ": held by " : ", ");
			first = false;
			sb_who(sb, &h->who);
			sb_add(sb, " since %s", rel(e, h->who.ts_ns, t, sizeof(t)));
			if (h->refs > 1)
				sb_add(sb, " (%u references)", h->refs);
		}
		if (c->predating)
			sb_add(sb, "%s%u reference%s predate%s tracing", first ? ": " : ", ",
			       c->predating, c->predating == 1 ? "" : "s",
			       c->predating == 1 ? "s" : "");
	}
	return oldest;
}

static void check_kref(struct engine *e, size_t di, const struct rw_event *ev,
		       const char *when)
{
	struct engine_device *d = &e->devs[di];
	struct finding f;
	struct sbuf sb;
	int64_t sum;
	int in_use, expected;
	bool any = false, kernel_view = false;
	size_t i;

	if (!d->kref_valid || d->kref < 0 || d->state != DMARW_DEV_REGISTERED)
		return;
	if (ev && ev->dev_in_use >= 0 && ev->kref_after >= 0) {
		/*
		 * The BPF program read the kref and every channel's client_count
		 * in one go under dma_list_mutex: the kernel's own consistent
		 * view, exact whatever events were lost.
		 */
		in_use = ev->dev_in_use;
		kernel_view = true;
	} else {
		if (!d->channels_complete || e->stats.lost)
			return;
		sum = dev_users(e, di, &in_use);
		if (sum < 0)
			return;
	}
	expected = 1 + in_use;
	if (d->kref == expected) {
		d->rep_mismatch = false;
		return;
	}
	if (d->rep_mismatch)
		return;
	d->rep_mismatch = true;

	finding_init(e, &f, FINDING_REFCOUNT_MISMATCH, ev ? ev->ts_ns : e->stats.last_ts_ns,
		     di, NONE);
	if (ev) {
		who_from_event(&f.holder, ev);
		i = chan_lookup(e, ev->chan_key, ev->dev_id, ev->chan_id);
		if (i != NONE) {
			snprintf(f.channel, sizeof(f.channel), "%s", e->chans[i].name);
			f.chan_id = e->chans[i].chan_id;
		}
	}
	sb_init(&sb, f.evidence, sizeof(f.evidence));
	sb_add(&sb, "device %s kref read %d from the kernel %s", d->name, d->kref, when);
	if (ev && ev->type != DMARW_EV_DEV_REGISTER && f.channel[0]) {
		sb_add(&sb, " on %s by ", f.channel);
		sb_who(&sb, &f.holder);
	}
	sb_add(&sb, "; expected %d = 1 (registration) + %d channel%s in use%s", expected,
	       in_use, in_use == 1 ? "" : "s",
	       kernel_view ? " (client_count of every channel read with the kref)" : "");
	for (i = 0; i < e->nr_chans && !kernel_view; i++) {
		if (e->chans[i].device != di || e->chans[i].client_count <= 0)
			continue;
		sb_add(&sb, "%s%s client_count %d", any ? ", " : " (", e->chans[i].name,
		       e->chans[i].client_count);
		any = true;
	}
	if (any)
		sb_add(&sb, ")");
	if (d->kref < expected)
		sb_add(&sb, ": kref underflow, the device can be freed while a client still "
		       "holds a channel (a put dropped the device reference before the "
		       "channel's last client)");
	else
		sb_add(&sb, ": kref overflow, the device reference is never dropped");
	finding_commit(e, &f);
}

static void device_released(struct engine *e, size_t di, uint64_t ts,
			    const struct rw_event *ev, const char *how)
{
	struct engine_device *d = &e->devs[di];
	struct finding f;
	struct sbuf sb;
	size_t oldest, first_chan;
	int64_t users;
	int in_use;
	char t[32];

	if (d->state == DMARW_DEV_RELEASED)
		return;
	d->state = DMARW_DEV_RELEASED;
	d->released_ts_ns = ts;
	d->released_pid = ev ? ev->pid : 0;
	users = dev_users(e, di, &in_use);
	if (ev && ev->type == DMARW_EV_DEV_RELEASE && ev->client_count_before >= 0) {
		users = ev->client_count_before;
		if (ev->ret >= 0)
			in_use = (int)ev->ret;
	}
	if (users <= 0 || d->rep_release_users)
		return;
	d->rep_release_users = true;

	finding_init(e, &f, FINDING_RELEASE_WITH_USERS, ts, di, NONE);
	f.refs = (uint32_t)users;
	sb_init(&sb, f.evidence, sizeof(f.evidence));
	sb_add(&sb, "device %s released (%s) at %s while %d channel%s had users, "
	       "client_count sum %lld:", d->name, how, rel(e, ts, t, sizeof(t)), in_use,
	       in_use == 1 ? "" : "s", (long long)users);
	oldest = sb_dev_holders(e, &sb, di, &first_chan);
	if (first_chan != NONE) {
		snprintf(f.channel, sizeof(f.channel), "%s", e->chans[first_chan].name);
		f.chan_id = e->chans[first_chan].chan_id;
	}
	if (oldest != NONE) {
		f.holder = e->holders[oldest].who;
		f.age_ns = ts > f.holder.ts_ns ? ts - f.holder.ts_ns : 0;
	}
	if (ev) {
		snprintf(f.related_what, sizeof(f.related_what), "release");
		who_from_event(&f.related, ev);
	}
	finding_commit(e, &f);
}

/* A get or put on a device already released: a use after free in the kernel. */
static void touched_after_release(struct engine *e, size_t di, size_t ci,
				  const struct rw_event *ev, const char *what)
{
	struct engine_device *d = &e->devs[di];
	struct finding f;
	struct sbuf sb;
	char t[32], t2[32];

	if (d->rep_release_users)
		return;
	d->rep_release_users = true;
	finding_init(e, &f, FINDING_RELEASE_WITH_USERS, ev->ts_ns, di, ci);
	who_from_event(&f.holder, ev);
	sb_init(&sb, f.evidence, sizeof(f.evidence));
	sb_add(&sb, "%s on %s at %s by ", what, ci != NONE ? e->chans[ci].name : "?",
	       rel(e, ev->ts_ns, t, sizeof(t)));
	sb_who(&sb, &f.holder);
	sb_add(&sb, " after device %s was released at %s (client_count %d at entry): "
	       "the channel outlived its device", d->name,
	       rel(e, d->released_ts_ns, t2, sizeof(t2)), ev->client_count_before);
	finding_commit(e, &f);
}

static void kref_after_event(struct engine *e, size_t di, const struct rw_event *ev,
			     const char *where)
{
	struct engine_device *d = &e->devs[di];
	int32_t k = ev->kref_after >= 0 ? ev->kref_after : ev->kref_before;

	if (!(ev->flags & DMARW_F_KREF_VALID) || k < 0)
		return;
	d->kref = k;
	/*
	 * Only a put or the unregister can drop the last reference; a failed
	 * get merely observes a kref already at 0 (the release was seen, or
	 * will be inferred, at the exit that dropped it).
	 */
	if (k == 0 && d->state != DMARW_DEV_RELEASED && d->state != DMARW_DEV_UNKNOWN &&
	    (ev->type == DMARW_EV_CHAN_PUT || ev->type == DMARW_EV_DEV_UNREGISTER_END))
		device_released(e, di, ev->ts_ns, ev, where);
}

/* ---- events ---- */

/* The device and channel an event is about; false when either is unknown. */
static bool event_channel(struct engine *e, const struct rw_event *ev, size_t *di, size_t *ci)
{
	*di = dev_of_event(e, ev);
	if (*di == NONE)
		return false;
	*ci = chan_of_event(e, ev, *di);
	return *ci != NONE;
}

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
		finding_init(e, &f, FINDING_GET_FAILED, ev->ts_ns, di, ci);
		who_from_event(&f.holder, ev);
		sb_init(&sb, f.evidence, sizeof(f.evidence));
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

		finding_init(e, &f, FINDING_GET_AFTER_UNREGISTER, ev->ts_ns, di, ci);
		who_from_event(&f.holder, ev);
		sb_init(&sb, f.evidence, sizeof(f.evidence));
		sb_add(&sb, "dma_chan_get on %s succeeded at %s (client_count %d -> %d) for ",
		       c->name, rel(e, ev->ts_ns, t, sizeof(t)), ev->client_count_before,
		       ev->client_count_after);
		sb_who(&sb, &f.holder);
		sb_add(&sb, " after dma_async_device_unregister(%s) began at %s", d->name,
		       rel(e, d->unregister_ts_ns, t2, sizeof(t2)));
		finding_commit(e, &f);
	}

	chan_sync(e, ci, ev->client_count_before);
	/* balance_ref_count() can take several references in one get */
	if (ev->client_count_before >= 0 && ev->client_count_after > ev->client_count_before)
		delta = (uint32_t)(ev->client_count_after - ev->client_count_before);
	holder_add(e, ci, ev, delta);
	c = &e->chans[ci];
	if (ev->client_count_after >= 0)
		chan_sync(e, ci, ev->client_count_after);
	else if (c->client_count >= 0)
		c->client_count += (int32_t)delta;
	kref_after_event(e, di, ev, "kref read 0 at exit of dma_chan_get");
	check_kref(e, di, ev, "at exit of dma_chan_get");
}

/* A hook the BPF side attached (not "unavailable", not unset). */
static bool hook_attached(const struct engine *e, enum dmarw_hook hook)
{
	const char *m = e->hooks[hook].mode;

	return !strcmp(m, "fentry") || !strcmp(m, "kprobe");
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
	finding_init(e, &f, FINDING_UNREGISTER_WITH_USERS, ev->ts_ns, di, ci);
	f.holder = *who;
	f.refs = (uint32_t)ev->client_count_before;
	sb_init(&sb, f.evidence, sizeof(f.evidence));
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

static void on_chan_put(struct engine *e, const struct rw_event *ev)
{
	size_t di, ci;
	struct engine_channel *c;
	struct finding_holder who;
	struct finding f;
	struct sbuf sb;
	char t[32];

	if (!event_channel(e, ev, &di, &ci))
		return;
	c = &e->chans[ci];
	who_from_event(&who, ev);
	unregistered_before_tracing(e, di, ci, ev, &who);

	/* a put on a released device, unless it is the one that released it */
	if (e->devs[di].state == DMARW_DEV_RELEASED && !put_released_device(&e->devs[di], ev))
		touched_after_release(e, di, ci, ev, "dma_chan_put");

	if (ev->client_count_before == 0) {
		bool same_incident = c->release_pending_put && c->release_pid == ev->pid &&
				     c->release_reported;

		c->noop_puts++;
		c->release_pending_put = false;
		chan_sync(e, ci, 0);
		if (!same_incident) {
			finding_init(e, &f, FINDING_UNBALANCED_PUT, ev->ts_ns, di, ci);
			f.holder = who;
			sb_init(&sb, f.evidence, sizeof(f.evidence));
			sb_add(&sb, "dma_chan_put on %s read client_count 0 at entry (kernel "
			       "returned without dropping) at %s, called by ", c->name,
			       rel(e, ev->ts_ns, t, sizeof(t)));
			sb_who(&sb, &who);
			if (c->last_release.valid) {
				f.related = c->last_release;
				snprintf(f.related_what, sizeof(f.related_what), "previous-release");
				sb_add(&sb, "; previous release by ");
				sb_who(&sb, &c->last_release);
				sb_add(&sb, " at %s", rel(e, c->last_release.ts_ns, t, sizeof(t)));
			} else {
				sb_add(&sb, "; no earlier release of %s seen while tracing", c->name);
			}
			finding_commit(e, &f);
		}
		kref_after_event(e, di, ev, "kref read 0 at exit of dma_chan_put");
		check_kref(e, di, ev, "at exit of dma_chan_put");
		return;
	}

	c->release_pending_put = false;
	chan_sync(e, ci, ev->client_count_before);
	if (release_one(e, ci, &who) || ev->client_count_before > 0) {
		c = &e->chans[ci];
		c->puts++;
		c->last_release = who;
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

	finding_init(e, &f, FINDING_UNBALANCED_PUT, ev->ts_ns, di, ci);
	who_from_event(&f.holder, ev);
	sb_init(&sb, f.evidence, sizeof(f.evidence));
	sb_add(&sb, "dma_release_channel on %s read client_count %d at entry (the kernel's "
	       "WARN_ONCE: expected 1) at %s, called by ", c->name, ev->client_count_before,
	       rel(e, ev->ts_ns, t, sizeof(t)));
	sb_who(&sb, &f.holder);
	if (ev->client_count_before == 0)
		sb_add(&sb, "; the dma_chan_put that follows returns without dropping");
	if (c->last_release.valid) {
		f.related = c->last_release;
		snprintf(f.related_what, sizeof(f.related_what), "previous-release");
		sb_add(&sb, "; previous release by ");
		sb_who(&sb, &c->last_release);
		sb_add(&sb, " at %s", rel(e, c->last_release.ts_ns, t, sizeof(t)));
	} else {
		sb_add(&sb, "; no earlier release of %s seen while tracing", c->name);
	}
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
		finding_init(e, &f, FINDING_MISSING_RELEASE_CALLBACK, ev->ts_ns, di, NONE);
		who_from_event(&f.holder, ev);
		sb_init(&sb, f.evidence, sizeof(f.evidence));
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
	size_t di = dev_of_event(e, ev), oldest, first_chan;
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
	in_use = from_kernel && ev->ret >= 0 ? (int)ev->ret : model_in_use;
	if (users <= 0 || d->rep_unregister_users)
		return;
	d->rep_unregister_users = true;

	who_from_event(&who, ev);
	finding_init(e, &f, FINDING_UNREGISTER_WITH_USERS, ev->ts_ns, di, NONE);
	f.refs = (uint32_t)users;
	f.related = who;
	snprintf(f.related_what, sizeof(f.related_what), "unregister");
	sb_init(&sb, f.evidence, sizeof(f.evidence));
	sb_add(&sb, "dma_async_device_unregister(%s) entered at %s by ", d->name,
	       rel(e, ev->ts_ns, t, sizeof(t)));
	sb_who(&sb, &who);
	sb_add(&sb, " while %d channel%s had users, client_count sum %lld %s:", in_use,
	       in_use == 1 ? "" : "s", (long long)users,
	       from_kernel ? "read from the kernel" : "per the traced events");
	oldest = sb_dev_holders(e, &sb, di, &first_chan);
	if (first_chan != NONE) {
		snprintf(f.channel, sizeof(f.channel), "%s", e->chans[first_chan].name);
		f.chan_id = e->chans[first_chan].chan_id;
	}
	if (oldest != NONE) {
		f.holder = e->holders[oldest].who;
		f.age_ns = ev->ts_ns > f.holder.ts_ns ? ev->ts_ns - f.holder.ts_ns : 0;
	}
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

void engine__feed(struct engine *e, const struct rw_event *ev)
{
	note_time(e, ev->ts_ns);
	e->stats.events++;
	if ((unsigned int)ev->type < DMARW_EV_MAX)
		e->stats.by_type[ev->type]++;

	switch (ev->type) {
	case DMARW_EV_CHAN_GET:
		on_chan_get(e, ev);
		break;
	case DMARW_EV_CHAN_PUT:
		on_chan_put(e, ev);
		break;
	case DMARW_EV_DEV_REGISTER:
		on_register(e, ev);
		break;
	case DMARW_EV_DEV_UNREGISTER_BEGIN:
		on_unregister_begin(e, ev);
		break;
	case DMARW_EV_DEV_UNREGISTER_END:
		on_unregister_end(e, ev);
		break;
	case DMARW_EV_DEV_RELEASE:
		on_dev_release(e, ev);
		break;
	case DMARW_EV_RELEASE_CHANNEL:
		on_release_channel(e, ev);
		break;
	case DMARW_EV_REQUEST_CHAN:
		on_request(e, ev);
		break;
	case DMARW_EV_DMAENGINE_GET:
	case DMARW_EV_DMAENGINE_PUT:
		/* intent only: the dma_chan_get/put they cause carry the counts */
		if (ev->device_key || ev->dev_id >= 0)
			dev_of_event(e, ev);
		break;
	case DMARW_EV_SNAP_DEVICE:
	case DMARW_EV_SNAP_CHAN:
	case DMARW_EV_MODULE_SYMS:
		/* startup walk records, a module's symbols: not events */
		break;
	default:
		e->stats.bad_events++;
		break;
	}
}

/* ---- snapshot, hooks, end ---- */

static void missing_release_at_start(struct engine *e, size_t di, uint64_t ts)
{
	struct engine_device *d = &e->devs[di];
	struct finding f;
	struct sbuf sb;

	if (d->has_release != 0 || d->rep_missing_release ||
	    d->state == DMARW_DEV_RELEASED)
		return;
	d->rep_missing_release = true;
	finding_init(e, &f, FINDING_MISSING_RELEASE_CALLBACK, ts, di, NONE);
	sb_init(&sb, f.evidence, sizeof(f.evidence));
	sb_add(&sb, "device %s", d->name);
	if (d->dev_name[0])
		sb_add(&sb, " (%s%s%s)", d->dev_name, d->drv_name[0] ? ", driver " : "",
		       d->drv_name);
	sb_add(&sb, " found %s at startup with device->device_release unset: unbinding "
	       "the driver while a client holds a channel frees memory still in use",
	       engine_dev_state_name(d->state));
	finding_commit(e, &f);
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
		if (sd->dev_name[0])
			snprintf(d->dev_name, sizeof(d->dev_name), "%.*s",
				 (int)sizeof(sd->dev_name) - 1, sd->dev_name);
		if (sd->drv_name[0])
			snprintf(d->drv_name, sizeof(d->drv_name), "%.*s",
				 (int)sizeof(sd->drv_name) - 1, sd->drv_name);
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

void engine__set_hook(struct engine *e, enum dmarw_hook hook, const char *mode,
		      uint64_t hits, uint64_t lost)
{
	if ((unsigned int)hook >= DMARW_HOOK_MAX)
		return;
	snprintf(e->hooks[hook].mode, sizeof(e->hooks[hook].mode), "%s", mode ? mode : "");
	e->hooks[hook].hits = hits;
	e->hooks[hook].lost = lost;
}

void engine__add_lost(struct engine *e, uint64_t n)
{
	e->stats.lost += n;
}

static void report_leak(struct engine *e, size_t hi, uint64_t now, bool final_truth,
			uint64_t min_age)
{
	struct engine_holder *h = &e->holders[hi];
	const struct engine_channel *c = &e->chans[h->channel];
	struct finding f;
	struct sbuf sb;
	char t[32];

	h->reported = true;
	finding_init(e, &f, FINDING_LEAKED_REFERENCE, now, c->device, h->channel);
	f.holder = h->who;
	f.refs = h->refs;
	f.age_ns = now > h->who.ts_ns ? now - h->who.ts_ns : 0;
	sb_init(&sb, f.evidence, sizeof(f.evidence));
	sb_add(&sb, "%s client_count %d %s; %s taken by dma_chan_get at %s by ", c->name,
	       c->client_count, final_truth ? "read from the kernel at the end" :
	       "per the traced events", h->refs > 1 ? "references" : "reference",
	       rel(e, h->who.ts_ns, t, sizeof(t)));
	sb_who(&sb, &h->who);
	if (h->refs > 1)
		sb_add(&sb, " (%u references in one get: balance_ref_count)", h->refs);
	if (e->stats.finished || !min_age)
		sb_add(&sb, ", no matching put after %.3fs", (double)f.age_ns / 1e9);
	else
		sb_add(&sb, ", still held after %.3fs (--min-age %.3fs)",
		       (double)f.age_ns / 1e9, (double)min_age / 1e9);
	if (c->predating)
		sb_add(&sb, "; %u more reference%s predate%s tracing (not judged)",
		       c->predating, c->predating == 1 ? "" : "s",
		       c->predating == 1 ? "s" : "");
	finding_commit(e, &f);
}

static void report_pending(struct engine *e, size_t di, uint64_t now)
{
	struct engine_device *d = &e->devs[di];
	size_t oldest, first_chan;
	struct finding f;
	struct sbuf sb;
	char t[32];

	d->rep_pending = true;
	finding_init(e, &f, FINDING_RELEASE_PENDING, now, di, NONE);
	sb_init(&sb, f.evidence, sizeof(f.evidence));
	if (!d->unregister_ts_ns) {
		/* no unregister event: the startup snapshot found it so */
		f.age_ns = 0;
		sb_add(&sb, "device %s found unregistered and not released in the startup "
		       "snapshot, still not released at the end (kref %d)", d->name, d->kref);
	} else {
		f.age_ns = now > d->unregister_ts_ns ? now - d->unregister_ts_ns : 0;
		sb_add(&sb, "device %s %s at %s and not released after %.3fs (kref %d)",
		       d->name,
		       d->state == DMARW_DEV_UNREGISTERING ? "began unregistering" :
		       "unregistered", rel(e, d->unregister_ts_ns, t, sizeof(t)),
		       (double)f.age_ns / 1e9, d->kref);
	}
	oldest = sb_dev_holders(e, &sb, di, &first_chan);
	if (first_chan == NONE)
		sb_add(&sb, "; no channel of it is in use");
	else {
		snprintf(f.channel, sizeof(f.channel), "%s", e->chans[first_chan].name);
		f.chan_id = e->chans[first_chan].chan_id;
	}
	if (oldest != NONE)
		f.holder = e->holders[oldest].who;
	finding_commit(e, &f);
}

static bool release_observable(const struct engine *e, const struct engine_device *d)
{
	return d->kref_valid || hook_attached(e, DMARW_HOOK_DEV_RELEASE);
}

void engine__scan(struct engine *e, uint64_t now_ns, uint64_t min_age_ns)
{
	size_t i;

	note_time(e, now_ns);
	for (i = 0; i < e->nr_holders; i++) {
		if (e->holders[i].reported || now_ns < e->holders[i].who.ts_ns ||
		    now_ns - e->holders[i].who.ts_ns < min_age_ns)
			continue;
		report_leak(e, i, now_ns, false, min_age_ns);
	}
	for (i = 0; i < e->nr_devs; i++) {
		struct engine_device *d = &e->devs[i];

		if ((d->state != DMARW_DEV_UNREGISTERING && d->state != DMARW_DEV_UNREGISTERED) ||
		    d->rep_pending || !release_observable(e, d) ||
		    now_ns < d->unregister_ts_ns || now_ns - d->unregister_ts_ns < min_age_ns)
			continue;
		report_pending(e, i, now_ns);
	}
}

void engine__finish(struct engine *e, uint64_t now_ns, const struct snapshot *final)
{
	size_t i, di, ci;

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
		for (i = 0; i < final->nr_channels; i++) {
			const struct snapshot_channel *sc = &final->channels[i];

			ci = chan_lookup(e, sc->chan_key, sc->dev_id, sc->chan_id);
			if (ci != NONE)
				chan_sync(e, ci, sc->client_count);
		}
	}
	e->stats.finished = true;
	e->stats.finish_ts_ns = now_ns;

	for (i = 0; i < e->nr_holders; i++)
		if (!e->holders[i].reported)
			report_leak(e, i, now_ns, final != NULL, 0);
	for (i = 0; i < e->nr_devs; i++) {
		struct engine_device *d = &e->devs[i];

		if ((d->state == DMARW_DEV_UNREGISTERING || d->state == DMARW_DEV_UNREGISTERED) &&
		    !d->rep_pending && release_observable(e, d))
			report_pending(e, i, now_ns);
	}
	for (i = 0; i < e->nr_devs; i++)
		check_kref(e, i, NULL, "in the final kernel state");
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
