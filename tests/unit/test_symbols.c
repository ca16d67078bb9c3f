// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kallsyms symbolization and the decoder: module memory, our own frames. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "decoder.h"
#include "finding.h"
#include "harness.h"
#include "ksyms.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/*
 * A private directory with a kallsyms file and, beside it, the modules file
 * that ksyms reads (it takes "modules" from kallsyms' directory; absent
 * unless a test writes it).
 */
struct ksyms_dir {
	char dir[32], kallsyms[64], modules[64];
};

static bool ksyms_dir_make(struct ksyms_dir *t, const char *kallsyms)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/dmarw-ksyms-XXXXXX");
	t->kallsyms[0] = t->modules[0] = '\0';
	if (!mkdtemp(t->dir))
		return false;
	snprintf(t->kallsyms, sizeof(t->kallsyms), "%s/kallsyms", t->dir);
	snprintf(t->modules, sizeof(t->modules), "%s/modules", t->dir);
	write_file(t->kallsyms, kallsyms);
	return true;
}

static void ksyms_dir_remove(struct ksyms_dir *t)
{
	if (!t->kallsyms[0])
		return;
	unlink(t->kallsyms);
	unlink(t->modules);
	rmdir(t->dir);
}

/* A decoder over a private kallsyms (and modules file, unless NULL). */
struct dec_fix {
	struct ksyms_dir kd;
	struct ksyms *ks;
	struct decoder *d;
	struct rw_event *ev;
};

static bool dec_fix_make(struct dec_fix *f, const char *kallsyms, const char *modules)
{
	f->ks = NULL;
	f->d = NULL;
	f->ev = calloc(1, sizeof(*f->ev));
	if (!ksyms_dir_make(&f->kd, kallsyms))
		return false;
	if (modules)
		write_file(f->kd.modules, modules);
	f->ks = ksyms__load(f->kd.kallsyms);
	f->d = f->ks ? decoder__new(f->ks) : NULL;
	return f->ev && f->d;
}

static void dec_fix_free(struct dec_fix *f)
{
	decoder__free(f->d);
	ksyms__free(f->ks);
	free(f->ev);
	ksyms_dir_remove(&f->kd);
}

static const char *kallsyms_v1 =
	"ffffffff81000000 T _stext\n"
	"ffffffff81cde670 t dma_chan_get\n"
	"ffffffff81cde800 t dma_chan_put\n"
	"ffffffff81cde900 T dma_release_channel\n"
	"ffffffff81cdea00 t find_candidate\n"
	"ffffffff81cdec00 T __dma_request_channel\n"
	"ffffffff82000000 D some_data\n"
	"ffffffffc0001000 t dmarw_client_request_by_mask\t[dmarw_client]\n"
	"ffffffffc0001200 t dmarw_client_cmd\t[dmarw_client]\n"
	"ffffffffc0100000 t bpf_prog_1234_fexit_dma_chan_get\t[bpf]\n"
	"ffffffffc0200000 t bpf_trampoline_6442486108\t[bpf]\n";

/* the client unloaded, another module loaded elsewhere */
static const char *kallsyms_v2 =
	"ffffffff81000000 T _stext\n"
	"ffffffff81cde670 t dma_chan_get\n"
	"ffffffff81cde800 t dma_chan_put\n"
	"ffffffffc0005000 t other_fn\t[other]\n";

/* a new module took the unloaded client's addresses */
static const char *kallsyms_v3 =
	"ffffffff81000000 T _stext\n"
	"ffffffffc0001000 t reuse_fn\t[reuser]\n";

TEST(ksyms_maps_text_symbols_and_modules)
{
	struct ksyms_dir kd;
	struct ksyms *ks = NULL;
	const struct ksym *s;

	CHECK(ksyms_dir_make(&kd, kallsyms_v1), "mkdtemp");
	ks = ksyms__load(kd.kallsyms);
	CHECK(ks, "load failed");
	s = ksyms__map_addr(ks, 0xffffffff81cde675ULL);
	CHECK(s, "no symbol");
	CHECK_STR(s->name, "dma_chan_get");
	CHECK_STR(s->module, "");
	s = ksyms__map_addr(ks, 0xffffffffc000103dULL);
	CHECK(s, "no module symbol");
	CHECK_STR(s->name, "dmarw_client_request_by_mask");
	CHECK_STR(s->module, "dmarw_client");
	/* data symbols are not text: an address there is not "some_data" */
	s = ksyms__map_addr(ks, 0xffffffff82000010ULL);
	CHECK(!s || strcmp(s->name, "some_data"), "data symbol used");
	CHECK(!ksyms__map_addr(ks, 0x1000), "low address resolved");
	CHECK(!ksyms__restricted(ks), "not restricted");
out:
	ksyms__free(ks);
	ksyms_dir_remove(&kd);
}

TEST(ksyms_remember_unloaded_modules)
{
	struct ksyms_dir kd;
	struct ksyms *ks = NULL;
	const struct ksym *s;

	CHECK(ksyms_dir_make(&kd, kallsyms_v1), "mkdtemp");
	ks = ksyms__load(kd.kallsyms);
	CHECK(ks, "load failed");
	write_file(kd.kallsyms, kallsyms_v2);
	CHECK_INT(ksyms__refresh(ks), 0);
	s = ksyms__map_addr(ks, 0xffffffffc000103dULL);
	CHECK(s, "unloaded module forgotten");
	CHECK_STR(s->name, "dmarw_client_request_by_mask");
	CHECK_STR(s->module, "dmarw_client");
	s = ksyms__map_addr(ks, 0xffffffffc0005010ULL);
	CHECK(s && !strcmp(s->module, "other"), "new module not seen");
	/* once the range is reused, the old names must not stick */
	write_file(kd.kallsyms, kallsyms_v3);
	CHECK_INT(ksyms__refresh(ks), 0);
	s = ksyms__map_addr(ks, 0xffffffffc0001010ULL);
	CHECK(s, "reused range unresolved");
	CHECK_STR(s->module, "reuser");
out:
	ksyms__free(ks);
	ksyms_dir_remove(&kd);
}

/*
 * After attach only the BPF images are read again: ours appear, an image
 * gone since goes, the kernel's and the modules' symbols stay as they were
 * (a module unloaded in between keeps its names).
 */
TEST(ksyms_refresh_bpf_reads_bpf_images_only)
{
	struct ksyms_dir kd;
	struct ksyms *ks = NULL;
	const struct ksym *s;

	CHECK(ksyms_dir_make(&kd, "ffffffff81000000 T _stext\n"
			     "ffffffff81cde670 t dma_chan_get\n"
			     "ffffffffc0001000 t client_fn\t[dmarw_client]\n"
			     "ffffffffc0100000 t bpf_prog_11_old\t[bpf]\n"), "mkdtemp");
	ks = ksyms__load(kd.kallsyms);
	CHECK(ks, "load failed");
	write_file(kd.kallsyms, "ffffffff81000000 T _stext\n"
		   "ffffffff81cde670 t renamed_in_between\n"
		   "ffffffffc0200000 t bpf_prog_22_fexit_dma_chan_get\t[bpf]\n"
		   "ffffffffc0201000 t bpf_trampoline_6442\t[bpf]\n"
		   "ffffffffc0300000 t late_fn\t[late]\n");
	CHECK_INT(ksyms__refresh_bpf(ks), 0);
	s = ksyms__map_addr(ks, 0xffffffffc0200010ULL);
	CHECK(s, "our program unresolved");
	CHECK_STR(s->name, "bpf_prog_22_fexit_dma_chan_get");
	CHECK_STR(s->module, "bpf");
	s = ksyms__map_addr(ks, 0xffffffffc0201008ULL);
	CHECK(s, "trampoline unresolved");
	CHECK_STR(s->name, "bpf_trampoline_6442");
	s = ksyms__map_addr(ks, 0xffffffffc0100008ULL);
	CHECK(!s || strcmp(s->name, "bpf_prog_11_old"), "a gone image kept its name");
	s = ksyms__map_addr(ks, 0xffffffff81cde675ULL);
	CHECK(s, "kernel symbol lost");
	CHECK_STR(s->name, "dma_chan_get");
	s = ksyms__map_addr(ks, 0xffffffffc0001004ULL);
	CHECK(s, "module symbol lost");
	CHECK_STR(s->name, "client_fn");
	CHECK(!ksyms__map_addr(ks, 0xffffffffc0300004ULL) ||
	      strcmp(ksyms__map_addr(ks, 0xffffffffc0300004ULL)->name, "late_fn"),
	      "a module's line was read");
	CHECK(!ksyms__restricted(ks), "not restricted");
out:
	ksyms__free(ks);
	ksyms_dir_remove(&kd);
}

TEST(ksyms_restricted_when_all_zero)
{
	struct ksyms_dir kd;
	struct ksyms *ks = NULL;

	CHECK(ksyms_dir_make(&kd, "0000000000000000 T _stext\n0000000000000000 t dma_chan_get\n"), "mkdtemp");
	ks = ksyms__load(kd.kallsyms);
	CHECK(ks, "load failed");
	CHECK(ksyms__restricted(ks), "kptr_restrict not detected");
	CHECK(!ksyms__map_addr(ks, 0), "resolved under kptr_restrict");
out:
	ksyms__free(ks);
	ksyms_dir_remove(&kd);
}

TEST(ksyms_missing_file_fails)
{
	struct ksyms *ks = ksyms__load("/nonexistent/kallsyms");

	CHECK(!ks, "loaded a missing file");
out:
	ksyms__free(ks);
}

TEST(decoder_keys_symbolizes_and_drops_own_frames)
{
	struct dec_fix f;
	struct dmarw_event raw;
	uint64_t k1;

	CHECK(dec_fix_make(&f, kallsyms_v1, NULL), "setup");
	memset(&raw, 0, sizeof(raw));
	raw.type = DMARW_EV_CHAN_GET;
	raw.hook = DMARW_HOOK_CHAN_GET;
	raw.device = 0xffff888004a1c000ULL;
	raw.chan = 0xffff888004a1c400ULL;
	raw.dev_id = 0;
	raw.chan_id = 1;
	strcpy(raw.comm, "insmod");
	/*
	 * fexit on dma_chan_get and on __dma_request_channel: our program and
	 * trampoline first, dma_chan_get's patched entry (its only frame:
	 * kept), the callers, and __dma_request_channel twice around its own
	 * trampoline (the patched entry goes).
	 */
	raw.stack[0] = 0xffffffffc0100387ULL;	/* bpf_prog */
	raw.stack[1] = 0xffffffffc02000a1ULL;	/* bpf_trampoline */
	raw.stack[2] = 0xffffffff81cde675ULL;	/* dma_chan_get+0x5 */
	raw.stack[3] = 0xffffffff81cdea7fULL;	/* find_candidate+0x7f */
	raw.stack[4] = 0xffffffff81cdec91ULL;	/* __dma_request_channel+0x91 */
	raw.stack[5] = 0xffffffffc0200046ULL;	/* bpf_trampoline */
	raw.stack[6] = 0xffffffff81cdec05ULL;	/* __dma_request_channel+0x5 */
	raw.stack[7] = 0xffffffffc000103dULL;	/* the client */
	raw.stack[8] = 0x0000000000001234ULL;	/* unknown */
	raw.nr_stack = 9;
	CHECK_INT(decoder__decode(f.d, &raw, f.ev), 0);
	CHECK(f.ev->device_key && f.ev->chan_key && f.ev->device_key != f.ev->chan_key,
	      "keys %llu %llu", (unsigned long long)f.ev->device_key,
	      (unsigned long long)f.ev->chan_key);
	CHECK(f.ev->device_key < 1000 && f.ev->chan_key < 1000, "keys look like pointers");
	k1 = f.ev->chan_key;
	CHECK_INT(f.ev->nr_frames, 5);
	CHECK_STR(f.ev->frames[0].func, "dma_chan_get");
	CHECK_INT(f.ev->frames[0].offset, 5);
	CHECK_STR(f.ev->frames[1].func, "find_candidate");
	CHECK_STR(f.ev->frames[2].func, "__dma_request_channel");
	CHECK_INT(f.ev->frames[2].offset, 0x91);
	CHECK_STR(f.ev->frames[3].func, "dmarw_client_request_by_mask");
	CHECK_STR(f.ev->frames[3].module, "dmarw_client");
	CHECK_INT(f.ev->frames[3].offset, 0x3d);
	CHECK_STR(f.ev->frames[4].func, "");	/* unknown: no address printed */
	CHECK_STR(f.ev->comm, "insmod");
	/* the same pointer gives the same key; a bad type is refused */
	CHECK_INT(decoder__decode(f.d, &raw, f.ev), 0);
	CHECK_INT(f.ev->chan_key, k1);
	raw.type = 999;
	CHECK(decoder__decode(f.d, &raw, f.ev) < 0, "bad type accepted");
out:
	dec_fix_free(&f);
}

TEST(decoder_keys_survive_growth)
{
	struct decoder *d = decoder__new(NULL);
	uint64_t i, keys[2000];

	CHECK(d, "setup");
	for (i = 0; i < 2000; i++)
		keys[i] = decoder__key(d, 0xffff888000000000ULL + i * 0x400);
	for (i = 0; i < 2000; i++)
		CHECK_INT(decoder__key(d, 0xffff888000000000ULL + i * 0x400), keys[i]);
	CHECK_INT(decoder__key(d, 0), 0);
out:
	decoder__free(d);
}

TEST(ksyms_module_bounds_from_proc_modules)
{
	struct ksyms_dir kd;
	struct ksyms *ks = NULL;
	const struct ksym *s;

	CHECK(ksyms_dir_make(&kd, kallsyms_v1), "mkdtemp");
	write_file(kd.modules, "dmarw_client 8192 0 - Live 0xffffffffc0001000\n");
	ks = ksyms__load(kd.kallsyms);
	CHECK(ks, "load failed");
	s = ksyms__map_addr(ks, 0xffffffffc0001210ULL);
	CHECK(s && !strcmp(s->name, "dmarw_client_cmd"), "in-range symbol");
	/* past the module's end: another module we do not know yet */
	CHECK(!ksyms__map_addr(ks, 0xffffffffc0004000ULL), "stretched over the next module");
	/* our own BPF frames have no /proc/modules line and still resolve */
	s = ksyms__map_addr(ks, 0xffffffffc0100010ULL);
	CHECK(s && !strcmp(s->module, "bpf"), "bpf frame");
	CHECK_INT(ksyms__refresh_if_changed(ks), 0);
	/* a new module appears: the list changed, kallsyms is read again */
	write_file(kd.modules, "dmarw_client 8192 0 - Live 0xffffffffc0001000\n"
		   "other 4096 0 - Live 0xffffffffc0005000\n");
	write_file(kd.kallsyms, kallsyms_v1);
	CHECK_INT(ksyms__refresh_if_changed(ks), 1);
	/* the client unloads: its range and names stay for old stacks */
	write_file(kd.modules, "other 4096 0 - Live 0xffffffffc0005000\n");
	write_file(kd.kallsyms, kallsyms_v2);
	CHECK_INT(ksyms__refresh_if_changed(ks), 1);
	s = ksyms__map_addr(ks, 0xffffffffc000103dULL);
	CHECK(s && !strcmp(s->module, "dmarw_client"), "unloaded module forgotten");
out:
	ksyms__free(ks);
	ksyms_dir_remove(&kd);
}

/*
 * The decoder remembers what each address resolved to: the second decode
 * must give the same frames, and a refresh that gave the address to
 * another module must not be hidden by the remembered answer.
 */
TEST(decoder_symbol_cache_follows_refresh)
{
	struct dec_fix f;
	struct dmarw_event raw;

	CHECK(dec_fix_make(&f, kallsyms_v1, NULL), "setup");
	memset(&raw, 0, sizeof(raw));
	raw.type = DMARW_EV_CHAN_PUT;
	raw.hook = DMARW_HOOK_CHAN_PUT;
	raw.stack[0] = 0xffffffff81cde805ULL;	/* dma_chan_put+0x5 */
	raw.stack[1] = 0xffffffffc000103dULL;	/* dmarw_client_request_by_mask+0x3d */
	raw.nr_stack = 2;
	for (int round = 0; round < 2; round++) {
		CHECK_INT(decoder__decode(f.d, &raw, f.ev), 0);
		CHECK_INT(f.ev->nr_frames, 2);
		CHECK_STR(f.ev->frames[0].func, "dma_chan_put");
		CHECK_INT(f.ev->frames[0].core, 1);
		CHECK_STR(f.ev->frames[1].func, "dmarw_client_request_by_mask");
		CHECK_STR(f.ev->frames[1].module, "dmarw_client");
		CHECK_INT(f.ev->frames[1].core, -1);
		CHECK_INT(finding_holder_frame(f.ev->frames, f.ev->nr_frames), 1);
	}
	/* the client's range now belongs to another module */
	write_file(f.kd.kallsyms, kallsyms_v3);
	CHECK_INT(ksyms__refresh(f.ks), 0);
	CHECK_INT(decoder__decode(f.d, &raw, f.ev), 0);
	CHECK_STR(f.ev->frames[1].func, "reuse_fn");
	CHECK_STR(f.ev->frames[1].module, "reuser");
out:
	dec_fix_free(&f);
}

/* kallsyms_v1 before the client loaded (or a read that missed it) */
static const char *kallsyms_v0 =
	"ffffffff81000000 T _stext\n"
	"ffffffff81cde670 t dma_chan_get\n"
	"ffffffff81cdec00 T __dma_request_channel\n"
	"ffffffffc0100000 t bpf_prog_1234_fexit_dma_chan_get\t[bpf]\n"
	"ffffffffc0200000 t bpf_trampoline_6442486108\t[bpf]\n";

/* a get from a client module at @client: our frames, the core, the client */
static void get_from(struct dmarw_event *raw, uint64_t client)
{
	memset(raw, 0, sizeof(*raw));
	raw->type = DMARW_EV_CHAN_GET;
	raw->hook = DMARW_HOOK_CHAN_GET;
	raw->stack[0] = 0xffffffffc0100387ULL;	/* bpf_prog */
	raw->stack[1] = 0xffffffffc02000a1ULL;	/* bpf_trampoline */
	raw->stack[2] = 0xffffffff81cde675ULL;	/* dma_chan_get+0x5 */
	raw->stack[3] = 0xffffffff81cdec91ULL;	/* __dma_request_channel+0x91 */
	raw->stack[4] = client;
	raw->stack[5] = 0xffffffff81000100ULL;	/* _stext+0x100: its caller */
	raw->nr_stack = 6;
}

/* Decode a get from a client module at @client into f->ev. */
static int decode_get_from(struct dec_fix *f, uint64_t client)
{
	struct dmarw_event raw;

	get_from(&raw, client);
	return decoder__decode(f->d, &raw, f->ev);
}

/*
 * Module memory and BPF images share one area: a module loaded after our
 * last kallsyms read can sit just above a BPF image, and its frames must
 * not be taken for ours (dropped, which made the module's caller the
 * holder: "full_proxy_write [vmlinux]", seen on 5.10 in CI).  The list
 * changed, so kallsyms is read again; without the symbols the frame stays,
 * unnamed, and is the holder.
 */
TEST(decoder_module_above_a_bpf_image)
{
	struct dec_fix f;

	CHECK(dec_fix_make(&f, kallsyms_v0, ""), "setup");
	CHECK_INT(decode_get_from(&f, 0xffffffffc010803dULL), 0);	/* 32 KiB above our program */
	CHECK_INT(f.ev->nr_frames, 4);
	CHECK_STR(f.ev->frames[2].func, "");
	CHECK_INT(finding_holder_frame(f.ev->frames, f.ev->nr_frames), 2);
	/* the client shows up in both files: the next new address reads them */
	write_file(f.kd.modules, "dmarw_client 8192 0 - Live 0xffffffffc0108000\n");
	write_file(f.kd.kallsyms, "ffffffff81000000 T _stext\n"
		   "ffffffff81cde670 t dma_chan_get\n"
		   "ffffffff81cdec00 T __dma_request_channel\n"
		   "ffffffffc0100000 t bpf_prog_1234_fexit_dma_chan_get\t[bpf]\n"
		   "ffffffffc0108000 t dmarw_client_request_by_mask\t[dmarw_client]\n"
		   "ffffffffc0200000 t bpf_trampoline_6442486108\t[bpf]\n");
	CHECK_INT(decode_get_from(&f, 0xffffffffc0108040ULL), 0);
	CHECK_INT(f.ev->nr_frames, 4);
	CHECK_STR(f.ev->frames[2].func, "dmarw_client_request_by_mask");
	CHECK_STR(f.ev->frames[2].module, "dmarw_client");
	CHECK_INT(finding_holder_frame(f.ev->frames, f.ev->nr_frames), 2);
	/* a trampoline frame past its one page is no trampoline either */
	CHECK_INT(decode_get_from(&f, 0xffffffffc0201000ULL), 0);
	CHECK_INT(f.ev->nr_frames, 4);
	CHECK_STR(f.ev->frames[2].func, "");
out:
	dec_fix_free(&f);
}

/*
 * A kallsyms read that raced with a module's init can miss its symbols
 * while /proc/modules does not change afterwards: an address inside a
 * loaded module's range reads kallsyms again, once per module list.
 */
TEST(decoder_rereads_kallsyms_for_a_loaded_module)
{
	struct dec_fix f;
	uint64_t gen;

	CHECK(dec_fix_make(&f, kallsyms_v0, "dmarw_client 8192 0 - Live 0xffffffffc0001000\n"
		   "other 4096 0 - Live 0xffffffffc0005000\n"), "setup");
	CHECK_STR(ksyms__module_at(f.ks, 0xffffffffc0001fffULL), "dmarw_client");
	CHECK(!ksyms__module_at(f.ks, 0xffffffffc0003000ULL), "past the module");
	write_file(f.kd.kallsyms, kallsyms_v1);
	CHECK_INT(decode_get_from(&f, 0xffffffffc000103dULL), 0);
	CHECK_STR(f.ev->frames[2].func, "dmarw_client_request_by_mask");
	/* "other" has no symbols in that read: no second read for the same list */
	gen = ksyms__generation(f.ks);
	CHECK_INT(decode_get_from(&f, 0xffffffffc0005010ULL), 0);
	CHECK_STR(f.ev->frames[2].func, "");
	CHECK_INT(ksyms__generation(f.ks), gen);
out:
	dec_fix_free(&f);
}

/* one DMARW_EV_MODULE_SYMS record */
static void modsyms_rec(struct dmarw_event *raw, const char *module, bool last,
			uint32_t nr, const uint64_t *addr, const char *const *name)
{
	memset(raw, 0, sizeof(*raw));
	raw->type = DMARW_EV_MODULE_SYMS;
	raw->flags = last ? DMARW_F_LAST : 0;
	snprintf(raw->modsyms.module, sizeof(raw->modsyms.module), "%s", module);
	raw->modsyms.nr = nr;
	for (uint32_t i = 0; i < nr; i++) {
		raw->modsyms.sym[i].addr = addr[i];
		raw->modsyms.sym[i].size = 0x80;
		snprintf(raw->modsyms.sym[i].name, sizeof(raw->modsyms.sym[i].name),
			 "%s", name[i]);
	}
}

/*
 * A module's own symbol table, sent by the BPF program when it loads:
 * the names hold without any kallsyms read, .init.text included, bounded
 * by their sizes, and survive the module's unload and later reads.
 */
TEST(decoder_module_symbols_in_band)
{
	static const uint64_t a1[] = { 0xffffffffc0108000ULL, 0xffffffffc0108100ULL,
				       0xffffffffc0108200ULL };
	static const char *const n1[] = { "shortlived_request", "shortlived_ctl",
					  "shortlived_write" };
	static const uint64_t a2[] = { 0xffffffffc0400000ULL };
	static const char *const n2[] = { "shortlived_init" };
	struct dec_fix f;
	struct dmarw_event raw;
	uint64_t gen;

	CHECK(dec_fix_make(&f, kallsyms_v0, ""), "setup");
	gen = ksyms__generation(f.ks);
	modsyms_rec(&raw, "shortlived", false, 3, a1, n1);
	CHECK_INT(decoder__decode(f.d, &raw, f.ev), 1);
	modsyms_rec(&raw, "shortlived", true, 1, a2, n2);
	CHECK_INT(decoder__decode(f.d, &raw, f.ev), 1);
	CHECK_INT(ksyms__generation(f.ks), gen + 1);
	CHECK_INT(decode_get_from(&f, 0xffffffffc0108010ULL), 0);
	CHECK_INT(f.ev->nr_frames, 4);
	CHECK_STR(f.ev->frames[2].func, "shortlived_request");
	CHECK_STR(f.ev->frames[2].module, "shortlived");
	CHECK_INT(f.ev->frames[2].offset, 0x10);
	CHECK_INT(finding_holder_frame(f.ev->frames, f.ev->nr_frames), 2);
	CHECK_INT(decode_get_from(&f, 0xffffffffc040007fULL), 0);
	CHECK_STR(f.ev->frames[2].func, "shortlived_init");
	/* past its size: not stretched */
	CHECK_INT(decode_get_from(&f, 0xffffffffc0400080ULL), 0);
	CHECK_STR(f.ev->frames[2].func, "");
	/* kallsyms read again (another module came, ours went): names stay */
	write_file(f.kd.modules, "other 4096 0 - Live 0xffffffffc0005000\n");
	write_file(f.kd.kallsyms, "ffffffff81000000 T _stext\n"
		   "ffffffff81cde670 t dma_chan_get\n"
		   "ffffffff81cdec00 T __dma_request_channel\n"
		   "ffffffffc0005000 t other_fn\t[other]\n"
		   "ffffffffc0100000 t bpf_prog_1234_fexit_dma_chan_get\t[bpf]\n"
		   "ffffffffc0200000 t bpf_trampoline_6442486108\t[bpf]\n");
	CHECK_INT(ksyms__refresh_if_changed(f.ks), 1);
	CHECK_INT(decode_get_from(&f, 0xffffffffc0108210ULL), 0);
	CHECK_STR(f.ev->frames[2].func, "shortlived_write");
	/* its memory taken by a module kallsyms knows: that one wins */
	write_file(f.kd.modules, "reuser 8192 0 - Live 0xffffffffc0108000\n");
	write_file(f.kd.kallsyms, "ffffffff81000000 T _stext\n"
		   "ffffffff81cde670 t dma_chan_get\n"
		   "ffffffff81cdec00 T __dma_request_channel\n"
		   "ffffffffc0100000 t bpf_prog_1234_fexit_dma_chan_get\t[bpf]\n"
		   "ffffffffc0108000 t reuse_fn\t[reuser]\n"
		   "ffffffffc0200000 t bpf_trampoline_6442486108\t[bpf]\n");
	CHECK_INT(ksyms__refresh_if_changed(f.ks), 1);
	CHECK_INT(decode_get_from(&f, 0xffffffffc0108210ULL), 0);
	CHECK_STR(f.ev->frames[2].func, "reuse_fn");
	/* the same module loaded again replaces its old table */
	modsyms_rec(&raw, "reuser", true, 1, a2, n1);
	CHECK_INT(decoder__decode(f.d, &raw, f.ev), 1);
	CHECK_INT(decode_get_from(&f, 0xffffffffc0400010ULL), 0);
	CHECK_STR(f.ev->frames[2].func, "shortlived_request");
	CHECK_STR(f.ev->frames[2].module, "reuser");
out:
	dec_fix_free(&f);
}

/* A request event carries its client where other events have the stack. */
TEST(decoder_request_client)
{
	struct decoder *d = decoder__new(NULL);
	struct rw_event *ev = calloc(1, sizeof(*ev));
	struct dmarw_event raw;

	CHECK(d && ev, "setup");
	memset(&raw, 0, sizeof(raw));
	raw.type = DMARW_EV_REQUEST_CHAN;
	raw.hook = DMARW_HOOK_REQUEST_CHAN;
	snprintf(raw.client.dev, sizeof(raw.client.dev), "3f202000.mmc");
	snprintf(raw.client.drv, sizeof(raw.client.drv), "sdhost-bcm2835");
	snprintf(raw.client.req, sizeof(raw.client.req), "dma:rx-tx");
	CHECK_INT(decoder__decode(d, &raw, ev), 0);
	CHECK_STR(ev->client, "3f202000.mmc:rx-tx");
	CHECK_STR(ev->client_drv, "sdhost-bcm2835");
	CHECK_INT(ev->nr_frames, 0);
	/* names that fill their buffers, no "dma:" prefix */
	memset(raw.client.dev, 'd', sizeof(raw.client.dev));
	memset(raw.client.req, 'r', sizeof(raw.client.req));
	raw.client.drv[0] = 0;
	CHECK_INT(decoder__decode(d, &raw, ev), 0);
	CHECK_INT(strlen(ev->client), sizeof(ev->client) - 1);
	CHECK(!strncmp(ev->client, "dddddddddddddddddddddddddddddddd:rrr", 36), "%s", ev->client);
	CHECK_STR(ev->client_drv, "");
	/* a mask request: no client */
	raw.client.dev[0] = 0;
	CHECK_INT(decoder__decode(d, &raw, ev), 0);
	CHECK_STR(ev->client, "");
out:
	decoder__free(d);
	free(ev);
}

/* Seen in watch: every refresh kept the previous strings (RSS 10 -> 30 MB). */
TEST(ksyms_refresh_keeps_memory_flat)
{
	struct ksyms_dir kd;
	struct ksyms *ks = NULL;
	size_t first;
	int i;

	CHECK(ksyms_dir_make(&kd, kallsyms_v1), "mkdtemp");
	write_file(kd.modules, "dmarw_client 8192 0 - Live 0xffffffffc0001000\n");
	ks = ksyms__load(kd.kallsyms);
	CHECK(ks, "load failed");
	first = ksyms__nr_strings(ks);
	for (i = 0; i < 50; i++) {
		/* the client goes and comes back: its old names are kept once */
		write_file(kd.modules, i % 2 ? "dmarw_client 8192 0 - Live 0xffffffffc0001000\n" :
			   "other 4096 0 - Live 0xffffffffc0005000\n");
		write_file(kd.kallsyms, i % 2 ? kallsyms_v1 : kallsyms_v2);
		CHECK_INT(ksyms__refresh(ks), 0);
	}
	CHECK(ksyms__nr_strings(ks) <= 2 * first, "%zu strings after 50 refreshes, %zu at first",
	      ksyms__nr_strings(ks), first);
	CHECK(ksyms__map_addr(ks, 0xffffffffc000103dULL), "client symbol lost");
out:
	ksyms__free(ks);
	ksyms_dir_remove(&kd);
}

static void frame(struct rw_frame *f, const char *func, const char *module)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->func, sizeof(f->func), "%s", func);
	snprintf(f->module, sizeof(f->module), "%s", module);
}

/* The holder is the caller of the outermost dmaengine entry point. */
TEST(holder_frame_skips_the_providers_xlate)
{
	struct rw_frame fr[8];

	/* arm64 raspi3b, spi-bcm2835 probing: the provider's of_dma_xlate sits
	 * between the dmaengine core and the OF glue */
	frame(&fr[0], "dma_chan_get", "");
	frame(&fr[1], "find_candidate", "");
	frame(&fr[2], "dma_get_any_slave_channel", "");
	frame(&fr[3], "bcm2835_dma_xlate", "");
	frame(&fr[4], "of_dma_request_slave_channel", "");
	frame(&fr[5], "dma_request_chan", "");
	frame(&fr[6], "bcm2835_spi_probe", "spi_bcm2835");
	frame(&fr[7], "platform_probe", "");
	CHECK_INT(finding_holder_frame(fr, 8), 6);
	/* a plain request by mask */
	frame(&fr[2], "__dma_request_channel", "");
	frame(&fr[3], "dmarw_client_request_by_mask", "dmarw_client");
	frame(&fr[4], "dmarw_client_cmd", "dmarw_client");
	CHECK_INT(finding_holder_frame(fr, 5), 3);
	/* nothing outside the core */
	CHECK_INT(finding_holder_frame(fr, 3), -1);
out:
	;
}
