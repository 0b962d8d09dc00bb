# node/node.mk: the Node.js OpenFeature provider (warden-node(3)), included
# from the Makefile with `-include node/node.mk`.
#
# The addon is built by node-gyp (node/binding.gyp), which scripts/deps
# brings with npm ci, pointed at the Node-API headers on this machine
# (--nodedir), so that nothing is downloaded. It is built with the
# Makefile's compiler (CC: the clang build builds it with clang) and
# -Werror, then copied into the O= folder. It links nothing of libwarden:
# lib/table.js hands it the path of libwarden.so.0, which it loads with
# dlopen(3), so that one .node serves the checkout and the installed tree,
# as the Python module does.
#
#   make check-node     the provider against the real warden of this build
#
# The addon is part of `make` when node, its headers and node-gyp are
# there. A sanitized build's libwarden cannot be loaded into node (the
# AddressSanitizer runtime, loaded late, finds its shadow range taken), so
# the addon is built without the sanitizers and check-node runs on the
# plain build.

NODE		?= $(shell command -v node 2>/dev/null)
NODE_INCLUDE	?= $(firstword $(wildcard /usr/include/node /usr/local/include/node))
# node-gyp's --nodedir: the prefix whose include/node holds the headers.
NODE_PREFIX	 = $(patsubst %/include/node,%,$(NODE_INCLUDE))
NODE_GYP	:= node/node_modules/.bin/node-gyp
NODE_ADDON	:= $(OBJ)/node/warden.node
HAVE_NODE	:= $(if $(NODE),$(if $(wildcard $(NODE_INCLUDE)/node_api.h),$(if $(wildcard $(NODE_GYP)),yes)))
NODE_JS		:= node/index.js node/lib/provider.js node/lib/table.js
# Where `make install` puts the package: beside npm's global packages of
# the prefix, which `require()` finds through NODE_PATH (warden-node(3)).
NODEDIR		?= $(PREFIX)/lib/node_modules/warden-openfeature

ifeq ($(HAVE_NODE),yes)
all: $(NODE_ADDON)
test-programs: $(NODE_ADDON)
endif

$(NODE_ADDON): node/src/addon.c node/binding.gyp include/warden.h
	@mkdir -p $(@D)
	$(call say,GYP,$@)
	$(Q)cd node && MAKEFLAGS= CC="$(CC)" $(abspath $(NODE_GYP)) rebuild \
	    --nodedir=$(NODE_PREFIX) --loglevel=error >/dev/null
	$(Q)cp node/build/Release/warden.node $@

# The tests start this build's warden; npm ci (scripts/deps) brought the SDK.
.PHONY: check-node install-node uninstall-node
check-node: $(PROGS) $(LIBS_OUT) $(if $(HAVE_NODE),$(NODE_ADDON))
	$(Q)if [ "$(HAVE_NODE)" != yes ]; then \
		echo "check-node: node, its headers (node_api.h) or node-gyp missing:" \
		    "install nodejs, npm and libnode-dev (or nodesource's nodejs)," \
		    "then run scripts/deps (npm ci in node/)" >&2; \
		exit 1; fi
	$(Q)[ -d node/node_modules/@openfeature/server-sdk ] || { \
		echo "check-node: @openfeature/server-sdk missing: run scripts/deps" \
		    "(npm ci in node/)" >&2; exit 1; }
	$(Q)WARDEN_BIN_DIR=$(abspath $(BIN)) WARDEN_NODE_ADDON=$(abspath $(NODE_ADDON)) \
	    WARDEN_LIBRARY=$(abspath $(LIB))/libwarden.so.$(LIBWARDEN_SOVER) \
	    $(NODE) --test --test-reporter=dot node/tests/*.test.js

# `make install` puts the package in npm's global layout under the prefix,
# with the .node beside index.js, lib/_paths.js naming the libwarden
# installed in LIBDIR, and the OpenFeature SDK that npm ci brought in its
# own node_modules, so that it needs nothing else (warden-node(3), FILES).
NODE_SDK	:= node/node_modules/@openfeature
NODE_SDK_PKGS	:= core server-sdk
INST_NODEDIR	 = $(DESTDIR)$(NODEDIR)
install: install-node
uninstall: uninstall-node

install-node: $(if $(HAVE_NODE),$(NODE_ADDON))
ifeq ($(HAVE_NODE),yes)
	$(Q)for p in $(NODE_SDK_PKGS); do [ -f $(NODE_SDK)/$$p/package.json ] || { \
		echo "install: $(NODE_SDK)/$$p missing: run scripts/deps (npm ci in node/)" >&2; \
		exit 1; }; done
	$(Q)$(INSTALL) -d $(INST_NODEDIR)/lib $(INST_NODEDIR)/node_modules/@openfeature
	$(Q)$(INSTALL) -m 0644 node/package.json node/index.js $(INST_NODEDIR)/
	$(Q)$(INSTALL) -m 0644 node/lib/provider.js node/lib/table.js $(INST_NODEDIR)/lib/
	$(Q)$(INSTALL) -m 0755 $(NODE_ADDON) $(INST_NODEDIR)/warden.node
	$(Q)printf '%s\n' '// Written by make install: where libwarden was installed.' \
	    "'use strict';" 'module.exports = { LIBRARY: "$(LIBDIR)/libwarden.so.$(LIBWARDEN_SOVER)" };' \
	    > $(INST_NODEDIR)/lib/_paths.js.tmp
	$(Q)chmod 0644 $(INST_NODEDIR)/lib/_paths.js.tmp && \
	    mv -f $(INST_NODEDIR)/lib/_paths.js.tmp $(INST_NODEDIR)/lib/_paths.js
	$(Q)for p in $(NODE_SDK_PKGS); do \
		rm -rf $(INST_NODEDIR)/node_modules/@openfeature/$$p && \
		cp -R $(NODE_SDK)/$$p $(INST_NODEDIR)/node_modules/@openfeature/ && \
		chmod -R u+rwX,go+rX,go-w $(INST_NODEDIR)/node_modules/@openfeature/$$p || exit 1; \
	done
else
	@echo "  note    node or its headers missing: warden-openfeature not installed"
endif

uninstall-node:
	$(Q)rm -f $(INST_NODEDIR)/package.json $(INST_NODEDIR)/index.js $(INST_NODEDIR)/warden.node \
	    $(INST_NODEDIR)/lib/provider.js $(INST_NODEDIR)/lib/table.js $(INST_NODEDIR)/lib/_paths.js
	$(Q)for p in $(NODE_SDK_PKGS); do rm -rf $(INST_NODEDIR)/node_modules/@openfeature/$$p; done
	$(Q)rmdir $(INST_NODEDIR)/node_modules/@openfeature $(INST_NODEDIR)/node_modules \
	    $(INST_NODEDIR)/lib $(INST_NODEDIR) $(dir $(INST_NODEDIR)) 2>/dev/null || true
