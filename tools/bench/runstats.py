#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""runstats.py REPORT.json: a `dmarefwatch run` JSON report's counts as one
line of key=value for tools/bench/guest.sh (events, lost, hook hits, the
final client_count sum, the attach modes, findings); "report=unreadable"
when the report cannot be read."""
import json
import sys

try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("report=unreadable")
    sys.exit(0)
s = d["stats"]
h = {x["hook"]: x for x in s["hooks"]}
hits = sum(x["hits"] for x in s["hooks"])
cc = sum(max(c.get("client_count", 0), 0) for c in d.get("channels", []))
modes = ",".join(sorted(set(x["mode"] or "-" for x in s["hooks"][:2])))
print("events=%d lost=%d hits=%d get_hits=%d put_hits=%d final_cc=%d modes=%s findings=%d"
      % (s["events"], s["events_lost"], hits, h["dma_chan_get"]["hits"],
         h["dma_chan_put"]["hits"], cc, modes, s["findings"]))
