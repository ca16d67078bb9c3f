#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""runstats.py REPORT.json [--leak CHAN FUNC MODULE]: a `dmarefwatch run`
JSON report's counts as one line of key=value for tools/bench/guest.sh
(events, lost, hook hits, the final client_count sum, the channels whose
final client_count is not 0 as CHAN:N,... or "-", the attach modes,
findings); "report=unreadable" when the report cannot be read.

--leak: also whether the planted leak is named (issue 10's storm): named=1
when the report has exactly one leaked-reference, on CHAN, whose holder is
FUNC in MODULE with FUNC in its stack; leaks=N and holder=FUNC[MODULE] of
the first leaked-reference either way (the same assertions as
tests/vm/findings.py's count and stack, in one python start: each costs a
second under TCG)."""
import json
import sys

try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("report=unreadable named=0")
    sys.exit(0)
s = d["stats"]
h = {x["hook"]: x for x in s["hooks"]}
hits = sum(x["hits"] for x in s["hooks"])
cc = sum(max(c.get("client_count", 0), 0) for c in d.get("channels", []))
nz = ",".join(sorted("%s:%d" % (c["channel"], c["client_count"])
                     for c in d.get("channels", []) if c.get("client_count"))) or "-"
modes = ",".join(sorted(set(x["mode"] or "-" for x in s["hooks"][:2])))
out = ("events=%d lost=%d hits=%d get_hits=%d put_hits=%d final_cc=%d cc_nonzero=%s modes=%s findings=%d"
       % (s["events"], s["events_lost"], hits, h["dma_chan_get"]["hits"],
          h["dma_chan_put"]["hits"], cc, nz, modes, s["findings"]))
if len(sys.argv) == 6 and sys.argv[2] == "--leak":
    chan, func, mod = sys.argv[3:]
    leaks = [f for f in d.get("findings", []) if f.get("kind") == "leaked-reference"]
    hd = (leaks[0].get("holder") or {}) if leaks else {}
    stack = [fr.get("func") for fr in hd.get("stack") or []]
    named = (len(leaks) == 1 and leaks[0].get("channel") == chan and
             hd.get("function") == func and hd.get("module") == mod and func in stack)
    out += " named=%d leaks=%d holder=%s[%s] holder_chan=%s" % (
        named, len(leaks), hd.get("function") or "-", hd.get("module") or "-",
        (leaks[0].get("channel") if leaks else None) or "-")
print(out)
