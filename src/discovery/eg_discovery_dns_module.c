/*
 * DNS SRV discovery: "dns_srv NAME [refresh=TIME];" in "cluster {}" (or
 * ENGRAM_CLUSTER_DNS_SRV="NAME [refresh=TIME]").  A lookup asks the
 * chain's resolver (eg_resolver.c, the "resolver" directive or
 * /etc/resolv.conf) for the SRV records of NAME and the addresses of
 * their targets: the peers are those addresses with the records' ports,
 * in the order RFC 2782 picks them.  The answer's TTL goes to the chain,
 * which asks again no later than that; refresh sets this method's own
 * period (default: the chain's "discovery_refresh").
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_discovery.h>
#include <eg_resolver.h>


/* RFC 1035 2.3.4, without the root's dot */
#define EG_DNS_NAME_MAX   253
#define EG_DNS_LABEL_MAX  63


typedef struct {
    eg_str_t                name;       /* the SRV name; empty: not set */
    eg_msec_t               refresh;    /* refresh=; 0: the chain's */
} eg_discovery_dns_conf_t;


static void *eg_discovery_dns_create_conf(eg_cycle_t *cycle);
static char *eg_discovery_dns_init_conf(eg_cycle_t *cycle, void *conf);
static char *eg_discovery_dns_srv(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static eg_int_t eg_discovery_dns_valid_name(eg_str_t *name);
static eg_int_t eg_discovery_dns_lookup(eg_discovery_method_t *m);
static void eg_discovery_dns_answer(void *data, eg_int_t rc,
    eg_array_t *addrs, eg_msec_t ttl, const char *error);
static void eg_discovery_dns_cancel(eg_discovery_method_t *m);


static eg_command_t  eg_discovery_dns_commands[] = {

    { eg_string("dns_srv"),
      EG_CLUSTER_CONF|EG_CONF_TAKE12,
      eg_discovery_dns_srv,
      0,
      0,
      NULL },

      eg_null_command
};


/* "NAME" or "NAME refresh=TIME", as in the file */
static eg_conf_env_t  eg_discovery_dns_env[] = {
    { "ENGRAM_CLUSTER_DNS_SRV", eg_string("dns_srv"), EG_ENV_SPLIT_SPACE },
    { NULL, eg_null_string, 0 }
};


static eg_cluster_module_t  eg_discovery_dns_module_ctx = {
    eg_string("dns"),
    eg_discovery_dns_create_conf,       /* create configuration */
    eg_discovery_dns_init_conf          /* init configuration */
};


eg_module_t  eg_discovery_dns_module = {
    EG_MODULE_V1,
    "eg_discovery_dns_module",
    EG_CLUSTER_MODULE,                  /* module type */
    &eg_discovery_dns_module_ctx,       /* module context */
    eg_discovery_dns_commands,          /* module directives */
    eg_discovery_dns_env,               /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static void *
eg_discovery_dns_create_conf(eg_cycle_t *cycle)
{
    eg_discovery_dns_conf_t  *dcf;

    dcf = eg_pcalloc(cycle->pool, sizeof(eg_discovery_dns_conf_t));
    if (dcf == NULL) {
        return NULL;
    }

    /* name: { 0, NULL }, not set */

    dcf->refresh = EG_CONF_UNSET_MSEC;

    return dcf;
}


/* dns_srv _engram._tcp.example.com refresh=30s; */
static char *
eg_discovery_dns_srv(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_discovery_dns_conf_t  *dcf = conf;

    eg_int_t   t;
    eg_str_t  *value, v;

    if (dcf->name.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (eg_discovery_dns_valid_name(&value[1]) != EG_OK) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid name \"%s\" in \"%s\" directive, it must "
                          "be a DNS name such as _engram._tcp.example.com",
                          value[1].data, cmd->name.data);
        return EG_CONF_ERROR;
    }

    dcf->name = value[1];

    if (cf->args->nelts == 2) {
        return EG_CONF_OK;
    }

    if (value[2].len < sizeof("refresh=") - 1
        || eg_strncmp(value[2].data, "refresh=", sizeof("refresh=") - 1) != 0)
    {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid parameter \"%s\" in \"%s\" directive",
                          value[2].data, cmd->name.data);
        return EG_CONF_ERROR;
    }

    v.data = value[2].data + sizeof("refresh=") - 1;
    v.len = value[2].len - (sizeof("refresh=") - 1);

    t = eg_parse_time(&v, 1);

    /* 0 would ask again at once, for ever */

    if (t == EG_ERROR || t == 0) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid refresh \"%s\" in \"%s\" directive, it "
                          "must be a time of more than 0",
                          v.data, cmd->name.data);
        return EG_CONF_ERROR;
    }

    dcf->refresh = (eg_msec_t) t;

    return EG_CONF_OK;
}


/*
 * Labels of letters, digits, "-" and "_" (SRV names begin with "_"), 1
 * to 63 bytes each, 253 in all, an optional final dot: a name c-ares can
 * ask for.  A typo caught here is not a lookup failing every round.
 */
static eg_int_t
eg_discovery_dns_valid_name(eg_str_t *name)
{
    u_char  *p, *last;
    size_t   label;

    p = name->data;
    last = p + name->len;

    if (name->len > 0 && last[-1] == '.') {
        last--;
    }

    if (last == p || (size_t) (last - p) > EG_DNS_NAME_MAX) {
        return EG_ERROR;
    }

    label = 0;

    for ( /* void */ ; p < last; p++) {

        if (*p == '.') {
            if (label == 0) {
                return EG_ERROR;
            }

            label = 0;
            continue;
        }

        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
        {
            return EG_ERROR;
        }

        if (++label > EG_DNS_LABEL_MAX) {
            return EG_ERROR;
        }
    }

    return label ? EG_OK : EG_ERROR;
}


static char *
eg_discovery_dns_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_discovery_dns_conf_t  *dcf = conf;

    eg_discovery_method_t  *m;

    eg_conf_init_msec_value(dcf->refresh, 0);

    if (dcf->name.data == NULL) {
        return EG_CONF_OK;
    }

    m = eg_pcalloc(cycle->pool, sizeof(eg_discovery_method_t));
    if (m == NULL) {
        return EG_CONF_ERROR;
    }

    m->name = "dns";
    m->conf = dcf;
    m->refresh = dcf->refresh;
    m->lookup = eg_discovery_dns_lookup;
    m->cancel = eg_discovery_dns_cancel;

    if (eg_discovery_add_method(cycle, m) != EG_OK) {
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/* m->data is the query under way, or NULL */
static eg_int_t
eg_discovery_dns_lookup(eg_discovery_method_t *m)
{
    eg_resolver_t            *r;
    eg_resolver_query_t      *q;
    eg_discovery_dns_conf_t  *dcf;

    dcf = m->conf;

    r = eg_discovery_resolver(m);

    if (r == NULL) {
        /* c-ares could not start: the chain says the lookup did not */
        return EG_ERROR;
    }

    q = eg_resolve_srv(r, &dcf->name, eg_discovery_dns_answer, m);

    if (q == NULL) {
        return EG_ERROR;
    }

    m->data = q;

    return EG_OK;
}


/* the resolver's answer is the method's: addresses, TTL, or the error */
static void
eg_discovery_dns_answer(void *data, eg_int_t rc, eg_array_t *addrs,
    eg_msec_t ttl, const char *error)
{
    eg_discovery_method_t  *m = data;

    m->data = NULL;

    if (rc != EG_OK) {
        eg_discovery_done(m, EG_ERROR, NULL, 0, error);
        return;
    }

    eg_discovery_done(m, EG_OK, addrs, ttl, NULL);
}


static void
eg_discovery_dns_cancel(eg_discovery_method_t *m)
{
    if (m->data != NULL) {
        eg_resolve_cancel(m->data);
        m->data = NULL;
    }
}
