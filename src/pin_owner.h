/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who owns the service's pinned state (bpf_pin.c): the one record of the
 * "owner" map in the pin directory, and whether the process it names still
 * runs.  Plain C: the unit tests judge owners against a fake /proc.
 */
#ifndef __DMARW_PIN_OWNER_H
#define __DMARW_PIN_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../bpf/dmarefwatch.h"
#include "event.h"

#define DMARW_PIN_MAGIC		0x50575244u	/* "DRWP" */
/*
 * The layout of the pinned maps' values (struct dmarw_holder,
 * dmarw_chan_state, dmarw_dev_state, dmarw_hook_stats) and of this record;
 * bumped when any of them changes.  A reader of another version starts its
 * own session.
 */
#define DMARW_PIN_VERSION	2

/* Value of the "owner" map (an array of one entry, key 0). */
struct dmarw_pin_owner {
	uint32_t magic;			/* DMARW_PIN_MAGIC */
	uint32_t version;		/* DMARW_PIN_VERSION */
	uint32_t pid;			/* the service's process */
	uint32_t max_references;	/* the ledger's capacity */
	uint64_t pid_start;		/* its start time (/proc/PID/stat field 22,
					   clock ticks after boot): a pid reused
					   by another process is not the owner */
	uint64_t since_mono_ns;		/* CLOCK_MONOTONIC when the hooks were attached */
	int64_t since_real_s;		/* the same, CLOCK_REALTIME */
	uint32_t holder_size;		/* sizeof(struct dmarw_holder) */
	uint32_t stacks;		/* 1: holders carry their stack */
	uint8_t hook_mode[DMARW_HOOK_MAX];	/* enum rw_hook_mode of each hook */
	char tool_version[32];		/* DMAREFWATCH_VERSION of the owner */
};

/*
 * Value of the "gone" map (key: the holder's ledger id, __u64): the
 * service saw the holder die (its module unloaded, its client unbound).
 * Readers cannot see that themselves, and once a module is gone they
 * cannot name its code either: the service's names come with it.
 */
struct dmarw_pin_gone {
	uint64_t gone_ns;		/* CLOCK_MONOTONIC of the unload or unbind */
	uint32_t state;			/* enum engine_holder_state */
	uint32_t __pad;
	char what[RW_CLIENT_LEN + DMARW_NAME_LEN + 4];	/* the module, or the device (driver) */
	char function[RW_FUNC_LEN];	/* the holder as the service named it */
	char module[RW_MODULE_LEN];
};

enum pin_verdict {
	PIN_LIVE,			/* its owner runs: read it */
	PIN_STALE,			/* its owner is gone (or it is not ours): ignore, clean */
	PIN_FOREIGN,			/* its owner runs, but writes another format:
					   ignore, never clean */
};

/* Field 22 of @proc/PID/stat; 0, or -errno (-ENOENT: no such process). */
int pin_owner__proc_start(const char *proc, uint32_t pid, uint64_t *start);
/*
 * Whether @o (read from the owner map) names a running service of this
 * format; @proc is "/proc" (tests: a directory of fake PID/stat files).
 * Otherwise one phrase in @why ("its owner, pid 12, is gone").
 */
enum pin_verdict pin_owner__judge(const struct dmarw_pin_owner *o, const char *proc,
				  char *why, size_t len);
/* "service pid 812, since 2026-12-06 10:01:02" (UTC). */
void pin_owner__describe(const struct dmarw_pin_owner *o, char *buf, size_t len);

#endif /* __DMARW_PIN_OWNER_H */
