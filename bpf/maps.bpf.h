/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The maps and load-time settings that the BPF files of dmarefwatch share.
 * bpf/dmarefwatch.bpf.c defines them (DMARW_MAPS_HERE before including this
 * file); bpf/snapshot.bpf.c and bpf/modsyms.bpf.c see the same declarations
 * as externs, which `bpftool gen object` resolves when it links the three
 * into one object.
 */
#ifndef __DMARW_MAPS_BPF_H
#define __DMARW_MAPS_BPF_H

#ifdef DMARW_MAPS_HERE
#define DMARW_SHARED
#define DMARW_INIT(v)	= v
#else
#define DMARW_SHARED	extern
#define DMARW_INIT(v)
#endif

/* Set by the loader before load. */
DMARW_SHARED const volatile bool capture_stack DMARW_INIT(true);
DMARW_SHARED const volatile bool release_hooked DMARW_INIT(false); /* dma_device_release attached */
/*
 * Every get, put, request and release_channel becomes a record (trace), or
 * only those that must be seen in order: anomalies (run, watch, top; the
 * holders are in the ledger).
 */
DMARW_SHARED const volatile bool send_balanced DMARW_INIT(true);
/*
 * Address of kretprobe_trampoline when a hook runs as a kretprobe: before
 * 5.15 (x86) the unwinder stops there, so a stack taken under a function
 * with a kretprobe loses that function's callers.  stack_splice() puts them
 * back from the stack taken at that function's entry.  0: nothing to do.
 */
DMARW_SHARED const volatile __u64 kretprobe_tramp DMARW_INIT(0);

/*
 * Set once any device enters DMARW_DEV_UNREGISTERING or a later state
 * (dev_state_set()); before that, dev_troubled() needs no dev_state lookup.
 */
DMARW_SHARED bool devs_leaving DMARW_INIT(false);

#define RINGBUF_SIZE		(1 << 20)

DMARW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RINGBUF_SIZE);
} events SEC(".maps");

DMARW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);			/* struct dma_chan * */
	__type(value, struct dmarw_chan_state);
} chan_state SEC(".maps");

DMARW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);			/* struct dma_device * */
	__type(value, struct dmarw_dev_state);
} dev_state SEC(".maps");

DMARW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DMARW_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct dmarw_hook_stats);
} hook_stats SEC(".maps");

/*
 * State saved at function entry for the matching exit, per task and hook
 * (dma_chan_get() and dma_chan_put() hand theirs over in chan_calls,
 * bpf/ledger.bpf.h, not in this map).
 */
struct inflight_key {
	__u64 pid_tgid;
	__u32 hook;
	__u32 __pad;
};

struct inflight {
	__u64 chan;
	__u64 device;
	__s32 client_count;
	__s32 kref;
	__s32 dev_id;
	__s32 chan_id;
	__u32 flags;
	__u32 slot;		/* get: the channel's ledger slot of its entry */
	__u32 idx;		/* get: the entry's index in the ledger */
	__u32 __pad;
	__u32 ledger;		/* get: enum inflight_ledger */
	__u32 stack_saved;	/* put: its entry saved a stack (it will be sent) */
};

DMARW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct inflight_key);
	__type(value, struct inflight);
} inflight SEC(".maps");

/*
 * The stack of a get or put, taken at the function's entry and carried to
 * its exit: on 5.10 a stack taken in a kretprobe handler unwinds no further
 * than kretprobe_trampoline (unwinding through it came in 5.13).
 */
struct dmarw_entry_stack {
	__u32 nr;
	__u32 __pad;
	__u64 ips[DMARW_MAX_STACK];
};

DMARW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct inflight_key);
	__type(value, struct dmarw_entry_stack);
} entry_stacks SEC(".maps");


#ifdef __TARGET_ARCH_arm64
/* arm64 kprobe entries: the caller's return address (LR), per CPU; see stack_add_lr() */
DMARW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} kentry_lr SEC(".maps");
#endif

#endif /* __DMARW_MAPS_BPF_H */
