/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records and map values shared by the BPF object (bpf/dmarefwatch.bpf.c)
 * and the frontend (src/).  Everything that crosses the ring buffer or is
 * read from a map is laid out here, once.
 */
#ifndef __DMAREFWATCH_H
#define __DMAREFWATCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>	/* userspace; BPF gets the types from vmlinux.h */
#endif

#define DMARW_COMM_LEN		16
#define DMARW_NAME_LEN		32
#define DMARW_MAX_STACK		32

/* What happened.  Numbers are part of the recorded-trace format: append only. */
enum dmarw_event_type {
	DMARW_EV_CHAN_GET = 1,		/* dma_chan_get() returned */
	DMARW_EV_CHAN_PUT = 2,		/* dma_chan_put() returned */
	DMARW_EV_DEV_REGISTER = 3,	/* dma_async_device_register() returned */
	DMARW_EV_DEV_UNREGISTER_BEGIN = 4, /* dma_async_device_unregister() entered */
	DMARW_EV_DEV_UNREGISTER_END = 5, /* dma_async_device_unregister() returned */
	DMARW_EV_DEV_RELEASE = 6,	/* dma_device_release() entered, or inferred */
	DMARW_EV_RELEASE_CHANNEL = 7,	/* dma_release_channel() entered */
	DMARW_EV_REQUEST_CHAN = 8,	/* dma_request_chan() & co returned */
	DMARW_EV_DMAENGINE_GET = 9,	/* dmaengine_get() entered */
	DMARW_EV_DMAENGINE_PUT = 10,	/* dmaengine_put() entered */
	/*
	 * Startup snapshot, from a walk of the kernel's dma_device_list (not
	 * events: the session turns them into a struct snapshot).  SNAP_CHAN
	 * carries chan->dbg_client_name in dev_name when the kernel has it.
	 */
	DMARW_EV_SNAP_DEVICE = 11,
	DMARW_EV_SNAP_CHAN = 12,
	/*
	 * A module's text symbols, read from its symbol table when it loads
	 * (tracepoint module_load, before its init runs): a module that takes
	 * a channel and is gone before we read kallsyms keeps its names.  Not
	 * an event either: the session hands them to ksyms.
	 */
	DMARW_EV_MODULE_SYMS = 13,
	/*
	 * Holders that die: a module is freed (tracepoint module_free, after
	 * its exit ran; the name in module.name), and a device loses its driver
	 * (devres_release_all() returned with dev->driver still set: after the
	 * driver's remove() and its devres; the device in client).
	 */
	DMARW_EV_MODULE_UNLOAD = 14,
	DMARW_EV_CLIENT_UNBIND = 15,
	/*
	 * An outstanding reference of the device being unregistered, copied
	 * from the ledger by the unregister's entry in the same program run,
	 * before its DEV_UNREGISTER_BEGIN: the holders it found, even if they
	 * let go a microsecond later.  Not a get: the holder's fields (pid,
	 * comm, ts, stack, client, ledger_id) are the get's.
	 */
	DMARW_EV_DEV_HOLDER = 16,
	DMARW_EV_MAX
};

/* One hook = one kernel function we attach to (entry, exit or both). */
enum dmarw_hook {
	DMARW_HOOK_CHAN_GET,		/* dma_chan_get (required) */
	DMARW_HOOK_CHAN_PUT,		/* dma_chan_put (required) */
	DMARW_HOOK_DEV_REGISTER,	/* dma_async_device_register */
	DMARW_HOOK_DEV_UNREGISTER,	/* dma_async_device_unregister (required) */
	DMARW_HOOK_DEV_RELEASE,		/* dma_device_release (often inlined) */
	DMARW_HOOK_RELEASE_CHANNEL,	/* dma_release_channel */
	DMARW_HOOK_REQUEST_CHAN,	/* dma_request_chan */
	DMARW_HOOK_REQUEST_CHANNEL,	/* __dma_request_channel */
	DMARW_HOOK_DMAENGINE_GET,	/* dmaengine_get */
	DMARW_HOOK_DMAENGINE_PUT,	/* dmaengine_put */
	DMARW_HOOK_DRIVER_UNBIND,	/* devres_release_all (a driver unbound) */
	DMARW_HOOK_MODULE_FREE,		/* tracepoint module_free */
	DMARW_HOOK_MAX
};

/* dmarw_event.flags */
#define DMARW_F_HAS_RELEASE	(1u << 0) /* device->device_release is set */
#define DMARW_F_PRIVATE		(1u << 1) /* DMA_PRIVATE set in device->cap_mask */
#define DMARW_F_KREF_VALID	(1u << 2) /* kernel has dma_device.ref; kref_* are real */
#define DMARW_F_RELEASE_FIELD	(1u << 3) /* kernel has dma_device.device_release */
#define DMARW_F_RELEASE_INFERRED (1u << 4) /* DEV_RELEASE deduced from the kref,
					     dma_device_release() not hooked */
#define DMARW_F_UNREGISTERED	(1u << 5) /* SNAP_DEVICE: chancnt is 0 on a listed
					     device: unregistered, not released */
/*
 * CHAN_GET/CHAN_PUT of a BPF object that keeps the reference ledger: the
 * holder change is the ledger's (ledger_id), not the engine's to match.
 */
#define DMARW_F_LEDGER		(1u << 7)
/* CHAN_GET: the reference could not be stored in the ledger (full, or the
 * map update failed): its holder is unknown */
#define DMARW_F_LEDGER_LOST	(1u << 8)
/* CHAN_PUT/RELEASE_CHANNEL: prev holds the channel's last release */
#define DMARW_F_PREV_RELEASE	(1u << 9)

/*
 * The client of a channel handed out by dma_request_chan(): the device that
 * asked (chan->slave) and the name it asked for (chan->name, "dma:rx-tx").
 * Request events carry no stack, so it shares the stack's room.  Also the
 * device of DMARW_EV_CLIENT_UNBIND (req "").
 */
struct dmarw_client {
	char dev[DMARW_NAME_LEN];	/* dev_name(chan->slave): "3f202000.mmc" */
	char drv[DMARW_NAME_LEN];	/* chan->slave->driver->name, "" unbound */
	char req[DMARW_NAME_LEN];	/* chan->name: "dma:rx-tx" */
	__u64 device;			/* struct device * (chan->slave): identity only */
};

/*
 * DMARW_EV_MODULE_SYMS: up to DMARW_MODSYMS symbols of module @module per
 * record; flags DMARW_F_LAST on the module's last record.
 */
#define DMARW_MODSYMS		3
#define DMARW_MODSYM_LEN	52
#define DMARW_MODNAME_LEN	56	/* MODULE_NAME_LEN on 64-bit */
#define DMARW_F_LAST		(1u << 6)

struct dmarw_modsyms {
	char module[DMARW_MODNAME_LEN];
	__u32 nr;			/* valid entries in sym[] */
	__s32 symtab_nr;		/* DMARW_F_LAST: entries in the module's
					   symbol table, -1 more than the program
					   walks (the rest come from kallsyms) */
	struct {
		__u64 addr;
		__u32 size;		/* st_size */
		char name[DMARW_MODSYM_LEN];
	} sym[DMARW_MODSYMS];
};

/* DMARW_EV_MODULE_UNLOAD: the module being freed. */
struct dmarw_module_gone {
	char name[DMARW_MODNAME_LEN];	/* mod->name */
};

/*
 * The channel's last release that dropped a reference (map "last_release",
 * key: struct dma_chan *), kept like lib/ref_tracker.c's quarantine: an
 * unbalanced put carries it.  A balanced put takes no stack (one stack walk
 * per reference, at the get), so this is who released, when, and whose
 * reference it was.
 */
struct dmarw_release {
	__u64 ts_ns;
	__u64 holder_id;		/* the ledger entry it dropped, 0 none */
	__u32 pid;
	__u32 tgid;
	char comm[DMARW_COMM_LEN];
};

/* Ring buffer record; also the unit of a recorded trace (after decoding). */
struct dmarw_event {
	__u64 ts_ns;			/* bpf_ktime_get_ns() */
	__u64 device;			/* struct dma_device *: identity only */
	__u64 chan;			/* struct dma_chan *: identity only, 0 if none */
	__s64 ret;			/* return value (pointer: 0/1 ok, or -errno);
					   0 where the function returns nothing */
	__u32 type;			/* enum dmarw_event_type */
	__u32 hook;			/* enum dmarw_hook that produced it */
	__u32 cpu;
	__u32 pid;			/* kernel tid */
	__u32 tgid;
	__u32 flags;			/* DMARW_F_* */
	__s32 dev_id;			/* dma_device.dev_id, -1 unknown */
	__s32 chan_id;			/* dma_chan.chan_id, -1 none */
	__s32 client_count_before;	/* chan->client_count at entry, -1 unknown */
	__s32 client_count_after;	/* chan->client_count at exit, -1 unknown */
	__s32 kref_before;		/* device->ref at entry, -1 unknown */
	__s32 kref_after;		/* device->ref at exit, -1 unknown */
	__u32 nr_stack;			/* valid entries in stack[] */
	__s32 dev_in_use;		/* the device's channels with client_count > 0:
					   read at exit under dma_list_mutex (get,
					   put), at entry (unregister begin, release),
					   at exit (unregister end), by the startup
					   walk (SNAP_DEVICE); -1 unknown */
	/*
	 * CHAN_GET: the ledger entry this get made (0: none, see
	 * DMARW_F_LEDGER_LOST); CHAN_PUT: the entry it dropped a reference
	 * of (0: a reference the ledger does not hold: predating tracing, or
	 * its get not recorded).  DEV_HOLDER: the entry copied.
	 */
	__u64 ledger_id;
	__u32 ledger_refs;		/* DEV_HOLDER: references the entry holds */
	__u32 __pad;
	struct dmarw_release prev;	/* DMARW_F_PREV_RELEASE */
	char comm[DMARW_COMM_LEN];
	char dev_name[DMARW_NAME_LEN];	/* dev_name(device->dev): "dmarw-prov.0" */
	char drv_name[DMARW_NAME_LEN];	/* device->dev->driver->name */
	union {
		/* kernel return addresses, innermost first */
		__u64 stack[DMARW_MAX_STACK];
		/*
		 * DMARW_EV_REQUEST_CHAN of dma_request_chan(): "" when unknown;
		 * DMARW_EV_CLIENT_UNBIND: the device unbound
		 */
		struct dmarw_client client;
		/* DMARW_EV_MODULE_UNLOAD */
		struct dmarw_module_gone module;
		/* DMARW_EV_MODULE_SYMS */
		struct dmarw_modsyms modsyms;
	};
	/* CHAN_GET, DEV_HOLDER: the holder's client (set by its request) */
	struct dmarw_client holder_client;
};

/*
 * The reference ledger (array map "ledger"): one entry per outstanding
 * channel reference taken by a traced dma_chan_get(), written by the get
 * (its stack straight into the value), dropped by the put matched to it:
 * same tgid, else a reference the ledger does not hold (predating
 * tracing), else the oldest.  get and put run under dma_list_mutex, so a
 * channel's entries are its slots 0..n-1 (n in chan_state.ledger_slots,
 * their entries' indices in chan_state.ledger_idx) and never race.  An
 * entry with id 0 is free (or a get's still in progress).
 */
#define DMARW_LEDGER_SCAN	8	/* slots a put searches for its tgid */
#define DMARW_CHAN_SLOTS	32	/* entries one channel can have */

/* A holder's identity: its channel and slot (not a map key any more). */
struct dmarw_ledger_key {
	__u64 chan;			/* struct dma_chan * */
	__u32 slot;
	__u32 __pad;
};

struct dmarw_holder {
	__u64 id;			/* 1, 2, ... in order of the gets; 0 free */
	__u64 ts_ns;			/* the get's */
	__u64 device;			/* struct dma_device * */
	__u64 chan;			/* struct dma_chan * */
	__u32 slot;			/* in the channel's chan_state.ledger_idx */
	__u32 __pad;
	__u32 pid;
	__u32 tgid;
	__s32 dev_id;
	__s32 chan_id;
	__s32 client_count_before;	/* at the get's entry */
	__s32 client_count_after;	/* at its exit */
	__u32 refs;			/* references this entry still holds */
	__u32 flags;			/* DMARW_F_* of the device at the get */
	__u32 nr_stack;			/* 0: no stack (--no-stacks, or it failed) */
	char comm[DMARW_COMM_LEN];
	char dev_name[DMARW_NAME_LEN];
	char drv_name[DMARW_NAME_LEN];
	struct dmarw_client client;	/* set by the request's exit; "" unknown */
	__u64 stack[DMARW_MAX_STACK];
};

/* Device state kept by the BPF programs (map "dev_state", key: struct dma_device *). */
enum dmarw_dev_phase {
	DMARW_DEV_UNKNOWN = 0,		/* seen first through a channel event */
	DMARW_DEV_REGISTERED = 1,
	DMARW_DEV_UNREGISTERING = 2,
	DMARW_DEV_UNREGISTERED = 3,
	DMARW_DEV_RELEASED = 4,
};

struct dmarw_dev_state {
	__s32 dev_id;
	__s32 kref;			/* last value read, -1 unknown */
	__u32 state;			/* enum dmarw_dev_phase */
	__u32 flags;			/* DMARW_F_* */
	__u64 last_ts_ns;
	char dev_name[DMARW_NAME_LEN];
	char drv_name[DMARW_NAME_LEN];
};

/* Channel state (map "chan_state", key: struct dma_chan *). */
struct dmarw_chan_state {
	__u64 device;
	__s32 dev_id;
	__s32 chan_id;
	__s32 client_count;		/* last value read from the kernel */
	__u32 __pad;
	__u64 gets;			/* successful dma_chan_get() */
	__u64 failed_gets;
	__u64 puts;			/* dma_chan_put() that decremented */
	__u64 noop_puts;		/* dma_chan_put() on client_count == 0 */
	__u64 last_ts_ns;
	__u32 ledger_slots;		/* entries in the ledger for this channel */
	__u32 ledger_refs;		/* references they hold */
	__u32 unrecorded;		/* references whose get found the ledger full */
	__u32 __pad2;
	__u32 ledger_idx[DMARW_CHAN_SLOTS]; /* slot -> index of its ledger entry */
	struct dmarw_release last_release; /* the last put that dropped a reference */
};

/* Per-hook counters (per-CPU array "hook_stats", index: enum dmarw_hook). */
struct dmarw_hook_stats {
	__u64 hits;			/* times the hook ran */
	__u64 lost;			/* ring buffer reservations that failed */
	__u64 ledger_full;		/* a reference not stored: the ledger, or the
					   channel's DMARW_CHAN_SLOTS, was full */
	__u64 stack_failed;		/* bpf_get_stack() returned an error */
	__u64 map_failed;		/* another map update failed */
	__u64 sent;			/* records submitted to the ring buffer */
};

#endif /* __DMAREFWATCH_H */
