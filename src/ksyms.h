/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel symbols from /proc/kallsyms, with module names, bounded by the
 * module ranges of /proc/modules.  Symbols of a module that has been
 * unloaded stay resolvable until another module takes over their addresses:
 * a leak report must still name the module that leaked.
 */
#ifndef __DMARW_KSYMS_H
#define __DMARW_KSYMS_H

#include <stdint.h>

struct ksyms;

struct ksym {
	uint64_t addr;
	const char *name;
	const char *module;	/* "" for vmlinux */
	uint32_t size;		/* from the module's symbol table; 0 unknown
				   (kallsyms has no sizes) */
};

/* A symbol to add: see ksyms__add_module(). */
struct ksym_def {
	uint64_t addr;
	uint32_t size;
	const char *name;
};

/* path: NULL for /proc/kallsyms.  Returns NULL with errno set. */
struct ksyms *ksyms__load(const char *path);
void ksyms__free(struct ksyms *ks);
/* Re-read the file; keeps unloaded modules' symbols.  0 or -errno. */
int ksyms__refresh(struct ksyms *ks);
/*
 * Re-read the BPF images only (the "[bpf]" lines: programs, trampolines),
 * e.g. ours once attached; the other symbols stay as the last read left
 * them.  Parsing a tenth of a read, for 0.1 s of a start-up under
 * emulation.  0 or -errno.
 */
int ksyms__refresh_bpf(struct ksyms *ks);
/*
 * Re-read only when the module list (the "modules" file beside kallsyms,
 * /proc/modules) changed: 1 re-read, 0 unchanged, -1 error.
 */
int ksyms__refresh_if_changed(struct ksyms *ks);
/* Symbol containing addr, NULL if none. */
const struct ksym *ksyms__map_addr(const struct ksyms *ks, uint64_t addr);
/*
 * Symbols of @module read from its own symbol table when it loaded (they
 * come with sizes, and include .init.text); they replace what an earlier
 * module of that name left, and stay after it unloads until kallsyms shows
 * something else at their addresses.  0 or -ENOMEM.
 */
int ksyms__add_module(struct ksyms *ks, const char *module,
		      const struct ksym_def *defs, size_t nr);
/*
 * The loaded module whose /proc/modules range (base, and the size of all
 * its memory: an upper bound) holds addr, as of the last read; NULL if none.
 */
const char *ksyms__module_at(const struct ksyms *ks, uint64_t addr);
/* Changes whenever a refresh replaced the symbols: pointers from before are gone. */
uint64_t ksyms__generation(const struct ksyms *ks);
const struct ksym *ksyms__get_symbol(const struct ksyms *ks, const char *name);
/* Address of a data symbol the loader needs (dma_device_list), 0 if absent. */
uint64_t ksyms__data_addr(const struct ksyms *ks, const char *name);
/* A compiler clone of a function ("name.isra.0", "name.constprop.0"), or NULL. */
const char *ksyms__find_clone(const struct ksyms *ks, const char *name);
/* All addresses are 0 (kptr_restrict): no symbolization possible. */
int ksyms__restricted(const struct ksyms *ks);
/* Strings owned (names): flat across refreshes. */
size_t ksyms__nr_strings(const struct ksyms *ks);

#endif /* __DMARW_KSYMS_H */
