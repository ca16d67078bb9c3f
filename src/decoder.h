/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Turns ring-buffer records (struct dmarw_event) into engine events
 * (struct rw_event): kernel pointers become small opaque keys, stacks are
 * symbolized.  Raw kernel addresses stop here.
 */
#ifndef __DMARW_DECODER_H
#define __DMARW_DECODER_H

#include "event.h"

struct decoder;
struct ksyms;

/* ks may be NULL: stacks are then left unsymbolized. */
struct decoder *decoder__new(struct ksyms *ks);
void decoder__free(struct decoder *d);
/*
 * 0; 1 for a record that is no event (a module's symbols, which go to
 * ksyms); -EINVAL for a record that is not ours (bad type).
 */
int decoder__decode(struct decoder *d, const struct dmarw_event *raw, struct rw_event *out);
/*
 * A ledger entry (the holder of an outstanding reference on channel @chan)
 * as a DMARW_EV_DEV_HOLDER event: 0, or -EINVAL.
 */
int decoder__decode_holder(struct decoder *d, uint64_t chan, const struct dmarw_holder *h,
			   struct rw_event *out);
/* Symbols of the module whose table was handed to ksyms last. */
size_t decoder__module_syms(const struct decoder *d);
/* Opaque key for a kernel pointer (0 stays 0); the same pointer, the same key. */
uint64_t decoder__key(struct decoder *d, uint64_t kptr);

#endif /* __DMARW_DECODER_H */
