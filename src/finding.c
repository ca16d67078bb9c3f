/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Finding kinds, severities and the rule that picks the holder frame out
 * of a kernel stack.
 */
#include <stdio.h>
#include <string.h>
#include "finding.h"

static const struct {
	const char *name;
	enum finding_severity severity;
} kinds[FINDING_KIND_MAX] = {
	[FINDING_LEAKED_REFERENCE]	  = { "leaked-reference", SEVERITY_ERROR },
	[FINDING_UNREGISTER_WITH_USERS]	  = { "unregister-with-users", SEVERITY_ERROR },
	[FINDING_RELEASE_WITH_USERS]	  = { "release-with-users", SEVERITY_ERROR },
	[FINDING_UNBALANCED_PUT]	  = { "unbalanced-put", SEVERITY_ERROR },
	[FINDING_REFCOUNT_MISMATCH]	  = { "refcount-mismatch", SEVERITY_ERROR },
	[FINDING_GET_AFTER_UNREGISTER]	  = { "get-after-unregister", SEVERITY_ERROR },
	[FINDING_RELEASE_PENDING]	  = { "release-pending", SEVERITY_WARNING },
	[FINDING_MISSING_RELEASE_CALLBACK] = { "missing-release-callback", SEVERITY_WARNING },
	[FINDING_GET_FAILED]		  = { "get-failed", SEVERITY_INFO },
	[FINDING_LONG_HELD_REFERENCE]	  = { "long-held-reference", SEVERITY_INFO },
};

static const char *const severity_names[] = {
	[SEVERITY_INFO]		= "info",
	[SEVERITY_WARNING]	= "warning",
	[SEVERITY_ERROR]	= "error",
};

const char *finding_kind_name(enum finding_kind kind)
{
	if ((unsigned int)kind >= FINDING_KIND_MAX)
		return "unknown";
	return kinds[kind].name;
}

int finding_kind_parse(const char *name)
{
	int i;

	if (!name)
		return -1;
	for (i = 0; i < FINDING_KIND_MAX; i++)
		if (!strcmp(kinds[i].name, name))
			return i;
	return -1;
}

enum finding_severity finding_kind_severity(enum finding_kind kind)
{
	if ((unsigned int)kind >= FINDING_KIND_MAX)
		return SEVERITY_ERROR;
	return kinds[kind].severity;
}

const char *finding_severity_name(enum finding_severity sev)
{
	if ((unsigned int)sev > SEVERITY_ERROR)
		return "unknown";
	return severity_names[sev];
}

int finding_severity_parse(const char *name)
{
	int i;

	if (!name)
		return -1;
	for (i = 0; i <= SEVERITY_ERROR; i++)
		if (!strcmp(severity_names[i], name))
			return i;
	return -1;
}

bool finding__fails(const struct finding *f, enum finding_severity fail_on)
{
	return !f->suppressed[0] && f->severity >= fail_on;
}

/*
 * Functions of drivers/dma/dmaengine.c, of-dma.c and acpi-dma.c that sit
 * between a client and dma_chan_get()/dma_chan_put(): the holder is whoever
 * called into them.
 */
static const char *const core_funcs[] = {
	"dma_chan_get", "dma_chan_put", "find_candidate", "private_candidate",
	"__dma_request_channel", "dma_request_chan", "dma_request_chan_by_mask",
	"dma_get_slave_channel", "dma_get_any_slave_channel",
	"dma_release_channel", "dmaengine_get", "dmaengine_put",
	"dma_async_device_register", "dma_async_device_unregister",
	"balance_ref_count", "dma_channel_rebalance",
	"of_dma_request_slave_channel", "dma_request_slave_channel",
	"dma_request_channel", "__dma_request_slave_channel_compat",
	"dma_request_slave_channel_compat", "dma_device_put",
	"dma_device_release", "dma_async_device_channel_register",
	"dma_async_device_channel_unregister",
	"__dma_async_device_channel_register",
	"__dma_async_device_channel_unregister",
	"devm_dma_request_chan", "devm_dma_release_channel",
};

/* Prefixes of the dmaengine core and of the tracing glue itself. */
static const char *const core_prefixes[] = {
	"acpi_dma_", "of_dma_", "dmaenginem_",
	"bpf_trampoline_", "bpf_prog_", "__bpf_prog_",
	"kprobe", "kretprobe", "rethook", "ftrace", "fprobe",
	"__kprobe", "__kretprobe", "__rethook", "__ftrace", "__fprobe",
	"pre_handler_kretprobe",
};

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

bool finding_frame_is_core(const struct rw_frame *frame)
{
	char base[RW_FUNC_LEN];
	const char *dot;
	size_t i, len;

	if (frame->core)
		return frame->core > 0;
	/* BPF programs show up as [bpf] in kallsyms. */
	if (!strcmp(frame->module, "bpf"))
		return true;
	/* Compiler clones: dma_chan_get.isra.0, dma_chan_put.constprop.0 */
	dot = strchr(frame->func, '.');
	len = dot ? (size_t)(dot - frame->func) : strnlen(frame->func, RW_FUNC_LEN - 1);
	memcpy(base, frame->func, len);
	base[len] = '\0';

	for (i = 0; i < sizeof(core_funcs) / sizeof(core_funcs[0]); i++)
		if (!strcmp(base, core_funcs[i]))
			return true;
	for (i = 0; i < sizeof(core_prefixes) / sizeof(core_prefixes[0]); i++)
		if (has_prefix(base, core_prefixes[i]))
			return true;
	/* arch_rethook_trampoline, arch_ftrace_ops_list_func, ... */
	if (has_prefix(base, "arch_") &&
	    (strstr(base, "trampoline") || strstr(base, "rethook") ||
	     strstr(base, "ftrace") || strstr(base, "kprobe")))
		return true;
	return false;
}

/*
 * The holder is the caller of the outermost dmaengine entry point, not the
 * first frame outside the core: a channel requested through the device
 * tree passes through the provider's of_dma_xlate callback
 * (dma_request_chan -> of_dma_request_slave_channel -> bcm2835_dma_xlate ->
 * dma_get_any_slave_channel -> dma_chan_get), and the provider is not the
 * one holding the channel: its client (bcm2835_spi_probe) is.  Seen on
 * arm64 raspi3b.  Only the innermost HOLDER_WINDOW frames are searched, so
 * that a core function far out on a deep stack is no anchor.
 */
#define HOLDER_WINDOW	12

int finding_holder_frame(const struct rw_frame *frames, uint32_t nr)
{
	int outermost = -1;
	uint32_t i;

	if (nr > DMARW_MAX_STACK)
		nr = DMARW_MAX_STACK;
	for (i = 0; i < nr && i < HOLDER_WINDOW; i++)
		if (finding_frame_is_core(&frames[i]))
			outermost = (int)i;
	for (i = outermost + 1; i < nr; i++)
		if (!finding_frame_is_core(&frames[i]))
			return (int)i;
	return -1;
}

const char *finding_client_str(char *buf, size_t len, const char *client, const char *drv)
{
	if (!client[0]) {
		if (len)
			buf[0] = '\0';
	} else if (!drv[0]) {
		snprintf(buf, len, " for %s", client);
	} else {
		snprintf(buf, len, " for %s (%s)", client, drv);
	}
	return buf;
}
