/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building records: kernel stacks (with the kretprobe and arm64 fix-ups),
 * the hook counters, ring-buffer records, the state maps' accounting and the
 * entry-to-exit hand-over of a hooked function's state.
 */
#ifndef __DMARW_RECORD_BPF_H
#define __DMARW_RECORD_BPF_H

#include "maps.bpf.h"
#include "kread.bpf.h"

static const struct dmarw_entry_stack empty_stack;

/* The hooks that can run as kretprobes: their entries keep a stack. */
static const __u32 tramp_hooks[] = {
	DMARW_HOOK_CHAN_GET, DMARW_HOOK_CHAN_PUT, DMARW_HOOK_REQUEST_CHANNEL,
	DMARW_HOOK_REQUEST_CHAN, DMARW_HOOK_DEV_REGISTER, DMARW_HOOK_DEV_UNREGISTER,
};
#define TRAMP_SPAN	64	/* the trampoline is one short asm routine */
#define FUNC_SPAN	8192	/* a call site lies this close to its entry */

/*
 * @ips (@nr frames) ends at kretprobe_trampoline: the frame before it is a
 * call site in a function F whose return address the kretprobe replaced.
 * F's entry stack (saved by its kprobe, which runs before the kretprobe's
 * own handler: the loader attaches the kretprobe first) has the callers;
 * they replace the trampoline.  F is the hook, other than @self, whose entry
 * address lies just below the call site.  No such entry: cut at the
 * trampoline rather than show what the unwinder made of it.
 */
static __always_inline void stack_splice(__u64 *ips, __u32 *nr, __u32 self)
{
	struct inflight_key key = { .pid_tgid = bpf_get_current_pid_tgid() };
	struct dmarw_entry_stack *o, *outer = NULL;
	__u32 i, at, n = *nr;
	__u64 site;

	if (!kretprobe_tramp)
		return;
	for (at = 0; at < DMARW_MAX_STACK; at++) {
		if (at >= n)
			return;
		if (ips[at] - kretprobe_tramp < TRAMP_SPAN)
			break;
	}
	if (at == 0 || at >= DMARW_MAX_STACK)
		return;
	*nr = at;
	site = ips[(at - 1) & (DMARW_MAX_STACK - 1)];
#pragma unroll
	for (i = 0; i < sizeof(tramp_hooks) / sizeof(tramp_hooks[0]); i++) {
		key.hook = tramp_hooks[i];
		if (key.hook == self)
			continue;
		o = bpf_map_lookup_elem(&entry_stacks, &key);
		if (o && o->nr > 1 && site - o->ips[0] < FUNC_SPAN) {
			outer = o;
			break;
		}
	}
	if (!outer)
		return;
	for (i = 1; i < DMARW_MAX_STACK; i++) {
		if (i >= outer->nr || at >= DMARW_MAX_STACK)
			break;
		ips[at & (DMARW_MAX_STACK - 1)] = outer->ips[i];
		at++;
	}
	*nr = at;
}

#ifdef __TARGET_ARCH_arm64
/*
 * arm64: at a function's first instruction the caller's return address is
 * only in the link register, and the frame-pointer unwind from a kprobe
 * there goes from pc to the caller's caller.  The kprobe entry programs
 * note LR here (per CPU: tracing programs do not nest on one CPU) and
 * stack_capture() puts it back as the second frame.
 */

static __always_inline void kentry_set(__u64 lr)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&kentry_lr, &zero);

	if (v)
		*v = lr;
}
#define KENTRY_BEGIN(ctx)	kentry_set(PT_REGS_RET((struct pt_regs *)(ctx)))
#define KENTRY_END()		kentry_set(0)

static __always_inline void stack_add_lr(__u64 *ips, __u32 *nr)
{
	__u32 zero = 0, i;
	__u64 *lr = bpf_map_lookup_elem(&kentry_lr, &zero);

	if (!lr || !*lr || *nr < 1 || *nr > DMARW_MAX_STACK)
		return;
	if (*nr > 1 && ips[1] == *lr)
		return;
#pragma unroll
	for (i = DMARW_MAX_STACK - 1; i > 1; i--)
		ips[i] = ips[i - 1];
	ips[1] = *lr;
	if (*nr < DMARW_MAX_STACK)
		*nr = *nr + 1;
}
#else
#define KENTRY_BEGIN(ctx)
#define KENTRY_END()
static __always_inline void stack_add_lr(__u64 *ips, __u32 *nr) {}
#endif

/*
 * The kernel stack of this program's context, as the frames a reader needs;
 * a failure is counted in @st (may be NULL) and returned as true.
 */
static __always_inline bool stack_capture(void *ctx, __u64 *ips, __u32 *nr, __u32 hook,
					  struct dmarw_hook_stats *st)
{
	long n = bpf_get_stack(ctx, ips, DMARW_MAX_STACK * sizeof(__u64), 0);

	if (n < 0 && st)
		st->stack_failed++;
	*nr = n > 0 ? n / sizeof(__u64) : 0;
	stack_add_lr(ips, nr);
	stack_splice(ips, nr, hook);
	return n < 0;
}

/* vmlinux BTF also has an ISA-DMA "struct dma_chan" (kernel/dma.c); only the
 * dmaengine one has the fields read below, so CO-RE picks it. */

/* The hook's counters (this CPU's), without counting a run. */
static __always_inline struct dmarw_hook_stats *hook_stats_of(__u32 hook)
{
	return bpf_map_lookup_elem(&hook_stats, &hook);
}

/*
 * Counts a run of @hook; returns its counters.  Never NULL in fact (a
 * per-CPU array, an index in range), but the verifier cannot know: the
 * big programs return at once on NULL, or every path after it would be
 * walked twice, with and without the counters.
 */
static __always_inline struct dmarw_hook_stats *hook_hit(__u32 hook)
{
	struct dmarw_hook_stats *st = hook_stats_of(hook);

	if (st)
		st->hits++;
	return st;
}

static __always_inline void entry_stack_save(void *ctx, __u32 hook)
{
	struct inflight_key key = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };
	struct dmarw_entry_stack *es;

	struct dmarw_hook_stats *st;

	if (!capture_stack)
		return;
	st = hook_stats_of(hook);
	es = bpf_map_update_elem(&entry_stacks, &key, &empty_stack, BPF_ANY) ? NULL :
	     bpf_map_lookup_elem(&entry_stacks, &key);
	if (!es) {
		if (st)
			st->map_failed++;
		return;
	}
	stack_capture(ctx, es->ips, &es->nr, hook, st);
}

/* Into @ev, and forgotten. */
static __always_inline void entry_stack_take(__u32 hook, struct dmarw_event *ev)
{
	struct inflight_key key = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };
	struct dmarw_entry_stack *es;
	int i;

	if (!capture_stack)
		return;
	es = bpf_map_lookup_elem(&entry_stacks, &key);
	if (!es)
		return;
	ev->nr_stack = es->nr < DMARW_MAX_STACK ? es->nr : DMARW_MAX_STACK;
	/* both are BPF memory: plain copies, far cheaper than a helper call */
#pragma unroll
	for (i = 0; i < DMARW_MAX_STACK; i++)
		ev->stack[i] = es->ips[i];
	bpf_map_delete_elem(&entry_stacks, &key);
}

/* The ring buffer was full: nobody needs the stack any more. */
static __always_inline void entry_stack_forget(__u32 hook)
{
	struct inflight_key key = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };

	if (capture_stack)
		bpf_map_delete_elem(&entry_stacks, &key);
}

/* Where the stack of a record comes from (event_begin()). */
enum ev_stack {
	EV_STACK_NONE,		/* none: requests (the get has it), walks, unload, unbind */
	EV_STACK_HERE,		/* taken now, in this program */
	EV_STACK_ENTRY,		/* the one saved at the hook's entry (gets, puts,
				   and exits that run as kretprobes) */
};

static __always_inline struct dmarw_event *
event_begin(void *ctx, __u32 type, __u32 hook, struct dma_device *device,
	    struct dma_chan *chan, struct dmarw_hook_stats *st, enum ev_stack stack)
{
	struct dmarw_event *ev;
	struct device *dev;
	__u64 id;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		if (st)
			st->lost++;
		if (stack == EV_STACK_ENTRY)
			entry_stack_forget(hook);
		return NULL;
	}
	id = bpf_get_current_pid_tgid();
	ev->ts_ns = bpf_ktime_get_ns();
	ev->device = (__u64)device;
	ev->chan = (__u64)chan;
	ev->ret = 0;
	ev->type = type;
	ev->hook = hook;
	ev->cpu = bpf_get_smp_processor_id();
	ev->pid = (__u32)id;
	ev->tgid = id >> 32;
	ev->flags = dev_flags(device, false);
	ev->dev_id = device ? BPF_CORE_READ(device, dev_id) : -1;
	ev->chan_id = chan ? BPF_CORE_READ(chan, chan_id) : -1;
	ev->client_count_before = -1;
	ev->client_count_after = -1;
	ev->kref_before = -1;
	ev->kref_after = -1;
	ev->nr_stack = 0;
	ev->dev_in_use = -1;
	ev->ledger_id = 0;
	ev->ledger_refs = 0;
	ev->__pad = 0;
	__builtin_memset(&ev->prev, 0, sizeof(ev->prev));
	__builtin_memset(&ev->holder_client, 0, sizeof(ev->holder_client));
	if (st)
		st->sent++;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	ev->dev_name[0] = 0;
	ev->drv_name[0] = 0;
	if (device) {
		dev = READ_KPTR(device, dev);
		if (dev) {
			bpf_probe_read_kernel_str(ev->dev_name, sizeof(ev->dev_name),
						  READ_KPTR(dev, kobj.name));
			bpf_probe_read_kernel_str(ev->drv_name, sizeof(ev->drv_name),
						  READ_KPTR2(dev, driver, name));
		}
	}
	if (stack == EV_STACK_ENTRY)
		entry_stack_take(hook, ev);
	else if (stack == EV_STACK_HERE && capture_stack)
		stack_capture(ctx, ev->stack, &ev->nr_stack, hook, st);
	return ev;
}

/*
 * Wake the reader only when a quarter of the buffer is waiting: one wakeup
 * per record costs more than the record itself.  The frontend drains the
 * buffer on its poll timeout anyway, so nothing waits longer than that.
 */
static __always_inline void event_submit(struct dmarw_event *ev)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= RINGBUF_SIZE / 4 ?
		      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;

	bpf_ringbuf_submit(ev, flags);
}

/*
 * The device's names, for the state map: dev_account() has recorded the
 * rest, and only an event read them.  An event whose device may be freed
 * carries no names and leaves the last ones in place.
 */
static __always_inline void dev_names(const struct dmarw_event *ev)
{
	struct dmarw_dev_state *ds;
	__u64 key = ev->device;

	if (!key || !ev->dev_name[0])
		return;
	ds = bpf_map_lookup_elem(&dev_state, &key);
	if (!ds)
		return;
	__builtin_memcpy(ds->dev_name, ev->dev_name, sizeof(ds->dev_name));
	__builtin_memcpy(ds->drv_name, ev->drv_name, sizeof(ds->drv_name));
}

/* What a dma_chan_get()/dma_chan_put() did, for chan_account(). */
enum chan_op {
	CHAN_OP_GET,			/* dma_chan_get() took a reference */
	CHAN_OP_FAILED_GET,		/* dma_chan_get() returned an error */
	CHAN_OP_PUT,			/* dma_chan_put() dropped a reference */
	CHAN_OP_NOOP_PUT,		/* dma_chan_put() on client_count 0: ignored */
};

/* The channel's state entry, made if missing; NULL (counted in @st) if it cannot be. */
static __always_inline struct dmarw_chan_state *chan_state_get(__u64 chan,
							       struct dmarw_hook_stats *st)
{
	static const struct dmarw_chan_state zero;
	struct dmarw_chan_state *cs = bpf_map_lookup_elem(&chan_state, &chan);

	if (cs)
		return cs;
	bpf_map_update_elem(&chan_state, &chan, &zero, BPF_NOEXIST);
	cs = bpf_map_lookup_elem(&chan_state, &chan);
	if (!cs && st)
		st->map_failed++;
	return cs;
}

/*
 * Per-channel counters, kept whether or not the event reaches userspace.
 * Returns the channel's state (NULL if it could not be kept).
 */
static __always_inline struct dmarw_chan_state *
chan_account(__u64 chan, __u64 device, __s32 dev_id, __s32 chan_id, __s32 client_count,
	     __u64 ts, enum chan_op op, struct dmarw_hook_stats *st)
{
	struct dmarw_chan_state *cs = chan_state_get(chan, st);

	if (!cs)
		return NULL;
	cs->device = device;
	cs->dev_id = dev_id;
	cs->chan_id = chan_id;
	cs->client_count = client_count;
	cs->last_ts_ns = ts;
	switch (op) {
	case CHAN_OP_GET:
		cs->gets++;
		break;
	case CHAN_OP_FAILED_GET:
		cs->failed_gets++;
		break;
	case CHAN_OP_PUT:
		cs->puts++;
		break;
	case CHAN_OP_NOOP_PUT:
		cs->noop_puts++;
		break;
	}
	return cs;
}

/* The device's state entry, made if missing; NULL if it cannot be. */
static __always_inline struct dmarw_dev_state *dev_state_get(__u64 device)
{
	static const struct dmarw_dev_state zero;
	struct dmarw_dev_state *ds;

	if (!device)
		return NULL;
	ds = bpf_map_lookup_elem(&dev_state, &device);
	if (ds)
		return ds;
	bpf_map_update_elem(&dev_state, &device, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&dev_state, &device);
}

/* Device state into @ds (NULL: none could be kept), whether or not the event reaches userspace. */
static __always_inline void dev_state_set(struct dmarw_dev_state *ds, __s32 dev_id, __s32 kref,
					  __u32 flags, __u32 state, __u64 ts)
{
	if (!ds)
		return;
	ds->dev_id = dev_id;
	ds->kref = kref;
	ds->flags = flags;
	ds->last_ts_ns = ts;
	if (state != DMARW_DEV_UNKNOWN)
		ds->state = state;
	if (state >= DMARW_DEV_UNREGISTERING)
		devs_leaving = true;
}

static __always_inline void dev_account(__u64 device, __s32 dev_id, __s32 kref,
					__u32 flags, __u32 state, __u64 ts)
{
	dev_state_set(dev_state_get(device), dev_id, kref, flags, state, ts);
}

/* What a hooked function's entry hands to its exit, read now (@btf: see KREAD()). */
static __always_inline void inflight_fill(struct inflight *val, struct dma_chan *chan,
					  struct dma_device *device, __s32 cc, __s32 kref,
					  bool btf)
{
	*val = (struct inflight){
		.chan = (__u64)chan, .device = (__u64)device,
		.client_count = cc, .kref = kref,
		.dev_id = device ? KREAD(btf, device, dev_id) : -1,
		.chan_id = chan ? KREAD(btf, chan, chan_id) : -1,
		.flags = dev_flags(device, btf),
	};
}

/* @val for @hook's exit in this task; a failure is counted. */
static __always_inline void inflight_store(__u32 hook, const struct inflight *val)
{
	struct inflight_key key = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };
	struct dmarw_hook_stats *st;

	if (bpf_map_update_elem(&inflight, &key, val, BPF_ANY)) {
		st = hook_stats_of(hook);
		if (st)
			st->map_failed++;
	}
}

static __always_inline void inflight_save(__u32 hook, struct dma_chan *chan,
					  struct dma_device *device, __s32 cc,
					  __s32 kref)
{
	struct inflight val;

	inflight_fill(&val, chan, device, cc, kref, false);
	inflight_store(hook, &val);
}

static __always_inline bool inflight_take(__u32 hook, struct inflight *out)
{
	struct inflight_key key = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };
	struct inflight *val = bpf_map_lookup_elem(&inflight, &key);

	if (!val)
		return false;
	*out = *val;
	bpf_map_delete_elem(&inflight, &key);
	return true;
}

static __always_inline void emit_inferred_release(void *ctx, __u32 hook,
						  struct inflight *in,
						  struct dmarw_hook_stats *st)
{
	struct dmarw_event *ev;

	/* the device may be freed: nothing is read from it any more */
	dev_account(in->device, in->dev_id, 0, in->flags, DMARW_DEV_RELEASED,
		    bpf_ktime_get_ns());
	ev = event_begin(ctx, DMARW_EV_DEV_RELEASE, hook, NULL, NULL, st, EV_STACK_HERE);
	if (!ev)
		return;
	ev->device = in->device;
	ev->dev_id = in->dev_id;
	ev->flags = in->flags | DMARW_F_RELEASE_INFERRED;
	ev->kref_before = 1;
	ev->kref_after = 0;
	event_submit(ev);
}

#endif /* __DMARW_RECORD_BPF_H */
