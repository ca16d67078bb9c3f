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
 * time; the id counter and the free list need no atomic (a fetching atomic
 * is 5.12+).  The entries are an array, not a hash keyed by {channel,
 * slot}: a lookup is a load the verifier inlines, where a hash update,
 * lookup and delete per reference were helper calls with a hash, a bucket
 * lock and a 600-byte copy each.  Included by bpf/dmarefwatch.bpf.c only.
 */
#ifndef __DMARW_LEDGER_BPF_H
#define __DMARW_LEDGER_BPF_H

#include "record.bpf.h"

/* Both sized by the loader (--max-references) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct dmarw_holder);
} ledger SEC(".maps");

/* Indices of freed entries, a stack: ledger_free_nr of them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} ledger_free SEC(".maps");

/* The ledger's max_entries, set by the loader. */
const volatile __u32 ledger_capacity = 1024;

/* The last id handed out: ids are 1, 2, ... in order of the gets. */
__u64 ledger_last_id;
/* Entries 0..ledger_used-1 were handed out at least once. */
__u32 ledger_used;
__u32 ledger_free_nr;

/*
 * @i as an index into chan_state.ledger_idx: masked in an instruction the
 * compiler cannot drop where it knows the bound already (the verifier may
 * not: the value may come back from the stack without it).
 */
static __always_inline __u32 chan_slot(__u32 i)
{
	__u64 v = i;

	asm volatile("%[v] &= %[m]" : [v] "+r"(v) : [m] "i"(DMARW_CHAN_SLOTS - 1));
	return v;
}
#define CHAN_SLOT(i)	chan_slot(i)

static __always_inline struct dmarw_holder *ledger_at(__u32 idx)
{
	return bpf_map_lookup_elem(&ledger, &idx);
}

/* A free entry's index into @idx; false when the ledger is full. */
static __always_inline bool ledger_alloc(__u32 *idx)
{
	__u32 n = ledger_free_nr, *freed;

	if (n) {
		n--;
		freed = bpf_map_lookup_elem(&ledger_free, &n);
		if (!freed)
			return false;
		ledger_free_nr = n;
		*idx = *freed;
		return true;
	}
	if (ledger_used >= ledger_capacity)
		return false;
	*idx = ledger_used++;
	return true;
}

/* Entry @idx is free again. */
static __always_inline void ledger_release(__u32 idx)
{
	struct dmarw_holder *h = ledger_at(idx);
	__u32 n = ledger_free_nr, *freed;

	if (h)
		h->id = 0;
	freed = bpf_map_lookup_elem(&ledger_free, &n);
	if (freed) {
		*freed = idx;
		ledger_free_nr = n + 1;
	}
}

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
	LEDGER_WRITTEN,		/* entry inflight.idx for inflight.slot, made final by the exit */
	LEDGER_FULL,		/* no room: the stack went to entry_stacks (kprobe) */
};

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
 * drops the entry.  The entry's id stays 0 until ledger_end_get().  Returns
 * it, NULL if there was no room (counted in @st, NULL: looked up);
 * in->ledger says which (enum inflight_ledger), in->slot and in->idx where.
 */
static __always_inline struct dmarw_holder *ledger_write(void *ctx, struct inflight *in,
							 __u64 pid_tgid, __u32 slot,
							 struct dmarw_dev_state *ds, __u64 ts,
							 struct dmarw_hook_stats *st)
{
	struct dmarw_holder *h = NULL;
	__u32 idx = 0;

	in->slot = slot;
	in->idx = 0;
	in->ledger = LEDGER_NONE;
	if (!in->chan)
		return NULL;
	if (slot < DMARW_CHAN_SLOTS && ledger_alloc(&idx)) {
		h = ledger_at(idx);
		if (!h)
			ledger_release(idx);
	}
	if (!h) {
		if (!st)
			st = hook_stats_of(DMARW_HOOK_CHAN_GET);
		if (st)
			st->ledger_full++;
		in->ledger = LEDGER_FULL;
		return NULL;
	}
	in->idx = idx;
	in->ledger = LEDGER_WRITTEN;
	h->id = 0;
	h->ts_ns = ts;
	h->device = in->device;
	h->chan = in->chan;
	h->slot = slot;
	h->pid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->dev_id = in->dev_id;
	h->chan_id = in->chan_id;
	h->client_count_before = in->client_count;
	h->client_count_after = -1;
	h->refs = 0;
	h->flags = in->flags;
	h->nr_stack = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	h->dev_name[0] = 0;
	h->drv_name[0] = 0;
	dev_names_cached(ds, (void *)in->device, h->dev_name, h->drv_name);
	__builtin_memset(&h->client, 0, sizeof(h->client));
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
	struct dmarw_chan_state *cs = NULL;

	if (in->chan)
		cs = bpf_map_lookup_elem(&chan_state, &in->chan);
	if (!ledger_write(ctx, in, pid_tgid, cs ? cs->ledger_slots : 0,
			  dev_state_get(in->device), bpf_ktime_get_ns(), NULL) &&
	    in->ledger == LEDGER_FULL)
		entry_stack_save(ctx, DMARW_HOOK_CHAN_GET);
}

/*
 * dma_chan_get() returned: the entry @h (NULL: looked up from in->idx when
 * in->ledger says one was written) becomes an outstanding reference (@ret
 * 0, client_count went from in->client_count to @cc), or is dropped.  A
 * reference that could not be stored is counted in the channel's
 * `unrecorded`.  Returns the entry, NULL when there is none.
 */
static __always_inline struct dmarw_holder *ledger_end_get(const struct inflight *in, long ret,
							    __s32 cc, struct dmarw_chan_state *cs,
							    struct dmarw_holder *h)
{
	__u32 refs = 1;

	if (!h && in->ledger == LEDGER_WRITTEN)
		h = ledger_at(in->idx);
	if (ret) {
		if (h)
			ledger_release(in->idx);
		return NULL;
	}
	/* balance_ref_count() can take several references in one get */
	if (in->client_count >= 0 && cc > in->client_count)
		refs = cc - in->client_count;
	if (!h || !cs || in->slot != cs->ledger_slots) {
		if (cs)
			cs->unrecorded += refs;
		if (h)
			ledger_release(in->idx);
		return NULL;
	}
	h->id = ++ledger_last_id;
	h->client_count_after = cc;
	h->refs = refs;
	cs->ledger_idx[CHAN_SLOT(in->slot)] = in->idx;
	cs->ledger_slots = in->slot + 1;
	cs->ledger_refs += refs;
	return h;
}

#define MATCH_TGID	(1u << 8)	/* ledger_match(): the slot is the tgid's */

/*
 * The entry a put of task group @tgid on channel @chan drops: the newest
 * of its own among the channel's newest DMARW_LEDGER_SCAN entries (the
 * slot | MATCH_TGID), else the oldest of those (the slot), else none (-1).
 * Verified once: inline, the variable slots of the scan made the verifier
 * track fexit_dma_chan_put's slot count precisely, 127k processed
 * instructions (a second on 6.1 under TCG) instead of 20k.
 */
DMARW_VERIFIED_ONCE int ledger_match(__u64 chan, __u32 tgid)
{
	struct dmarw_chan_state *cs = bpf_map_lookup_elem(&chan_state, &chan);
	__u64 oldest_id = ~0ULL;
	int oldest = -1;
	struct dmarw_holder *h;
	__u32 n, i, slot;

	if (!cs)
		return -1;
	n = cs->ledger_slots;
	for (i = 0; i < DMARW_LEDGER_SCAN; i++) {
		if (i >= n)
			break;
		slot = CHAN_SLOT(n - 1 - i);
		h = ledger_at(cs->ledger_idx[slot]);
		if (!h || !h->id)
			continue;
		if (h->tgid == tgid)
			return slot | MATCH_TGID;
		if (h->id < oldest_id) {
			oldest_id = h->id;
			oldest = slot;
		}
	}
	return oldest;
}

/*
 * dma_chan_put() dropped a reference of channel @chan (client_count @cc at
 * its entry; @cs its state) in task @pid_tgid at @ts: take it from the
 * entry ledger_match() names when it is this tgid's, else from none when
 * the channel has references the ledger does not hold (predating tracing:
 * the kernel's count is the truth; or unrecorded), else from the oldest.
 * The last release is noted.  Returns the id of the entry, 0 for none.
 */
static __always_inline __u64 ledger_put(__u64 chan, __s32 cc, struct dmarw_chan_state *cs,
					__u64 pid_tgid, __u64 ts)
{
	__u32 tgid = pid_tgid >> 32, n, idx;
	int match = ledger_match(chan, tgid);
	struct dmarw_holder *h;
	__u64 id = 0;
	__u32 found;

	if (!(match >= 0 && (match & MATCH_TGID)) && cc > (__s32)cs->ledger_refs) {
		/* a reference the ledger does not hold: predating, else unrecorded */
		if (cs->unrecorded && cc <= (__s32)(cs->ledger_refs + cs->unrecorded))
			cs->unrecorded--;
		goto note;
	}
	if (match < 0)
		goto note;
	found = CHAN_SLOT(match);
	n = cs->ledger_slots;
	if (found >= n)
		goto note;
	idx = cs->ledger_idx[found];
	h = ledger_at(idx);
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
	if (found != n - 1) {
		cs->ledger_idx[found] = cs->ledger_idx[CHAN_SLOT(n - 1)];
		h = ledger_at(cs->ledger_idx[found]);
		if (h)
			h->slot = found;
	}
	ledger_release(idx);
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
	__u64 key = (__u64)chan;
	struct dmarw_chan_state *cs;
	struct dmarw_holder *h;

	if (!chan)
		return;
	cs = bpf_map_lookup_elem(&chan_state, &key);
	if (!cs || !cs->ledger_slots)
		return;
	h = ledger_at(cs->ledger_idx[CHAN_SLOT(cs->ledger_slots - 1)]);
	if (h && h->id && h->pid == (__u32)bpf_get_current_pid_tgid() && !h->client.dev[0])
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
	struct dmarw_hook_stats *st = hook_stats_of(DMARW_HOOK_DEV_UNREGISTER);
	struct dmarw_chan_state *cs = bpf_map_lookup_elem(&chan_state, &chan);
	struct dmarw_holder *h;
	struct dmarw_event *ev;

	if (!cs || slot >= DMARW_CHAN_SLOTS)
		return 0;
	h = ledger_at(cs->ledger_idx[CHAN_SLOT(slot)]);
	if (!h || !h->id)
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

	return dev_troubled_ds(devs_leaving ? bpf_map_lookup_elem(&dev_state, &key) : NULL,
			       device, btf);
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
