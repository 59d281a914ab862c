/*
 * "allow" and "deny": address and CIDR rules, IPv4 and IPv6, checked in
 * order in the access phase; the first rule that matches decides, and a
 * request that matches none is let through.  A level with rules of its
 * own replaces the rules it would inherit, as in nginx.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>


typedef struct {
    eg_cidr_t     cidr;
    eg_uint_t     all;      /* "all" */
    eg_uint_t     deny;
} eg_http_access_rule_t;


typedef struct {
    eg_array_t   *rules;    /* eg_http_access_rule_t, or NULL */
} eg_http_access_loc_conf_t;


static char *eg_http_access_rule(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static void *eg_http_access_create_loc_conf(eg_conf_t *cf);
static char *eg_http_access_merge_loc_conf(eg_conf_t *cf, void *parent,
    void *child);
static eg_int_t eg_http_access_init(eg_conf_t *cf);
static eg_int_t eg_http_access_handler(eg_http_request_t *r);


static eg_command_t  eg_http_access_commands[] = {

    { eg_string("allow"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_TAKE1,
      eg_http_access_rule,
      EG_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { eg_string("deny"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_TAKE1,
      eg_http_access_rule,
      EG_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      eg_null_command
};


static eg_http_module_t  eg_http_access_module_ctx = {
    NULL,                                   /* preconfiguration */
    eg_http_access_init,                    /* postconfiguration */
    NULL,                                   /* create main configuration */
    NULL,                                   /* init main configuration */
    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */
    eg_http_access_create_loc_conf,         /* create location configuration */
    eg_http_access_merge_loc_conf           /* merge location configuration */
};


eg_module_t  eg_http_access_module = {
    EG_MODULE_V1,
    "eg_http_access_module",
    EG_HTTP_MODULE,                         /* module type */
    &eg_http_access_module_ctx,             /* module context */
    eg_http_access_commands,                /* module directives */
    NULL,                                   /* environment overrides */
    NULL,                                   /* init master */
    NULL,                                   /* init module */
    NULL,                                   /* init process */
    NULL,                                   /* exit process */
    NULL                                    /* exit master */
};


static eg_int_t
eg_http_access_handler(eg_http_request_t *r)
{
    eg_uint_t                   i;
    eg_http_access_rule_t      *rule;
    eg_http_access_loc_conf_t  *alcf;

    alcf = eg_http_get_module_loc_conf(r, eg_http_access_module);

    if (alcf->rules == NULL) {
        return EG_DECLINED;
    }

    rule = alcf->rules->elts;

    for (i = 0; i < alcf->rules->nelts; i++) {

        if (!rule[i].all
            && !eg_cidr_match(&rule[i].cidr, r->connection->sockaddr))
        {
            continue;
        }

        if (rule[i].deny) {
            eg_log_error(EG_LOG_ERR, r->connection->log, 0,
                         "access forbidden by rule");
            return EG_HTTP_FORBIDDEN;
        }

        return EG_OK;
    }

    return EG_DECLINED;
}


static char *
eg_http_access_rule(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_access_loc_conf_t  *alcf = conf;

    eg_int_t                rc;
    eg_str_t               *value;
    eg_http_access_rule_t  *rule;

    value = cf->args->elts;

    if (alcf->rules == NULL) {
        alcf->rules = eg_array_create(cf->pool, 4,
                                      sizeof(eg_http_access_rule_t));
        if (alcf->rules == NULL) {
            return EG_CONF_ERROR;
        }
    }

    rule = eg_array_push(alcf->rules);
    if (rule == NULL) {
        return EG_CONF_ERROR;
    }

    eg_memzero(rule, sizeof(eg_http_access_rule_t));

    rule->deny = (value[0].data[0] == 'd');

    if (eg_str_eq(&value[1], "all")) {
        rule->all = 1;
        return EG_CONF_OK;
    }

    rc = eg_ptocidr(&value[1], &rule->cidr);

    if (rc == EG_ERROR) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid parameter \"%s\" in \"%s\" directive, it "
                          "must be an address, a CIDR block or \"all\"",
                          value[1].data, cmd->name.data);
        return EG_CONF_ERROR;
    }

    if (rc == EG_DONE) {
        eg_conf_log_error(EG_LOG_WARN, cf, 0,
                          "low address bits of %s are meaningless",
                          value[1].data);
    }

    return EG_CONF_OK;
}


static void *
eg_http_access_create_loc_conf(eg_conf_t *cf)
{
    return eg_pcalloc(cf->pool, sizeof(eg_http_access_loc_conf_t));
}


static char *
eg_http_access_merge_loc_conf(eg_conf_t *cf, void *parent, void *child)
{
    eg_http_access_loc_conf_t  *prev = parent;
    eg_http_access_loc_conf_t  *conf = child;

    eg_unused(cf);

    if (conf->rules == NULL) {
        conf->rules = prev->rules;
    }

    return EG_CONF_OK;
}


static eg_int_t
eg_http_access_init(eg_conf_t *cf)
{
    eg_http_handler_pt         *h;
    eg_http_core_main_conf_t   *cmcf;

    cmcf = eg_http_conf_get_module_main_conf(cf, eg_http_core_module);

    h = eg_array_push(&cmcf->phases[EG_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return EG_ERROR;
    }

    *h = eg_http_access_handler;

    return EG_OK;
}
