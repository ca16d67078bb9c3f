// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The service's owner record (pin_owner.c): whose pinned state it is and
 * whether that process still runs, judged against a fake /proc; and the
 * systemd readiness datagram (sd_notify.c) received on a real socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "harness.h"
#include "pin_owner.h"
#include "sd_notify.h"

/* @proc/@pid/stat with @comm and start time @start */
static int fake_stat(const char *proc, unsigned int pid, const char *comm,
		     unsigned long long start)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u", proc, pid);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/%u/stat", proc, pid);
	f = fopen(path, "w");
	if (!f)
		return -1;
	/* fields 3..21, then 22 (starttime), then more */
	fprintf(f, "%u (%s) S 1 %u %u 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 %llu "
		"12345678 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		pid, comm, pid, pid, start);
	return fclose(f);
}

static void rm_proc(const char *proc)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", proc);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", proc);
}

static struct dmarw_pin_owner owner_of(uint32_t pid, uint64_t start)
{
	struct dmarw_pin_owner o = {
		.magic = DMARW_PIN_MAGIC, .version = DMARW_PIN_VERSION, .pid = pid,
		.pid_start = start, .holder_size = sizeof(struct dmarw_holder),
		.since_real_s = 1765000000,
	};

	snprintf(o.tool_version, sizeof(o.tool_version), "0.1.0");
	return o;
}

TEST(pin_owner_start_time_parsed)
{
	char proc[] = "/tmp/dmarw-proc.XXXXXX";
	uint64_t start = 1;

	CHECK(mkdtemp(proc), "mkdtemp: %s", strerror(errno));
	/* a comm with spaces and ')' must not shift the fields */
	CHECK(!fake_stat(proc, 812, "dma) watch (x", 4242), "fake stat");
	CHECK(!pin_owner__proc_start(proc, 812, &start) && start == 4242, "start %llu",
	      (unsigned long long)start);
	CHECK(pin_owner__proc_start(proc, 813, &start) == -ENOENT, "no such pid");
	CHECK(pin_owner__proc_start(proc, 0, &start) == -ENOENT, "pid 0");
out:
	rm_proc(proc);
}

TEST(pin_owner_truncated_stat_refused)
{
	char proc[] = "/tmp/dmarw-proc.XXXXXX", path[600];
	uint64_t start = 1;
	FILE *f;

	CHECK(mkdtemp(proc), "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/7", proc);
	CHECK(!mkdir(path, 0755), "mkdir");
	snprintf(path, sizeof(path), "%s/7/stat", proc);
	f = fopen(path, "w");
	CHECK(f, "fopen");
	fputs("7 (x) S 1 2 3\n", f);
	fclose(f);
	CHECK(pin_owner__proc_start(proc, 7, &start) == -EINVAL, "short stat accepted");
out:
	rm_proc(proc);
}

TEST(pin_owner_judged)
{
	char proc[] = "/tmp/dmarw-proc.XXXXXX", why[256] = "", want[128];
	struct dmarw_pin_owner o;

	CHECK(mkdtemp(proc), "mkdtemp: %s", strerror(errno));
	CHECK(!fake_stat(proc, 812, "dmarefwatch", 4242), "fake stat");
	o = owner_of(812, 4242);
	CHECK(pin_owner__judge(&o, proc, why, sizeof(why)) == PIN_LIVE, "live: %s", why);
	/* the pid now belongs to a process started later */
	o = owner_of(812, 4000);
	CHECK(pin_owner__judge(&o, proc, why, sizeof(why)) == PIN_STALE &&
	      strstr(why, "pid 812, is gone (the pid is another"), "reused: %s", why);
	o = owner_of(900, 1);
	CHECK(pin_owner__judge(&o, proc, why, sizeof(why)) == PIN_STALE &&
	      !strcmp(why, "its owner, pid 900, is gone"), "gone: %s", why);
	o = owner_of(812, 4242);
	o.version = DMARW_PIN_VERSION + 1;
	snprintf(want, sizeof(want), "pid 812 (dmarefwatch 0.1.0), writes format %d; this "
		 "dmarefwatch reads format %d", DMARW_PIN_VERSION + 1, DMARW_PIN_VERSION);
	CHECK(pin_owner__judge(&o, proc, why, sizeof(why)) == PIN_FOREIGN && strstr(why, want),
	      "version: %s", why);
	o = owner_of(812, 4242);
	o.holder_size--;
	CHECK(pin_owner__judge(&o, proc, why, sizeof(why)) == PIN_FOREIGN, "layout: %s", why);
	/* another format whose owner is gone: stale, the next service cleans it */
	o = owner_of(900, 1);
	o.version = DMARW_PIN_VERSION + 1;
	CHECK(pin_owner__judge(&o, proc, why, sizeof(why)) == PIN_STALE, "gone: %s", why);
	o = owner_of(812, 4242);
	o.magic = 0;
	CHECK(pin_owner__judge(&o, proc, why, sizeof(why)) == PIN_STALE &&
	      strstr(why, "not dmarefwatch's"), "magic: %s", why);
	o = owner_of(812, 4242);
	pin_owner__describe(&o, why, sizeof(why));
	CHECK(!strcmp(why, "service pid 812, since 2025-12-06 05:46:40 UTC"), "describe: %s", why);
out:
	rm_proc(proc);
}

TEST(sd_notify_datagram)
{
	char dir[] = "/tmp/dmarw-notify.XXXXXX", path[64], buf[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *saved = getenv("NOTIFY_SOCKET");
	char *keep = saved ? strdup(saved) : NULL;
	int fd = -1;
	ssize_t n;

	CHECK(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	unsetenv("NOTIFY_SOCKET");
	CHECK(sd_notify_send("READY=1") == 0, "sent without NOTIFY_SOCKET");
	snprintf(path, sizeof(path), "%s/notify", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)), "bind: %s",
	      strerror(errno));
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK(sd_notify_send("READY=1") == 1, "not sent");
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	CHECK(n == 7 && !memcmp(buf, "READY=1", 7), "received %zd bytes", n);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CHECK(sd_notify_send("READY=1") == -EINVAL, "relative path accepted");
	setenv("NOTIFY_SOCKET", "/nonexistent/dmarw/notify", 1);
	CHECK(sd_notify_send("READY=1") < 0, "no socket, no error");
out:
	if (keep)
		setenv("NOTIFY_SOCKET", keep, 1);
	else
		unsetenv("NOTIFY_SOCKET");
	free(keep);
	if (fd >= 0)
		close(fd);
	unlink(path);
	rmdir(dir);
}
