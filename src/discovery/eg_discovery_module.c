/*
 * The discovery chain: the "discovery", "discovery_refresh",
 * "discovery_timeout", "bootstrap_expect" and "resolver" directives, the
 * rounds of lookups in the cluster process, and what the workers show of
 * them (GET /cluster/discovery/health and the metrics).
 *
 * A round asks the methods in order, one at a time, and the first that
 * finds a peer other than this node wins; the gossip module gets those
 * peers (or none) and joins them.  The next round comes after the
 * winner's refresh (or the chain's), sooner when DNS says its answer
 * expires, or at once when the gossip module asks (a join retry).  A
 * lookup that outlives discovery_timeout is cancelled and counts as
 * failed, so one stuck method never stops the chain.
 *
 * What each method last did is kept in a small shared zone, so that the
 * workers can answer the health endpoint without asking the cluster
 * process.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_discovery.h>
#include <eg_resolver.h>
#include <jansson.h>


#define EG_DISCOVERY_MAX          8
#define EG_DISCOVERY_ERROR_LEN    200
#define EG_DISCOVERY_ZONE_SIZE    (64 * 1024)

/* what a method's last lookup gave */
#define EG_DISCOVERY_NEVER        0
#define EG_DISCOVERY_FOUND        1
#define EG_DISCOVERY_EMPTY        2
#define EG_DISCOVERY_FAILED       3
#define EG_DISCOVERY_RUNNING      4


typedef struct {
    char                 name[16];
    eg_uint_t            result;        /* EG_DISCOVERY_* */
    eg_uint_t            peers;
    eg_msec_t            duration;      /* of the last lookup, ms */
    time_t               last;          /* when it answered last */
    uint64_t             attempts;
    uint64_t             successes;
    char                 error[EG_DISCOVERY_ERROR_LEN];
} eg_discovery_method_status_t;


/* in the shared zone: written by the cluster process, read by workers */
typedef struct {
    eg_uint_t            nmethods;
    eg_discovery_method_status_t  methods[EG_DISCOVERY_MAX];
    eg_int_t             winner;        /* index, or -1 */
    eg_uint_t            peers;         /* found in the last round */
    eg_uint_t            reachable;     /* of them, live members */
    time_t               last_discovery;
    time_t               next_refresh;
} eg_discovery_status_t;


typedef struct {
    eg_array_t          *order;         /* eg_str_t, from "discovery" */
    eg_str_t             order_file;
    eg_uint_t            order_line;
    eg_array_t          *methods;       /* eg_discovery_method_t *, added */
    eg_array_t          *chain;         /* the same, in the order asked */
    eg_msec_t            refresh;
    eg_msec_t            timeout;
    eg_int_t             bootstrap_expect;
    eg_array_t          *resolvers;     /* eg_str_t "addr[:port]" */
    eg_msec_t            resolver_timeout;
    eg_msec_t            resolver_valid;    /* instead of DNS TTLs */
    eg_shm_zone_t       *zone;
} eg_discovery_conf_t;


/* the chain at run time: the cluster process has one */
struct eg_discovery_s {
    eg_cycle_t              *cycle;
    eg_log_t                *log;
    eg_discovery_conf_t     *conf;
    eg_resolver_t           *resolver;

    eg_swim_addr_t           self;
    eg_str_t                 node_id;
    eg_str_t                 cluster_name;
    eg_swim_keyring_t       *keyring;

    eg_discovery_found_pt    found;
    void                    *data;

    eg_event_t               round_timer;
    eg_event_t               lookup_timer;
    eg_uint_t                current;       /* the method asked */
    eg_uint_t                running;       /* a round is under way */
    eg_msec_t                started;       /* the lookup's start */

    eg_pool_t               *pool;          /* this round's peers */
    eg_pool_t               *last_pool;     /* the last round's */
    eg_array_t              *peers;
};


static void *eg_discovery_create_conf(eg_cycle_t *cycle);
static char *eg_discovery_init_conf(eg_cycle_t *cycle, void *conf);
static char *eg_discovery_order(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_discovery_set_period(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_discovery_resolver_directive(eg_conf_t *cf,
    eg_command_t *cmd, void *conf);
static eg_int_t eg_discovery_init_module(eg_cycle_t *cycle);
static eg_int_t eg_discovery_init_zone(eg_shm_zone_t *zone, void *data);
static void eg_discovery_round(eg_event_t *ev);
static void eg_discovery_ask(eg_discovery_t *d);
static void eg_discovery_lookup_timeout(eg_event_t *ev);
static void eg_discovery_finish(eg_discovery_t *d,
    eg_discovery_method_t *winner, eg_msec_t ttl);
static eg_discovery_status_t *eg_discovery_lock(eg_discovery_conf_t *dcf);
static void eg_discovery_unlock(eg_discovery_conf_t *dcf);
static void *eg_discovery_health_json(eg_cycle_t *cycle);


static eg_conf_num_bounds_t  eg_discovery_expect_bounds = { 0, 1000 };


static eg_command_t  eg_discovery_commands[] = {

    { eg_string("discovery"),
      EG_CLUSTER_CONF|EG_CONF_1MORE,
      eg_discovery_order,
      0,
      0,
      NULL },

    { eg_string("discovery_refresh"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_discovery_set_period,
      0,
      offsetof(eg_discovery_conf_t, refresh),
      NULL },

    { eg_string("discovery_timeout"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_discovery_set_period,
      0,
      offsetof(eg_discovery_conf_t, timeout),
      NULL },

    { eg_string("bootstrap_expect"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      offsetof(eg_discovery_conf_t, bootstrap_expect),
      &eg_discovery_expect_bounds },

    { eg_string("resolver"),
      EG_CLUSTER_CONF|EG_CONF_1MORE,
      eg_discovery_resolver_directive,
      0,
      0,
      NULL },

      eg_null_command
};


static eg_conf_env_t  eg_discovery_env[] = {
    { "ENGRAM_CLUSTER_DISCOVERY_METHOD", eg_string("discovery"),
      EG_ENV_SPLIT_COMMA },
    { "ENGRAM_CLUSTER_DISCOVERY_REFRESH", eg_string("discovery_refresh"), 0 },
    { "ENGRAM_CLUSTER_BOOTSTRAP_EXPECT", eg_string("bootstrap_expect"), 0 },
    { "ENGRAM_CLUSTER_RESOLVER", eg_string("resolver"), EG_ENV_SPLIT_COMMA },
    { NULL, eg_null_string, 0 }
};


static eg_cluster_module_t  eg_discovery_module_ctx = {
    eg_string("discovery"),
    eg_discovery_create_conf,
    eg_discovery_init_conf
};


eg_module_t  eg_discovery_module = {
    EG_MODULE_V1,
    "eg_discovery_module",
    EG_CLUSTER_MODULE,                  /* module type */
    &eg_discovery_module_ctx,           /* module context */
    eg_discovery_commands,              /* module directives */
    eg_discovery_env,                   /* environment overrides */
    NULL,                               /* init master */
    eg_discovery_init_module,           /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


/* the order when "discovery" does not give one */
static const char  *eg_discovery_default_order[] = {
    "static", "dns", "kubernetes", "aws", "multicast", NULL
};


static struct {
    eg_metric_family_t  *attempts;
    eg_metric_family_t  *successes;
    eg_metric_family_t  *duration;
    eg_metric_t         *peers;
} eg_discovery_metrics;

static const double  eg_discovery_buckets[] = {
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30
};


/* process-wide: the cluster process runs one chain */
static eg_discovery_t  eg_discovery;


static void *
eg_discovery_create_conf(eg_cycle_t *cycle)
{
    eg_discovery_conf_t  *dcf;

    dcf = eg_pcalloc(cycle->pool, sizeof(eg_discovery_conf_t));
    if (dcf == NULL) {
        return NULL;
    }

    dcf->methods = eg_array_create(cycle->pool, 4,
                                   sizeof(eg_discovery_method_t *));
    if (dcf->methods == NULL) {
        return NULL;
    }

    dcf->order = EG_CONF_UNSET_PTR;
    dcf->refresh = EG_CONF_UNSET_MSEC;
    dcf->timeout = EG_CONF_UNSET_MSEC;
    dcf->bootstrap_expect = EG_CONF_UNSET;
    dcf->resolvers = EG_CONF_UNSET_PTR;
    dcf->resolver_timeout = EG_CONF_UNSET_MSEC;
    dcf->resolver_valid = EG_CONF_UNSET_MSEC;

    return dcf;
}


/* discovery static dns kubernetes;  names checked once all are known */
static char *
eg_discovery_order(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_uint_t             i;
    eg_str_t             *value, *name;
    eg_discovery_conf_t  *dcf = conf;

    eg_unused(cmd);

    if (dcf->order != EG_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    dcf->order = eg_array_create(cf->pool, 4, sizeof(eg_str_t));
    if (dcf->order == NULL) {
        return EG_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        name = eg_array_push(dcf->order);
        if (name == NULL) {
            return EG_CONF_ERROR;
        }

        *name = value[i];
    }

    if (cf->conf_file) {
        dcf->order_file = cf->conf_file->name;
        dcf->order_line = cf->conf_file->line;
    }

    return EG_CONF_OK;
}


/* a time that must not be 0: a round every 0 ms would spin */
static char *
eg_discovery_set_period(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    char      *rv;
    eg_str_t  *value;

    rv = eg_conf_set_msec_slot(cf, cmd, conf);

    if (rv != EG_CONF_OK) {
        return rv;
    }

    if (*(eg_msec_t *) ((char *) conf + cmd->offset) == 0) {
        value = cf->args->elts;

        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid value \"%s\" in \"%s\" directive, "
                          "it must be more than 0",
                          value[1].data, cmd->name.data);
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/* resolver 10.0.0.2 [::1]:5353 timeout=5s valid=30s; */
static char *
eg_discovery_resolver_directive(eg_conf_t *cf, eg_command_t *cmd,
    void *conf)
{
    eg_int_t              t;
    eg_url_t              u;
    eg_str_t             *value, *server, v;
    eg_uint_t             i, n;
    eg_discovery_conf_t  *dcf = conf;

    eg_unused(cmd);

    if (dcf->resolvers != EG_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    dcf->resolvers = eg_array_create(cf->pool, 2, sizeof(eg_str_t));
    if (dcf->resolvers == NULL) {
        return EG_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if ((value[i].len > 8
             && eg_strncmp(value[i].data, "timeout=", 8) == 0)
            || (value[i].len > 6
                && eg_strncmp(value[i].data, "valid=", 6) == 0))
        {
            n = (value[i].data[0] == 't') ? 8 : 6;

            v.data = value[i].data + n;
            v.len = value[i].len - n;

            t = eg_parse_time(&v, 1);

            if (t == EG_ERROR || t == 0) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "invalid value \"%s\" in \"resolver\"",
                                  value[i].data);
                return EG_CONF_ERROR;
            }

            if (n == 8) {
                dcf->resolver_timeout = (eg_msec_t) t;

            } else {
                dcf->resolver_valid = (eg_msec_t) t;
            }

            continue;
        }

        /* a numeric address: a resolver named by a name would need one */

        if (eg_parse_url(NULL, &u, &value[i], 53, EG_URL_PORT_OPTIONAL)
            != EG_OK
            || !u.literal)
        {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid resolver address \"%s\": an IPv4 "
                              "or [IPv6] address, with an optional port",
                              value[i].data);
            return EG_CONF_ERROR;
        }

        server = eg_array_push(dcf->resolvers);
        if (server == NULL) {
            return EG_CONF_ERROR;
        }

        *server = value[i];
    }

    if (dcf->resolvers->nelts == 0) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "\"resolver\" needs at least one address");
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


eg_int_t
eg_discovery_add_method(eg_cycle_t *cycle, eg_discovery_method_t *m)
{
    eg_discovery_conf_t     *dcf;
    eg_discovery_method_t  **slot;

    dcf = eg_cluster_get_conf(cycle->conf_ctx, eg_discovery_module);

    if (dcf == NULL) {
        return EG_ERROR;
    }

    slot = eg_array_push(dcf->methods);
    if (slot == NULL) {
        return EG_ERROR;
    }

    *slot = m;

    return EG_OK;
}


static eg_discovery_method_t *
eg_discovery_find(eg_discovery_conf_t *dcf, u_char *name, size_t len)
{
    eg_uint_t                i;
    eg_discovery_method_t  **m;

    m = dcf->methods->elts;

    for (i = 0; i < dcf->methods->nelts; i++) {
        if (eg_strlen(m[i]->name) == len
            && eg_strncmp(m[i]->name, name, len) == 0)
        {
            return m[i];
        }
    }

    return NULL;
}


/* runs after every method module's: they have all said whether they run */
static char *
eg_discovery_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_str_t                *name, zone;
    eg_uint_t                i, j;
    eg_conf_t                cf;
    eg_conf_file_t           where;
    eg_discovery_conf_t     *dcf = conf;
    eg_discovery_method_t  **slot, *m, **chain;

    eg_conf_init_msec_value(dcf->refresh, 30000);
    eg_conf_init_msec_value(dcf->timeout, 30000);
    eg_conf_init_value(dcf->bootstrap_expect, 0);
    eg_conf_init_ptr_value(dcf->resolvers, NULL);
    eg_conf_init_msec_value(dcf->resolver_timeout, 5000);
    eg_conf_init_msec_value(dcf->resolver_valid, 0);

    dcf->chain = eg_array_create(cycle->pool, 4,
                                 sizeof(eg_discovery_method_t *));
    if (dcf->chain == NULL) {
        return EG_CONF_ERROR;
    }

    if (dcf->order == EG_CONF_UNSET_PTR) {
        for (i = 0; eg_discovery_default_order[i]; i++) {
            m = eg_discovery_find(dcf,
                                  (u_char *) eg_discovery_default_order[i],
                                  eg_strlen(eg_discovery_default_order[i]));
            if (m == NULL) {
                continue;
            }

            slot = eg_array_push(dcf->chain);
            if (slot == NULL) {
                return EG_CONF_ERROR;
            }

            *slot = m;
        }

    } else {
        name = dcf->order->elts;

        for (i = 0; i < dcf->order->nelts; i++) {
            m = eg_discovery_find(dcf, name[i].data, name[i].len);

            if (m == NULL) {
                eg_memzero(&cf, sizeof(eg_conf_t));
                cf.cycle = cycle;
                cf.log = cycle->log;

                if (dcf->order_file.data) {
                    where.name = dcf->order_file;
                    where.line = dcf->order_line;
                    cf.conf_file = &where;

                } else {
                    cf.env = "ENGRAM_CLUSTER_DISCOVERY_METHOD";
                }

                eg_conf_log_error(EG_LOG_EMERG, &cf, 0,
                                  "discovery method \"" EG_STR_FMT "\" is "
                                  "not configured in the \"cluster\" block "
                                  "(or not built): it needs its own "
                                  "directive, such as \"seeds\" or "
                                  "\"dns_srv\"", EG_STR_ARG(name[i]));
                return EG_CONF_ERROR;
            }

            chain = dcf->chain->elts;

            for (j = 0; j < dcf->chain->nelts; j++) {
                if (chain[j] == m) {
                    break;
                }
            }

            if (j < dcf->chain->nelts) {
                continue;   /* named twice: asked once */
            }

            slot = eg_array_push(dcf->chain);
            if (slot == NULL) {
                return EG_CONF_ERROR;
            }

            *slot = m;
        }

        if (dcf->chain->nelts < dcf->methods->nelts) {
            eg_log_error(EG_LOG_WARN, cycle->log, 0,
                         "%lu configured discovery method(s) are not in "
                         "\"discovery\" and are not used",
                         (unsigned long) (dcf->methods->nelts
                                          - dcf->chain->nelts));
        }
    }

    if (dcf->chain->nelts > EG_DISCOVERY_MAX) {
        eg_log_error(EG_LOG_EMERG, cycle->log, 0,
                     "too many discovery methods");
        return EG_CONF_ERROR;
    }

    chain = dcf->chain->elts;

    for (i = 0; i < dcf->chain->nelts; i++) {
        chain[i]->index = i;
    }

    /* what each method did, for the workers: kept across reloads */

    eg_memzero(&cf, sizeof(eg_conf_t));
    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;

    eg_str_set(&zone, "engram_discovery");

    dcf->zone = eg_shared_memory_add(&cf, &zone, EG_DISCOVERY_ZONE_SIZE,
                                     &eg_discovery_module);
    if (dcf->zone == NULL) {
        return EG_CONF_ERROR;
    }

    dcf->zone->init = eg_discovery_init_zone;

    return EG_CONF_OK;
}


static eg_int_t
eg_discovery_init_zone(eg_shm_zone_t *zone, void *data)
{
    eg_slab_pool_t         *pool;
    eg_discovery_status_t  *st;

    if (data) {
        zone->data = data;
        return EG_OK;
    }

    pool = (eg_slab_pool_t *) zone->shm.addr;

    st = eg_slab_calloc(pool, sizeof(eg_discovery_status_t));
    if (st == NULL) {
        return EG_ERROR;
    }

    st->winner = -1;

    pool->data = st;
    zone->data = st;

    return EG_OK;
}


static eg_int_t
eg_discovery_init_module(eg_cycle_t *cycle)
{
    eg_uint_t                i;
    eg_discovery_conf_t     *dcf;
    eg_discovery_method_t  **chain;

    dcf = eg_cluster_get_conf(cycle->conf_ctx, eg_discovery_module);

    if (dcf == NULL) {
        return EG_OK;   /* single-node mode */
    }

    eg_discovery_health = eg_discovery_health_json;

    eg_discovery_metrics.attempts = eg_metrics_family(EG_METRIC_COUNTER,
        "engram_discovery_attempts_total",
        "Discovery lookups started, by method", "method", NULL, 0);

    eg_discovery_metrics.successes = eg_metrics_family(EG_METRIC_COUNTER,
        "engram_discovery_successes_total",
        "Discovery lookups that answered without an error, by method",
        "method", NULL, 0);

    eg_discovery_metrics.duration = eg_metrics_family(EG_METRIC_HISTOGRAM,
        "engram_discovery_duration_seconds",
        "How long discovery lookups took, by method", "method",
        eg_discovery_buckets, eg_nelems(eg_discovery_buckets));

    eg_discovery_metrics.peers = eg_metrics_series(eg_metrics_family(
        EG_METRIC_GAUGE, "engram_peers_discovered",
        "Peers the last discovery round found, this node left out", NULL,
        NULL, 0), NULL);

    chain = dcf->chain->elts;

    for (i = 0; i < dcf->chain->nelts; i++) {
        (void) eg_metrics_series1(eg_discovery_metrics.attempts,
                                  chain[i]->name);
        (void) eg_metrics_series1(eg_discovery_metrics.successes,
                                  chain[i]->name);
        (void) eg_metrics_series1(eg_discovery_metrics.duration,
                                  chain[i]->name);
    }

    return EG_OK;
}


eg_uint_t
eg_discovery_configured(eg_cycle_t *cycle)
{
    eg_discovery_conf_t  *dcf;

    dcf = eg_cluster_get_conf(cycle->conf_ctx, eg_discovery_module);

    return dcf != NULL && dcf->chain->nelts > 0;
}


eg_int_t
eg_discovery_expect(eg_cycle_t *cycle)
{
    eg_discovery_conf_t  *dcf;

    dcf = eg_cluster_get_conf(cycle->conf_ctx, eg_discovery_module);

    return dcf ? dcf->bootstrap_expect : 0;
}


/* the cluster process */

eg_int_t
eg_discovery_start(eg_cycle_t *cycle, eg_log_t *log, eg_swim_addr_t *self,
    eg_str_t *node_id, eg_str_t *cluster_name, eg_swim_keyring_t *keyring,
    eg_discovery_found_pt found, void *data)
{
    eg_uint_t                i;
    eg_discovery_t          *d;
    eg_discovery_conf_t     *dcf;
    eg_discovery_status_t   *st;
    eg_discovery_method_t  **chain;

    d = &eg_discovery;
    eg_memzero(d, sizeof(eg_discovery_t));

    dcf = eg_cluster_get_conf(cycle->conf_ctx, eg_discovery_module);

    d->cycle = cycle;
    d->log = log;
    d->conf = dcf;
    d->self = *self;
    d->node_id = *node_id;
    d->cluster_name = *cluster_name;
    d->keyring = keyring;
    d->found = found;
    d->data = data;

    d->round_timer.handler = eg_discovery_round;
    d->round_timer.data = d;
    d->round_timer.log = log;
    d->round_timer.cancelable = 1;

    d->lookup_timer.handler = eg_discovery_lookup_timeout;
    d->lookup_timer.data = d;
    d->lookup_timer.log = log;
    d->lookup_timer.cancelable = 1;

    /* the methods this configuration has, none of them run yet */

    st = eg_discovery_lock(dcf);

    if (st) {
        eg_memzero(st, sizeof(eg_discovery_status_t));
        st->winner = -1;
        st->nmethods = dcf->chain->nelts;

        chain = dcf->chain->elts;

        for (i = 0; i < dcf->chain->nelts; i++) {
            (void) eg_cpystrn((u_char *) st->methods[i].name,
                              (u_char *) chain[i]->name,
                              sizeof(st->methods[i].name));
        }

        eg_discovery_unlock(dcf);
    }

    if (dcf->chain->nelts == 0) {
        return EG_OK;   /* nothing to discover: join through the snapshot */
    }

    d->resolver = eg_resolver_create(dcf->resolvers, dcf->resolver_timeout,
                                     log);

    chain = dcf->chain->elts;

    for (i = 0; i < dcf->chain->nelts; i++) {
        chain[i]->chain = d;
        chain[i]->running = 0;

        if (chain[i]->init && chain[i]->init(chain[i]) != EG_OK) {
            eg_log_error(EG_LOG_EMERG, log, 0,
                         "cannot start the \"%s\" discovery method",
                         chain[i]->name);
            return EG_ERROR;
        }
    }

    eg_discovery_round(&d->round_timer);

    return EG_OK;
}


void
eg_discovery_now(void)
{
    eg_discovery_t  *d;

    d = &eg_discovery;

    if (d->conf == NULL || d->conf->chain->nelts == 0 || d->running) {
        return;
    }

    if (d->round_timer.timer_set) {
        eg_event_del_timer(&d->round_timer);
    }

    eg_discovery_round(&d->round_timer);
}


void
eg_discovery_stop(void)
{
    eg_uint_t                i;
    eg_discovery_t          *d;
    eg_discovery_method_t  **chain;

    d = &eg_discovery;

    if (d->conf == NULL) {
        return;
    }

    chain = d->conf->chain->elts;

    for (i = 0; i < d->conf->chain->nelts; i++) {
        if (chain[i]->running && chain[i]->cancel) {
            chain[i]->cancel(chain[i]);
        }

        chain[i]->running = 0;

        if (chain[i]->exit) {
            chain[i]->exit(chain[i]);
        }
    }

    if (d->round_timer.timer_set) {
        eg_event_del_timer(&d->round_timer);
    }

    if (d->lookup_timer.timer_set) {
        eg_event_del_timer(&d->lookup_timer);
    }

    if (d->resolver) {
        eg_resolver_destroy(d->resolver);
        d->resolver = NULL;
    }

    if (d->pool) {
        eg_destroy_pool(d->pool);
        d->pool = NULL;
    }

    if (d->last_pool) {
        eg_destroy_pool(d->last_pool);
        d->last_pool = NULL;
    }

    d->conf = NULL;
}


void
eg_discovery_reachable(eg_uint_t reachable)
{
    eg_discovery_t         *d;
    eg_discovery_status_t  *st;

    d = &eg_discovery;

    if (d->conf == NULL) {
        return;
    }

    st = eg_discovery_lock(d->conf);

    if (st) {
        st->reachable = eg_min(reachable, st->peers);
        eg_discovery_unlock(d->conf);
    }
}


static void
eg_discovery_round(eg_event_t *ev)
{
    eg_discovery_t  *d;

    d = ev->data;

    if (d->running) {
        return;
    }

    d->pool = eg_create_pool(1024, d->log);
    if (d->pool == NULL) {
        eg_event_add_timer(&d->round_timer, d->conf->refresh);
        return;
    }

    d->peers = eg_array_create(d->pool, 8, sizeof(eg_swim_addr_t));
    if (d->peers == NULL) {
        eg_destroy_pool(d->pool);
        d->pool = NULL;
        eg_event_add_timer(&d->round_timer, d->conf->refresh);
        return;
    }

    d->running = 1;
    d->current = 0;

    eg_discovery_ask(d);
}


static void
eg_discovery_ask(eg_discovery_t *d)
{
    eg_discovery_method_t   *m;
    eg_discovery_status_t   *st;

    m = ((eg_discovery_method_t **) d->conf->chain->elts)[d->current];

    m->running = 1;
    d->started = eg_current_msec;

    eg_metric_inc(eg_metrics_series1(eg_discovery_metrics.attempts,
                                     m->name), 1);

    st = eg_discovery_lock(d->conf);

    if (st) {
        st->methods[m->index].attempts++;
        st->methods[m->index].result = EG_DISCOVERY_RUNNING;
        eg_discovery_unlock(d->conf);
    }

    eg_event_add_timer(&d->lookup_timer, d->conf->timeout);

    if (m->lookup(m) != EG_OK) {
        eg_discovery_done(m, EG_ERROR, NULL, 0, "the lookup could not start");
    }
}


static void
eg_discovery_lookup_timeout(eg_event_t *ev)
{
    u_char                  text[64];
    eg_discovery_t         *d;
    eg_discovery_method_t  *m;

    d = ev->data;

    if (!d->running) {
        return;
    }

    m = ((eg_discovery_method_t **) d->conf->chain->elts)[d->current];

    if (!m->running) {
        return;
    }

    if (m->cancel) {
        m->cancel(m);
    }

    (void) eg_slprintf(text, text + sizeof(text), "timed out after %lu ms",
                       (unsigned long) d->conf->timeout);

    eg_discovery_done(m, EG_ERROR, NULL, 0, (char *) text);
}


static eg_uint_t
eg_discovery_has(eg_array_t *peers, eg_swim_addr_t *a)
{
    eg_uint_t        i;
    eg_swim_addr_t  *p;

    p = peers->elts;

    for (i = 0; i < peers->nelts; i++) {
        if (eg_swim_addr_eq(&p[i], a)) {
            return 1;
        }
    }

    return 0;
}


void
eg_discovery_done(eg_discovery_method_t *m, eg_int_t rc, eg_array_t *peers,
    eg_msec_t ttl, const char *error)
{
    double                          secs;
    eg_uint_t                       i, n, result;
    eg_msec_t                       duration;
    eg_swim_addr_t                 *a, *copy;
    eg_discovery_t                 *d;
    eg_discovery_status_t          *st;
    eg_discovery_method_status_t   *ms;

    d = m->chain;

    if (d == NULL || !m->running || !d->running) {
        return;     /* cancelled, or timed out already */
    }

    m->running = 0;

    if (d->lookup_timer.timer_set) {
        eg_event_del_timer(&d->lookup_timer);
    }

    duration = eg_current_msec - d->started;
    secs = (double) duration / 1000.0;

    /* this node is in every list of peers: not one to join */

    n = 0;

    if (rc == EG_OK && peers) {
        a = peers->elts;

        for (i = 0; i < peers->nelts; i++) {
            if (eg_swim_addr_eq(&a[i], &d->self)
                || eg_discovery_has(d->peers, &a[i]))
            {
                continue;
            }

            copy = eg_array_push(d->peers);
            if (copy == NULL) {
                break;
            }

            *copy = a[i];
            n++;
        }
    }

    result = (rc != EG_OK) ? EG_DISCOVERY_FAILED
             : n ? EG_DISCOVERY_FOUND : EG_DISCOVERY_EMPTY;

    if (rc == EG_OK) {
        eg_metric_inc(eg_metrics_series1(eg_discovery_metrics.successes,
                                         m->name), 1);
    }

    eg_metric_observe(eg_metrics_series1(eg_discovery_metrics.duration,
                                         m->name), secs);

    st = eg_discovery_lock(d->conf);

    if (st) {
        ms = &st->methods[m->index];
        ms->result = result;
        ms->peers = n;
        ms->duration = duration;
        ms->last = eg_time();

        if (rc == EG_OK) {
            ms->successes++;
            ms->error[0] = '\0';

        } else {
            (void) eg_cpystrn((u_char *) ms->error,
                              (u_char *) (error ? error : "failed"),
                              sizeof(ms->error));
        }

        eg_discovery_unlock(d->conf);
    }

    if (rc != EG_OK) {
        eg_log_error(EG_LOG_WARN, d->log, 0, "discovery by %s failed: %s",
                     m->name, error ? error : "no reason given");

    } else {
        eg_log_error(EG_LOG_INFO, d->log, 0,
                     "discovery by %s found %lu peer(s) in %lu ms", m->name,
                     (unsigned long) n, (unsigned long) duration);
    }

    if (n) {
        /* "resolver ... valid=": how long an answer holds, whatever DNS
           said (a TTL of seconds would have the chain ask all the time) */

        if (ttl && d->conf->resolver_valid) {
            ttl = d->conf->resolver_valid;
        }

        eg_discovery_finish(d, m, ttl);
        return;
    }

    if (++d->current < d->conf->chain->nelts) {
        eg_discovery_ask(d);
        return;
    }

    eg_discovery_finish(d, NULL, 0);
}


static void
eg_discovery_finish(eg_discovery_t *d, eg_discovery_method_t *winner,
    eg_msec_t ttl)
{
    eg_uint_t                i;
    eg_msec_t                delay;
    eg_discovery_status_t   *st;
    eg_discovery_method_t  **chain;

    d->running = 0;

    if (winner) {
        delay = winner->refresh ? winner->refresh : d->conf->refresh;

    } else {
        /* nobody found: as soon as any method would look again */

        delay = d->conf->refresh;
        chain = d->conf->chain->elts;

        for (i = 0; i < d->conf->chain->nelts; i++) {
            if (chain[i]->refresh) {
                delay = eg_min(delay, chain[i]->refresh);
            }
        }
    }

    if (ttl) {
        /* the answer expires: ask again then, but not in a loop */
        delay = eg_max(eg_min(delay, ttl), 1000);
    }

    eg_event_add_timer(&d->round_timer, delay);

    eg_metric_set(eg_discovery_metrics.peers, d->peers->nelts);

    st = eg_discovery_lock(d->conf);

    if (st) {
        st->winner = winner ? (eg_int_t) winner->index : -1;
        st->peers = d->peers->nelts;
        st->reachable = eg_min(st->reachable, st->peers);
        st->last_discovery = eg_time();
        st->next_refresh = eg_time() + (time_t) (delay / 1000);
        eg_discovery_unlock(d->conf);
    }

    if (winner == NULL) {
        eg_log_error(EG_LOG_INFO, d->log, 0,
                     "discovery found no peer: a cluster of one for now, "
                     "looking again in %lu ms", (unsigned long) delay);
    }

    /* the last round's peers go; this round's stay until the next */

    if (d->last_pool) {
        eg_destroy_pool(d->last_pool);
    }

    d->last_pool = d->pool;
    d->pool = NULL;

    d->found(d->data, d->peers);
}


/* for the methods */

eg_log_t *
eg_discovery_log(eg_discovery_method_t *m)
{
    return m->chain->log;
}


eg_cycle_t *
eg_discovery_cycle(eg_discovery_method_t *m)
{
    return m->chain->cycle;
}


eg_resolver_t *
eg_discovery_resolver(eg_discovery_method_t *m)
{
    return m->chain->resolver;
}


eg_swim_keyring_t *
eg_discovery_keyring(eg_discovery_method_t *m)
{
    return m->chain->keyring;
}


eg_swim_addr_t *
eg_discovery_self_addr(eg_discovery_method_t *m)
{
    return &m->chain->self;
}


eg_str_t *
eg_discovery_node_id(eg_discovery_method_t *m)
{
    return &m->chain->node_id;
}


eg_str_t *
eg_discovery_cluster_name(eg_discovery_method_t *m)
{
    return &m->chain->cluster_name;
}


/* the shared status */

static eg_discovery_status_t *
eg_discovery_lock(eg_discovery_conf_t *dcf)
{
    eg_slab_pool_t  *pool;

    if (dcf->zone == NULL || dcf->zone->data == NULL) {
        return NULL;
    }

    pool = (eg_slab_pool_t *) dcf->zone->shm.addr;
    eg_shmtx_lock(&pool->mutex);

    return dcf->zone->data;
}


static void
eg_discovery_unlock(eg_discovery_conf_t *dcf)
{
    eg_slab_pool_t  *pool;

    pool = (eg_slab_pool_t *) dcf->zone->shm.addr;
    eg_shmtx_unlock(&pool->mutex);
}


static json_t *
eg_discovery_time_json(time_t t)
{
    return t ? json_integer((json_int_t) t) : json_null();
}


/*
 * GET /cluster/discovery/health, for the workers: a copy of the status
 * taken under the lock, then turned into JSON without it.
 */
static void *
eg_discovery_health_json(eg_cycle_t *cycle)
{
    json_t                         *root, *list, *one;
    eg_uint_t                       i;
    eg_discovery_conf_t            *dcf;
    eg_discovery_status_t          *st, copy;
    eg_discovery_method_status_t   *ms;

    static const char  *results[] = {
        "never", "found", "empty", "error", "running"
    };

    dcf = eg_cluster_get_conf(cycle->conf_ctx, eg_discovery_module);

    if (dcf == NULL) {
        return NULL;
    }

    st = eg_discovery_lock(dcf);

    if (st == NULL) {
        return NULL;
    }

    copy = *st;
    eg_discovery_unlock(dcf);

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (i = 0; i < copy.nmethods && i < EG_DISCOVERY_MAX; i++) {
        ms = &copy.methods[i];
        ms->name[sizeof(ms->name) - 1] = '\0';
        ms->error[sizeof(ms->error) - 1] = '\0';

        one = json_pack("{s:s, s:s, s:i, s:f, s:o, s:I, s:I, s:o}",
                        "name", ms->name,
                        "result", results[ms->result % 5],
                        "peers", (json_int_t) ms->peers,
                        "duration_seconds", (double) ms->duration / 1000.0,
                        "last", eg_discovery_time_json(ms->last),
                        "attempts", (json_int_t) ms->attempts,
                        "successes", (json_int_t) ms->successes,
                        "error", ms->error[0] ? json_string(ms->error)
                                              : json_null());

        if (one == NULL || json_array_append_new(list, one) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    root = json_pack("{s:b, s:o, s:i, s:i, s:o, s:o, s:i, s:o}",
                     "enabled", copy.nmethods > 0,
                     "method", (copy.winner >= 0
                                && (eg_uint_t) copy.winner < copy.nmethods)
                               ? json_string(copy.methods[copy.winner].name)
                               : json_null(),
                     "seeds_reachable", (json_int_t) copy.reachable,
                     "seeds_total", (json_int_t) copy.peers,
                     "last_discovery",
                     eg_discovery_time_json(copy.last_discovery),
                     "next_refresh",
                     eg_discovery_time_json(copy.next_refresh),
                     "bootstrap_expect", (json_int_t) dcf->bootstrap_expect,
                     "methods", list);

    return root;
}
