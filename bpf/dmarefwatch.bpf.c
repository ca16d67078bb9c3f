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
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "dmarefwatch.h"

char LICENSE[] SEC("license") = "GPL";

#define MAX_CHANNELS_WALKED	64
#define MAX_ERRNO		4095

/* Set by the loader before load. */
const volatile bool capture_stack = true;
const volatile bool release_hooked = false;	/* dma_device_release attached */
/*
 * Address of kretprobe_trampoline when a hook runs as a kretprobe: before
 * 5.15 (x86) the unwinder stops there, so a stack taken under a function
 * with a kretprobe loses that function's callers.  stack_splice() puts them
 * back from the stack taken at that function's entry.  0: nothing to do.
 */
const volatile __u64 kretprobe_tramp = 0;

#define RINGBUF_SIZE		(1 << 20)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RINGBUF_SIZE);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);			/* struct dma_chan * */
	__type(value, struct dmarw_chan_state);
} chan_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);			/* struct dma_device * */
	__type(value, struct dmarw_dev_state);
} dev_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DMARW_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct dmarw_hook_stats);
} hook_stats SEC(".maps");

/* State saved at function entry for the matching exit, per task and hook. */
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
	__u32 __pad;
};

struct {
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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct inflight_key);
	__type(value, struct dmarw_entry_stack);
} entry_stacks SEC(".maps");

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
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} kentry_lr SEC(".maps");

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

/* The kernel stack of this program's context, as the frames a reader needs. */
static __always_inline void stack_capture(void *ctx, __u64 *ips, __u32 *nr, __u32 hook)
{
	long n = bpf_get_stack(ctx, ips, DMARW_MAX_STACK * sizeof(__u64), 0);

	*nr = n > 0 ? n / sizeof(__u64) : 0;
	stack_add_lr(ips, nr);
	stack_splice(ips, nr, hook);
}

/* vmlinux BTF also has an ISA-DMA "struct dma_chan" (kernel/dma.c); only the
 * dmaengine one has the fields read below, so CO-RE picks it. */

static __always_inline struct dmarw_hook_stats *hook_hit(__u32 hook)
{
	struct dmarw_hook_stats *st = bpf_map_lookup_elem(&hook_stats, &hook);

	if (st)
		st->hits++;
	return st;
}

/*
 * A kernel pointer stored in kernel memory.  BPF pointers are 8 bytes, a
 * 32-bit kernel's 4: there BPF_CORE_READ() would take the next field as the
 * upper half, so read 4 bytes (little-endian: the low half) into a zeroed
 * value.  On a 64-bit kernel it is BPF_CORE_READ().
 */
#ifdef __TARGET_ARCH_arm
#define READ_KPTR(src, field) ({					\
	__u32 __p = 0;							\
	bpf_core_read(&__p, sizeof(__p), &(src)->field);		\
	(typeof((src)->field))(unsigned long)__p;			\
})
/* src->a->b, the pointer src->a read as above */
#define READ_KPTR2(src, a, b) ({					\
	typeof((src)->a) __q = READ_KPTR(src, a);			\
	READ_KPTR(__q, b);						\
})
/* the same for a pointer at @addr, a struct no CO-RE relocation names */
#define READ_KPTR_AT(dst, addr) ({					\
	__u32 __p = 0;							\
	long __err = bpf_probe_read_kernel(&__p, sizeof(__p), addr);	\
	(dst) = (typeof(dst))(unsigned long)__p;			\
	__err;								\
})
#else
#define READ_KPTR(src, field) BPF_CORE_READ(src, field)
#define READ_KPTR2(src, a, b) BPF_CORE_READ(src, a, b)
#define READ_KPTR_AT(dst, addr) bpf_probe_read_kernel(&(dst), sizeof(dst), addr)
#endif

static __always_inline __s32 read_kref(struct dma_device *device)
{
	if (!device || !bpf_core_field_exists(device->ref))
		return -1;
	return BPF_CORE_READ(device, ref.refcount.refs.counter);
}

static __always_inline __u32 dev_flags(struct dma_device *device)
{
	__u32 flags = 0;
	unsigned long bits0;
	int priv;

	if (!device)
		return 0;
	if (bpf_core_field_exists(device->ref))
		flags |= DMARW_F_KREF_VALID;
	if (bpf_core_field_exists(device->device_release)) {
		flags |= DMARW_F_RELEASE_FIELD;
		if (READ_KPTR(device, device_release))
			flags |= DMARW_F_HAS_RELEASE;
	}
	priv = bpf_core_enum_value(enum dma_transaction_type, DMA_PRIVATE);
	bits0 = BPF_CORE_READ(device, cap_mask.bits[0]);
	if (priv >= 0 && priv < 64 && (bits0 & (1UL << priv)))
		flags |= DMARW_F_PRIVATE;
	return flags;
}

/* Sum of client_count over the device's channels, and channels in use. */
static __always_inline void walk_channels(struct dma_device *device,
					  __s32 *clients, __s32 *in_use)
{
	struct list_head *head, *pos;
	struct dma_chan *chan;
	__s32 sum = 0, used = 0;
	int i, cc;

	*clients = -1;
	*in_use = -1;
	if (!device)
		return;
	head = (void *)device + bpf_core_field_offset(struct dma_device, channels);
	pos = READ_KPTR(device, channels.next);
	for (i = 0; i < MAX_CHANNELS_WALKED; i++) {
		if (!pos || pos == head)
			break;
		chan = (void *)pos - bpf_core_field_offset(struct dma_chan, device_node);
		cc = BPF_CORE_READ(chan, client_count);
		sum += cc;
		if (cc > 0)
			used++;
		pos = READ_KPTR(pos, next);
	}
	if (pos != head)
		return;		/* list longer than we walk: say unknown */
	*clients = sum;
	*in_use = used;
}

static __always_inline struct dmarw_event *
event_begin(void *ctx, __u32 type, __u32 hook, struct dma_device *device,
	    struct dma_chan *chan, struct dmarw_hook_stats *st)
{
	struct dmarw_event *ev;
	struct device *dev;
	__u64 id;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		if (st)
			st->lost++;
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
	ev->flags = dev_flags(device);
	ev->dev_id = device ? BPF_CORE_READ(device, dev_id) : -1;
	ev->chan_id = chan ? BPF_CORE_READ(chan, chan_id) : -1;
	ev->client_count_before = -1;
	ev->client_count_after = -1;
	ev->kref_before = -1;
	ev->kref_after = -1;
	ev->nr_stack = 0;
	ev->dev_in_use = -1;
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
	/*
	 * Request events only name the caller's intent: the get has the stack.
	 * Gets and puts bring the stack taken at their entry (entry_stacks);
	 * dma_release_channel takes one only when it is unbalanced.
	 */
	if (capture_stack && type != DMARW_EV_REQUEST_CHAN && type != DMARW_EV_CHAN_GET &&
	    type != DMARW_EV_CHAN_PUT && type != DMARW_EV_RELEASE_CHANNEL &&
	    type < DMARW_EV_SNAP_DEVICE) {
		stack_capture(ctx, ev->stack, &ev->nr_stack, hook);
	}
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

/* Per-channel counters, kept whether or not the event reaches userspace. */
static __always_inline void chan_account(__u64 chan, __u64 device, __s32 dev_id,
					 __s32 chan_id, __s32 client_count, __u64 ts,
					 enum chan_op op)
{
	struct dmarw_chan_state *cs, zero = {};

	cs = bpf_map_lookup_elem(&chan_state, &chan);
	if (!cs) {
		bpf_map_update_elem(&chan_state, &chan, &zero, BPF_NOEXIST);
		cs = bpf_map_lookup_elem(&chan_state, &chan);
		if (!cs)
			return;
	}
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
}

/* Device state, kept whether or not the event reaches userspace. */
static __always_inline void dev_account(__u64 device, __s32 dev_id, __s32 kref,
					__u32 flags, __u32 state, __u64 ts)
{
	struct dmarw_dev_state *ds, zero = {};

	if (!device)
		return;
	ds = bpf_map_lookup_elem(&dev_state, &device);
	if (!ds) {
		bpf_map_update_elem(&dev_state, &device, &zero, BPF_NOEXIST);
		ds = bpf_map_lookup_elem(&dev_state, &device);
		if (!ds)
			return;
	}
	ds->dev_id = dev_id;
	ds->kref = kref;
	ds->flags = flags;
	ds->last_ts_ns = ts;
	if (state != DMARW_DEV_UNKNOWN)
		ds->state = state;
}

static __always_inline void inflight_save(__u32 hook, struct dma_chan *chan,
					  struct dma_device *device, __s32 cc,
					  __s32 kref)
{
	struct inflight_key key = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };
	struct inflight val = {
		.chan = (__u64)chan, .device = (__u64)device,
		.client_count = cc, .kref = kref,
		.dev_id = device ? BPF_CORE_READ(device, dev_id) : -1,
		.chan_id = chan ? BPF_CORE_READ(chan, chan_id) : -1,
		.flags = dev_flags(device),
	};

	bpf_map_update_elem(&inflight, &key, &val, BPF_ANY);
}

static __always_inline void entry_stack_save(void *ctx, __u32 hook)
{
	struct inflight_key key = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };
	struct dmarw_entry_stack *es;

	if (!capture_stack)
		return;
	bpf_map_update_elem(&entry_stacks, &key, &empty_stack, BPF_ANY);
	es = bpf_map_lookup_elem(&entry_stacks, &key);
	if (!es)
		return;
	stack_capture(ctx, es->ips, &es->nr, hook);
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
	ev = event_begin(ctx, DMARW_EV_DEV_RELEASE, hook, NULL, NULL, st);
	if (!ev)
		return;
	ev->device = in->device;
	ev->dev_id = in->dev_id;
	ev->flags = in->flags | DMARW_F_RELEASE_INFERRED;
	ev->kref_before = 1;
	ev->kref_after = 0;
	event_submit(ev);
}

/* ---- dma_chan_get(struct dma_chan *chan) -> int ---- */

static __always_inline void chan_get_enter(void *ctx, struct dma_chan *chan)
{
	struct dma_device *device = READ_KPTR(chan, device);

	entry_stack_save(ctx, DMARW_HOOK_CHAN_GET);
	inflight_save(DMARW_HOOK_CHAN_GET, chan, device,
		      BPF_CORE_READ(chan, client_count), read_kref(device));
}

static __always_inline void chan_get_exit(void *ctx, long ret)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_CHAN_GET);
	struct dma_device *device;
	struct dmarw_event *ev;
	struct dma_chan *chan;
	struct inflight in;
	__s32 cc, kref, sum, in_use;
	__u64 ts = bpf_ktime_get_ns();

	if (!inflight_take(DMARW_HOOK_CHAN_GET, &in))
		return;
	chan = (void *)in.chan;
	device = (void *)in.device;
	cc = BPF_CORE_READ(chan, client_count);
	kref = read_kref(device);
	walk_channels(device, &sum, &in_use);
	chan_account(in.chan, in.device, in.dev_id, in.chan_id, cc, ts,
		     ret ? CHAN_OP_FAILED_GET : CHAN_OP_GET);
	dev_account(in.device, in.dev_id, kref, in.flags, DMARW_DEV_UNKNOWN, ts);
	ev = event_begin(ctx, DMARW_EV_CHAN_GET, DMARW_HOOK_CHAN_GET, device, chan, st);
	if (!ev) {
		entry_stack_forget(DMARW_HOOK_CHAN_GET);
		return;
	}
	entry_stack_take(DMARW_HOOK_CHAN_GET, ev);
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
	chan_get_enter(ctx, chan);
	return 0;
}

SEC("fexit/dma_chan_get")
int BPF_PROG(fexit_dma_chan_get, struct dma_chan *chan, int ret)
{
	chan_get_exit(ctx, ret);
	return 0;
}

SEC("kprobe/dma_chan_get")
int BPF_KPROBE(kprobe_dma_chan_get, struct dma_chan *chan)
{
	KENTRY_BEGIN(ctx);
	chan_get_enter(ctx, chan);
	KENTRY_END();
	return 0;
}

SEC("kretprobe/dma_chan_get")
int BPF_KRETPROBE(kretprobe_dma_chan_get, int ret)
{
	chan_get_exit(ctx, ret);
	return 0;
}

/* ---- dma_chan_put(struct dma_chan *chan) ---- */

static __always_inline void chan_put_enter(void *ctx, struct dma_chan *chan)
{
	struct dma_device *device = READ_KPTR(chan, device);

	entry_stack_save(ctx, DMARW_HOOK_CHAN_PUT);
	inflight_save(DMARW_HOOK_CHAN_PUT, chan, device,
		      BPF_CORE_READ(chan, client_count), read_kref(device));
}

static __always_inline void chan_put_exit(void *ctx)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_CHAN_PUT);
	struct dma_device *device;
	struct dmarw_event *ev;
	struct dma_chan *chan;
	struct inflight in;
	bool released = false;
	__s32 kref_after, cc_after, sum, in_use = 0;
	__u64 ts = bpf_ktime_get_ns();

	if (!inflight_take(DMARW_HOOK_CHAN_PUT, &in))
		return;
	chan = (void *)in.chan;
	device = (void *)in.device;
	/*
	 * When this put dropped the last device reference the device and its
	 * channels may be freed already: what we read after it is only used
	 * to see that the kref changed.
	 */
	kref_after = read_kref(device);
	if (in.kref == 1 && in.client_count >= 1 &&
	    (in.client_count == 1 || kref_after != 1))
		released = true;
	if (released) {
		cc_after = in.client_count - 1;
		kref_after = 0;
	} else {
		cc_after = BPF_CORE_READ(chan, client_count);
		walk_channels(device, &sum, &in_use);
	}
	chan_account(in.chan, in.device, in.dev_id, in.chan_id, cc_after, ts,
		     in.client_count == 0 ? CHAN_OP_NOOP_PUT : CHAN_OP_PUT);
	dev_account(in.device, in.dev_id, kref_after, in.flags,
		    released ? DMARW_DEV_RELEASED : DMARW_DEV_UNKNOWN, ts);
	ev = event_begin(ctx, DMARW_EV_CHAN_PUT, DMARW_HOOK_CHAN_PUT,
			 released ? NULL : device, released ? NULL : chan, st);
	if (!ev)
		entry_stack_forget(DMARW_HOOK_CHAN_PUT);
	if (ev) {
		entry_stack_take(DMARW_HOOK_CHAN_PUT, ev);
		/* identity comes from the entry when the device is gone */
		ev->device = in.device;
		ev->chan = in.chan;
		ev->dev_id = in.dev_id;
		ev->chan_id = in.chan_id;
		ev->flags = in.flags;
		ev->client_count_before = in.client_count;
		ev->client_count_after = cc_after;
		ev->kref_before = in.kref;
		ev->kref_after = kref_after;
		ev->dev_in_use = in_use;
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
	chan_put_enter(ctx, chan);
	return 0;
}

SEC("fexit/dma_chan_put")
int BPF_PROG(fexit_dma_chan_put, struct dma_chan *chan)
{
	chan_put_exit(ctx);
	return 0;
}

SEC("kprobe/dma_chan_put")
int BPF_KPROBE(kprobe_dma_chan_put, struct dma_chan *chan)
{
	KENTRY_BEGIN(ctx);
	chan_put_enter(ctx, chan);
	KENTRY_END();
	return 0;
}

SEC("kretprobe/dma_chan_put")
int BPF_KRETPROBE(kretprobe_dma_chan_put)
{
	chan_put_exit(ctx);
	return 0;
}

/* ---- dma_async_device_register(struct dma_device *device) -> int ---- */

static __always_inline void dev_register_exit(void *ctx, struct dma_device *device, long ret,
					     bool kretprobe)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_DEV_REGISTER);
	struct dmarw_event *ev;
	__s32 in_use;

	if (!ret)
		dev_account((__u64)device, BPF_CORE_READ(device, dev_id), read_kref(device),
			    dev_flags(device), DMARW_DEV_REGISTERED, bpf_ktime_get_ns());
	ev = event_begin(ctx, DMARW_EV_DEV_REGISTER, DMARW_HOOK_DEV_REGISTER,
			 device, NULL, st);
	if (!ev) {
		if (kretprobe)
			entry_stack_forget(DMARW_HOOK_DEV_REGISTER);
		return;
	}
	/* a kretprobe's own stack may end at the trampoline: take the entry's */
	if (kretprobe)
		entry_stack_take(DMARW_HOOK_DEV_REGISTER, ev);
	ev->ret = (int)ret;
	ev->kref_after = read_kref(device);
	/*
	 * Channels in use are not read here: the exit runs after
	 * dma_list_mutex is released, so they are no consistent view with the
	 * kref (check_kref() counts the model's instead).
	 */
	walk_channels(device, &ev->client_count_after, &in_use);
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
	__s32 kref = read_kref(device);

	if (kprobe)
		entry_stack_save(ctx, DMARW_HOOK_DEV_UNREGISTER);
	inflight_save(DMARW_HOOK_DEV_UNREGISTER, NULL, device, 0, kref);
	dev_account((__u64)device, BPF_CORE_READ(device, dev_id), kref, dev_flags(device),
		    DMARW_DEV_UNREGISTERING, bpf_ktime_get_ns());
	ev = event_begin(ctx, DMARW_EV_DEV_UNREGISTER_BEGIN, DMARW_HOOK_DEV_UNREGISTER,
			 device, NULL, st);
	if (!ev)
		return;
	walk_channels(device, &clients, &in_use);
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

	if (!inflight_take(DMARW_HOOK_DEV_UNREGISTER, &in))
		return;
	device = (void *)in.device;
	/* the registration reference was the last one: the device is gone */
	released = in.kref == 1;
	dev_account(in.device, in.dev_id, released ? 0 : read_kref(device), in.flags,
		    DMARW_DEV_UNREGISTERED, bpf_ktime_get_ns());
	ev = event_begin(ctx, DMARW_EV_DEV_UNREGISTER_END, DMARW_HOOK_DEV_UNREGISTER,
			 released ? NULL : device, NULL, st);
	if (ev) {
		ev->device = in.device;
		ev->dev_id = in.dev_id;
		ev->flags = in.flags;
		ev->kref_before = in.kref;
		ev->kref_after = released ? 0 : read_kref(device);
		if (kretprobe)
			entry_stack_take(DMARW_HOOK_DEV_UNREGISTER, ev);
		if (!released)
			walk_channels(device, &ev->client_count_after, &ev->dev_in_use);
		dev_names(ev);
		event_submit(ev);
	} else if (kretprobe) {
		entry_stack_forget(DMARW_HOOK_DEV_UNREGISTER);
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

	device = (void *)ref - bpf_core_field_offset(struct dma_device, ref);
	dev_account((__u64)device, BPF_CORE_READ(device, dev_id), read_kref(device),
		    dev_flags(device), DMARW_DEV_RELEASED, bpf_ktime_get_ns());
	ev = event_begin(ctx, DMARW_EV_DEV_RELEASE, DMARW_HOOK_DEV_RELEASE, device, NULL, st);
	if (!ev)
		return;
	walk_channels(device, &clients, &in_use);
	ev->client_count_before = clients;
	ev->dev_in_use = in_use;
	ev->kref_before = read_kref(device);
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

static __always_inline void release_channel_enter(void *ctx, struct dma_chan *chan)
{
	struct dmarw_hook_stats *st = hook_hit(DMARW_HOOK_RELEASE_CHANNEL);
	struct dma_device *device = READ_KPTR(chan, device);
	struct dmarw_event *ev;

	ev = event_begin(ctx, DMARW_EV_RELEASE_CHANNEL, DMARW_HOOK_RELEASE_CHANNEL,
			 device, chan, st);
	if (!ev)
		return;
	ev->client_count_before = BPF_CORE_READ(chan, client_count);
	ev->kref_before = read_kref(device);
	/*
	 * The put that follows brings the caller's stack; this one is only
	 * worth its cost when the release is unbalanced (client_count != 1).
	 */
	if (capture_stack && ev->client_count_before != 1)
		stack_capture(ctx, ev->stack, &ev->nr_stack, DMARW_HOOK_RELEASE_CHANNEL);
	event_submit(ev);
}

SEC("fentry/dma_release_channel")
int BPF_PROG(fentry_dma_release_channel, struct dma_chan *chan)
{
	release_channel_enter(ctx, chan);
	return 0;
}

SEC("kprobe/dma_release_channel")
int BPF_KPROBE(kprobe_dma_release_channel, struct dma_chan *chan)
{
	KENTRY_BEGIN(ctx);
	release_channel_enter(ctx, chan);
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

/*
 * Who asked for @chan: dma_request_chan() sets chan->slave and chan->name
 * before it returns (5.0+); a mask request leaves them NULL.
 */
static __always_inline void request_client(struct dmarw_event *ev, struct dma_chan *chan)
{
	struct device *slave;

	ev->client.dev[0] = 0;
	ev->client.drv[0] = 0;
	ev->client.req[0] = 0;
	ev->client.device = 0;
	if (!chan || !bpf_core_field_exists(chan->slave))
		return;
	slave = READ_KPTR(chan, slave);
	if (!slave)
		return;
	ev->client.device = (__u64)slave;
	bpf_probe_read_kernel_str(ev->client.dev, sizeof(ev->client.dev),
				  READ_KPTR(slave, kobj.name));
	bpf_probe_read_kernel_str(ev->client.drv, sizeof(ev->client.drv),
				  READ_KPTR2(slave, driver, name));
	if (bpf_core_field_exists(chan->name))
		bpf_probe_read_kernel_str(ev->client.req, sizeof(ev->client.req),
					  READ_KPTR(chan, name));
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
	} else {
		device = READ_KPTR(chan, device);
	}
	if (kretprobe && kretprobe_tramp)
		entry_stack_forget(hook);
	ev = event_begin(ctx, DMARW_EV_REQUEST_CHAN, hook, device, chan, st);
	if (!ev)
		return;
	ev->ret = ret;
	if (chan)
		ev->client_count_after = BPF_CORE_READ(chan, client_count);
	ev->kref_after = read_kref(device);
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
	drv = BPF_CORE_READ(dev, driver);
	if (!drv)
		return;
	ev = event_begin(ctx, DMARW_EV_CLIENT_UNBIND, DMARW_HOOK_DRIVER_UNBIND, NULL, NULL, st);
	if (!ev)
		return;
	ev->client.device = (__u64)dev;
	bpf_probe_read_kernel_str(ev->client.dev, sizeof(ev->client.dev),
				  BPF_CORE_READ(dev, kobj.name));
	bpf_probe_read_kernel_str(ev->client.drv, sizeof(ev->client.drv),
				  BPF_CORE_READ(drv, name));
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
	ev = event_begin(ctx, DMARW_EV_MODULE_UNLOAD, DMARW_HOOK_MODULE_FREE, NULL, NULL, st);
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

	ev = event_begin(ctx, type, hook, NULL, NULL, st);
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

/*
 * ---- startup snapshot: walk dma_device_list ----
 *
 * Run through BPF_PROG_TEST_RUN before the hooks are attached.  Each run
 * emits one record: device number snap_dev when snap_chan is 0, else its
 * channel number snap_chan - 1; the cursor then moves on.  Short bounded
 * loops of pointer chasing keep the verifier's work small on every kernel.
 */
#define MAX_DEVICES_WALKED	64

const volatile __u64 dma_device_list_addr = 0;	/* &dma_device_list, kallsyms */
__u32 snap_dev = 0;
__u32 snap_chan = 0;
__u32 snap_done = 0;

static __always_inline struct dma_device *nth_device(__u32 n)
{
	struct list_head *head = (void *)dma_device_list_addr, *pos = NULL;
	__u32 i;

	READ_KPTR_AT(pos, &head->next);
	for (i = 0; i < MAX_DEVICES_WALKED; i++) {
		if (!pos || pos == head)
			return NULL;
		if (i == n)
			return (void *)pos - bpf_core_field_offset(struct dma_device, global_node);
		READ_KPTR_AT(pos, &pos->next);
	}
	return NULL;
}

static __always_inline struct dma_chan *nth_channel(struct dma_device *device, __u32 n)
{
	struct list_head *head, *pos;
	__u32 i;

	head = (void *)device + bpf_core_field_offset(struct dma_device, channels);
	pos = READ_KPTR(device, channels.next);
	for (i = 0; i < MAX_CHANNELS_WALKED; i++) {
		if (!pos || pos == head)
			return NULL;
		if (i == n)
			return (void *)pos - bpf_core_field_offset(struct dma_chan, device_node);
		pos = READ_KPTR(pos, next);
	}
	return NULL;
}

SEC("raw_tp")
int snapshot_walk(void *ctx)
{
	struct dma_device *device;
	struct dmarw_event *ev;
	struct dma_chan *chan;
	char *name;

	if (!dma_device_list_addr || snap_done)
		return 0;
	device = nth_device(snap_dev);
	if (!device) {
		snap_done = 1;
		return 0;
	}
	if (!snap_chan) {
		ev = event_begin(ctx, DMARW_EV_SNAP_DEVICE, DMARW_HOOK_DEV_REGISTER,
				 device, NULL, NULL);
		if (!ev)
			return 0;	/* ring buffer full: the caller drains, retries */
		ev->kref_after = read_kref(device);
		walk_channels(device, &ev->client_count_after, &ev->dev_in_use);
		/*
		 * Registration fails without channels, unregistration counts
		 * them down to 0 and leaves the device listed until its
		 * release; the driver may have unlinked the channels by then
		 * (bcm2835_dma_free() does).
		 */
		if (!BPF_CORE_READ(device, chancnt))
			ev->flags |= DMARW_F_UNREGISTERED;
		event_submit(ev);
		snap_chan = 1;
		return 0;
	}
	chan = nth_channel(device, snap_chan - 1);
	if (!chan) {
		snap_dev++;
		snap_chan = 0;
		return 0;
	}
	ev = event_begin(ctx, DMARW_EV_SNAP_CHAN, DMARW_HOOK_CHAN_GET, device, chan, NULL);
	if (!ev)
		return 0;
	ev->client_count_after = BPF_CORE_READ(chan, client_count);
	ev->kref_after = read_kref(device);
	ev->dev_name[0] = 0;
	if (bpf_core_field_exists(chan->dbg_client_name)) {
		name = READ_KPTR(chan, dbg_client_name);
		if (name)
			bpf_probe_read_kernel_str(ev->dev_name, sizeof(ev->dev_name), name);
	}
	event_submit(ev);
	snap_chan++;
	return 0;
}

/*
 * ---- module_load: a new module's text symbols, in band ----
 *
 * The tracepoint fires once the module is formed, before its init runs:
 * every frame it can put on a stack from then on is in its symbol table
 * (mod->kallsyms, the full table including .init.text until init is done).
 * Sent in the same ring buffer as the events, so the frontend knows the
 * names before it decodes the first stack through the module, even if the
 * module is gone by then.  Records are built in a per-CPU scratch copy and
 * copied out: no reservation is held across the loop.
 */
/*
 * Symbol table entries walked: with bpf_loop() (5.17+) the callback is
 * verified once.  Before, a chain of tail calls of one program walks
 * MODSYMS_CHUNK entries per run: an unrolled loop over the whole table
 * costs the verifier its length (512 entries: 4 s more per start on 5.10
 * under TCG) and hits its 8192 pending branches at 2048.  The rest come
 * from kallsyms.
 */
#define MODSYMS_LOOPED	16384
#define MODSYMS_CHUNK	64
#define MODSYMS_CHAINED	(MODSYMS_CHUNK * 32)	/* tail calls: 33 runs at most */
#define STT_FUNC	2
#define SHN_LORESERVE	0xff00

/* One module's walk on this CPU: the record being filled and the cursor. */
struct modsyms_state {
	struct dmarw_event ev;
	__u64 symtab;
	__u64 strtab;
	__u32 n;			/* entries in the table */
	__u32 i;			/* next entry (chained walk) */
	__u32 active;			/* a chained walk is under way */
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct modsyms_state);
} modsyms_scratch SEC(".maps");

/* module_load_chained itself, set by the loader */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} modsyms_next SEC(".maps");

/*
 * A module's symbol table: Elf32_Sym on a 32-bit kernel.  A macro, not a
 * typedef: CO-RE looks the accesses' root type up by its name in the
 * kernel's BTF, which has Elf64_Sym and Elf32_Sym but no type of ours.
 */
#ifdef __TARGET_ARCH_arm
#define dmarw_elf_sym Elf32_Sym
#else
#define dmarw_elf_sym Elf64_Sym
#endif

struct modsyms_walk {
	struct dmarw_event *ev;
	dmarw_elf_sym *symtab;
	char *strtab;
};

static __always_inline void modsyms_flush(struct dmarw_event *ev, __u32 last)
{
	ev->flags = last;
	ev->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_output(&events, ev, sizeof(*ev), 0);
	ev->modsyms.nr = 0;
}

/* Entry i of the table: 0 to go on, 1 to stop. */
static __always_inline int modsym_one(__u32 i, struct modsyms_walk *w)
{
	struct dmarw_event *ev = w->ev;
	dmarw_elf_sym sym;
	__u32 k;

	if (bpf_probe_read_kernel(&sym, sizeof(sym), &w->symtab[i]))
		return 1;
	/* defined functions: not the imports (SHN_UNDEF), not SHN_ABS */
	if ((sym.st_info & 0xf) != STT_FUNC || !sym.st_shndx ||
	    sym.st_shndx >= SHN_LORESERVE || !sym.st_value)
		return 0;
	k = ev->modsyms.nr;
	if (k >= DMARW_MODSYMS)
		return 1;
	ev->modsyms.sym[k].addr = sym.st_value;
	ev->modsyms.sym[k].size = sym.st_size;
	bpf_probe_read_kernel_str(ev->modsyms.sym[k].name, sizeof(ev->modsyms.sym[k].name),
				  w->strtab + sym.st_name);
	ev->modsyms.nr = k + 1;
	if (k + 1 == DMARW_MODSYMS)
		modsyms_flush(ev, 0);
	return 0;
}

static long modsym_cb(__u32 i, void *ctx)
{
	return modsym_one(i, ctx);
}

/*
 * Start a module's walk: the first record's header, the table's place in
 * @st and @w; 0 if there is no table.
 */
static __always_inline __u32 modsyms_begin(struct module *mod, struct modsyms_state *st,
					   struct modsyms_walk *w)
{
	struct mod_kallsyms *kallsyms;

	__builtin_memset(&st->ev, 0, sizeof(st->ev));
	st->ev.type = DMARW_EV_MODULE_SYMS;
	st->ev.dev_id = -1;
	st->ev.chan_id = -1;
	st->i = 0;
	st->n = 0;
	bpf_probe_read_kernel_str(st->ev.modsyms.module, sizeof(st->ev.modsyms.module),
				  mod->name);
	kallsyms = READ_KPTR(mod, kallsyms);
	if (!kallsyms)
		return 0;
	st->symtab = (__u64)READ_KPTR(kallsyms, symtab);
	st->strtab = (__u64)READ_KPTR(kallsyms, strtab);
	if (!st->symtab || !st->strtab)
		return 0;
	w->symtab = (void *)st->symtab;
	w->strtab = (void *)st->strtab;
	st->n = BPF_CORE_READ(kallsyms, num_symtab);
	return st->n;
}

static __always_inline void modsyms_end(struct modsyms_state *st, __u32 walked)
{
	st->ev.modsyms.symtab_nr = st->n > walked ? -1 : st->n;
	modsyms_flush(&st->ev, DMARW_F_LAST);
}

static __always_inline struct modsyms_state *modsyms_state(struct modsyms_walk *w)
{
	__u32 zero = 0;
	struct modsyms_state *st = bpf_map_lookup_elem(&modsyms_scratch, &zero);

	if (st) {
		w->ev = &st->ev;
		w->symtab = (void *)st->symtab;
		w->strtab = (void *)st->strtab;
	}
	return st;
}

/*
 * Two programs, the loader loads one: a bpf_loop() callback cannot even be
 * loaded by a kernel that predates it (no BPF_PSEUDO_FUNC before 5.13).
 */
SEC("raw_tp/module_load")
int BPF_PROG(module_load, struct module *mod)
{
	struct modsyms_walk w;
	struct modsyms_state *st;
	__u32 walked;

	st = modsyms_state(&w);
	if (!st || !mod || !modsyms_begin(mod, st, &w))
		return 0;
	walked = st->n < MODSYMS_LOOPED ? st->n : MODSYMS_LOOPED;
	bpf_loop(walked, modsym_cb, &w, 0);
	modsyms_end(st, walked);
	return 0;
}

SEC("raw_tp/module_load")
int BPF_PROG(module_load_chained, struct module *mod)
{
	struct modsyms_walk w;
	struct modsyms_state *st;
	__u32 k, i, stop = 0;

	st = modsyms_state(&w);
	if (!st || !mod)
		return 0;
	if (!st->active) {
		if (!modsyms_begin(mod, st, &w))
			return 0;
		st->active = 1;
	}
	for (k = 0; k < MODSYMS_CHUNK; k++) {
		i = st->i;
		if (i >= st->n || i >= MODSYMS_CHAINED)
			break;
		st->i = i + 1;
		if (modsym_one(i, &w)) {
			stop = 1;
			break;
		}
	}
	if (!stop && st->i < st->n && st->i < MODSYMS_CHAINED)
		bpf_tail_call(ctx, &modsyms_next, 0);
	/* done, stopped, or out of tail calls */
	st->active = 0;
	modsyms_end(st, st->i);
	return 0;
}
