# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# shellcheck shell=bash
# check_json NAME [--schema KIND] FILE...: validate dmarefwatch JSON or JUnit
# outputs against docs/schema/ with tests/lib/check_json.py (KIND: report,
# watch, trace-line, trace, junit; default: told by the document): one PASS
# or FAIL line per FILE, named NAME for one file, NAME/BASENAME (without
# .json) for several.  Uses the caller's pass and fail; sourced by
# tests/vm/lib.sh and the host tests.
DMARW_CHECK_JSON=${BASH_SOURCE[0]%/*}
[ "$DMARW_CHECK_JSON" = "${BASH_SOURCE[0]}" ] && DMARW_CHECK_JSON=.
case $DMARW_CHECK_JSON in /*) ;; *) DMARW_CHECK_JSON=$PWD/$DMARW_CHECK_JSON ;; esac
DMARW_CHECK_JSON=$DMARW_CHECK_JSON/check_json.py
check_json() {
	local name=$1 kind=() out line f st n=0 bad=0
	shift
	if [ "${1:-}" = --schema ]; then
		kind=(--schema "$2")
		shift 2
	fi
	out=$("$DMARW_CHECK_JSON" "${kind[@]}" -- "$@" 2>&1)
	st=$?
	while IFS= read -r line; do
		case $line in
		"ok "* | "invalid "*)
			f=${line#* }
			f=${f%%: *}
			f=${f##*/}
			f=${f%.json}
			[ $# -gt 1 ] && f=$name/$f || f=$name
			n=$((n + 1))
			if [ "${line%% *}" = ok ]; then
				pass "$f"
			else
				fail "$f" "$line"
				bad=1
			fi
			;;
		*)
			fail "$name" "check_json.py: $line"
			bad=1
			;;
		esac
	done <<<"$out"
	if [ $bad = 0 ] && { [ $st != 0 ] || [ $n != $# ]; }; then
		fail "$name" "check_json.py exited $st after $n of $# files: $out"
	fi
}
