// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bpf_images: the loading thread is pinned to the event's CPU from
 * bpf_images__watch() to bpf_images__free(), and gets its own CPU mask
 * back whether or not the kernel gave us the event.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdbool.h>
#include "bpf_images.h"
#include "harness.h"

TEST(bpf_images_pin_and_give_back)
{
	cpu_set_t before, during, after;
	struct bpf_images *w = NULL;

	CHECK_INT(sched_getaffinity(0, sizeof(before), &before), 0);
	w = bpf_images__watch();
	CHECK_INT(sched_getaffinity(0, sizeof(during), &during), 0);
	if (w) {
		CHECK_INT(CPU_COUNT(&during), 1);
		CHECK(CPU_ISSET(sched_getcpu(), &during), "not pinned where it runs");
		CHECK(CPU_ISSET(sched_getcpu(), &before), "pinned outside its mask");
	} else {
		CHECK(CPU_EQUAL(&during, &before), "a failed watch kept the pin");
	}
	bpf_images__free(w);
	w = NULL;
	CHECK_INT(sched_getaffinity(0, sizeof(after), &after), 0);
	CHECK(CPU_EQUAL(&after, &before), "the CPU mask was not given back");
out:
	bpf_images__free(w);
}
