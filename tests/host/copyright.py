#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""copyright.py COPYRIGHT FILE...: every FILE's SPDX-License-Identifier line
against the licence the DEP-5 file COPYRIGHT gives it (the last Files:
stanza whose pattern matches, '*' matching '/' too).  Files without an SPDX
line are skipped.  Prints one line "OK FILE" or "BAD FILE: ..." per file."""
import fnmatch
import re
import sys

DEP5_TO_SPDX = {'LGPL-2.1 or BSD-2-clause': '(LGPL-2.1 OR BSD-2-Clause)',
                'GPL-2': 'GPL-2.0'}


def stanzas(path):
    """[(patterns, licence)] of the Files: stanzas, in order."""
    out = []
    for para in re.split(r'\n\s*\n', open(path).read()):
        files, lic, key = [], None, None
        for line in para.splitlines():
            if line[:1] in (' ', '\t'):
                if key == 'Files':
                    files += line.split()
                continue
            key, _, val = line.partition(':')
            if key == 'Files':
                files += val.split()
            elif key == 'License':
                lic = val.strip()
        if files:
            out.append((files, lic))
    return out


def spdx(path):
    try:
        with open(path, errors='replace') as f:
            for line in f:
                m = re.search(r'SPDX-License-Identifier:\s*(.*?)\s*(\*/|-->|"|$)', line)
                if m:
                    return m.group(1)
    except OSError:
        pass
    return None


def main(argv):
    rules = stanzas(argv[1])
    bad = 0
    for path in argv[2:]:
        have = spdx(path)
        if have is None:
            continue
        lic = None
        for pats, l in rules:
            if any(fnmatch.fnmatchcase(path, p) for p in pats):
                lic = l
        want = DEP5_TO_SPDX.get(lic, lic)
        if have == want:
            print(f"OK {path}")
        else:
            bad += 1
            print(f"BAD {path}: its SPDX line says {have}, {argv[1]} says {lic}")
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
