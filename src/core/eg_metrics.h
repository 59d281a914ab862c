/*
 * The metrics registry: counters, gauges and histograms with labels, kept
 * in one shared memory zone so that the master, every worker and the
 * cluster process add to the same numbers, and rendered in Prometheus
 * text format 0.0.4 by whichever worker is asked.
 *
 * Families are declared in the master (a module's init_module), after the
 * zone exists and before the fork; a reload that keeps the zone finds its
 * families again, so counters do not reset.  Series (a family plus label
 * values) are created on first use from any process; updates are single
 * atomic operations and take no lock.
 */

#ifndef EG_METRICS_H_INCLUDED
#define EG_METRICS_H_INCLUDED


#define EG_METRIC_COUNTER     1
#define EG_METRIC_GAUGE       2
#define EG_METRIC_HISTOGRAM   3

#define EG_METRIC_MAX_LABELS  4
#define EG_METRIC_MAX_BUCKETS 16


typedef struct eg_metric_family_s  eg_metric_family_t;
typedef struct eg_metric_s         eg_metric_t;


struct eg_metric_s {
    eg_metric_t          *next;         /* in the family */
    eg_metric_family_t   *family;
    u_char               *labels;       /* rendered: code="200",x="y" */
    size_t                labels_len;

    int64_t               value;        /* counter, gauge; histogram count */
    uint64_t              sum;          /* histogram: double bits */
    uint64_t             *buckets;      /* histogram: per-bucket counts */
};


struct eg_metric_family_s {
    eg_metric_family_t   *next;
    eg_metric_t          *series;
    eg_uint_t             nseries;

    u_char               *name;
    u_char               *help;
    eg_uint_t             type;         /* EG_METRIC_* */

    eg_uint_t             nlabels;
    u_char               *label_names[EG_METRIC_MAX_LABELS];

    eg_uint_t             nbuckets;     /* upper bounds, +Inf implied */
    double                bounds[EG_METRIC_MAX_BUCKETS];
    u_char               *le[EG_METRIC_MAX_BUCKETS + 1];   /* as text */

    u_char               *header;       /* "# HELP ...\n# TYPE ...\n" */
    size_t                header_len;
};


/*
 * labels: comma-separated label names ("code,method") or NULL;
 * buckets: ascending upper bounds for a histogram, or NULL.
 */
eg_metric_family_t *eg_metrics_family(eg_uint_t type, const char *name,
    const char *help, const char *labels, const double *buckets,
    eg_uint_t nbuckets);

/* the series for these label values, made if new; NULL when out of room */
eg_metric_t *eg_metrics_series(eg_metric_family_t *f, eg_str_t *values);
eg_metric_t *eg_metrics_series1(eg_metric_family_t *f, const char *value);

#define eg_metric_inc(m, n)                                                  \
    if (m) { (void) __atomic_fetch_add(&(m)->value, (int64_t) (n),           \
                                       __ATOMIC_RELAXED); }
#define eg_metric_dec(m, n)                                                  \
    if (m) { (void) __atomic_fetch_sub(&(m)->value, (int64_t) (n),           \
                                       __ATOMIC_RELAXED); }
#define eg_metric_set(m, v)                                                  \
    if (m) { __atomic_store_n(&(m)->value, (int64_t) (v),                    \
                              __ATOMIC_RELAXED); }

void eg_metric_observe(eg_metric_t *m, double v);

/*
 * Makes an empty registry the root (pool->data) of a fresh slab pool:
 * what the zone's init does, and what tests use without a cycle.
 */
eg_int_t eg_metrics_init_pool(eg_slab_pool_t *pool);

/* the whole registry as Prometheus text; extra is appended as is */
eg_int_t eg_metrics_render(eg_pool_t *pool, eg_str_t *out, eg_str_t *extra);

extern eg_module_t     eg_metrics_module;
extern eg_slab_pool_t *eg_metrics_pool;

#endif /* EG_METRICS_H_INCLUDED */
