// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tools/bench/floor: attach the measuring-stick programs of floor.bpf.c to
 * dma_chan_get and dma_chan_put, run CMD, print what was counted.
 *   floor [-k] [-e] [-s] [-i] [-l|-L] [-w BYTES] -- CMD [ARGS...]
 *   -k  kprobe/kretprobe instead of fentry/fexit
 *   -e  a 424-byte ring buffer record per exit, consumed by this process
 *   -s  with a 32-frame bpf_get_stack() into each record (implies -e)
 *   -i  entry -> exit hand-off through a hash map
 *   -l  holders in a map: one bpf_get_stack() per get into its hash map
 *       value, deleted at the put (fentry/fexit only)
 *   -L  the same holders without the stack (time, pid, comm)
 *   -w BYTES  wake the consumer only once BYTES wait in the ring (it also
 *       polls every 10 ms); default: the kernel's wakeup per record
 * CMD starts once every program is attached.  Prints on stderr:
 *   floor: counts get_entry=.. get_exit=.. put_entry=.. put_exit=.. lost=.. consumed=..
 * and exits with CMD's status.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static unsigned long long consumed;

static int on_rec(void *ctx, void *data, size_t size)
{
	(void)ctx; (void)data; (void)size;
	consumed++;
	return 0;
}

int main(int argc, char **argv)
{
	bool kp = false, ev = false, st = false, inf = false, hold = false, hstack = true;
	unsigned long long wake = 0;
	struct ring_buffer *rb = NULL;
	struct floor_bpf *skel;
	int opt, status = 0;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+kesilLw:")) != -1) {
		switch (opt) {
		case 'k': kp = true; break;
		case 'e': ev = true; break;
		case 's': st = ev = true; break;
		case 'i': inf = true; break;
		case 'l': hold = true; break;
		case 'L': hold = true; hstack = false; break;
		case 'w': wake = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: floor [-k] [-e] [-s] [-i] [-l|-L] [-w BYTES] -- CMD...\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "floor: no command\n");
		return 2;
	}
	skel = floor_bpf__open();
	if (!skel) {
		perror("floor: open");
		return 2;
	}
	skel->rodata->with_event = ev;
	skel->rodata->with_stack = st;
	skel->rodata->with_inflight = inf;
	skel->rodata->with_holders = hold;
	skel->rodata->holder_stacks = hstack;
	skel->rodata->wake_bytes = wake;
	bpf_program__set_autoload(kp ? skel->progs.f_get : skel->progs.k_get, false);
	bpf_program__set_autoload(kp ? skel->progs.x_get : skel->progs.r_get, false);
	bpf_program__set_autoload(kp ? skel->progs.f_put : skel->progs.k_put, false);
	bpf_program__set_autoload(kp ? skel->progs.x_put : skel->progs.r_put, false);
	if (floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: load/attach failed: %s\n", strerror(errno));
		return 2;
	}
	if (ev) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_rec, NULL, NULL);
		if (!rb) {
			fprintf(stderr, "floor: ring buffer: %s\n", strerror(errno));
			return 2;
		}
	}
	pid = fork();
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	for (;;) {
		if (rb)
			ring_buffer__poll(rb, wake ? 10 : 100);
		else
			usleep(100000);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	if (rb)
		ring_buffer__consume(rb);
	fprintf(stderr, "floor: counts get_entry=%llu get_exit=%llu put_entry=%llu "
		"put_exit=%llu lost=%llu consumed=%llu\n",
		(unsigned long long)skel->bss->counts[0], (unsigned long long)skel->bss->counts[1],
		(unsigned long long)skel->bss->counts[2], (unsigned long long)skel->bss->counts[3],
		(unsigned long long)skel->bss->counts[4], consumed);
	ring_buffer__free(rb);
	floor_bpf__destroy(skel);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
