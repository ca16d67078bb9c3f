/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The BPF images our own thread creates (programs when they load,
 * trampolines when they attach), named by the kernel's side-band
 * PERF_RECORD_KSYMBOL records as it creates them, on the one CPU this
 * thread is pinned to from bpf_images__watch() to bpf_images__free()
 * (its own CPU mask is given back then): the decoder needs their
 * names to drop our frames, and reading kallsyms again for them costs the
 * kernel writing out its whole symbol table (0.1 s under emulation).
 */
#ifndef __DMARW_BPF_IMAGES_H
#define __DMARW_BPF_IMAGES_H

struct bpf_images;
struct ksyms;

/* Start watching, before the first program loads; NULL (errno set) if the kernel cannot. */
struct bpf_images *bpf_images__watch(void);
/*
 * The images registered since bpf_images__watch() and still there go into
 * @ks as symbols of "bpf" with their sizes.  0, or -errno when the record
 * stream is not whole (lost records, the ring overrun, no records at all):
 * then read kallsyms instead.
 */
int bpf_images__to_ksyms(struct bpf_images *w, struct ksyms *ks);
void bpf_images__free(struct bpf_images *w);

#endif /* __DMARW_BPF_IMAGES_H */
