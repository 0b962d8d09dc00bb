"""warden: read warden's feature flags and migration stage from Python.

A thin layer over libwarden (libwarden(3)) through ctypes: nothing to
compile at install, and every read is one call into the C library, which
takes no lock, allocates nothing and makes no system call.

    import warden

    t = warden.open()                   # the table warden gave this worker
    if t.enabled("use_ets_agent_registry"):
        ...
    if t.enabled_for("new_checkout", user_id, default=False):
        ...
    t.stage()                           # -1 when unknown

Reads never fail: with no table, a deleted or damaged one, or no library
at all, they answer the last consistent value the handle saw, else the
default given. Only a programming error raises: a flag name or id that is
neither str nor bytes raises TypeError. A name that no table can hold (a
NUL byte in it, or a str that does not encode as UTF-8, such as one with
lone surrogates) answers the default.

The library is looked for in this order: the file named by the
environment variable WARDEN_LIBRARY, if set (and only there); the
libwarden.so.0 that `make install` installed beside this module; the
library of a source checkout this module sits in; the system's
libwarden.so.0. When none loads, warden.load_error says why (it is None
once the library is loaded) and every handle answers defaults, with
state() NO_TABLE: importing this module never raises for that.

A handle may be read by several threads at once; close() must not race
with reads of the same handle (as warden_close(3)).
"""

import ctypes
import os

__all__ = ["open", "Table", "NO_TABLE", "ATTACHED", "UNTRUSTED",
           "load_error", "library_path"]

# warden_state(): what a handle reads from (include/warden.h).
NO_TABLE = 0
ATTACHED = 1
UNTRUSTED = 2

_STATE_NAMES = {NO_TABLE: "no table", ATTACHED: "attached",
                UNTRUSTED: "untrusted"}
_SONAME = "libwarden.so.0"
# Flag names seen, to the bytes handed to C (None: answer the default).
# Bounded, so that a program reading ever new names does not grow.
_NAMES_MAX = 4096
_names = {}


def _candidates():
    """The paths to try, in order (WARDEN_LIBRARY alone when it is set)."""
    env = os.environ.get("WARDEN_LIBRARY")
    if env is not None:
        return [env]
    out = []
    try:
        from . import _paths  # written by `make install`
        out.append(_paths.LIBRARY)
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    out.append(os.path.join(here, "..", "..", "lib", _SONAME))
    out.append(_SONAME)
    return out


def _load():
    """(library, path, None) or (None, None, why)."""
    errors = []
    candidates = _candidates()
    for path in candidates:
        if path is not candidates[0] and os.sep in path and \
                not os.path.exists(path):
            continue        # a place it may be: not worth a complaint
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
            continue
        try:
            _declare(lib)
        except AttributeError as e:
            errors.append("%s: not libwarden: %s" % (path, e))
            continue
        return lib, path, None
    return None, None, "; ".join(errors) or "libwarden.so.0 not found"


def _declare(lib):
    """Types for every function, so that ctypes converts nothing by guess."""
    vp, cp, b, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_bool, ctypes.c_int
    lib.warden_open.argtypes = [cp]
    lib.warden_open.restype = vp
    lib.warden_enabled.argtypes = [vp, cp, b]
    lib.warden_enabled.restype = b
    lib.warden_enabled_for.argtypes = [vp, cp, cp, b]
    lib.warden_enabled_for.restype = b
    lib.warden_stage.argtypes = [vp]
    lib.warden_stage.restype = i
    lib.warden_state.argtypes = [vp]
    lib.warden_state.restype = i
    lib.warden_close.argtypes = [vp]
    lib.warden_close.restype = None


_lib, library_path, load_error = _load()
# Bound once: a read costs one call, not an attribute walk.
if _lib is not None:
    _c_enabled = _lib.warden_enabled
    _c_enabled_for = _lib.warden_enabled_for


def _encode(s, what):
    """s as C bytes; None when no table can hold it; TypeError if not text."""
    if isinstance(s, str):
        try:
            s = s.encode("utf-8")
        except UnicodeEncodeError:
            return None
    elif isinstance(s, (bytes, bytearray, memoryview)):
        s = bytes(s)
    else:
        raise TypeError("warden: %s must be str or bytes, not %s"
                        % (what, type(s).__name__))
    if b"\0" in s:
        return None
    return s


def _flag(flag):
    """The flag's C name, from the cache (None: answer the default)."""
    try:
        return _names[flag]
    except KeyError:
        pass
    except TypeError:       # unhashable: not a name
        pass
    b = _encode(flag, "flag")
    if isinstance(flag, (str, bytes)):
        if len(_names) >= _NAMES_MAX:
            _names.clear()
        _names[flag] = b
    return b


class Table:
    """A handle on warden's table; see the module's documentation."""

    __slots__ = ("_h", "_name", "__weakref__")

    def __init__(self, name=None):
        self._h = None
        self._name = name
        if name is not None:
            cname = _encode(name, "name")
        else:
            cname = None
        if _lib is None or (name is not None and cname is None):
            return          # no library, or an impossible name: defaults
        self._h = _lib.warden_open(cname)

    def enabled(self, flag, default=False):
        """True when flag is on (100); else False; default without a table.

        flag is str or bytes (TypeError otherwise, a programming error).
        """
        b = _names.get(flag) if type(flag) is str else None
        if b is None:
            b = _flag(flag)
        if b is None or self._h is None:
            return bool(default)
        return _c_enabled(self._h, b, default)

    def enabled_for(self, flag, id, default=False):
        """Is id in flag's rollout? True at 100, False at 0, and for a
        percentage p when murmur3("<flag>:<id>") % 10000 < p * 100;
        default without a table. flag and id are str or bytes (TypeError
        otherwise)."""
        b = _flag(flag)
        if type(id) is str and id.isascii():
            i = id.encode("ascii")      # the common case, cheapest
            if "\0" in id:
                i = None
        else:
            i = _encode(id, "id")
        if b is None or i is None or self._h is None:
            return bool(default)
        return _c_enabled_for(self._h, b, i, default)

    def stage(self):
        """The migration stage, -1 when unknown (as warden_stage(3))."""
        if self._h is None:
            return -1
        return _lib.warden_stage(self._h)

    def state(self):
        """NO_TABLE, ATTACHED or UNTRUSTED: what the handle reads from."""
        if self._h is None:
            return NO_TABLE
        return _lib.warden_state(self._h)

    def close(self):
        """Release the handle; reads answer defaults after. Idempotent;
        must not race with reads of this handle in other threads."""
        h, self._h = self._h, None
        if h is not None and _lib is not None:
            _lib.warden_close(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:   # at interpreter exit, globals may be gone
            pass

    def __repr__(self):
        name = "from warden" if self._name is None else repr(self._name)
        if self._h is not None:
            st = self.state()
            return "<warden.Table %s: %s, stage %d>" % (
                name, _STATE_NAMES.get(st, "state %d" % st), self.stage())
        why = "no library" if _lib is None else "closed or not opened"
        return "<warden.Table %s: %s, defaults>" % (name, why)


def open(name=None):
    """A handle on the table name ("/warden-demo"), or with name None on
    the table warden gave this worker (WARDEN_TABLE_FD, WARDEN_TABLE).
    Never raises for a missing table or library: the handle answers
    defaults. name must be str, bytes or None (TypeError otherwise)."""
    return Table(name)
