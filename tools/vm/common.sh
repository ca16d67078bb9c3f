# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared helpers of tools/vm/run and tools/vm/kernel: resolve a Debian
# kernel through apt, download and unpack it into the cache, extract the
# uncompressed vmlinux, build the busybox initramfs.  Sourced, not run.

VM_TOOLDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_REPO=$(cd "$VM_TOOLDIR/../.." && pwd)
VM_CACHE=${DMARW_VM_CACHE:-/var/cache/dmarefwatch-vm}
# private apt lists older than this (seconds) are refreshed
VM_APT_MAX_AGE=${DMARW_VM_APT_MAX_AGE:-86400}

# exit statuses of the harness itself (documented in docs/vm-harness.md)
VM_E_USAGE=120
VM_E_SETUP=121
# shellcheck disable=SC2034 # used by the scripts that source this file
VM_E_TIMEOUT=124 VM_E_PANIC=125 VM_E_SPLAT=126

VM_QUIET=${VM_QUIET:-0}
VM_VERBOSE=${VM_VERBOSE:-0}

vm_log() { [ "$VM_QUIET" = 1 ] || printf 'vm: %s\n' "$*" >&2; }
vm_dbg() { [ "$VM_VERBOSE" = 1 ] && printf 'vm: %s\n' "$*" >&2; return 0; }
vm_die() {
	local rc=$1
	shift
	printf 'vm: error: %s\n' "$*" >&2
	exit "$rc"
}

vm_host_codename() {
	(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
}

# Private apt configuration for SUITE under $VM_CACHE/apt/SUITE; leaves the
# system's sources, lists and archives alone.  Sets VM_APT (array).
vm_apt_setup() {
	local suite=$1 base="$VM_CACHE/apt/$1" mirror=${DMARW_VM_MIRROR:-http://deb.debian.org/debian}
	local secmirror=${DMARW_VM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	local line
	if [ "$suite" = "$(vm_host_codename)" ] && [ -z "${DMARW_VM_PRIVATE_APT:-}" ]; then
		VM_APT=()	# the host's own apt knows this suite
		return 0
	fi
	mkdir -p "$base/etc/apt.conf.d" "$base/etc/preferences.d" "$base/etc/sources.list.d" \
		"$base/lists/partial" "$base/cache/archives/partial"
	: >"$base/status"
	line="[arch=amd64 signed-by=$keyring]"
	case $suite in
	bookworm | bullseye | trixie)
		{
			echo "deb $line $mirror $suite main"
			echo "deb $line $mirror $suite-updates main"
			echo "deb $line $secmirror $suite-security main"
		} >"$base/sources.list.new"
		;;
	*-backports)
		echo "deb $line $mirror $suite main" >"$base/sources.list.new"
		;;
	*)
		vm_die $VM_E_USAGE "unknown suite '$suite' (bookworm, bullseye, bookworm-backports, trixie)"
		;;
	esac
	if ! cmp -s "$base/sources.list.new" "$base/sources.list" 2>/dev/null; then
		mv "$base/sources.list.new" "$base/sources.list"
		rm -f "$base/updated"
	else
		rm -f "$base/sources.list.new"
	fi
	VM_APT=(-o "Dir::Etc::sourcelist=$base/sources.list"
		-o "Dir::Etc::sourceparts=$base/etc/sources.list.d"
		-o "Dir::Etc::Parts=$base/etc/apt.conf.d"
		-o "Dir::Etc::PreferencesParts=$base/etc/preferences.d"
		-o "Dir::Etc::preferences=$base/etc/preferences"
		-o "Dir::State=$base" -o "Dir::State::Lists=$base/lists"
		-o "Dir::State::status=$base/status"
		-o "Dir::Cache=$base/cache" -o "Dir::Cache::archives=$base/cache/archives"
		-o "APT::Architecture=amd64" -o "APT::Architectures::=amd64"
		-o "APT::Sandbox::User=root" -o "Acquire::Languages=none")
	local now age=999999999
	now=$(date +%s)
	[ -f "$base/updated" ] && age=$((now - $(stat -c %Y "$base/updated")))
	if [ "$age" -gt "$VM_APT_MAX_AGE" ] || [ -n "${DMARW_VM_REFRESH:-}" ]; then
		vm_log "apt update ($suite, private lists in $base)"
		if apt-get "${VM_APT[@]}" -qq update >"$base/update.log" 2>&1; then
			touch "$base/updated"
		else
			vm_log "warning: apt-get update for $suite failed (see $base/update.log)"
			[ -f "$base/updated" ] || return 1
		fi
	fi
}

# first Depends: of PKG matching a glob-like ERE
vm_apt_dep() {
	apt-cache "${VM_APT[@]}" depends "$1" 2>/dev/null |
		awk -v re="$2" '$1 == "Depends:" && $2 ~ re { print $2; exit }'
}

vm_apt_version() {
	apt-cache "${VM_APT[@]}" show --no-all-versions "$1" 2>/dev/null |
		awk '$1 == "Version:" { print $2; exit }'
}

# Resolve SUITE to its current kernel.  Sets VM_SUITE, VM_KVER, VM_PKGVER,
# VM_PKGS (image + headers + their header/kbuild dependencies).  Falls back
# to the last kernel cached for the suite when apt cannot answer.
vm_resolve() {
	VM_SUITE=$1
	local img='' hdr='' dep=''
	VM_KVER='' VM_PKGVER='' VM_PKGS=()
	local lists=/var/lib/apt/lists stamp='' memo="$VM_CACHE/resolved-$VM_SUITE"
	if [[ $VM_SUITE =~ ^[0-9] ]] && [ -f "$VM_CACHE/$VM_SUITE/.complete" ]; then
		# a kernel version already in the cache (pinned, offline)
		VM_KVER=$VM_SUITE
		VM_PKGVER=$(cat "$VM_CACHE/$VM_KVER/.complete")
		VM_SUITE=$(cat "$VM_CACHE/$VM_KVER/suite" 2>/dev/null || echo "$VM_KVER")
	elif [[ $VM_SUITE =~ ^[0-9] ]]; then
		vm_die $VM_E_USAGE "kernel $VM_SUITE is not in the cache $VM_CACHE"
	elif vm_apt_setup "$VM_SUITE"; then
		[ ${#VM_APT[@]} -gt 0 ] && lists=$VM_CACHE/apt/$VM_SUITE/lists
		# apt-cache takes ~0.5 s a call: remember the answer per state of the lists
		stamp=$(stat -c '%n %Y %s' "$lists"/*Packages* 2>/dev/null | md5sum | cut -c1-32)
		if [ -f "$memo" ] && [ "$(head -n1 "$memo")" = "$stamp" ] && [ -z "${DMARW_VM_REFRESH:-}" ]; then
			{
				read -r _
				read -r VM_KVER
				read -r VM_PKGVER
				read -r -a VM_PKGS
			} <"$memo"
			img=linux-image-$VM_KVER
		fi
	fi
	if [ -n "$VM_KVER" ]; then
		:
	elif [ -n "$stamp" ]; then
		img=$(vm_apt_dep linux-image-amd64 '^linux-image-.*-amd64$')
		[ -n "$img" ] || img=$(vm_apt_dep linux-image-amd64 '^linux-image-')
	fi
	if [ -n "$VM_KVER" ]; then
		:
	elif [ -n "$img" ]; then
		VM_KVER=${img#linux-image-}
		VM_KVER=${VM_KVER%-unsigned}
		VM_PKGVER=$(vm_apt_version "$img")
		hdr=linux-headers-$VM_KVER
		VM_PKGS=("$img=$VM_PKGVER" "$hdr=$VM_PKGVER")
		while read -r dep; do
			VM_PKGS+=("$dep")
		done < <(apt-cache "${VM_APT[@]}" depends "$hdr" 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-(headers|kbuild)-/ { print $2 }')
		mkdir -p "$VM_CACHE"
		echo "$VM_KVER" >"$VM_CACHE/suite-$VM_SUITE" 2>/dev/null || true
		printf '%s\n' "$stamp" "$VM_KVER" "$VM_PKGVER" "${VM_PKGS[*]}" >"$memo" 2>/dev/null || true
	elif [ -f "$VM_CACHE/suite-$VM_SUITE" ]; then
		VM_KVER=$(cat "$VM_CACHE/suite-$VM_SUITE")
		vm_log "warning: apt cannot resolve $VM_SUITE; using cached $VM_KVER"
	else
		vm_die $VM_E_SETUP "cannot resolve the kernel of suite '$VM_SUITE' through apt"
	fi
	VM_KDIR=$VM_CACHE/$VM_KVER
	VM_ROOT=$VM_KDIR/root
	VM_HEADERS=$VM_ROOT/usr/src/linux-headers-$VM_KVER
	VM_MODULES=$VM_ROOT/lib/modules/$VM_KVER
	VM_VMLINUZ=$VM_ROOT/boot/vmlinuz-$VM_KVER
	VM_VMLINUX=$VM_KDIR/vmlinux
	vm_initramfs_stamp
	VM_INITRD=$VM_KDIR/initramfs-$VM_INITRD_STAMP.cpio.gz
}

# The initramfs is named after what it is built from, so that runs of
# different checkouts sharing the cache never replace each other's.
vm_initramfs_stamp() {
	VM_BUSYBOX=$(command -v busybox) || vm_die $VM_E_SETUP "busybox not found (apt-get install busybox-static)"
	VM_INITRD_MODS="virtio_pci 9pnet_virtio 9p overlay"
	VM_INITRD_STAMP=$( (cat "$VM_TOOLDIR/initramfs-init" "$VM_BUSYBOX"; echo "$VM_INITRD_MODS") |
		md5sum | cut -c1-16)
}

# Find the compressed payload inside a bzImage and decompress it to an ELF.
vm_extract_vmlinux() {
	local in=$1 out=$2 magic tool off
	for spec in 'fd377a585a00:xz -dc' '28b52ffd:zstd -dc' '1f8b0800:gzip -dc' \
		'02214c18:lz4 -dc' '894c5a4f:lzop -dc' '425a68:bzip2 -dc' '5d000000:xz -dc --format=lzma'; do
		magic=${spec%%:*}
		tool=${spec#*:}
		command -v "${tool%% *}" >/dev/null || continue
		# shellcheck disable=SC2001 # every byte pair: no parameter expansion does that
		for off in $(LC_ALL=C grep -obUaP "$(echo "$magic" | sed 's/../\\x&/g')" "$in" 2>/dev/null |
			cut -d: -f1 | head -20); do
			tail -c +$((off + 1)) "$in" | $tool >"$out.tmp" 2>/dev/null
			if [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
				mv "$out.tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	return 1
}

# Download + unpack the resolved kernel into $VM_KDIR (once).
vm_fetch() {
	local f dl
	if [ -f "$VM_KDIR/.complete" ] && { [ -z "$VM_PKGVER" ] ||
		[ "$(cat "$VM_KDIR/.complete")" = "$VM_PKGVER" ]; }; then
		return 0
	fi
	[ -n "$VM_PKGVER" ] || vm_die $VM_E_SETUP "kernel $VM_KVER not cached and apt cannot resolve it"
	mkdir -p "$VM_CACHE" || vm_die $VM_E_SETUP "cannot create cache dir $VM_CACHE"
	exec 8>"$VM_CACHE/.lock-$VM_KVER"
	flock 8
	if [ -f "$VM_KDIR/.complete" ] && [ "$(cat "$VM_KDIR/.complete")" = "$VM_PKGVER" ]; then
		exec 8>&-
		return 0
	fi
	vm_log "downloading $VM_SUITE kernel $VM_KVER ($VM_PKGVER): ${VM_PKGS[*]}"
	rm -rf "$VM_KDIR"
	dl=$VM_KDIR/debs
	mkdir -p "$dl" "$VM_ROOT"
	(cd "$dl" && apt-get "${VM_APT[@]}" -o APT::Sandbox::User=root -qq download "${VM_PKGS[@]}") \
		>"$VM_KDIR/download.log" 2>&1 ||
		vm_die $VM_E_SETUP "apt-get download failed (see $VM_KDIR/download.log)"
	for f in "$dl"/*.deb; do
		dpkg -x "$f" "$VM_ROOT" || vm_die $VM_E_SETUP "dpkg -x $f failed"
	done
	# merged-/usr packages (trixie) ship /usr/lib/modules only
	if [ ! -e "$VM_ROOT/lib" ] && [ -d "$VM_ROOT/usr/lib" ]; then
		ln -s usr/lib "$VM_ROOT/lib"
	fi
	# the flavour Makefile includes the -common tree by absolute path
	for f in "$VM_ROOT"/usr/src/linux-headers-*/Makefile; do
		sed -i "s|^include /usr/src/|include $VM_ROOT/usr/src/|" "$f"
	done
	[ -f "$VM_VMLINUZ" ] || vm_die $VM_E_SETUP "no $VM_VMLINUZ in the image package"
	depmod -b "$VM_ROOT" "$VM_KVER" 2>"$VM_KDIR/depmod.log" ||
		vm_die $VM_E_SETUP "depmod failed (see $VM_KDIR/depmod.log)"
	vm_extract_vmlinux "$VM_VMLINUZ" "$VM_VMLINUX" ||
		vm_die $VM_E_SETUP "cannot extract the uncompressed vmlinux from $VM_VMLINUZ"
	[ -n "${DMARW_VM_KEEP_DEBS:-}" ] || rm -rf "$dl"
	echo "$VM_SUITE" >"$VM_KDIR/suite"
	echo "$VM_PKGVER" >"$VM_KDIR/.complete"
	exec 8>&-
}

# The busybox initramfs (per kernel): busybox, /init and the modules needed
# to mount the 9p root with an overlay.  Rebuilt when init changes.
vm_initramfs() {
	local tmp m busybox=$VM_BUSYBOX mods=$VM_INITRD_MODS
	if [ -f "$VM_INITRD" ]; then
		touch "$VM_INITRD" 2>/dev/null	# in use: see the cleanup below
		return 0
	fi
	readelf -h "$busybox" 2>/dev/null | grep -q 'Machine:.*X86-64' ||
		vm_die $VM_E_SETUP "$busybox is not an x86-64 binary (apt-get install busybox-static:amd64)"
	if readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
		vm_die $VM_E_SETUP "$busybox is not static (apt-get install busybox-static)"
	fi
	exec 8>"$VM_CACHE/.lock-$VM_KVER"
	flock 8
	if [ -f "$VM_INITRD" ]; then
		exec 8>&-
		return 0
	fi
	tmp=$(mktemp -d "$VM_KDIR/initramfs.XXXXXX")
	mkdir -p "$tmp"/{bin,sbin,dev,proc,sys,lower,upper,newroot,run/dmarw,mods}
	cp "$busybox" "$tmp/bin/busybox"
	cp "$VM_TOOLDIR/initramfs-init" "$tmp/init"
	chmod 755 "$tmp/init"
	: >"$tmp/mods/order"
	for m in $mods; do
		if grep -qE "/$m\.ko(\.[a-z]+)?\$" "$VM_MODULES/modules.builtin" 2>/dev/null; then
			continue
		fi
		modprobe -d "$VM_ROOT" -S "$VM_KVER" --show-depends "$m" 2>>"$tmp/mods/errors" |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r m; do
		local b
		b=$(basename "$m")
		case $b in
		*.ko.xz) xz -dc "$m" >"$tmp/mods/${b%.xz}" ;;
		*.ko.zst) zstd -qdc "$m" >"$tmp/mods/${b%.zst}" ;;
		*.ko.gz) gzip -dc "$m" >"$tmp/mods/${b%.gz}" ;;
		*) cp "$m" "$tmp/mods/$b" ;;
		esac
		b=${b%.xz}
		b=${b%.zst}
		echo "${b%.gz}" >>"$tmp/mods/order"
	done
	grep -q 9p "$tmp/mods/order" || grep -qE '/9p\.ko' "$VM_MODULES/modules.builtin" ||
		vm_die $VM_E_SETUP "cannot find the 9p modules of $VM_KVER"
	(cd "$tmp" && find . -path ./mods/errors -prune -o -print | cpio -o -H newc --quiet | gzip -1) \
		>"$VM_INITRD.tmp$$" || vm_die $VM_E_SETUP "cannot build the initramfs"
	mv "$VM_INITRD.tmp$$" "$VM_INITRD"
	rm -rf "$tmp"
	# older ones (other versions of initramfs-init), unused for a week
	find "$VM_KDIR" -maxdepth 1 -name 'initramfs-*.cpio.gz' -mtime +7 -delete 2>/dev/null
	exec 8>&-
}

# Build tests/kmod for the resolved kernel into build/kmod/<kver>/ when the
# sources changed.  Sets VM_KMOD_DIR.
vm_build_kmod() {
	local src=$VM_REPO/tests/kmod out stamp f
	VM_KMOD_DIR=$VM_REPO/build/kmod/$VM_KVER
	[ -d "$src" ] || return 0
	# shellcheck disable=SC2012,SC2046 # tests/kmod's file names are plain words
	stamp=$( (cd "$src" && cat $(ls | sort)) | md5sum | cut -c1-32)
	stamp="$stamp $VM_PKGVER"
	if [ "$(cat "$VM_KMOD_DIR/.stamp" 2>/dev/null)" = "$stamp" ]; then
		return 0
	fi
	mkdir -p "$VM_KMOD_DIR"
	exec 7>"$VM_KMOD_DIR/.lock"
	flock 7
	# another run may have built it while we waited
	if [ "$(cat "$VM_KMOD_DIR/.stamp" 2>/dev/null)" = "$stamp" ]; then
		exec 7>&-
		return 0
	fi
	rm -f "$VM_KMOD_DIR/.stamp"
	for f in "$src"/*; do
		[ -f "$f" ] || continue
		cmp -s "$f" "$VM_KMOD_DIR/$(basename "$f")" || cp "$f" "$VM_KMOD_DIR/"
	done
	vm_log "building tests/kmod for $VM_KVER"
	# Debian pins the compiler the kernel was built with (CC = gcc-N in
	# .kernelvariables); when that one is missing, use the host's gcc
	# (e.g. bookworm's gcc-12 for bullseye's 5.10, built with gcc-10)
	local want cc=()
	want=$(grep -oE 'gcc-[0-9]+' "$VM_HEADERS/.kernelvariables" 2>/dev/null | head -n1)
	if [ -n "$want" ] && ! command -v "$want" >/dev/null; then
		local alt
		alt=$(compgen -c gcc- | grep -E '^gcc-[0-9]+$' | sort -t- -k2 -n | tail -n1)
		[ -n "$alt" ] || alt=gcc
		vm_log "$want (the compiler of $VM_KVER) not installed, building with $alt"
		cc=(CC="$alt")
	fi
	if ! make -C "$VM_HEADERS" M="$VM_KMOD_DIR" "${cc[@]}" modules >"$VM_KMOD_DIR/build.log" 2>&1; then
		cat "$VM_KMOD_DIR/build.log" >&2
		vm_die $VM_E_SETUP "building tests/kmod against $VM_KVER failed (log: $VM_KMOD_DIR/build.log)"
	fi
	grep -E 'warning:' "$VM_KMOD_DIR/build.log" >&2 || true
	echo "$stamp" >"$VM_KMOD_DIR/.stamp"
	exec 7>&-
}
