// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A live tracing session; see bpf_session.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "bpf_session.h"
#include "cli.h"
#include "decoder.h"
#include "ksyms.h"
#include "ledger.h"

/*
 * /proc/kallsyms is read by a thread of its own from the start (0.2-0.4 s
 * under emulation, 0.1 s of it the kernel writing the text) while the
 * loader parses BTF, probes and loads: it is waited for where the symbols
 * are first needed, after the load in fentry mode.  With one CPU the two
 * only take turns; with more, the read is hidden.
 */
struct ksyms_read {
	pthread_t thread;
	bool running;		/* started and not joined yet */
	struct ksyms *ks;
	int err;
};

struct session {
	struct loader *loader;
	struct ksyms_read kread;
	struct ksyms *ks;
	struct decoder *dec;
	struct engine *engine;
	struct snapshot *start;
	struct snapshot *walk;	/* where the list walker's records go */
	session_event_fn fn;
	void *ctx;
	session_ledger_fn ledger_fn;
	void *ledger_ctx;
	/*
	 * The holders are in the ledger (not every get/put is a record): it
	 * is read before each event that must see them and at every sync.
	 */
	bool ledger_mode;
	struct ledger *ledger;
	enum dmarw_event_type last_fed;
	uint64_t ledger_dropped;	/* entries of this read not kept: no memory */
	uint64_t lost_seen;
	struct rw_event ev;	/* decode buffer: large, keep it off the stack */
	struct rw_event hev;	/* the same for ledger entries */
	/* --service: our maps are pinned in published_dir until we close */
	const char *published_dir;
	int gone_fd;		/* the pinned "gone" map we write */
	/*
	 * Following a running service (session__follow()): its maps, read
	 * only; the kernel's counts from our own walks of the device list.
	 */
	bool follow;
	int pin_fds[PIN_MAP_OWNER];
	struct dmarw_pin_owner owner;
};

static void *read_ksyms(void *arg)
{
	struct ksyms_read *r = arg;

	r->ks = ksyms__load(NULL);
	r->err = r->ks ? 0 : errno;
	return NULL;
}

static void ksyms_read_start(struct ksyms_read *r)
{
	r->running = !pthread_create(&r->thread, NULL, read_ksyms, r);
	if (!r->running)
		read_ksyms(r);	/* no thread: read it now */
}

/* loader_ksyms_fn: the symbols, once the read is done */
static const struct ksyms *session_ksyms(void *ctx)
{
	struct session *s = ctx;
	struct ksyms_read *r = &s->kread;

	if (r->running) {
		pthread_join(r->thread, NULL);
		r->running = false;
		loader__startup_mark(env.verbose, "kallsyms (waited for)");
	}
	s->ks = r->ks;
	errno = r->err;
	return s->ks;
}

static void snapshot_record(struct session *s, const struct rw_event *ev)
{
	if (ev->type == DMARW_EV_SNAP_DEVICE) {
		struct snapshot_device d = {
			.device_key = ev->device_key,
			.dev_id = ev->dev_id,
			.kref = (ev->flags & DMARW_F_KREF_VALID) ? ev->kref_after : -1,
			.has_release = (ev->flags & DMARW_F_RELEASE_FIELD) ?
				!!(ev->flags & DMARW_F_HAS_RELEASE) : -1,
			.state = (ev->flags & DMARW_F_UNREGISTERED) ?
				DMARW_DEV_UNREGISTERED : DMARW_DEV_REGISTERED,
		};

		memcpy(d.dev_name, ev->dev_name, sizeof(d.dev_name));
		memcpy(d.drv_name, ev->drv_name, sizeof(d.drv_name));
		snapshot__add_device(s->walk, &d);
	} else {
		struct snapshot_channel c = {
			.chan_key = ev->chan_key,
			.device_key = ev->device_key,
			.dev_id = ev->dev_id,
			.chan_id = ev->chan_id,
			.client_count = ev->client_count_after,
		};

		/* the walker puts chan->dbg_client_name into dev_name */
		memcpy(c.client_name, ev->dev_name, sizeof(c.client_name));
		snapshot__add_channel(s->walk, &c);
	}
}

/* Events whose judgement needs the holders as the kernel has them now. */
static bool needs_holders(enum dmarw_event_type type)
{
	switch (type) {
	case DMARW_EV_CHAN_GET:
	case DMARW_EV_CHAN_PUT:
	case DMARW_EV_RELEASE_CHANNEL:
	case DMARW_EV_DEV_UNREGISTER_BEGIN:
	case DMARW_EV_DEV_RELEASE:
	case DMARW_EV_MODULE_UNLOAD:
	case DMARW_EV_CLIENT_UNBIND:
	case DMARW_EV_DEV_HOLDER:
		return true;
	default:
		return false;
	}
}

static void add_holder(void *ctx, const struct dmarw_ledger_key *key, const struct dmarw_holder *h)
{
	struct session *s = ctx;

	if (!h->id || decoder__decode_holder(s->dec, key->chan, h, &s->hev))
		return;
	if (!env_device_selected(s->hev.dev_id, s->hev.dev_name, s->hev.drv_name))
		return;
	if (ledger__add(s->ledger, &s->hev))
		s->ledger_dropped++;	/* the engine counts it: see session__read_ledger() */
}

/* Following a service: the holders it saw die (its "gone" map). */
static void on_gone(void *ctx, uint64_t id, const struct dmarw_pin_gone *g)
{
	struct session *s = ctx;

	engine__holder_gone(s->engine, id, (enum engine_holder_state)g->state, g->gone_ns,
			    g->what, g->function, g->module);
}

static bool holder_dead(void *ctx, uint64_t id)
{
	const struct engine *e = ctx;
	size_t i;

	for (i = 0; i < engine__nr_holders(e); i++)
		if (engine__holder(e, i)->ledger_id == id &&
		    engine__holder(e, i)->state != HOLDER_ALIVE)
			return true;
	return false;
}

/*
 * The service: each dead holder of our engine in the "gone" map, for the
 * readers; the entries of holders no longer dead (or no longer held) go.
 */
static void write_gone(struct session *s)
{
	size_t i;

	for (i = 0; i < engine__nr_holders(s->engine); i++) {
		const struct engine_holder *h = engine__holder(s->engine, i);
		struct dmarw_pin_gone g = { .gone_ns = h->gone_ts_ns, .state = h->state };

		if (!h->ledger_id || h->state == HOLDER_ALIVE)
			continue;
		snprintf(g.what, sizeof(g.what), "%s", h->gone_what);
		snprintf(g.function, sizeof(g.function), "%s", h->who.function);
		snprintf(g.module, sizeof(g.module), "%s", h->who.module);
		pin__put_gone(s->gone_fd, h->ledger_id, &g);
	}
	pin__prune_gone(s->gone_fd, holder_dead, s->engine);
}

/*
 * The entries of the ledger map @fd into s->ledger (filtered by --device);
 * those not kept for want of memory are counted in the engine.  Returns
 * the number read, or -errno.
 */
static int collect_ledger(struct session *s, int fd)
{
	int n;

	s->ledger->nr = 0;
	s->ledger_dropped = 0;
	n = loader__for_each_holder_in(s->loader, fd, add_holder, s);
	if (n >= 0 && s->ledger_dropped && s->engine)
		engine__add_alloc_failures(s->engine, s->ledger_dropped);
	return n;
}

int session__read_ledger(struct session *s)
{
	int n;

	if (!s->ledger_mode)
		return 0;
	n = collect_ledger(s, loader__ledger_fd(s->loader));
	if (n < 0)
		return n;
	s->ledger->ts_ns = now_mono_ns();
	if (s->engine)
		engine__load_ledger(s->engine, s->ledger->ts_ns, s->ledger);
	if (s->follow && s->engine)
		pin__read_gone(s->pin_fds[PIN_MAP_GONE], on_gone, s);
	if (s->ledger_fn)
		s->ledger_fn(s->ledger_ctx, s->ledger);
	return 0;
}

static int on_raw_event(void *ctx, const struct dmarw_event *raw)
{
	struct session *s = ctx;

	if (decoder__decode(s->dec, raw, &s->ev)) {
		if (raw->type == DMARW_EV_MODULE_SYMS && (raw->flags & DMARW_F_LAST) &&
		    env.verbose)
			fprintf(stderr, "dmarefwatch: module %.*s loaded: %zu functions from its "
				"symbol table (%s)\n", (int)sizeof(raw->modsyms.module),
				raw->modsyms.module, decoder__module_syms(s->dec),
				raw->modsyms.symtab_nr < 0 ? "longer than walked: the rest from kallsyms" :
				"whole table");
		return 0;
	}
	if (s->ev.type == DMARW_EV_SNAP_DEVICE || s->ev.type == DMARW_EV_SNAP_CHAN) {
		if (s->walk)	/* only while a walk runs */
			snapshot_record(s, &s->ev);
		return 0;
	}
	/* events without a device (dmaengine_get/put) always pass */
	if (s->ev.dev_id >= 0 &&
	    !env_device_selected(s->ev.dev_id, s->ev.dev_name, s->ev.drv_name))
		return 0;
	/*
	 * The engine judges this event against the holders: the ledger has
	 * them.  The unregister's DEV_HOLDER records are the holders it found
	 * in the same program run: no read between them and their unregister.
	 */
	if (s->ledger_mode && needs_holders(s->ev.type) &&
	    !(s->last_fed == DMARW_EV_DEV_HOLDER &&
	      (s->ev.type == DMARW_EV_DEV_HOLDER ||
	       s->ev.type == DMARW_EV_DEV_UNREGISTER_BEGIN)))
		session__read_ledger(s);
	s->last_fed = s->ev.type;
	if (s->engine)
		engine__feed(s->engine, &s->ev);
	if (s->fn)
		s->fn(s->ctx, &s->ev);
	return 0;
}

static void filter_snapshot(struct snapshot *snap)
{
	size_t i, n = 0;

	for (i = 0; i < snap->nr_channels; i++) {
		const struct snapshot_channel *c = &snap->channels[i];
		struct snapshot_device *d = snapshot__find_device(snap, c->dev_id);

		if (env_device_selected(c->dev_id, d ? d->dev_name : "", d ? d->drv_name : ""))
			snap->channels[n++] = *c;
	}
	snap->nr_channels = n;
	for (i = 0, n = 0; i < snap->nr_devices; i++) {
		const struct snapshot_device *d = &snap->devices[i];

		if (env_device_selected(d->dev_id, d->dev_name, d->drv_name))
			snap->devices[n++] = *d;
	}
	snap->nr_devices = n;
}

int session__open(struct session **out, struct engine *e, bool attach,
		 session_event_fn fn, void *ctx, char *err, size_t errlen)
{
	struct loader_opts lo = {
		.mode = env.mode, .stacks = env.stacks, .verbose = env.verbose,
		.no_hooks = !attach, .btf = env.btf, .send_balanced = env.send_balanced,
		.max_references = env.max_references,
	};
	struct session *s;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (ret = 0; ret < PIN_MAP_OWNER; ret++)
		s->pin_fds[ret] = -1;
	s->gone_fd = -1;
	s->engine = e;
	s->fn = fn;
	s->ctx = ctx;
	s->ledger_mode = attach && !env.send_balanced;
	s->ledger = ledger__new();
	if (!s->ledger) {
		ret = -ENOMEM;
		goto fail;
	}
	loader__startup_mark(env.verbose, "command line");
	ksyms_read_start(&s->kread);
	lo.ks = session_ksyms;
	lo.ks_ctx = s;
	/* once it succeeds, the loader has had s->ks (dma_device_list) */
	ret = loader__open(&s->loader, &lo, on_raw_event, s, err, errlen);
	if (ret)
		goto fail;
	if (ksyms__restricted(s->ks))
		p_info("warning: /proc/kallsyms shows no addresses (kptr_restrict): "
		       "stacks cannot be symbolized");
	s->dec = decoder__new(s->ks);
	if (!s->dec) {
		ret = -ENOMEM;
		goto fail;
	}
	/*
	 * The snapshot comes before the hooks: a reference taken in between
	 * looks older than tracing, which costs attribution, never a false
	 * verdict.  The kernel's own list first, sysfs when it cannot be walked.
	 */
	s->start = snapshot__new("bpf");
	if (!s->start) {
		ret = -ENOMEM;
		goto fail;
	}
	s->walk = s->start;
	ret = loader__snapshot(s->loader);
	s->walk = NULL;
	if (ret) {
		if (env.verbose)
			p_info("kernel device list not readable (%s): snapshot from sysfs",
			       strerror(-ret));
		snapshot__free(s->start);
		s->start = snapshot__new("sysfs");
		if (!s->start) {
			ret = -ENOMEM;
			goto fail;
		}
		ret = snapshot__read_sysfs(s->start, "/", false, err, errlen);
		if (ret)
			goto fail;
	}
	filter_snapshot(s->start);
	loader__startup_mark(env.verbose, "snapshot");
	if (attach) {
		ret = loader__attach(s->loader, err, errlen);
		if (ret)
			goto fail;
		loader__startup_mark(env.verbose, "attach");
		/*
		 * Our programs and trampolines exist now: the decoder needs
		 * their names to drop their frames.  The kernel told us as it
		 * made them; else kallsyms's [bpf] lines.
		 */
		ret = loader__name_images(s->loader, s->ks);
		if (ret) {
			if (env.verbose)
				p_info("BPF image names from kallsyms (%s)", strerror(-ret));
			ksyms__refresh_bpf(s->ks);
		}
		loader__startup_mark(env.verbose, "BPF image names");
	}
	if (attach)
		session__print_hooks(s, stderr, env.verbose);
	*out = s;
	return 0;
fail:
	session__close(s);
	return ret < 0 ? ret : -EINVAL;
}

void session__close(struct session *s)
{
	int m;

	if (!s)
		return;
	if (s->published_dir)
		pin__remove(s->published_dir);
	if (s->gone_fd >= 0)
		close(s->gone_fd);
	loader__close(s->loader);
	for (m = 0; m < PIN_MAP_OWNER; m++)
		if (s->pin_fds[m] >= 0)
			close(s->pin_fds[m]);
	decoder__free(s->dec);
	session_ksyms(s);	/* a read still running is waited for */
	ksyms__free(s->ks);
	snapshot__free(s->start);
	ledger__free(s->ledger);
	free(s);
}

void session__set_callback(struct session *s, session_event_fn fn, void *ctx)
{
	s->fn = fn;
	s->ctx = ctx;
}

void session__set_ledger_callback(struct session *s, session_ledger_fn fn, void *ctx)
{
	s->ledger_fn = fn;
	s->ledger_ctx = ctx;
}

int session__poll(struct session *s, int timeout_ms)
{
	int ret;

	/*
	 * What waits first: a dead holder's verdict (the caller's
	 * engine__verify()) must not wait for a kallsyms read, seconds under
	 * emulation, that the unload which killed it would start.
	 */
	ret = loader__poll(s->loader, 0);
	if (ret < 0 || (s->engine && engine__verify_wanted(s->engine)))
		return ret < 0 ? ret : 0;
	/*
	 * Without the in-band module symbols (module_load not attached),
	 * learn a module's symbols as soon as it appears in /proc/modules,
	 * not when its first frame needs them: by then it may be unloaded.
	 * With them, a frame in a module kallsyms missed still forces a read
	 * (the decoder's refresh_for()).
	 */
	if (!loader__module_syms_in_band(s->loader))
		ksyms__refresh_if_changed(s->ks);
	ret = loader__poll(s->loader, timeout_ms);

	return ret < 0 ? ret : 0;
}

uint64_t session__sync(struct session *s)
{
	struct loader_hook_stats st;
	uint64_t lost_total = 0, delta;
	int h;

	session__read_ledger(s);
	if (s->gone_fd >= 0 && s->engine)
		write_gone(s);
	if (s->follow && s->engine) {
		/*
		 * No events here: the holders the service saw die are judged
		 * against the kernel's counts now, then the counts follow the
		 * kernel's list.
		 */
		struct snapshot *now = session__kernel_state(s);
		uint64_t ts = now_mono_ns();

		if (engine__verify_wanted(s->engine))
			engine__verify(s->engine, ts, now);
		if (now)
			engine__sync_counts(s->engine, ts, now);
		snapshot__free(now);
	}
	for (h = 0; h < DMARW_HOOK_MAX && s->engine; h++) {
		loader__hook_stats(s->loader, h, &st);
		engine__set_hook(s->engine, h, loader__hook_mode(s->loader, h, NULL), st.hits,
				 st.lost);
		engine__set_hook_losses(s->engine, h, st.ledger_full, st.stack_failed,
					st.map_failed, st.sent);
		lost_total += st.lost;
	}
	delta = lost_total - s->lost_seen;
	if (delta && s->engine)
		engine__add_lost(s->engine, delta);
	s->lost_seen = lost_total;
	return delta;
}

const struct snapshot *session__start_snapshot(const struct session *s)
{
	return s->start;
}

static void add_dev(void *ctx, uint64_t kptr, const struct dmarw_dev_state *st)
{
	struct session *s = *(struct session **)ctx;
	struct snapshot *snap = ((struct snapshot **)ctx)[1];
	struct snapshot_device d = {
		.device_key = decoder__key(s->dec, kptr),
		.dev_id = st->dev_id,
		.kref = st->kref,
		.has_release = (st->flags & DMARW_F_RELEASE_FIELD) ?
			!!(st->flags & DMARW_F_HAS_RELEASE) : -1,
		.state = st->state,
	};

	memcpy(d.dev_name, st->dev_name, sizeof(d.dev_name));
	d.dev_name[sizeof(d.dev_name) - 1] = 0;
	memcpy(d.drv_name, st->drv_name, sizeof(d.drv_name));
	d.drv_name[sizeof(d.drv_name) - 1] = 0;
	if (env_device_selected(d.dev_id, d.dev_name, d.drv_name))
		snapshot__add_device(snap, &d);
}

static void add_chan(void *ctx, uint64_t kptr, const struct dmarw_chan_state *st)
{
	struct session *s = *(struct session **)ctx;
	struct snapshot *snap = ((struct snapshot **)ctx)[1];
	struct snapshot_device *d = snapshot__find_device(snap, st->dev_id);
	struct snapshot_channel c = {
		.chan_key = decoder__key(s->dec, kptr),
		.device_key = decoder__key(s->dec, st->device),
		.dev_id = st->dev_id,
		.chan_id = st->chan_id,
		.client_count = st->client_count,
		.unrecorded = st->unrecorded,
	};

	if (d || env_device_selected(c.dev_id, "", ""))
		snapshot__add_channel(snap, &c);
}

struct snapshot *session__kernel_state(struct session *s)
{
	struct snapshot *snap = snapshot__new("bpf");
	void *ctx[2] = { s, snap };
	int ret;

	if (!snap)
		return NULL;
	if (s->follow) {
		/* the service's maps know only what it saw: the kernel's list */
		s->walk = snap;
		ret = loader__snapshot(s->loader);
		s->walk = NULL;
		if (ret) {
			snapshot__free(snap);
			return NULL;
		}
		filter_snapshot(snap);
		return snap;
	}
	/* devices first: channels are filtered by their device's names */
	loader__for_each_dev(s->loader, add_dev, ctx);
	loader__for_each_chan(s->loader, add_chan, ctx);
	return snap;
}

void session__print_hooks(const struct session *s, FILE *f, bool all)
{
	const char *why;
	int h;

	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		enum rw_hook_mode mode = loader__hook_mode(s->loader, h, &why);

		if (mode != RW_HOOK_UNAVAILABLE) {
			if (all)
				fprintf(f, "dmarefwatch: hook %s: %s\n", loader__hook_func(h),
					rw_hook_mode_name(mode));
		} else {
			fprintf(f, "dmarefwatch: hook %s: unavailable (%s); costs: %s\n",
				loader__hook_func(h), why, loader__hook_cost(h));
		}
	}
}

int session__publish(struct session *s, const char *dir, char *err, size_t errlen)
{
	struct dmarw_pin_owner o = { .stacks = env.stacks };
	int fds[PIN_MAP_NR_BPF], h, ret;

	for (h = 0; h < DMARW_HOOK_MAX; h++)
		o.hook_mode[h] = (uint8_t)loader__hook_mode(s->loader, h, NULL);
	o.max_references = loader__ledger_capacity(s->loader, NULL);
	loader__map_fds(s->loader, fds);
	ret = pin__publish(dir, fds, &o, &s->gone_fd, err, errlen);
	if (!ret)
		s->published_dir = dir;
	return ret;
}

int session__follow(struct session *s, const char *dir, const struct dmarw_pin_owner *o,
		    char *err, size_t errlen)
{
	int ret = pin__open(dir, s->pin_fds, err, errlen);

	if (ret)
		return ret;
	loader__follow(s->loader, s->pin_fds, o);
	s->owner = *o;
	s->follow = true;
	s->ledger_mode = true;
	return 0;
}

const struct dmarw_pin_owner *session__followed(const struct session *s)
{
	return s && s->follow ? &s->owner : NULL;
}

int session__adopt_service(struct session *s, const char *dir, char *err, size_t errlen)
{
	int fds[PIN_MAP_OWNER], m, n;

	n = pin__open(dir, fds, err, errlen);
	if (n)
		return n;
	n = collect_ledger(s, fds[PIN_MAP_LEDGER]);
	for (m = 0; m < PIN_MAP_OWNER; m++)
		close(fds[m]);
	if (n < 0) {
		snprintf(err, errlen, "cannot read the service's ledger: %s", strerror(-n));
		return n;
	}
	if (s->engine)
		engine__adopt_ledger(s->engine, now_mono_ns(), s->ledger);
	return (int)s->ledger->nr;
}
