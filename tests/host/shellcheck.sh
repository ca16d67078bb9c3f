#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Every shell script of the repository is shellcheck-clean at its default
# severity (style included), with the settings of .shellcheckrc.  A script
# is a file of the checkout (git ls-files, untracked ones too) that ends in
# .sh, starts with a sh/bash/dash/busybox shebang, or names its shell in a
# "# shellcheck shell=" directive near its top: a new one is covered
# without being listed here.  One PASS/FAIL line per script.
cd "$(dirname "$0")/../.." || exit 1
DMARW_TEST=shellcheck
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh

# scripts: the shell scripts of the checkout, one a line
scripts() {
	local f
	{ git ls-files -co --exclude-standard 2>/dev/null || find . -type f ! -path './.git/*' ! -path './build/*' | sed 's|^\./||'; } |
		sort -u | while read -r f; do
			[ -f "$f" ] || continue
			case $f in
			*.sh) echo "$f"; continue ;;
			*.c | *.h | *.py | *.md | *.json | *.yml | *.trace) continue ;;
			esac
			if head -n1 "$f" | grep -qE '^#!.*[/ ](ba|da|k)?sh( |$)' ||
				head -n5 "$f" | grep -qE '^# shellcheck shell='; then
				echo "$f"
			fi
		done
}

if ! command -v shellcheck >/dev/null; then
	fail installed "no shellcheck (tools/install-deps installs it)"
	finish
fi
mapfile -t list < <(scripts)
# the list is computed: make sure it found what it must
for f in tests/run tools/vm/run tools/vm/initramfs-init tests/vm/lib.sh tests/lib/testlib.sh \
	tools/bash-completion/dmarefwatch; do
	case " ${list[*]} " in
	*" $f "*) ;;
	*) fail "finds-$f" "the script list (${#list[@]} files) misses $f" ;;
	esac
done
echo "# $(shellcheck --version | sed -n 's/^version: /shellcheck /p'), ${#list[@]} scripts"
for f in "${list[@]}"; do
	if out=$(shellcheck "$f" 2>&1); then
		pass "$f"
	else
		fail "$f" "$(printf '%s\n' "$out" | grep -cE '^In .* line [0-9]+:') findings:" \
			"$(printf '%s\n' "$out" | grep -oE 'SC[0-9]{4} \([a-z]+\): .*' | sort | uniq -c |
				sed 's/^ *//' | head -5 | tr '\n' ';')"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
done
finish
