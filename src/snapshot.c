/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Snapshot containers and the sysfs/debugfs reader.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "snapshot.h"

struct snapshot *snapshot__new(const char *source)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));

	if (!snap)
		return NULL;
	snprintf(snap->source, sizeof(snap->source), "%s", source ? source : "");
	return snap;
}

void snapshot__free(struct snapshot *snap)
{
	if (!snap)
		return;
	free(snap->devices);
	free(snap->channels);
	free(snap);
}

static int grow(void **arr, size_t *cap, size_t nr, size_t size)
{
	size_t ncap;
	void *p;

	if (nr < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int snapshot__add_device(struct snapshot *snap, const struct snapshot_device *dev)
{
	if (grow((void **)&snap->devices, &snap->cap_devices, snap->nr_devices,
		 sizeof(*dev)))
		return -ENOMEM;
	snap->devices[snap->nr_devices++] = *dev;
	return 0;
}

int snapshot__add_channel(struct snapshot *snap, const struct snapshot_channel *chan)
{
	if (grow((void **)&snap->channels, &snap->cap_channels, snap->nr_channels,
		 sizeof(*chan)))
		return -ENOMEM;
	snap->channels[snap->nr_channels++] = *chan;
	return 0;
}

struct snapshot_device *snapshot__find_device(struct snapshot *snap, int32_t dev_id)
{
	size_t i;

	for (i = 0; i < snap->nr_devices; i++)
		if (snap->devices[i].dev_id == dev_id)
			return &snap->devices[i];
	return NULL;
}

/* Base name of the target of symlink @path into @out, "" if none. */
static void link_base(const char *path, char *out, size_t outlen)
{
	char buf[4096];
	const char *slash;
	ssize_t n;

	out[0] = '\0';
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	slash = slash ? slash + 1 : buf;
	if (strlen(slash) < outlen)
		memcpy(out, slash, strlen(slash) + 1);
}

static int parse_chan_name(const char *name, int *dev_id, int *chan_id)
{
	int n = 0;

	if (sscanf(name, "dma%dchan%d%n", dev_id, chan_id, &n) != 2 ||
	    name[n] != '\0' || *dev_id < 0 || *chan_id < 0)
		return -1;
	return 0;
}

static int cmp_chan(const void *a, const void *b)
{
	const struct snapshot_channel *x = a, *y = b;

	if (x->dev_id != y->dev_id)
		return x->dev_id < y->dev_id ? -1 : 1;
	return x->chan_id < y->chan_id ? -1 : x->chan_id > y->chan_id;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct snapshot_device *x = a, *y = b;

	return x->dev_id < y->dev_id ? -1 : x->dev_id > y->dev_id;
}

static char *read_small_file(const char *path, size_t max)
{
	size_t len = 0;
	char *buf;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (buf)
		len = fread(buf, 1, max, f);
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static int join(char *out, size_t len, const char *dir, const char *name,
		const char *leaf)
{
	int n = snprintf(out, len, "%s/%s/%s", dir, name, leaf);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int read_channel(struct snapshot *snap, const char *dir, const char *name,
			char *err, size_t errlen)
{
	struct snapshot_channel ch = { .client_count = -1 };
	struct snapshot_device dev = { .kref = -1, .has_release = -1,
				       .state = DMARW_DEV_REGISTERED };
	struct snapshot_device *known;
	char path[4096 + 64], *text, *end;
	int dev_id, chan_id;
	long v;

	if (parse_chan_name(name, &dev_id, &chan_id))
		return 0;
	ch.dev_id = dev_id;
	ch.chan_id = chan_id;

	if (join(path, sizeof(path), dir, name, "in_use"))
		return 0;
	text = read_small_file(path, 64);
	if (text) {
		errno = 0;
		v = strtol(text, &end, 10);
		if (!errno && end != text && v >= 0 && v <= INT32_MAX)
			ch.client_count = (int32_t)v;
		free(text);
	}

	known = snapshot__find_device(snap, dev_id);
	if (!known) {
		dev.dev_id = dev_id;
		if (!join(path, sizeof(path), dir, name, "device"))
			link_base(path, dev.dev_name, sizeof(dev.dev_name));
		if (!join(path, sizeof(path), dir, name, "device/driver"))
			link_base(path, dev.drv_name, sizeof(dev.drv_name));
		if (snapshot__add_device(snap, &dev))
			goto nomem;
	}
	if (snapshot__add_channel(snap, &ch))
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory reading %s", dir);
	return -ENOMEM;
}

int snapshot__read_sysfs(struct snapshot *snap, const char *root, bool summary,
			 char *err, size_t errlen)
{
	char dir[4096], path[4096 + 64];
	struct dirent *de;
	char *text;
	DIR *d;
	int ret = 0;

	if (!root || !root[0])
		root = "/";
	snprintf(dir, sizeof(dir), "%s%ssys/class/dma", root,
		 root[strlen(root) - 1] == '/' ? "" : "/");
	d = opendir(dir);
	if (!d) {
		ret = -errno;
		/* No dmaengine provider registered yet: an empty snapshot. */
		if (ret == -ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", dir, strerror(-ret));
		return ret;
	}
	while ((de = readdir(d))) {
		ret = read_channel(snap, dir, de->d_name, err, errlen);
		if (ret)
			break;
	}
	closedir(d);
	if (ret)
		return ret;
	if (snap->nr_channels)
		qsort(snap->channels, snap->nr_channels, sizeof(*snap->channels), cmp_chan);
	if (snap->nr_devices)
		qsort(snap->devices, snap->nr_devices, sizeof(*snap->devices), cmp_dev);

	if (!summary)
		return 0;
	snprintf(path, sizeof(path), "%s%ssys/kernel/debug/dmaengine/summary", root,
		 root[strlen(root) - 1] == '/' ? "" : "/");
	text = read_small_file(path, 1 << 20);
	if (text) {
		snapshot__parse_summary(snap, text);
		free(text);
	}
	return 0;
}

/*
 * dmaengine_summary_show():
 *   dma0 (dmarw-prov.0): number of channels: 4
 *
 *    dma0chan0    | dmarw_client
 * Only channels with client_count > 0 are listed; "in-use" when the
 * client left no name.
 */
int snapshot__parse_summary(struct snapshot *snap, const char *text)
{
	const char *line = text, *nl, *bar;
	char name[64], client[DMARW_NAME_LEN];
	int dev_id, chan_id, found = 0;
	size_t i, len, n;

	for (; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		bar = memchr(line, '|', len);
		if (!bar || line[0] != ' ')
			continue;
		n = sscanf(line, " %63s", name);
		if (n != 1 || parse_chan_name(name, &dev_id, &chan_id))
			continue;
		bar++;
		while (bar < line + len && *bar == ' ')
			bar++;
		n = (size_t)(line + len - bar);
		/* strip " (via router: ...)" */
		for (i = 0; i < n; i++)
			if (bar[i] == ' ' || bar[i] == '\r')
				break;
		n = i < sizeof(client) - 1 ? i : sizeof(client) - 1;
		memcpy(client, bar, n);
		client[n] = '\0';
		for (i = 0; i < snap->nr_channels; i++) {
			struct snapshot_channel *ch = &snap->channels[i];

			if (ch->dev_id == dev_id && ch->chan_id == chan_id) {
				snprintf(ch->client_name, sizeof(ch->client_name), "%s", client);
				found++;
			}
		}
	}
	return found;
}
