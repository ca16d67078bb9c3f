# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make                 build/dmarefwatch (static, BPF object embedded)
# make ARCH=arm64      build/arm64/dmarefwatch (cross, static)
# make ARCH=arm        build/arm/dmarefwatch (armhf, cross, static)
# make unit            engine unit tests under ASan/LSan
# make check           unit tests + VM tests (tests/run)
# make fuzz            every libFuzzer harness (tests/fuzz/) for FUZZ_SECONDS each
# make check-matrix    kernel x arch matrix (tests/matrix/run): x86_64 5.10 and
#                      6.12, arm64 raspi3b 6.1 and 6.12, armhf raspi2b 6.1
#                      (docs/matrix.md)

HOST_ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
ARCH ?= $(HOST_ARCH)
ifeq ($(ARCH),x86)
OUT := build
CC ?= cc
TRIPLE := x86_64-linux-gnu
DEB_ARCH := amd64
else ifeq ($(ARCH),arm)
OUT := build/$(ARCH)
TRIPLE := arm-linux-gnueabihf
CC := $(TRIPLE)-gcc
DEB_ARCH := armhf
else
OUT := build/$(ARCH)
TRIPLE := aarch64-linux-gnu
CC := $(TRIPLE)-gcc
DEB_ARCH := arm64
endif


CLANG ?= clang
BPFTOOL ?= bpftool
PREFIX ?= /usr/local
DESTDIR ?=

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -I$(OUT) -Isrc -Ibpf -MMD -MP

# The static libraries, found by pkg-config (the target's .pc files when
# cross building).  Debian's libelf.pc does not name the libzstd its static
# library needs, hence libzstd.
PKG_CONFIG ?= pkg-config
PKG_MODULES := libbpf:libbpf-dev libelf:libelf-dev zlib:zlib1g-dev libzstd:libzstd-dev \
	ncursesw:libncurses-dev
PKG_NAMES := $(foreach m,$(PKG_MODULES),$(firstword $(subst :, ,$(m))))
# Cross building, the target's libraries are the :arm64/:armhf -dev packages
# (.pc files in /usr/lib/TRIPLE/pkgconfig) or, when apt cannot install
# them, the sysroot tools/install-deps unpacks them into
# (/var/cache/dmarefwatch-cross/DEB_ARCH): pkg-config reads its .pc files
# and prefixes their -I and -L with it (PKG_CONFIG_SYSROOT_DIR); the
# headers come first from it, the libraries from its lib/TRIPLE.
DMARW_CROSS_CACHE ?= /var/cache/dmarefwatch-cross
CROSS_SYSROOT ?= $(DMARW_CROSS_CACHE)/$(DEB_ARCH)
CROSS_CFLAGS :=
CROSS_LDFLAGS :=
USE_SYSROOT :=
ifneq ($(ARCH),$(HOST_ARCH))
PKG_SUFFIX := :$(DEB_ARCH)
CC_PKG := gcc-$(TRIPLE)
ifneq ($(words $(wildcard $(PKG_NAMES:%=/usr/lib/$(TRIPLE)/pkgconfig/%.pc))),$(words $(PKG_NAMES)))
ifneq ($(wildcard $(CROSS_SYSROOT)/usr/lib/$(TRIPLE)/pkgconfig),)
USE_SYSROOT := $(CROSS_SYSROOT)
endif
endif
ifneq ($(USE_SYSROOT),)
PKG_ENV := PKG_CONFIG_LIBDIR=$(USE_SYSROOT)/usr/lib/$(TRIPLE)/pkgconfig:$(USE_SYSROOT)/usr/share/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$(USE_SYSROOT)
CROSS_CFLAGS := $(shell $(PKG_ENV) $(PKG_CONFIG) --cflags-only-I $(PKG_NAMES) 2>/dev/null)
CROSS_LDFLAGS := -L$(USE_SYSROOT)/usr/lib/$(TRIPLE)
else
PKG_ENV := PKG_CONFIG_LIBDIR=/usr/lib/$(TRIPLE)/pkgconfig:/usr/share/pkgconfig
endif
else
CC_PKG := gcc
endif
LIBS = $(shell $(PKG_ENV) $(PKG_CONFIG) --static --libs $(PKG_NAMES))

# What a build needs, checked when the makefile is read, before anything
# compiles: a missing tool or library stops make with one line naming the
# Debian packages to install.  Only for the goals that need them: clean and
# vmlinux need nothing, unit the C compiler, fuzz and fuzzers clang.
have = $(shell command -v $(1) >/dev/null 2>&1 && echo y)
MISSING_CC = $(if $(call have,$(CC)),,$(CC_PKG))
MISSING_CLANG = $(if $(call have,$(CLANG)),,clang)
MISSING_LIBS = $(if $(call have,$(PKG_CONFIG)),,pkg-config) \
	$(foreach m,$(PKG_MODULES),$(if $(shell $(PKG_ENV) $(PKG_CONFIG) --exists \
	$(firstword $(subst :, ,$(m))) 2>/dev/null && echo y),,$(lastword $(subst :, ,$(m)))$(PKG_SUFFIX)))
MISSING_ALL = $(MISSING_CLANG) $(if $(call have,$(BPFTOOL)),,bpftool) $(MISSING_CC) $(MISSING_LIBS)
FUZZ_GOALS := fuzz fuzzers build/fuzz/%
UNIT_GOALS := unit build/unit-tests
GOALS := $(or $(MAKECMDGOALS),all)
ifneq ($(filter-out clean vmlinux $(UNIT_GOALS) $(FUZZ_GOALS),$(GOALS)),)
MISSING := $(MISSING_ALL)
else
MISSING := $(if $(filter $(UNIT_GOALS),$(GOALS)),$(MISSING_CC)) \
	$(if $(filter $(FUZZ_GOALS),$(GOALS)),$(MISSING_CLANG))
endif
MISSING := $(sort $(strip $(MISSING)))
ifneq ($(MISSING),)
$(error cannot build for $(TRIPLE): missing $(MISSING): apt-get install $(MISSING) (tools/install-deps does all$(if $(PKG_SUFFIX),; when apt cannot install the $(PKG_SUFFIX) -dev packages it unpacks them into $(CROSS_SYSROOT) and make uses that)))
endif

# Files that need libbpf or the BPF skeleton; everything else in src/ is the
# pure-C core (engine, parsers, outputs) that unit tests link too.
LIVE_SRCS := src/main.c $(wildcard src/cmd_*.c) $(wildcard src/bpf_*.c)
CORE_SRCS := $(filter-out $(LIVE_SRCS),$(wildcard src/*.c))
LIVE_OBJS := $(patsubst src/%.c,$(OUT)/obj/%.o,$(LIVE_SRCS))
CORE_OBJS := $(patsubst src/%.c,$(OUT)/obj/%.o,$(CORE_SRCS))
HDRS := $(wildcard src/*.h) bpf/dmarefwatch.h

# The BPF object: the hooks, the startup walk and the module symbol walk
# compiled apart and linked into one object (bpftool gen object).
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_PARTS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_OBJ := $(OUT)/dmarefwatch.bpf.o
SKEL := $(OUT)/dmarefwatch.skel.h
BPF_ARCH := $(ARCH)

.PHONY: all unit check check-matrix install clean vmlinux bench fuzz fuzzers
all: $(OUT)/dmarefwatch

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c vmlinux/$(ARCH)/vmlinux.h | $(OUT)/bpf
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror -MMD -MP \
		-Ivmlinux/$(ARCH) -Ibpf -c $< -o $@

$(BPF_OBJ): $(BPF_PARTS)
	$(BPFTOOL) gen object $@ $^

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name dmarefwatch_bpf > $@.tmp && mv $@.tmp $@

$(OUT)/obj/%.o: src/%.c | $(OUT)/obj
	$(CC) $(ALL_CFLAGS) $(CROSS_CFLAGS) -c $< -o $@

$(LIVE_OBJS): $(SKEL)

$(OUT)/dmarefwatch: $(LIVE_OBJS) $(CORE_OBJS)
	$(CC) -static $(CFLAGS) $^ $(CROSS_LDFLAGS) $(LIBS) -o $@

$(OUT) $(OUT)/obj $(OUT)/bpf:
	mkdir -p $@

# generated by -MMD: each object's headers
-include $(wildcard $(OUT)/obj/*.d $(OUT)/bpf/*.d)

# Unit tests: the core compiled again with sanitizers, plus tests/unit/*.c.
UNIT_CFLAGS := -std=gnu11 $(WARN) -O1 -g -fsanitize=address,undefined \
	-fno-omit-frame-pointer -Isrc -Ibpf -Itests/unit
# (bpf_images.c: its CPU pinning needs no BPF, only a perf event)
UNIT_SRCS := $(CORE_SRCS) src/bpf_images.c
build/unit-tests: $(UNIT_SRCS) $(wildcard tests/unit/*.c) $(HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p build
	$(CC) $(UNIT_CFLAGS) $(UNIT_SRCS) $(wildcard tests/unit/*.c) -o $@

unit: build/unit-tests
	cd tests/unit && ASAN_OPTIONS=detect_leaks=1 ../../build/unit-tests

# libFuzzer harnesses over the parsers (clang, ASan+UBSan, halt on error);
# tests/host/fuzz.sh runs each for a bounded time in CI.
FUZZERS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -std=gnu11 $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -Isrc -Ibpf
FUZZ_SECONDS ?= 300
build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_common.h $(CORE_SRCS) $(HDRS)
	@mkdir -p build/fuzz
	$(CLANG) $(FUZZ_CFLAGS) $(CORE_SRCS) $< -o $@

fuzzers: $(FUZZERS)

fuzz: fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/host/fuzz.sh

check: all build/unit-tests
	tests/run

vmlinux:
	vmlinux/gen.sh

# the benchmark of issue 6: boots a guest, prints the table with ratios
bench: all
	tools/bench/run

# The matrix needs the host build and the arm64 and armhf cross builds
check-matrix: all
	$(MAKE) ARCH=arm64 all
	$(MAKE) ARCH=arm all
	tests/matrix/run $(MATRIX_ARGS)

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the man page, the
# systemd unit (its ExecStart follows PREFIX) and bash completion.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
install: $(OUT)/dmarefwatch
	install -D -m 0755 $(OUT)/dmarefwatch $(DESTDIR)$(PREFIX)/sbin/dmarefwatch
	install -D -m 0644 docs/dmarefwatch.8 $(DESTDIR)$(PREFIX)/share/man/man8/dmarefwatch.8
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|/usr/local/sbin/dmarefwatch|$(PREFIX)/sbin/dmarefwatch|g' \
		tools/systemd/dmarefwatch.service > $(DESTDIR)$(SYSTEMDUNITDIR)/dmarefwatch.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/dmarefwatch.service
	install -D -m 0644 tools/bash-completion/dmarefwatch $(DESTDIR)$(BASHCOMPDIR)/dmarefwatch

clean:
	rm -rf build
