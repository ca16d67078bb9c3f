/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Choosing, loading and attaching the BPF hooks.  Per hook: fentry/fexit when
 * the function is in vmlinux BTF and an fentry program attaches to it, else
 * kprobe/kretprobe when the symbol is in kallsyms and kprobes exist, else the
 * hook is unavailable and the loader says what that costs.
 */
#ifndef __DMARW_BPF_LOADER_H
#define __DMARW_BPF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../bpf/dmarefwatch.h"
#include "event.h"
#include "bpf_pin.h"

enum attach_mode {
	MODE_AUTO,
	MODE_FENTRY,
	MODE_KPROBE,
};

struct ksyms;

/*
 * The kernel's symbols, read while the loader works: asked for only where
 * they are needed (the kprobe mode's checks, dma_device_list once the
 * programs are loaded, so always before loader__open() succeeds; it fails
 * with "cannot read /proc/kallsyms" when they cannot be had).  NULL,
 * errno set, when they cannot be had.
 */
typedef const struct ksyms *(*loader_ksyms_fn)(void *ctx);

struct loader_opts {
	loader_ksyms_fn ks;	/* kernel symbols: kprobe targets, dma_device_list */
	void *ks_ctx;
	enum attach_mode mode;
	bool stacks;		/* capture a kernel stack with every event */
	bool verbose;		/* libbpf's own messages */
	bool no_hooks;		/* only the snapshot walker: no hook is chosen */
	const char *btf;	/* BTF file for CO-RE instead of the kernel's, or NULL */
	bool send_balanced;	/* every get/put/request as a record (trace); else
				   only what must be seen in order (the ledger
				   holds the rest) */
	uint32_t max_references; /* ledger entries; 0: DMARW_DEFAULT_MAX_REFS */
};

#define DMARW_DEFAULT_MAX_REFS	1024
#define DMARW_MAX_MAX_REFS	(1u << 20)

/* What a hook's programs counted, summed over the CPUs. */
struct loader_hook_stats {
	uint64_t hits;		/* runs */
	uint64_t lost;		/* ring-buffer reservations that failed */
	uint64_t ledger_full;	/* references not stored: the ledger was full */
	uint64_t stack_failed;	/* stacks that could not be taken */
	uint64_t map_failed;	/* other map updates that failed */
	uint64_t sent;		/* records submitted */
};

struct loader;

typedef int (*loader_event_fn)(void *ctx, const struct dmarw_event *ev);

/*
 * After attach: the names and sizes of the programs and trampolines we
 * created, from the kernel's own records of them (bpf_images.h), into @ks.
 * 0, or -errno when they cannot be had that way (read kallsyms's [bpf]
 * lines then).  Once.
 */
int loader__name_images(struct loader *l, struct ksyms *ks);

/*
 * Start-up timing: what=NULL starts the clock; then, when @on (-v), one line
 * "start-up: WHAT N ms" for the time since the previous mark.
 */
void loader__startup_mark(bool on, const char *what);
/*
 * Probe and load (nothing attached yet).  On failure returns -errno (-EPERM,
 * -ENOTSUP, -ENOENT, ...) and writes one line saying why into err.
 */
int loader__open(struct loader **out, const struct loader_opts *opts,
		 loader_event_fn fn, void *ctx, char *err, size_t errlen);
/*
 * Walk the kernel's dma_device_list before attaching: DMARW_EV_SNAP_DEVICE
 * and DMARW_EV_SNAP_CHAN records reach the event callback.  -ENOENT when the
 * list is not in kallsyms, -errno when the kernel cannot run the walker.
 */
int loader__snapshot(struct loader *l);
/* Attach every chosen hook; one line in err on failure. */
int loader__attach(struct loader *l, char *err, size_t errlen);
void loader__close(struct loader *l);
/* The BPF object built into the binary (the ELF file bpftool reads). */
const void *loader__object_bytes(size_t *sz);
/* Consume events: like ring_buffer__poll(); -EINTR on a signal. */
int loader__poll(struct loader *l, int timeout_ms);
/* How @hook is attached; why is a reason when unavailable. */
enum rw_hook_mode loader__hook_mode(const struct loader *l, enum dmarw_hook hook,
				    const char **why);
const char *loader__hook_func(enum dmarw_hook hook);
/* The module_load program is attached: modules' symbols arrive in band. */
bool loader__module_syms_in_band(const struct loader *l);
/* What an unavailable optional hook costs, for the degraded-mode notice. */
const char *loader__hook_cost(enum dmarw_hook hook);
void loader__hook_stats(const struct loader *l, enum dmarw_hook hook,
			struct loader_hook_stats *out);
/*
 * Every entry of the reference ledger map @fd (loader__ledger_fd(), or a
 * service's from pin__open()): batch lookups where the kernel has them
 * (5.6+), else one key at a time.  Returns the number of entries, or
 * -errno.  An entry removed while the map is walked may be missed or seen;
 * an entry present throughout is seen once.
 */
int loader__for_each_holder_in(const struct loader *l, int fd,
			       void (*fn)(void *ctx, const struct dmarw_ledger_key *key,
					  const struct dmarw_holder *h),
			       void *ctx);
/* The ledger map read by the session: our own, or the service's we follow. */
int loader__ledger_fd(const struct loader *l);
/* The ledger's capacity (entries) and the bytes its map preallocates. */
uint32_t loader__ledger_capacity(const struct loader *l, uint64_t *bytes);
/* The kernel truth the BPF programs keep: iterate the state maps. */
int loader__for_each_chan(const struct loader *l,
			  void (*fn)(void *ctx, uint64_t kptr, const struct dmarw_chan_state *st),
			  void *ctx);
int loader__for_each_dev(const struct loader *l,
			 void (*fn)(void *ctx, uint64_t kptr, const struct dmarw_dev_state *st),
			 void *ctx);
/* The maps a service pins (bpf_pin.h): our own state maps' fds. */
void loader__map_fds(const struct loader *l, int fds[PIN_MAP_NR_BPF]);
/*
 * Read a running service's maps (@fds, from pin__open(), still the
 * caller's) instead of our own: holders, channel and device state, hook
 * counters; and report its hooks' modes (@o) as ours.  For a loader opened
 * with no_hooks only.
 */
void loader__follow(struct loader *l, const int fds[PIN_MAP_NR_BPF],
		    const struct dmarw_pin_owner *o);

#endif /* __DMARW_BPF_LOADER_H */
