# SPDX-License-Identifier: MIT
# tools/local.mk - the memledger command; included by Makefile.am after
# tools/formats.mk (whose MLR_FORMAT_SOURCES are linked in).  The command runs
# outside the target process: it may use stdio, malloc, libdw and libstdc++
# (for __cxa_demangle only).
bin_PROGRAMS = memledger
MLR_CORE_SOURCES = tools/report.h tools/report_priv.h tools/report_read.c tools/report_util.c
# The library's option code (src/options.c and what it needs, src/fmt.c) is
# compiled in: `memledger dump` reads a process's MEMLEDGER_* variables with
# the very grammar the library used (tools/libopts.c).
MLT_LIBOPTS_SOURCES = tools/libopts.c tools/libopts.h src/options.c src/fmt.c \
	src/prim_conf.c
memledger_SOURCES = tools/memledger.c tools/cmd_common.c tools/cmd_common.h \
	tools/cmd_report.c tools/cmd_diff.c tools/cmd_trend.c tools/cmd_dump.c tools/cmd_run.c \
	$(MLR_CORE_SOURCES) $(MLT_LIBOPTS_SOURCES) \
	tools/report_symbolize.c tools/report_build.c tools/report_text.c \
	tools/report_json.c tools/report_folded.c tools/report_diff.c tools/report_trim.c \
	tools/report_junit.c tools/report_sarif.c tools/report_trend.c tools/report_trend_html.c \
	$(MLR_FORMAT_SOURCES)
memledger_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_srcdir)/tools \
	-DMLR_LIBDIR='"$(libdir)"' -DMLR_VERSION='"$(PACKAGE_VERSION)"'
# The command is an ordinary program: default visibility and TLS model.
memledger_CFLAGS = $(AM_CFLAGS) -fvisibility=default -ftls-model=global-dynamic $(LIBDW_CFLAGS) $(ZLIB_CFLAGS)
memledger_LDADD = $(LIBDW_LIBS) $(ZLIB_LIBS) $(MLR_FORMAT_LIBS) -lstdc++
man_MANS = tools/memledger.1
EXTRA_DIST += tools/memledger.1 tools/fuzz_read.c doc/report-json.md \
	doc/memledger-command.md tools/memledger.bash-completion

# The bash completion, installed under the command's name (bash-completion
# loads <completionsdir>/<command> on first use); configure picks the
# directory (--with-bash-completion-dir).
if ML_BASH_COMPLETION
bashcompletiondir = $(BASH_COMPLETION_DIR)
bashcompletion_DATA = tools/bash-completion/memledger
endif
tools/bash-completion/memledger: $(srcdir)/tools/memledger.bash-completion
	$(AM_V_GEN)$(MKDIR_P) tools/bash-completion && cp $(srcdir)/tools/memledger.bash-completion $@
CLEANFILES += tools/bash-completion/memledger

# ---- tests ---------------------------------------------------------------
# TAP scripts over the built command; golden dumps and expected outputs in
# tests/data/ (module paths there do not exist: output is machine-independent).
TOOLS_TESTS = tests/tools/golden.sh tests/tools/bad_input.sh \
	tests/tools/run.sh tests/tools/dump_live.sh tests/tools/dump_signals.sh tests/tools/run_tree.sh \
	tests/tools/dump_redis.sh tests/tools/dump_wrap.sh tests/tools/dump_ns.sh \
	tests/tools/diff.sh tests/tools/diff_time.sh tests/tools/trim.sh tests/tools/ci_formats.sh \
	tests/tools/completion.sh \
	tests/tools/clean_programs.sh tests/tools/symbolize.sh \
	tests/tools/symbolize_clang.sh tests/tools/symbolize_changed.sh \
	tests/tools/hostile.sh tests/tools/big.sh tests/tools/stream.sh tests/tools/lsan_supp.sh \
	tests/tools/resources.sh tests/tools/res_real.sh
TESTS += $(TOOLS_TESTS)
check_PROGRAMS += tests/tools/prog_wait tests/tools/prog_grow \
	tests/tools/prog_clean_c tests/tools/prog_clean_cxx tests/tools/prog_wrappers \
	tests/tools/prog_wrap_wait tests/tools/prog_res_leak
# the link-time flavour, as examples/wrap links it
tests_tools_prog_wrap_wait_SOURCES = tests/tools/prog_wrap_wait.c
tests_tools_prog_wrap_wait_CFLAGS = $(IT_CFLAGS)
tests_tools_prog_wrap_wait_LDFLAGS = $(ML_WRAP_FLAGS)
tests_tools_prog_wrap_wait_LDADD = libmemledger-wrap.la
tests_tools_prog_wait_SOURCES = tests/tools/prog_wait.c
tests_tools_prog_wait_CFLAGS = $(IT_CFLAGS)
tests_tools_prog_grow_SOURCES = tests/tools/prog_grow.c
tests_tools_prog_grow_CFLAGS = $(IT_CFLAGS)
tests_tools_prog_res_leak_SOURCES = tests/tools/prog_res_leak.c
tests_tools_prog_res_leak_CFLAGS = $(IT_CFLAGS)
tests_tools_prog_res_leak_LDADD = -lpthread $(DL_LIBS)
tests_tools_prog_wrappers_SOURCES = tests/tools/prog_wrappers.c
tests_tools_prog_wrappers_CFLAGS = $(IT_CFLAGS)
tests_tools_prog_clean_c_SOURCES = tests/tools/prog_clean_c.c
tests_tools_prog_clean_c_CFLAGS = $(IT_CFLAGS)
tests_tools_prog_clean_cxx_SOURCES = tests/tools/prog_clean_cxx.cc
tests_tools_prog_clean_cxx_CXXFLAGS = $(IT_CXXFLAGS)
EXTRA_DIST += $(TOOLS_TESTS) tests/tools/lib_tools.sh tests/tools/gen_dump.py \
	tests/tools/sym_leak.c tests/tools/sym_main.c tests/data

# ---- fuzzing (not part of make check) --------------------------------------
# make fuzz: build tools/fuzz_read with clang's libFuzzer (Debian:
# libclang-rt-14-dev) and run it for FUZZ_SECONDS over a corpus seeded from
# tests/data/*.dump.
FUZZ_CC = clang
FUZZ_SECONDS = 60
tools/fuzz_read$(EXEEXT): $(srcdir)/tools/fuzz_read.c $(srcdir)/tools/report_read.c \
		$(srcdir)/tools/report.h $(srcdir)/tools/report_priv.h
	$(AM_V_CC)$(FUZZ_CC) -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	  -I$(srcdir)/tools $(srcdir)/tools/fuzz_read.c $(srcdir)/tools/report_read.c -lz -o $@ || \
	  { echo "make fuzz: '$(FUZZ_CC) -fsanitize=fuzzer' does not work (Debian: apt-get install libclang-rt-14-dev)"; exit 1; }
fuzz: tools/fuzz_read$(EXEEXT)
	@mkdir -p fuzz-corpus fuzz-artifacts
	@cp $(srcdir)/tests/data/*.dump fuzz-corpus/ 2>/dev/null || true
	./tools/fuzz_read -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	  -artifact_prefix=fuzz-artifacts/ fuzz-corpus
.PHONY: fuzz
CLEANFILES += tools/fuzz_read$(EXEEXT)
