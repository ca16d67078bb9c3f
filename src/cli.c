// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Global options, errors and small parsers shared by the commands. */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include "cli.h"
#include "json_writer.h"

struct env env = {
	.mode = MODE_AUTO,
	.stacks = true,
};

void p_err(const char *fmt, ...)
{
	struct json_writer *jw;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "dmarefwatch: error: %s\n", msg);
	if (!env.json)
		return;
	/* a program reading --json output gets the error in its own terms too */
	jw = jsonw__new(stdout, false);
	if (!jw)
		return;
	jsonw__start_object(jw);
	jsonw__string_field(jw, "error", msg);
	jsonw__end_object(jw);
	jsonw__free(jw);
	fflush(stdout);
}

/* Options of the global set and of run that take a value as the next argument. */
static bool takes_value(const char *a)
{
	static const char *const with_value[] = {
		"-o", "--output", "--mode", "--btf", "--device", "--grace", "--error-exitcode",
		"--fail-on", "--junit", "--json-report", "--suppressions", "--record",
	};
	size_t i;

	for (i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
		if (!strcmp(a, with_value[i]))
			return true;
	return false;
}

void cli_scan_json(int argc, char **argv)
{
	bool run = false;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			env.json = true;
		else if (takes_value(argv[i]))
			i++;
		else if (run && argv[i][0] != '-')
			break;		/* run's CMD: its arguments are its own */
		else if (!strcmp(argv[i], "run"))
			run = true;
	}
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "dmarefwatch: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);

	if (!strncmp(arg, name, n) && arg[n] == '=')
		return arg + n + 1;
	if (*i + 1 >= argc) {
		p_err("option %s needs a value", name);
		return NULL;
	}
	return argv[++*i];
}

int parse_global_opt(int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;

	if (!strcmp(a, "--json") || !strcmp(a, "-j")) {
		env.json = true;
		return 1;
	}
	if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
		env.verbose = true;
		return 1;
	}
	if (!strcmp(a, "--no-stacks")) {
		env.stacks = false;
		return 1;
	}
	if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strncmp(a, "--output=", 9)) {
		v = opt_value(argc, argv, i, a[1] == 'o' ? "-o" : "--output");
		if (!v)
			return -1;
		env.output = v;
		return 1;
	}
	if (!strcmp(a, "--mode") || !strncmp(a, "--mode=", 7)) {
		v = opt_value(argc, argv, i, "--mode");
		if (!v)
			return -1;
		if (!strcmp(v, "auto"))
			env.mode = MODE_AUTO;
		else if (!strcmp(v, "fentry"))
			env.mode = MODE_FENTRY;
		else if (!strcmp(v, "kprobe"))
			env.mode = MODE_KPROBE;
		else {
			p_err("--mode takes auto, fentry or kprobe, not '%s'", v);
			return -1;
		}
		return 1;
	}
	if (!strcmp(a, "--btf") || !strncmp(a, "--btf=", 6)) {
		v = opt_value(argc, argv, i, "--btf");
		if (!v)
			return -1;
		env.btf = *v ? v : NULL;
		return 1;
	}
	if (!strcmp(a, "--max-references") || !strncmp(a, "--max-references=", 17)) {
		char *end;
		unsigned long n;

		v = opt_value(argc, argv, i, "--max-references");
		if (!v)
			return -1;
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end == v || *end || *v == '-' || n < 1 ||
		    n > DMARW_MAX_MAX_REFS) {
			p_err("--max-references takes a count from 1 to %u, not '%s'",
			      DMARW_MAX_MAX_REFS, v);
			return -1;
		}
		env.max_references = (uint32_t)n;
		return 1;
	}
	if (!strcmp(a, "--device") || !strncmp(a, "--device=", 9)) {
		v = opt_value(argc, argv, i, "--device");
		if (!v)
			return -1;
		if (env.nr_devices == MAX_DEVICE_FILTERS) {
			p_err("at most %d --device options", MAX_DEVICE_FILTERS);
			return -1;
		}
		if (!*v) {
			p_err("--device needs a name (dma0, a device or a driver name)");
			return -1;
		}
		env.devices[env.nr_devices++] = v;
		return 1;
	}
	return 0;
}

int parse_common_arg(int argc, char **argv, int *i, void (*usage)(FILE *f))
{
	if (!strcmp(argv[*i], "-h") || !strcmp(argv[*i], "--help")) {
		usage(stdout);
		return ARG_HELP;
	}
	switch (parse_global_opt(argc, argv, i)) {
	case 1:
		return ARG_DONE;
	case 0:
		return ARG_OWN;
	default:
		return ARG_BAD;
	}
}

int parse_fail_on_arg(const char *val, enum finding_severity *out)
{
	int sev = finding_severity_parse(val);

	if (sev != SEVERITY_ERROR && sev != SEVERITY_WARNING) {
		p_err("--fail-on takes error or warning, not '%s'", val);
		return -1;
	}
	*out = sev;
	return 0;
}

bool env_device_selected(int dev_id, const char *dev_name, const char *drv_name)
{
	char dma[24];
	int i;

	if (!env.nr_devices)
		return true;
	snprintf(dma, sizeof(dma), "dma%d", dev_id);
	for (i = 0; i < env.nr_devices; i++) {
		const char *pat = env.devices[i];

		if (!fnmatch(pat, dma, 0) ||
		    (dev_name && *dev_name && !fnmatch(pat, dev_name, 0)) ||
		    (drv_name && *drv_name && !fnmatch(pat, drv_name, 0)))
			return true;
	}
	return false;
}

FILE *open_output(const char *path)
{
	FILE *f;

	if (!path || !strcmp(path, "-"))
		return stdout;
	f = fopen(path, "we");
	if (!f)
		p_err("cannot write %s: %s", path, strerror(errno));
	return f;
}

long long parse_duration_ns(const char *s)
{
	double v, mult, ns;
	char *end;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	/* !(v >= 0) also refuses nan */
	if (errno || end == s || !(v >= 0) || v > 1e9)
		return -1;
	if (!*end || !strcmp(end, "s"))
		mult = 1e9;
	else if (!strcmp(end, "ms"))
		mult = 1e6;
	else if (!strcmp(end, "m"))
		mult = 60e9;
	else if (!strcmp(end, "h"))
		mult = 3600e9;
	else
		return -1;
	ns = v * mult;
	/* the cast of a double at or over 2^63 is undefined: stay well below */
	if (!(ns < 9e18))
		return -1;
	return (long long)ns;
}

int parse_count(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

const char *kernel_release(void)
{
	static struct utsname u;

	return uname(&u) ? "unknown" : u.release;
}
