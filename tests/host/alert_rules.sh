#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The Prometheus alerting rules (tools/prometheus): promtool accepts them,
# their unit tests pass (each alert fires where it should and nowhere
# else), and every metric they name is one src/prometheus.c writes.
cd "$(dirname "$0")/../.." || exit 2
R=tools/prometheus/dmarefwatch.rules.yml
DMARW_TEST=host
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh

if ! command -v promtool >/dev/null; then
	fail alert-rules-promtool "no promtool (tools/install-deps installs prometheus)"
else
	if out=$(promtool check rules "$R" 2>&1); then
		pass alert-rules-check
	else
		fail alert-rules-check "$(echo "$out" | tail -3)"
	fi
	if out=$(cd tools/prometheus && promtool test rules dmarefwatch.rules.test.yml 2>&1); then
		pass alert-rules-unit-tests
	else
		fail alert-rules-unit-tests "$(echo "$out" | grep -v '^ *$' | head -8 | tr '\n' ' ')"
	fi
fi

# every dmarefwatch_* name in the rules is written by the exporter
bad=
while read -r m; do
	grep -q "\"$m\"" src/prometheus.c || bad="$bad $m"
done < <(grep -o 'dmarefwatch_[a-z_]*' "$R" | sort -u)
if [ -z "$bad" ]; then
	pass alert-rules-metric-names
else
	fail alert-rules-metric-names "not written by src/prometheus.c:$bad"
fi

finish
