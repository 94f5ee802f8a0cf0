# SPDX-License-Identifier: GPL-2.0-or-later
#
# splitnet: QEMU 10.0 + a head-copy paravirtual NIC.  ./configure sets up
# build/qemu-src and build/qemu-build; this Makefile drives QEMU's ninja
# build and the test suites.  `make help` lists the targets.

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
QSRC := $(BUILD)/qemu-src
QBUILD := $(BUILD)/qemu-build
PBUILD := $(BUILD)/project
NINJA ?= ninja
MESON ?= meson
V ?=

export CCACHE_DIR ?= $(HOME)/.cache/ccache

# What `make` builds in QEMU's tree; targets not (yet) defined are skipped.
QEMU_TARGETS := qemu-system-x86_64 tests/qtest/qos-test tests/qtest/splitnet-test \
                tests/qtest/splitnet-hub-test tests/qtest/netdev-sink-test \
                tests/qtest/splitnet-security-test tests/qtest/netdev-iov-test \
                tests/qtest/splitnet-offload-test tests/qtest/splitnet-mq-test \
                tests/unit/test-net-checksum

RUN_SUITE := $(TOP)/tests/run-suite.sh
QTEST_SUITE := '$(TOP)/scripts/qtest-tap.sh splitnet-test' \
               '$(TOP)/scripts/qtest-tap.sh splitnet-hub-test' \
               '$(TOP)/scripts/qtest-tap.sh netdev-sink-test' \
               '$(TOP)/scripts/qtest-tap.sh splitnet-security-test' \
               '$(TOP)/scripts/qtest-tap.sh netdev-iov-test' \
               '$(TOP)/scripts/qtest-tap.sh splitnet-offload-test' \
               '$(TOP)/scripts/qtest-tap.sh splitnet-mq-test' \
               '$(TOP)/scripts/qtest-tap.sh qos-test' \
               '$(TOP)/scripts/qtest-tap.sh test-net-checksum'
GUEST_SUITE := '$(TOP)/scripts/driver-build-tap.sh' '$(TOP)/tests/guest/run.sh'
STYLE_SUITE := '$(TOP)/scripts/checkpatch-tap.sh' '$(TOP)/scripts/structure-tap.sh' \
               '$(TOP)/scripts/abi-header-tap.sh' '$(TOP)/scripts/sparse-tap.sh'
SETUP_SUITE := '$(TOP)/tests/setup/run.sh'
# The qtests of QTEST_SUITE on the ASan + UBSan build (build/qemu-build-san).
SANITIZE_SUITE := $(foreach t,splitnet-test splitnet-hub-test netdev-sink-test \
                    splitnet-security-test netdev-iov-test splitnet-offload-test \
                    splitnet-mq-test qos-test test-net-checksum,'$(TOP)/scripts/sanitize-tap.sh $(t)')
FUZZ_SECONDS ?= 300
FUZZ_TARGET ?= generic-fuzz-splitnet
SOAK_SECONDS ?= 600

.PHONY: all build configure check check-qtest check-guest check-style check-setup \
        export-patches patch-series demo libvirt-demo clean distclean help bench \
        bench-callgrind check-fresh check-sanitize fuzz soak deb check-dkms \
        check-libvirt check-docs

all: build

# Re-run configure every time with the options it was first given: it is
# idempotent and quick when nothing changed, and it picks up new or removed
# files, edited patches and changed QEMU configure options.
configure:
	@if [ -x $(BUILD)/config.status ]; then \
	    $(BUILD)/config.status; \
	else \
	    $(TOP)/configure; \
	fi

build: configure
	@targets=""; \
	for t in $(QEMU_TARGETS); do \
	    if $(NINJA) -C $(QBUILD) -t query $$t >/dev/null 2>&1; then \
	        targets="$$targets $$t"; \
	    else \
	        echo "splitnet: note: QEMU build has no target $$t (yet)"; \
	    fi; \
	done; \
	echo "splitnet: ninja -C build/qemu-build$$targets"; \
	$(NINJA) -C $(QBUILD) $(if $(V),-v) $$targets
	@[ -f $(PBUILD)/build.ninja ] || \
	    $(MESON) setup $(PBUILD) $(TOP) >$(BUILD)/project-setup.log 2>&1 || \
	    { cat $(BUILD)/project-setup.log; exit 1; }
	@set -o pipefail; $(NINJA) -C $(PBUILD) $(if $(V),-v) | \
	    { grep -v '^ninja: no work to do' || true; }
	@$(TOP)/scripts/build-driver.sh

check: build
	@$(RUN_SUITE) $(SETUP_SUITE) $(QTEST_SUITE) $(GUEST_SUITE) $(STYLE_SUITE)

check-qtest: build
	@$(RUN_SUITE) $(QTEST_SUITE)

check-guest: build
	@if [ ! -x $(TOP)/tests/guest/run.sh ]; then \
	    echo "splitnet: error: tests/guest/run.sh does not exist (yet): no guest tests to run" >&2; \
	    exit 1; \
	fi
	@$(RUN_SUITE) $(GUEST_SUITE)

check-style: configure
	@$(RUN_SUITE) $(STYLE_SUITE)

# configure's dependency step (as a user other than root) and the ERR trap.
check-setup: configure
	@$(RUN_SUITE) $(SETUP_SUITE)

# The README's two commands in a clean Debian 12 root (debootstrap, chroot):
# long, so not part of `make check`.  Options: CHECK_FRESH_ARGS=--new-root ...
check-fresh:
	@$(TOP)/scripts/check-fresh.sh $(CHECK_FRESH_ARGS)

# splitnet's two rst pages with QEMU's Sphinx setup (--enable-docs, in
# build/qemu-build-docs); any Sphinx warning in them fails.  Prints the user
# page's sections.  Minutes the first time: not part of `make check`.
check-docs: configure
	@$(TOP)/scripts/check-docs.sh

# splitnet-dkms_VERSION_all.deb (debhelper + dh_dkms) in build/deb/.
deb:
	@$(TOP)/scripts/build-deb.sh >/dev/null

# That package in a clean Debian 12 root: DKMS builds and installs the driver
# for bookworm's 6.1 and bookworm-backports' 6.12 headers.  Minutes: not
# part of `make check`.  Options: CHECK_DKMS_ARGS=--new-root|--keep
check-dkms:
	@$(TOP)/scripts/check-dkms.sh $(CHECK_DKMS_ARGS)

# The splitnet qtests on QEMU built with clang, ASan and UBSan in its own
# build directory; any sanitizer report fails.  Long: not part of `make check`.
check-sanitize: configure
	@$(TOP)/scripts/build-variant.sh san $(filter-out qemu-system-x86_64,$(QEMU_TARGETS))
	@$(RUN_SUITE) $(SANITIZE_SUITE)

# A bounded libFuzzer campaign (ASan) on generic-fuzz-splitnet:
# make fuzz FUZZ_SECONDS=N (default 300); FUZZ_TARGET=splitnet-abi-fuzz
# for the ABI-aware target (tests/qtest/fuzz/splitnet_fuzz.c).
fuzz: configure
	@$(TOP)/scripts/build-variant.sh fuzz
	@$(TOP)/scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGET)

# Long guest tests, not part of `make check` (tests/guest/soak/): live
# migration during 256 MiB transfers, and SOAK_SECONDS (600) of traffic
# both ways through a stalling relay.  make soak SOAK_SECONDS=N.
soak: build
	@SOAK_SECONDS=$(SOAK_SECONDS) SUITE_TIMEOUT=$$(( $(SOAK_SECONDS) + 3600 )) \
	    $(RUN_SUITE) '$(TOP)/tests/guest/run.sh --soak'

# patches/ <- the commits on top of `upstream` in build/qemu-src.
export-patches:
	@$(TOP)/scripts/export-patches.sh

# build/patch-series/: overlay + patches as one series against the release.
patch-series: configure
	@$(TOP)/scripts/patch-series.sh

demo: build
	@if [ ! -x $(TOP)/scripts/demo.sh ]; then \
	    echo "splitnet: error: scripts/demo.sh does not exist (yet)" >&2; \
	    exit 1; \
	fi
	@$(TOP)/scripts/demo.sh

# A libvirt 11.3 domain (docs/libvirt/splitnet-domain.xml) on splitnet.
libvirt-demo: build
	@$(TOP)/scripts/libvirt-demo.sh

# The same as a test (TAP): XML validation, boot, DHCP + sha256 transfer,
# domxml-to-native, and <interface type='network'> on a NAT network in a
# network namespace of its own.  Not part of `make check`.
check-libvirt: build
	@$(TOP)/scripts/check-libvirt.sh

# Compare splitnet with virtio-net-pci, e1000e, e1000 and vmxnet3: TX and RX
# packet rates, exits per frame, TCP over slirp/tap/stream (as root; about
# 16 minutes): tests/bench/README.md.  Options through BENCH_ARGS, e.g.
# make bench BENCH_ARGS="--quick" or BENCH_ARGS="--phases tx,exits".
bench: build
	@$(TOP)/tests/bench/run.sh $(BENCH_ARGS)

# Host instructions per TX frame under callgrind (qtest-driven, deterministic):
# splitnet, e1000e and virtio-net-pci against the net layer's own cost.
# Not part of `make check`.  Options through BENCH_ARGS (--frames LO,HI ...).
bench-callgrind: build
	@$(TOP)/tests/bench/callgrind.sh $(BENCH_ARGS)

# Object files only; keeps the configured trees and the download cache.
clean:
	@if [ -f $(QBUILD)/build.ninja ]; then $(NINJA) -C $(QBUILD) clean; fi
	@if [ -f $(PBUILD)/build.ninja ]; then $(NINJA) -C $(PBUILD) clean; fi
	rm -rf $(BUILD)/test-logs $(BUILD)/patch-series

# Everything under build/ (downloads stay in ~/.cache/splitnet).
distclean:
	rm -rf $(BUILD)

help:
	@echo "make                 configure if needed, build QEMU + qtests"
	@echo "make check           check-setup + check-qtest + check-guest + check-style"
	@echo "make check-setup     configure's dependency check, the ERR trap (seconds)"
	@echo "make check-qtest     splitnet-test and qos-test's splitnet paths"
	@echo "make check-guest     boot guests on splitnet (tests/guest/run.sh)"
	@echo "make check-style     checkpatch (QEMU, Linux for guest/), shellcheck,"
	@echo "                     which device file calls which (scripts/structure-tap.sh),"
	@echo "                     ABI header copy up to date, sparse on the driver"
	@echo "make check-docs      splitnet's rst pages with QEMU's Sphinx (--enable-docs)"
	@echo "make check-fresh     the README's commands in a clean Debian 12 root"
	@echo "make check-dkms      the splitnet-dkms .deb on 6.1 and 6.12 in a clean root"
	@echo "make check-libvirt   libvirt: validate, boot, traffic, NAT network (TAP)"
	@echo "make check-sanitize  the splitnet qtests under clang ASan + UBSan"
	@echo "make soak            long guest tests: migration mid-256 MiB, SOAK_SECONDS=600"
	@echo "                     of traffic both ways through a stalling relay"
	@echo "make fuzz            libFuzzer on generic-fuzz-splitnet (FUZZ_SECONDS=300,"
	@echo "                     FUZZ_TARGET=splitnet-abi-fuzz: the ABI-aware one)"
	@echo "make deb             build/deb/splitnet-dkms_VERSION_all.deb (DKMS)"
	@echo "make export-patches  patches/ <- commits on upstream in build/qemu-src"
	@echo "make patch-series    build/patch-series/: the whole series vs. QEMU"
	@echo "make bench           NIC comparison in guests (tests/bench/README.md)"
	@echo "make bench-callgrind host instructions per TX (and RX) frame under callgrind"
	@echo "make demo            boot a guest on splitnet (scripts/demo.sh)"
	@echo "make libvirt-demo    the same under libvirt 11.3 (docs/libvirt/)"
	@echo "make clean | distclean"
