/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference ledger: one map entry per outstanding channel reference
 * (struct dmarw_holder in bpf/dmarefwatch.h), written by the get that took
 * it, with its stack taken straight into the value, and dropped by the put
 * matched to it.  The frontend reads the map; the ring buffer carries only
 * what must be seen in order.
 *
 * dma_chan_get() and dma_chan_put() run under dma_list_mutex (their callers
 * take it), and so do their exit programs: the entries of one channel are
 * slots 0..ledger_slots-1 of its chan_state, changed by one program at a
 * time, and the id counter needs no atomic (a fetching atomic is 5.12+).
 * Included by bpf/dmarefwatch.bpf.c only.
 */
#ifndef __DMARW_LEDGER_BPF_H
#define __DMARW_LEDGER_BPF_H

#include "record.bpf.h"

#define E2BIG_ERR	7

/* Sized by the loader (--max-references) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct dmarw_ledger_key);
	__type(value, struct dmarw_holder);
} ledger SEC(".maps");

/* The last id handed out: ids are 1, 2, ... in order of the gets. */
__u64 ledger_last_id;

/*
 * What the entry of dma_chan_get() or dma_chan_put() hands to its exit.
 * Under dma_list_mutex one call of each is in flight at a time, so a
 * global slot per function does what the inflight map does for the other
 * hooks, for plain loads and stores instead of a map update at the entry
 * and a lookup and a delete at the exit.  The slot names the task whose
 * entry filled it: an exit finds it only in that task, once, like the map
 * entry keyed by task it replaces.
 */
struct chan_call {
	__u64 pid_tgid;		/* 0: empty */
	struct inflight in;
};

enum { CALL_GET, CALL_PUT, CALL_MAX };

static struct chan_call chan_calls[CALL_MAX];

static __always_inline void chan_call_store(__u32 call, __u64 pid_tgid,
					    const struct inflight *in)
{
	if (call >= CALL_MAX)
		return;
	chan_calls[call].in = *in;
	chan_calls[call].pid_tgid = pid_tgid;
}

/* The entry's state into @out if this task (@pid_tgid) made it; emptied. */
static __always_inline bool chan_call_take(__u32 call, __u64 pid_tgid, struct inflight *out)
{
	if (call >= CALL_MAX || !pid_tgid || chan_calls[call].pid_tgid != pid_tgid)
		return false;
	*out = chan_calls[call].in;
	chan_calls[call].pid_tgid = 0;
	return true;
}

/* What the get's entry did with the ledger (inflight.ledger). */
enum inflight_ledger {
	LEDGER_NONE,		/* nothing written (no channel) */
	LEDGER_WRITTEN,		/* an entry at inflight.slot, made final by the exit */
	LEDGER_FULL,		/* no room: the stack went to entry_stacks */
	LEDGER_FAILED,		/* another update failure: likewise */
};

static const struct dmarw_holder empty_holder;

/*
 * The device's and its driver's names into @dev_name and @drv_name (32
 * bytes each): from its dev_state entry @ds, read from the device once and
 * kept there: a get reads no string.
 */
static __always_inline void dev_names_cached(struct dmarw_dev_state *ds, struct dma_device *device,
					     char *dev_name, char *drv_name)
{
	struct device *dev;

	if (!device)
		return;
	if (ds && ds->dev_name[0]) {
		__builtin_memcpy(dev_name, ds->dev_name, DMARW_NAME_LEN);
		__builtin_memcpy(drv_name, ds->drv_name, DMARW_NAME_LEN);
		return;
	}
	dev = READ_KPTR(device, dev);
	if (!dev)
		return;
	bpf_probe_read_kernel_str(dev_name, DMARW_NAME_LEN, READ_KPTR(dev, kobj.name));
	bpf_probe_read_kernel_str(drv_name, DMARW_NAME_LEN, READ_KPTR2(dev, driver, name));
	if (ds) {
		__builtin_memcpy(ds->dev_name, dev_name, DMARW_NAME_LEN);
		__builtin_memcpy(ds->drv_name, drv_name, DMARW_NAME_LEN);
	}
}
static const struct dmarw_event empty_event;

/*
 * A get of task @pid_tgid (what its entry read in @in) is taking a
 * reference: write the entry it will make at the channel's next slot
 * (@slot: chan_state.ledger_slots), its stack taken here, at time @ts
 * (@ds: the device's state, for its names).  fexit programs call it at the
 * get's exit, once the reference is taken; kprobe programs at its entry,
 * where a stack is whole on every kernel, and the exit only completes or
 * drops the entry.  Returns the entry, NULL if it could not be written
 * (counted in @st, the stack saved in entry_stacks instead);
 * in->ledger says which (enum inflight_ledger), in->slot where.
 */
static __always_inline struct dmarw_holder *ledger_write(void *ctx, struct inflight *in,
							 __u64 pid_tgid, __u32 slot,
							 struct dmarw_dev_state *ds, __u64 ts,
							 struct dmarw_hook_stats *st)
{
	struct dmarw_ledger_key key = { .chan = in->chan, .slot = slot };
	struct dmarw_holder *h;
	long err;

	in->slot = slot;
	in->ledger = LEDGER_NONE;
	if (!in->chan)
		return NULL;
	err = bpf_map_update_elem(&ledger, &key, &empty_holder, BPF_ANY);
	h = err ? NULL : bpf_map_lookup_elem(&ledger, &key);
	if (!h) {
		if (!st)
			st = hook_stats_of(DMARW_HOOK_CHAN_GET);
		if (st && err == -E2BIG_ERR)
			st->ledger_full++;
		else if (st)
			st->map_failed++;
		in->ledger = err == -E2BIG_ERR ? LEDGER_FULL : LEDGER_FAILED;
		return NULL;
	}
	in->ledger = LEDGER_WRITTEN;
	h->ts_ns = ts;
	h->device = in->device;
	h->pid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->dev_id = in->dev_id;
	h->chan_id = in->chan_id;
	h->client_count_before = in->client_count;
	h->client_count_after = -1;
	h->flags = in->flags;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	dev_names_cached(ds, (void *)in->device, h->dev_name, h->drv_name);
	if (capture_stack &&
	    stack_capture(ctx, h->stack, &h->nr_stack, DMARW_HOOK_CHAN_GET, NULL)) {
		if (!st)
			st = hook_stats_of(DMARW_HOOK_CHAN_GET);
		if (st)
			st->stack_failed++;
	}
	return h;
}

/* ledger_write() at the entry of a kprobed dma_chan_get(): the stack of a failure is saved */
static __always_inline void ledger_begin(void *ctx, struct inflight *in, __u64 pid_tgid)
{
	struct dmarw_chan_state *cs;

	if (!in->chan) {
		in->slot = 0;
		in->ledger = LEDGER_NONE;
		return;
	}
	cs = bpf_map_lookup_elem(&chan_state, &in->chan);
	if (!ledger_write(ctx, in, pid_tgid, cs ? cs->ledger_slots : 0,
			  dev_state_get(in->device), bpf_ktime_get_ns(), NULL))
		entry_stack_save(ctx, DMARW_HOOK_CHAN_GET);
}

/*
 * dma_chan_get() returned: the entry @h (NULL: looked up from in->slot when
 * in->ledger says one was written) becomes an outstanding reference (@ret
 * 0, client_count went from in->client_count to @cc), or is dropped.  A
 * reference that could not be stored is counted in the channel's
 * `unrecorded`.  Returns the entry, NULL when there is none.
 */
static __always_inline struct dmarw_holder *ledger_end_get(const struct inflight *in, long ret,
							    __s32 cc, struct dmarw_chan_state *cs,
							    struct dmarw_holder *h)
{
	struct dmarw_ledger_key key = { .chan = in->chan, .slot = in->slot };
	__u32 refs = 1;

	if (!h && in->ledger == LEDGER_WRITTEN)
		h = bpf_map_lookup_elem(&ledger, &key);
	if (ret) {
		if (h)
			bpf_map_delete_elem(&ledger, &key);
		return NULL;
	}
	/* balance_ref_count() can take several references in one get */
	if (in->client_count >= 0 && cc > in->client_count)
		refs = cc - in->client_count;
	if (!h || !cs) {
		if (cs)
			cs->unrecorded += refs;
		if (h)
			bpf_map_delete_elem(&ledger, &key);
		return NULL;
	}
	h->id = ++ledger_last_id;
	h->client_count_after = cc;
	h->refs = refs;
	cs->ledger_slots = in->slot + 1;
	cs->ledger_refs += refs;
	return h;
}

/*
 * dma_chan_put() dropped a reference (client_count @cc at its entry) in
 * task @pid_tgid at @ts: take it from the entry of the same tgid, else from
 * none when the channel has references the ledger does not hold
 * (predating tracing: the kernel's count is the truth; or unrecorded), else
 * from the oldest entry among the newest DMARW_LEDGER_SCAN.  The last
 * release is noted.  Returns the id of the entry, 0 for none.
 */
static __always_inline __u64 ledger_put(__u64 chan, __s32 cc, struct dmarw_chan_state *cs,
					__u64 pid_tgid, __u64 ts)
{
	struct dmarw_ledger_key key = { .chan = chan }, top_key = { .chan = chan };
	struct dmarw_holder *h, *top;
	__u32 tgid = pid_tgid >> 32, n, i;
	__u64 id = 0, oldest_id = ~0ULL;
	__s32 found = -1, oldest = -1;

	n = cs->ledger_slots;
	/*
	 * The newest entry first, kept when it is this tgid's: a channel used
	 * by one client at a time drops it with one lookup and one delete.
	 */
	if (n) {
		key.slot = n - 1;
		h = bpf_map_lookup_elem(&ledger, &key);
		if (h && h->tgid == tgid) {
			id = h->id;
			if (cs->ledger_refs)
				cs->ledger_refs--;
			if (h->refs > 1) {
				h->refs--;
				goto note;
			}
			bpf_map_delete_elem(&ledger, &key);
			cs->ledger_slots = n - 1;
			goto note;
		}
	}
	for (i = 0; i < DMARW_LEDGER_SCAN; i++) {
		if (i >= n)
			break;
		key.slot = n - 1 - i;
		h = bpf_map_lookup_elem(&ledger, &key);
		if (!h)
			continue;
		if (h->tgid == tgid) {
			found = key.slot;
			break;
		}
		if (h->id < oldest_id) {
			oldest_id = h->id;
			oldest = key.slot;
		}
	}
	if (found < 0 && cc > (__s32)cs->ledger_refs) {
		/* a reference the ledger does not hold: predating, else unrecorded */
		if (cs->unrecorded && cc <= (__s32)(cs->ledger_refs + cs->unrecorded))
			cs->unrecorded--;
		goto note;
	}
	if (found < 0)
		found = oldest;
	if (found < 0)
		goto note;
	/*
	 * Looked up again: a pointer kept from the scan makes its states
	 * differ and the put's exit too large for the verifier.
	 */
	key.slot = found;
	h = bpf_map_lookup_elem(&ledger, &key);
	if (!h)
		goto note;
	id = h->id;
	if (cs->ledger_refs)
		cs->ledger_refs--;
	if (h->refs > 1) {
		h->refs--;
		goto note;
	}
	/* the slot's last reference: the newest entry moves into its place */
	top_key.slot = n - 1;
	if (top_key.slot != key.slot) {
		top = bpf_map_lookup_elem(&ledger, &top_key);
		if (top)
			bpf_map_update_elem(&ledger, &key, top, BPF_EXIST);
	}
	bpf_map_delete_elem(&ledger, &top_key);
	cs->ledger_slots = n - 1;
note:
	cs->last_release.ts_ns = ts;
	cs->last_release.holder_id = id;
	cs->last_release.pid = (__u32)pid_tgid;
	cs->last_release.tgid = tgid;
	bpf_get_current_comm(cs->last_release.comm, sizeof(cs->last_release.comm));
	return id;
}

/*
 * dma_request_chan() returned @chan to this task: its client goes on the
 * newest entry of the channel, the one the request's get just made.
 */
static __always_inline void ledger_name_client(struct dma_chan *chan)
{
	struct dmarw_ledger_key key = { .chan = (__u64)chan };
	struct dmarw_chan_state *cs;
	struct dmarw_holder *h;

	if (!chan)
		return;
	cs = bpf_map_lookup_elem(&chan_state, &key.chan);
	if (!cs || !cs->ledger_slots)
		return;
	key.slot = cs->ledger_slots - 1;
	h = bpf_map_lookup_elem(&ledger, &key);
	if (h && h->pid == (__u32)bpf_get_current_pid_tgid() && !h->client.dev[0])
		read_client(&h->client, chan);
}

/*
 * The holder's part of a record: who, when, from where, for whom.  Copied
 * with one helper call each, not field by field: the unregister's walk
 * below would otherwise be too much for the verifier.
 */
static __always_inline void holder_to_event(struct dmarw_event *ev, const struct dmarw_holder *h)
{
	ev->ledger_id = h->id;
	ev->ledger_refs = h->refs;
	ev->nr_stack = h->nr_stack < DMARW_MAX_STACK ? h->nr_stack : DMARW_MAX_STACK;
	bpf_probe_read_kernel(ev->stack, sizeof(ev->stack), h->stack);
	bpf_probe_read_kernel(&ev->holder_client, sizeof(ev->holder_client), &h->client);
}

#define HOLDER_CHANNELS		16	/* channels of a device the unregister copies */
#define HOLDERS_PER_CHANNEL	2	/* entries of one channel it copies */

/*
 * One DMARW_EV_DEV_HOLDER record: the entry at @slot of channel @chan of
 * @device being unregistered, if there is one.  Verified once: the
 * unregister sends up to HOLDER_CHANNELS * HOLDERS_PER_CHANNEL.  Returns -1
 * when the ring buffer is full.
 */
DMARW_VERIFIED_ONCE int send_holder(__u64 device, __u64 chan, __u32 slot)
{
	struct dmarw_ledger_key key = { .chan = chan, .slot = slot };
	struct dmarw_hook_stats *st = hook_stats_of(DMARW_HOOK_DEV_UNREGISTER);
	struct dmarw_holder *h = bpf_map_lookup_elem(&ledger, &key);
	struct dmarw_event *ev;

	if (!h)
		return 0;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		if (st)
			st->lost++;
		return -1;
	}
	if (st)
		st->sent++;
	bpf_probe_read_kernel(ev, sizeof(*ev) - sizeof(ev->stack) - sizeof(ev->holder_client),
			      &empty_event);
	ev->type = DMARW_EV_DEV_HOLDER;
	ev->hook = DMARW_HOOK_DEV_UNREGISTER;
	ev->ts_ns = h->ts_ns;
	ev->device = device;
	ev->chan = chan;
	ev->pid = h->pid;
	ev->tgid = h->tgid;
	ev->dev_id = h->dev_id;
	ev->chan_id = h->chan_id;
	ev->client_count_before = h->client_count_before;
	ev->client_count_after = h->client_count_after;
	ev->kref_before = ev->kref_after = ev->dev_in_use = -1;
	ev->flags = h->flags | DMARW_F_LEDGER;
	bpf_probe_read_kernel(ev->comm, sizeof(ev->comm), h->comm);
	bpf_probe_read_kernel(ev->dev_name, sizeof(ev->dev_name), h->dev_name);
	bpf_probe_read_kernel(ev->drv_name, sizeof(ev->drv_name), h->drv_name);
	holder_to_event(ev, h);
	event_submit(ev);
	return 0;
}

/*
 * dma_async_device_unregister() entered: one DMARW_EV_DEV_HOLDER record per
 * outstanding entry of the device's first HOLDER_CHANNELS channels
 * (HOLDERS_PER_CHANNEL each), before the unregister's own record, in this
 * program run.  The frontend's ledger read names any others.
 */
static __always_inline void ledger_send_device(struct dma_device *device)
{
	struct list_head *head, *pos;
	struct dmarw_chan_state *cs;
	__u64 chan, dev = kaddr(device);
	__u32 i, s;

	if (!dev)
		return;
	head = (void *)dev + bpf_core_field_offset(struct dma_device, channels);
	pos = READ_KPTR((struct dma_device *)dev, channels.next);
	for (i = 0; i < HOLDER_CHANNELS; i++) {
		if (!pos || pos == head)
			break;
		chan = (__u64)((void *)pos - bpf_core_field_offset(struct dma_chan, device_node));
		pos = READ_KPTR(pos, next);
		cs = bpf_map_lookup_elem(&chan_state, &chan);
		if (!cs)
			continue;
		for (s = 0; s < HOLDERS_PER_CHANNEL; s++) {
			if (s >= cs->ledger_slots)
				break;
			if (send_holder(dev, chan, s))
				return;
		}
	}
}

/*
 * Whether a get or put on @device must be seen in order even though the
 * ledger has its holder: the device is being (or was) unregistered or
 * released, or has no channels registered any more.
 */
static __always_inline bool dev_troubled_ds(const struct dmarw_dev_state *ds,
					    struct dma_device *device, bool btf)
{
	if (ds && ds->state >= DMARW_DEV_UNREGISTERING)
		return true;
	return device && !KREAD(btf, device, chancnt);
}

/*
 * The same with its own dev_state lookup (@btf: see KREAD()), made only
 * once some device was seen going away (dev_state_set() notes it): until
 * then no state can say so, and a balanced get or put pays no lookup.
 */
static __always_inline bool dev_troubled(struct dma_device *device, bool btf)
{
	__u64 key = (__u64)device;

	if (!devs_leaving)
		return device && !KREAD(btf, device, chancnt);
	return dev_troubled_ds(bpf_map_lookup_elem(&dev_state, &key), device, btf);
}

/*
 * Whether the device's channels must be walked after a get or put that
 * took client_count from @cc_before to @cc_after and read @kref (kref
 * @kref_before at entry; @ds the device's state, not yet updated by this
 * exit, NULL if it has none): the kref moved otherwise than this change
 * explains (+1 on a channel's first client, -1 on its last), or the
 * device's kref was never checked (no dev_state kref yet).  The walk
 * gives the channels in use for the full check, kref == 1 + in use, and a
 * wrong one is sent: a walk per get and put cost more than the rest of
 * their programs under emulation.
 */
static __always_inline bool kref_needs_walk(const struct dmarw_dev_state *ds, __s32 kref_before,
					    __s32 kref, __s32 cc_before, __s32 cc_after)
{
	__s32 want = kref_before;

	if (kref_before < 0 || kref < 0)
		return false;	/* no kref in this kernel: nothing to check */
	if (!ds || ds->kref <= 0)
		return true;
	if (cc_before == 0 && cc_after > 0)
		want++;
	else if (cc_before == 1 && cc_after == 0)
		want--;
	return kref != want;
}

/* The kernel's own consistent view (read under dma_list_mutex) disagrees. */
static __always_inline bool kref_wrong(__s32 kref, __s32 in_use, __u32 flags)
{
	return (flags & DMARW_F_KREF_VALID) && kref >= 0 && in_use >= 0 && kref != 1 + in_use;
}

#endif /* __DMARW_LEDGER_BPF_H */
