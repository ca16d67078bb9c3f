/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Name tables for struct rw_event: event types in the words the trace file
 * and the outputs use, hooks by the kernel function they attach to.
 */
#include <string.h>
#include "event.h"

static const char *const event_type_names[DMARW_EV_MAX] = {
	[DMARW_EV_CHAN_GET]		= "chan-get",
	[DMARW_EV_CHAN_PUT]		= "chan-put",
	[DMARW_EV_DEV_REGISTER]		= "dev-register",
	[DMARW_EV_DEV_UNREGISTER_BEGIN]	= "dev-unregister-begin",
	[DMARW_EV_DEV_UNREGISTER_END]	= "dev-unregister-end",
	[DMARW_EV_DEV_RELEASE]		= "dev-release",
	[DMARW_EV_RELEASE_CHANNEL]	= "release-channel",
	[DMARW_EV_REQUEST_CHAN]		= "request-chan",
	[DMARW_EV_DMAENGINE_GET]	= "dmaengine-get",
	[DMARW_EV_DMAENGINE_PUT]	= "dmaengine-put",
	[DMARW_EV_SNAP_DEVICE]		= "snap-device",
	[DMARW_EV_SNAP_CHAN]		= "snap-chan",
	[DMARW_EV_MODULE_SYMS]		= "module-syms",
	[DMARW_EV_MODULE_UNLOAD]	= "module-unload",
	[DMARW_EV_CLIENT_UNBIND]	= "client-unbind",
	[DMARW_EV_DEV_HOLDER]		= "dev-holder",
};

static const char *const hook_names[DMARW_HOOK_MAX] = {
	[DMARW_HOOK_CHAN_GET]		= "dma_chan_get",
	[DMARW_HOOK_CHAN_PUT]		= "dma_chan_put",
	[DMARW_HOOK_DEV_REGISTER]	= "dma_async_device_register",
	[DMARW_HOOK_DEV_UNREGISTER]	= "dma_async_device_unregister",
	[DMARW_HOOK_DEV_RELEASE]	= "dma_device_release",
	[DMARW_HOOK_RELEASE_CHANNEL]	= "dma_release_channel",
	[DMARW_HOOK_REQUEST_CHAN]	= "dma_request_chan",
	[DMARW_HOOK_REQUEST_CHANNEL]	= "__dma_request_channel",
	[DMARW_HOOK_DMAENGINE_GET]	= "dmaengine_get",
	[DMARW_HOOK_DMAENGINE_PUT]	= "dmaengine_put",
	[DMARW_HOOK_DRIVER_UNBIND]	= "devres_release_all",
	[DMARW_HOOK_MODULE_FREE]	= "module_free",
};

const char *rw_event_type_name(enum dmarw_event_type type)
{
	if ((unsigned int)type >= DMARW_EV_MAX || !event_type_names[type])
		return "unknown";
	return event_type_names[type];
}

int rw_event_type_parse(const char *name)
{
	int i;

	if (!name)
		return -1;
	for (i = 0; i < DMARW_EV_MAX; i++)
		if (event_type_names[i] && !strcmp(event_type_names[i], name))
			return i;
	return -1;
}

const char *rw_hook_name(enum dmarw_hook hook)
{
	if ((unsigned int)hook >= DMARW_HOOK_MAX)
		return "unknown";
	return hook_names[hook];
}

int rw_hook_parse(const char *name)
{
	int i;

	if (!name)
		return -1;
	for (i = 0; i < DMARW_HOOK_MAX; i++)
		if (!strcmp(hook_names[i], name))
			return i;
	return -1;
}

static const char *const hook_mode_names[RW_HOOK_MODE_MAX] = {
	[RW_HOOK_UNSET] = "",
	[RW_HOOK_FENTRY] = "fentry",
	[RW_HOOK_KPROBE] = "kprobe",
	[RW_HOOK_TRACEPOINT] = "tracepoint",
	[RW_HOOK_UNAVAILABLE] = "unavailable",
};

const char *rw_hook_mode_name(enum rw_hook_mode mode)
{
	if ((unsigned int)mode >= RW_HOOK_MODE_MAX)
		return "unknown";
	return hook_mode_names[mode];
}

int rw_hook_mode_parse(const char *name)
{
	int i;

	if (!name)
		return -1;
	for (i = 0; i < RW_HOOK_MODE_MAX; i++)
		if (!strcmp(hook_mode_names[i], name))
			return i;
	return -1;
}
