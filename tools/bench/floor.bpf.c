// SPDX-License-Identifier: GPL-2.0
/*
 * The floor for tools/bench: a bare fentry+fexit (or kprobe+kretprobe) pair
 * on dma_chan_get and dma_chan_put that only counts, plus optional layers of
 * the work dmarefwatch does per event, to price each one separately:
 *   with_event   reserve + fill + submit a ring buffer record of the size of
 *                struct dmarw_event (424 bytes) at each exit
 *   with_stack   bpf_get_stack() of 32 frames into that record
 *   with_inflight  hash map save at entry, lookup + delete at exit (the
 *                entry -> exit hand-off dmarefwatch uses)
 *   wake_bytes   batch the consumer's wakeups instead of one per record
 *   with_holders the physical limit of a tool that names every holder's
 *                stack: at each get's exit one bpf_get_stack() of 32 frames
 *                straight into a hash map value keyed by the channel (with
 *                time, pid and comm), deleted at the put's exit; no record
 *   holder_stacks  with_holders takes the stack (else the same entry without
 *                it: the limit of a ledger that names holders by task only,
 *                what --no-stacks keeps)
 * Not part of dmarefwatch: a measuring stick only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile bool with_event = false;
const volatile bool with_stack = false;
const volatile bool with_inflight = false;
const volatile bool with_holders = false;
const volatile bool holder_stacks = true;
/* 0: the default adaptive wakeup at every submit that finds the consumer
 * caught up; N: no wakeup until N bytes wait, then a forced one */
const volatile __u64 wake_bytes = 0;

/* [0] get entries, [1] get exits, [2] put entries, [3] put exits, [4] lost */
__u64 counts[8] = {};

struct rec {
	__u64 ts, chan, ret;
	__u32 type, cpu, pid, tgid, nr_stack, pad;
	char comm[16];
	char pad2[104];		/* 424 bytes in all, like struct dmarw_event */
	__u64 stack[32];
};
_Static_assert(sizeof(struct rec) == 424, "record size");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* one outstanding reference: what a leak report needs of its holder */
struct holder {
	__u64 ts;
	__u32 pid, tgid;
	char comm[16];
	__u32 nr_stack, pad;
	__u64 stack[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);		/* struct dma_chan * */
	__type(value, struct holder);
} holders SEC(".maps");

static const struct holder empty_holder;

static __always_inline void holder_take(void *ctx, __u64 chan)
{
	struct holder *h;
	long n;

	if (bpf_map_update_elem(&holders, &chan, &empty_holder, BPF_ANY))
		return;
	h = bpf_map_lookup_elem(&holders, &chan);
	if (!h)
		return;
	h->ts = bpf_ktime_get_ns();
	h->pid = bpf_get_current_pid_tgid();
	h->tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	if (!holder_stacks)
		return;
	n = bpf_get_stack(ctx, h->stack, sizeof(h->stack), 0);
	h->nr_stack = n > 0 ? (__u32)n / 8 : 0;
}

struct ikey {
	__u64 pid_tgid;
	__u32 hook, pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct ikey);
	__type(value, __u64[5]);
} inflight SEC(".maps");

static __always_inline void enter(int slot, __u64 chan)
{
	__sync_fetch_and_add(&counts[slot], 1);
	if (with_inflight) {
		struct ikey k = { bpf_get_current_pid_tgid(), slot };
		__u64 v[5] = { chan };

		bpf_map_update_elem(&inflight, &k, v, BPF_ANY);
	}
}

static __always_inline void leave(void *ctx, int slot, __u64 chan, long ret)
{
	struct rec *r;

	__sync_fetch_and_add(&counts[slot + 1], 1);
	if (with_inflight) {
		struct ikey k = { bpf_get_current_pid_tgid(), slot };
		__u64 *v = bpf_map_lookup_elem(&inflight, &k);

		if (v) {
			chan = v[0];
			bpf_map_delete_elem(&inflight, &k);
		}
	}
	if (with_holders && chan) {
		if (slot == 0 && !ret)
			holder_take(ctx, chan);
		else if (slot == 2)
			bpf_map_delete_elem(&holders, &chan);
	}
	if (!with_event)
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&counts[4], 1);
		return;
	}
	r->ts = bpf_ktime_get_ns();
	r->chan = chan;
	r->ret = ret;
	r->type = slot;
	r->cpu = bpf_get_smp_processor_id();
	r->pid = bpf_get_current_pid_tgid();
	r->nr_stack = 0;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	if (with_stack) {
		long n = bpf_get_stack(ctx, r->stack, sizeof(r->stack), 0);

		r->nr_stack = n > 0 ? (__u64)n / 8 : 0;
	}
	if (!wake_bytes)
		bpf_ringbuf_submit(r, 0);
	else if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes)
		bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
	else
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

SEC("fentry/dma_chan_get")
int BPF_PROG(f_get, struct dma_chan *chan) { enter(0, (__u64)chan); return 0; }
SEC("fexit/dma_chan_get")
int BPF_PROG(x_get, struct dma_chan *chan, int ret) { leave(ctx, 0, (__u64)chan, ret); return 0; }
SEC("fentry/dma_chan_put")
int BPF_PROG(f_put, struct dma_chan *chan) { enter(2, (__u64)chan); return 0; }
SEC("fexit/dma_chan_put")
int BPF_PROG(x_put, struct dma_chan *chan) { leave(ctx, 2, (__u64)chan, 0); return 0; }

SEC("kprobe/dma_chan_get")
int BPF_KPROBE(k_get, struct dma_chan *chan) { enter(0, (__u64)chan); return 0; }
SEC("kretprobe/dma_chan_get")
int BPF_KRETPROBE(r_get, int ret) { leave(ctx, 0, 0, ret); return 0; }
SEC("kprobe/dma_chan_put")
int BPF_KPROBE(k_put, struct dma_chan *chan) { enter(2, (__u64)chan); return 0; }
SEC("kretprobe/dma_chan_put")
int BPF_KRETPROBE(r_put) { leave(ctx, 2, 0, 0); return 0; }
