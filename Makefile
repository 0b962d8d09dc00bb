# warden: a supervisor daemon. See README.md; `make V=1` shows commands.

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
CFLAGS	?= -O2 -g
# O is where objects and binaries go (make sanitize uses its own).
O	?= .

PKGS		:= libevent jansson
PKG_CFLAGS	 = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	 = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS	 = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS	 = $(shell pkg-config --libs check 2>/dev/null)

WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
BASE_CFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -Isrc -Iinclude $(PKG_CFLAGS) $(CFLAGS)
ALL_CFLAGS = $(BASE_CFLAGS) -MMD -MP

ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2)
endif

BIN	:= $(O)/bin
OBJ	:= $(O)/build

# src/ holds one file per concept. The daemon's main is warden.c; wardenctl's
# files are wardenctl*.c; everything else goes into a core archive that the
# daemon, wardenctl and the unit tests link against.
MAIN_SRCS	:= src/warden.c src/demo-worker.c
CTL_SRCS	:= $(wildcard src/wardenctl*.c)
CORE_SRCS	:= $(filter-out $(MAIN_SRCS) $(CTL_SRCS),$(wildcard src/*.c))
CORE_OBJS	:= $(CORE_SRCS:src/%.c=$(OBJ)/%.o)
CTL_OBJS	:= $(CTL_SRCS:src/%.c=$(OBJ)/%.o)
CORE_LIB	:= $(OBJ)/libwardencore.a

TEST_SRCS	:= $(wildcard tests/check_*.c)
TEST_BINS	:= $(TEST_SRCS:tests/%.c=$(BIN)/tests/%)
TEST_HELPERS	:= $(filter-out $(TEST_SRCS),$(wildcard tests/*.c))
TEST_HELPER_OBJS := $(TEST_HELPERS:tests/%.c=$(OBJ)/tests/%.o)
WORKER_SRCS	:= $(wildcard tests/workers/*.c)
WORKER_BINS	:= $(WORKER_SRCS:tests/workers/%.c=$(BIN)/tests/%)

PROGS	:= $(BIN)/warden $(BIN)/wardenctl $(BIN)/demo-worker

# libwarden: the flag reader library (include/warden.h), static and shared.
LIBDIR		:= $(O)/lib
LIBWARDEN_SRCS	:= src/libwarden.c src/murmur3.c
LIBWARDEN_SOVER	:= 0
LIBS_OUT	:= $(LIBDIR)/libwarden.a $(LIBDIR)/libwarden.so.$(LIBWARDEN_SOVER) \
		   $(LIBDIR)/libwarden.so $(LIBDIR)/warden.pc

.PHONY: all check run sanitize clean deps test-programs lint-man bench bench-programs
all: $(PROGS) $(LIBS_OUT)

deps:
	$(Q)scripts/deps

$(OBJ)/%.o: src/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJ)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBDIR)/libwarden.a: $(LIBWARDEN_SRCS:src/%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OBJ)/pic/%.o: src/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(LIBDIR)/libwarden.so.$(LIBWARDEN_SOVER): $(LIBWARDEN_SRCS:src/%.c=$(OBJ)/pic/%.o) src/libwarden.map
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libwarden.so.$(LIBWARDEN_SOVER) \
	    -Wl,--version-script=src/libwarden.map -o $@ $(filter %.o,$^)

$(LIBDIR)/libwarden.so: $(LIBDIR)/libwarden.so.$(LIBWARDEN_SOVER)
	$(Q)ln -sf libwarden.so.$(LIBWARDEN_SOVER) $@

$(LIBDIR)/warden.pc: Makefile
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' \
	    'libdir=$${prefix}/lib' '' 'Name: warden' \
	    'Description: reads warden'"'"'s feature flags and stages from its shared table' \
	    'Version: $(shell sed -n "s/.*WARDEN_VERSION.*\"\(.*\)\"/\1/p" src/version.h)' \
	    'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lwarden' > $@

$(BIN)/warden: $(OBJ)/warden.o $(CORE_LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BIN)/wardenctl: $(CTL_OBJS) $(CORE_LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BIN)/demo-worker: $(OBJ)/demo-worker.o $(CORE_LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BIN)/tests/check_%: $(OBJ)/tests/check_%.o $(TEST_HELPER_OBJS) $(CORE_LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS) -lm

# A worker that reads the table as any worker would: through libwarden.
$(BIN)/tests/flag-reader: tests/workers/flag-reader.c $(LIBDIR)/libwarden.a
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBDIR)/libwarden.a

$(BIN)/tests/%: tests/workers/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $<

test-programs: $(PROGS) $(LIBS_OUT) $(TEST_BINS) $(WORKER_BINS)

# Each suite runs in fork mode; the last line counts suites for CI.
check: deps
	$(Q)$(MAKE) --no-print-directory test-programs
	$(Q)WARDEN_BIN_DIR=$(abspath $(BIN)) scripts/run-tests $(TEST_BINS)
	$(Q)$(MAKE) --no-print-directory lint-man

lint-man:
	$(Q)if command -v mandoc >/dev/null 2>&1; then \
		for m in man/*.[0-9]; do [ -e "$$m" ] || continue; \
		mandoc -Tlint -W warning "$$m" || exit 1; done; \
		echo "  man pages: mandoc -Tlint clean"; \
	else echo "mandoc not installed: man pages not checked" >&2; exit 1; fi

run: deps all
	$(Q)mkdir -p run state
	$(Q)echo "warden: socket run/warden.sock; in another terminal: export WARDEN_SOCKET=$$PWD/run/warden.sock PATH=$$PWD/bin:\$$PATH"
	$(Q)exec $(BIN)/warden -c conf/warden.json

# The whole suite again, built with AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps
	$(Q)$(MAKE) --no-print-directory O=build/sanitize \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" test-programs
	$(Q)ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    WARDEN_BIN_DIR=$(abspath build/sanitize/bin) scripts/run-tests $(TEST_BINS:$(BIN)/%=build/sanitize/bin/%)

BENCH_BINS	:= $(BIN)/bench/bench-worker $(BIN)/bench/respawn $(BIN)/bench/bench-restart \
		   $(BIN)/bench/bench-flagread

$(BIN)/bench/bench-flagread: bench/flagread.c $(CORE_LIB)
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

$(BIN)/bench/bench-restart: bench/restart.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $<

$(BIN)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $<

bench-programs: $(PROGS) $(BENCH_BINS)

# Benchmarks print their figures side by side with the floor; nothing here asserts a time.
bench: deps
	$(Q)$(MAKE) --no-print-directory bench-programs
	$(Q)$(BIN)/bench/bench-restart -n $${KILLS:-1000}
	$(Q)echo
	$(Q)$(BIN)/bench/bench-flagread
	$(Q)echo
	$(Q)$(BIN)/bench/bench-flagread -w -t 2

clean:
	$(call say,CLEAN,.)
	$(Q)rm -rf build bin lib run state

-include tests/fuzz/fuzz.mk

.SECONDARY:

-include $(CORE_OBJS:.o=.d) $(CTL_OBJS:.o=.d) $(OBJ)/warden.d $(OBJ)/demo-worker.d
