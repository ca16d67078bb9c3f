// SPDX-License-Identifier: GPL-2.0
/*
 * dmarefwatch: a module's text symbols, read from its own symbol table when
 * it loads and sent in band.  Linked into the one object with
 * bpf/dmarefwatch.bpf.c (bpftool gen object).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "dmarefwatch.h"
#include "record.bpf.h"

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
