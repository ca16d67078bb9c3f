// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Ring-buffer record to engine event; see decoder.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decoder.h"
#include "finding.h"
#include "ksyms.h"

#define NR_MISSES	256
#define NR_SYM_CACHE	1024	/* a power of two */

struct key_slot {
	uint64_t kptr;
	uint64_t key;
};

struct decoder {
	struct ksyms *ks;
	struct key_slot *slots;
	size_t nr, cap;		/* cap is a power of two */
	uint64_t next_key;
	/* addresses that did not resolve since the module list last changed */
	uint64_t misses[NR_MISSES];
	unsigned int nr_misses, next_miss;
	/*
	 * The same few call sites come back in every stack: an address seen
	 * before skips the binary search over ~10^5 symbols (the frontend's
	 * biggest cost per event under emulation).  Emptied when a kallsyms
	 * refresh replaced the symbols the slots point to.
	 */
	struct sym_slot {
		uint64_t addr;
		const struct ksym *sym;
		int8_t core;	/* finding_frame_is_core(), once per symbol */
	} cache[NR_SYM_CACHE];
	uint64_t cache_gen;
	uint64_t forced_gen;	/* 1 + generation after the last forced read */
	/* DMARW_EV_MODULE_SYMS records of one module, until its last one */
	struct pending_sym {
		uint64_t addr;
		uint32_t size;
		char name[DMARW_MODSYM_LEN + 1];
	} *pend;
	size_t nr_pend, cap_pend;
	char pend_mod[DMARW_MODNAME_LEN + 1];
	size_t module_syms;	/* symbols the last flush handed over */
};

struct decoder *decoder__new(struct ksyms *ks)
{
	struct decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->ks = ks;
	d->cap = 256;
	d->slots = calloc(d->cap, sizeof(*d->slots));
	if (!d->slots) {
		free(d);
		return NULL;
	}
	d->next_key = 1;
	return d;
}

void decoder__free(struct decoder *d)
{
	if (!d)
		return;
	free(d->pend);
	free(d->slots);
	free(d);
}

static size_t slot_of(uint64_t kptr, size_t cap)
{
	kptr ^= kptr >> 33;
	kptr *= 0xff51afd7ed558ccdULL;
	kptr ^= kptr >> 33;
	return kptr & (cap - 1);
}

static int grow(struct decoder *d)
{
	size_t cap = d->cap * 2, i;
	struct key_slot *n = calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (i = 0; i < d->cap; i++) {
		size_t j;

		if (!d->slots[i].kptr)
			continue;
		for (j = slot_of(d->slots[i].kptr, cap); n[j].kptr; j = (j + 1) & (cap - 1))
			;
		n[j] = d->slots[i];
	}
	free(d->slots);
	d->slots = n;
	d->cap = cap;
	return 0;
}

size_t decoder__module_syms(const struct decoder *d)
{
	return d->module_syms;
}

uint64_t decoder__key(struct decoder *d, uint64_t kptr)
{
	size_t i;

	if (!kptr)
		return 0;
	if ((d->nr + 1) * 2 > d->cap && grow(d))
		return 0;
	for (i = slot_of(kptr, d->cap); d->slots[i].kptr; i = (i + 1) & (d->cap - 1))
		if (d->slots[i].kptr == kptr)
			return d->slots[i].key;
	d->slots[i].kptr = kptr;
	d->slots[i].key = d->next_key++;
	d->nr++;
	return d->slots[i].key;
}

static void copy_str(char *dst, size_t size, const char *src, size_t src_size)
{
	size_t n = strnlen(src, src_size);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static bool missed_before(const struct decoder *d, uint64_t addr)
{
	for (unsigned int i = 0; i < d->nr_misses; i++)
		if (d->misses[i] == addr)
			return true;
	return false;
}

static void add_miss(struct decoder *d, uint64_t addr)
{
	d->misses[d->next_miss] = addr;
	d->next_miss = (d->next_miss + 1) % NR_MISSES;
	if (d->nr_misses < NR_MISSES)
		d->nr_misses++;
}

/*
 * Read kallsyms again for an address that did not resolve to what it must
 * be: 1 if the symbols were replaced.  Reading costs seconds under
 * emulation, so it happens when the module list changed, or once per
 * module list when the address lies in a loaded module whose symbols we
 * lack: a kallsyms read that raced with the module's init (its symbol table
 * shrinks to the core one then) can miss them while /proc/modules stays
 * the same afterwards.
 */
static int refresh_for(struct decoder *d, uint64_t addr)
{
	int ret = ksyms__refresh_if_changed(d->ks);

	if (ret == 1) {
		d->nr_misses = 0;
		d->next_miss = 0;
		return 1;
	}
	if (ret == 0 && ksyms__module_at(d->ks, addr) &&
	    d->forced_gen != ksyms__generation(d->ks) + 1) {
		if (ksyms__refresh(d->ks))
			return 0;
		d->forced_gen = ksyms__generation(d->ks) + 1;
		return 1;
	}
	return 0;
}

static const struct ksym *resolve_slow(struct decoder *d, uint64_t addr)
{
	const struct ksym *s = ksyms__map_addr(d->ks, addr);

	if (s || missed_before(d, addr))
		return s;
	/*
	 * Not known: a module loaded after we started.  An address that
	 * still does not resolve is remembered so that it costs nothing
	 * next time.
	 */
	if (refresh_for(d, addr)) {
		s = ksyms__map_addr(d->ks, addr);
		if (s)
			return s;
	}
	add_miss(d, addr);
	return NULL;
}

static void cache_check(struct decoder *d)
{
	uint64_t gen = ksyms__generation(d->ks);

	if (gen != d->cache_gen) {
		memset(d->cache, 0, sizeof(d->cache));
		d->cache_gen = gen;
	}
}

/* The symbol of @addr, and its cache slot (NULL when it did not resolve). */
static const struct ksym *resolve(struct decoder *d, uint64_t addr, struct sym_slot **slot)
{
	struct sym_slot *c = &d->cache[(addr * 0x9e3779b97f4a7c15ull) >> 54 & (NR_SYM_CACHE - 1)];
	const struct ksym *s;

	*slot = NULL;
	cache_check(d);
	if (c->sym && c->addr == addr) {
		*slot = c;
		return c->sym;
	}
	s = resolve_slow(d, addr);
	if (s) {
		cache_check(d);		/* resolve_slow() may have refreshed */
		c->addr = addr;
		c->sym = s;
		c->core = 0;
		*slot = c;
	}
	return s;
}

/*
 * Our BPF program heads the stack, and a trampoline (one page at most) sits
 * wherever a hooked function is on the way.  Any other [bpf] frame is an
 * address kallsyms did not cover when we read it: a module loaded since
 * lies in the same memory as the BPF images, and the image below it would
 * otherwise swallow its frames (the holder would then be the module's
 * caller).
 */
static bool own_bpf_frame(const struct ksym *s, uint64_t addr, bool tramp, uint32_t kept)
{
	if (tramp)
		return addr - s->addr < 4096;
	return kept == 0;
}

/* The symbol of an address that resolved into a BPF image it cannot be in. */
static const struct ksym *resolve_not_bpf(struct decoder *d, uint64_t addr,
					  struct sym_slot **slot)
{
	const struct ksym *s = NULL;

	*slot = NULL;
	if (!missed_before(d, addr) && refresh_for(d, addr))
		s = resolve(d, addr, slot);
	if (s && strcmp(s->module, "bpf"))
		return s;
	*slot = NULL;
	add_miss(d, addr);
	return NULL;
}

/* "3f202000.mmc:rx-tx" from chan->slave and chan->name ("dma:rx-tx") */
static void decode_client(struct rw_event *out, const struct dmarw_client *c)
{
	size_t dev = strnlen(c->dev, sizeof(c->dev));
	size_t req = strnlen(c->req, sizeof(c->req));
	const char *name = c->req;

	if (!dev)
		return;
	if (req >= 4 && !memcmp(name, "dma:", 4)) {
		name += 4;
		req -= 4;
	}
	snprintf(out->client, sizeof(out->client), "%.*s%s%.*s", (int)dev, c->dev,
		 req ? ":" : "", (int)req, name);
	copy_str(out->client_drv, sizeof(out->client_drv), c->drv, sizeof(c->drv));
}

/* Hand a module's symbols to ksyms; addresses that missed may resolve now. */
static void modsyms_flush(struct decoder *d)
{
	struct ksym_def *defs;
	size_t i;

	if (!d->nr_pend)
		return;
	defs = calloc(d->nr_pend, sizeof(*defs));
	if (defs && d->ks) {
		for (i = 0; i < d->nr_pend; i++) {
			defs[i].addr = d->pend[i].addr;
			defs[i].size = d->pend[i].size;
			defs[i].name = d->pend[i].name;
		}
		ksyms__add_module(d->ks, d->pend_mod, defs, d->nr_pend);
		d->module_syms = d->nr_pend;
		d->nr_misses = 0;
		d->next_miss = 0;
	}
	free(defs);
	d->nr_pend = 0;
}

static void modsyms_add(struct decoder *d, const struct dmarw_event *raw)
{
	const struct dmarw_modsyms *m = &raw->modsyms;
	char module[DMARW_MODNAME_LEN + 1];
	uint32_t i, n = m->nr < DMARW_MODSYMS ? m->nr : DMARW_MODSYMS;

	copy_str(module, sizeof(module), m->module, sizeof(m->module));
	if (d->nr_pend && strcmp(module, d->pend_mod))
		modsyms_flush(d);	/* the last record of the one before was lost */
	memcpy(d->pend_mod, module, sizeof(module));
	for (i = 0; i < n; i++) {
		struct pending_sym *p;

		if (d->nr_pend == d->cap_pend) {
			size_t cap = d->cap_pend ? d->cap_pend * 2 : 64;
			struct pending_sym *np = realloc(d->pend, cap * sizeof(*np));

			if (!np)
				break;
			d->pend = np;
			d->cap_pend = cap;
		}
		p = &d->pend[d->nr_pend++];
		p->addr = m->sym[i].addr;
		p->size = m->sym[i].size;
		copy_str(p->name, sizeof(p->name), m->sym[i].name, sizeof(m->sym[i].name));
	}
	if (raw->flags & DMARW_F_LAST)
		modsyms_flush(d);
}

int decoder__decode(struct decoder *d, const struct dmarw_event *raw, struct rw_event *out)
{
	const struct ksym *prev = NULL;
	bool skip_entry = false;
	uint32_t i, n;

	if (raw->type < DMARW_EV_CHAN_GET || raw->type >= DMARW_EV_MAX ||
	    raw->hook >= DMARW_HOOK_MAX)
		return -EINVAL;
	if (raw->type == DMARW_EV_MODULE_SYMS) {
		modsyms_add(d, raw);
		return 1;
	}
	modsyms_flush(d);
	memset(out, 0, sizeof(*out));
	out->type = raw->type;
	out->hook = raw->hook;
	out->ts_ns = raw->ts_ns;
	out->cpu = raw->cpu;
	out->pid = raw->pid;
	out->tgid = raw->tgid;
	copy_str(out->comm, sizeof(out->comm), raw->comm, sizeof(raw->comm));
	out->device_key = decoder__key(d, raw->device);
	out->chan_key = decoder__key(d, raw->chan);
	out->dev_id = raw->dev_id;
	out->chan_id = raw->chan_id;
	copy_str(out->dev_name, sizeof(out->dev_name), raw->dev_name, sizeof(raw->dev_name));
	copy_str(out->drv_name, sizeof(out->drv_name), raw->drv_name, sizeof(raw->drv_name));
	out->ret = raw->ret;
	out->client_count_before = raw->client_count_before;
	out->client_count_after = raw->client_count_after;
	out->kref_before = raw->kref_before;
	out->kref_after = raw->kref_after;
	out->flags = raw->flags;
	out->dev_in_use = raw->dev_in_use;
	out->ledger_id = raw->ledger_id;
	out->ledger_refs = raw->ledger_refs;
	if (raw->flags & DMARW_F_PREV_RELEASE) {
		out->prev.ts_ns = raw->prev.ts_ns;
		out->prev.holder_id = raw->prev.holder_id;
		out->prev.pid = raw->prev.pid;
		out->prev.tgid = raw->prev.tgid;
		copy_str(out->prev.comm, sizeof(out->prev.comm), raw->prev.comm,
			 sizeof(raw->prev.comm));
	}
	if (raw->type == DMARW_EV_CHAN_GET || raw->type == DMARW_EV_DEV_HOLDER) {
		decode_client(out, &raw->holder_client);
		out->client_key = decoder__key(d, raw->holder_client.device);
	}
	if (raw->type == DMARW_EV_REQUEST_CHAN || raw->type == DMARW_EV_CLIENT_UNBIND) {
		decode_client(out, &raw->client);	/* in the stack's room */
		out->client_key = decoder__key(d, raw->client.device);
		return 0;
	}
	if (raw->type == DMARW_EV_MODULE_UNLOAD) {
		copy_str(out->module, sizeof(out->module), raw->module.name,
			 sizeof(raw->module.name));
		return 0;
	}
	n = raw->nr_stack < DMARW_MAX_STACK ? raw->nr_stack : DMARW_MAX_STACK;
	for (i = 0; i < n; i++) {
		struct rw_frame *f = &out->frames[out->nr_frames];
		struct sym_slot *slot = NULL;
		const struct ksym *s = d->ks ? resolve(d, raw->stack[i], &slot) : NULL;

		/*
		 * Our own frames are no part of the story: the BPF program and
		 * the trampoline; and where an fexit trampoline sits between a
		 * function's body and its caller, the function shows twice: its
		 * body, then its patched entry (offset <= 16) that the
		 * trampoline returns to.  The second one goes.
		 */
		if (s && !strcmp(s->module, "bpf")) {
			bool tramp = !strncmp(s->name, "bpf_trampoline_", 15);

			if (own_bpf_frame(s, raw->stack[i], tramp, out->nr_frames)) {
				skip_entry = tramp;
				continue;
			}
			s = resolve_not_bpf(d, raw->stack[i], &slot);
		}
		if (skip_entry && s && prev && raw->stack[i] - s->addr <= 16 &&
		    !strcmp(s->name, prev->name)) {
			skip_entry = false;
			continue;
		}
		skip_entry = false;
		prev = s;
		out->nr_frames++;
		if (!s)
			continue;	/* unknown frame: never print the address */
		copy_str(f->func, sizeof(f->func), s->name, strlen(s->name) + 1);
		copy_str(f->module, sizeof(f->module), s->module, strlen(s->module) + 1);
		f->offset = (uint32_t)(raw->stack[i] - s->addr);
		if (!slot->core)
			slot->core = finding_frame_is_core(f) ? 1 : -1;
		f->core = slot->core;
	}
	return 0;
}

int decoder__decode_holder(struct decoder *d, uint64_t chan, const struct dmarw_holder *h,
			   struct rw_event *out)
{
	static struct dmarw_event raw;	/* large: off the stack */
	uint32_t n = h->nr_stack < DMARW_MAX_STACK ? h->nr_stack : DMARW_MAX_STACK;

	memset(&raw, 0, sizeof(raw));
	raw.type = DMARW_EV_DEV_HOLDER;
	raw.hook = DMARW_HOOK_CHAN_GET;
	raw.ts_ns = h->ts_ns;
	raw.device = h->device;
	raw.chan = chan;
	raw.pid = h->pid;
	raw.tgid = h->tgid;
	memcpy(raw.comm, h->comm, sizeof(raw.comm));
	raw.dev_id = h->dev_id;
	raw.chan_id = h->chan_id;
	memcpy(raw.dev_name, h->dev_name, sizeof(raw.dev_name));
	memcpy(raw.drv_name, h->drv_name, sizeof(raw.drv_name));
	raw.client_count_before = h->client_count_before;
	raw.client_count_after = h->client_count_after;
	raw.kref_before = raw.kref_after = -1;
	raw.dev_in_use = -1;
	raw.flags = h->flags | DMARW_F_LEDGER;
	raw.ledger_id = h->id;
	raw.ledger_refs = h->refs;
	raw.nr_stack = n;
	memcpy(raw.stack, h->stack, n * sizeof(raw.stack[0]));
	raw.holder_client = h->client;
	return decoder__decode(d, &raw, out);
}
