/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The service's state pinned in bpffs: `watch --service` pins its reference
 * ledger, channel and device state and hook counters in one directory
 * (DMARW_PIN_DIR, or $DMAREFWATCH_PIN_DIR), with an "owner" map saying who
 * owns them; top, snapshot and trace read them read-only while the owner
 * runs.  Only maps are pinned, never a program or link: the programs stay
 * attached only while the service's process lives.
 */
#ifndef __DMARW_BPF_PIN_H
#define __DMARW_BPF_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pin_owner.h"

#define DMARW_PIN_DIR	"/sys/fs/bpf/dmarefwatch"

/* The maps of the directory, in the order they are pinned ("owner" last). */
enum pin_map {
	PIN_MAP_LEDGER,		/* struct dmarw_ledger_key -> struct dmarw_holder */
	PIN_MAP_CHAN_STATE,	/* struct dma_chan * -> struct dmarw_chan_state */
	PIN_MAP_DEV_STATE,	/* struct dma_device * -> struct dmarw_dev_state */
	PIN_MAP_HOOK_STATS,	/* enum dmarw_hook -> struct dmarw_hook_stats, per CPU */
	PIN_MAP_GONE,		/* ledger id -> struct dmarw_pin_gone (the service writes it) */
	PIN_MAP_OWNER,		/* 0 -> struct dmarw_pin_owner */
	PIN_MAP_MAX
};
/* The BPF object's maps come first. */
#define PIN_MAP_NR_BPF	PIN_MAP_GONE

const char *pin__map_name(enum pin_map m);
/* $DMAREFWATCH_PIN_DIR, else DMARW_PIN_DIR. */
const char *pin__dir(void);

enum pin_found {
	PIN_FOUND_NONE,		/* no directory: no service */
	PIN_FOUND_LIVE,		/* a running service's: *owner filled */
	PIN_FOUND_STALE,	/* left by a dead service: why says */
	PIN_FOUND_FOREIGN,	/* a running service of another format: why says */
	PIN_FOUND_DENIED,	/* cannot be read (permissions): why says */
};

/* Look for a service's state in @dir; never modifies anything. */
enum pin_found pin__find(const char *dir, struct dmarw_pin_owner *owner, char *why,
			 size_t len);
/*
 * Publish the BPF maps @fds, a "gone" map made here (its fd in *@gone_fd,
 * the caller's to write and close) and an owner record (filled here from
 * @owner's modes and capacity) in @dir: a stale directory is removed first
 * (said on stderr), a live owner's is never touched (-EBUSY).  0, or -errno
 * with one line in @err; on failure nothing is left in @dir.
 */
int pin__publish(const char *dir, const int fds[PIN_MAP_NR_BPF], struct dmarw_pin_owner *owner,
		 int *gone_fd, char *err, size_t errlen);
/* Remove @dir and what it holds (the owner first: readers stop trusting it). */
void pin__remove(const char *dir);
/*
 * Open the maps of a live service's @dir read-only into @fds (PIN_MAP_OWNER
 * excluded); the caller closes them.  0, or -errno with one line in @err.
 */
int pin__open(const char *dir, int fds[PIN_MAP_OWNER], char *err, size_t errlen);
/* Every entry of a "gone" map (@fd from pin__open(), or the service's own). */
void pin__read_gone(int fd, void (*fn)(void *ctx, uint64_t id, const struct dmarw_pin_gone *g),
		    void *ctx);
/* The service's verdict on holder @id; 0 or -errno. */
int pin__put_gone(int fd, uint64_t id, const struct dmarw_pin_gone *g);
/* Remove the entries @keep says no to (64 per call: the rest at the next). */
void pin__prune_gone(int fd, bool (*keep)(void *ctx, uint64_t id), void *ctx);

#endif /* __DMARW_BPF_PIN_H */
