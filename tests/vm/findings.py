#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Assertions on a dmarefwatch JSON report, for the VM tests.

findings.py REPORT.json count KIND N [FIELD=VALUE...]
    exactly N findings of KIND (matching every FIELD=VALUE) are present
findings.py REPORT.json total N
    exactly N findings in all
findings.py REPORT.json channel NAME FIELD VALUE
    channel NAME's FIELD (client_count, held, predating...) equals VALUE
findings.py REPORT.json hook FUNC MODE
    the hook on FUNC used MODE (fentry, kprobe, unavailable)
findings.py REPORT.json stack KIND FUNC...
    every KIND finding's holder stack has the functions FUNC... in that
    order (innermost first, others may lie between) and no frame in a
    kretprobe trampoline (an unwind that stopped there lost the callers)

FIELD is a finding key (device, channel, severity, suppressed) or holder.KEY
(holder.function, holder.module, holder.comm).  Exit 0 when true, else 1 with
what the report holds.
"""
import json
import sys


def get(obj, path):
    for part in path.split('.'):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    try:
        with open(argv[1]) as f:
            rep = json.load(f)
    except (OSError, ValueError) as e:
        print(f"cannot read report {argv[1]}: {e}")
        return 1
    what = argv[2]
    findings = rep.get('findings', [])
    if what == 'total':
        if len(findings) == int(argv[3]):
            return 0
        print(f"{len(findings)} findings, want {argv[3]}: " +
              ", ".join(f"{f['kind']}@{f.get('channel') or f.get('device')}" for f in findings))
        return 1
    if what == 'count':
        kind, want = argv[3], int(argv[4])
        conds = [a.split('=', 1) for a in argv[5:]]
        got = [f for f in findings if f['kind'] == kind and
               all(str(get(f, k)).lower() == v.lower() for k, v in conds)]
        if len(got) == want:
            return 0
        print(f"{len(got)} {kind} findings matching {argv[5:]}, want {want}; report has: " +
              "; ".join(f"{f['kind']} {f.get('channel')} {get(f, 'holder.function')} "
                        f"[{get(f, 'holder.module')}]" for f in findings))
        return 1
    if what == 'channel':
        name, field, want = argv[3], argv[4], argv[5]
        for c in rep.get('channels', []):
            if c.get('channel') == name:
                if str(c.get(field)).lower() == want.lower():
                    return 0
                print(f"{name}.{field} is {c.get(field)}, want {want}")
                return 1
        print(f"no channel {name} in the report")
        return 1
    if what == 'hook':
        func, mode = argv[3], argv[4]
        hooks = get(rep, 'stats.hooks') or {}
        if isinstance(hooks, list):
            hooks = {h.get('hook'): h for h in hooks}
        h = hooks.get(func)
        got = h.get('mode') if isinstance(h, dict) else h
        if got == mode:
            return 0
        print(f"hook {func} mode {got}, want {mode}")
        return 1
    if what == 'stack':
        kind, want = argv[3], argv[4:]
        got = [f for f in findings if f['kind'] == kind]
        if not got:
            print(f"no {kind} finding")
            return 1
        for f in got:
            funcs = [fr.get('func') for fr in (get(f, 'holder.stack') or [])]
            bad = [x for x in funcs if x and 'kretprobe_trampoline' in x]
            it = iter(funcs)
            if bad or not all(w in it for w in want):
                print(f"{kind} {f.get('channel')}: stack {funcs}, want {want} in order "
                      "and no trampoline")
                return 1
        return 0
    sys.exit(__doc__)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
