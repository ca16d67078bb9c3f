# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make                 build/dmarefwatch (static, BPF object embedded)
# make ARCH=arm64      build/arm64/dmarefwatch (cross, static)
# make ARCH=arm        build/arm/dmarefwatch (armhf, cross, static)
# make unit            engine unit tests under ASan/LSan
# make check           unit tests + VM tests (tests/run)
# make fuzz            every libFuzzer harness (tests/fuzz/) for FUZZ_SECONDS each
# make check-matrix    kernel x arch matrix (tests/matrix/run): x86_64 5.10 and
#                      6.12, arm64 raspi3b 6.1 and 6.12 (docs/matrix.md)

ARCH ?= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
ifeq ($(ARCH),x86)
OUT := build
CC ?= cc
TRIPLE := x86_64-linux-gnu
else ifeq ($(ARCH),arm)
OUT := build/$(ARCH)
TRIPLE := arm-linux-gnueabihf
CC := $(TRIPLE)-gcc
else
OUT := build/$(ARCH)
TRIPLE := aarch64-linux-gnu
CC := $(TRIPLE)-gcc
endif


CLANG ?= clang
BPFTOOL ?= bpftool
PREFIX ?= /usr/local
DESTDIR ?=

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -I$(OUT) -Isrc -Ibpf
LIBDIR := /usr/lib/$(TRIPLE)
LIBS := $(LIBDIR)/libbpf.a $(LIBDIR)/libelf.a $(LIBDIR)/libz.a $(LIBDIR)/libzstd.a

# Files that need libbpf or the BPF skeleton; everything else in src/ is the
# pure-C core (engine, parsers, outputs) that unit tests link too.
LIVE_SRCS := src/main.c $(wildcard src/cmd_*.c) $(wildcard src/bpf_*.c)
CORE_SRCS := $(filter-out $(LIVE_SRCS),$(wildcard src/*.c))
LIVE_OBJS := $(patsubst src/%.c,$(OUT)/obj/%.o,$(LIVE_SRCS))
CORE_OBJS := $(patsubst src/%.c,$(OUT)/obj/%.o,$(CORE_SRCS))
HDRS := $(wildcard src/*.h) bpf/dmarefwatch.h

BPF_SRC := bpf/dmarefwatch.bpf.c
BPF_OBJ := $(OUT)/dmarefwatch.bpf.o
SKEL := $(OUT)/dmarefwatch.skel.h
BPF_ARCH := $(ARCH)

.PHONY: all unit check check-matrix install clean vmlinux bench fuzz fuzzers
all: $(OUT)/dmarefwatch

$(BPF_OBJ): $(BPF_SRC) bpf/*.h vmlinux/$(ARCH)/vmlinux.h | $(OUT)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
		-Ivmlinux/$(ARCH) -Ibpf -c $< -o $@.tmp
	$(BPFTOOL) gen object $@ $@.tmp
	rm -f $@.tmp

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name dmarefwatch_bpf > $@.tmp && mv $@.tmp $@

$(OUT)/obj/%.o: src/%.c $(HDRS) | $(OUT)/obj
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIVE_OBJS): $(SKEL)

$(OUT)/dmarefwatch: $(LIVE_OBJS) $(CORE_OBJS)
	$(CC) -static $(CFLAGS) $^ $(LIBS) $(LIBDIR)/libncursesw.a $(LIBDIR)/libtinfo.a -o $@

$(OUT) $(OUT)/obj:
	mkdir -p $@

# Unit tests: the core compiled again with sanitizers, plus tests/unit/*.c.
UNIT_CFLAGS := -std=gnu11 $(WARN) -O1 -g -fsanitize=address,undefined \
	-fno-omit-frame-pointer -Isrc -Ibpf -Itests/unit
build/unit-tests: $(CORE_SRCS) $(wildcard tests/unit/*.c) $(HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p build
	$(CC) $(UNIT_CFLAGS) $(CORE_SRCS) $(wildcard tests/unit/*.c) -o $@

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

# The matrix needs the host build and the arm64 cross build (make ARCH=arm64)
check-matrix: all
	$(MAKE) ARCH=arm64 all
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
