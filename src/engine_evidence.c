// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Findings and their evidence: one finding per incident, with the kernel
 * values and events it rests on; the kref checks.
 * See engine.h and docs/findings.md.
 */
#include <stdio.h>
#include <string.h>
#include "engine_priv.h"
#include "suppress.h"

/* ---- findings ---- */

/* Start finding @f and its evidence writer @sb (the evidence is empty). */
void finding_init(struct engine *e, struct finding *f, struct sbuf *sb,
		  enum finding_kind kind, uint64_t ts, size_t di, size_t ci)
{
	const struct engine_device *d = di != NONE ? &e->devs[di] : NULL;
	const struct engine_channel *c = ci != NONE ? &e->chans[ci] : NULL;

	memset(f, 0, sizeof(*f));
	sb_init(sb, f->evidence, sizeof(f->evidence));
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

void finding_commit(struct engine *e, const struct finding *f)
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
int64_t dev_users(const struct engine *e, size_t di, int *in_use)
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
size_t sb_dev_holders(struct engine *e, struct sbuf *sb, size_t di, size_t *first_chan)
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
		if (c->unknown)
			sb_add(sb, "%s%u held by an unknown holder (the reference ledger was full)",
			       first && !c->predating ? ": " : ", ", c->unknown);
	}
	return oldest;
}

/*
 * sb_dev_holders() into @f: its first channel in use and its oldest holder,
 * whose age at @ts (0: leave f->age_ns) becomes the finding's.  Returns
 * that channel, NONE when none is in use.
 */
size_t finding_dev_holders(struct engine *e, struct finding *f, struct sbuf *sb, size_t di,
			   uint64_t ts)
{
	size_t oldest, first_chan;

	oldest = sb_dev_holders(e, sb, di, &first_chan);
	if (first_chan != NONE) {
		snprintf(f->channel, sizeof(f->channel), "%s", e->chans[first_chan].name);
		f->chan_id = e->chans[first_chan].chan_id;
	}
	if (oldest != NONE) {
		f->holder = e->holders[oldest].who;
		if (ts)
			f->age_ns = ts > f->holder.ts_ns ? ts - f->holder.ts_ns : 0;
	}
	return first_chan;
}

/*
 * "; previous release by pid N (comm) at T": the channel's last release
 * that dropped a reference as the BPF side kept it (DMARW_F_PREV_RELEASE: no
 * stack, the ledger id it dropped), with whose reference it was when the
 * engine still knows that holder.
 */
static void sb_prev_from_event(struct engine *e, struct finding *f, struct sbuf *sb,
			       const struct engine_channel *c, const struct rw_release *p)
{
	const struct finding_holder *taken = NULL;
	size_t hi;
	char t[32];

	memset(&f->related, 0, sizeof(f->related));
	f->related.valid = true;
	f->related.pid = p->pid;
	f->related.tgid = p->tgid;
	memcpy(f->related.comm, p->comm, sizeof(f->related.comm));
	f->related.comm[sizeof(f->related.comm) - 1] = '\0';
	f->related.ts_ns = p->ts_ns;
	snprintf(f->related_what, sizeof(f->related_what), "previous-release");
	sb_add(sb, "; previous release by pid %u (%s) at %s", f->related.pid, f->related.comm,
	       rel(e, p->ts_ns, t, sizeof(t)));
	if (p->holder_id) {
		hi = holder_by_ledger_id(e, p->holder_id);
		if (hi != NONE)
			taken = &e->holders[hi].who;
		else if (c->last_released_id == p->holder_id)
			taken = &c->last_released;
	}
	if (taken) {
		sb_add(sb, ", of the reference taken by ");
		if (taken->function[0])
			sb_add(sb, "%s [%s]", taken->function, taken->module);
		else
			sb_add(sb, "an unnamed caller");
		sb_add(sb, " (pid %u, %s) at %s", taken->pid, taken->comm,
		       rel(e, taken->ts_ns, t, sizeof(t)));
	} else if (p->holder_id) {
		sb_add(sb, ", of ledger entry %llu", (unsigned long long)p->holder_id);
	}
	sb_add(sb, " (the ledger's last release: no stack)");
}

/* "; previous release by WHO at T" from channel @c's last release, as related */
void sb_previous_release(struct engine *e, struct finding *f, struct sbuf *sb,
			 const struct engine_channel *c, const struct rw_event *ev)
{
	char t[32];

	if (ev && (ev->flags & DMARW_F_PREV_RELEASE)) {
		sb_prev_from_event(e, f, sb, c, &ev->prev);
		return;
	}
	/* in ledger mode balanced puts are not seen: only the event's prev counts */
	if (!c->last_release.valid || (ev && (ev->flags & DMARW_F_LEDGER))) {
		sb_add(sb, "; no earlier release of %s seen while tracing", c->name);
		return;
	}
	f->related = c->last_release;
	snprintf(f->related_what, sizeof(f->related_what), "previous-release");
	sb_add(sb, "; previous release by ");
	sb_who(sb, &c->last_release);
	sb_add(sb, " at %s", rel(e, c->last_release.ts_ns, t, sizeof(t)));
}

void check_kref(struct engine *e, size_t di, const struct rw_event *ev,
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

	finding_init(e, &f, &sb, FINDING_REFCOUNT_MISMATCH, ev ? ev->ts_ns : e->stats.last_ts_ns,
		     di, NONE);
	if (ev) {
		who_from_event(&f.holder, ev);
		i = chan_lookup(e, ev->chan_key, ev->dev_id, ev->chan_id);
		if (i != NONE) {
			snprintf(f.channel, sizeof(f.channel), "%s", e->chans[i].name);
			f.chan_id = e->chans[i].chan_id;
		}
	}
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

/*
 * Start the device's one release-with-users finding (released while its
 * channels had users, or a channel touched after the release); false when
 * it was made already.
 */
static bool release_with_users_once(struct engine *e, struct finding *f, struct sbuf *sb,
				    size_t di, size_t ci, uint64_t ts)
{
	if (e->devs[di].rep_release_users)
		return false;
	e->devs[di].rep_release_users = true;
	finding_init(e, f, sb, FINDING_RELEASE_WITH_USERS, ts, di, ci);
	return true;
}

void device_released(struct engine *e, size_t di, uint64_t ts,
		     const struct rw_event *ev, const char *how)
{
	struct engine_device *d = &e->devs[di];
	struct finding f;
	struct sbuf sb;
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
		if (ev->dev_in_use >= 0)
			in_use = ev->dev_in_use;
	}
	if (users <= 0 || !release_with_users_once(e, &f, &sb, di, NONE, ts))
		return;
	f.refs = (uint32_t)users;
	sb_add(&sb, "device %s released (%s) at %s while %d channel%s had users, "
	       "client_count sum %lld:", d->name, how, rel(e, ts, t, sizeof(t)), in_use,
	       in_use == 1 ? "" : "s", (long long)users);
	finding_dev_holders(e, &f, &sb, di, ts);
	if (ev) {
		snprintf(f.related_what, sizeof(f.related_what), "release");
		who_from_event(&f.related, ev);
	}
	finding_commit(e, &f);
}

/* A get or put on a device already released: a use after free in the kernel. */
void touched_after_release(struct engine *e, size_t di, size_t ci,
			   const struct rw_event *ev, const char *what)
{
	const struct engine_device *d = &e->devs[di];
	char t[32], t2[32];
	struct finding f;
	struct sbuf sb;

	if (!release_with_users_once(e, &f, &sb, di, ci, ev->ts_ns))
		return;
	who_from_event(&f.holder, ev);
	sb_add(&sb, "%s on %s at %s by ", what, ci != NONE ? e->chans[ci].name : "?",
	       rel(e, ev->ts_ns, t, sizeof(t)));
	sb_who(&sb, &f.holder);
	sb_add(&sb, " after device %s was released at %s (client_count %d at entry): "
	       "the channel outlived its device", d->name,
	       rel(e, d->released_ts_ns, t2, sizeof(t2)), ev->client_count_before);
	finding_commit(e, &f);
}

void kref_after_event(struct engine *e, size_t di, const struct rw_event *ev,
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

/* ---- snapshot, hooks, end ---- */

void missing_release_at_start(struct engine *e, size_t di, uint64_t ts)
{
	struct engine_device *d = &e->devs[di];
	struct finding f;
	struct sbuf sb;

	if (d->has_release != 0 || d->rep_missing_release ||
	    d->state == DMARW_DEV_RELEASED)
		return;
	d->rep_missing_release = true;
	finding_init(e, &f, &sb, FINDING_MISSING_RELEASE_CALLBACK, ts, di, NONE);
	sb_add(&sb, "device %s", d->name);
	if (d->dev_name[0])
		sb_add(&sb, " (%s%s%s)", d->dev_name, d->drv_name[0] ? ", driver " : "",
		       d->drv_name);
	sb_add(&sb, " found %s at startup with device->device_release unset: unbinding "
	       "the driver while a client holds a channel frees memory still in use",
	       engine_dev_state_name(d->state));
	finding_commit(e, &f);
}

/* "taken by dma_chan_get at +1.2s by pid 88 (insmod) from f [m]" and the rest */
static void sb_taken(struct engine *e, struct sbuf *sb, const struct engine_holder *h)
{
	char t[32];

	sb_add(sb, "%s taken by dma_chan_get at %s by ", h->refs > 1 ? "references" :
	       "reference", rel(e, h->who.ts_ns, t, sizeof(t)));
	sb_who(sb, &h->who);
	if (h->refs > 1)
		sb_add(sb, " (%u references in one get: balance_ref_count)", h->refs);
}

/* What the tool saw of the holder's life: only what hooks could show. */
static void sb_alive(struct engine *e, struct sbuf *sb, const struct engine_holder *h)
{
	bool mod = hook_attached(e, DMARW_HOOK_MODULE_FREE) && h->who.module[0] &&
		   strcmp(h->who.module, "vmlinux");
	bool cl = hook_attached(e, DMARW_HOOK_DRIVER_UNBIND) && h->who.client[0];

	if (mod && cl)
		sb_add(sb, "; the holder is alive: module %s not unloaded and client %s not "
		       "unbound while traced", h->who.module, h->who.client);
	else if (mod)
		sb_add(sb, "; the holder is alive: module %s not unloaded while traced",
		       h->who.module);
	else if (cl)
		sb_add(sb, "; the holder is alive: client %s not unbound while traced",
		       h->who.client);
}

static void sb_gone(struct engine *e, struct sbuf *sb, const struct engine_holder *h)
{
	char t[32];

	if (h->state == HOLDER_MODULE_UNLOADED)
		sb_add(sb, "; module %s was unloaded at %s (tracepoint module_free, after its "
		       "exit) with no matching put: the holder is gone", h->gone_what,
		       rel(e, h->gone_ts_ns, t, sizeof(t)));
	else if (h->state == HOLDER_CLIENT_UNBOUND)
		sb_add(sb, "; client device %s was unbound from its driver at %s "
		       "(devres_release_all returned, after its remove()) "
		       "with no matching put: the holder is gone", h->gone_what,
		       rel(e, h->gone_ts_ns, t, sizeof(t)));
}

/*
 * A finding about holder @hi's reference at @now, its evidence begun in @sb
 * with the channel's client_count; the holder is marked reported for @kind.
 */
static struct engine_holder *holder_finding(struct engine *e, struct finding *f,
					    struct sbuf *sb, enum finding_kind kind, size_t hi,
					    uint64_t now, const char *count_how)
{
	struct engine_holder *h = &e->holders[hi];
	const struct engine_channel *c = &e->chans[h->channel];

	if (kind == FINDING_LEAKED_REFERENCE)
		h->reported = true;
	else
		h->long_held = true;
	finding_init(e, f, sb, kind, now, c->device, h->channel);
	f->holder = h->who;
	f->refs = h->refs;
	f->age_ns = now > h->who.ts_ns ? now - h->who.ts_ns : 0;
	sb_add(sb, "%s client_count %d %s; ", c->name, c->client_count, count_how);
	sb_taken(e, sb, h);
	return h;
}

/* @count_how: where c->client_count comes from ("read from the kernel at the end") */
void report_leak(struct engine *e, size_t hi, uint64_t now, const char *count_how)
{
	const struct engine_channel *c = &e->chans[e->holders[hi].channel];
	const struct engine_holder *h;
	struct finding f;
	struct sbuf sb;

	h = holder_finding(e, &f, &sb, FINDING_LEAKED_REFERENCE, hi, now, count_how);
	if (h->state != HOLDER_ALIVE) {
		sb_gone(e, &sb, h);
	} else {
		sb_add(&sb, ", no matching put after %.3fs", (double)f.age_ns / 1e9);
		sb_alive(e, &sb, h);
	}
	if (c->predating)
		sb_add(&sb, "; %u more reference%s predate%s tracing (not judged)",
		       c->predating, c->predating == 1 ? "" : "s",
		       c->predating == 1 ? "s" : "");
	finding_commit(e, &f);
}

void report_long_held(struct engine *e, size_t hi, uint64_t now, uint64_t min_age)
{
	const struct engine_holder *h;
	struct finding f;
	struct sbuf sb;

	h = holder_finding(e, &f, &sb, FINDING_LONG_HELD_REFERENCE, hi, now,
			   "per the traced events");
	sb_add(&sb, ", held for %.3fs (--min-age %.3fs)", (double)f.age_ns / 1e9,
	       (double)min_age / 1e9);
	sb_alive(e, &sb, h);
	sb_add(&sb, "; age alone is no leak");
	finding_commit(e, &f);
}

void report_pending(struct engine *e, size_t di, uint64_t now)
{
	struct engine_device *d = &e->devs[di];
	struct finding f;
	struct sbuf sb;
	char t[32];

	d->rep_pending = true;
	finding_init(e, &f, &sb, FINDING_RELEASE_PENDING, now, di, NONE);
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
	if (finding_dev_holders(e, &f, &sb, di, 0) == NONE)
		sb_add(&sb, "; no channel of it is in use");
	finding_commit(e, &f);
}

/*
 * Device @d is unregistered (or on its way), not released, not reported as
 * release-pending yet, and its release would be seen: a kref to read or the
 * release hook attached.
 */
bool release_pending_candidate(const struct engine *e, const struct engine_device *d)
{
	return (d->state == DMARW_DEV_UNREGISTERING || d->state == DMARW_DEV_UNREGISTERED) &&
	       !d->rep_pending && (d->kref_valid || hook_attached(e, DMARW_HOOK_DEV_RELEASE));
}
