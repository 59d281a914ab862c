/*
 * Static seeds: "seeds host:port [ipv6]:port ...;" in "cluster {}" (or
 * ENGRAM_CLUSTER_SEEDS, comma separated).  Addresses are taken as they
 * are; host names are resolved on every lookup, asynchronously, never
 * once for good: a seed whose address changes (a rescheduled container)
 * is found again at the next round.  A lookup finds what resolved; it
 * fails only when no seed did.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_discovery.h>
#include <eg_resolver.h>


#define EG_STATIC_DEFAULT_PORT  7946


typedef struct {
    eg_array_t             *seeds;      /* eg_str_t */
} eg_discovery_static_conf_t;


typedef struct eg_discovery_static_lookup_s  eg_discovery_static_lookup_t;

/* a name being resolved; q is NULL once it answered */
typedef struct {
    eg_discovery_static_lookup_t  *lookup;
    eg_resolver_query_t           *q;
} eg_discovery_static_query_t;


/* one lookup: the names still out, and what came back */
struct eg_discovery_static_lookup_s {
    eg_discovery_method_t  *method;
    eg_pool_t              *pool;
    eg_array_t             *peers;      /* eg_swim_addr_t */
    eg_array_t             *queries;    /* eg_discovery_static_query_t */
    eg_uint_t               pending;
    eg_uint_t               failed;
    eg_event_t              answer;     /* when nothing needed resolving */
    u_char                  error[160];
};


static void *eg_discovery_static_create_conf(eg_cycle_t *cycle);
static char *eg_discovery_static_init_conf(eg_cycle_t *cycle, void *conf);
static char *eg_discovery_static_seeds(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static eg_int_t eg_discovery_static_lookup(eg_discovery_method_t *m);
static void eg_discovery_static_cancel(eg_discovery_method_t *m);
static void eg_discovery_static_resolved(void *data, eg_int_t rc,
    eg_array_t *addrs, eg_msec_t ttl, const char *error);
static void eg_discovery_static_answer(eg_event_t *ev);
static void eg_discovery_static_finish(eg_discovery_static_lookup_t *l);


static eg_command_t  eg_discovery_static_commands[] = {

    { eg_string("seeds"),
      EG_CLUSTER_CONF|EG_CONF_1MORE,
      eg_discovery_static_seeds,
      0,
      offsetof(eg_discovery_static_conf_t, seeds),
      NULL },

      eg_null_command
};


static eg_conf_env_t  eg_discovery_static_env[] = {
    { "ENGRAM_CLUSTER_SEEDS", eg_string("seeds"), EG_ENV_SPLIT_COMMA },
    { NULL, eg_null_string, 0 }
};


static eg_cluster_module_t  eg_discovery_static_module_ctx = {
    eg_string("static"),
    eg_discovery_static_create_conf,
    eg_discovery_static_init_conf
};


eg_module_t  eg_discovery_static_module = {
    EG_MODULE_V1,
    "eg_discovery_static_module",
    EG_CLUSTER_MODULE,                  /* module type */
    &eg_discovery_static_module_ctx,    /* module context */
    eg_discovery_static_commands,       /* module directives */
    eg_discovery_static_env,            /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static void *
eg_discovery_static_create_conf(eg_cycle_t *cycle)
{
    eg_discovery_static_conf_t  *scf;

    scf = eg_pcalloc(cycle->pool, sizeof(eg_discovery_static_conf_t));
    if (scf == NULL) {
        return NULL;
    }

    scf->seeds = EG_CONF_UNSET_PTR;

    return scf;
}


/* seeds may be host names, resolved when asked: only their form is checked */
static char *
eg_discovery_static_seeds(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    char      *rv;
    eg_url_t   u;
    eg_uint_t  i;
    eg_str_t  *value;

    rv = eg_conf_set_str_array_slot(cf, cmd, conf);

    if (rv != EG_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (eg_parse_url(NULL, &u, &value[i], EG_STATIC_DEFAULT_PORT,
                         EG_URL_PORT_OPTIONAL)
            != EG_OK)
        {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "%s in seed \"%s\"", u.err, value[i].data);
            return EG_CONF_ERROR;
        }

        if (u.wildcard) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "seed \"%s\" is not an address to join",
                              value[i].data);
            return EG_CONF_ERROR;
        }
    }

    return EG_CONF_OK;
}


static char *
eg_discovery_static_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_discovery_method_t       *m;
    eg_discovery_static_conf_t  *scf = conf;

    eg_conf_init_ptr_value(scf->seeds, NULL);

    if (scf->seeds == NULL || scf->seeds->nelts == 0) {
        return EG_CONF_OK;
    }

    m = eg_pcalloc(cycle->pool, sizeof(eg_discovery_method_t));
    if (m == NULL) {
        return EG_CONF_ERROR;
    }

    m->name = "static";
    m->conf = scf;
    m->lookup = eg_discovery_static_lookup;
    m->cancel = eg_discovery_static_cancel;

    if (eg_discovery_add_method(cycle, m) != EG_OK) {
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/* a literal's gossip address; EG_DECLINED for a name to resolve */
static eg_int_t
eg_discovery_static_literal(eg_url_t *u, eg_swim_addr_t *a)
{
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    if (!u->literal) {
        return EG_DECLINED;
    }

    eg_memzero(a, sizeof(eg_swim_addr_t));
    a->port = u->port;

    switch (u->addr.sa.sockaddr.sa_family) {

    case AF_INET:
        sin = &u->addr.sa.sockaddr_in;
        a->family = 4;
        eg_memcpy(a->ip, &sin->sin_addr, 4);
        return EG_OK;

    case AF_INET6:
        sin6 = &u->addr.sa.sockaddr_in6;
        a->family = 6;
        eg_memcpy(a->ip, &sin6->sin6_addr, 16);
        return EG_OK;

    default:
        return EG_ERROR;
    }
}


static eg_int_t
eg_discovery_static_lookup(eg_discovery_method_t *m)
{
    eg_url_t                       u;
    eg_str_t                      *seed, host;
    eg_uint_t                      i;
    eg_pool_t                     *pool;
    eg_log_t                      *log;
    eg_swim_addr_t                 a, *peer;
    eg_resolver_t                 *resolver;
    eg_discovery_static_conf_t    *scf;
    eg_discovery_static_query_t   *qp;
    eg_discovery_static_lookup_t  *l;

    scf = m->conf;
    log = eg_discovery_log(m);

    pool = eg_create_pool(1024, log);
    if (pool == NULL) {
        return EG_ERROR;
    }

    l = eg_pcalloc(pool, sizeof(eg_discovery_static_lookup_t));
    if (l == NULL) {
        eg_destroy_pool(pool);
        return EG_ERROR;
    }

    l->method = m;
    l->pool = pool;
    l->peers = eg_array_create(pool, scf->seeds->nelts,
                               sizeof(eg_swim_addr_t));
    l->queries = eg_array_create(pool, scf->seeds->nelts,
                                 sizeof(eg_discovery_static_query_t));

    if (l->peers == NULL || l->queries == NULL) {
        eg_destroy_pool(pool);
        return EG_ERROR;
    }

    l->answer.handler = eg_discovery_static_answer;
    l->answer.data = l;
    l->answer.log = log;

    m->data = l;

    resolver = eg_discovery_resolver(m);
    seed = scf->seeds->elts;

    for (i = 0; i < scf->seeds->nelts; i++) {

        if (eg_parse_url(NULL, &u, &seed[i], EG_STATIC_DEFAULT_PORT,
                         EG_URL_PORT_OPTIONAL)
            != EG_OK)
        {
            continue;   /* checked when read: cannot happen */
        }

        if (eg_discovery_static_literal(&u, &a) == EG_OK) {
            peer = eg_array_push(l->peers);
            if (peer == NULL) {
                break;
            }

            *peer = a;
            continue;
        }

        host = u.host;

        /* the array never grows: sized for every seed, pointers stay */

        qp = eg_array_push(l->queries);
        if (qp == NULL) {
            break;
        }

        qp->lookup = l;
        qp->q = resolver ? eg_resolve_host(resolver, &host, u.port,
                                           eg_discovery_static_resolved, qp)
                         : NULL;

        if (qp->q == NULL) {
            l->queries->nelts--;
            l->failed++;

            if (l->error[0] == '\0') {
                (void) eg_slprintf(l->error, l->error + sizeof(l->error),
                                   EG_STR_FMT ": cannot be resolved now",
                                   EG_STR_ARG(host));
            }

            continue;
        }

        l->pending++;
    }

    if (l->pending == 0) {
        /* the chain wants the answer later, never from inside lookup() */
        eg_post_event(&l->answer, &eg_posted_events);
    }

    return EG_OK;
}


static void
eg_discovery_static_resolved(void *data, eg_int_t rc, eg_array_t *addrs,
    eg_msec_t ttl, const char *error)
{
    eg_uint_t                      i;
    eg_swim_addr_t                *a, *peer;
    eg_discovery_static_query_t   *qp = data;
    eg_discovery_static_lookup_t  *l;

    eg_unused(ttl);

    l = qp->lookup;
    qp->q = NULL;
    l->pending--;

    if (rc == EG_OK && addrs) {
        a = addrs->elts;

        /* every address of the name: any of them may be the one up */

        for (i = 0; i < addrs->nelts; i++) {
            peer = eg_array_push(l->peers);
            if (peer == NULL) {
                break;
            }

            *peer = a[i];
        }

    } else {
        l->failed++;

        if (l->error[0] == '\0') {
            (void) eg_slprintf(l->error, l->error + sizeof(l->error), "%s",
                               error ? error : "a seed did not resolve");
        }

        /* said here too: when other seeds resolve, the lookup succeeds */
        eg_log_error(EG_LOG_WARN, eg_discovery_log(l->method), 0,
                     "seed not resolved: %s",
                     error ? error : "no reason given");
    }

    if (l->pending == 0) {
        eg_discovery_static_finish(l);
    }
}


static void
eg_discovery_static_answer(eg_event_t *ev)
{
    eg_discovery_static_finish(ev->data);
}


static void
eg_discovery_static_finish(eg_discovery_static_lookup_t *l)
{
    eg_pool_t              *pool;
    eg_discovery_method_t  *m;

    m = l->method;
    pool = l->pool;
    m->data = NULL;

    if (l->peers->nelts == 0 && l->failed) {
        eg_discovery_done(m, EG_ERROR, NULL, 0, (char *) l->error);

    } else {
        eg_discovery_done(m, EG_OK, l->peers, 0, NULL);
    }

    eg_destroy_pool(pool);
}


static void
eg_discovery_static_cancel(eg_discovery_method_t *m)
{
    eg_uint_t                       i;
    eg_discovery_static_query_t    *q;
    eg_discovery_static_lookup_t   *l;

    l = m->data;

    if (l == NULL) {
        return;
    }

    q = l->queries->elts;

    for (i = 0; i < l->queries->nelts; i++) {
        if (q[i].q) {
            eg_resolve_cancel(q[i].q);
        }
    }

    if (l->answer.posted) {
        eg_delete_posted_event(&l->answer);
    }

    m->data = NULL;
    eg_destroy_pool(l->pool);
}
