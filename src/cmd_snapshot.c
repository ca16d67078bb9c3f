// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* dmarefwatch snapshot: the kernel's dmaengine state now, then exit. */
#include <string.h>
#include "bpf_session.h"
#include "cli.h"
#include "engine.h"
#include "live.h"
#include "outputs.h"
#include "snapshot.h"

static void snapshot_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmarefwatch [GLOBAL OPTIONS] snapshot [--fail-on error|warning]\n"
		"\n"
		"Read the kernel's dmaengine state (the device list through BPF: kref,\n"
		"device_release, client_count and client names; sysfs in_use where BPF\n"
		"is not possible) and report it with the findings it shows by itself:\n"
		"missing-release-callback, refcount-mismatch, release-pending.\n"
		"While a service (watch --service) runs, the holders of the references\n"
		"(task, function, module, stack, age) come from its pinned reference\n"
		"ledger; else the references are only counted.\n"
		"Exit status: 0, 1 failing findings, 2 errors.\n");
}

int cmd_snapshot(int argc, char **argv)
{
	enum finding_severity fail_on = SEVERITY_ERROR;
	struct snapshot *sysfs = NULL;
	const struct snapshot *snap;
	struct session *s = NULL;
	struct engine *e = NULL;
	char err[1024] = "", note[600], from[640];
	struct dmarw_pin_owner owner;
	int r, ret = EXIT_ERROR;
	uint64_t now;
	const struct cli_opt opts[] = {
		CLI_FAIL_ON_OPT("--fail-on", &fail_on),
		CLI_OPT_END,
	};
	const struct cli_cmd cmd = {
		.name = "snapshot", .usage = snapshot_usage, .opts = opts, .nargs = 0,
	};

	r = cli_parse(&cmd, argc, argv, NULL);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_ERROR;
	e = engine__new();
	if (!e)
		goto out;
	r = live_service(&owner, note, sizeof(note));
	if (r < 0)
		goto out;
	if (r > 0 && live_follow(&s, e, &owner, err, sizeof(err))) {
		p_info("the service's state cannot be read (%s): no holders", err);
		snprintf(note, sizeof(note), "the service's state cannot be read");
		r = 0;
	}
	if (r > 0) {
		snprintf(from, sizeof(from), "%s", note);
	} else {
		if (env.verbose)
			p_info("%s: no holders, references are only counted", note);
		snprintf(from, sizeof(from), "own session: %s", note);
	}
	if (s || !session__open(&s, e, false, NULL, NULL, err, sizeof(err))) {
		snap = session__start_snapshot(s);
	} else {
		p_info("BPF not usable here (%s): state from sysfs only, no kref "
		       "or device_release", err);
		sysfs = snapshot__new("sysfs");
		if (!sysfs || snapshot__read_sysfs(sysfs, "/", false, err, sizeof(err))) {
			p_err("cannot read the kernel's dmaengine state: %s", err);
			goto out;
		}
		snap = sysfs;
	}
	now = now_mono_ns();
	engine__load_snapshot(e, snap, now);
	engine__finish(e, now, NULL);
	/*
	 * The service's holders after the verdicts: they are alive (a leak is a
	 * dead holder's, which only the service sees), and a snapshot judges
	 * the kernel's state, never a reference's age.
	 */
	if (session__followed(s)) {
		session__read_ledger(s);
		/* the holders the service saw die: leaked while the kernel counts them */
		if (engine__verify_wanted(e)) {
			struct snapshot *state = session__kernel_state(s);

			engine__verify(e, now_mono_ns(), state);
			snapshot__free(state);
		}
		p_info("holders from the running %s", from);
	}
	outputs_holders_from = s ? from : NULL;
	env.verbose = true;	/* the state is what a snapshot is for */
	if (outputs_write_reports(e, env.output, NULL, NULL, fail_on, NULL, NULL))
		goto out;
	ret = engine__nr_failing(e, fail_on) ? EXIT_FINDINGS : EXIT_OK;
out:
	session__close(s);
	snapshot__free(sysfs);
	engine__free(e);
	return ret;
}
