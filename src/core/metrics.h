/*
 * metrics.h: the Prometheus text exposition format (version 0.0.4), written
 * into a growing buffer. Pure: the daemon collects the values
 * (src/daemon/metrics.c) and this writes them as a scraper reads them.
 *
 * A family is its "# HELP" and "# TYPE" lines, then its samples, all
 * together. A sample is metrics_sample(), its labels one metrics_label()
 * each, then one metrics_value*() that ends the line:
 *
 *	metrics_family(b, "warden_service_up", METRICS_GAUGE, "1 when ...");
 *	metrics_sample(b, "warden_service_up", NULL);
 *	metrics_label(b, "service", "web");
 *	metrics_value_u64(b, 1);
 *
 * Label values are escaped (backslash, double quote, newline); numbers are
 * written as Prometheus reads them: integers without an exponent, other
 * values with the fewest digits that read back exactly, +Inf, -Inf, NaN.
 * Every write is made so many thousand samples cost little: no printf on
 * the way of an integer.
 */
#ifndef WARDEN_METRICS_H
#define WARDEN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

/* The longest number metrics_format() writes, with its NUL. */
#define METRICS_NUM_MAX	32

struct metrics_buf {
	char	*s;		/* NUL-terminated */
	size_t	 len, cap;
	bool	 labels;	/* the sample under way has a label already */
};


/*
 * A histogram's upper bounds, ascending, +Inf implied after the last, and
 * each as its "le" label says it (formatted once, not at every scrape).
 */
#define METRICS_HIST_MAX	32
struct metrics_buckets {
	double		 bound[METRICS_HIST_MAX];
	char		 le[METRICS_HIST_MAX][METRICS_NUM_MAX];
	size_t		 le_len[METRICS_HIST_MAX];
	size_t		 n;
};
struct metrics_hist {
	uint64_t	 counts[METRICS_HIST_MAX + 1];	/* per bucket, not cumulative; [n]: above the last */
	uint64_t	 count;
	double		 sum;
};

void	 metrics_buf_init(struct metrics_buf *);
void	 metrics_buf_free(struct metrics_buf *);
/* Room for n bytes in all (the size of the last text, say). */
void	 metrics_buf_reserve(struct metrics_buf *, size_t n);
/* Take the text (the caller frees it); the buffer is empty again. */
char	*metrics_buf_take(struct metrics_buf *, size_t *len);

void	 metrics_family(struct metrics_buf *, const char *name,
	    enum metrics_type, const char *help);
/* A sample of name followed by suffix ("_bucket", "_sum"...; NULL: none). */
void	 metrics_sample(struct metrics_buf *, const char *name,
	    const char *suffix);
void	 metrics_label(struct metrics_buf *, const char *name,
	    const char *value);
/*
 * A sample that starts as an earlier one: the len bytes at offset at (its
 * name and first labels, written since metrics_sample()) copied, more
 * labels to follow. Samples of a family that differ in their last label
 * cost a copy, not their name and labels again.
 */
void	 metrics_sample_again(struct metrics_buf *, size_t at, size_t len);
void	 metrics_value(struct metrics_buf *, double);
void	 metrics_value_u64(struct metrics_buf *, uint64_t);
void	 metrics_value_i64(struct metrics_buf *, int64_t);

/*
 * A histogram's samples: _bucket{...,le="B"} cumulative for each bound
 * and +Inf, _sum, _count. labels: nlabels pairs of name and value, the
 * histogram's own (le comes last).
 */
void	 metrics_histogram(struct metrics_buf *, const char *name,
	    const char *const *labels, size_t nlabels,
	    const struct metrics_buckets *, const struct metrics_hist *);
/* Bounds past METRICS_HIST_MAX are left out. */
void	 metrics_buckets_init(struct metrics_buckets *, const double *bounds,
	    size_t n);
/* One observation into the bucket of the first bound >= v. */
void	 metrics_hist_observe(struct metrics_hist *,
	    const struct metrics_buckets *, double v);

/* A number as the format writes it; buf holds METRICS_NUM_MAX. */
char	*metrics_format(double, char *buf);
const char *metrics_type_name(enum metrics_type);

#endif
