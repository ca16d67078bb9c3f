#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# debian/copyright against the files: every tracked file with an
# SPDX-License-Identifier line (and every new one not yet committed) has the
# licence debian/copyright's Files: stanzas give it; one PASS line for all,
# one FAIL line per file that differs.
cd "$(dirname "$0")/../.." || exit 1
DMARW_TEST=copyright
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "# not a git checkout: nothing to list"
	finish
fi
out=$(git ls-files -z --cached --others --exclude-standard |
	xargs -0 python3 tests/host/copyright.py debian/copyright)
n=$(grep -c '^OK ' <<<"$out")
while read -r line; do
	f=${line#BAD }
	fail "spdx/${f%%:*}" "${f#*: }"
done < <(grep '^BAD ' <<<"$out")
echo "# $n files with an SPDX line agree with debian/copyright"
if [ "$n" -gt 100 ]; then
	pass spdx-files-checked
else
	fail spdx-files-checked "only $n files with an SPDX line found"
fi
finish
