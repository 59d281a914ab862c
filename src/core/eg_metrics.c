/*
 * Metrics registry in shared memory; see eg_metrics.h.
 *
 * The zone's root holds a list of families, each with a list of series.
 * Lists only grow (a series is never freed while the zone lives), so a
 * reader that walks them without the lock sees a consistent prefix; the
 * lock serialises only the writers that append and the renderer, which
 * wants one coherent view.
 */

#include <eg_config.h>
#include <eg_core.h>


#define EG_METRICS_DEFAULT_SIZE   (1024 * 1024)


typedef struct {
    eg_metric_family_t   *families;
    eg_metric_family_t  **last;         /* where the next one goes */
} eg_metrics_root_t;


typedef struct {
    size_t                size;
    eg_shm_zone_t        *zone;
} eg_metrics_conf_t;


static void *eg_metrics_create_conf(eg_cycle_t *cycle);
static char *eg_metrics_init_conf(eg_cycle_t *cycle, void *conf);
static eg_int_t eg_metrics_init_zone(eg_shm_zone_t *zone, void *data);
static eg_int_t eg_metrics_init_cycle(eg_cycle_t *cycle);
static u_char *eg_metrics_strdup(const char *s, size_t len);
static void eg_metrics_escape(eg_writer_t *o, u_char *s, size_t len,
    eg_uint_t quote);
static void eg_metrics_render_all(eg_writer_t *o);
static void eg_metrics_family_header(eg_writer_t *w, eg_metric_family_t *f);


static eg_conf_num_bounds_t  eg_metrics_size_bounds = {
    EG_SLAB_MIN_ZONE, 1024 * 1024 * 1024
};


static eg_command_t  eg_metrics_commands[] = {

    { eg_string("metrics_zone_size"),
      EG_MAIN_CONF|EG_DIRECT_CONF|EG_CONF_TAKE1,
      eg_conf_set_size_slot,
      0,
      offsetof(eg_metrics_conf_t, size),
      &eg_metrics_size_bounds },

      eg_null_command
};


static eg_core_module_t  eg_metrics_module_ctx = {
    eg_string("metrics"),
    eg_metrics_create_conf,
    eg_metrics_init_conf
};


eg_module_t  eg_metrics_module = {
    EG_MODULE_V1,
    "eg_metrics_module",
    EG_CORE_MODULE,                     /* module type */
    &eg_metrics_module_ctx,             /* module context */
    eg_metrics_commands,                /* module directives */
    NULL,                               /* environment overrides */
    NULL,                               /* init master */
    eg_metrics_init_cycle,              /* init module */
    eg_metrics_init_cycle,              /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


eg_slab_pool_t  *eg_metrics_pool;


static void *
eg_metrics_create_conf(eg_cycle_t *cycle)
{
    eg_metrics_conf_t  *mcf;

    mcf = eg_palloc(cycle->pool, sizeof(eg_metrics_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->size = EG_CONF_UNSET_SIZE;

    return mcf;
}


static char *
eg_metrics_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_metrics_conf_t  *mcf = conf;

    eg_str_t        name;
    eg_conf_t       cf;
    eg_shm_zone_t  *zone;

    eg_conf_init_size_value(mcf->size, EG_METRICS_DEFAULT_SIZE);

    eg_memzero(&cf, sizeof(eg_conf_t));
    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;

    eg_str_set(&name, "engram_metrics");

    zone = eg_shared_memory_add(&cf, &name, mcf->size, &eg_metrics_module);
    if (zone == NULL) {
        return EG_CONF_ERROR;
    }

    zone->init = eg_metrics_init_zone;
    mcf->zone = zone;

    return EG_CONF_OK;
}


/*
 * The registry of this cycle, for the master's modules (init_module) and
 * for each new process (init_process): a process-wide pointer must never
 * outlive the cycle it came from, such as one that failed to load.
 */
static eg_int_t
eg_metrics_init_cycle(eg_cycle_t *cycle)
{
    eg_metrics_conf_t  *mcf;

    mcf = (eg_metrics_conf_t *) eg_get_conf(cycle->conf_ctx,
                                            eg_metrics_module);

    eg_metrics_pool = (eg_slab_pool_t *) mcf->zone->shm.addr;

    return EG_OK;
}


static eg_int_t
eg_metrics_init_zone(eg_shm_zone_t *zone, void *data)
{
    eg_slab_pool_t  *pool;

    pool = (eg_slab_pool_t *) zone->shm.addr;

    if (data) {
        /* kept across the reload: the families and counts go on */
        zone->data = data;
        return EG_OK;
    }

    if (eg_metrics_init_pool(pool) != EG_OK) {
        return EG_ERROR;
    }

    zone->data = pool->data;

    return EG_OK;
}


/* an empty registry as the root of a fresh slab pool */
eg_int_t
eg_metrics_init_pool(eg_slab_pool_t *pool)
{
    eg_metrics_root_t  *root;

    root = eg_slab_calloc(pool, sizeof(eg_metrics_root_t));
    if (root == NULL) {
        return EG_ERROR;
    }

    root->families = NULL;
    root->last = &root->families;

    pool->data = root;

    return EG_OK;
}


static u_char *
eg_metrics_strdup(const char *s, size_t len)
{
    u_char  *p;

    p = eg_slab_alloc_locked(eg_metrics_pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    eg_memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


static void
eg_metrics_family_header(eg_writer_t *w, eg_metric_family_t *f)
{
    static const char   *types[] = { "", "counter", "gauge", "histogram" };

    eg_writer_printf(w, "# HELP %s ", (char *) f->name);
    eg_metrics_escape(w, f->help, eg_strlen(f->help), 0);
    eg_writer_printf(w, "\n# TYPE %s %s\n", (char *) f->name,
                     types[f->type]);
}


eg_metric_family_t *
eg_metrics_family(eg_uint_t type, const char *name, const char *help,
    const char *labels, const double *buckets, eg_uint_t nbuckets)
{
    char                 buf[32];
    const char          *p, *comma;
    eg_uint_t            i;
    eg_writer_t          w;
    eg_metric_t         *m;
    eg_metric_family_t  *f;
    eg_metrics_root_t   *root;

    if (eg_metrics_pool == NULL || nbuckets > EG_METRIC_MAX_BUCKETS) {
        return NULL;
    }

    root = eg_metrics_pool->data;

    eg_shmtx_lock(&eg_metrics_pool->mutex);

    for (f = root->families; f; f = f->next) {
        if (eg_strcmp(f->name, name) == 0) {
            goto done;      /* declared by an earlier cycle */
        }
    }

    f = eg_slab_calloc_locked(eg_metrics_pool, sizeof(eg_metric_family_t));
    if (f == NULL) {
        goto done;
    }

    f->type = type;
    f->name = eg_metrics_strdup(name, strlen(name));
    f->help = eg_metrics_strdup(help, strlen(help));

    if (f->name == NULL || f->help == NULL) {
        f = NULL;
        goto done;
    }

    for (p = labels; p && *p && f->nlabels < EG_METRIC_MAX_LABELS; ) {
        comma = strchr(p, ',');

        if (comma == NULL) {
            comma = p + strlen(p);
        }

        f->label_names[f->nlabels] = eg_metrics_strdup(p,
                                                      (size_t) (comma - p));
        if (f->label_names[f->nlabels] == NULL) {
            f = NULL;
            goto done;
        }

        f->nlabels++;
        p = *comma ? comma + 1 : comma;
    }

    for (i = 0; i <= nbuckets; i++) {
        if (i < nbuckets) {
            f->bounds[i] = buckets[i];
            (void) snprintf(buf, sizeof(buf), "%g", buckets[i]);

        } else {
            (void) snprintf(buf, sizeof(buf), "+Inf");
        }

        f->le[i] = eg_metrics_strdup(buf, strlen(buf));
        if (f->le[i] == NULL) {
            f = NULL;
            goto done;
        }
    }

    f->nbuckets = nbuckets;

    /* the HELP and TYPE lines never change: render them once */

    eg_memzero(&w, sizeof(eg_writer_t));
    eg_metrics_family_header(&w, f);

    f->header = eg_slab_alloc_locked(eg_metrics_pool, w.len + 1);
    if (f->header == NULL) {
        f = NULL;
        goto done;
    }

    f->header_len = w.len;
    w.p = f->header;
    w.last = f->header + w.len + 1;
    w.len = 0;
    eg_metrics_family_header(&w, f);

    if (f->nlabels == 0) {
        /* the one series a family without labels has, present from 0 */

        m = eg_slab_calloc_locked(eg_metrics_pool, sizeof(eg_metric_t));
        if (m == NULL) {
            f = NULL;
            goto done;
        }

        m->family = f;
        m->labels = (u_char *) "";

        if (type == EG_METRIC_HISTOGRAM) {
            m->buckets = eg_slab_calloc_locked(eg_metrics_pool,
                                       (nbuckets + 1) * sizeof(uint64_t));
            if (m->buckets == NULL) {
                f = NULL;
                goto done;
            }
        }

        f->series = m;
        f->nseries = 1;
    }

    *root->last = f;
    root->last = &f->next;

done:

    eg_shmtx_unlock(&eg_metrics_pool->mutex);

    return f;
}


eg_metric_t *
eg_metrics_series(eg_metric_family_t *f, eg_str_t *values)
{
    u_char             buf[512];
    eg_uint_t          i;
    eg_metric_t       *m, **mp;
    eg_writer_t   o;

    if (f == NULL) {
        return NULL;
    }

    if (f->nlabels == 0) {
        return f->series;
    }

    /* render the labels once; that string is the series' identity */

    o.p = buf;
    o.last = buf + sizeof(buf);
    o.len = 0;

    for (i = 0; i < f->nlabels; i++) {
        eg_writer_printf(&o, "%s%s=\"", i ? "," : "",
                         (char *) f->label_names[i]);
        eg_metrics_escape(&o, values[i].data, values[i].len, 1);
        eg_writer_printf(&o, "\"");
    }

    if (o.len >= sizeof(buf)) {
        return NULL;
    }

    /* the common case, a series seen before, needs no lock */

    for (m = __atomic_load_n(&f->series, __ATOMIC_ACQUIRE);
         m;
         m = __atomic_load_n(&m->next, __ATOMIC_ACQUIRE))
    {
        if (m->labels_len == o.len && eg_memcmp(m->labels, buf, o.len) == 0)
        {
            return m;
        }
    }

    eg_shmtx_lock(&eg_metrics_pool->mutex);

    for (mp = &f->series; *mp; mp = &(*mp)->next) {
        m = *mp;

        if (m->labels_len == o.len && eg_memcmp(m->labels, buf, o.len) == 0)
        {
            goto done;
        }
    }

    m = eg_slab_calloc_locked(eg_metrics_pool, sizeof(eg_metric_t));
    if (m == NULL) {
        goto done;
    }

    m->family = f;
    m->labels = eg_metrics_strdup((char *) buf, o.len);
    m->labels_len = o.len;

    if (m->labels == NULL) {
        eg_slab_free_locked(eg_metrics_pool, m);
        m = NULL;
        goto done;
    }

    if (f->type == EG_METRIC_HISTOGRAM) {
        m->buckets = eg_slab_calloc_locked(eg_metrics_pool,
                                      (f->nbuckets + 1) * sizeof(uint64_t));
        if (m->buckets == NULL) {
            eg_slab_free_locked(eg_metrics_pool, m->labels);
            eg_slab_free_locked(eg_metrics_pool, m);
            m = NULL;
            goto done;
        }
    }

    /* fully built before it becomes visible to lock-free readers */
    __atomic_store_n(mp, m, __ATOMIC_RELEASE);
    f->nseries++;

done:

    eg_shmtx_unlock(&eg_metrics_pool->mutex);

    return m;
}


eg_metric_t *
eg_metrics_series1(eg_metric_family_t *f, const char *value)
{
    eg_str_t  v;

    v.data = (u_char *) value;
    v.len = strlen(value);

    return eg_metrics_series(f, &v);
}


void
eg_metric_observe(eg_metric_t *m, double v)
{
    double               sum;
    uint64_t             old, new;
    eg_uint_t            i;
    eg_metric_family_t  *f;

    if (m == NULL) {
        return;
    }

    f = m->family;

    for (i = 0; i < f->nbuckets; i++) {
        if (v <= f->bounds[i]) {
            break;
        }
    }

    (void) __atomic_fetch_add(&m->buckets[i], 1, __ATOMIC_RELAXED);

    /* the sum is a double: add it with a compare-and-swap loop */

    old = __atomic_load_n(&m->sum, __ATOMIC_RELAXED);

    do {
        eg_memcpy(&sum, &old, sizeof(double));
        sum += v;
        eg_memcpy(&new, &sum, sizeof(double));
    } while (!__atomic_compare_exchange_n(&m->sum, &old, new, 1,
                                          __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));

    (void) __atomic_fetch_add(&m->value, 1, __ATOMIC_RELAXED);
}


/* HELP text escapes \ and newline; label values " as well */
static void
eg_metrics_escape(eg_writer_t *o, u_char *s, size_t len, eg_uint_t quote)
{
    u_char  *last, *start;

    start = s;

    for (last = s + len; s < last; s++) {
        if (*s != '\\' && *s != '\n' && !(*s == '"' && quote)) {
            continue;
        }

        eg_writer_write(o, start, (size_t) (s - start));

        if (*s == '\n') {
            eg_writer_lit(o, "\\n");

        } else {
            eg_writer_lit(o, "\\");
            eg_writer_write(o, s, 1);
        }

        start = s + 1;
    }

    eg_writer_write(o, start, (size_t) (last - start));
}


static void
eg_metrics_labels(eg_writer_t *o, eg_metric_t *m, u_char *le)
{
    if (m->labels_len == 0 && le == NULL) {
        return;
    }

    eg_writer_lit(o, "{");
    eg_writer_write(o, m->labels, m->labels_len);

    if (le) {
        if (m->labels_len) {
            eg_writer_lit(o, ",");
        }

        eg_writer_lit(o, "le=\"");
        eg_writer_str(o, le);
        eg_writer_lit(o, "\"");
    }

    eg_writer_lit(o, "}");
}


static void
eg_metrics_render_all(eg_writer_t *o)
{
    double               sum;
    uint64_t             bits, cum;
    eg_uint_t            i;
    eg_metric_t         *m;
    eg_metric_family_t  *f;
    eg_metrics_root_t   *root;

    root = eg_metrics_pool->data;

    for (f = root->families; f; f = f->next) {

        eg_writer_write(o, f->header, f->header_len);

        for (m = f->series; m; m = m->next) {

            if (f->type != EG_METRIC_HISTOGRAM) {
                eg_writer_str(o, f->name);
                eg_metrics_labels(o, m, NULL);
                eg_writer_lit(o, " ");
                eg_writer_int(o, __atomic_load_n(&m->value,
                                                 __ATOMIC_RELAXED));
                eg_writer_lit(o, "\n");
                continue;
            }

            /* buckets are cumulative in the exposition format */

            cum = 0;

            for (i = 0; i <= f->nbuckets; i++) {
                cum += __atomic_load_n(&m->buckets[i], __ATOMIC_RELAXED);

                eg_writer_str(o, f->name);
                eg_writer_lit(o, "_bucket");
                eg_metrics_labels(o, m, f->le[i]);
                eg_writer_lit(o, " ");
                eg_writer_int(o, (int64_t) cum);
                eg_writer_lit(o, "\n");
            }

            bits = __atomic_load_n(&m->sum, __ATOMIC_RELAXED);
            eg_memcpy(&sum, &bits, sizeof(double));

            eg_writer_str(o, f->name);
            eg_writer_lit(o, "_sum");
            eg_metrics_labels(o, m, NULL);
            eg_writer_printf(o, " %.9g\n", sum);

            eg_writer_str(o, f->name);
            eg_writer_lit(o, "_count");
            eg_metrics_labels(o, m, NULL);
            eg_writer_lit(o, " ");
            eg_writer_int(o, (int64_t) cum);
            eg_writer_lit(o, "\n");
        }
    }
}


eg_int_t
eg_metrics_render(eg_pool_t *pool, eg_str_t *out, eg_str_t *extra)
{
    size_t        len;
    eg_uint_t     tries;
    eg_writer_t   o;

    if (eg_metrics_pool == NULL) {
        eg_str_null(out);
        return EG_ERROR;
    }

    eg_shmtx_lock(&eg_metrics_pool->mutex);

    /*
     * Measure, then write into memory of that size.  Counters are atomics
     * that other processes bump without the lock, so one can grow a digit
     * between the passes: the slack covers the usual case, and a render
     * that still did not fit is done again with the size it reported.
     */

    o.p = NULL;
    o.last = NULL;
    o.len = 0;

    eg_metrics_render_all(&o);

    for (tries = 0; ; tries++) {
        len = o.len + 64 + (extra ? extra->len : 0);

        o.p = eg_pnalloc(pool, len + 1);
        if (o.p == NULL) {
            eg_shmtx_unlock(&eg_metrics_pool->mutex);
            return EG_ERROR;
        }

        out->data = o.p;
        o.last = o.p + len + 1;
        o.len = 0;

        eg_metrics_render_all(&o);

        if (o.len + (extra ? extra->len : 0) <= len || tries == 2) {
            break;
        }
    }

    eg_shmtx_unlock(&eg_metrics_pool->mutex);

    if (extra && extra->len && o.p < o.last) {
        len = eg_min(extra->len, (size_t) (o.last - o.p - 1));
        eg_memcpy(o.p, extra->data, len);
        o.p += len;
    }

    out->len = (size_t) (o.p - out->data);

    return EG_OK;
}
