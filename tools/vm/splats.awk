# SPDX-License-Identifier: GPL-2.0
# Find kernel splats in a dmesg/console log.  A splat is a block from
# "------------[ cut here ]------------" (or a trigger line) to "---[ end trace"
# (or 60 lines).  Each block whose text matches one of the newline-separated
# EREs in the environment variable EXPECTS prints "expected<TAB>line", else
# "UNEXPECTED<TAB>line" (line = the first trigger line of the block).
# With -v show=1, prints the text of the unexpected blocks instead.
BEGIN {
	T = "WARNING:|BUG:|Oops:|kernel BUG at|general protection fault|Kernel panic|" \
	    "soft lockup|hard LOCKUP|self-detected stall|rcu: INFO|detected stalls? on CPU|" \
	    "KASAN|UBSAN|blocked for more than [0-9]+ seconds|Unable to handle kernel"
	n = split(ENVIRON["EXPECTS"], ex, "\n")
	nex = 0
	for (i = 1; i <= n; i++)
		if (ex[i] != "")
			re[++nex] = ex[i]
	inb = 0
	prev = ""
}
function strip(s) {
	sub(/\r$/, "", s)
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "", s)
	return s
}
function flush(    i, ok, first, lines, k) {
	if (!inb)
		return
	inb = 0
	if (trig == "")
		return
	ok = 0
	for (i = 1; i <= nex; i++)
		if (text ~ re[i]) {
			ok = 1
			break
		}
	if (show) {
		if (!ok && shown < 3) {
			print text
			shown++
		}
		return
	}
	print (ok ? "expected" : "UNEXPECTED") "\t" trig
}
function start(s) {
	flush()
	inb = 1
	text = s
	cnt = 1
	trig = ""
}
{
	line = strip($0)
	if (line ~ /-+\[ cut here \]-+/) {
		start(line)
	} else if (!inb && line ~ T) {
		start(prev)
		text = text "\n" line
		trig = line
	} else if (inb) {
		text = text "\n" line
		cnt++
		if (trig == "" && line ~ T)
			trig = line
		if (line ~ /---\[ end trace/ || line ~ /---\[ end Kernel panic/ || cnt > 60)
			flush()
	}
	prev = line
}
END {
	flush()
}
