#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""json_error_check.py FILE SUBSTRING: FILE is one line, a JSON object
{"error": STRING} and nothing else, whose message contains SUBSTRING."""
import json
import sys


def main():
    path, want = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    if len(lines) != 1:
        print(f"{path}: {len(lines)} lines, want 1", file=sys.stderr)
        return 1
    try:
        obj = json.loads(lines[0])
    except json.JSONDecodeError as e:
        print(f"{path}: not JSON: {e}", file=sys.stderr)
        return 1
    if not isinstance(obj, dict) or set(obj) != {"error"} or not isinstance(obj["error"], str):
        print(f"{path}: not {{\"error\": STRING}}: {obj!r}", file=sys.stderr)
        return 1
    if want not in obj["error"]:
        print(f"{path}: error {obj['error']!r} lacks {want!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
