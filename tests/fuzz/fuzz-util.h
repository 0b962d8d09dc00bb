/*
 * fuzz-util.h: what the fuzz targets share: a scratch folder and shared
 * memory names private to one fuzzing process, removed at exit, a sweep
 * of what a crashed process left behind, and the report of a breach.
 */
#ifndef WARDEN_FUZZ_UTIL_H
#define WARDEN_FUZZ_UTIL_H

#include <stddef.h>

/*
 * A new folder $TMPDIR/warden-fuzz-TAG-PID-XXXXXX, removed with all it
 * holds when the process exits normally. The path is static. Folders and
 * objects of TAG whose process is gone are swept first.
 */
const char	*fuzz_scratch_dir(const char *tag);

/*
 * "/warden-fuzz-TAG-PID" (a shared-memory name), unlinked when the process
 * exits normally.
 */
const char	*fuzz_shm_name(const char *tag);

/*
 * A breach of a contract: "TARGET: message" on stderr, then abort(3), so
 * that libFuzzer keeps the input.
 */
void		 fuzz_fail(const char *target, const char *fmt, ...)
		    __attribute__((noreturn, format(printf, 2, 3)));

/* Write len bytes to path (created 0644, truncated). 0 or -1. */
int		 fuzz_write_file(const char *path, const void *buf, size_t len);

#endif
