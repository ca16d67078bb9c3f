// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * dmarefwatch: find dmaengine reference-counting bugs on a running kernel.
 * This file only parses the global options and dispatches to a command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "bpf_loader.h"
#include "cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "trace", cmd_trace, "one line per event until Ctrl-C or --duration" },
	{ "run", cmd_run, "trace while CMD runs, then report (CI)" },
	{ "snapshot", cmd_snapshot, "the current state from the kernel, then exit" },
	{ "record", cmd_record, "events to a trace file" },
	{ "report", cmd_report, "analyse a trace file offline" },
	{ "top", cmd_top, "live view of devices, channels, holders, findings" },
	{ "watch", cmd_watch, "long-running leak reports and Prometheus metrics" },
	{ "bpf-object", cmd_bpf_object, "write the BPF object, for a --btf file" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: dmarefwatch [--mode auto|fentry|kprobe] [--device NAME]... [--json]\n"
		"                   [-o FILE] [-v] [--no-stacks] [--btf FILE]\n"
		"                   [--max-references N] COMMAND [ARGS]\n"
		"\n"
		"Finds dmaengine reference-counting bugs (leaked channel references,\n"
		"unregister or release with users, unbalanced puts, kref mismatches) on a\n"
		"running kernel with CO-RE BPF.\n\nCommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\nGlobal options (also accepted after COMMAND):\n"
		"  --mode MODE     auto (fentry, else kprobe, per hook), fentry or kprobe\n"
		"  --device NAME   only this device: dma0, its device (dmarw_prov.0) or\n"
		"                  driver name; shell globs; repeatable\n"
		"  --json          JSON output\n"
		"  -o FILE         write the output to FILE\n"
		"  -v              verbose (libbpf messages, start-up times, hook choices)\n"
		"  --no-stacks     do not capture kernel stacks\n"
		"  --max-references N  outstanding references the kernel-side ledger\n"
		"                  keeps with their holders (default 1024, about 0.5 MiB;\n"
		"                  32 per channel; more are counted and reported as\n"
		"                  held by an unknown holder)\n"
		"  --btf FILE      the kernel's types from FILE, for a kernel without\n"
		"                  /sys/kernel/btf/vmlinux (kprobes only then); default\n"
		"                  $DMAREFWATCH_BTF\n"
		"  -h, --help      this help; COMMAND --help for a command's own\n"
		"  --version       print the version\n"
		"\nExit status: 0 ok; 1 failing findings (report, snapshot); 2 error\n"
		"(arguments, files, tracing not possible here); run: CMD's status, or\n"
		"--error-exitcode (3) on a failing finding.\n"
		"See dmarefwatch(8).\n");
}

int main(int argc, char **argv)
{
	const char *btf = getenv("DMAREFWATCH_BTF");
	int i, r;
	size_t c;

	loader__startup_mark(false, NULL);
#ifdef __GLIBC__
	/*
	 * The kallsyms tables (MiB each, src/ksyms.c) are mapped apart and
	 * unmapped when freed; glibc would otherwise raise the threshold after
	 * the first such free and put the next table on the heap for good.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	if (btf && *btf)
		env.btf = btf;
	cli_scan_json(argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("dmarefwatch %s\n", DMAREFWATCH_VERSION);
			return EXIT_OK;
		}
		r = parse_global_opt(argc, argv, &i);
		if (r < 0)
			return EXIT_ERROR;
		if (r == 0)
			break;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	if (argv[i][0] == '-') {
		p_err("unknown option '%s' (see --help)", argv[i]);
		return EXIT_ERROR;
	}
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);
	p_err("unknown command '%s' (see --help)", argv[i]);
	return EXIT_ERROR;
}
