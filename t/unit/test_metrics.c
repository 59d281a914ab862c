/*
 * The metrics registry in a real shared mapping, without a cycle: a slab
 * pool made root of an empty registry (eg_metrics_init_pool(), as the
 * zone's init does) and set as eg_metrics_pool.  Families, series with
 * escaped labels, histograms, exact rendering in Prometheus text format,
 * exhaustion of the zone, and updates made by another process.
 *
 * Also the eg_writer_t the renderers use: measure, then write.
 */

#include <eg_unit.h>


#define EG_UNIT_METRICS_ZONE   (1024 * 1024)

/* room enough for what a test renders; rendering is checked exactly */
#define EG_UNIT_RENDER_MAX     4096


static eg_slab_pool_t  *zone;
static size_t           zone_size;
static eg_pool_t       *pool;
static eg_log_t         eg_unit_quiet_log;


static void
eg_unit_metrics_open(size_t size)
{
    void      *addr;
    eg_str_t   name = eg_string("engram_metrics");

    addr = mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_ANON|MAP_SHARED, -1, 0);
    ck_assert_msg(addr != MAP_FAILED, "mmap() failed: %s", strerror(errno));

    zone = addr;
    zone_size = size;

    ck_assert_int_eq(eg_slab_init(zone, size, &name), EG_OK);

    /* exhaustion is tested on purpose: keep stderr quiet */
    zone->log_nomem = 0;

    ck_assert_int_eq(eg_metrics_init_pool(zone), EG_OK);
    ck_assert_ptr_nonnull(zone->data);

    eg_metrics_pool = zone;

    eg_memzero(&eg_unit_quiet_log, sizeof(eg_log_t));
    eg_unit_quiet_log.log_level = EG_LOG_EMERG;

    pool = eg_create_pool(EG_DEFAULT_POOL_SIZE, &eg_unit_quiet_log);
    ck_assert_ptr_nonnull(pool);
}


static void
eg_unit_metrics_setup(void)
{
    eg_unit_metrics_open(EG_UNIT_METRICS_ZONE);
}


static void
eg_unit_metrics_small_setup(void)
{
    eg_unit_metrics_open(EG_SLAB_MIN_ZONE);
}


static void
eg_unit_metrics_teardown(void)
{
    eg_metrics_pool = NULL;

    if (pool) {
        eg_destroy_pool(pool);
        pool = NULL;
    }

    if (zone) {
        eg_shmtx_destroy(&zone->mutex);
        (void) munmap((void *) zone, zone_size);
        zone = NULL;
    }
}


/* the registry as text, terminated, with extra appended (unless NULL) */
static const char *
eg_unit_render_extra(eg_str_t *extra)
{
    char      *text;
    eg_str_t   out;

    ck_assert_int_eq(eg_metrics_render(pool, &out, extra), EG_OK);

    text = eg_pnalloc(pool, out.len + 1);
    ck_assert_ptr_nonnull(text);

    eg_memcpy(text, out.data, out.len);
    text[out.len] = '\0';

    ck_assert_uint_eq(strlen(text), out.len);

    return text;
}


static const char *
eg_unit_render(void)
{
    return eg_unit_render_extra(NULL);
}


static eg_metric_family_t *
eg_unit_counter(const char *name, const char *labels)
{
    eg_metric_family_t  *f;

    f = eg_metrics_family(EG_METRIC_COUNTER, name, "Help.", labels, NULL, 0);
    ck_assert_ptr_nonnull(f);

    return f;
}


/* waits for a child and returns its exit code, or -1 if it was killed */
static int
eg_unit_wait(pid_t pid)
{
    int  status;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);

    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


/* counters and gauges */

START_TEST(counter_without_labels_renders_help_type_and_zero)
{
    eg_metric_family_t  *f;

    f = eg_metrics_family(EG_METRIC_COUNTER, "engram_unit_things_total",
                          "Things counted.", NULL, NULL, 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->nseries, 1);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_things_total Things counted.\n"
                     "# TYPE engram_unit_things_total counter\n"
                     "engram_unit_things_total 0\n");
}
END_TEST


START_TEST(counter_counts_up_with_inc)
{
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_total", NULL);

    m = eg_metrics_series(f, NULL);
    ck_assert_ptr_eq(m, f->series);

    eg_metric_inc(m, 1);
    eg_metric_inc(m, 41);

    ck_assert_int_eq(m->value, 42);
    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_total Help.\n"
                     "# TYPE engram_unit_total counter\n"
                     "engram_unit_total 42\n");
}
END_TEST


START_TEST(gauge_is_set_and_decremented)
{
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_metrics_family(EG_METRIC_GAUGE, "engram_unit_members",
                          "Members known.", NULL, NULL, 0);
    ck_assert_ptr_nonnull(f);

    m = eg_metrics_series(f, NULL);

    eg_metric_set(m, 10);
    eg_metric_dec(m, 3);
    ck_assert_int_eq(m->value, 7);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_members Members known.\n"
                     "# TYPE engram_unit_members gauge\n"
                     "engram_unit_members 7\n");
}
END_TEST


START_TEST(gauge_renders_negative_values)
{
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_metrics_family(EG_METRIC_GAUGE, "engram_unit_skew", "Skew.",
                          NULL, NULL, 0);
    m = eg_metrics_series(f, NULL);

    eg_metric_set(m, 2);
    eg_metric_dec(m, 5);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_skew Skew.\n"
                     "# TYPE engram_unit_skew gauge\n"
                     "engram_unit_skew -3\n");
}
END_TEST


START_TEST(help_text_escapes_backslash_and_newline_only)
{
    (void) eg_metrics_family(EG_METRIC_COUNTER, "engram_unit_total",
                             "Line one\nC:\\dir \"quoted\".", NULL, NULL, 0);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_total Line one\\nC:\\\\dir "
                     "\"quoted\".\n"
                     "# TYPE engram_unit_total counter\n"
                     "engram_unit_total 0\n");
}
END_TEST


/* labelled series */

START_TEST(labelled_family_has_no_series_before_first_use)
{
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_requests_total", "code");

    ck_assert_uint_eq(f->nlabels, 1);
    ck_assert_str_eq((char *) f->label_names[0], "code");
    ck_assert_uint_eq(f->nseries, 0);
    ck_assert_ptr_null(f->series);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_requests_total Help.\n"
                     "# TYPE engram_unit_requests_total counter\n");
}
END_TEST


START_TEST(labelled_series_is_created_on_first_use)
{
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_requests_total", "code");

    m = eg_metrics_series1(f, "200");
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_eq(m->family, f);
    ck_assert_uint_eq(f->nseries, 1);
    ck_assert_int_eq(m->value, 0);

    eg_metric_inc(m, 3);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_requests_total Help.\n"
                     "# TYPE engram_unit_requests_total counter\n"
                     "engram_unit_requests_total{code=\"200\"} 3\n");
}
END_TEST


START_TEST(same_label_values_give_the_same_series)
{
    u_char               value[] = "200 and more";
    eg_str_t             v;
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_requests_total", "code");

    m = eg_metrics_series1(f, "200");

    /* the value is taken by length, not up to a NUL */
    v.data = value;
    v.len = 3;

    ck_assert_ptr_eq(eg_metrics_series(f, &v), m);
    ck_assert_ptr_eq(eg_metrics_series1(f, "200"), m);
    ck_assert_uint_eq(f->nseries, 1);
}
END_TEST


START_TEST(different_label_values_give_different_series)
{
    eg_metric_t         *ok, *nf;
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_requests_total", "code");

    ok = eg_metrics_series1(f, "200");
    nf = eg_metrics_series1(f, "404");

    ck_assert_ptr_nonnull(ok);
    ck_assert_ptr_nonnull(nf);
    ck_assert_ptr_ne(ok, nf);
    ck_assert_uint_eq(f->nseries, 2);

    eg_metric_inc(nf, 1);

    /* in the order they were made */
    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_requests_total Help.\n"
                     "# TYPE engram_unit_requests_total counter\n"
                     "engram_unit_requests_total{code=\"200\"} 0\n"
                     "engram_unit_requests_total{code=\"404\"} 1\n");
}
END_TEST


START_TEST(several_labels_render_in_declared_order)
{
    eg_str_t             v[2];
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_requests_total", "code,method");
    ck_assert_uint_eq(f->nlabels, 2);

    eg_str_set(&v[0], "200");
    eg_str_set(&v[1], "GET");

    m = eg_metrics_series(f, v);
    ck_assert_ptr_nonnull(m);

    eg_str_set(&v[1], "HEAD");
    ck_assert_ptr_ne(eg_metrics_series(f, v), m);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_requests_total Help.\n"
                     "# TYPE engram_unit_requests_total counter\n"
                     "engram_unit_requests_total{code=\"200\",method=\"GET\"} "
                     "0\n"
                     "engram_unit_requests_total{code=\"200\",method=\"HEAD\"} "
                     "0\n");
}
END_TEST


START_TEST(label_values_escape_quote_backslash_and_newline)
{
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_total", "v");

    ck_assert_ptr_nonnull(eg_metrics_series1(f, "a\"b\\c\nd"));

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_total Help.\n"
                     "# TYPE engram_unit_total counter\n"
                     "engram_unit_total{v=\"a\\\"b\\\\c\\nd\"} 0\n");
}
END_TEST


START_TEST(values_differing_only_in_escaping_are_different_series)
{
    eg_metric_t         *newline, *backslash_n;
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_total", "v");

    newline = eg_metrics_series1(f, "a\nb");
    backslash_n = eg_metrics_series1(f, "a\\nb");

    ck_assert_ptr_nonnull(newline);
    ck_assert_ptr_nonnull(backslash_n);
    ck_assert_ptr_ne(newline, backslash_n);
}
END_TEST


START_TEST(empty_label_value_is_a_series_of_its_own)
{
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_total", "v");

    ck_assert_ptr_nonnull(eg_metrics_series1(f, ""));
    ck_assert_ptr_ne(eg_metrics_series1(f, ""), eg_metrics_series1(f, "x"));

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_total Help.\n"
                     "# TYPE engram_unit_total counter\n"
                     "engram_unit_total{v=\"\"} 0\n"
                     "engram_unit_total{v=\"x\"} 0\n");
}
END_TEST


START_TEST(too_long_label_values_give_no_series)
{
    char                 value[600];
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_total", "v");

    eg_memset(value, 'x', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';

    ck_assert_ptr_null(eg_metrics_series1(f, value));
    ck_assert_uint_eq(f->nseries, 0);
}
END_TEST


/* histograms */

static const double  eg_unit_bounds[] = { 0.005, 0.1, 1, 2.5 };


static eg_metric_family_t *
eg_unit_histogram(const char *labels)
{
    eg_metric_family_t  *f;

    f = eg_metrics_family(EG_METRIC_HISTOGRAM, "engram_unit_seconds",
                          "Latency.", labels, eg_unit_bounds,
                          sizeof(eg_unit_bounds) / sizeof(double));
    ck_assert_ptr_nonnull(f);

    return f;
}


START_TEST(histogram_le_values_are_shortest_decimals)
{
    eg_metric_family_t  *f;

    f = eg_unit_histogram(NULL);

    ck_assert_uint_eq(f->nbuckets, 4);
    ck_assert_str_eq((char *) f->le[0], "0.005");
    ck_assert_str_eq((char *) f->le[1], "0.1");
    ck_assert_str_eq((char *) f->le[2], "1");
    ck_assert_str_eq((char *) f->le[3], "2.5");
    ck_assert_str_eq((char *) f->le[4], "+Inf");
}
END_TEST


START_TEST(empty_histogram_renders_zero_buckets_sum_and_count)
{
    (void) eg_unit_histogram(NULL);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_seconds Latency.\n"
                     "# TYPE engram_unit_seconds histogram\n"
                     "engram_unit_seconds_bucket{le=\"0.005\"} 0\n"
                     "engram_unit_seconds_bucket{le=\"0.1\"} 0\n"
                     "engram_unit_seconds_bucket{le=\"1\"} 0\n"
                     "engram_unit_seconds_bucket{le=\"2.5\"} 0\n"
                     "engram_unit_seconds_bucket{le=\"+Inf\"} 0\n"
                     "engram_unit_seconds_sum 0\n"
                     "engram_unit_seconds_count 0\n");
}
END_TEST


START_TEST(histogram_buckets_are_cumulative)
{
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_unit_histogram(NULL);
    m = eg_metrics_series(f, NULL);

    eg_metric_observe(m, 0.001);
    eg_metric_observe(m, 0.05);
    eg_metric_observe(m, 0.5);
    eg_metric_observe(m, 0.75);
    eg_metric_observe(m, 3);
    eg_metric_observe(m, 100);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_seconds Latency.\n"
                     "# TYPE engram_unit_seconds histogram\n"
                     "engram_unit_seconds_bucket{le=\"0.005\"} 1\n"
                     "engram_unit_seconds_bucket{le=\"0.1\"} 2\n"
                     "engram_unit_seconds_bucket{le=\"1\"} 4\n"
                     "engram_unit_seconds_bucket{le=\"2.5\"} 4\n"
                     "engram_unit_seconds_bucket{le=\"+Inf\"} 6\n"
                     "engram_unit_seconds_sum 104.301\n"
                     "engram_unit_seconds_count 6\n");
}
END_TEST


START_TEST(observation_on_a_bound_counts_in_that_bucket)
{
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_unit_histogram(NULL);
    m = eg_metrics_series(f, NULL);

    eg_metric_observe(m, 0.1);
    eg_metric_observe(m, 2.5);

    ck_assert_uint_eq(m->buckets[0], 0);
    ck_assert_uint_eq(m->buckets[1], 1);
    ck_assert_uint_eq(m->buckets[2], 0);
    ck_assert_uint_eq(m->buckets[3], 1);
    ck_assert_uint_eq(m->buckets[4], 0);
}
END_TEST


START_TEST(histogram_inf_bucket_equals_count)
{
    double               v;
    eg_uint_t            i;
    const char          *text;
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_unit_histogram(NULL);
    m = eg_metrics_series(f, NULL);

    for (i = 0, v = 0.0001; i < 37; i++, v *= 1.5) {
        eg_metric_observe(m, v);
    }

    ck_assert_int_eq(m->value, 37);

    text = eg_unit_render();

    ck_assert_ptr_nonnull(strstr(text, "_bucket{le=\"+Inf\"} 37\n"));
    ck_assert_ptr_nonnull(strstr(text, "engram_unit_seconds_count 37\n"));
}
END_TEST


START_TEST(labelled_histogram_puts_le_after_the_labels)
{
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_metrics_family(EG_METRIC_HISTOGRAM, "engram_unit_seconds",
                          "Latency.", "peer", eg_unit_bounds, 1);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->nseries, 0);

    m = eg_metrics_series1(f, "n1");
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(m->buckets);

    eg_metric_observe(m, 0.25);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_seconds Latency.\n"
                     "# TYPE engram_unit_seconds histogram\n"
                     "engram_unit_seconds_bucket{peer=\"n1\",le=\"0.005\"} 0\n"
                     "engram_unit_seconds_bucket{peer=\"n1\",le=\"+Inf\"} 1\n"
                     "engram_unit_seconds_sum{peer=\"n1\"} 0.25\n"
                     "engram_unit_seconds_count{peer=\"n1\"} 1\n");
}
END_TEST


/* the registry */

START_TEST(family_declared_again_is_the_same_family)
{
    eg_metric_family_t  *f, *again;

    f = eg_unit_counter("engram_unit_total", NULL);
    eg_metric_inc(f->series, 5);

    /* what a reload does: the counts go on */
    again = eg_unit_counter("engram_unit_total", NULL);

    ck_assert_ptr_eq(again, f);
    ck_assert_int_eq(again->series->value, 5);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_total Help.\n"
                     "# TYPE engram_unit_total counter\n"
                     "engram_unit_total 5\n");
}
END_TEST


START_TEST(labelled_family_declared_again_keeps_its_series)
{
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_total", "code");
    m = eg_metrics_series1(f, "500");

    ck_assert_ptr_eq(eg_unit_counter("engram_unit_total", "code"), f);
    ck_assert_ptr_eq(eg_metrics_series1(f, "500"), m);
    ck_assert_uint_eq(f->nseries, 1);
}
END_TEST


START_TEST(families_render_in_declaration_order)
{
    (void) eg_unit_counter("engram_unit_b_total", NULL);
    (void) eg_metrics_family(EG_METRIC_GAUGE, "engram_unit_a", "Help.",
                             NULL, NULL, 0);
    (void) eg_unit_counter("engram_unit_c_total", NULL);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_b_total Help.\n"
                     "# TYPE engram_unit_b_total counter\n"
                     "engram_unit_b_total 0\n"
                     "# HELP engram_unit_a Help.\n"
                     "# TYPE engram_unit_a gauge\n"
                     "engram_unit_a 0\n"
                     "# HELP engram_unit_c_total Help.\n"
                     "# TYPE engram_unit_c_total counter\n"
                     "engram_unit_c_total 0\n");
}
END_TEST


START_TEST(render_appends_the_extra_text)
{
    eg_str_t  extra = eg_string("# extra\nengram_unit_extra 1\n");

    (void) eg_unit_counter("engram_unit_total", NULL);

    ck_assert_str_eq(eg_unit_render_extra(&extra),
                     "# HELP engram_unit_total Help.\n"
                     "# TYPE engram_unit_total counter\n"
                     "engram_unit_total 0\n"
                     "# extra\nengram_unit_extra 1\n");
}
END_TEST


START_TEST(render_of_an_empty_registry_is_empty)
{
    eg_str_t  out, extra = eg_string("x 1\n");

    ck_assert_int_eq(eg_metrics_render(pool, &out, NULL), EG_OK);
    ck_assert_uint_eq(out.len, 0);

    ck_assert_str_eq(eg_unit_render_extra(&extra), "x 1\n");
}
END_TEST


/*
 * Many series with the widest values: the output is exactly the text
 * they make, to the byte, with nothing cut and no slack left in it.
 */
START_TEST(rendered_size_is_exact)
{
    char                *expect, *p, *last, value[16];
    size_t               n;
    int64_t              v;
    eg_str_t             out, extra = eg_string("# extra\nx 1\n");
    eg_uint_t            i;
    eg_metric_t         *m;
    eg_metric_family_t  *f, *g;

    f = eg_unit_counter("engram_unit_big_total", "id");
    g = eg_metrics_family(EG_METRIC_GAUGE, "engram_unit_low", "Low.",
                          NULL, NULL, 0);
    eg_metric_set(g->series, INT64_MIN);

    expect = malloc(128 * 1024);
    ck_assert_ptr_nonnull(expect);

    p = expect;
    last = expect + 128 * 1024;

    p += snprintf(p, (size_t) (last - p),
                  "# HELP engram_unit_big_total Help.\n"
                  "# TYPE engram_unit_big_total counter\n");

    for (i = 0; i < 1000; i++) {
        (void) snprintf(value, sizeof(value), "%u", (unsigned) i);
        m = eg_metrics_series1(f, value);
        ck_assert_ptr_nonnull(m);

        v = (i % 2) ? INT64_MAX - (int64_t) i : -(int64_t) i;
        eg_metric_set(m, v);

        p += snprintf(p, (size_t) (last - p),
                      "engram_unit_big_total{id=\"%u\"} %lld\n",
                      (unsigned) i, (long long) v);
    }

    p += snprintf(p, (size_t) (last - p),
                  "# HELP engram_unit_low Low.\n"
                  "# TYPE engram_unit_low gauge\n"
                  "engram_unit_low %lld\n", (long long) INT64_MIN);

    ck_assert(p < last);

    n = (size_t) (p - expect);

    ck_assert_int_eq(eg_metrics_render(pool, &out, NULL), EG_OK);
    ck_assert_uint_eq(out.len, n);
    ck_assert_int_eq(memcmp(out.data, expect, n), 0);

    ck_assert_int_eq(eg_metrics_render(pool, &out, &extra), EG_OK);
    ck_assert_uint_eq(out.len, n + extra.len);
    ck_assert_int_eq(memcmp(out.data, expect, n), 0);
    ck_assert_int_eq(memcmp(out.data + n, extra.data, extra.len), 0);

    free(expect);
}
END_TEST


START_TEST(render_without_a_registry_is_an_error)
{
    eg_str_t  out;

    eg_metrics_pool = NULL;

    out.len = 7;
    out.data = (u_char *) "garbage";

    ck_assert_int_eq(eg_metrics_render(pool, &out, NULL), EG_ERROR);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_ptr_null(out.data);
}
END_TEST


START_TEST(family_without_a_registry_is_null)
{
    eg_metrics_pool = NULL;

    ck_assert_ptr_null(eg_metrics_family(EG_METRIC_COUNTER,
                                         "engram_unit_total", "Help.",
                                         NULL, NULL, 0));
}
END_TEST


START_TEST(family_with_too_many_buckets_is_null)
{
    double  bounds[EG_METRIC_MAX_BUCKETS + 1];

    eg_memzero(bounds, sizeof(bounds));

    ck_assert_ptr_null(eg_metrics_family(EG_METRIC_HISTOGRAM,
                                         "engram_unit_seconds", "Help.",
                                         NULL, bounds,
                                         EG_METRIC_MAX_BUCKETS + 1));
    ck_assert_ptr_nonnull(eg_metrics_family(EG_METRIC_HISTOGRAM,
                                            "engram_unit_seconds", "Help.",
                                            NULL, bounds,
                                            EG_METRIC_MAX_BUCKETS));
}
END_TEST


/* running out of room */

START_TEST(updates_of_a_null_series_are_harmless)
{
    eg_metric_t  *m;

    m = eg_metrics_series(NULL, NULL);
    ck_assert_ptr_null(m);

    eg_metric_inc(m, 1);
    eg_metric_dec(m, 1);
    eg_metric_set(m, 1);
    eg_metric_observe(m, 1.0);
}
END_TEST


START_TEST(series_is_null_when_the_zone_is_full)
{
    char                 value[32];
    eg_uint_t            i, n;
    eg_metric_t         *first, *m;
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_total", "id");

    first = eg_metrics_series1(f, "0");
    ck_assert_ptr_nonnull(first);

    m = first;

    for (n = 1; n < 100000 && m != NULL; n++) {
        (void) snprintf(value, sizeof(value), "%u", (unsigned) n);
        m = eg_metrics_series1(f, value);
    }

    ck_assert_ptr_null(m);
    ck_assert_uint_gt(n, 10);
    ck_assert_uint_eq(f->nseries, n - 1);

    /* a full zone still counts the series it has, and renders them */

    eg_metric_inc(m, 1);
    eg_metric_inc(first, 2);

    ck_assert_ptr_eq(eg_metrics_series1(f, "0"), first);
    ck_assert_int_eq(first->value, 2);

    ck_assert_ptr_nonnull(strstr(eg_unit_render(),
                                 "engram_unit_total{id=\"0\"} 2\n"));

    for (i = 0; i < 1000; i++) {
        eg_unit_require(eg_metrics_series1(f, "new") == NULL,
                        "a series was made in a full zone");
    }
}
END_TEST


START_TEST(family_is_null_when_the_zone_is_full)
{
    void  *p;

    /* take every page, then every slot of every size */

    while (eg_slab_alloc(zone, EG_SLAB_PAGE_SIZE) != NULL) { /* void */ }

    for (p = (void *) 1; p != NULL; ) {
        p = eg_slab_alloc(zone, 16);
    }

    ck_assert_ptr_null(eg_metrics_family(EG_METRIC_COUNTER,
                                         "engram_unit_total", "Help.",
                                         NULL, NULL, 0));
    ck_assert_ptr_null(eg_metrics_family(EG_METRIC_HISTOGRAM,
                                         "engram_unit_seconds", "Help.",
                                         "peer", eg_unit_bounds, 4));
    ck_assert_str_eq(eg_unit_render(), "");
}
END_TEST


/* other processes */

START_TEST(increments_from_a_child_are_seen_by_the_parent)
{
    pid_t                pid;
    eg_uint_t            i;
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_total", NULL);

    pid = fork();
    ck_assert_int_ne(pid, -1);

    if (pid == 0) {
        for (i = 0; i < 100000; i++) {
            eg_metric_inc(f->series, 1);
        }

        _exit(0);
    }

    for (i = 0; i < 100000; i++) {
        eg_metric_inc(f->series, 1);
    }

    ck_assert_int_eq(eg_unit_wait(pid), 0);

    ck_assert_int_eq(f->series->value, 200000);
}
END_TEST


START_TEST(series_made_by_a_child_is_seen_by_the_parent)
{
    pid_t                pid;
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_unit_counter("engram_unit_total", "who");
    (void) eg_metrics_series1(f, "parent");

    pid = fork();
    ck_assert_int_ne(pid, -1);

    if (pid == 0) {
        m = eg_metrics_series1(f, "child");
        eg_metric_inc(m, 7);
        _exit(m == NULL ? 1 : 0);
    }

    ck_assert_int_eq(eg_unit_wait(pid), 0);

    ck_assert_uint_eq(f->nseries, 2);

    m = eg_metrics_series1(f, "child");
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->value, 7);
    ck_assert_uint_eq(f->nseries, 2);

    ck_assert_str_eq(eg_unit_render(),
                     "# HELP engram_unit_total Help.\n"
                     "# TYPE engram_unit_total counter\n"
                     "engram_unit_total{who=\"parent\"} 0\n"
                     "engram_unit_total{who=\"child\"} 7\n");
}
END_TEST


START_TEST(observations_from_a_child_are_seen_by_the_parent)
{
    pid_t                pid;
    eg_uint_t            i;
    eg_metric_t         *m;
    eg_metric_family_t  *f;

    f = eg_unit_histogram(NULL);
    m = f->series;

    pid = fork();
    ck_assert_int_ne(pid, -1);

    if (pid == 0) {
        for (i = 0; i < 10000; i++) {
            eg_metric_observe(m, 0.5);
        }

        _exit(0);
    }

    for (i = 0; i < 10000; i++) {
        eg_metric_observe(m, 2);
    }

    ck_assert_int_eq(eg_unit_wait(pid), 0);

    ck_assert_int_eq(m->value, 20000);
    ck_assert_uint_eq(m->buckets[2], 10000);
    ck_assert_uint_eq(m->buckets[3], 10000);

    /* every addition of the sum was kept: 10000 * 0.5 + 10000 * 2 */
    ck_assert_ptr_nonnull(strstr(eg_unit_render(),
                                 "engram_unit_seconds_sum 25000\n"));
}
END_TEST


/* the writer */

static void
eg_unit_write_sample(eg_writer_t *w)
{
    eg_writer_printf(w, "%s=%d;", "answer", 42);
    eg_writer_write(w, (u_char *) "raw bytes", 3);
    eg_writer_lit(w, "|");
    eg_writer_int(w, 0);
    eg_writer_lit(w, "|");
    eg_writer_int(w, -123);
    eg_writer_lit(w, "|");
    eg_writer_int(w, INT64_MAX);
    eg_writer_lit(w, "|");
    eg_writer_int(w, INT64_MIN);
    eg_writer_lit(w, "|");
    eg_writer_html(w, (u_char *) "<b>&amp;</b>", 12);
    eg_writer_str(w, "|end");
    eg_writer_printf(w, "%s", "");
    eg_writer_printf(w, "%05.1f", 2.5);
}


#define EG_UNIT_SAMPLE                                                       \
    "answer=42;raw|0|-123|9223372036854775807|-9223372036854775808|"          \
    "&#60;b&#62;&#38;amp;&#60;/b&#62;|end002.5"


START_TEST(measuring_pass_counts_without_writing)
{
    eg_writer_t  w;

    eg_memzero(&w, sizeof(eg_writer_t));

    eg_unit_write_sample(&w);

    ck_assert_ptr_null(w.p);
    ck_assert_uint_eq(w.len, sizeof(EG_UNIT_SAMPLE) - 1);
}
END_TEST


START_TEST(measure_then_write_gives_the_same_text_and_length)
{
    u_char       *buf;
    size_t        len;
    eg_writer_t   w;

    eg_memzero(&w, sizeof(eg_writer_t));
    eg_unit_write_sample(&w);
    len = w.len;

    /* one byte more than measured: printf's terminating NUL */
    buf = malloc(len + 1);
    ck_assert_ptr_nonnull(buf);

    w.p = buf;
    w.last = buf + len + 1;
    w.len = 0;

    eg_unit_write_sample(&w);

    ck_assert_uint_eq(w.len, len);
    ck_assert_ptr_eq(w.p, buf + len);
    ck_assert_int_eq(memcmp(buf, EG_UNIT_SAMPLE, len), 0);

    free(buf);
}
END_TEST


START_TEST(write_and_int_fill_exactly_the_measured_size)
{
    u_char       *buf;
    size_t        len;
    eg_writer_t   w;

    eg_memzero(&w, sizeof(eg_writer_t));
    eg_writer_int(&w, INT64_MIN);
    eg_writer_lit(&w, " bytes");
    len = w.len;

    ck_assert_uint_eq(len, 20 + 6);

    /* no terminating NUL is written: not a byte more is needed */
    buf = malloc(len);
    ck_assert_ptr_nonnull(buf);

    w.p = buf;
    w.last = buf + len;
    w.len = 0;

    eg_writer_int(&w, INT64_MIN);
    eg_writer_lit(&w, " bytes");

    ck_assert_ptr_eq(w.p, w.last);
    ck_assert_uint_eq(w.len, len);
    ck_assert_int_eq(memcmp(buf, "-9223372036854775808 bytes", len), 0);

    free(buf);
}
END_TEST


START_TEST(html_escapes_markup_characters)
{
    u_char       buf[128];
    const char  *in;
    eg_writer_t  w;

    in = "<a href=\"x\">Tom & 'Jerry'</a>";

    w.p = buf;
    w.last = buf + sizeof(buf);
    w.len = 0;

    eg_writer_html(&w, (u_char *) in, strlen(in));

    *w.p = '\0';

    ck_assert_str_eq((char *) buf,
                     "&#60;a href=&#34;x&#34;&#62;Tom &#38; "
                     "&#39;Jerry&#39;&#60;/a&#62;");
    ck_assert_uint_eq(w.len, strlen((char *) buf));
}
END_TEST


START_TEST(html_keeps_other_text_as_is)
{
    u_char       buf[64];
    const char  *in;
    eg_writer_t  w;

    in = "plain text; caf\xc3\xa9 = 100% /?#\\";

    w.p = buf;
    w.last = buf + sizeof(buf);
    w.len = 0;

    eg_writer_html(&w, (u_char *) in, strlen(in));

    ck_assert_uint_eq(w.len, strlen(in));
    ck_assert_int_eq(memcmp(buf, in, w.len), 0);
}
END_TEST


START_TEST(writer_stops_at_the_end_of_short_memory)
{
    u_char       buf[16];
    eg_writer_t  w;

    eg_memset(buf, '#', sizeof(buf));

    w.p = buf;
    w.last = buf + 4;
    w.len = 0;

    eg_writer_lit(&w, "0123456789");
    ck_assert_ptr_eq(w.p, w.last);
    ck_assert_uint_eq(w.len, 10);

    eg_writer_printf(&w, "%s", "abcdef");
    eg_writer_int(&w, 12345);
    eg_writer_html(&w, (u_char *) "<<", 2);

    ck_assert_ptr_eq(w.p, w.last);
    ck_assert_uint_eq(w.len, 10 + 6 + 5 + 10);
    ck_assert_int_eq(memcmp(buf, "0123####", 8), 0);
}
END_TEST


START_TEST(truncated_printf_stays_inside_the_memory)
{
    u_char       buf[16];
    eg_writer_t  w;

    eg_memset(buf, '#', sizeof(buf));

    w.p = buf;
    w.last = buf + 4;
    w.len = 0;

    eg_writer_printf(&w, "%s", "abcdef");

    ck_assert(w.p < w.last);
    ck_assert_uint_eq(w.len, 6);
    ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
    ck_assert_int_eq(memcmp(buf + 4, "####", 4), 0);
}
END_TEST


Suite *
eg_unit_metrics_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("metrics");

    tc = tcase_create("values");
    tcase_add_checked_fixture(tc, eg_unit_metrics_setup,
                              eg_unit_metrics_teardown);
    tcase_add_test(tc, counter_without_labels_renders_help_type_and_zero);
    tcase_add_test(tc, counter_counts_up_with_inc);
    tcase_add_test(tc, gauge_is_set_and_decremented);
    tcase_add_test(tc, gauge_renders_negative_values);
    tcase_add_test(tc, help_text_escapes_backslash_and_newline_only);
    suite_add_tcase(s, tc);

    tc = tcase_create("labels");
    tcase_add_checked_fixture(tc, eg_unit_metrics_setup,
                              eg_unit_metrics_teardown);
    tcase_add_test(tc, labelled_family_has_no_series_before_first_use);
    tcase_add_test(tc, labelled_series_is_created_on_first_use);
    tcase_add_test(tc, same_label_values_give_the_same_series);
    tcase_add_test(tc, different_label_values_give_different_series);
    tcase_add_test(tc, several_labels_render_in_declared_order);
    tcase_add_test(tc, label_values_escape_quote_backslash_and_newline);
    tcase_add_test(tc, values_differing_only_in_escaping_are_different_series);
    tcase_add_test(tc, empty_label_value_is_a_series_of_its_own);
    tcase_add_test(tc, too_long_label_values_give_no_series);
    suite_add_tcase(s, tc);

    tc = tcase_create("histogram");
    tcase_add_checked_fixture(tc, eg_unit_metrics_setup,
                              eg_unit_metrics_teardown);
    tcase_add_test(tc, histogram_le_values_are_shortest_decimals);
    tcase_add_test(tc, empty_histogram_renders_zero_buckets_sum_and_count);
    tcase_add_test(tc, histogram_buckets_are_cumulative);
    tcase_add_test(tc, observation_on_a_bound_counts_in_that_bucket);
    tcase_add_test(tc, histogram_inf_bucket_equals_count);
    tcase_add_test(tc, labelled_histogram_puts_le_after_the_labels);
    suite_add_tcase(s, tc);

    tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, eg_unit_metrics_setup,
                              eg_unit_metrics_teardown);
    tcase_add_test(tc, family_declared_again_is_the_same_family);
    tcase_add_test(tc, labelled_family_declared_again_keeps_its_series);
    tcase_add_test(tc, families_render_in_declaration_order);
    tcase_add_test(tc, render_appends_the_extra_text);
    tcase_add_test(tc, render_of_an_empty_registry_is_empty);
    tcase_add_test(tc, rendered_size_is_exact);
    tcase_add_test(tc, render_without_a_registry_is_an_error);
    tcase_add_test(tc, family_without_a_registry_is_null);
    tcase_add_test(tc, family_with_too_many_buckets_is_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("exhaustion");
    tcase_add_checked_fixture(tc, eg_unit_metrics_small_setup,
                              eg_unit_metrics_teardown);
    tcase_add_test(tc, updates_of_a_null_series_are_harmless);
    tcase_add_test(tc, series_is_null_when_the_zone_is_full);
    tcase_add_test(tc, family_is_null_when_the_zone_is_full);
    suite_add_tcase(s, tc);

    tc = tcase_create("processes");
    tcase_add_checked_fixture(tc, eg_unit_metrics_setup,
                              eg_unit_metrics_teardown);
    tcase_add_test(tc, increments_from_a_child_are_seen_by_the_parent);
    tcase_add_test(tc, series_made_by_a_child_is_seen_by_the_parent);
    tcase_add_test(tc, observations_from_a_child_are_seen_by_the_parent);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_add_test(tc, measuring_pass_counts_without_writing);
    tcase_add_test(tc, measure_then_write_gives_the_same_text_and_length);
    tcase_add_test(tc, write_and_int_fill_exactly_the_measured_size);
    tcase_add_test(tc, html_escapes_markup_characters);
    tcase_add_test(tc, html_keeps_other_text_as_is);
    tcase_add_test(tc, writer_stops_at_the_end_of_short_memory);
    tcase_add_test(tc, truncated_printf_stays_inside_the_memory);
    suite_add_tcase(s, tc);

    return s;
}
