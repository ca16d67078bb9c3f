/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The engine's view of one kernel event: a decoded struct dmarw_event with
 * kernel pointers replaced by opaque keys and the stack symbolized.  The live
 * decoder (src/decoder.c), the trace-file reader (src/trace_file.c) and the
 * unit tests all produce this, so the engine cannot tell them apart.
 */
#ifndef __DMARW_EVENT_H
#define __DMARW_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "../bpf/dmarefwatch.h"

#define RW_FUNC_LEN	64
#define RW_MODULE_LEN	56
#define RW_CLIENT_LEN	(2 * DMARW_NAME_LEN)

struct rw_frame {
	char func[RW_FUNC_LEN];		/* symbol, "" if unknown */
	uint32_t offset;		/* offset into func */
	char module[RW_MODULE_LEN];	/* "" for vmlinux, else module name */
	int8_t core;			/* dmaengine core or tracer frame: 1 yes,
					 * -1 no, 0 not known (decided by name) */
};

/* The channel's last release, as an unbalanced put carries it (DMARW_F_PREV_RELEASE). */
struct rw_release {
	uint64_t ts_ns;
	uint64_t holder_id;		/* the ledger entry it dropped, 0 none */
	uint32_t pid;
	uint32_t tgid;
	char comm[DMARW_COMM_LEN];
};

struct rw_event {
	enum dmarw_event_type type;
	enum dmarw_hook hook;
	uint64_t ts_ns;			/* monotonic, kernel clock */
	uint32_t cpu;
	uint32_t pid;
	uint32_t tgid;
	char comm[DMARW_COMM_LEN];
	uint64_t device_key;		/* opaque, stable within one trace; 0 none */
	uint64_t chan_key;		/* opaque, stable within one trace; 0 none */
	int32_t dev_id;
	int32_t chan_id;
	char dev_name[DMARW_NAME_LEN];
	char drv_name[DMARW_NAME_LEN];
	int64_t ret;
	int32_t client_count_before;
	int32_t client_count_after;
	int32_t kref_before;
	int32_t kref_after;
	uint32_t flags;			/* DMARW_F_* */
	uint32_t nr_frames;
	struct rw_frame frames[DMARW_MAX_STACK];
	/* the device's channels in use, read with kref_after; -1 unknown */
	int32_t dev_in_use;
	/*
	 * DMARW_EV_REQUEST_CHAN of dma_request_chan(): the client device and
	 * the name it asked for, as the kernel's debugfs prints it
	 * ("3f202000.mmc:rx-tx"), and its driver; "" unknown
	 */
	char client[RW_CLIENT_LEN];
	char client_drv[DMARW_NAME_LEN];
	/*
	 * The client device (chan->slave) of a request, or the device of
	 * DMARW_EV_CLIENT_UNBIND: opaque, stable within one trace; 0 none
	 */
	uint64_t client_key;
	/* DMARW_EV_MODULE_UNLOAD: the module freed */
	char module[RW_MODULE_LEN];
	/*
	 * CHAN_GET: the ledger entry it made; CHAN_PUT: the one it dropped a
	 * reference of (0: not in the ledger); DEV_HOLDER and ledger entries:
	 * the entry.  Meaningful with DMARW_F_LEDGER (and on ledger entries).
	 */
	uint64_t ledger_id;
	uint32_t ledger_refs;		/* DEV_HOLDER, ledger entries: references held */
	struct rw_release prev;		/* DMARW_F_PREV_RELEASE */
};

const char *rw_event_type_name(enum dmarw_event_type type);	/* "chan-get" ... */
int rw_event_type_parse(const char *name);			/* -1 if unknown */
const char *rw_hook_name(enum dmarw_hook hook);			/* "dma_chan_get" ... */
int rw_hook_parse(const char *name);				/* -1 if unknown */

/*
 * How a hook is attached.  The names ("fentry", "kprobe", "tracepoint",
 * "unavailable", "" unset) exist only at the edges: trace files, reports,
 * metrics, the screen.
 */
enum rw_hook_mode {
	RW_HOOK_UNSET = 0,		/* not said (a trace without its hook line) */
	RW_HOOK_FENTRY,			/* fentry/fexit (BPF trampoline) */
	RW_HOOK_KPROBE,			/* kprobe/kretprobe */
	RW_HOOK_TRACEPOINT,		/* a raw tracepoint */
	RW_HOOK_UNAVAILABLE,		/* chosen or refused: not attached */
	RW_HOOK_MODE_MAX
};

const char *rw_hook_mode_name(enum rw_hook_mode mode);		/* "fentry" ... "" unset */
int rw_hook_mode_parse(const char *name);			/* -1 if unknown */
/* fentry, kprobe or tracepoint: the hook ran in the kernel */
static inline bool rw_hook_mode_attached(enum rw_hook_mode mode)
{
	return mode == RW_HOOK_FENTRY || mode == RW_HOOK_KPROBE || mode == RW_HOOK_TRACEPOINT;
}

#endif /* __DMARW_EVENT_H */
