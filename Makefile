# heaptool: one build for libhm (runtime), libheapdump (reader + analyses), the heaptool CLI,
# the samples, the tests and the benchmarks. GNU Make; `make help` lists the targets.

PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := 0.1.0
CC       ?= cc
SANITIZE ?=

# A sanitized build lives beside the normal one so the two never mix objects.
BUILD    := build$(if $(SANITIZE),-san)

# libhm's tracing records call stacks with libunwind and names their frames with libdw
# (src/common/code_names.c, shared with the recorder).
PKGS     := libcjson libgvc zlib libdw libunwind
# heaptool query and export (src/query/): SQLite, and libedit for the interactive prompt.
QUERY_PKGS := sqlite3 libedit
# Recursive (=) on purpose: pkg-config runs when a recipe needs the flags, i.e. after `deps`.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(QUERY_PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
QUERY_LIBS = $(shell pkg-config --libs $(QUERY_PKGS) 2>/dev/null)
CRIT_CFLAGS = $(shell pkg-config --cflags criterion 2>/dev/null)
CRIT_LIBS   = $(shell pkg-config --libs criterion 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wwrite-strings -Wformat=2 -Wundef -Wcast-qual -Wvla \
            -Wnull-dereference -Wimplicit-fallthrough
OPT      ?= -O2 -g
CFLAGS   ?=
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fPIC -MMD -MP -Iinclude -Isrc \
              -DHT_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
ifneq ($(SANITIZE),)
BASE_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN    := -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(LDSAN) $(PKG_LIBS) -lm -lpthread

# The binary index's checksum and section table (src/common/hdx_format.c) is libheapdump's too.
DUMP_SRC    := $(wildcard src/dump/*.c) src/common/hdx_format.c
# The HTML report (src/report/) is part of libheapdump; its page, style and script are inlined
# as C strings at build time, with the script's hash for the page's Content-Security-Policy.
REPORT_SRC  := $(wildcard src/report/*.c)
REPORT_PAGE := src/report/page.html src/report/page.css src/report/page.js
REPORT_ASSETS := $(BUILD)/src/report/assets.c
# Code that libhm and the native recorder share (each builds its own copy, with its own flags).
COMMON_SRC  := $(wildcard src/common/*.c)
RUNTIME_SRC := $(wildcard src/runtime/*.c) $(COMMON_SRC)
CLI_SRC     := $(wildcard cli/*.c)
RECORD_SRC  := $(wildcard src/record/*.c) $(COMMON_SRC)
QUERY_SRC   := $(wildcard src/query/*.c)
TEST_SRC    := $(wildcard tests/test_*.c)
SAMPLE_SRC  := $(wildcard samples/programs/*.c)
BENCH_SRC   := $(wildcard tests/bench/*.c)

DUMP_OBJ    := $(DUMP_SRC:%.c=$(BUILD)/%.o) $(REPORT_SRC:%.c=$(BUILD)/%.o) $(REPORT_ASSETS:%.c=%.o)
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/%.o)
# The CLI links the query layer with it: libheapdump itself does not need SQLite.
CLI_OBJ     := $(CLI_SRC:%.c=$(BUILD)/%.o) $(QUERY_SRC:%.c=$(BUILD)/%.o)
# Every command without main(): what the CLI fuzzer links.
CLI_CMD_OBJ := $(filter-out $(BUILD)/cli/heaptool.o,$(CLI_OBJ))

LIBHD    := $(BUILD)/libheapdump.a
LIBHM    := $(BUILD)/libhm.a
# The native recorder, preloaded into any program (heaptool record). Never sanitized: a sanitizer's
# runtime cannot be preloaded beside the program's own allocator.
RECORDER := $(BUILD)/libheaptool-record.so
RECORD_OBJ := $(RECORD_SRC:%.c=$(BUILD)/record-obj/%.o)
RECORD_PKGS := libdw libunwind zlib
RECORD_CFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fPIC -MMD -MP -Iinclude -Isrc \
                -DHT_VERSION='"$(VERSION)"' -fvisibility=hidden -ftls-model=initial-exec \
                $(shell pkg-config --cflags $(RECORD_PKGS) 2>/dev/null) $(CFLAGS)
RECORD_LIBS = $(shell pkg-config --libs $(RECORD_PKGS) 2>/dev/null) -ldl -lpthread
# Small C programs the recorder's tests run (tests/record/*.c), built plain: no libhm, no sanitizer.
RECORD_TEST_SRC := $(wildcard tests/record/*.c)
RECORD_TESTS := $(RECORD_TEST_SRC:tests/record/%.c=$(BUILD)/record-tests/%)
HEAPTOOL := $(BUILD)/heaptool
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
SAMPLES  := $(SAMPLE_SRC:samples/programs/%.c=$(BUILD)/samples/%)
BENCHES  := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c); `make test` replays their kept inputs.
FUZZERS  := reader cli v8 binary
REPLAYS  := $(FUZZERS:%=$(BUILD)/fuzz/replay_%)

.SECONDARY:
.PHONY: FORCE all deps test check-tests check check-asan check-valgrind fuzz fuzz-run demo bench bench-build install uninstall clean help
.DEFAULT_GOAL := all

all: $(HEAPTOOL) $(LIBHD) $(LIBHM) $(SAMPLES) $(RECORDER)

help:
	@echo "targets: all test check fuzz demo bench install uninstall clean   (SANITIZE=address,undefined, PREFIX=, DESTDIR=)"

deps:
	@tests/ensure-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(REPORT_ASSETS): $(REPORT_PAGE) src/report/inline_assets.py
	@mkdir -p $(dir $@)
	python3 src/report/inline_assets.py $(REPORT_PAGE) $@
$(REPORT_ASSETS:%.c=%.o): $(REPORT_ASSETS)
	@$(CC) $(ALL_CFLAGS) -Isrc/report -c $< -o $@

$(LIBHD): $(DUMP_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBHM): $(RUNTIME_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/record-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(RECORD_CFLAGS) -c $< -o $@

$(RECORDER): $(RECORD_OBJ)
	$(CC) -shared -o $@ $^ $(RECORD_LIBS)

$(BUILD)/record-tests/%: tests/record/%.c include/heaptool_record.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Iinclude -o $@ $< -lpthread -ldl

# Where `make install` puts the recorder and the format documents the help names, compiled into
# the two files that use them; the stamp changes only when they do, so a new PREFIX or DOCDIR
# rebuilds those files and nothing else.
INSTALL_PATHS := $(BUILD)/install-paths
$(INSTALL_PATHS): FORCE
	@mkdir -p $(dir $@)
	@echo '$(PREFIX)/lib $(DOCDIR)' | cmp -s - $@ || echo '$(PREFIX)/lib $(DOCDIR)' >$@
FORCE:
$(BUILD)/cli/cmd_record.o: ALL_CFLAGS += -DHT_LIBDIR='"$(PREFIX)/lib"'
$(BUILD)/cli/main.o: ALL_CFLAGS += -DHT_DOCDIR='"$(DOCDIR)"'
$(BUILD)/cli/cmd_record.o $(BUILD)/cli/main.o: $(INSTALL_PATHS)

$(HEAPTOOL): $(CLI_OBJ) $(LIBHD)
	$(CC) $(LDSAN) -o $@ $(CLI_OBJ) $(LIBHD) $(LDLIBS_ALL) $(QUERY_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIBHM) $(LIBHD)
	$(CC) $(LDSAN) -o $@ $< $(LIBHM) $(LIBHD) $(CRIT_LIBS) $(LDLIBS_ALL)
$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(CRIT_CFLAGS) -c $< -o $@

# The fuzz harnesses with a plain main() (tests/fuzz/replay.c) instead of libFuzzer's.
$(BUILD)/tests/fuzz/fuzz_cli.o: ALL_CFLAGS += -Icli -DFUZZ_SAMPLES='"$(CURDIR)/samples/dumps"'
$(BUILD)/fuzz/replay_reader: $(BUILD)/tests/fuzz/fuzz_reader.o $(BUILD)/tests/fuzz/replay.o $(LIBHD)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS_ALL)
$(BUILD)/fuzz/replay_cli: $(BUILD)/tests/fuzz/fuzz_cli.o $(BUILD)/tests/fuzz/replay.o $(CLI_CMD_OBJ) $(LIBHD)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS_ALL) $(QUERY_LIBS)

$(BUILD)/fuzz/replay_v8: $(BUILD)/tests/fuzz/fuzz_v8.o $(BUILD)/tests/fuzz/replay.o $(LIBHD)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/fuzz/replay_binary: $(BUILD)/tests/fuzz/fuzz_binary.o $(BUILD)/tests/fuzz/replay.o $(LIBHD)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/samples/%: $(BUILD)/samples/programs/%.o $(LIBHM) $(LIBHD)
	$(CC) $(LDSAN) -o $@ $< $(LIBHM) $(LIBHD) $(LDLIBS_ALL)

$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(LIBHM) $(LIBHD)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $< $(LIBHM) $(LIBHD) $(LDLIBS_ALL)

# The pkg-config file names the prefix it is installed under, so it is written at install time.
define PCFILE
prefix=$(PREFIX)
libdir=$${prefix}/lib
includedir=$${prefix}/include

Name: heaptool
Description: libhm runtime and libheapdump heap-dump reader
Version: $(VERSION)
Requires: $(PKGS)
Libs: -L$${libdir} -lheapdump -lhm
Cflags: -I$${includedir}
endef
export PCFILE

# Graphviz's font stack (fontconfig, pango, cairo, glib) keeps caches for the process's life;
# LeakSanitizer is told about those libraries only, so our leaks and libgvc's still count.
export LSAN_OPTIONS ?= suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
# ASan's slow unwinder is asked for only by what lays graphs out: see tests/lsan.supp.

# `make test` first makes sure the Debian packages are there, then builds and runs everything.
test: deps
	@$(MAKE) --no-print-directory check-tests

check-tests: all $(TESTS) $(REPLAYS) $(RECORD_TESTS) $(BUILD)/bench/gen_binary
	@set -e; for t in $(TESTS); do echo "== $$t"; tests/run-suite.sh $$t; done
	@set -e; for f in $(FUZZERS); do echo "== fuzz inputs kept for $$f"; \
	  tests/fuzz/replay.sh $(BUILD)/fuzz/replay_$$f tests/fuzz/regressions/$$f tests/fuzz/seeds/$$f; done
	@HEAPTOOL=$(HEAPTOOL) BUILD=$(BUILD) DOCDIR=$(DOCDIR) tests/cli/run.sh
	@echo "== tests/record/run.sh" && HEAPTOOL=$(HEAPTOOL) BUILD=$(BUILD) tests/record/run.sh
	@echo "== tests/record/leaks_vs_valgrind.py" && \
	  python3 tests/record/leaks_vs_valgrind.py $(HEAPTOOL) $(RECORDER) $(BUILD)/record-tests/shapes
	@echo "== tests/python/test_heapdump_export.py" && HEAPTOOL=$(HEAPTOOL) python3 tests/python/test_heapdump_export.py
	@echo "== tests/install_check.sh" && BUILD=$(BUILD) SANITIZE=$(SANITIZE) CC="$(CC)" MAKE="$(MAKE)" tests/install_check.sh
	@echo "== tests/python/test_query.py" && HEAPTOOL=$(HEAPTOOL) python3 tests/python/test_query.py
	@echo "== tests/duckdb/run.sh" && HEAPTOOL=$(HEAPTOOL) tests/duckdb/run.sh
	@echo "== tests/readme_examples.py" && CC="$(CC)" BUILD=$(BUILD) LDLIBS="$(LDLIBS_ALL)" HEAPTOOL=$(HEAPTOOL) \
	  python3 tests/readme_examples.py

# make check: the whole suite under ASan+UBSan and, side by side with it (each line labelled
# asan| or valgrind|; both are mostly one process at a time), every CLI golden case and every
# sample program under valgrind. The index oracle draws fewer random dumps under ASan and does
# not run under valgrind, and neither runs its damaged copies (make test runs them all; under
# ASan test_binary refuses every cut and changed byte, and fuzz_binary reseals checksums).
check:
	@tests/ensure-deps.sh valgrind
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -j2 check-asan check-valgrind

check-asan:
	@INDEX_DUMPS=10 INDEX_DAMAGE=0 tests/labelled.sh asan $(MAKE) --no-print-directory SANITIZE=address,undefined test

check-valgrind:
	@ORACLE_DUMPS=15 INDEX_ORACLE=0 INDEX_DAMAGE=0 HEAPTOOL=tests/valgrind-heaptool.sh SAMPLE_RUN="$(CURDIR)/tests/valgrind-run.sh" \
	  DOCDIR=$(DOCDIR) tests/labelled.sh valgrind tests/cli/run.sh

# make fuzz: each libFuzzer harness (clang) for FUZZ_SECONDS, on a corpus in build-fuzz/ seeded
# with the sample dumps (reader), the V8 snapshots of tests/data/v8 and tests/fuzz/seeds/v8 (v8),
# tests/fuzz/seeds/cli (cli) or the sample dumps' indexes in tests/fuzz/seeds/binary (binary);
# first each replays the inputs kept in tests/fuzz/regressions/.
# A crash stops it and leaves the input in build-fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -O1 -g $(WARN) -Iinclude -Isrc -Icli -DHT_VERSION='"$(VERSION)"' \
             -DHT_DOCDIR='"$(DOCDIR)"' \
             $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz:
	@tests/ensure-deps.sh clang libclang-rt-dev
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: $(REPORT_ASSETS)
	@mkdir -p build-fuzz/corpus/reader build-fuzz/corpus/cli build-fuzz/corpus/v8 build-fuzz/corpus/binary
	clang $(FUZZ_FLAGS) tests/fuzz/fuzz_reader.c $(DUMP_SRC) -o build-fuzz/fuzz_reader $(PKG_LIBS) -lm -lpthread
	clang $(FUZZ_FLAGS) tests/fuzz/fuzz_v8.c $(DUMP_SRC) -o build-fuzz/fuzz_v8 $(PKG_LIBS) -lm -lpthread
	clang $(FUZZ_FLAGS) tests/fuzz/fuzz_binary.c $(DUMP_SRC) -o build-fuzz/fuzz_binary $(PKG_LIBS) -lm -lpthread
	clang $(FUZZ_FLAGS) -DFUZZ_SAMPLES='"$(CURDIR)/samples/dumps"' tests/fuzz/fuzz_cli.c \
	  -Isrc/report $(filter-out cli/heaptool.c,$(CLI_SRC)) $(QUERY_SRC) $(DUMP_SRC) $(REPORT_SRC) $(REPORT_ASSETS) \
	  -o build-fuzz/fuzz_cli $(PKG_LIBS) $(QUERY_LIBS) -lm -lpthread
	@cp samples/dumps/*.json build-fuzz/corpus/reader/
	@for f in tests/data/*.json; do cp "$$f" "build-fuzz/corpus/reader/data-$${f##*/}"; done
	@cp tests/data/v8/*.heapsnapshot tests/fuzz/seeds/v8/*.heapsnapshot build-fuzz/corpus/v8/
	@cp tests/fuzz/seeds/cli/* build-fuzz/corpus/cli/
	@cp tests/fuzz/seeds/binary/* build-fuzz/corpus/binary/
	@set -e; for f in $(FUZZERS); do if ls tests/fuzz/regressions/$$f/* >/dev/null 2>&1; then \
	  build-fuzz/fuzz_$$f tests/fuzz/regressions/$$f/*; fi; done
	build-fuzz/fuzz_reader -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	  -dict=tests/fuzz/heapdump.dict -artifact_prefix=$(CURDIR)/build-fuzz/reader- build-fuzz/corpus/reader
	build-fuzz/fuzz_v8 -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	  -dict=tests/fuzz/heapsnapshot.dict -artifact_prefix=$(CURDIR)/build-fuzz/v8- build-fuzz/corpus/v8
	build-fuzz/fuzz_binary -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	  -artifact_prefix=$(CURDIR)/build-fuzz/binary- build-fuzz/corpus/binary
	build-fuzz/fuzz_cli -max_total_time=$(FUZZ_SECONDS) -max_len=1024 -timeout=10 -close_fd_mask=2 \
	  -dict=tests/fuzz/cli.dict -artifact_prefix=$(CURDIR)/build-fuzz/cli- $(CURDIR)/build-fuzz/corpus/cli

demo: deps
	@$(MAKE) --no-print-directory all
	@HEAPTOOL=$(HEAPTOOL) BUILD=$(BUILD) samples/demo.sh

# Benchmarks time a release build of their own (asserts off), never objects left by a debug build.
BENCH_BUILD := build-bench
bench: deps
	@$(MAKE) --no-print-directory BUILD=$(BENCH_BUILD) OPT='-O2 -g -DNDEBUG' bench-build
	@HEAPTOOL=$(BENCH_BUILD)/heaptool BUILD=$(BENCH_BUILD) tests/bench/run.sh

bench-build: all $(BENCHES) $(RECORD_TESTS)

# The format documents heaptool --help names go to DOCDIR/formats/, the path the help gives.
DOCDIR   ?= $(PREFIX)/share/doc/heaptool
FORMAT_DOCS := formats/heapdump.md formats/heapdump-v1.schema.json formats/v8-heapsnapshot.md

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	           $(DESTDIR)$(DOCDIR)/formats
	install -m 755 $(HEAPTOOL) $(DESTDIR)$(PREFIX)/bin/heaptool
	install -m 755 formats/heapdump_export.py $(DESTDIR)$(PREFIX)/bin/heapdump-export
	install -m 644 $(LIBHD) $(LIBHM) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(RECORDER) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(FORMAT_DOCS) $(DESTDIR)$(DOCDIR)/formats/
	echo "$$PCFILE" > $(DESTDIR)$(PREFIX)/lib/pkgconfig/heaptool.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/heaptool $(DESTDIR)$(PREFIX)/bin/heapdump-export \
	      $(DESTDIR)$(PREFIX)/lib/libheapdump.a \
	      $(DESTDIR)$(PREFIX)/lib/libhm.a $(DESTDIR)$(PREFIX)/lib/pkgconfig/heaptool.pc \
	      $(DESTDIR)$(PREFIX)/lib/libheaptool-record.so
	cd include && for h in *.h; do rm -f $(DESTDIR)$(PREFIX)/include/$$h; done
	for f in $(notdir $(FORMAT_DOCS)); do rm -f $(DESTDIR)$(DOCDIR)/formats/$$f; done
	-rmdir $(DESTDIR)$(DOCDIR)/formats $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build build-san build-fuzz build-bench

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
