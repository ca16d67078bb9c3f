#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the matrix scripts print from dmarefwatch JSON reports (the checks
themselves are tests/vm/findings.py assertions).

reports.py hooks REPORT KVER REQUESTED
    "HOOK <kver> <requested> <hook> <mode>" for every hook of the report
reports.py mode REPORT HOOK
    the attach mode of HOOK
reports.py others REPORT MODE
    "hook=mode" of every hook not attached as MODE, sorted, space-separated
reports.py evidence REPORT KIND
    the evidence of every KIND finding, on one line
reports.py events REPORT
    the number of events the run decoded
reports.py summary DIR NAME...
    "# NAME: kind device channel function [module]" for every finding of
    DIR/NAME.json ("# NAME: no report" when there is none)
reports.py findings REPORT
    "kind device channel function | evidence" for every finding
"""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    what, args = argv[1], argv[2:]
    if what == 'hooks' and len(args) == 3:
        for h in load(args[0])['stats']['hooks']:
            print('HOOK', args[1], args[2], h['hook'], h['mode'])
    elif what == 'mode' and len(args) == 2:
        print([h['mode'] for h in load(args[0])['stats']['hooks'] if h['hook'] == args[1]][0])
    elif what == 'others' and len(args) == 2:
        print(' '.join(sorted(h['hook'] + '=' + h['mode'] for h in load(args[0])['stats']['hooks']
                              if h['mode'] != args[1])))
    elif what == 'evidence' and len(args) == 2:
        print(' '.join(f['evidence'] for f in load(args[0])['findings'] if f['kind'] == args[1]))
    elif what == 'events' and len(args) == 1:
        print(load(args[0])['stats']['events'])
    elif what == 'summary' and args:
        for n in args[1:]:
            p = os.path.join(args[0], n + '.json')
            if not os.path.exists(p):
                print(f'# {n}: no report')
                continue
            for f in load(p).get('findings', []):
                h = f.get('holder') or {}
                print(f"# {n}: {f['kind']} {f.get('device')} {f.get('channel')} "
                      f"{h.get('function')} [{h.get('module')}]")
    elif what == 'findings' and len(args) == 1:
        for f in load(args[0]).get('findings', []):
            print(f['kind'], f.get('device'), f.get('channel'),
                  (f.get('holder') or {}).get('function'), '|',
                  json.dumps(f.get('evidence'))[:300])
    else:
        sys.exit(__doc__)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
