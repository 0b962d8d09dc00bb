# bench/bench.mk: build rules for the side-by-side comparison, included
# from the Makefile with `-include bench/bench.mk`.
#
#   make bench-compare          the table of bench/compare (peers if installed)
#   make bench-compare-full     the same, longer runs (--full)
# bench/compare --install (as root) installs s6, runit, daemontools and
# supervisor first. Nothing here asserts a time.

# A prerequisite line of its own, so it holds wherever the include sits.
bench-programs: $(BIN)/bench/bench-ctlload $(BIN)/bench/bench-httpd \
    $(BIN)/bench/bench-probefloor $(BIN)/bench/bench-barrier-reader

$(BIN)/bench/bench-barrier-reader: bench/barrier-reader.c $(LIB)/libwarden.a
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) -Iinclude $(LDFLAGS) -o $@ $< $(LIB)/libwarden.a

$(BIN)/bench/bench-ctlload: bench/ctlload.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $<

.PHONY: bench-compare bench-compare-full
bench-compare: bench-programs
	$(Q)bench/compare -b $(BIN)

bench-compare-full: bench-programs
	$(Q)bench/compare -b $(BIN) --full
