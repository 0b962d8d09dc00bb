# Fuzz targets (libFuzzer, clang): see tests/fuzz/README. Included by the Makefile.
#
#	make fuzz		each target for FUZZ_SECONDS (60) on a copy of its corpus
#	make fuzz-ci		the same, 15 seconds each (FUZZ_SECONDS=N on the
#				command line sets another bound)
#	make fuzz-regress	each target once over its corpus, no fuzzing
#
# FUZZ_SAVE=1 fuzzes in tests/fuzz/corpus/ itself, keeping what was found.
# FUZZ_TARGETS=rpc picks targets. Everything is built under $(O)/build/fuzz/.

CC_FUZZ		?= clang
FUZZ_SECONDS	?= 60
FUZZ_SAVE	?= 0
FUZZ_SAN	?= -fsanitize=address,undefined
FUZZ_CFLAGS	?= -O1 -g -fno-omit-frame-pointer

FUZZ_SRC_DIR	:= tests/fuzz
FUZZ_DIR	:= $(O)/build/fuzz
FUZZ_ALL	:= config rpc table state drill
FUZZ_TARGETS	?= $(FUZZ_ALL)
FUZZ_BINS	:= $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_CORE_OBJS	:= $(ALL_SRCS:src/%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_CORE_LIB	:= $(FUZZ_DIR)/libwardenfuzz.a
FUZZ_UTIL_OBJ	:= $(FUZZ_DIR)/fuzz-util.o
FUZZ_CC_FLAGS	 = $(BASE_CFLAGS) $(INC_daemon) -Isrc/lib -Iinclude $(FUZZ_CFLAGS) $(FUZZ_SAN) -MMD -MP
FUZZ_RUN	 = FUZZ_SAVE=$(FUZZ_SAVE) $(FUZZ_SRC_DIR)/run

.PHONY: fuzz fuzz-ci fuzz-regress fuzz-programs fuzz-have-clang

fuzz-have-clang:
	@command -v $(CC_FUZZ) >/dev/null 2>&1 || { echo "fuzz: $(CC_FUZZ) not found (CC_FUZZ=clang with libFuzzer)" >&2; exit 1; }

fuzz-programs: fuzz-have-clang
	$(Q)$(MAKE) --no-print-directory $(FUZZ_BINS)

$(FUZZ_CORE_OBJS): $(FUZZ_DIR)/obj/%.o: src/%.c $(FUZZ_SRC_DIR)/fuzz.mk
	@mkdir -p $(@D)
	$(call say,FUZZCC,$@)
	$(Q)$(CC_FUZZ) $(FUZZ_CC_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_CORE_LIB): $(FUZZ_CORE_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/%.o: $(FUZZ_SRC_DIR)/%.c $(FUZZ_SRC_DIR)/fuzz.mk
	@mkdir -p $(@D)
	$(call say,FUZZCC,$@)
	$(Q)$(CC_FUZZ) $(FUZZ_CC_FLAGS) -I$(FUZZ_SRC_DIR) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/fuzz_%.o $(FUZZ_UTIL_OBJ) $(FUZZ_CORE_LIB)
	$(call say,LINK,$@)
	$(Q)$(CC_FUZZ) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_LDFLAGS_$*) \
	    -o $@ $^ $(PKG_LIBS) -lm

fuzz: fuzz-programs
	$(Q)$(FUZZ_RUN) fuzz $(FUZZ_SECONDS) $(FUZZ_DIR) $(FUZZ_TARGETS)

fuzz-ci:
	$(Q)$(MAKE) --no-print-directory fuzz \
	    FUZZ_SECONDS=$(if $(filter command line,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),15)

fuzz-regress: fuzz-programs
	$(Q)$(FUZZ_RUN) regress 0 $(FUZZ_DIR) $(FUZZ_TARGETS)

-include $(FUZZ_CORE_OBJS:.o=.d) $(FUZZ_DIR)/fuzz_*.d $(FUZZ_UTIL_OBJ:.o=.d)
