// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The service's pinned state; see bpf_pin.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <bpf/bpf.h>
#include "bpf_pin.h"
#include "cli.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC	0xcafe4a11
#endif

static const char *const names[PIN_MAP_MAX] = {
	[PIN_MAP_LEDGER] = "ledger",
	[PIN_MAP_CHAN_STATE] = "chan_state",
	[PIN_MAP_DEV_STATE] = "dev_state",
	[PIN_MAP_HOOK_STATS] = "hook_stats",
	[PIN_MAP_GONE] = "gone",
	[PIN_MAP_OWNER] = "owner",
};

const char *pin__map_name(enum pin_map m)
{
	return m < PIN_MAP_MAX ? names[m] : "?";
}

const char *pin__dir(void)
{
	const char *d = getenv("DMAREFWATCH_PIN_DIR");

	return d && *d ? d : DMARW_PIN_DIR;
}

static void map_path(char *buf, size_t len, const char *dir, enum pin_map m)
{
	snprintf(buf, len, "%s/%s", dir, names[m]);
}

static int obj_get_rdonly(const char *path)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_RDONLY);
	int fd = bpf_obj_get_opts(path, &o);

	return fd < 0 ? -errno : fd;
}

static bool denied(int err)
{
	return err == -EACCES || err == -EPERM;
}

enum pin_found pin__find(const char *dir, struct dmarw_pin_owner *owner, char *why,
			 size_t len)
{
	char path[PATH_MAX];
	struct stat st;
	__u32 zero = 0;
	int fd, err;

	memset(owner, 0, sizeof(*owner));
	if (stat(dir, &st)) {
		err = errno;
		if (err == ENOENT) {
			snprintf(why, len, "no %s", dir);
			return PIN_FOUND_NONE;
		}
		snprintf(why, len, "cannot look at %s: %s%s", dir, strerror(err),
			 err == EACCES ? " (the service's state is root's only)" : "");
		return PIN_FOUND_DENIED;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is not a directory", dir);
		return PIN_FOUND_STALE;
	}
	map_path(path, sizeof(path), dir, PIN_MAP_OWNER);
	fd = obj_get_rdonly(path);
	if (fd < 0) {
		if (denied(fd)) {
			snprintf(why, len, "cannot read %s: %s (the service's state is root's "
				 "only)", path, strerror(-fd));
			return PIN_FOUND_DENIED;
		}
		snprintf(why, len, "%s has no owner record (%s)", dir, strerror(-fd));
		return PIN_FOUND_STALE;
	}
	err = bpf_map_lookup_elem(fd, &zero, owner) ? -errno : 0;
	close(fd);
	if (err) {
		snprintf(why, len, "cannot read %s: %s", path, strerror(-err));
		return denied(err) ? PIN_FOUND_DENIED : PIN_FOUND_STALE;
	}
	switch (pin_owner__judge(owner, "/proc", why, len)) {
	case PIN_LIVE:
		return PIN_FOUND_LIVE;
	case PIN_FOREIGN:
		return PIN_FOUND_FOREIGN;
	case PIN_STALE:
	default:
		return PIN_FOUND_STALE;
	}
}

void pin__remove(const char *dir)
{
	char path[PATH_MAX];
	int m;

	/* the owner first: a reader that finds no owner trusts nothing here */
	for (m = PIN_MAP_MAX - 1; m >= 0; m--) {
		map_path(path, sizeof(path), dir, m);
		unlink(path);
	}
	rmdir(dir);
}

/* @dir's parent must be a bpffs mount: pinning anywhere else fails later and less clearly. */
static int check_bpffs(const char *dir, char *err, size_t errlen)
{
	char parent[PATH_MAX], *slash;
	struct statfs sf;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		snprintf(parent, sizeof(parent), ".");
	if (statfs(parent, &sf)) {
		int ret = -errno;

		snprintf(err, errlen, "cannot pin the service's state in %s: %s: %s", dir,
			 parent, strerror(-ret));
		return ret;
	}
	if ((unsigned long)sf.f_type != BPF_FS_MAGIC) {
		snprintf(err, errlen, "cannot pin the service's state in %s: %s is not a "
			 "bpf filesystem (mount -t bpf bpf %s)", dir, parent, parent);
		return -ENOTSUP;
	}
	return 0;
}

int pin__publish(const char *dir, const int fds[PIN_MAP_NR_BPF], struct dmarw_pin_owner *owner,
		 int *gone_fd, char *err, size_t errlen)
{
	struct dmarw_pin_owner cur;
	char path[PATH_MAX], why[256];
	struct timespec ts;
	__u32 zero = 0;
	int m, fd = -1, ret;

	*gone_fd = -1;
	switch (pin__find(dir, &cur, why, sizeof(why))) {
	case PIN_FOUND_LIVE:
	case PIN_FOUND_FOREIGN:
		snprintf(err, errlen, "another dmarefwatch service (pid %u) owns %s: one per "
			 "machine", cur.pid, dir);
		return -EBUSY;
	case PIN_FOUND_DENIED:
		snprintf(err, errlen, "%s", why);
		return -EACCES;
	case PIN_FOUND_STALE:
		pin__remove(dir);
		fprintf(stderr, "dmarefwatch: removed the stale service state in %s: %s\n",
			dir, why);
		break;
	case PIN_FOUND_NONE:
		break;
	}
	ret = check_bpffs(dir, err, errlen);
	if (ret)
		return ret;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-ret));
		return ret;
	}
	/* root's only, whatever the umask */
	if (chmod(dir, 0700)) {
		ret = -errno;
		snprintf(err, errlen, "cannot restrict %s to root: %s", dir, strerror(-ret));
		goto fail;
	}
	*gone_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "dmarw_gone", sizeof(__u64),
				  sizeof(struct dmarw_pin_gone),
				  owner->max_references ? owner->max_references : 1, NULL);
	if (*gone_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create the gone map: %s", strerror(-ret));
		goto fail;
	}
	for (m = 0; m < PIN_MAP_OWNER; m++) {
		map_path(path, sizeof(path), dir, m);
		if (bpf_obj_pin(m == PIN_MAP_GONE ? *gone_fd : fds[m], path)) {
			ret = -errno;
			snprintf(err, errlen, "cannot pin %s: %s", path, strerror(-ret));
			goto fail;
		}
	}
	owner->magic = DMARW_PIN_MAGIC;
	owner->version = DMARW_PIN_VERSION;
	owner->holder_size = sizeof(struct dmarw_holder);
	owner->pid = (uint32_t)getpid();
	ret = pin_owner__proc_start("/proc", owner->pid, &owner->pid_start);
	if (ret) {
		snprintf(err, errlen, "cannot read /proc/%u/stat: %s", owner->pid, strerror(-ret));
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	owner->since_mono_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_REALTIME, &ts);
	owner->since_real_s = ts.tv_sec;
	snprintf(owner->tool_version, sizeof(owner->tool_version), "%s", DMAREFWATCH_VERSION);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "dmarw_owner", sizeof(zero), sizeof(*owner), 1,
			    NULL);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create the owner map: %s", strerror(-ret));
		goto fail;
	}
	/* the owner last: the directory is trusted once it is there */
	map_path(path, sizeof(path), dir, PIN_MAP_OWNER);
	if (bpf_map_update_elem(fd, &zero, owner, BPF_ANY) || bpf_obj_pin(fd, path)) {
		ret = -errno;
		snprintf(err, errlen, "cannot pin %s: %s", path, strerror(-ret));
		goto fail;
	}
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (*gone_fd >= 0)
		close(*gone_fd);
	*gone_fd = -1;
	pin__remove(dir);
	return ret;
}

int pin__open(const char *dir, int fds[PIN_MAP_OWNER], char *err, size_t errlen)
{
	char path[PATH_MAX];
	int m, ret;

	for (m = 0; m < PIN_MAP_OWNER; m++)
		fds[m] = -1;
	for (m = 0; m < PIN_MAP_OWNER; m++) {
		map_path(path, sizeof(path), dir, m);
		ret = obj_get_rdonly(path);
		if (ret < 0) {
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(-ret));
			while (m-- > 0) {
				close(fds[m]);
				fds[m] = -1;
			}
			return ret;
		}
		fds[m] = ret;
	}
	return 0;
}

void pin__read_gone(int fd, void (*fn)(void *ctx, uint64_t id, const struct dmarw_pin_gone *g),
		    void *ctx)
{
	__u64 key, next, *prev = NULL;
	struct dmarw_pin_gone g;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &g))
			continue;
		g.what[sizeof(g.what) - 1] = 0;
		g.function[sizeof(g.function) - 1] = 0;
		g.module[sizeof(g.module) - 1] = 0;
		fn(ctx, key, &g);
	}
}

int pin__put_gone(int fd, uint64_t id, const struct dmarw_pin_gone *g)
{
	__u64 key = id;

	return bpf_map_update_elem(fd, &key, g, BPF_ANY) ? -errno : 0;
}

void pin__prune_gone(int fd, bool (*keep)(void *ctx, uint64_t id), void *ctx)
{
	__u64 key, next, *prev = NULL, drop[64];
	size_t i, n = 0;

	/* deleting while walking would restart the walk: collect, then delete */
	while (!bpf_map_get_next_key(fd, prev, &next) && n < sizeof(drop) / sizeof(drop[0])) {
		key = next;
		prev = &key;
		if (!keep(ctx, key))
			drop[n++] = key;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &drop[i]);
}
