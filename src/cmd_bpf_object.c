// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bpf-object: write the BPF object built into this binary, the input
 * "bpftool gen min_core_btf" needs to cut a kernel's BTF down to the types
 * dmarefwatch reads (docs/btf.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

static void bpf_object_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmarefwatch bpf-object FILE\n"
		"\n"
		"Write the BPF object built into dmarefwatch to FILE, for\n"
		"  bpftool gen min_core_btf vmlinux.btf dmarefwatch.btf FILE\n"
		"(a BTF of the types dmarefwatch reads, for --btf).\n");
}

int cmd_bpf_object(int argc, char **argv)
{
	const char *path = NULL;
	const void *data;
	size_t sz;
	FILE *f;
	const struct cli_cmd cmd = {
		.name = "bpf-object", .usage = bpf_object_usage, .nargs = 1, .arg = &path,
		.arg_name = "file",
	};
	int r = cli_parse(&cmd, argc, argv, NULL);

	if (r)
		return r > 0 ? EXIT_OK : EXIT_ERROR;
	if (!path) {
		bpf_object_usage(stderr);
		return EXIT_ERROR;
	}
	data = loader__object_bytes(&sz);
	f = fopen(path, "wb");
	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return EXIT_ERROR;
	}
	if (fwrite(data, 1, sz, f) != sz || fclose(f)) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}
