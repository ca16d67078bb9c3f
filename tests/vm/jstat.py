#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""jstat.py REPORT.json EXPR: print a Python expression over a dmarefwatch
JSON report, for tests/vm/bench_smoke.sh.  In EXPR, d is the report, s its
"stats" and h its hooks by name, e.g. 'h["dma_chan_get"]["hits"]'."""
import json
import sys

d = json.load(open(sys.argv[1]))
s = d["stats"]
h = {x["hook"]: x for x in s["hooks"]}
print(eval(sys.argv[2]))
