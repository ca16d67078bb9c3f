#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Assertions on a dmarefwatch JSON report, for the VM tests.

findings.py REPORT.json count KIND N [FIELD=VALUE...]
    exactly N findings of KIND (matching every FIELD=VALUE) are present
findings.py REPORT.json total N
    exactly N findings in all
findings.py REPORT.json errors N
    exactly N findings of severity error
findings.py REPORT.json channel NAME FIELD VALUE
    channel NAME's FIELD (client_count, held, predating...) equals VALUE
findings.py REPORT.json hook FUNC MODE
    the hook on FUNC used MODE (fentry, kprobe, unavailable)
findings.py REPORT.json stack KIND FUNC...
    every KIND finding's holder stack has the functions FUNC... in that
    order (innermost first, others may lie between), no frame in a
    kretprobe trampoline (an unwind that stopped there lost the callers),
    none of the tracer's own (module "bpf") and none unnamed
findings.py REPORT.json same OTHER.json [-FIELD...]
    both reports hold the same findings: the same number of each kind, with
    the same severity, device, channel and holder (function, module,
    client); -FIELD leaves FIELD out of the comparison (-channel)

findings.py REPORT.json evidence LABEL
    print "# LABEL: EVIDENCE" for every finding (for the test's log)

FIELD is a finding key (device, channel, severity, suppressed, evidence) or
holder.KEY (holder.function, holder.module, holder.comm); FIELD~TEXT matches
when the value contains TEXT.  REPORT may also be JSON lines (watch --json,
trace --json): the findings are those of its {"finding": ...} lines.  Exit 0
when true, else 1 with what the report holds.
"""
import json
import sys


def get(obj, path):
    for part in path.split('.'):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def load(path):
    """A JSON report, or the findings of a file of JSON lines."""
    with open(path) as f:
        text = f.read()
    try:
        rep = json.loads(text)
        if 'findings' in rep or 'finding' not in rep:
            return rep
    except ValueError:
        pass
    # JSON lines (a file of one line parses whole: a report has "findings")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    return {'findings': [o['finding'] for o in lines if 'finding' in o]}


def match(f, cond):
    if '~' in cond and ('=' not in cond or cond.index('~') < cond.index('=')):
        k, v = cond.split('~', 1)
        return v.lower() in str(get(f, k)).lower()
    k, v = cond.split('=', 1)
    return str(get(f, k)).lower() == v.lower()


SAME_FIELDS = ('kind', 'severity', 'device', 'channel', 'holder.function',
               'holder.module', 'holder.client')


def signature(findings, fields):
    """The findings as a sorted list of tuples of FIELDS' values."""
    return sorted(tuple(str(get(f, k)) for k in fields) for f in findings)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    try:
        rep = load(argv[1])
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
    if what == 'errors':
        got = [f for f in findings if f.get('severity') == 'error']
        if len(got) == int(argv[3]):
            return 0
        print(f"{len(got)} errors, want {argv[3]}: " +
              ", ".join(f"{f['kind']}@{f.get('channel') or f.get('device')}" for f in got))
        return 1
    if what == 'count':
        kind, want = argv[3], int(argv[4])
        got = [f for f in findings if f['kind'] == kind and
               all(match(f, c) for c in argv[5:])]
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
    if what == 'evidence':
        for f in findings:
            print(f"# {argv[3]}:", f['evidence'])
        return 0
    if what == 'same':
        try:
            other = load(argv[3]).get('findings', [])
        except (OSError, ValueError) as e:
            print(f"cannot read report {argv[3]}: {e}")
            return 1
        drop = {a[1:] for a in argv[4:] if a.startswith('-')}
        fields = [k for k in SAME_FIELDS if k not in drop]
        a, b = signature(findings, fields), signature(other, fields)
        if a == b:
            return 0
        print(f"{argv[1]} and {argv[3]} differ ({', '.join(fields)}): " +
              f"only in the first: {[x for x in a if x not in b] or 'none'}; " +
              f"only in the second: {[x for x in b if x not in a] or 'none'}; " +
              f"{len(a)} against {len(b)} findings")
        return 1
    if what == 'stack':
        kind, want = argv[3], argv[4:]
        got = [f for f in findings if f['kind'] == kind]
        if not got:
            print(f"no {kind} finding")
            return 1
        for f in got:
            frames = get(f, 'holder.stack') or []
            funcs = [fr.get('func') for fr in frames]
            bad = [x for x in funcs if x and 'kretprobe_trampoline' in x]
            # the tracer's own frames (program, trampoline) are dropped, and
            # every frame left has a name: our images were named
            bad += [f"{fr.get('func')} [{fr.get('module')}]" for fr in frames
                    if fr.get('module') == 'bpf' or not fr.get('func')]
            it = iter(funcs)
            if bad or not all(w in it for w in want):
                print(f"{kind} {f.get('channel')}: stack {funcs}, want {want} in order "
                      f"and no trampoline, no BPF or unnamed frame (saw {bad})")
                return 1
        return 0
    sys.exit(__doc__)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
