/*
 * fuzz_table.c: the reader (src/lib/libwarden.c) on arbitrary bytes as the
 * shared table.
 *
 * The input's first TABLE_SIZE bytes (zero-padded) become the content of
 * a shared-memory object of our own, /warden-fuzz-table-PID, which a
 * fresh handle opens by name as any worker would (warden_open), through
 * the checks of the attach path; then it asks for the stage, flags and
 * rollout buckets, and warden_test_snapshot(). Whatever the bytes, every
 * answer must come back without a crash, and a stage is never below -1.
 *
 * Bytes past TABLE_SIZE steer the run, so that mutations can get past the
 * checksums (libFuzzer does not invert murmur3) to what lies behind them:
 *
 *	[0]	fixups before the handle opens:
 *		0x01 the header's constant fields made valid
 *		0x02 writer_uid made ours (seeds from another uid still attach)
 *		0x04 each record's hash recomputed from its name
 *		0x08 each record's check word recomputed
 *		0x10 each copy's check word recomputed
 *		0x20 the object made group-writable (must be refused)
 *		0x40 the object made larger than a table (must be refused)
 *		0x80 retired cleared
 *	[1]	added to the latch sequence between the two rounds of reads
 *	[2]	between the rounds: 0x01 retired set; 0x02 the copy in use
 *		damaged (its check word flipped); 0x04 a fresh object (these
 *		bytes, not retired) put under the name and the old one
 *		retired, as table_republish() does
 *	[3..]	flag names to ask for, NUL-separated (each also serves as the
 *		id of the next one's warden_enabled_for)
 *
 * The first names of the records themselves are asked for too, so that
 * lookups find something.
 *
 * With FUZZ_TABLE_SEEDS=DIR set, the target writes its seed tables into
 * DIR instead (made by the writer, src/daemon/table.c) and exits.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-util.h"
#include "log.h"
#include "libwarden-test.h"
#include "table.h"
#include "util.h"
#include "warden.h"

#define FIX_HEADER	0x01
#define FIX_UID		0x02
#define FIX_HASH	0x04
#define FIX_RECCHECK	0x08
#define FIX_COPYCHECK	0x10
#define MODE_WRITABLE	0x20
#define SIZE_WRONG	0x40
#define FIX_RETIRED	0x80

#define LATER_RETIRE	0x01
#define LATER_DAMAGE	0x02
#define LATER_REPLACE	0x04

#define MAX_NAMES	16

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char		*shm_name;
static int			 shm_fd = -1;
static struct table_layout	*shm_map;	/* read-write: our side */
static char			 spare_name[128];	/* the fresh object */
static struct table_layout	*spare_map;
static char			 path_live[160], path_spare[160], path_old[160];
static int			 verbose;	/* FUZZ_VERBOSE: the answers */

#define fuzz_table_fail(...)	fuzz_fail("fuzz_table", __VA_ARGS__)

/* --- seeds ------------------------------------------------------------------ */

static const char *const demo_flags[] = {
	"use_ets_agent_registry", "enable_migration_monitoring",
	"use_logger_error_context", "use_genserver_telemetry",
	"use_genserver_span_management", "use_ets_sampled_events",
	"enforce_no_process_dict", "rollout",
};

struct seed_trailer {
	uint8_t		 fix, seq, later;
	const char	*names;		/* NUL-separated, ends with an empty one */
	size_t		 nameslen;
};

static void
seed_write(const char *dir, const char *file, const struct table_layout *l,
    size_t len, const struct seed_trailer *tr)
{
	unsigned char	*buf;
	char		*path;
	size_t		 n = len;

	buf = xmalloc(len + 3 + (tr != NULL ? tr->nameslen : 0));
	memcpy(buf, l, len);
	if (tr != NULL) {
		buf[n++] = tr->fix;
		buf[n++] = tr->seq;
		buf[n++] = tr->later;
		memcpy(buf + n, tr->names, tr->nameslen);
		n += tr->nameslen;
	}
	xasprintf(&path, "%s/%s", dir, file);
	if (fuzz_write_file(path, buf, n) == -1)
		fuzz_table_fail("%s: %s", path, strerror(errno));
	free(path);
	free(buf);
}

static char	seed_name[128];

static struct table *
seed_table(const char *tag, char *err, size_t errlen)
{
	struct table	*t;

	snprintf(seed_name, sizeof(seed_name), "%s-%s", fuzz_shm_name("table"),
	    tag);
	if ((t = table_create(seed_name, 0, err, errlen)) == NULL)
		fuzz_table_fail("table_create %s: %s", seed_name, err);
	return t;
}

/* The writer leaves its object for readers: not a seed's. */
static void
seed_done(struct table *t)
{
	table_close(t);
	(void)shm_unlink(seed_name);
}

/* The writer's own tables, and damaged copies of them. */
static void
seed_all(const char *dir)
{
	static const char	 names[] = "use_ets_agent_registry\0rollout\0"
	    "nope\0enforce_no_process_dict\0user-42\0";
	struct seed_trailer	 fixuid = { FIX_UID, 0, 0, names, sizeof(names) };
	struct seed_trailer	 tr;
	struct table_flag	 f[TABLE_CAPACITY];
	struct table_layout	*l, *copy;
	struct table		*t;
	char			 err[256], (*many)[TABLE_NAME_SIZE];
	size_t			 i;

	copy = xmalloc(TABLE_SIZE);
	for (i = 0; i < nitems(demo_flags); i++) {
		f[i].name = demo_flags[i];
		f[i].value = i == 7 ? 25 : (i < 3 ? 100 : 0);
	}

	/* The demo's flags at stage 2, published twice. */
	t = seed_table("demo", err, sizeof(err));
	if (table_publish(t, 1, f, nitems(demo_flags)) == -1 ||
	    table_publish(t, 2, f, nitems(demo_flags)) == -1)
		fuzz_table_fail("table_publish: %s", strerror(errno));
	l = table_test_layout(t);
	seed_write(dir, "demo", l, TABLE_SIZE, NULL);
	seed_write(dir, "demo-ours", l, TABLE_SIZE, &fixuid);
	tr = fixuid;
	tr.seq = 1;
	tr.later = LATER_RETIRE;
	seed_write(dir, "demo-then-retired", l, TABLE_SIZE, &tr);
	tr.seq = 0;
	tr.later = LATER_DAMAGE;
	seed_write(dir, "demo-then-damaged", l, TABLE_SIZE, &tr);
	tr.later = LATER_REPLACE;
	seed_write(dir, "demo-then-replaced", l, TABLE_SIZE, &tr);

	/* Damage: a record's name, then the index behind valid check words. */
	memcpy(copy, l, TABLE_SIZE);
	copy->copy[0].rec[1].name[0] ^= 0x20;
	copy->copy[1].rec[1].name[0] ^= 0x20;
	seed_write(dir, "damaged-record", copy, TABLE_SIZE, &fixuid);
	memcpy(copy, l, TABLE_SIZE);
	for (i = 0; i < TABLE_INDEX_SLOTS; i++)
		if (copy->copy[0].index[i] != 0)
			copy->copy[0].index[i] = (uint16_t)(TABLE_CAPACITY + 1);
	copy->copy[1] = copy->copy[0];
	tr = fixuid;
	tr.fix |= FIX_COPYCHECK;
	seed_write(dir, "damaged-index-checked", copy, TABLE_SIZE, &tr);
	memcpy(copy, l, TABLE_SIZE);
	copy->copy[0].rec[0].value = 101;
	copy->copy[1].rec[0].value = 101;
	tr.fix = FIX_UID | FIX_RECCHECK;
	seed_write(dir, "value-over-100-checked", copy, TABLE_SIZE, &tr);
	memcpy(copy, l, TABLE_SIZE);
	atomic_store(&copy->hdr.retired, 1);
	seed_write(dir, "retired", copy, TABLE_SIZE, &fixuid);
	tr = fixuid;
	tr.fix |= MODE_WRITABLE;
	seed_write(dir, "group-writable", l, TABLE_SIZE, &tr);
	tr.fix = FIX_UID | SIZE_WRONG;
	seed_write(dir, "wrong-size", l, TABLE_SIZE, &tr);
	/* Only the header: the copies are zeros (padding). */
	seed_write(dir, "header-only", l, sizeof(struct table_header), NULL);

	/* A writer killed half-way through copy 0. */
	if (table_test_publish_partial(t, 3, f, nitems(demo_flags),
	    sizeof(struct table_copy) / 2) == -1)
		fuzz_table_fail("table_test_publish_partial");
	seed_write(dir, "writer-killed", l, TABLE_SIZE, &fixuid);
	seed_done(t);

	/* Before the first publish: no flags, stage -1. */
	t = seed_table("empty", err, sizeof(err));
	seed_write(dir, "empty", table_test_layout(t), TABLE_SIZE, &fixuid);
	seed_done(t);

	/* Full: every slot, names of every length. */
	many = xcalloc(TABLE_CAPACITY, TABLE_NAME_SIZE);
	for (i = 0; i < TABLE_CAPACITY; i++) {
		snprintf(many[i], TABLE_NAME_SIZE, "f%zu-%.*s", i,
		    (int)(i % TABLE_NAME_MAX), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		f[i].name = many[i];
		f[i].value = (uint32_t)(i % (TABLE_VALUE_MAX + 1));
	}
	t = seed_table("full", err, sizeof(err));
	if (table_publish(t, 4, f, TABLE_CAPACITY) == -1)
		fuzz_table_fail("table_publish: %s", strerror(errno));
	seed_write(dir, "full", table_test_layout(t), TABLE_SIZE, &fixuid);
	seed_done(t);
	free(many);
	free(copy);
}

/* --- the target ------------------------------------------------------------- */

static void
fuzz_table_cleanup(void)
{
	if (spare_name[0] != '\0')
		(void)shm_unlink(spare_name);
}

/* A table of our own, mapped read-write. */
static struct table_layout *
fuzz_table_object(const char *name, int *fdp)
{
	void	*p;
	int	 fd;

	fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, TABLE_MODE);
	if (fd == -1 || fchmod(fd, TABLE_MODE) == -1 ||
	    ftruncate(fd, (off_t)TABLE_SIZE) == -1)
		fuzz_table_fail("%s: %s", name, strerror(errno));
	p = mmap(NULL, TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		fuzz_table_fail("mmap: %s", strerror(errno));
	if (fdp != NULL)
		*fdp = fd;
	else
		close(fd);
	return p;
}

/*
 * Swap the spare object in under the name, the live one aside (renames in
 * /dev/shm, where glibc keeps the objects, as table.c does); and back.
 */
static void
fuzz_table_swap(int in)
{
	if (in ? rename(path_live, path_old) == -1 ||
	    rename(path_spare, path_live) == -1 :
	    rename(path_live, path_spare) == -1 ||
	    rename(path_old, path_live) == -1)
		fuzz_table_fail("rename in /dev/shm: %s", strerror(errno));
}

static void
fuzz_table_fixups(struct table_layout *l, unsigned fix)
{
	struct table_header	*h = &l->hdr;
	struct table_record	*r;
	size_t			 c, i;

	if (fix & FIX_HEADER) {
		h->magic = TABLE_MAGIC;
		h->version = TABLE_VERSION;
		h->header_size = sizeof(struct table_header);
		h->record_size = sizeof(struct table_record);
		h->copy_size = sizeof(struct table_copy);
		h->capacity = TABLE_CAPACITY;
		h->size = TABLE_SIZE;
	}
	if (fix & FIX_UID)
		h->writer_uid = (uint32_t)geteuid();
	if (fix & FIX_RETIRED)
		atomic_store(&h->retired, 0);
	for (c = 0; c < 2; c++) {
		for (i = 0; i < TABLE_CAPACITY; i++) {
			r = &l->copy[c].rec[i];
			if (fix & FIX_HASH)
				r->hash = table_name_hash(r->name,
				    strnlen(r->name, TABLE_NAME_SIZE));
			if (fix & FIX_RECCHECK)
				r->check = table_record_check(r,
				    l->copy[c].generation);
		}
		if (fix & FIX_COPYCHECK)
			l->copy[c].check = table_copy_check(&l->copy[c]);
	}
}

/* One round of every kind of read. */
static void
fuzz_table_reads(warden_table *t, char (*names)[TABLE_NAME_SIZE + 1],
    size_t n)
{
	uint64_t	gen;
	uint32_t	values[8];
	size_t		i;
	int		stage, r;

	if ((stage = warden_stage(t)) < -1)
		fuzz_table_fail("warden_stage answered %d", stage);
	for (i = 0; i < n; i++) {
		if (verbose)
			fprintf(stderr, "fuzz_table: stage %d, '%s': %d/%d, "
			    "for '%s': %d\n", stage, names[i],
			    warden_enabled(t, names[i], false),
			    warden_enabled(t, names[i], true), names[(i + 1) % n],
			    warden_enabled_for(t, names[i], names[(i + 1) % n],
			    false));
		(void)warden_enabled(t, names[i], false);
		(void)warden_enabled(t, names[i], true);
		(void)warden_enabled_for(t, names[i], names[(i + 1) % n],
		    i % 2 == 0);
		(void)warden_enabled_for(t, names[i], NULL, true);
		/* Again: now from the handle's cache. */
		(void)warden_enabled(t, names[i], false);
	}
	r = warden_test_snapshot(t, &stage, &gen, values, nitems(values));
	if (r > TABLE_CAPACITY)
		fuzz_table_fail("snapshot: %d flags", r);
	if ((stage = warden_stage(t)) < -1)
		fuzz_table_fail("warden_stage answered %d", stage);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*seeds = getenv("FUZZ_TABLE_SEEDS");

	(void)argc;
	(void)argv;
	log_init("fuzz_table", LOG_LEVEL_ERR);
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (seeds != NULL) {
		seed_all(seeds);
		exit(0);
	}
	shm_name = fuzz_shm_name("table");
	shm_map = fuzz_table_object(shm_name, &shm_fd);
	snprintf(spare_name, sizeof(spare_name), "%s-spare", shm_name);
	if (atexit(fuzz_table_cleanup) != 0)
		fuzz_table_fail("atexit");
	spare_map = fuzz_table_object(spare_name, NULL);
	snprintf(path_live, sizeof(path_live), "/dev/shm%s", shm_name);
	snprintf(path_spare, sizeof(path_spare), "/dev/shm%s", spare_name);
	snprintf(path_old, sizeof(path_old), "/dev/shm%s-old", shm_name);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			 names[MAX_NAMES + 4][TABLE_NAME_SIZE + 1];
	const uint8_t		*tr = NULL, *s, *end;
	const struct table_copy	*c;
	warden_table		*t;
	size_t			 trlen = 0, n = 0, len, i;
	unsigned		 fix = 0, later = 0, seqdelta = 0;

	memset(shm_map, 0, TABLE_SIZE);
	memcpy(shm_map, data, size < TABLE_SIZE ? size : TABLE_SIZE);
	if (size > TABLE_SIZE) {
		tr = data + TABLE_SIZE;
		trlen = size - TABLE_SIZE;
	}
	if (trlen > 0)
		fix = tr[0];
	if (trlen > 1)
		seqdelta = tr[1];
	if (trlen > 2)
		later = tr[2];
	fuzz_table_fixups(shm_map, fix);

	/* The names: from the trailer, then the records' own. */
	if (trlen > 3) {
		for (s = tr + 3, end = tr + trlen; s < end && n < MAX_NAMES;
		    s += len + 1) {
			len = strnlen((const char *)s, (size_t)(end - s));
			if (len > TABLE_NAME_SIZE)
				len = TABLE_NAME_SIZE;
			memcpy(names[n], s, len);
			names[n++][len] = '\0';
		}
	}
	c = &shm_map->copy[atomic_load(&shm_map->hdr.seq) & 1];
	for (i = 0; i < 3; i++) {
		memcpy(names[n], c->rec[i].name, TABLE_NAME_SIZE);
		names[n++][TABLE_NAME_SIZE] = '\0';
	}
	strcpy(names[n++], "");

	if ((fix & MODE_WRITABLE) != 0 && fchmod(shm_fd, 0664) == -1)
		fuzz_table_fail("fchmod: %s", strerror(errno));
	if ((fix & SIZE_WRONG) != 0 &&
	    ftruncate(shm_fd, (off_t)TABLE_SIZE + 4096) == -1)
		fuzz_table_fail("ftruncate: %s", strerror(errno));

	if ((t = warden_open(shm_name)) == NULL)
		fuzz_table_fail("warden_open: %s", strerror(errno));
	if ((fix & (MODE_WRITABLE | SIZE_WRONG)) != 0 &&
	    warden_test_attached(t))
		fuzz_table_fail("attached to a table it should refuse");
	/* The slow path on every read that needs it, not every 100 ms. */
	warden_test_set_retry(t, 0);
	fuzz_table_reads(t, names, n);

	/* As a writer (or a stray one) would, between two rounds. */
	if (seqdelta != 0)
		atomic_fetch_add(&shm_map->hdr.seq, seqdelta);
	if (later & LATER_RETIRE)
		atomic_store(&shm_map->hdr.retired, 1);
	if (later & LATER_DAMAGE)
		shm_map->copy[atomic_load(&shm_map->hdr.seq) & 1].check ^= 1;
	if (later & LATER_REPLACE) {
		memcpy(spare_map, shm_map, TABLE_SIZE);
		atomic_store(&spare_map->hdr.retired, 0);
		fuzz_table_swap(1);
		atomic_store(&shm_map->hdr.retired, 1);
	}
	fuzz_table_reads(t, names, n);
	warden_close(t);
	if (later & LATER_REPLACE)
		fuzz_table_swap(0);

	if ((fix & MODE_WRITABLE) != 0 && fchmod(shm_fd, TABLE_MODE) == -1)
		fuzz_table_fail("fchmod: %s", strerror(errno));
	if ((fix & SIZE_WRONG) != 0 &&
	    ftruncate(shm_fd, (off_t)TABLE_SIZE) == -1)
		fuzz_table_fail("ftruncate: %s", strerror(errno));
	return 0;
}
