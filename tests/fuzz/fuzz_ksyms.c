// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kallsyms and /proc/modules: the input is "KALLSYMS\0MODULES\0MODULES2";
 * load, map addresses, refresh with the second module list (or none), then
 * the BPF images alone.
 */
#include <string.h>
#include <sys/stat.h>
#include "fuzz_common.h"
#include "ksyms.h"

static void put(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fwrite(d, 1, n, f);
	fclose(f);
}

static void probe(const struct ksyms *ks, const uint8_t *data, size_t n)
{
	uint64_t a = 0;
	size_t i;

	for (i = 0; i + 8 <= n && i < 256; i += 8) {
		memcpy(&a, data + i, 8);
		ksyms__map_addr(ks, a);
		ksyms__module_at(ks, a);
	}
	ksyms__map_addr(ks, 0xffffffffc0001000ULL);
	ksyms__module_at(ks, 0xffffffffc0001000ULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static char dir[64], kpath[96], mpath[96];
	const uint8_t *m1, *m2 = NULL;
	size_t k, n1, n2 = 0;
	struct ksyms *ks;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/dmarw-fuzz-%d-ksyms", (int)getpid());
		mkdir(dir, 0700);
		snprintf(kpath, sizeof(kpath), "%s/kallsyms", dir);
		snprintf(mpath, sizeof(mpath), "%s/modules", dir);
	}
	m1 = memchr(data, 0, n);
	k = m1 ? (size_t)(m1 - data) : n;
	m1 = m1 ? m1 + 1 : data + n;
	n1 = data + n - m1;
	if (n1) {
		m2 = memchr(m1, 0, n1);
		if (m2) {
			n2 = m1 + n1 - (m2 + 1);
			n1 = m2 - m1;
			m2++;
		}
	}
	put(kpath, data, k);
	put(mpath, m1, n1);
	ks = ksyms__load(kpath);
	if (ks) {
		probe(ks, data, n);
		if (m2)
			put(mpath, m2, n2);
		else
			unlink(mpath);	/* the list cannot be read again */
		ksyms__refresh(ks);
		probe(ks, data, n);
		ksyms__refresh_if_changed(ks);
		ksyms__refresh_bpf(ks);
		probe(ks, data, n);
		ksyms__free(ks);
	}
	unlink(kpath);
	unlink(mpath);
	return 0;
}
