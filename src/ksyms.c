// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel symbol table; see ksyms.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "ksyms.h"

/* Data symbols the loader needs by address (kept apart from the text ones). */
static const char *const wanted_data[] = { "dma_device_list" };
#define NR_WANTED (sizeof(wanted_data) / sizeof(wanted_data[0]))

struct mod_range {
	const char *name;	/* owned by strs */
	uint64_t base;
	uint64_t size;
	bool live;		/* in the last /proc/modules read; else gone */
};

struct ksyms {
	char *path;
	char *modules_path;	/* /proc/modules beside /proc/kallsyms */
	char *modules_text;	/* its last content, to see changes */
	struct mod_range *mods;
	size_t nr_mods;
	uint64_t data_addr[NR_WANTED];	/* wanted_data[], 0 if absent */
	struct ksym *syms;
	size_t nr, cap;
	char **strs;		/* every string we own, freed at the end */
	size_t nr_strs, cap_strs;
	int restricted;
	uint64_t generation;	/* bumped whenever syms[] is replaced */
};

/* Take ownership of an allocated string (freed with the others). */
static char *own_str_take(struct ksyms *ks, char *str)
{
	if (ks->nr_strs == ks->cap_strs) {
		size_t cap = ks->cap_strs ? ks->cap_strs * 2 : 4096;
		char **n = realloc(ks->strs, cap * sizeof(*n));

		if (!n)
			return NULL;
		ks->strs = n;
		ks->cap_strs = cap;
	}
	ks->strs[ks->nr_strs++] = str;
	return str;
}

static const char *own_str(struct ksyms *ks, const char *s)
{
	char *copy = strdup(s);

	if (copy && !own_str_take(ks, copy)) {
		free(copy);
		return NULL;
	}
	return copy;
}

/* Module names are shared by many symbols: intern the last one seen. */
static const char *module_str(struct ksyms *ks, const char *mod, const char **last)
{
	if (*last && !strcmp(*last, mod))
		return *last;
	*last = own_str(ks, mod);
	return *last;
}

static int add_sym(struct ksym **syms, size_t *nr, size_t *cap, const struct ksym *s)
{
	if (*nr == *cap) {
		size_t c = *cap ? *cap * 2 : 65536;
		struct ksym *n = realloc(*syms, c * sizeof(*n));

		if (!n)
			return -ENOMEM;
		*syms = n;
		*cap = c;
	}
	(*syms)[(*nr)++] = *s;
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* a symbol with a known size wins the lookup (it sorts last) */
	if (!x->size != !y->size)
		return x->size ? 1 : -1;
	return strcmp(x->name, y->name);
}

/*
 * One kallsyms line, "ffffffff81cde670 t dma_chan_get\t[module]", parsed by
 * hand in place (sscanf, and even strtoull, over 100k lines cost a large
 * part of a read under emulation).  0 if the line is not a symbol.
 */
static int parse_line(char *line, uint64_t *addr, char *type, char **name, char **mod)
{
	char *p = line;
	int digits = 0;

	*addr = 0;
	for (;; p++, digits++) {
		unsigned int v;

		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			v = (*p | 0x20) - 'a' + 10;
		else
			break;
		if (digits == 16)
			return 0;
		*addr = *addr << 4 | v;
	}
	if (!digits || *p != ' ' || !p[1] || p[2] != ' ')
		return 0;
	*type = p[1];
	p += 3;
	*name = p;
	p += strcspn(p, " \t\n");
	*mod = "";
	if (*p == '\t' && p[1] == '[') {
		*p = 0;
		*mod = p + 2;
		p = strchr(*mod, ']');
		if (p)
			*p = 0;
	} else {
		*p = 0;
	}
	return **name != 0;
}

/*
 * The names of one read live in blocks owned by ks: one allocation per
 * block, not one per symbol (100k mallocs, and as many frees at the next
 * refresh).  Blocks as big as the arrays are mapped apart from the heap
 * (main() keeps glibc's threshold fixed): when a re-read frees the old
 * table its memory goes back to the kernel at once, and the resident size
 * stays that of one table.
 */
#define NAME_BLOCK	(256 * 1024)

struct name_block {
	char *cur;
	size_t left;
};

static const char *block_str(struct ksyms *ks, struct name_block *b, const char *s)
{
	size_t len = strlen(s) + 1;
	char *p;

	if (len > b->left) {
		size_t sz = len > NAME_BLOCK ? len : NAME_BLOCK;

		p = malloc(sz);
		if (!p || !own_str_take(ks, p)) {
			free(p);
			return NULL;
		}
		b->cur = p;
		b->left = sz;
	}
	p = b->cur;
	memcpy(p, s, len);
	b->cur += len;
	b->left -= len;
	return p;
}

struct read_state {
	bool bpf_only;		/* ksyms__refresh_bpf(): "[bpf]" lines only */
	struct ksyms *ks;
	struct ksym **out;
	size_t *out_nr, *out_cap;
	struct name_block names;
	const char *last_mod;
	size_t nonzero;
};

static int take_line(struct read_state *st, char *line, size_t len)
{
	struct ksyms *ks = st->ks;
	char type, *name, *mod;
	uint64_t addr;
	struct ksym s;
	size_t i;

	if (st->bpf_only && (len < 6 || memcmp(line + len - 6, "\t[bpf]", 6)))
		return 0;
	if (!parse_line(line, &addr, &type, &name, &mod))
		return 0;
	if (type == 'd' || type == 'D' || type == 'b' || type == 'B') {
		for (i = 0; i < NR_WANTED; i++)
			if (!mod[0] && !strcmp(name, wanted_data[i]))
				ks->data_addr[i] = addr;
		return 0;
	}
	/* text symbols only: stacks hold return addresses */
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return 0;
	if (addr)
		st->nonzero++;
	s.addr = addr;
	s.size = 0;
	s.name = block_str(ks, &st->names, name);
	s.module = module_str(ks, mod, &st->last_mod);
	if (!s.name || !s.module)
		return -ENOMEM;
	return add_sym(st->out, st->out_nr, st->out_cap, &s);
}

#define READ_CHUNK	(256 * 1024)

/*
 * Read the file into a fresh array; strings owned by ks.  Big reads, each
 * line parsed where it landed; a line longer than a whole chunk is dropped.
 */
static int read_file(struct ksyms *ks, bool bpf_only, struct ksym **out, size_t *out_nr,
		     size_t *out_cap)
{
	struct read_state st = { .bpf_only = bpf_only, .ks = ks, .out = out, .out_nr = out_nr,
				 .out_cap = out_cap };
	bool eof = false, skipping = false;
	char *buf, *start, *nl;
	size_t have = 0;
	int fd, err = 0;

	fd = open(ks->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(READ_CHUNK + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (!err) {
		ssize_t n = read(fd, buf + have, READ_CHUNK - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		eof = n == 0;
		have += n;
		start = buf;
		while (!err && (nl = memchr(start, '\n', buf + have - start))) {
			*nl = 0;
			if (!skipping)
				err = take_line(&st, start, nl - start);
			skipping = false;
			start = nl + 1;
		}
		have = buf + have - start;
		if (err)
			break;
		if (eof) {
			if (have && !skipping) {
				start[have] = 0;
				err = take_line(&st, start, strlen(start));
			}
			break;
		}
		if (have == READ_CHUNK) {
			skipping = true;
			have = 0;
			continue;
		}
		memmove(buf, start, have);
	}
	free(buf);
	close(fd);
	if (!err && *out_nr && !st.nonzero && !bpf_only)
		ks->restricted = 1;
	return err;
}

/* Distinct module names of a symbol array (few hundred at most); -ENOMEM. */
static int module_names(const struct ksym *syms, size_t nr, const char ***out, size_t *count)
{
	const char **names = NULL, *last = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < nr; i++) {
		const char *m = syms[i].module;
		size_t j;

		if (!m[0] || m == last)
			continue;
		last = m;
		for (j = 0; j < n && strcmp(names[j], m); j++)
			;
		if (j < n)
			continue;
		if (n == cap) {
			const char **nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				free(names);
				return -ENOMEM;
			}
			names = nn;
		}
		names[n++] = m;
	}
	*count = n;
	*out = names;
	return 0;
}

static int name_in(const char **names, size_t n, const char *m)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], m))
			return 1;
	return 0;
}

static char *slurp(const char *path)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *n;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 16384;
			n = realloc(buf, cap + 1);
			if (!n) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = n;
		}
		size_t got = fread(buf + len, 1, cap - len, f);

		len += got;
		if (!got)
			break;
	}
	fclose(f);
	buf[len] = 0;
	return buf;
}

/* Module ranges from the /proc/modules text; old ranges of modules gone stay. */
static int parse_modules(struct ksyms *ks, const char *text)
{
	struct mod_range *fresh = NULL, *n;
	size_t nr = 0, cap = 0, i, j;
	const char *line = text;
	char name[128];
	unsigned long long size, base;

	while (line && *line) {
		if (sscanf(line, "%127s %llu %*s %*s %*s %llx", name, &size, &base) == 3 && base) {
			if (nr == cap) {
				cap = cap ? cap * 2 : 64;
				n = realloc(fresh, cap * sizeof(*n));
				if (!n)
					goto nomem;
				fresh = n;
			}
			fresh[nr].name = own_str(ks, name);
			if (!fresh[nr].name)
				goto nomem;
			fresh[nr].base = base;
			fresh[nr].size = size;
			fresh[nr].live = true;
			nr++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	for (i = 0; i < ks->nr_mods; i++) {
		const struct mod_range *old = &ks->mods[i];
		bool keep = true;

		for (j = 0; j < nr && keep; j++)
			if (!strcmp(fresh[j].name, old->name) ||
			    (old->base < fresh[j].base + fresh[j].size &&
			     fresh[j].base < old->base + old->size))
				keep = false;
		if (!keep)
			continue;
		if (nr == cap) {
			cap = cap ? cap * 2 : 64;
			n = realloc(fresh, cap * sizeof(*n));
			if (!n)
				goto nomem;
			fresh = n;
		}
		fresh[nr] = *old;
		fresh[nr].live = false;
		fresh[nr].name = own_str(ks, old->name);	/* old strings go away */
		if (!fresh[nr].name)
			goto nomem;
		nr++;
	}
	free(ks->mods);
	ks->mods = fresh;
	ks->nr_mods = nr;
	return 0;
nomem:
	free(fresh);
	return -ENOMEM;
}

static const struct mod_range *mod_range_of(const struct ksyms *ks, const char *name)
{
	for (size_t i = 0; i < ks->nr_mods; i++)
		if (!strcmp(ks->mods[i].name, name))
			return &ks->mods[i];
	return NULL;
}

/*
 * kallsyms lists the kernel's own symbols in address order, and they are
 * most of it: keep the elements already in order where they are, sort only
 * the others (modules, aliases) and merge them in.  A plain qsort() was
 * most of a read.
 */
static void sort_syms(struct ksym *syms, size_t nr)
{
	struct ksym *rest;
	size_t a = 1, b = 0, i;

	if (nr < 2)
		return;
	rest = malloc(nr * sizeof(*rest));
	if (!rest) {
		qsort(syms, nr, sizeof(*syms), cmp_addr);
		return;
	}
	for (i = 1; i < nr; i++) {
		if (cmp_addr(&syms[a - 1], &syms[i]) <= 0)
			syms[a++] = syms[i];
		else
			rest[b++] = syms[i];
	}
	if (b) {
		size_t k = nr;

		qsort(rest, b, sizeof(*rest), cmp_addr);
		/* from the back, in place: syms[0..a) and rest[0..b) */
		while (b) {
			if (a && cmp_addr(&syms[a - 1], &rest[b - 1]) > 0)
				syms[--k] = syms[--a];
			else
				syms[--k] = rest[--b];
		}
	}
	free(rest);
}

/*
 * A re-read held the old table and the new one at once (a few MiB): hand
 * the freed half back to the kernel, or a long watch that sees one module
 * come and go stays that much bigger for ever.
 */
static void give_back(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static void free_strs(char **strs, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(strs[i]);
	free(strs);
}

/* Does a symbol of the sorted syms[0..n) start in [lo, hi)? */
static bool any_sym_in(const struct ksym *syms, size_t n, uint64_t lo, uint64_t hi)
{
	size_t a = 0, b = n;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (syms[mid].addr < lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a < n && syms[a].addr < hi;
}

/*
 * Every refresh owns a new set of strings and frees the previous set once
 * nothing points into it, so that a long watch that sees modules come and
 * go stays flat in memory.
 */
int ksyms__refresh(struct ksyms *ks)
{
	char **old_strs = ks->strs;
	size_t old_nr_strs = ks->nr_strs, nr = 0, cap = 0, nr_mods = 0, i;
	const char *last_mod = NULL;
	struct ksym *fresh = NULL;
	const char **mods = NULL;
	struct ksyms view;
	int err;

	ks->strs = NULL;
	ks->nr_strs = ks->cap_strs = 0;
	ks->restricted = 0;
	free(ks->modules_text);
	ks->modules_text = ks->modules_path ? slurp(ks->modules_path) : NULL;
	if (ks->modules_text) {
		err = parse_modules(ks, ks->modules_text);
		if (err)
			goto fail;
	} else {
		/* no new module list: the old ranges' names move to the new strings */
		for (i = 0; i < ks->nr_mods; i++) {
			const char *name = own_str(ks, ks->mods[i].name);

			if (!name) {
				err = -ENOMEM;
				goto fail;
			}
			ks->mods[i].name = name;
		}
	}
	err = read_file(ks, false, &fresh, &nr, &cap);
	if (err)
		goto fail;
	sort_syms(fresh, nr);
	err = module_names(fresh, nr, &mods, &nr_mods);
	if (err)
		goto fail;
	/* keep symbols of modules that went away, unless their range is reused */
	view = *ks;
	view.syms = fresh;
	view.nr = nr;
	for (i = 0; i < ks->nr; i++) {
		const struct ksym *old = &ks->syms[i], *now;
		struct ksym copy;

		/*
		 * A symbol from the module's own table (it has a size) stays
		 * until kallsyms has another one there: its .init.text ones
		 * never show in kallsyms once init is done.
		 */
		if (!old->module[0] ||
		    (!old->size && name_in(mods, nr_mods, old->module)) ||
		    (!old->size && ks->modules_text && !mod_range_of(ks, old->module)))
			continue;	/* loaded, or its range was taken over */
		view.syms = fresh;	/* add_sym may move it */
		now = ksyms__map_addr(&view, old->addr);
		if (old->size) {
			/* a BPF image below stretches over anything: not that */
			if ((now && now->module[0] && strcmp(now->module, "bpf")) ||
			    any_sym_in(fresh, view.nr, old->addr, old->addr + old->size))
				continue;
		} else if (now && now->module[0]) {
			continue;
		}
		copy.addr = old->addr;
		copy.size = old->size;
		copy.name = own_str(ks, old->name);
		copy.module = module_str(ks, old->module, &last_mod);
		if (!copy.name || !copy.module) {
			err = -ENOMEM;
			break;
		}
		err = add_sym(&fresh, &nr, &cap, &copy);
		if (err)
			break;
	}
	free(mods);
	if (err)
		goto fail;
	sort_syms(fresh, nr);
	free(ks->syms);
	ks->syms = fresh;
	ks->nr = nr;
	ks->cap = cap;
	ks->generation++;
	free_strs(old_strs, old_nr_strs);
	give_back();
	return 0;
fail:
	/*
	 * The old symbols stay; the module ranges may already point into the
	 * new strings: keep both sets (freed together at the end).
	 */
	free(fresh);
	for (i = 0; i < old_nr_strs; i++)
		if (!own_str_take(ks, old_strs[i]))
			break;
	free(old_strs);
	return err;
}

int ksyms__refresh_bpf(struct ksyms *ks)
{
	size_t nr = ks->nr, cap = ks->cap, i, n = 0;
	struct ksym *syms = ks->syms;
	int err;

	/* the BPF images of the last read may be gone: theirs go first */
	for (i = 0; i < nr; i++)
		if (strcmp(syms[i].module, "bpf"))
			syms[n++] = syms[i];
	nr = n;
	err = read_file(ks, true, &syms, &nr, &cap);
	/* what was added stays even on a failed read: names, never wrong ones */
	sort_syms(syms, nr);
	ks->syms = syms;
	ks->nr = nr;
	ks->cap = cap;
	ks->generation++;
	return err;
}

struct ksyms *ksyms__load(const char *path)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	int err;

	if (!ks)
		return NULL;
	ks->path = strdup(path ? path : "/proc/kallsyms");
	if (ks->path) {
		const char *slash = strrchr(ks->path, '/');
		int len = slash ? (int)(slash - ks->path) : 1;

		if (asprintf(&ks->modules_path, "%.*s/modules", len,
			     slash ? ks->path : ".") < 0)
			ks->modules_path = NULL;
	}
	if (!ks->path || !ks->modules_path) {
		free(ks->path);
		free(ks);
		errno = ENOMEM;
		return NULL;
	}
	err = ksyms__refresh(ks);
	if (err) {
		ksyms__free(ks);
		errno = -err;
		return NULL;
	}
	return ks;
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->nr_strs; i++)
		free(ks->strs[i]);
	free(ks->strs);
	free(ks->syms);
	free(ks->mods);
	free(ks->modules_text);
	free(ks->modules_path);
	free(ks->path);
	free(ks);
}

uint64_t ksyms__generation(const struct ksyms *ks)
{
	return ks->generation;
}

const struct ksym *ksyms__map_addr(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks->nr;

	if (ks->restricted || !ks->nr || addr < ks->syms[0].addr)
		return NULL;
	/* last symbol with sym.addr <= addr */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* a symbol from a module's own table knows where it ends */
	if (ks->syms[lo].size)
		return addr - ks->syms[lo].addr < ks->syms[lo].size ? &ks->syms[lo] : NULL;
	/* do not stretch the last symbol of a region over the unknown */
	if (addr - ks->syms[lo].addr > (1u << 20))
		return NULL;
	/* nor a module's last symbol over the next module, loaded after it */
	if (ks->syms[lo].module[0]) {
		const struct mod_range *m = mod_range_of(ks, ks->syms[lo].module);

		if (m && (addr < m->base || addr >= m->base + m->size))
			return NULL;
		if (!m && ks->modules_text && strcmp(ks->syms[lo].module, "bpf"))
			return NULL;
	}
	return &ks->syms[lo];
}

int ksyms__add_module(struct ksyms *ks, const char *module,
		      const struct ksym_def *defs, size_t nr)
{
	const char *last_mod = NULL;
	size_t i, n = 0;
	int err = 0;

	if (!nr || !module[0])
		return 0;
	/* a module of that name loaded before is gone: forget its table */
	for (i = 0; i < ks->nr; i++)
		if (!(ks->syms[i].size && !strcmp(ks->syms[i].module, module)))
			ks->syms[n++] = ks->syms[i];
	ks->nr = n;
	for (i = 0; i < nr && !err; i++) {
		struct ksym s = { .addr = defs[i].addr, .size = defs[i].size };

		if (!defs[i].name[0])
			continue;
		s.name = own_str(ks, defs[i].name);
		s.module = module_str(ks, module, &last_mod);
		err = s.name && s.module ? add_sym(&ks->syms, &ks->nr, &ks->cap, &s) : -ENOMEM;
	}
	sort_syms(ks->syms, ks->nr);
	ks->generation++;
	return err;
}

const char *ksyms__module_at(const struct ksyms *ks, uint64_t addr)
{
	for (size_t i = 0; i < ks->nr_mods; i++) {
		const struct mod_range *m = &ks->mods[i];

		if (m->live && addr >= m->base && addr - m->base < m->size)
			return m->name;
	}
	return NULL;
}

const struct ksym *ksyms__get_symbol(const struct ksyms *ks, const char *name)
{
	for (size_t i = 0; i < ks->nr; i++)
		if (!strcmp(ks->syms[i].name, name))
			return &ks->syms[i];
	return NULL;
}

int ksyms__refresh_if_changed(struct ksyms *ks)
{
	char *now;
	int same;

	if (!ks->modules_path)
		return ksyms__refresh(ks) ? -1 : 1;
	now = slurp(ks->modules_path);
	same = now && ks->modules_text && !strcmp(now, ks->modules_text);
	free(now);
	if (same)
		return 0;
	return ksyms__refresh(ks) ? -1 : 1;
}

uint64_t ksyms__data_addr(const struct ksyms *ks, const char *name)
{
	for (size_t i = 0; i < NR_WANTED; i++)
		if (!strcmp(name, wanted_data[i]))
			return ks->data_addr[i];
	return 0;
}

const char *ksyms__find_clone(const struct ksyms *ks, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < ks->nr; i++)
		if (!strncmp(ks->syms[i].name, name, n) && ks->syms[i].name[n] == '.')
			return ks->syms[i].name;
	return NULL;
}

int ksyms__restricted(const struct ksyms *ks)
{
	return ks->restricted;
}

size_t ksyms__nr_strings(const struct ksyms *ks)
{
	return ks->nr_strs;
}

