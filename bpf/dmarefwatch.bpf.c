// SPDX-License-Identifier: GPL-2.0
/*
 * dmarefwatch: follow dmaengine channel and device references.
 *
 * Every hook has an fentry/fexit program and a kprobe/kretprobe twin; the
 * loader (src/bpf_loader.c) keeps one of the two per hook through
 * bpf_program__set_autoload().  Kernel truth (client_count, the device kref,
 * device_release) is read with CO-RE at every event; per-channel and
 * per-device state lives in maps so the final state stays exact when the
 * ring buffer overflows.
 *
 * This file holds the hooks and defines the shared maps (bpf/maps.bpf.h);
 * bpf/record.bpf.h builds their records, bpf/kread.bpf.h reads the kernel.
 * The startup walk (bpf/snapshot.bpf.c) and the module symbol walk
 * (bpf/modsyms.bpf.c) are linked into the same object by the Makefile.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "dmarefwatch.h"
#define DMARW_MAPS_HERE
#include "ledger.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * walk_channels(), verified once rather than on every path of every
 * program that walks (64 loop steps on each: most of the start-up's
 * verification time).  Returns in_use << 32 | clients, each -1 when
 * unknown.
 */
DMARW_VERIFIED_ONCE __u64 device_channels(__u64 device)
{
	__s32 clients, in_use;

	walk_channels((struct dma_device *)device, &clients, &in_use);
	return (__u64)(__u32)in_use << 32 | (__u32)clients;
}

static __always_inline void walk_device(struct dma_device *device, __s32 *clients,
					__s32 *in_use)
{
	__u64 r = device_channels(kaddr(device));

	*clients = (__s32)(__u32)r;
	*in_use = (__s32)(__u32)(r >> 32);
}

/* ---- dma_chan_get(struct dma_chan *chan) -> int ---- */

/*
 * @btf: @chan is a BTF pointer (fentry, fexit), whose fields the programs
 * load directly (KREAD()); the kprobe twins read them with the helper.
 * The fentry only notes what the exit compares with: the exit writes the
 * ledger entry, stack included, once the get took its reference.  A
 * kretprobe's stack may end at the trampoline (before 5.13), so the kprobe
 * writes it here and the exit completes or drops it.
 */
static __always_inline void chan_get_enter(void *ctx, struct dma_chan *chan, bool btf)
{
	struct dma_device *device = KREAD_KPTR(btf, chan, device);
	__s32 cc = KREAD(btf, chan, client_count);
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight in;

	inflight_fill(&in, chan, device, cc, read_kref(device, btf), btf);
	if (!btf) {
		struct inflight stale;

		/* a get whose kretprobe was missed left its entry: free again */
		if (chan_call_take(CALL_GET, chan_calls[CALL_GET].pid_tgid, &stale) &&
		    stale.ledger == LEDGER_WRITTEN)
			ledger_release(stale.idx);
		ledger_begin(ctx, &in, id);
	}
	chan_call_store(CALL_GET, id, &in);
}

/* @arg: the fexit's argument (@btf true), else NULL: the entry's pointers are read */
static __always_inline void chan_get_exit(void *ctx, struct dma_chan *arg, long ret, bool btf)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_CHAN_GET);
	struct dmarw_chan_state *cs;
	struct dmarw_dev_state *ds;
	struct dma_device *device, *rdev;
	struct dmarw_holder *h = NULL;
	struct dmarw_event *ev;
	struct dma_chan *chan, *rchan;
	struct inflight in;
	__s32 cc, kref, sum, in_use = -1;
	__u64 ts = bpf_ktime_get_ns(), pid_tgid = bpf_get_current_pid_tgid();
	bool lost, send, walk;

	if (!st || !chan_call_take(CALL_GET, pid_tgid, &in))
		return;
	chan = (void *)in.chan;
	device = (void *)in.device;
	/* the same channel and device, as pointers the program may load from */
	rchan = btf ? arg : chan;
	rdev = btf ? KREAD_KPTR(btf, rchan, device) : device;
	cc = KREAD(btf, rchan, client_count);
	kref = read_kref(rdev, btf);
	/* one dev_state lookup for the kref check, the accounting, the names and the trouble check */
	ds = dev_state_get(in.device);
	walk = kref_needs_walk(ds, in.kref, kref, in.client_count, cc);
	cs = chan_account(in.chan, in.device, in.dev_id, in.chan_id, cc, ts,
			  ret ? CHAN_OP_FAILED_GET : CHAN_OP_GET, st);
	dev_state_set(ds, in.dev_id, kref, in.flags, DMARW_DEV_UNKNOWN, ts);
	if (btf && !ret)
		h = ledger_write(ctx, &in, pid_tgid, cs ? cs->ledger_slots : 0, ds, ts, st);
	h = ledger_end_get(&in, ret, cc, cs, h);
	/* from the id, not the pointer: the verifier refuses pointer arithmetic */
	lost = !ret && !(h ? h->id : 0);
	send = send_balanced || ret || lost || dev_troubled_ds(ds, rdev, btf);
	if (send || walk) {
		walk_device(device, &sum, &in_use);
		send = send || kref_wrong(kref, in_use, in.flags);
	}
	/* a balanced get is in the ledger: nothing to send */
	if (!send)
		return;
	/* without an entry the stack is the record's: here, or the kprobe's entry's */
	ev = event_begin(ctx, DMARW_EV_CHAN_GET, DMARW_HOOK_CHAN_GET, device, chan, st,
			 h ? EV_STACK_NONE : btf ? EV_STACK_HERE : EV_STACK_ENTRY);
	if (!ev)
		return;
	if (h)
		holder_to_event(ev, h);
	ev->flags |= DMARW_F_LEDGER | (lost ? DMARW_F_LEDGER_LOST : 0);
	ev->ret = (int)ret;
	ev->client_count_before = in.client_count;
	ev->client_count_after = cc;
	ev->kref_before = in.kref;
	ev->kref_after = kref;
	ev->dev_in_use = in_use;
	dev_names(ev);
	event_submit(ev);
}

SEC("fentry/dma_chan_get")
int BPF_PROG(fentry_dma_chan_get, struct dma_chan *chan)
{
	chan_get_enter(ctx, chan, true);
	return 0;
}

SEC("fexit/dma_chan_get")
int BPF_PROG(fexit_dma_chan_get, struct dma_chan *chan, int ret)
{
	chan_get_exit(ctx, chan, ret, true);
	return 0;
}

SEC("kprobe/dma_chan_get")
int BPF_KPROBE(kprobe_dma_chan_get, struct dma_chan *chan)
{
	KENTRY_BEGIN(ctx);
	chan_get_enter(ctx, chan, false);
	KENTRY_END();
	return 0;
}

SEC("kretprobe/dma_chan_get")
int BPF_KRETPROBE(kretprobe_dma_chan_get, int ret)
{
	chan_get_exit(ctx, NULL, ret, false);
	return 0;
}

/* ---- dma_chan_put(struct dma_chan *chan) ---- */

/*
 * Only a put that will be sent takes a stack: a balanced one is in the
 * ledger already (its reference's get took the stack).  An fexit takes it
 * at the exit, where whether it is sent is known.  A kretprobe's may end
 * at the trampoline, so the kprobe takes it at the entry when what the
 * entry sees says it will be sent (client_count 0, a device going away); a
 * kref found wrong at the exit is sent with the exit's own.
 */
/* A put (client_count @cc, kref @kref at its entry) on a @troubled device is sent. */
static __always_inline bool put_must_send(__s32 cc, __s32 kref, bool troubled)
{
	return send_balanced || cc <= 0 || (kref >= 0 && kref <= 1) || troubled;
}

static __always_inline void chan_put_enter(void *ctx, struct dma_chan *chan, bool btf)
{
	struct dma_device *device = KREAD_KPTR(btf, chan, device);
	__s32 cc = KREAD(btf, chan, client_count);
	__s32 kref = read_kref(device, btf);
	struct inflight in;

	inflight_fill(&in, chan, device, cc, kref, btf);
	in.stack_saved = !btf && put_must_send(cc, kref, dev_troubled(device, btf));
	if (in.stack_saved)
		entry_stack_save(ctx, DMARW_HOOK_CHAN_PUT);
	chan_call_store(CALL_PUT, bpf_get_current_pid_tgid(), &in);
}

/* @arg: the fexit's argument (@btf true), else NULL */
static __always_inline void chan_put_exit(void *ctx, struct dma_chan *arg, bool btf)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_CHAN_PUT);
	struct dmarw_release prev = {};
	struct dmarw_chan_state *cs;
	struct dmarw_dev_state *ds;
	struct dma_device *device;
	struct dmarw_event *ev;
	struct dma_chan *chan;
	struct inflight in;
	bool released = false, send, walk = false;
	__s32 kref_after, cc_after, sum, in_use = -1;
	__u64 ts = bpf_ktime_get_ns(), id = 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!st || !chan_call_take(CALL_PUT, pid_tgid, &in))
		return;
	chan = (void *)in.chan;
	device = (void *)in.device;
	/*
	 * When this put dropped the last device reference the device and its
	 * channels may be freed already: what we read after it is only used
	 * to see that the kref changed.
	 */
	kref_after = read_kref(device, false);
	if (in.kref == 1 && in.client_count >= 1 &&
	    (in.client_count == 1 || kref_after != 1))
		released = true;
	/* the device's pointer is only its key here: nothing is read from it */
	ds = dev_state_get(in.device);
	if (released) {
		cc_after = in.client_count - 1;
		kref_after = 0;
		in_use = 0;
		send = true;
	} else {
		/* not released: the channel is still there */
		cc_after = KREAD(btf, btf ? arg : chan, client_count);
		/*
		 * A balanced put is in the ledger: nothing to send.  The entry
		 * decided for what it could see (client_count 0, a device going
		 * away: dma_list_mutex is held from there to here).
		 */
		send = in.stack_saved ||
		       (btf && put_must_send(in.client_count, in.kref,
					     dev_troubled_ds(ds, KREAD_KPTR(btf, arg, device), btf)));
		walk = send || kref_needs_walk(ds, in.kref, kref_after, in.client_count, cc_after);
	}
	/*
	 * Before the walk, which reads no state: @ds not kept across it keeps
	 * the program within what the verifier explores.
	 */
	dev_state_set(ds, in.dev_id, kref_after, in.flags,
		      released ? DMARW_DEV_RELEASED : DMARW_DEV_UNKNOWN, ts);
	if (walk) {
		walk_device(device, &sum, &in_use);
		send = send || kref_wrong(kref_after, in_use, in.flags);
	}
	cs = chan_account(in.chan, in.device, in.dev_id, in.chan_id, cc_after, ts,
			  in.client_count == 0 ? CHAN_OP_NOOP_PUT : CHAN_OP_PUT, st);
	if (cs) {
		prev = cs->last_release;
		if (in.client_count > 0)
			id = ledger_put(in.chan, in.client_count, cs, pid_tgid, ts);
	}
	if (send) {
		ev = event_begin(ctx, DMARW_EV_CHAN_PUT, DMARW_HOOK_CHAN_PUT,
				 released ? NULL : device, released ? NULL : chan, st,
				 in.stack_saved ? EV_STACK_ENTRY : EV_STACK_HERE);
	} else {
		ev = NULL;
	}
	if (ev) {
		/* identity comes from the entry when the device is gone */
		ev->device = in.device;
		ev->chan = in.chan;
		ev->dev_id = in.dev_id;
		ev->chan_id = in.chan_id;
		ev->flags = in.flags | DMARW_F_LEDGER;
		ev->client_count_before = in.client_count;
		ev->client_count_after = cc_after;
		ev->kref_before = in.kref;
		ev->kref_after = kref_after;
		ev->dev_in_use = in_use;
		ev->ledger_id = id;
		if (in.client_count <= 0 && prev.ts_ns) {
			ev->prev = prev;
			ev->flags |= DMARW_F_PREV_RELEASE;
		}
		if (!released)
			dev_names(ev);
		event_submit(ev);
	}
	if (released && !release_hooked)
		emit_inferred_release(ctx, DMARW_HOOK_CHAN_PUT, &in, st);
}

SEC("fentry/dma_chan_put")
int BPF_PROG(fentry_dma_chan_put, struct dma_chan *chan)
{
	chan_put_enter(ctx, chan, true);
	return 0;
}

SEC("fexit/dma_chan_put")
int BPF_PROG(fexit_dma_chan_put, struct dma_chan *chan)
{
	chan_put_exit(ctx, chan, true);
	return 0;
}

SEC("kprobe/dma_chan_put")
int BPF_KPROBE(kprobe_dma_chan_put, struct dma_chan *chan)
{
	KENTRY_BEGIN(ctx);
	chan_put_enter(ctx, chan, false);
	KENTRY_END();
	return 0;
}

SEC("kretprobe/dma_chan_put")
int BPF_KRETPROBE(kretprobe_dma_chan_put)
{
	chan_put_exit(ctx, NULL, false);
	return 0;
}

/* ---- dma_async_device_register(struct dma_device *device) -> int ---- */

static __always_inline void dev_register_exit(void *ctx, struct dma_device *device, long ret,
					     bool kretprobe)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_DEV_REGISTER);
	struct dmarw_event *ev;
	__s32 in_use;

	if (!st)
		return;
	if (!ret)
		dev_account((__u64)device, BPF_CORE_READ(device, dev_id), read_kref(device, false),
			    dev_flags(device, false), DMARW_DEV_REGISTERED, bpf_ktime_get_ns());
	/* a kretprobe's own stack may end at the trampoline: take the entry's */
	ev = event_begin(ctx, DMARW_EV_DEV_REGISTER, DMARW_HOOK_DEV_REGISTER,
			 device, NULL, st, kretprobe ? EV_STACK_ENTRY : EV_STACK_HERE);
	if (!ev)
		return;
	ev->ret = (int)ret;
	ev->kref_after = read_kref(device, false);
	/*
	 * Channels in use are not read here: the exit runs after
	 * dma_list_mutex is released, so they are no consistent view with the
	 * kref (check_kref() counts the model's instead).
	 */
	walk_device(device, &ev->client_count_after, &in_use);
	if (!ret)
		dev_names(ev);
	event_submit(ev);
}

SEC("fexit/dma_async_device_register")
int BPF_PROG(fexit_dma_async_device_register, struct dma_device *device, int ret)
{
	dev_register_exit(ctx, device, ret, false);
	return 0;
}

SEC("kprobe/dma_async_device_register")
int BPF_KPROBE(kprobe_dma_async_device_register, struct dma_device *device)
{
	KENTRY_BEGIN(ctx);
	entry_stack_save(ctx, DMARW_HOOK_DEV_REGISTER);
	inflight_save(DMARW_HOOK_DEV_REGISTER, NULL, device, 0, 0);
	KENTRY_END();
	return 0;
}

SEC("kretprobe/dma_async_device_register")
int BPF_KRETPROBE(kretprobe_dma_async_device_register, int ret)
{
	struct inflight in;

	if (inflight_take(DMARW_HOOK_DEV_REGISTER, &in))
		dev_register_exit(ctx, (void *)in.device, ret, true);
	return 0;
}

/* ---- dma_async_device_unregister(struct dma_device *device) ---- */

static __always_inline void dev_unregister_enter(void *ctx, struct dma_device *device,
						bool kprobe)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_DEV_UNREGISTER);
	struct dmarw_event *ev;
	__s32 clients, in_use;
	__s32 kref = read_kref(device, false);

	if (!st)
		return;
	if (kprobe)
		entry_stack_save(ctx, DMARW_HOOK_DEV_UNREGISTER);
	inflight_save(DMARW_HOOK_DEV_UNREGISTER, NULL, device, 0, kref);
	dev_account((__u64)device, BPF_CORE_READ(device, dev_id), kref, dev_flags(device, false),
		    DMARW_DEV_UNREGISTERING, bpf_ktime_get_ns());
	ledger_send_device(device);
	ev = event_begin(ctx, DMARW_EV_DEV_UNREGISTER_BEGIN, DMARW_HOOK_DEV_UNREGISTER,
			 device, NULL, st, EV_STACK_HERE);
	if (!ev)
		return;
	walk_device(device, &clients, &in_use);
	ev->client_count_before = clients;
	ev->dev_in_use = in_use;
	ev->kref_before = kref;
	dev_names(ev);
	event_submit(ev);
}

static __always_inline void dev_unregister_exit(void *ctx, bool kretprobe)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_DEV_UNREGISTER);
	struct dma_device *device;
	struct dmarw_event *ev;
	struct inflight in;
	bool released;

	if (!st || !inflight_take(DMARW_HOOK_DEV_UNREGISTER, &in))
		return;
	device = (void *)in.device;
	/* the registration reference was the last one: the device is gone */
	released = in.kref == 1;
	dev_account(in.device, in.dev_id, released ? 0 : read_kref(device, false), in.flags,
		    DMARW_DEV_UNREGISTERED, bpf_ktime_get_ns());
	ev = event_begin(ctx, DMARW_EV_DEV_UNREGISTER_END, DMARW_HOOK_DEV_UNREGISTER,
			 released ? NULL : device, NULL, st,
			 kretprobe ? EV_STACK_ENTRY : EV_STACK_HERE);
	if (ev) {
		ev->device = in.device;
		ev->dev_id = in.dev_id;
		ev->flags = in.flags;
		ev->kref_before = in.kref;
		ev->kref_after = released ? 0 : read_kref(device, false);
		if (!released)
			walk_device(device, &ev->client_count_after, &ev->dev_in_use);
		dev_names(ev);
		event_submit(ev);
	}
	if (released && !release_hooked)
		emit_inferred_release(ctx, DMARW_HOOK_DEV_UNREGISTER, &in, st);
}

SEC("fentry/dma_async_device_unregister")
int BPF_PROG(fentry_dma_async_device_unregister, struct dma_device *device)
{
	dev_unregister_enter(ctx, device, false);
	return 0;
}

SEC("fexit/dma_async_device_unregister")
int BPF_PROG(fexit_dma_async_device_unregister, struct dma_device *device)
{
	dev_unregister_exit(ctx, false);
	return 0;
}

SEC("kprobe/dma_async_device_unregister")
int BPF_KPROBE(kprobe_dma_async_device_unregister, struct dma_device *device)
{
	KENTRY_BEGIN(ctx);
	dev_unregister_enter(ctx, device, true);
	KENTRY_END();
	return 0;
}

SEC("kretprobe/dma_async_device_unregister")
int BPF_KRETPROBE(kretprobe_dma_async_device_unregister)
{
	dev_unregister_exit(ctx, true);
	return 0;
}

/* ---- dma_device_release(struct kref *ref): the kref release ---- */

static __always_inline void dev_release_enter(void *ctx, struct kref *ref)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_DEV_RELEASE);
	struct dma_device *device;
	struct dmarw_event *ev;
	__s32 clients, in_use;

	if (!st)
		return;
	device = (void *)ref - bpf_core_field_offset(struct dma_device, ref);
	dev_account((__u64)device, BPF_CORE_READ(device, dev_id), read_kref(device, false),
		    dev_flags(device, false), DMARW_DEV_RELEASED, bpf_ktime_get_ns());
	ev = event_begin(ctx, DMARW_EV_DEV_RELEASE, DMARW_HOOK_DEV_RELEASE, device, NULL, st,
			 EV_STACK_HERE);
	if (!ev)
		return;
	walk_device(device, &clients, &in_use);
	ev->client_count_before = clients;
	ev->dev_in_use = in_use;
	ev->kref_before = read_kref(device, false);
	ev->kref_after = ev->kref_before;
	dev_names(ev);
	event_submit(ev);
}

SEC("fentry/dma_device_release")
int BPF_PROG(fentry_dma_device_release, struct kref *ref)
{
	dev_release_enter(ctx, ref);
	return 0;
}

SEC("kprobe/dma_device_release")
int BPF_KPROBE(kprobe_dma_device_release, struct kref *ref)
{
	KENTRY_BEGIN(ctx);
	dev_release_enter(ctx, ref);
	KENTRY_END();
	return 0;
}

/* ---- dma_release_channel(struct dma_chan *chan): caller's intent ---- */

static __always_inline void release_channel_enter(void *ctx, struct dma_chan *chan, bool btf)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_RELEASE_CHANNEL);
	struct dma_device *device = KREAD_KPTR(btf, chan, device);
	__s32 cc = KREAD(btf, chan, client_count);
	struct dmarw_chan_state *cs;
	struct dmarw_event *ev;
	__u64 key = (__u64)chan;

	/*
	 * A balanced release is the put that follows (in the ledger); only an
	 * unbalanced one (client_count != 1) is sent, with its own stack and
	 * the channel's last release.
	 */
	if (!st || (!send_balanced && cc == 1 && !dev_troubled(device, btf)))
		return;
	ev = event_begin(ctx, DMARW_EV_RELEASE_CHANNEL, DMARW_HOOK_RELEASE_CHANNEL,
			 device, chan, st, cc != 1 ? EV_STACK_HERE : EV_STACK_NONE);
	if (!ev)
		return;
	ev->client_count_before = cc;
	ev->kref_before = read_kref(device, false);
	cs = bpf_map_lookup_elem(&chan_state, &key);
	if (cc != 1 && cs && cs->last_release.ts_ns) {
		ev->prev = cs->last_release;
		ev->flags |= DMARW_F_PREV_RELEASE;
	}
	event_submit(ev);
}

SEC("fentry/dma_release_channel")
int BPF_PROG(fentry_dma_release_channel, struct dma_chan *chan)
{
	release_channel_enter(ctx, chan, true);
	return 0;
}

SEC("kprobe/dma_release_channel")
int BPF_KPROBE(kprobe_dma_release_channel, struct dma_chan *chan)
{
	KENTRY_BEGIN(ctx);
	release_channel_enter(ctx, chan, false);
	KENTRY_END();
	return 0;
}

/* ---- dma_request_chan() / __dma_request_channel(): returned channel ---- */

/* Only for stack_splice(): the gets under a kretprobed request need it. */
static __always_inline void request_enter(void *ctx, __u32 hook)
{
	if (kretprobe_tramp)
		entry_stack_save(ctx, hook);
}

/* The request's client: "" when nobody is named (a mask request). */
static __always_inline void request_client(struct dmarw_event *ev, struct dma_chan *chan)
{
	ev->client.dev[0] = 0;
	ev->client.drv[0] = 0;
	ev->client.req[0] = 0;
	ev->client.device = 0;
	read_client(&ev->client, chan);
}

static __always_inline void request_exit(void *ctx, __u32 hook, struct dma_chan *chan,
					 bool kretprobe)
{
	struct dmarw_hook_stats *st = hook_hit(hook);
	struct dma_device *device = NULL;
	struct dmarw_event *ev;
	long ret = 0;

	if (!chan) {
		ret = -19;	/* -ENODEV: __dma_request_channel returns NULL */
	} else if ((unsigned long)chan >= (unsigned long)-MAX_ERRNO) {
		ret = (long)chan;
		chan = NULL;
	}
	if (kretprobe && kretprobe_tramp)
		entry_stack_forget(hook);
	if (hook == DMARW_HOOK_REQUEST_CHAN && chan)
		ledger_name_client(chan);
	/* the client is on the ledger entry: a request is sent only for trace */
	if (!send_balanced)
		return;
	if (chan)
		device = READ_KPTR(chan, device);
	ev = event_begin(ctx, DMARW_EV_REQUEST_CHAN, hook, device, chan, st, EV_STACK_NONE);
	if (!ev)
		return;
	ev->ret = ret;
	if (chan)
		ev->client_count_after = BPF_CORE_READ(chan, client_count);
	ev->kref_after = read_kref(device, false);
	request_client(ev, chan);
	event_submit(ev);
}

SEC("fexit/dma_request_chan")
int BPF_PROG(fexit_dma_request_chan, struct device *dev, const char *name,
	     struct dma_chan *ret)
{
	request_exit(ctx, DMARW_HOOK_REQUEST_CHAN, ret, false);
	return 0;
}

SEC("kprobe/dma_request_chan")
int BPF_KPROBE(kprobe_dma_request_chan)
{
	KENTRY_BEGIN(ctx);
	request_enter(ctx, DMARW_HOOK_REQUEST_CHAN);
	KENTRY_END();
	return 0;
}

SEC("kretprobe/dma_request_chan")
int BPF_KRETPROBE(kretprobe_dma_request_chan, struct dma_chan *ret)
{
	request_exit(ctx, DMARW_HOOK_REQUEST_CHAN, ret, true);
	return 0;
}

SEC("fexit/__dma_request_channel")
int BPF_PROG(fexit___dma_request_channel, const dma_cap_mask_t *mask, void *fn,
	     void *fn_param, struct device_node *np, struct dma_chan *ret)
{
	request_exit(ctx, DMARW_HOOK_REQUEST_CHANNEL, ret, false);
	return 0;
}

/*
 * Outside trace a request by mask has nothing to record (it names no
 * client): the loader attaches this entry instead of the fexit, only to
 * count the calls.  An fexit's trampoline stays on the stack while the
 * function runs, and every get's stack walk under it went through one
 * more frame without unwind data.
 */
SEC("fentry/__dma_request_channel")
int BPF_PROG(fentry___dma_request_channel)
{
	hook_hit(DMARW_HOOK_REQUEST_CHANNEL);
	return 0;
}

SEC("kprobe/__dma_request_channel")
int BPF_KPROBE(kprobe___dma_request_channel)
{
	KENTRY_BEGIN(ctx);
	request_enter(ctx, DMARW_HOOK_REQUEST_CHANNEL);
	KENTRY_END();
	return 0;
}

SEC("kretprobe/__dma_request_channel")
int BPF_KRETPROBE(kretprobe___dma_request_channel, struct dma_chan *ret)
{
	request_exit(ctx, DMARW_HOOK_REQUEST_CHANNEL, ret, true);
	return 0;
}

/*
 * ---- devres_release_all(): a device loses its driver ----
 *
 * The driver core calls it once the driver's remove() has run (and when a
 * probe fails), dev->driver still set: at its exit the devres actions
 * (devm_ channel requests among them) are done too, and a channel the
 * device still holds has no holder left.  It is called from other files,
 * so never inlined: device_release_driver_internal() is, into the sysfs
 * unbind of 5.10, and kobject_uevent() has no BTF there and refuses a
 * kprobe.  A device freed long after its unbind has no driver: no event.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);			/* pid_tgid */
	__type(value, __u64);			/* struct device * */
} unbinding SEC(".maps");

static __always_inline void unbind_exit(void *ctx, struct device *dev)
{
	struct dmarw_hook_stats *st;
	struct device_driver *drv;
	struct dmarw_event *ev;

	st = hook_hit(DMARW_HOOK_DRIVER_UNBIND);
	if (!dev)
		return;
	drv = READ_KPTR(dev, driver);
	if (!drv)
		return;
	ev = event_begin(ctx, DMARW_EV_CLIENT_UNBIND, DMARW_HOOK_DRIVER_UNBIND, NULL, NULL, st,
			 EV_STACK_NONE);
	if (!ev)
		return;
	ev->client.device = (__u64)dev;
	bpf_probe_read_kernel_str(ev->client.dev, sizeof(ev->client.dev),
				  READ_KPTR(dev, kobj.name));
	bpf_probe_read_kernel_str(ev->client.drv, sizeof(ev->client.drv),
				  READ_KPTR(drv, name));
	ev->client.req[0] = 0;
	event_submit(ev);
}

SEC("fexit/devres_release_all")
int BPF_PROG(fexit_devres_release_all, struct device *dev, int ret)
{
	unbind_exit(ctx, dev);
	return 0;
}

SEC("kprobe/devres_release_all")
int BPF_KPROBE(kprobe_devres_release_all, struct device *dev)
{
	__u64 id = bpf_get_current_pid_tgid(), d = (__u64)dev;

	bpf_map_update_elem(&unbinding, &id, &d, BPF_ANY);
	return 0;
}

SEC("kretprobe/devres_release_all")
int BPF_KRETPROBE(kretprobe_devres_release_all)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *d = bpf_map_lookup_elem(&unbinding, &id);

	if (!d)
		return 0;
	unbind_exit(ctx, (struct device *)*d);
	bpf_map_delete_elem(&unbinding, &id);
	return 0;
}

/* ---- tracepoint module_free: a module is freed, its exit() has run ---- */

SEC("raw_tp/module_free")
int BPF_PROG(module_free, struct module *mod)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_MODULE_FREE);
	struct dmarw_event *ev;

	if (!mod)
		return 0;
	ev = event_begin(ctx, DMARW_EV_MODULE_UNLOAD, DMARW_HOOK_MODULE_FREE, NULL, NULL, st,
			 EV_STACK_NONE);
	if (!ev)
		return 0;
	bpf_probe_read_kernel_str(ev->module.name, sizeof(ev->module.name), mod->name);
	event_submit(ev);
	return 0;
}

/* ---- dmaengine_get() / dmaengine_put(): async_tx style users ---- */

static __always_inline void dmaengine_user(void *ctx, __u32 type, __u32 hook)
{
	struct dmarw_hook_stats *st = hook_hit(hook);
	struct dmarw_event *ev;

	ev = event_begin(ctx, type, hook, NULL, NULL, st, EV_STACK_HERE);
	if (ev)
		event_submit(ev);
}

SEC("fentry/dmaengine_get")
int BPF_PROG(fentry_dmaengine_get)
{
	dmaengine_user(ctx, DMARW_EV_DMAENGINE_GET, DMARW_HOOK_DMAENGINE_GET);
	return 0;
}

SEC("kprobe/dmaengine_get")
int BPF_KPROBE(kprobe_dmaengine_get)
{
	KENTRY_BEGIN(ctx);
	dmaengine_user(ctx, DMARW_EV_DMAENGINE_GET, DMARW_HOOK_DMAENGINE_GET);
	KENTRY_END();
	return 0;
}

SEC("fentry/dmaengine_put")
int BPF_PROG(fentry_dmaengine_put)
{
	dmaengine_user(ctx, DMARW_EV_DMAENGINE_PUT, DMARW_HOOK_DMAENGINE_PUT);
	return 0;
}

SEC("kprobe/dmaengine_put")
int BPF_KPROBE(kprobe_dmaengine_put)
{
	KENTRY_BEGIN(ctx);
	dmaengine_user(ctx, DMARW_EV_DMAENGINE_PUT, DMARW_HOOK_DMAENGINE_PUT);
	KENTRY_END();
	return 0;
}
