// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Choosing, loading and attaching the hooks; see bpf_loader.h. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpf_images.h"
#include "bpf_loader.h"
#include "bpf_pin.h"
#include "ksyms.h"
#include "dmarefwatch.skel.h"

/*
 * A program of the skeleton, by its place in struct dmarefwatch_bpf: a name
 * that is not a program of the object does not compile.  0 is "none" (the
 * skeleton starts with its object pointers, never a program).
 */
#define PROG(name)	offsetof(struct dmarefwatch_bpf, progs.name)

struct hook_def {
	const char *func;
	bool required;
	size_t fentry[2];		/* programs of the fentry flavour */
	size_t kprobe[2];		/* their kprobe/kretprobe twins */
	bool kretprobe[2];
	const char *cost;		/* what is lost when unavailable */
	bool tracepoint;		/* a raw tracepoint: fentry[0], RW_HOOK_TRACEPOINT */
	bool exit_for_trace;		/* fentry flavour: the exit only for trace, else
					   the entry (counting) alone */
};

static const struct hook_def hooks[DMARW_HOOK_MAX] = {
	[DMARW_HOOK_CHAN_GET] = {
		"dma_chan_get", true,
		{ PROG(fentry_dma_chan_get), PROG(fexit_dma_chan_get) },
		{ PROG(kprobe_dma_chan_get), PROG(kretprobe_dma_chan_get) }, { false, true },
		"every channel reference taken",
	},
	[DMARW_HOOK_CHAN_PUT] = {
		"dma_chan_put", true,
		{ PROG(fentry_dma_chan_put), PROG(fexit_dma_chan_put) },
		{ PROG(kprobe_dma_chan_put), PROG(kretprobe_dma_chan_put) }, { false, true },
		"every channel reference dropped",
	},
	[DMARW_HOOK_DEV_REGISTER] = {
		"dma_async_device_register", false,
		{ PROG(fexit_dma_async_device_register) },
		{ PROG(kprobe_dma_async_device_register),
		  PROG(kretprobe_dma_async_device_register) },
		{ false, true },
		"missing-release-callback for devices registered while tracing",
	},
	[DMARW_HOOK_DEV_UNREGISTER] = {
		"dma_async_device_unregister", true,
		{ PROG(fentry_dma_async_device_unregister),
		  PROG(fexit_dma_async_device_unregister) },
		{ PROG(kprobe_dma_async_device_unregister),
		  PROG(kretprobe_dma_async_device_unregister) },
		{ false, true },
		"unregister-with-users, get-after-unregister, release-pending",
	},
	[DMARW_HOOK_DEV_RELEASE] = {
		"dma_device_release", false,
		{ PROG(fentry_dma_device_release) },
		{ PROG(kprobe_dma_device_release) }, { false },
		"nothing: releases are inferred from the kref at the exits of "
		"dma_chan_put and dma_async_device_unregister",
	},
	[DMARW_HOOK_RELEASE_CHANNEL] = {
		"dma_release_channel", false,
		{ PROG(fentry_dma_release_channel) },
		{ PROG(kprobe_dma_release_channel) }, { false },
		"unbalanced-put for dma_release_channel() with client_count > 1",
	},
	[DMARW_HOOK_REQUEST_CHAN] = {
		"dma_request_chan", false,
		{ PROG(fexit_dma_request_chan) },
		{ PROG(kprobe_dma_request_chan), PROG(kretprobe_dma_request_chan) }, { false, true },
		"request events by name (holders still come from dma_chan_get)",
	},
	[DMARW_HOOK_REQUEST_CHANNEL] = {
		"__dma_request_channel", false,
		{ PROG(fentry___dma_request_channel), PROG(fexit___dma_request_channel) },
		{ PROG(kprobe___dma_request_channel), PROG(kretprobe___dma_request_channel) },
		{ false, true },
		"request events by mask (holders still come from dma_chan_get)",
		.exit_for_trace = true,
	},
	[DMARW_HOOK_DMAENGINE_GET] = {
		"dmaengine_get", false,
		{ PROG(fentry_dmaengine_get) },
		{ PROG(kprobe_dmaengine_get) }, { false },
		"naming dmaengine_get() users in the trace",
	},
	[DMARW_HOOK_DMAENGINE_PUT] = {
		"dmaengine_put", false,
		{ PROG(fentry_dmaengine_put) },
		{ PROG(kprobe_dmaengine_put) }, { false },
		"naming dmaengine_put() users in the trace",
	},
	[DMARW_HOOK_DRIVER_UNBIND] = {
		"devres_release_all", false,
		{ PROG(fexit_devres_release_all) },
		{ PROG(kprobe_devres_release_all), PROG(kretprobe_devres_release_all) },
		{ false, true },
		"leaked-reference the moment a client device is unbound holding a channel "
		"(else at the end of a run only)",
	},
	[DMARW_HOOK_MODULE_FREE] = {
		"module_free", false,
		{ PROG(module_free) }, { PROG(module_free) }, { false },
		"leaked-reference the moment a module holding a channel is unloaded "
		"(else at the end of a run only)", true,
	},
};

struct loader {
	struct dmarefwatch_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[DMARW_HOOK_MAX][2];
	struct bpf_program *modprog;	/* module_load or module_load_chained: */
	struct bpf_link *modlink;	/* module symbols in band */
	enum rw_hook_mode mode[DMARW_HOOK_MAX];
	char why[DMARW_HOOK_MAX][160];
	loader_event_fn fn;
	void *ctx;
	int nr_cpus;
	uint64_t list_addr;		/* &dma_device_list, 0 unknown */
	int fentry_err;			/* 1 not probed yet, 0 works, -errno */
	struct bpf_images *images;	/* names of the programs and trampolines we create */
	bool send_balanced;		/* trace: every event as a record */
	bool no_batch;			/* the kernel has no batch lookups (before 5.6) */
	/*
	 * The state maps read by loader__for_each_*() and the hook stats: our
	 * own, or a running service's (loader__follow(); not ours to close).
	 */
	int map_fd[PIN_MAP_NR_BPF];
	uint32_t followed_capacity;	/* the service's ledger entries; 0 our own */
};

static bool verbose;

void loader__startup_mark(bool on, const char *what)
{
	static struct timespec last, first;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!what) {
		first = last = now;
		return;
	}
	if (on)
		fprintf(stderr, "dmarefwatch: start-up: %-24s %5.0f ms (%5.0f ms in all)\n",
			what, (now.tv_sec - last.tv_sec) * 1e3 + (now.tv_nsec - last.tv_nsec) / 1e6,
			(now.tv_sec - first.tv_sec) * 1e3 + (now.tv_nsec - first.tv_nsec) / 1e6);
	last = now;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

const char *loader__hook_func(enum dmarw_hook hook)
{
	return hook < DMARW_HOOK_MAX ? hooks[hook].func : "?";
}

const char *loader__hook_cost(enum dmarw_hook hook)
{
	return hook < DMARW_HOOK_MAX ? hooks[hook].cost : "";
}

/* ---- probing ---- */

static bool has_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	eff = data[0].effective | ((uint64_t)data[1].effective << 32);
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return true;
	/* CAP_BPF (39) and CAP_PERFMON (38), kernels 5.8+ */
	return (eff & (1ULL << 39)) && (eff & (1ULL << 38));
}

static void *detach_probe(void *arg)
{
	int *fds = arg;

	close(fds[0]);
	close(fds[1]);
	free(fds);
	return NULL;
}

/*
 * Taking the probe off its trampoline waits for an RCU-tasks grace period
 * (130 ms of an emulated start-up, mostly waiting): a thread of its own
 * does it while we load and verify.  false: do it yourself.
 */
static bool detach_later(int link, int prog)
{
	pthread_attr_t attr;
	pthread_t thread;
	int *fds = malloc(2 * sizeof(*fds));
	bool ok;

	if (!fds)
		return false;
	fds[0] = link;
	fds[1] = prog;
	if (pthread_attr_init(&attr)) {
		free(fds);
		return false;
	}
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ok = !pthread_create(&thread, &attr, detach_probe, fds);
	pthread_attr_destroy(&attr);
	if (!ok)
		free(fds);
	return ok;
}

/* fentry attachable: load a trivial program against the BTF id and attach it. */
static int fentry_probe(const struct btf *vmlinux, const char *func)
{
	struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },	/* r0 = 0 */
		{ .code = 0x95 },				/* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	int id, prog, link, err;

	id = btf__find_by_name_kind(vmlinux, func, BTF_KIND_FUNC);
	if (id < 0)
		return -ENOENT;
	opts.attach_btf_id = id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "dmarw_probe", "GPL", insns, 2, &opts);
	if (prog < 0)
		return -errno;
	link = bpf_raw_tracepoint_open(NULL, prog);
	err = link < 0 ? -errno : 0;
	if (link < 0 || !detach_later(link, prog)) {
		if (link >= 0)
			close(link);
		close(prog);
	}
	return err;
}

/*
 * A --btf file must parse and hold the dmaengine types: libbpf would only
 * say that CO-RE found nothing, program by program, under -v.
 */
static int check_btf_file(const char *path, char *err, size_t errlen)
{
	struct btf *btf = btf__parse(path, NULL);
	int ret = 0;

	if (!btf) {
		char msg[96];

		ret = -errno;
		libbpf_strerror(ret, msg, sizeof(msg));
		snprintf(err, errlen, "cannot read BTF from %s: %s", path, msg);
		return ret > -4000 ? ret : -EINVAL;	/* libbpf's own errnos are 4000+ */
	}
	if (btf__find_by_name_kind(btf, "dma_device", BTF_KIND_STRUCT) < 0 ||
	    btf__find_by_name_kind(btf, "dma_chan", BTF_KIND_STRUCT) < 0) {
		snprintf(err, errlen, "%s has no struct dma_device or dma_chan: not the "
			 "BTF of a kernel with CONFIG_DMA_ENGINE", path);
		ret = -EINVAL;
	}
	btf__free(btf);
	return ret;
}

static bool kprobes_supported(void)
{
	return !access("/sys/bus/event_source/devices/kprobe/type", F_OK) ||
	       !access("/sys/kernel/tracing/kprobe_events", F_OK) ||
	       !access("/sys/kernel/debug/tracing/kprobe_events", F_OK);
}

static const char *strerr(int err)
{
	return strerror(err < 0 ? -err : err);
}

/*
 * Decide the mode of one hook: fentry, kprobe or tracepoint, or unavailable
 * with why.
 * Whether fentry works at all (EPERM under lockdown, no trampolines on the
 * architecture) is a property of the kernel: it is probed once, on the
 * first function that has BTF, since each probe attaches a trampoline
 * (a quarter of a second under emulation).
 */
static enum rw_hook_mode choose(struct loader *l, const struct btf *vmlinux,
			  const struct loader_opts *opts, enum dmarw_hook h, enum attach_mode mode,
			  bool kprobes, char *why, size_t len)
{
	const char *func = hooks[h].func, *clone;
	const struct ksyms *ks;
	char fwhy[96] = "";
	int err;

	if (hooks[h].tracepoint)
		return RW_HOOK_TRACEPOINT;	/* whether it attaches is seen at attach */
	if (mode != MODE_KPROBE) {
		if (!vmlinux || btf__find_by_name_kind(vmlinux, func, BTF_KIND_FUNC) < 0) {
			err = -ENOENT;
		} else {
			if (l->fentry_err == 1)
				l->fentry_err = fentry_probe(vmlinux, func);
			err = l->fentry_err;
		}
		if (!err)
			return RW_HOOK_FENTRY;
		if (err == -ENOENT)
			snprintf(fwhy, sizeof(fwhy), "not in vmlinux BTF (inlined or renamed)");
		else
			snprintf(fwhy, sizeof(fwhy), "fentry refused: %s", strerr(err));
		if (mode == MODE_FENTRY) {
			snprintf(why, len, "%s", fwhy);
			return RW_HOOK_UNAVAILABLE;
		}
	}
	ks = kprobes ? opts->ks(opts->ks_ctx) : NULL;
	if (!kprobes)
		snprintf(why, len, "%s%skprobes not supported by this kernel "
			 "(no kprobe PMU or kprobe_events)", fwhy, fwhy[0] ? "; " : "");
	else if (!ks)
		snprintf(why, len, "%s%s/proc/kallsyms unreadable: %s", fwhy,
			 fwhy[0] ? "; " : "", strerr(errno));
	else if (ksyms__get_symbol(ks, func))
		return RW_HOOK_KPROBE;
	else if ((clone = ksyms__find_clone(ks, func)))
		snprintf(why, len, "%s%sonly the compiler clone %s exists, whose "
			 "arguments may differ", fwhy, fwhy[0] ? "; " : "", clone);
	else
		snprintf(why, len, "%s%snot in /proc/kallsyms (inlined)", fwhy,
			 fwhy[0] ? "; " : "");
	return RW_HOOK_UNAVAILABLE;
}

/* Program @i (0 entry, 1 exit) of hook @h in mode @mode, or NULL: none. */
static struct bpf_program *hook_prog(const struct loader *l, enum dmarw_hook h,
				     enum rw_hook_mode mode, int i)
{
	size_t off = mode == RW_HOOK_KPROBE ? hooks[h].kprobe[i] : hooks[h].fentry[i];

	if (mode == RW_HOOK_FENTRY && hooks[h].exit_for_trace && i == !l->send_balanced)
		return NULL;
	return off ? *(struct bpf_program **)((char *)l->skel + off) : NULL;
}

/*
 * Where a stack under a kretprobed function stops unwinding: the x86
 * unwinder learned to step over kretprobe_trampoline in 5.15, which renamed
 * it __kretprobe_trampoline.  0 when no hook runs as a kretprobe.
 */
static uint64_t kretprobe_trampoline(const struct loader *l, const struct loader_opts *opts)
{
	const struct ksym *sym;
	const struct ksyms *ks;
	int h;

	for (h = 0; h < DMARW_HOOK_MAX; h++)
		if (l->mode[h] == RW_HOOK_KPROBE && hooks[h].kretprobe[1])
			break;
	if (h == DMARW_HOOK_MAX)
		return 0;
	ks = opts->ks(opts->ks_ctx);
	if (!ks)
		return 0;
	sym = ksyms__get_symbol(ks, "kretprobe_trampoline");
	if (!sym)
		sym = ksyms__get_symbol(ks, "__kretprobe_trampoline");
	return sym ? sym->addr : 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct loader *l = ctx;

	if (size < sizeof(struct dmarw_event))
		return 0;
	return l->fn(l->ctx, data);
}

/* Open the object, load the programs of the chosen modes (l->mode[]). */
static int skel_load(struct loader *l, const struct loader_opts *opts, bool modsyms,
		     char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = opts->btf);
	struct bpf_program *p;
	int h, i, ret;
	__u32 refs;

	dmarefwatch_bpf__destroy(l->skel);
	l->modprog = NULL;
	l->skel = dmarefwatch_bpf__open_opts(&oo);
	if (!l->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the BPF object: %s", strerr(ret));
		return ret;
	}
	bpf_object__for_each_program(p, l->skel->obj)
		bpf_program__set_autoload(p, false);
	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		if (!rw_hook_mode_attached(l->mode[h]))
			continue;
		for (i = 0; i < 2; i++) {
			p = hook_prog(l, h, l->mode[h], i);
			if (p)
				bpf_program__set_autoload(p, true);
		}
	}
	/* dma_device_list's address is set after the load: kallsyms may still be read */
	bpf_program__set_autoload(l->skel->progs.snapshot_walk, true);
	if (modsyms) {
		l->modprog = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
						     BPF_FUNC_loop, NULL) == 1 ?
			     l->skel->progs.module_load : l->skel->progs.module_load_chained;
		bpf_program__set_autoload(l->modprog, true);
	}
	l->skel->rodata->capture_stack = opts->stacks;
	l->skel->rodata->send_balanced = opts->send_balanced;
	refs = opts->max_references ? opts->max_references : DMARW_DEFAULT_MAX_REFS;
	ret = bpf_map__set_max_entries(l->skel->maps.ledger, refs);
	if (!ret)
		ret = bpf_map__set_max_entries(l->skel->maps.ledger_free, refs);
	l->skel->rodata->ledger_capacity = refs;
	if (ret) {
		snprintf(err, errlen, "cannot size the reference ledger: %s", strerr(ret));
		return ret;
	}
	l->skel->rodata->kretprobe_tramp = opts->stacks ? kretprobe_trampoline(l, opts) : 0;
	l->skel->rodata->release_hooked =
		rw_hook_mode_attached(l->mode[DMARW_HOOK_DEV_RELEASE]);
	ret = dmarefwatch_bpf__load(l->skel);
	if (ret) {
		snprintf(err, errlen, "cannot load the BPF programs: %s%s", strerr(ret),
			 opts->verbose ? "" : " (run with -v for the verifier log)");
		return ret;
	}
	if (l->modprog == l->skel->progs.module_load_chained) {
		/* the chained walk's next run is itself */
		int zero = 0, fd = bpf_program__fd(l->modprog);

		ret = bpf_map__update_elem(l->skel->maps.modsyms_next, &zero, sizeof(zero),
					   &fd, sizeof(fd), BPF_ANY);
		if (ret)
			snprintf(err, errlen, "cannot set up the module symbol walk: %s",
				 strerr(ret));
	}
	return ret;
}

/*
 * The required hooks must all be there: else one line in @err naming the
 * missing ones, with one reason when they share it; returns how many.
 */
static int required_missing(const struct loader *l, char *err, size_t errlen)
{
	int h, nr_missing = 0, first = 0;
	bool same = true;
	size_t off = 0;

	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		if (!hooks[h].required || l->mode[h] != RW_HOOK_UNAVAILABLE)
			continue;
		if (nr_missing && strcmp(l->why[h], l->why[first]))
			same = false;
		if (!nr_missing++)
			first = h;
	}
	for (h = 0; h < DMARW_HOOK_MAX && nr_missing; h++) {
		if (!hooks[h].required || l->mode[h] != RW_HOOK_UNAVAILABLE)
			continue;
		off += snprintf(err + off, off < errlen ? errlen - off : 0, "%s%s%s%s",
				off ? (same ? ", " : "; ") : "cannot trace ", hooks[h].func,
				same ? "" : ": ", same ? "" : l->why[h]);
	}
	if (nr_missing && same)
		snprintf(err + off, off < errlen ? errlen - off : 0, ": %s", l->why[first]);
	return nr_missing;
}

int loader__open(struct loader **out, const struct loader_opts *opts,
		 loader_event_fn fn, void *ctx, char *err, size_t errlen)
{
	enum attach_mode mode = opts->mode;
	const struct ksyms *ks;
	struct btf *vmlinux = NULL;
	struct loader *l;
	bool kprobes, kbtf, any = false;
	int h, ret;

	*out = NULL;
	verbose = opts->verbose;
	libbpf_set_print(libbpf_print);
	if (!has_caps()) {
		snprintf(err, errlen, "tracing needs root (CAP_BPF and CAP_PERFMON, "
			 "or CAP_SYS_ADMIN)");
		return -EPERM;
	}
	kbtf = !access("/sys/kernel/btf/vmlinux", R_OK);
	if (!kbtf && !opts->btf) {
		snprintf(err, errlen, "this kernel has no BTF (/sys/kernel/btf/vmlinux, "
			 "CONFIG_DEBUG_INFO_BTF): give its types with --btf FILE or "
			 "DMAREFWATCH_BTF (see docs/btf.md)");
		return -ENOTSUP;
	}
	if (opts->btf) {
		ret = check_btf_file(opts->btf, err, errlen);
		if (ret)
			return ret;
	}
	/* trampolines attach by the kernel's own BTF ids: a file serves CO-RE only */
	if (!kbtf && mode == MODE_FENTRY) {
		snprintf(err, errlen, "--mode fentry needs the kernel's own BTF "
			 "(/sys/kernel/btf/vmlinux); with --btf only kprobes can attach");
		return -ENOTSUP;
	}
	if (!kbtf && !opts->no_hooks) {
		mode = MODE_KPROBE;
		fprintf(stderr, "dmarefwatch: no kernel BTF: kprobe mode, types from %s\n",
			opts->btf);
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->fn = fn;
	l->ctx = ctx;
	l->fentry_err = 1;
	l->send_balanced = opts->send_balanced;
	l->nr_cpus = libbpf_num_possible_cpus();
	vmlinux = kbtf ? btf__load_vmlinux_btf() : NULL;
	loader__startup_mark(verbose, "kernel BTF");
	kprobes = kprobes_supported();
	for (h = 0; h < DMARW_HOOK_MAX && opts->no_hooks; h++) {
		l->mode[h] = RW_HOOK_UNAVAILABLE;
		snprintf(l->why[h], sizeof(l->why[h]), "not asked for");
	}
	for (h = 0; h < DMARW_HOOK_MAX && !opts->no_hooks; h++) {
		l->mode[h] = choose(l, vmlinux, opts, h, mode, kprobes,
				    l->why[h], sizeof(l->why[h]));
		if (rw_hook_mode_attached(l->mode[h]))
			any = true;
	}
	btf__free(vmlinux);
	vmlinux = NULL;
	loader__startup_mark(verbose, "hook modes (fentry probe)");
	if ((!opts->no_hooks && required_missing(l, err, errlen)) ||
	    (!any && !opts->no_hooks)) {
		ret = -ENOTSUP;
		goto fail;
	}
	if (!opts->no_hooks)
		l->images = bpf_images__watch();
	ret = skel_load(l, opts, !opts->no_hooks, err, errlen);
	if (ret && !opts->no_hooks) {
		/* the optional program may be what this kernel refuses */
		if (verbose)
			fprintf(stderr, "dmarefwatch: loading again without the module_load "
				"program: module names come from kallsyms only\n");
		ret = skel_load(l, opts, false, err, errlen);
	}
	if (ret)
		goto fail;
	loader__startup_mark(verbose, "load and verify");
	ks = opts->ks(opts->ks_ctx);
	if (!ks) {
		ret = -errno;
		snprintf(err, errlen, "cannot read /proc/kallsyms: %s", strerr(ret));
		goto fail;
	}
	l->list_addr = ksyms__data_addr(ks, "dma_device_list");
	l->skel->bss->dma_device_list_addr = l->list_addr;
	l->map_fd[PIN_MAP_LEDGER] = bpf_map__fd(l->skel->maps.ledger);
	l->map_fd[PIN_MAP_CHAN_STATE] = bpf_map__fd(l->skel->maps.chan_state);
	l->map_fd[PIN_MAP_DEV_STATE] = bpf_map__fd(l->skel->maps.dev_state);
	l->map_fd[PIN_MAP_HOOK_STATS] = bpf_map__fd(l->skel->maps.hook_stats);
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), on_event, l, NULL);
	if (!l->rb) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the ring buffer: %s", strerr(ret));
		goto fail;
	}
	*out = l;
	return 0;
fail:
	btf__free(vmlinux);
	loader__close(l);
	return ret < 0 ? ret : -EINVAL;
}

int loader__attach(struct loader *l, char *err, size_t errlen)
{
	struct bpf_program *p;
	int h, i;

	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		bool fentry = l->mode[h] == RW_HOOK_FENTRY;

		if (!rw_hook_mode_attached(l->mode[h]))
			continue;
		if (l->mode[h] == RW_HOOK_TRACEPOINT) {
			/* optional, and its absence is only a later verdict */
			p = hook_prog(l, h, l->mode[h], 0);
			l->links[h][0] = p ? bpf_program__attach(p) : NULL;
			if (!l->links[h][0]) {
				snprintf(l->why[h], sizeof(l->why[h]), "tracepoint does not "
					 "attach: %s", p ? strerr(-errno) : "no program");
				l->mode[h] = RW_HOOK_UNAVAILABLE;
			}
			continue;
		}
		/*
		 * The exit first: a function's kprobe handlers run newest first,
		 * so the entry program sees the stack before the kretprobe
		 * replaces the return address (stack_splice() in the BPF code).
		 */
		for (i = 1; i >= 0; i--) {
			p = hook_prog(l, h, l->mode[h], i);
			if (!p)
				continue;
			if (fentry)
				l->links[h][i] = bpf_program__attach(p);
			else
				l->links[h][i] = bpf_program__attach_kprobe(p, hooks[h].kretprobe[i],
									    hooks[h].func);
			if (!l->links[h][i]) {
				int ret = -errno;

				if (hooks[h].required) {
					snprintf(err, errlen, "cannot attach %s to %s: %s",
						 bpf_program__name(p),
						 hooks[h].func, strerr(ret));
					return ret;
				}
				/* an optional hook the kernel refuses: announced, not fatal */
				snprintf(l->why[h], sizeof(l->why[h]), "%s refused: %s",
					 fentry ? "fentry" : "kprobe", strerr(ret));
				l->mode[h] = RW_HOOK_UNAVAILABLE;
				bpf_link__destroy(l->links[h][0]);
				bpf_link__destroy(l->links[h][1]);
				l->links[h][0] = l->links[h][1] = NULL;
				break;
			}
		}
	}
	/*
	 * Optional: without it a module's names come from kallsyms, read when
	 * /proc/modules changes, and a module gone before that stays unnamed.
	 */
	l->modlink = l->modprog ? bpf_program__attach(l->modprog) : NULL;
	if (l->modprog && !l->modlink && verbose)
		fprintf(stderr, "dmarefwatch: tracepoint module_load: %s; module names "
			"come from kallsyms only\n", strerr(-errno));
	return 0;
}

const void *loader__object_bytes(size_t *sz)
{
	return dmarefwatch_bpf__elf_bytes(sz);
}

void loader__close(struct loader *l)
{
	int h, i;

	if (!l)
		return;
	bpf_images__free(l->images);
	ring_buffer__free(l->rb);
	bpf_link__destroy(l->modlink);
	for (h = 0; h < DMARW_HOOK_MAX; h++)
		for (i = 0; i < 2; i++)
			bpf_link__destroy(l->links[h][i]);
	dmarefwatch_bpf__destroy(l->skel);
	free(l);
}

int loader__snapshot(struct loader *l)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int fd, i, err;

	if (!l->list_addr)
		return -ENOENT;
	fd = bpf_program__fd(l->skel->progs.snapshot_walk);
	if (fd < 0)
		return -ENOENT;
	l->skel->bss->snap_dev = 0;
	l->skel->bss->snap_chan = 0;
	l->skel->bss->snap_done = 0;
	/* one record per run: 64 devices of 64 channels at most, and then some */
	for (i = 0; i < 64 * 66 && !l->skel->bss->snap_done; i++) {
		err = bpf_prog_test_run_opts(fd, &opts);
		if (err)
			return -errno;
		err = ring_buffer__consume(l->rb);
		if (err < 0)
			return err;
	}
	if (!l->skel->bss->snap_done)
		return -E2BIG;
	return 0;
}

int loader__name_images(struct loader *l, struct ksyms *ks)
{
	int ret = l->images ? bpf_images__to_ksyms(l->images, ks) : -ENOENT;

	bpf_images__free(l->images);
	l->images = NULL;
	return ret;
}

bool loader__module_syms_in_band(const struct loader *l)
{
	return l->modlink != NULL;
}

int loader__poll(struct loader *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms);

	/*
	 * The programs wake us only when a quarter of the buffer is waiting:
	 * take whatever is there on every return, timeouts included.
	 */
	if (n >= 0) {
		int m = ring_buffer__consume(l->rb);

		n = m < 0 ? m : n + m;
	}
	return n;
}

enum rw_hook_mode loader__hook_mode(const struct loader *l, enum dmarw_hook hook,
				    const char **why)
{
	if (why)
		*why = hook < DMARW_HOOK_MAX ? l->why[hook] : "";
	return hook < DMARW_HOOK_MAX ? l->mode[hook] : RW_HOOK_UNAVAILABLE;
}

void loader__hook_stats(const struct loader *l, enum dmarw_hook hook,
			struct loader_hook_stats *out)
{
	struct dmarw_hook_stats vals[l->nr_cpus > 0 ? l->nr_cpus : 1];
	__u32 key = hook;
	int i;

	memset(out, 0, sizeof(*out));
	if (l->nr_cpus <= 0 || bpf_map_lookup_elem(l->map_fd[PIN_MAP_HOOK_STATS], &key, vals))
		return;
	for (i = 0; i < l->nr_cpus; i++) {
		out->hits += vals[i].hits;
		out->lost += vals[i].lost;
		out->ledger_full += vals[i].ledger_full;
		out->stack_failed += vals[i].stack_failed;
		out->map_failed += vals[i].map_failed;
		out->sent += vals[i].sent;
	}
}

#define LEDGER_BATCH	64

/* Entries @from..@from+@count-1 of the ledger array, one lookup each. */
static int holders_by_index(int fd, __u32 from, __u32 count, struct dmarw_holder *vals)
{
	__u32 i, k;

	for (i = 0; i < count; i++) {
		k = from + i;
		if (bpf_map_lookup_elem(fd, &k, &vals[i]))
			return -errno;
	}
	return 0;
}

int loader__ledger_fd(const struct loader *l)
{
	return l->map_fd[PIN_MAP_LEDGER];
}

/*
 * The ledger is an array of max_entries entries (bpf/ledger.bpf.h), read
 * LEDGER_BATCH at a time (one batch lookup where the kernel has them); an
 * entry with id 0 is free, the others are holders, named by the channel
 * and slot they carry.
 */
int loader__for_each_holder_in(const struct loader *l, int fd,
			       void (*fn)(void *ctx, const struct dmarw_ledger_key *key,
					  const struct dmarw_holder *h),
			       void *ctx)
{
	static __u32 keys[LEDGER_BATCH];
	static struct dmarw_holder vals[LEDGER_BATCH];
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), from, count, i;
	int n = 0, ret;

	if (fd < 0)
		return -EBADF;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != sizeof(struct dmarw_holder))
		return -EPROTO;
	/*
	 * Our own ledger: only the entries ever handed out (the BPF side's
	 * high-water mark, in its mmapped .bss).  A followed one: all.
	 */
	if (l->skel && l->skel->bss && fd == bpf_map__fd(l->skel->maps.ledger) &&
	    l->skel->bss->ledger_used < info.max_entries)
		info.max_entries = l->skel->bss->ledger_used;
	for (from = 0; from < info.max_entries; from += count) {
		__u32 in_batch = from - 1, out_batch;	/* the key before the batch */
		LIBBPF_OPTS(bpf_map_batch_opts, bo);

		count = info.max_entries - from < LEDGER_BATCH ? info.max_entries - from :
			LEDGER_BATCH;
		ret = -1;
		if (!l->no_batch) {
			__u32 got = count;

			ret = bpf_map_lookup_batch(fd, from ? &in_batch : NULL, &out_batch,
						   keys, vals, &got, &bo);
			if (ret && errno == ENOENT)
				ret = 0;	/* the last batch */
			else if (ret && (errno == EINVAL || errno == ENOTSUP ||
					 errno == EOPNOTSUPP))
				((struct loader *)l)->no_batch = true;
			else if (ret)
				return -errno;
			if (!ret && got != count)
				ret = -1;	/* short: read them one by one */
		}
		if (ret && (ret = holders_by_index(fd, from, count, vals)))
			return ret;
		for (i = 0; i < count; i++) {
			struct dmarw_ledger_key key = { .chan = vals[i].chan, .slot = vals[i].slot };

			if (!vals[i].id)
				continue;
			fn(ctx, &key, &vals[i]);
			n++;
		}
	}
	return n;
}

uint32_t loader__ledger_capacity(const struct loader *l, uint64_t *bytes)
{
	uint32_t n = l->followed_capacity ? l->followed_capacity :
		     bpf_map__max_entries(l->skel->maps.ledger);

	if (bytes)
		*bytes = (uint64_t)n * (sizeof(struct dmarw_holder) + sizeof(__u32));
	return n;
}

int loader__for_each_chan(const struct loader *l,
			  void (*fn)(void *ctx, uint64_t kptr, const struct dmarw_chan_state *st),
			  void *ctx)
{
	int fd = l->map_fd[PIN_MAP_CHAN_STATE];
	__u64 key, next, *prev = NULL;
	struct dmarw_chan_state st;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &st))
			fn(ctx, key, &st);
	}
	return 0;
}

int loader__for_each_dev(const struct loader *l,
			 void (*fn)(void *ctx, uint64_t kptr, const struct dmarw_dev_state *st),
			 void *ctx)
{
	int fd = l->map_fd[PIN_MAP_DEV_STATE];
	__u64 key, next, *prev = NULL;
	struct dmarw_dev_state st;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &st))
			fn(ctx, key, &st);
	}
	return 0;
}

void loader__map_fds(const struct loader *l, int fds[PIN_MAP_NR_BPF])
{
	memcpy(fds, l->map_fd, sizeof(l->map_fd));
}

void loader__follow(struct loader *l, const int fds[PIN_MAP_NR_BPF],
		    const struct dmarw_pin_owner *o)
{
	int h;

	memcpy(l->map_fd, fds, sizeof(l->map_fd));
	l->followed_capacity = o->max_references;
	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		l->mode[h] = o->hook_mode[h] < RW_HOOK_MODE_MAX ? o->hook_mode[h] :
			     RW_HOOK_UNSET;
		snprintf(l->why[h], sizeof(l->why[h]), "%s in the service",
			 l->mode[h] == RW_HOOK_UNAVAILABLE ? "unavailable" : "attached");
	}
}
