// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Names of the BPF images we create, from PERF_RECORD_KSYMBOL; see
 * bpf_images.h.  A dummy software event with attr.ksymbol set receives
 * the kernel's side-band record for every BPF program and trampoline
 * registered or unregistered on its CPU (perf_event_ksymbol(): the same
 * names and ranges kallsyms shows).
 *
 * The event is bound to one CPU, and this thread to that CPU while it
 * loads and attaches, not the event to this thread: a per-task event
 * enables the perf_sched_events static key (account_event()), which
 * patches the scheduler's hot path on every CPU, and disables it again
 * from a worker a second after the close.  Two live text patches of
 * __schedule() per start-up are not ours to cause; under QEMU's TCG one
 * of them crashed a 6.12 guest (execution resumed in the middle of the
 * patched jmp).  A per-CPU side-band event touches no static key.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include "bpf_images.h"
#include "ksyms.h"

#define DATA_PAGES	8	/* 32 KiB: about 500 records of ours */
#define NAME_LEN	128	/* KSYM_NAME_LEN; BPF names are shorter */

struct bpf_images {
	int fd;
	void *base;
	size_t page, size;	/* the metadata page; the data area after it */
	cpu_set_t mask;		/* this thread's CPUs before we pinned it */
	bool pinned;
};

struct image {
	uint64_t addr;
	uint32_t len;
	char name[NAME_LEN];
};

struct bpf_images *bpf_images__watch(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_DUMMY,
		.ksymbol = 1,
	};
	struct bpf_images *w = calloc(1, sizeof(*w));
	cpu_set_t one;
	int err, cpu;

	if (!w)
		return NULL;
	w->fd = -1;
	w->page = (size_t)sysconf(_SC_PAGESIZE);
	w->size = DATA_PAGES * w->page;
	/* the CPU we run on is one we may run on; stay there until the free */
	if (sched_getaffinity(0, sizeof(w->mask), &w->mask))
		goto fail;
	cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE) {
		errno = cpu < 0 ? errno : ERANGE;
		goto fail;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		goto fail;
	w->pinned = true;
	/* every task on that CPU: other images than ours are named too */
	w->fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (w->fd < 0)
		goto fail;
	w->base = mmap(NULL, w->page + w->size, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
	if (w->base == MAP_FAILED) {
		w->base = NULL;
		goto fail;
	}
	return w;
fail:
	err = errno;
	bpf_images__free(w);
	errno = err;
	return NULL;
}

/* @n bytes of the ring from position @pos (it wraps at the end of the area) */
static void ring_copy(const struct bpf_images *w, uint64_t pos, void *dst, size_t n)
{
	const char *data = (const char *)w->base + w->page;
	size_t off = pos % w->size, first = w->size - off < n ? w->size - off : n;

	memcpy(dst, data + off, first);
	memcpy((char *)dst + first, data, n - first);
}

/*
 * A trampoline gets a new image (same name) each time a program is added
 * to it, and the old image is freed later by a kernel worker, whose
 * unregister record comes on whatever CPU it runs, often not ours to
 * see: the newest image of a name is
 * the one in use, and the old range must not name what reuses it.
 */
static int add_image(struct image **imgs, size_t *nr, size_t *cap, uint64_t addr,
		     uint32_t len, const char *name, size_t name_max)
{
	struct image *im;
	size_t i;

	name_max = name_max < NAME_LEN - 1 ? name_max : NAME_LEN - 1;
	for (i = 0; i < *nr; i++) {
		im = &(*imgs)[i];
		if (!strncmp(im->name, name, name_max) && !im->name[strnlen(name, name_max)]) {
			im->addr = addr;
			im->len = len;
			return 0;
		}
	}
	if (*nr == *cap) {
		size_t c = *cap ? *cap * 2 : 32;

		im = realloc(*imgs, c * sizeof(*im));
		if (!im)
			return -ENOMEM;
		*imgs = im;
		*cap = c;
	}
	im = &(*imgs)[(*nr)++];
	im->addr = addr;
	im->len = len;
	memcpy(im->name, name, strnlen(name, name_max));
	im->name[strnlen(name, name_max)] = 0;
	return 0;
}

static void drop_image(struct image *imgs, size_t *nr, uint64_t addr)
{
	size_t i, n = 0;

	for (i = 0; i < *nr; i++)
		if (imgs[i].addr != addr)
			imgs[n++] = imgs[i];
	*nr = n;
}

/* the PERF_RECORD_KSYMBOL body after its header */
struct ksymbol_body {
	uint64_t addr;
	uint32_t len;
	uint16_t ksym_type;
	uint16_t flags;
	char name[];
};

int bpf_images__to_ksyms(struct bpf_images *w, struct ksyms *ks)
{
	struct perf_event_mmap_page *meta = w->base;
	static char rec[65536];	/* a record's size is 16 bits */
	struct image *imgs = NULL;
	struct ksym_def *defs = NULL;
	size_t nr = 0, cap = 0, i;
	uint64_t head, tail;
	int err = 0;

	head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	tail = meta->data_tail;
	if (head - tail > w->size)
		return -EOVERFLOW;
	while (!err && tail < head) {
		struct perf_event_header hdr;
		const struct ksymbol_body *k = (const void *)(rec + sizeof(hdr));

		ring_copy(w, tail, &hdr, sizeof(hdr));
		if (hdr.size < sizeof(hdr) || hdr.size > head - tail) {
			err = -EINVAL;
			break;
		}
		ring_copy(w, tail, rec, hdr.size);
		tail += hdr.size;
		if (hdr.type == PERF_RECORD_LOST) {
			err = -ENOBUFS;
		} else if (hdr.type == PERF_RECORD_KSYMBOL &&
			   hdr.size > sizeof(hdr) + sizeof(*k) &&
			   k->ksym_type == PERF_RECORD_KSYMBOL_TYPE_BPF) {
			if (k->flags & PERF_RECORD_KSYMBOL_FLAGS_UNREGISTER)
				drop_image(imgs, &nr, k->addr);
			else
				err = add_image(&imgs, &nr, &cap, k->addr, k->len, k->name,
						hdr.size - sizeof(hdr) - sizeof(*k));
		}
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	if (!err && !nr)
		err = -ENOENT;	/* we loaded programs: a silent stream is not whole */
	if (!err) {
		defs = calloc(nr, sizeof(*defs));
		err = defs ? 0 : -ENOMEM;
	}
	for (i = 0; !err && i < nr; i++) {
		defs[i].addr = imgs[i].addr;
		defs[i].size = imgs[i].len;
		defs[i].name = imgs[i].name;
	}
	if (!err)
		err = ksyms__add_module(ks, "bpf", defs, nr);
	free(defs);
	free(imgs);
	return err;
}

void bpf_images__free(struct bpf_images *w)
{
	if (!w)
		return;
	if (w->base)
		munmap(w->base, w->page + w->size);
	if (w->fd >= 0)
		close(w->fd);
	if (w->pinned)
		sched_setaffinity(0, sizeof(w->mask), &w->mask);
	free(w);
}
