/* SPDX-License-Identifier: GPL-2.0 */
/* Reading dmaengine state from kernel memory with CO-RE, on 32- and 64-bit kernels. */
#ifndef __DMARW_KREAD_BPF_H
#define __DMARW_KREAD_BPF_H

#define MAX_CHANNELS_WALKED	64
#define MAX_ERRNO		4095

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

/*
 * A field of @src, which is a BTF pointer when @btf (a constant) is true:
 * an fentry/fexit program's argument, or a pointer loaded from one.  The
 * verifier lets a program load from those directly (a faulting load gives
 * 0, like a failed bpf_probe_read_kernel()): one instruction instead of a
 * helper call.  The kprobe twins pass false and keep the helper; so does
 * 32-bit ARM, which has no fentry and whose kernel pointers are not BPF's.
 */
#ifdef __TARGET_ARCH_arm
#define KREAD(btf, src, field)		BPF_CORE_READ(src, field)
#define KREAD_KPTR(btf, src, field)	READ_KPTR(src, field)
#else
#define KREAD(btf, src, field)		((btf) ? (src)->field : BPF_CORE_READ(src, field))
#define KREAD_KPTR(btf, src, field)	KREAD(btf, src, field)
#endif

/*
 * A function the verifier checks once, whatever the paths that call it
 * (a global function: scalar arguments only), where the same work inline
 * would be verified again on each of them.  32-bit ARM's JIT has no
 * BPF-to-BPF calls: there it stays inline.
 */
#ifdef __TARGET_ARCH_arm
#define DMARW_VERIFIED_ONCE	static __always_inline
#else
#define DMARW_VERIFIED_ONCE	__noinline
#endif

/*
 * @p's address as a scalar, for a DMARW_VERIFIED_ONCE function's argument:
 * a cast leaves a BTF pointer (an fentry's argument) a pointer to the
 * verifier, so the value is copied out by a helper.
 */
static __always_inline __u64 kaddr(const void *p)
{
	__u64 addr = (unsigned long)p, val = 0;

	bpf_probe_read_kernel(&val, sizeof(val), &addr);
	return val;
}

/* @btf: see KREAD() */
static __always_inline __s32 read_kref(struct dma_device *device, bool btf)
{
	if (!device || !bpf_core_field_exists(device->ref))
		return -1;
	return KREAD(btf, device, ref.refcount.refs.counter);
}

static __always_inline __u32 dev_flags(struct dma_device *device, bool btf)
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
		if (KREAD_KPTR(btf, device, device_release))
			flags |= DMARW_F_HAS_RELEASE;
	}
	priv = bpf_core_enum_value(enum dma_transaction_type, DMA_PRIVATE);
	bits0 = KREAD(btf, device, cap_mask.bits[0]);
	if (priv >= 0 && priv < 64 && (bits0 & (1UL << priv)))
		flags |= DMARW_F_PRIVATE;
	return flags;
}

/*
 * Who asked for @chan into @c: dma_request_chan() sets chan->slave (the
 * device) and chan->name before it returns (5.0+); a mask request leaves
 * them NULL.  False (and @c untouched) when nobody is named.
 */
static __always_inline bool read_client(struct dmarw_client *c, struct dma_chan *chan)
{
	struct device *slave;

	if (!chan || !bpf_core_field_exists(chan->slave))
		return false;
	slave = READ_KPTR(chan, slave);
	if (!slave)
		return false;
	c->device = (__u64)slave;
	bpf_probe_read_kernel_str(c->dev, sizeof(c->dev), READ_KPTR(slave, kobj.name));
	bpf_probe_read_kernel_str(c->drv, sizeof(c->drv), READ_KPTR2(slave, driver, name));
	if (bpf_core_field_exists(chan->name))
		bpf_probe_read_kernel_str(c->req, sizeof(c->req), READ_KPTR(chan, name));
	return true;
}

/*
 * Sum of client_count over the device's channels, and channels in use.
 * Written for the verifier, which walks all 64 steps on every path into
 * it: each step leaves by a return of its own (no flag saying why the loop
 * ended) and counts a channel in use without a branch, so that one path,
 * not several, goes on to the next step.
 */
static __always_inline void walk_channels(struct dma_device *device,
					  __s32 *clients, __s32 *in_use)
{
	struct list_head *head, *pos;
	struct dma_chan *chan;
	__s32 sum = 0, used = 0;
	__u32 neg;
	int i, cc;

	*clients = -1;
	*in_use = -1;
	if (!device)
		return;
	head = (void *)device + bpf_core_field_offset(struct dma_device, channels);
	pos = READ_KPTR(device, channels.next);
	for (i = 0; i < MAX_CHANNELS_WALKED; i++) {
		if (pos == head) {
			*clients = sum;
			*in_use = used;
			return;
		}
		if (!pos)
			return;
		chan = (void *)pos - bpf_core_field_offset(struct dma_chan, device_node);
		cc = BPF_CORE_READ(chan, client_count);
		sum += cc;
		neg = -cc;
		barrier_var(neg);
		used += neg >> 31;	/* cc > 0 */
		pos = READ_KPTR(pos, next);
	}
	/* exactly MAX_CHANNELS_WALKED channels; else longer than we walk: unknown */
	if (pos == head) {
		*clients = sum;
		*in_use = used;
	}
}

#endif /* __DMARW_KREAD_BPF_H */
