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
BASE_CFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE $(PKG_CFLAGS) $(CFLAGS)
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

# src/ has a room per role; each sees only the rooms below it, by its
# include path (README.md, "Hacking"; `make lint-layers` checks the links):
#	common/	helpers of every program: util, log, murmur3, version
#	proto/	what the daemon shares with clients and readers (headers)
#	core/	pure logic: config, restart decisions, flags, the journal,
#		drills; no event loop, socket, fork or wait
#	daemon/	warden itself: the loop, the tree, the socket, the table
#	ctl/	wardenctl		lib/	libwarden	demo/	demo-worker
# Each room's objects go into an archive; a program links the rooms it uses.
ROOMS		:= common core daemon ctl
INC_common	:= -Isrc/common
INC_proto	:= -Isrc/proto $(INC_common)
INC_core	:= -Isrc/core $(INC_proto)
INC_daemon	:= -Isrc/daemon $(INC_core)
INC_ctl		:= -Isrc/ctl $(INC_core) -Iinclude
INC_lib		:= -Isrc/lib -Isrc/proto -Isrc/common -Iinclude
INC_demo	:= -Isrc/demo $(INC_common) -Iinclude
INC_tests	:= -Itests $(INC_daemon) -Isrc/lib -Iinclude
room_srcs	 = $(filter-out src/daemon/warden.c,$(wildcard src/$(1)/*.c))
room_lib	 = $(OBJ)/libwarden$(1).a
COMMON_LIB	:= $(call room_lib,common)
CORE_LIB	:= $(call room_lib,core)
DAEMON_LIB	:= $(call room_lib,daemon)
CTL_LIB		:= $(call room_lib,ctl)
# What each program links, the lowest room last.
DAEMON_LIBS	:= $(DAEMON_LIB) $(CORE_LIB) $(COMMON_LIB)
CTL_LIBS	 = $(CTL_LIB) $(CORE_LIB) $(LIB)/libwarden.a $(COMMON_LIB)
# Everything a test or fuzz target may call: the daemon's rooms and the
# reader library.
ALL_SRCS	:= $(foreach r,common core daemon,$(call room_srcs,$(r))) \
		   $(wildcard src/lib/*.c)

TEST_SRCS	:= $(wildcard tests/check_*.c)
TEST_BINS	:= $(TEST_SRCS:tests/%.c=$(BIN)/tests/%)
TEST_HELPERS	:= $(filter-out $(TEST_SRCS),$(wildcard tests/*.c))
TEST_HELPER_OBJS := $(TEST_HELPERS:tests/%.c=$(OBJ)/tests/%.o)
WORKER_SRCS	:= $(wildcard tests/workers/*.c)
WORKER_BINS	:= $(WORKER_SRCS:tests/workers/%.c=$(BIN)/tests/%)

PROGS	:= $(BIN)/warden $(BIN)/wardenctl $(BIN)/demo-worker $(BIN)/demo-flagwatch

# libwarden: the flag reader library (include/warden.h), static and shared,
# built in LIB (LIBDIR is where `make install` puts it).
LIB		:= $(O)/lib
LIBWARDEN_SRCS	:= $(wildcard src/lib/*.c) src/common/murmur3.c
LIBWARDEN_SOVER	:= 0
LIBS_OUT	:= $(LIB)/libwarden.a $(LIB)/libwarden.so.$(LIBWARDEN_SOVER) \
		   $(LIB)/libwarden.so $(LIB)/warden.pc

.PHONY: all check check-python check-node run sanitize valgrind clean deps test-programs lint-man lint-layers bench bench-programs
all: $(PROGS) $(LIBS_OUT)

deps:
	$(Q)scripts/deps

# A source's room is the first folder of its path under src/.
room_of		 = $(firstword $(subst /, ,$(1)))

$(OBJ)/%.o: src/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(INC_$(call room_of,$*)) -c -o $@ $<

$(OBJ)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(INC_tests) $(CHECK_CFLAGS) -c -o $@ $<

define room_rule
$(call room_lib,$(1)): $(patsubst src/%.c,$(OBJ)/%.o,$(call room_srcs,$(1)))
	$$(call say,AR,$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach r,$(ROOMS),$(eval $(call room_rule,$(r))))

$(LIB)/libwarden.a: $(LIBWARDEN_SRCS:src/%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OBJ)/pic/%.o: src/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(INC_$(call room_of,$*)) -fPIC -c -o $@ $<

$(LIB)/libwarden.so.$(LIBWARDEN_SOVER): $(LIBWARDEN_SRCS:src/%.c=$(OBJ)/pic/%.o) src/lib/libwarden.map
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libwarden.so.$(LIBWARDEN_SOVER) \
	    -Wl,--version-script=src/lib/libwarden.map -o $@ $(filter %.o,$^)

$(LIB)/libwarden.so: $(LIB)/libwarden.so.$(LIBWARDEN_SOVER)
	$(Q)ln -sf libwarden.so.$(LIBWARDEN_SOVER) $@

$(LIB)/warden.pc: Makefile
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' \
	    'libdir=$${prefix}/lib' '' 'Name: warden' \
	    'Description: reads warden'"'"'s feature flags and stages from its shared table' \
	    'Version: $(shell sed -n "s/.*WARDEN_VERSION.*\"\(.*\)\"/\1/p" src/common/version.h)' \
	    'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lwarden' > $@

$(BIN)/warden: $(OBJ)/daemon/warden.o $(DAEMON_LIBS)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# wardenctl starts for every command, and the dynamic loader mapping and
# binding libraries is most of that start for `wardenctl status SERVICE`
# (see bench/README.md). So no -lm, jansson linked in when its static
# archive is there (Debian's libjansson-dev ships it), and wardenctl is
# linked whole, glibc too (-static-pie), when glibc's archive is there:
# WARDENCTL_STATIC=no links glibc shared instead, as sanitizer builds
# must. The one thing a static glibc cannot do alone is look up a user by
# name (WARDEN_TABLE_OWNER=name for `flag read`): it loads the system's
# NSS modules for that, and says so at link time; -w keeps that one
# warning out of a quiet build.
JANSSON_A	 = $(wildcard $(shell pkg-config --variable=libdir jansson 2>/dev/null)/libjansson.a)
CTL_JANSSON	 = $(if $(JANSSON_A),$(JANSSON_A),$(shell pkg-config --libs jansson 2>/dev/null))
WARDENCTL_STATIC ?= $(if $(findstring -fsanitize,$(CFLAGS) $(LDFLAGS)),no,$(if \
	$(wildcard $(shell $(CC) -print-file-name=libc.a)),yes,no))
CTL_STATIC	 = $(if $(filter yes,$(WARDENCTL_STATIC)),-static-pie -Wl$(comma)-w)
comma		:= ,
$(BIN)/wardenctl: $(CTL_LIBS)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(CTL_STATIC) -o $@ $^ $(CTL_JANSSON)

$(BIN)/demo-worker: $(OBJ)/demo/demo-worker.o $(LIB)/libwarden.a $(COMMON_LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# The demo's Python worker, pointed at this build's module and library
# (an AddressSanitizer build's library needs the worker to say so).
$(BIN)/demo-flagwatch: src/demo/flagwatch.py $(LIB)/libwarden.so.$(LIBWARDEN_SOVER) Makefile
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)sed -e 's|@PYTHONDIR@|$(abspath python)|g' \
	    -e 's|@LIBWARDEN@|$(abspath $(LIB))/libwarden.so.$(LIBWARDEN_SOVER)|g' \
	    -e 's|@ASAN@|$(if $(findstring -fsanitize=address,$(CFLAGS) $(LDFLAGS)),1)|g' $< > $@.tmp
	$(Q)chmod 0755 $@.tmp && mv -f $@.tmp $@

$(BIN)/tests/check_%: $(OBJ)/tests/check_%.o $(TEST_HELPER_OBJS) $(DAEMON_LIBS) \
    $(LIB)/libwarden.a
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS) -lm

# Workers that read the table as any worker would: through libwarden.
$(BIN)/tests/flag-reader $(BIN)/tests/report-worker: $(BIN)/tests/%: \
    tests/workers/%.c $(LIB)/libwarden.a
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) -Iinclude $(LDFLAGS) -o $@ $< $(LIB)/libwarden.a

$(BIN)/tests/%: tests/workers/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $<

test-programs: $(PROGS) $(LIBS_OUT) $(TEST_BINS) $(WORKER_BINS)

# Each suite runs in fork mode; the last line counts suites for CI.
check: deps
	$(Q)$(MAKE) --no-print-directory test-programs
	$(Q)WARDEN_BIN_DIR=$(abspath $(BIN)) scripts/run-tests $(TEST_BINS)
	$(Q)$(MAKE) --no-print-directory check-python check-node lint-man lint-layers

# The Python module (python/warden) against the real warden of this build.
PYTHON		?= $(firstword $(wildcard /usr/bin/python3) python3)
check-python: $(PROGS) $(LIBS_OUT)
	$(Q)WARDEN_BIN_DIR=$(abspath $(BIN)) PYTHONPATH=$(abspath python) \
	    WARDEN_LIBRARY=$(abspath $(LIB))/libwarden.so.$(LIBWARDEN_SOVER) \
	    $(PYTHON) -m unittest discover -s python/tests -t python/tests

# Each room uses only the rooms below it (scripts/lint-layers); the
# self-test plants a breach of each rule and must see it caught.
lint-layers: all
	$(Q)scripts/lint-layers $(OBJ)
	$(Q)scripts/lint-layers --self-test $(OBJ) >/dev/null || \
	    { scripts/lint-layers --self-test $(OBJ); exit 1; }

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
	$(Q)WARDEN_SANITIZED=1 ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    WARDEN_BIN_DIR=$(abspath build/sanitize/bin) scripts/run-tests $(TEST_BINS:$(BIN)/%=build/sanitize/bin/%)

BENCH_BINS	:= $(BIN)/bench/bench-worker $(BIN)/bench/respawn $(BIN)/bench/bench-restart \
		   $(BIN)/bench/bench-flagread

$(BIN)/bench/bench-flagread: bench/flagread.c $(DAEMON_LIBS) $(LIB)/libwarden.a
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(INC_daemon) -Isrc/lib -Iinclude $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

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
# One table: every figure of SPEC 9, the floor and each installed peer side
# by side (bench/README.md). bench/compare --install adds the peers.
bench:
	$(Q)scripts/deps --bench
	$(Q)$(MAKE) --no-print-directory bench-programs
	$(Q)bench/compare -b $(BIN) $(BENCH_ARGS)

# Integration suites again with warden under valgrind's memcheck (those whose
# deadlines hold at valgrind's pace): an
# error or a leak makes warden exit 99, which fails the test.
VALGRIND_SUITES := check_wardenctl check_flags_live check_flags_faults check_flags_durable
valgrind: deps
	$(Q)$(MAKE) --no-print-directory test-programs
	$(Q)WARDEN_VALGRIND=1 WARDEN_BIN_DIR=$(abspath $(BIN)) CK_DEFAULT_TIMEOUT=120 \
	    scripts/run-tests $(VALGRIND_SUITES:%=$(BIN)/tests/%)

clean:
	$(call say,CLEAN,.)
	$(Q)rm -rf build bin lib run state

# --- install ----------------------------------------------------------------
# `make install [PREFIX=/usr] [DESTDIR=/tmp/stage]` installs what `make`
# built (it builds only what is missing) under $(DESTDIR)$(X) for each X
# below; the paths written into installed files (the unit's ExecStart, the
# example config's worker, warden.pc) are $(X), without DESTDIR. The socket
# and state of the example config are systemd's RuntimeDirectory= and
# StateDirectory=: /run/warden and /var/lib/warden whatever the prefix.
# `make uninstall` with the same variables removes it all again, except a
# configuration file that was changed since. See README.md, "Install as a
# service".
BINDIR		?= $(PREFIX)/bin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
LIBEXECDIR	?= $(PREFIX)/libexec
DATADIR		?= $(PREFIX)/share
MANDIR		?= $(DATADIR)/man
# /usr keeps its configuration in /etc; another prefix in its own etc.
SYSCONFDIR	?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR	?= $(DATADIR)/bash-completion/completions
INSTALL		?= install
# The Python module goes where the system's python3 looks: Debian's own
# dist-packages for /usr, the versioned one under any other prefix
# (/usr/local/lib/python3.11/dist-packages is on /usr/bin/python3's path).
PYVERSION	 = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYTHONDIR	?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/lib/python3/dist-packages,$(PREFIX)/lib/python$(or $(PYVERSION),3)/dist-packages)

INST_MAN	 = $(wildcard man/*.[1358])
INST_DRILLS	 = $(wildcard conf/drills/*.json)
INST_PROM	 = $(wildcard conf/prometheus/*.yml)
INST_CONF	 = $(DESTDIR)$(SYSCONFDIR)/warden/warden.json
# The installed paths in the files that name them.
INST_SED	 = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		   -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g'
# A directory for warden.pc: "${prefix}/..." when it is under PREFIX.
inst_pcdir	 = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

.PHONY: install uninstall
install: $(PROGS) $(LIBS_OUT)
	$(call say,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBEXECDIR)/warden \
	    $(DESTDIR)$(SYSCONFDIR)/warden $(DESTDIR)$(SYSTEMDUNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(BASHCOMPDIR) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man,$(sort $(subst .,,$(suffix $(INST_MAN)))))
	$(Q)$(INSTALL) -m 0755 $(BIN)/warden $(BIN)/wardenctl $(DESTDIR)$(BINDIR)/
	$(Q)$(INSTALL) -m 0755 $(BIN)/demo-worker $(DESTDIR)$(LIBEXECDIR)/warden/
	$(Q)$(INSTALL) -m 0644 $(LIB)/libwarden.a $(DESTDIR)$(LIBDIR)/
	$(Q)$(INSTALL) -m 0755 $(LIB)/libwarden.so.$(LIBWARDEN_SOVER) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf libwarden.so.$(LIBWARDEN_SOVER) $(DESTDIR)$(LIBDIR)/libwarden.so
	$(Q)$(INSTALL) -m 0644 include/warden.h $(DESTDIR)$(INCLUDEDIR)/
	$(Q)sed -e 's|^prefix=.*|prefix=$(PREFIX)|' \
	    -e 's|^includedir=.*|includedir=$(call inst_pcdir,$(INCLUDEDIR))|' \
	    -e 's|^libdir=.*|libdir=$(call inst_pcdir,$(LIBDIR))|' \
	    $(LIB)/warden.pc > $(DESTDIR)$(PKGCONFIGDIR)/warden.pc.tmp
	$(Q)chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/warden.pc.tmp && \
	    mv -f $(DESTDIR)$(PKGCONFIGDIR)/warden.pc.tmp $(DESTDIR)$(PKGCONFIGDIR)/warden.pc
	$(Q)$(INST_SED) systemd/warden.service > $(DESTDIR)$(SYSTEMDUNITDIR)/warden.service.tmp
	$(Q)chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/warden.service.tmp && mv -f \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/warden.service.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/warden.service
	$(Q)$(INSTALL) -m 0644 systemd/warden.sysusers $(DESTDIR)$(SYSUSERSDIR)/warden.conf
	$(Q)$(INSTALL) -m 0644 completion/wardenctl.bash $(DESTDIR)$(BASHCOMPDIR)/wardenctl
	$(Q)$(INSTALL) -d $(DESTDIR)$(DATADIR)/warden/drills
	$(Q)$(INSTALL) -m 0644 $(INST_DRILLS) $(DESTDIR)$(DATADIR)/warden/drills/
	$(Q)$(INSTALL) -d $(DESTDIR)$(DATADIR)/warden/prometheus
	$(Q)$(INSTALL) -m 0644 $(INST_PROM) $(DESTDIR)$(DATADIR)/warden/prometheus/
	$(Q)$(INSTALL) -d $(DESTDIR)$(PYTHONDIR)/warden
	$(Q)$(INSTALL) -m 0644 python/warden/__init__.py $(DESTDIR)$(PYTHONDIR)/warden/
	$(Q)printf '%s\n' '# Written by make install: where libwarden was installed.' \
	    'LIBRARY = "$(LIBDIR)/libwarden.so.$(LIBWARDEN_SOVER)"' \
	    > $(DESTDIR)$(PYTHONDIR)/warden/_paths.py.tmp
	$(Q)chmod 0644 $(DESTDIR)$(PYTHONDIR)/warden/_paths.py.tmp && mv -f \
	    $(DESTDIR)$(PYTHONDIR)/warden/_paths.py.tmp $(DESTDIR)$(PYTHONDIR)/warden/_paths.py
	$(Q)for m in $(INST_MAN); do \
		$(INSTALL) -m 0644 "$$m" "$(DESTDIR)$(MANDIR)/man$${m##*.}/" || exit 1; done
	$(Q)if [ -e $(INST_CONF) ]; then \
		echo "  kept    $(INST_CONF): it exists"; \
	else \
		$(INST_SED) conf/warden.system.json > $(INST_CONF).tmp && \
		chmod 0644 $(INST_CONF).tmp && mv -f $(INST_CONF).tmp $(INST_CONF); \
	fi
	$(Q)if [ -n "$(DESTDIR)" ] || [ "$$(id -u)" != 0 ]; then \
		echo "  note    the warden user and group are not made here (DESTDIR" \
		    "is set, or not root): systemd-sysusers makes them"; \
	else \
		getent group warden >/dev/null 2>&1 || groupadd --system warden || \
		    echo "  note    could not add the group warden: run systemd-sysusers"; \
		getent passwd warden >/dev/null 2>&1 || useradd --system --gid warden \
		    --home-dir /var/lib/warden --no-create-home \
		    --shell "$$(command -v nologin || echo /usr/sbin/nologin)" \
		    --comment "warden supervisor" warden || \
		    echo "  note    could not add the user warden: run systemd-sysusers"; \
	fi

uninstall:
	$(call say,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(BINDIR)/warden $(DESTDIR)$(BINDIR)/wardenctl \
	    $(DESTDIR)$(LIBEXECDIR)/warden/demo-worker \
	    $(DESTDIR)$(LIBDIR)/libwarden.a $(DESTDIR)$(LIBDIR)/libwarden.so \
	    $(DESTDIR)$(LIBDIR)/libwarden.so.$(LIBWARDEN_SOVER) \
	    $(DESTDIR)$(INCLUDEDIR)/warden.h $(DESTDIR)$(PKGCONFIGDIR)/warden.pc \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/warden.service $(DESTDIR)$(SYSUSERSDIR)/warden.conf \
	    $(DESTDIR)$(BASHCOMPDIR)/wardenctl \
	    $(addprefix $(DESTDIR)$(DATADIR)/warden/drills/,$(notdir $(INST_DRILLS))) \
	    $(addprefix $(DESTDIR)$(DATADIR)/warden/prometheus/,$(notdir $(INST_PROM))) \
	    $(foreach m,$(INST_MAN),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
	    $(DESTDIR)$(PYTHONDIR)/warden/__init__.py $(DESTDIR)$(PYTHONDIR)/warden/_paths.py
	$(Q)rm -rf $(DESTDIR)$(PYTHONDIR)/warden/__pycache__
	$(Q)if [ -e $(INST_CONF) ]; then \
		if $(INST_SED) conf/warden.system.json | cmp -s - $(INST_CONF); then \
			rm -f $(INST_CONF); \
		else \
			echo "  kept    $(INST_CONF): changed since it was installed"; \
		fi; \
	fi
	$(Q)rmdir $(DESTDIR)$(LIBEXECDIR)/warden $(DESTDIR)$(SYSCONFDIR)/warden \
	    $(DESTDIR)$(DATADIR)/warden/drills $(DESTDIR)$(DATADIR)/warden/prometheus \
	    $(DESTDIR)$(DATADIR)/warden $(DESTDIR)$(PYTHONDIR)/warden 2>/dev/null || true

-include tests/fuzz/fuzz.mk
-include bench/bench.mk
-include node/node.mk

.SECONDARY:

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
