/*
 * The "http {}" block: creates the confs of every HTTP module at http,
 * server and location level, parses the block, merges each level into
 * the one below, lets modules hook into the phases, and turns the
 * "listen" addresses into listening sockets.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>


static char *eg_http_block(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static char *eg_http_merge_servers(eg_conf_t *cf,
    eg_http_core_main_conf_t *cmcf, eg_http_module_t *module,
    eg_uint_t ctx_index);
static eg_int_t eg_http_init_phases(eg_conf_t *cf,
    eg_http_core_main_conf_t *cmcf);
static eg_int_t eg_http_optimize_servers(eg_conf_t *cf,
    eg_http_core_main_conf_t *cmcf);
static eg_int_t eg_http_init_module(eg_cycle_t *cycle);


eg_uint_t  eg_http_max_module;

eg_http_body_filter_pt  eg_http_top_body_filter;
eg_http_stats_t         eg_http_stats;

/* the requests_total series by status code, found once per process */
static eg_metric_t     *eg_http_code_series[600];

eg_str_t  eg_http_html_type = eg_string("text/html; charset=utf-8");
eg_str_t  eg_http_json_type = eg_string("application/json");
eg_str_t  eg_http_text_type = eg_string("text/plain; charset=utf-8");


static eg_command_t  eg_http_commands[] = {

    { eg_string("http"),
      EG_MAIN_CONF|EG_CONF_BLOCK|EG_CONF_NOARGS,
      eg_http_block,
      0,
      0,
      NULL },

      eg_null_command
};


static eg_core_module_t  eg_http_module_ctx = {
    eg_string("http"),
    NULL,
    NULL
};


eg_module_t  eg_http_module = {
    EG_MODULE_V1,
    "eg_http_module",
    EG_CORE_MODULE,                     /* module type */
    &eg_http_module_ctx,                /* module context */
    eg_http_commands,                   /* module directives */
    NULL,                               /* environment overrides */
    NULL,                               /* init master */
    eg_http_init_module,                /* init module */
    eg_http_init_module,                /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static char *
eg_http_block(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    char                       *rv;
    eg_uint_t                   m, mi;
    eg_conf_t                   pcf;
    eg_module_t               **modules;
    eg_http_module_t           *module;
    eg_http_conf_ctx_t         *ctx;
    eg_http_core_main_conf_t   *cmcf;

    eg_unused(cmd);

    if (*(eg_http_conf_ctx_t **) conf) {
        return "is duplicate";
    }

    ctx = eg_pcalloc(cf->pool, sizeof(eg_http_conf_ctx_t));
    if (ctx == NULL) {
        return EG_CONF_ERROR;
    }

    *(eg_http_conf_ctx_t **) conf = ctx;

    eg_http_max_module = eg_count_modules(cf->cycle, EG_HTTP_MODULE);

    ctx->main_conf = eg_pcalloc(cf->pool,
                                sizeof(void *) * eg_http_max_module);
    ctx->srv_conf = eg_pcalloc(cf->pool,
                               sizeof(void *) * eg_http_max_module);
    ctx->loc_conf = eg_pcalloc(cf->pool,
                               sizeof(void *) * eg_http_max_module);

    if (ctx->main_conf == NULL || ctx->srv_conf == NULL
        || ctx->loc_conf == NULL)
    {
        return EG_CONF_ERROR;
    }

    modules = cf->cycle->modules;

    for (m = 0; m < cf->cycle->modules_n; m++) {
        if (modules[m]->type != EG_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;
        mi = modules[m]->ctx_index;

        if (module->create_main_conf) {
            ctx->main_conf[mi] = module->create_main_conf(cf);
            if (ctx->main_conf[mi] == NULL) {
                return EG_CONF_ERROR;
            }
        }

        if (module->create_srv_conf) {
            ctx->srv_conf[mi] = module->create_srv_conf(cf);
            if (ctx->srv_conf[mi] == NULL) {
                return EG_CONF_ERROR;
            }
        }

        if (module->create_loc_conf) {
            ctx->loc_conf[mi] = module->create_loc_conf(cf);
            if (ctx->loc_conf[mi] == NULL) {
                return EG_CONF_ERROR;
            }
        }
    }

    pcf = *cf;
    cf->ctx = ctx;

    /* filters chain themselves in postconfiguration: start anew */
    eg_http_top_body_filter = NULL;

    for (m = 0; m < cf->cycle->modules_n; m++) {
        if (modules[m]->type != EG_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;

        if (module->preconfiguration) {
            if (module->preconfiguration(cf) != EG_OK) {
                return EG_CONF_ERROR;
            }
        }
    }

    cf->module_type = EG_HTTP_MODULE;
    cf->cmd_type = EG_HTTP_MAIN_CONF;

    rv = eg_conf_parse(cf, NULL);

    if (rv != EG_CONF_OK) {
        goto failed;
    }

    /* finish the main confs, then merge http -> server -> location */

    cmcf = ctx->main_conf[eg_http_core_module.ctx_index];

    for (m = 0; m < cf->cycle->modules_n; m++) {
        if (modules[m]->type != EG_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;
        mi = modules[m]->ctx_index;

        if (eg_conf_env_apply(cf, modules[m], ctx->main_conf[mi])
            != EG_CONF_OK)
        {
            rv = EG_CONF_ERROR;
            goto failed;
        }

        if (module->init_main_conf) {
            rv = module->init_main_conf(cf, ctx->main_conf[mi]);
            if (rv != EG_CONF_OK) {
                goto failed;
            }
        }

        rv = eg_http_merge_servers(cf, cmcf, module, mi);
        if (rv != EG_CONF_OK) {
            goto failed;
        }
    }

    if (eg_http_init_phases(cf, cmcf) != EG_OK) {
        rv = EG_CONF_ERROR;
        goto failed;
    }

    for (m = 0; m < cf->cycle->modules_n; m++) {
        if (modules[m]->type != EG_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;

        if (module->postconfiguration) {
            if (module->postconfiguration(cf) != EG_OK) {
                rv = EG_CONF_ERROR;
                goto failed;
            }
        }
    }

    *cf = pcf;

    if (eg_http_optimize_servers(cf, cmcf) != EG_OK) {
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;

failed:

    *cf = pcf;

    return rv;
}


static char *
eg_http_merge_servers(eg_conf_t *cf, eg_http_core_main_conf_t *cmcf,
    eg_http_module_t *module, eg_uint_t ctx_index)
{
    char                       *rv;
    eg_uint_t                   s, l;
    eg_http_conf_ctx_t         *ctx, saved;
    eg_http_core_loc_conf_t   **clcfp;
    eg_http_core_srv_conf_t   **cscfp;

    cscfp = cmcf->servers.elts;
    ctx = (eg_http_conf_ctx_t *) cf->ctx;
    saved = *ctx;
    rv = EG_CONF_OK;

    for (s = 0; s < cmcf->servers.nelts; s++) {

        /* http's server-level conf into each server */

        ctx->srv_conf = cscfp[s]->ctx->srv_conf;

        if (module->merge_srv_conf) {
            rv = module->merge_srv_conf(cf, saved.srv_conf[ctx_index],
                                        cscfp[s]->ctx->srv_conf[ctx_index]);
            if (rv != EG_CONF_OK) {
                goto done;
            }
        }

        if (module->merge_loc_conf == NULL) {
            continue;
        }

        /* http's location-level conf into the server's */

        ctx->loc_conf = cscfp[s]->ctx->loc_conf;

        rv = module->merge_loc_conf(cf, saved.loc_conf[ctx_index],
                                    cscfp[s]->ctx->loc_conf[ctx_index]);
        if (rv != EG_CONF_OK) {
            goto done;
        }

        /* and the server's into each of its locations */

        clcfp = cscfp[s]->locations.elts;

        for (l = 0; l < cscfp[s]->locations.nelts; l++) {
            ctx->loc_conf = clcfp[l]->loc_conf;

            rv = module->merge_loc_conf(cf,
                                        cscfp[s]->ctx->loc_conf[ctx_index],
                                        clcfp[l]->loc_conf[ctx_index]);
            if (rv != EG_CONF_OK) {
                goto done;
            }
        }
    }

done:

    *ctx = saved;

    return rv;
}


static eg_int_t
eg_http_init_phases(eg_conf_t *cf, eg_http_core_main_conf_t *cmcf)
{
    eg_uint_t  i;

    for (i = 0; i < EG_HTTP_PHASES; i++) {
        if (eg_array_init(&cmcf->phases[i].handlers, cf->pool, 2,
                          sizeof(eg_http_handler_pt))
            != EG_OK)
        {
            return EG_ERROR;
        }
    }

    return EG_OK;
}


/*
 * One listening socket per distinct address; servers that share an
 * address share the socket and are told apart by the Host header.
 */
static eg_int_t
eg_http_optimize_servers(eg_conf_t *cf, eg_http_core_main_conf_t *cmcf)
{
    eg_uint_t                  i, j, found;
    eg_listening_t            *ls;
    eg_http_listen_t          *lst;
    eg_http_addr_conf_t       *addr, **addrs;
    eg_http_core_srv_conf_t  **srv;

    lst = cmcf->listen.elts;

    addrs = eg_pcalloc(cf->pool,
                       (cmcf->listen.nelts + 1) * sizeof(void *));
    if (addrs == NULL) {
        return EG_ERROR;
    }

    for (i = 0; i < cmcf->listen.nelts; i++) {

        found = 0;

        for (j = 0; j < i; j++) {

            if (eg_cmp_sockaddr(&lst[i].sockaddr.sockaddr, lst[i].socklen,
                                &lst[j].sockaddr.sockaddr, lst[j].socklen, 1)
                != EG_OK)
            {
                /* a wildcard and an address on one port cannot both bind */

                if (lst[i].sockaddr.sockaddr.sa_family
                    == lst[j].sockaddr.sockaddr.sa_family
                    && eg_inet_get_port(&lst[i].sockaddr.sockaddr)
                       == eg_inet_get_port(&lst[j].sockaddr.sockaddr)
                    && (eg_inet_wildcard(&lst[i].sockaddr.sockaddr)
                        || eg_inet_wildcard(&lst[j].sockaddr.sockaddr)))
                {
                    eg_log_error(EG_LOG_EMERG, cf->log, 0,
                                 "\"listen %s\" in %s:%lu conflicts with "
                                 "\"listen %s\": use one address per port "
                                 "or the wildcard alone",
                                 lst[i].addr_text.data, lst[i].file_name,
                                 (unsigned long) lst[i].line,
                                 lst[j].addr_text.data);
                    return EG_ERROR;
                }

                continue;
            }

            found = 1;
            addr = addrs[j];

            if (lst[i].bind_opts) {
                if (lst[j].bind_opts || addr->bind_opts) {
                    eg_log_error(EG_LOG_EMERG, cf->log, 0,
                                 "duplicate listen options for %s in "
                                 "%s:%lu: give them in one server only",
                                 lst[i].addr_text.data, lst[i].file_name,
                                 (unsigned long) lst[i].line);
                    return EG_ERROR;
                }

                /* the options of the later listen apply to the socket */

                ls = (eg_listening_t *) cf->cycle->listening.elts
                     + addr->ls_index;

                addr->bind_opts = 1;
                ls->backlog = lst[i].backlog;
                ls->rcvbuf = lst[i].rcvbuf;
                ls->sndbuf = lst[i].sndbuf;
                ls->reuseport = lst[i].reuseport;
                ls->ipv6only = lst[i].ipv6only;
            }

            if (lst[i].ssl != addr->ssl) {
                eg_log_error(EG_LOG_EMERG, cf->log, 0,
                             "\"listen %s\" in %s:%lu has \"ssl\" in "
                             "one server and not in another",
                             lst[i].addr_text.data, lst[i].file_name,
                             (unsigned long) lst[i].line);
                return EG_ERROR;
            }

            if (lst[i].default_server) {
                if (addr->explicit_default) {
                    eg_log_error(EG_LOG_EMERG, cf->log, 0,
                                 "a duplicate default server for %s in "
                                 "%s:%lu", lst[i].addr_text.data,
                                 lst[i].file_name,
                                 (unsigned long) lst[i].line);
                    return EG_ERROR;
                }

                addr->default_server = lst[i].server;
                addr->explicit_default = 1;
            }

            srv = eg_array_push(&addr->servers);
            if (srv == NULL) {
                return EG_ERROR;
            }

            *srv = lst[i].server;
            addrs[i] = addr;
            break;
        }

        if (found) {
            continue;
        }

        addr = eg_pcalloc(cf->pool, sizeof(eg_http_addr_conf_t));
        if (addr == NULL) {
            return EG_ERROR;
        }

        if (eg_array_init(&addr->servers, cf->pool, 2, sizeof(void *))
            != EG_OK)
        {
            return EG_ERROR;
        }

        srv = eg_array_push(&addr->servers);
        if (srv == NULL) {
            return EG_ERROR;
        }

        *srv = lst[i].server;
        addr->default_server = lst[i].server;
        addr->explicit_default = lst[i].default_server;
        addr->ssl = lst[i].ssl;
        addrs[i] = addr;

        ls = eg_create_listening(cf, &lst[i].sockaddr.sockaddr,
                                 lst[i].socklen, SOCK_STREAM);
        if (ls == NULL) {
            return EG_ERROR;
        }

        ls->handler = eg_http_init_connection;
        ls->servers = addr;
        ls->tag = &eg_http_module;
        ls->backlog = lst[i].backlog;
        ls->rcvbuf = lst[i].rcvbuf;
        ls->sndbuf = lst[i].sndbuf;
        ls->reuseport = lst[i].reuseport;
        ls->ipv6only = lst[i].ipv6only;
        ls->pool_size = 512;

        /* an index: the array of sockets may move as it grows */
        addr->ls_index = cf->cycle->listening.nelts - 1;
        addr->bind_opts = lst[i].bind_opts;
    }

    return EG_OK;
}


/*
 * The server's metrics: declared in the master, shared by every worker.
 * Each process looks them up again when it starts: a failed reload may
 * have left the master's pointers aimed at a zone that was thrown away.
 */
static eg_int_t
eg_http_init_module(eg_cycle_t *cycle)
{
    eg_metric_family_t  *conn;

    static const double  buckets[] = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
        1, 2.5, 5, 10
    };

    eg_unused(cycle);

    eg_memzero(eg_http_code_series, sizeof(eg_http_code_series));

    conn = eg_metrics_family(EG_METRIC_GAUGE, "engram_http_connections",
                             "HTTP connections by state: active is all "
                             "open ones, the others add up to it",
                             "state", NULL, 0);

    eg_http_stats.active = eg_metrics_series1(conn, "active");
    eg_http_stats.reading = eg_metrics_series1(conn, "reading");
    eg_http_stats.writing = eg_metrics_series1(conn, "writing");
    eg_http_stats.waiting = eg_metrics_series1(conn, "waiting");

    eg_http_stats.accepted = eg_metrics_series(
        eg_metrics_family(EG_METRIC_COUNTER,
                          "engram_http_connections_accepted_total",
                          "HTTP connections accepted", NULL, NULL, 0),
        NULL);

    eg_http_stats.requests = eg_metrics_family(EG_METRIC_COUNTER,
                                 "engram_http_requests_total",
                                 "HTTP requests answered, by status code",
                                 "code", NULL, 0);

    eg_http_stats.duration = eg_metrics_series(
        eg_metrics_family(EG_METRIC_HISTOGRAM,
                          "engram_http_request_duration_seconds",
                          "Time from the first byte of a request to the "
                          "last byte of its response", NULL, buckets,
                          eg_nelems(buckets)),
        NULL);

    return EG_OK;
}


eg_metric_t *
eg_http_stat_code(eg_uint_t status)
{
    char  code[4];

    if (status < 100 || status >= 600) {
        return NULL;
    }

    if (eg_http_code_series[status] == NULL) {
        code[0] = (char) ('0' + status / 100);
        code[1] = (char) ('0' + status / 10 % 10);
        code[2] = (char) ('0' + status % 10);
        code[3] = '\0';

        eg_http_code_series[status] = eg_metrics_series1(
                                          eg_http_stats.requests, code);
    }

    return eg_http_code_series[status];
}


void
eg_http_stat_state(eg_http_connection_t *hc, eg_uint_t state)
{
    eg_metric_t  *m[4];

    m[EG_HTTP_STAT_NONE] = NULL;
    m[EG_HTTP_STAT_WAITING] = eg_http_stats.waiting;
    m[EG_HTTP_STAT_READING] = eg_http_stats.reading;
    m[EG_HTTP_STAT_WRITING] = eg_http_stats.writing;

    if (hc->stat == state) {
        return;
    }

    eg_metric_dec(m[hc->stat], 1);
    eg_metric_inc(m[state], 1);

    hc->stat = state;
}
