/*
 * HTTP core: "server", "listen", "server_name", "location", the request
 * limits and timeouts, and the phase engine that runs a request through
 * the modules' handlers.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>


#define EG_HTTP_DEFAULT_PORT  8081


static void *eg_http_core_create_main_conf(eg_conf_t *cf);
static char *eg_http_core_init_main_conf(eg_conf_t *cf, void *conf);
static void *eg_http_core_create_srv_conf(eg_conf_t *cf);
static char *eg_http_core_merge_srv_conf(eg_conf_t *cf, void *parent,
    void *child);
static void *eg_http_core_create_loc_conf(eg_conf_t *cf);
static char *eg_http_core_merge_loc_conf(eg_conf_t *cf, void *parent,
    void *child);
static char *eg_http_core_server(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_http_core_location(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_http_core_listen(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_http_core_server_name(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_http_core_large_buffers(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static eg_int_t eg_http_core_sort_locations(eg_conf_t *cf,
    eg_http_core_srv_conf_t *cscf);


static eg_conf_num_bounds_t  eg_http_header_buffer_bounds = { 128, 1048576 };
static eg_conf_num_bounds_t  eg_http_requests_bounds = { 1, 100000000 };


static eg_command_t  eg_http_core_commands[] = {

    { eg_string("server"),
      EG_HTTP_MAIN_CONF|EG_CONF_BLOCK|EG_CONF_NOARGS,
      eg_http_core_server,
      0,
      0,
      NULL },

    { eg_string("listen"),
      EG_HTTP_SRV_CONF|EG_CONF_1MORE,
      eg_http_core_listen,
      EG_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { eg_string("server_name"),
      EG_HTTP_SRV_CONF|EG_CONF_1MORE,
      eg_http_core_server_name,
      EG_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { eg_string("location"),
      EG_HTTP_SRV_CONF|EG_CONF_BLOCK|EG_CONF_TAKE12,
      eg_http_core_location,
      EG_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { eg_string("client_header_buffer_size"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_CONF_TAKE1,
      eg_conf_set_size_slot,
      EG_HTTP_SRV_CONF_OFFSET,
      offsetof(eg_http_core_srv_conf_t, client_header_buffer_size),
      &eg_http_header_buffer_bounds },

    { eg_string("large_client_header_buffers"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_CONF_TAKE2,
      eg_http_core_large_buffers,
      EG_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { eg_string("client_header_timeout"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_CONF_TAKE1,
      eg_conf_set_msec_slot,
      EG_HTTP_SRV_CONF_OFFSET,
      offsetof(eg_http_core_srv_conf_t, client_header_timeout),
      NULL },

    { eg_string("underscores_in_headers"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_CONF_FLAG,
      eg_conf_set_flag_slot,
      EG_HTTP_SRV_CONF_OFFSET,
      offsetof(eg_http_core_srv_conf_t, underscores_in_headers),
      NULL },

    { eg_string("keepalive_timeout"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_TAKE1,
      eg_conf_set_msec_slot,
      EG_HTTP_LOC_CONF_OFFSET,
      offsetof(eg_http_core_loc_conf_t, keepalive_timeout),
      NULL },

    { eg_string("keepalive_requests"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      EG_HTTP_LOC_CONF_OFFSET,
      offsetof(eg_http_core_loc_conf_t, keepalive_requests),
      &eg_http_requests_bounds },

    { eg_string("send_timeout"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_TAKE1,
      eg_conf_set_msec_slot,
      EG_HTTP_LOC_CONF_OFFSET,
      offsetof(eg_http_core_loc_conf_t, send_timeout),
      NULL },

    { eg_string("server_tokens"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_FLAG,
      eg_conf_set_flag_slot,
      EG_HTTP_LOC_CONF_OFFSET,
      offsetof(eg_http_core_loc_conf_t, server_tokens),
      NULL },

      eg_null_command
};


static eg_http_module_t  eg_http_core_module_ctx = {
    NULL,                                   /* preconfiguration */
    NULL,                                   /* postconfiguration */

    eg_http_core_create_main_conf,          /* create main configuration */
    eg_http_core_init_main_conf,            /* init main configuration */

    eg_http_core_create_srv_conf,           /* create server configuration */
    eg_http_core_merge_srv_conf,            /* merge server configuration */

    eg_http_core_create_loc_conf,           /* create location configuration */
    eg_http_core_merge_loc_conf             /* merge location configuration */
};


eg_module_t  eg_http_core_module = {
    EG_MODULE_V1,
    "eg_http_core_module",
    EG_HTTP_MODULE,                         /* module type */
    &eg_http_core_module_ctx,               /* module context */
    eg_http_core_commands,                  /* module directives */
    NULL,                                   /* environment overrides */
    NULL,                                   /* init master */
    NULL,                                   /* init module */
    NULL,                                   /* init process */
    NULL,                                   /* exit process */
    NULL                                    /* exit master */
};


static void *
eg_http_core_create_main_conf(eg_conf_t *cf)
{
    eg_http_core_main_conf_t  *cmcf;

    cmcf = eg_pcalloc(cf->pool, sizeof(eg_http_core_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    if (eg_array_init(&cmcf->servers, cf->pool, 4, sizeof(void *))
        != EG_OK
        || eg_array_init(&cmcf->listen, cf->pool, 4,
                         sizeof(eg_http_listen_t)) != EG_OK)
    {
        return NULL;
    }

    return cmcf;
}


static char *
eg_http_core_init_main_conf(eg_conf_t *cf, void *conf)
{
    eg_http_core_main_conf_t  *cmcf = conf;

    eg_unused(cf);

    if (cmcf->servers.nelts == 0) {
        eg_conf_log_error(EG_LOG_WARN, cf, 0,
                          "\"http\" block has no \"server\": nothing "
                          "will be served");
    }

    return EG_CONF_OK;
}


static void *
eg_http_core_create_srv_conf(eg_conf_t *cf)
{
    eg_http_core_srv_conf_t  *cscf;

    cscf = eg_pcalloc(cf->pool, sizeof(eg_http_core_srv_conf_t));
    if (cscf == NULL) {
        return NULL;
    }

    if (eg_array_init(&cscf->server_names, cf->pool, 2, sizeof(eg_str_t))
        != EG_OK
        || eg_array_init(&cscf->locations, cf->pool, 4, sizeof(void *))
           != EG_OK)
    {
        return NULL;
    }

    cscf->client_header_buffer_size = EG_CONF_UNSET_SIZE;
    cscf->large_client_header_buffers_size = EG_CONF_UNSET_SIZE;
    cscf->large_client_header_buffers_num = EG_CONF_UNSET_UINT;
    cscf->client_header_timeout = EG_CONF_UNSET_MSEC;
    cscf->underscores_in_headers = EG_CONF_UNSET;

    if (cf->conf_file) {
        cscf->file_name = cf->conf_file->name.data;
        cscf->line = cf->conf_file->line;
    }

    return cscf;
}


static char *
eg_http_core_merge_srv_conf(eg_conf_t *cf, void *parent, void *child)
{
    eg_http_core_srv_conf_t  *prev = parent;
    eg_http_core_srv_conf_t  *conf = child;

    eg_unused(cf);

    eg_conf_merge_size_value(conf->client_header_buffer_size,
                             prev->client_header_buffer_size, 1024);
    eg_conf_merge_size_value(conf->large_client_header_buffers_size,
                             prev->large_client_header_buffers_size,
                             8192);
    eg_conf_merge_uint_value(conf->large_client_header_buffers_num,
                             prev->large_client_header_buffers_num, 4);
    eg_conf_merge_msec_value(conf->client_header_timeout,
                             prev->client_header_timeout, 60000);
    eg_conf_merge_value(conf->underscores_in_headers,
                        prev->underscores_in_headers, 0);

    if (conf->large_client_header_buffers_size
        < conf->client_header_buffer_size)
    {
        /* the large buffers must be able to take what the first held */
        conf->large_client_header_buffers_size =
                                            conf->client_header_buffer_size;
    }

    return EG_CONF_OK;
}


static void *
eg_http_core_create_loc_conf(eg_conf_t *cf)
{
    eg_http_core_loc_conf_t  *clcf;

    clcf = eg_pcalloc(cf->pool, sizeof(eg_http_core_loc_conf_t));
    if (clcf == NULL) {
        return NULL;
    }

    clcf->keepalive_timeout = EG_CONF_UNSET_MSEC;
    clcf->send_timeout = EG_CONF_UNSET_MSEC;
    clcf->keepalive_requests = EG_CONF_UNSET_UINT;
    clcf->server_tokens = EG_CONF_UNSET;

    return clcf;
}


static char *
eg_http_core_merge_loc_conf(eg_conf_t *cf, void *parent, void *child)
{
    eg_http_core_loc_conf_t  *prev = parent;
    eg_http_core_loc_conf_t  *conf = child;

    eg_unused(cf);

    eg_conf_merge_msec_value(conf->keepalive_timeout,
                             prev->keepalive_timeout, 75000);
    eg_conf_merge_msec_value(conf->send_timeout, prev->send_timeout, 60000);
    eg_conf_merge_uint_value(conf->keepalive_requests,
                             prev->keepalive_requests, 1000);
    eg_conf_merge_value(conf->server_tokens, prev->server_tokens, 1);

    return EG_CONF_OK;
}


static char *
eg_http_core_server(eg_conf_t *cf, eg_command_t *cmd, void *dummy)
{
    char                       *rv;
    void                       *mconf;
    eg_uint_t                   m, mi;
    eg_url_t                    u;
    eg_str_t                    default_listen = eg_string("*:8081");
    eg_conf_t                   pcf;
    eg_module_t               **modules;
    eg_http_module_t           *module;
    eg_http_listen_t            lst;
    eg_http_conf_ctx_t         *ctx, *http_ctx;
    eg_http_core_srv_conf_t    *cscf, **cscfp;
    eg_http_core_main_conf_t   *cmcf;

    eg_unused(cmd);
    eg_unused(dummy);

    ctx = eg_pcalloc(cf->pool, sizeof(eg_http_conf_ctx_t));
    if (ctx == NULL) {
        return EG_CONF_ERROR;
    }

    http_ctx = cf->ctx;
    ctx->main_conf = http_ctx->main_conf;

    ctx->srv_conf = eg_pcalloc(cf->pool,
                               sizeof(void *) * eg_http_max_module);
    ctx->loc_conf = eg_pcalloc(cf->pool,
                               sizeof(void *) * eg_http_max_module);

    if (ctx->srv_conf == NULL || ctx->loc_conf == NULL) {
        return EG_CONF_ERROR;
    }

    modules = cf->cycle->modules;

    for (m = 0; m < cf->cycle->modules_n; m++) {
        if (modules[m]->type != EG_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;
        mi = modules[m]->ctx_index;

        if (module->create_srv_conf) {
            mconf = module->create_srv_conf(cf);
            if (mconf == NULL) {
                return EG_CONF_ERROR;
            }

            ctx->srv_conf[mi] = mconf;
        }

        if (module->create_loc_conf) {
            mconf = module->create_loc_conf(cf);
            if (mconf == NULL) {
                return EG_CONF_ERROR;
            }

            ctx->loc_conf[mi] = mconf;
        }
    }

    cscf = ctx->srv_conf[eg_http_core_module.ctx_index];
    cscf->ctx = ctx;

    cmcf = ctx->main_conf[eg_http_core_module.ctx_index];

    cscfp = eg_array_push(&cmcf->servers);
    if (cscfp == NULL) {
        return EG_CONF_ERROR;
    }

    *cscfp = cscf;

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = EG_HTTP_SRV_CONF;

    rv = eg_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv != EG_CONF_OK) {
        return rv;
    }

    if (!cscf->listen) {

        /* no "listen": every address, the default port */

        if (eg_parse_url(cf->pool, &u, &default_listen, EG_HTTP_DEFAULT_PORT,
                         EG_URL_HOST_OPTIONAL)
            != EG_OK)
        {
            return EG_CONF_ERROR;
        }

        eg_memzero(&lst, sizeof(eg_http_listen_t));

        eg_memcpy(&lst.sockaddr, &u.addr.sa, u.addr.socklen);
        lst.socklen = u.addr.socklen;
        lst.addr_text = u.addr.name;
        lst.backlog = 511;
        lst.rcvbuf = -1;
        lst.sndbuf = -1;
        lst.ipv6only = 1;
        lst.server = cscf;
        lst.file_name = cscf->file_name;
        lst.line = cscf->line;

        if (eg_http_core_add_listen(cf, cmcf, &lst) != EG_OK) {
            return EG_CONF_ERROR;
        }
    }

    if (eg_http_core_sort_locations(cf, cscf) != EG_OK) {
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


eg_int_t
eg_http_core_add_listen(eg_conf_t *cf, eg_http_core_main_conf_t *cmcf,
    eg_http_listen_t *l)
{
    eg_uint_t          i;
    eg_http_listen_t  *lst;

    lst = cmcf->listen.elts;

    for (i = 0; i < cmcf->listen.nelts; i++) {
        if (lst[i].server == l->server
            && eg_cmp_sockaddr(&lst[i].sockaddr.sockaddr, lst[i].socklen,
                               &l->sockaddr.sockaddr, l->socklen, 1)
               == EG_OK)
        {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "a duplicate listen %s", l->addr_text.data);
            return EG_ERROR;
        }
    }

    lst = eg_array_push(&cmcf->listen);
    if (lst == NULL) {
        return EG_ERROR;
    }

    *lst = *l;

    return EG_OK;
}


static char *
eg_http_core_listen(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_core_srv_conf_t  *cscf = conf;

    ssize_t                    size;
    eg_int_t                   n;
    eg_str_t                  *value, s;
    eg_uint_t                  i, naddrs;
    eg_url_t                   u;
    eg_addr_t                 *addrs;
    eg_http_listen_t           lst;
    eg_http_core_main_conf_t  *cmcf;

    eg_unused(cmd);

    cscf->listen = 1;

    value = cf->args->elts;

    if (eg_parse_url(cf->pool, &u, &value[1], EG_HTTP_DEFAULT_PORT,
                     EG_URL_HOST_OPTIONAL|EG_URL_PORT_OPTIONAL)
        != EG_OK)
    {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0, "%s in \"%s\" of the "
                          "\"listen\" directive", u.err, value[1].data);
        return EG_CONF_ERROR;
    }

    eg_memzero(&lst, sizeof(eg_http_listen_t));

    lst.backlog = 511;
    lst.rcvbuf = -1;
    lst.sndbuf = -1;
    lst.ipv6only = 1;
    lst.server = cscf;
    lst.file_name = cf->conf_file->name.data;
    lst.line = cf->conf_file->line;

    for (i = 2; i < cf->args->nelts; i++) {

        if (eg_str_eq(&value[i], "default_server")) {
            lst.default_server = 1;
            continue;
        }

        if (eg_str_eq(&value[i], "ssl")) {
#if (EG_HTTP_SSL)
            lst.ssl = 1;
            continue;
#else
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "the \"ssl\" parameter needs the http_ssl "
                              "module: this build was configured "
                              "--without-http_ssl_module");
            return EG_CONF_ERROR;
#endif
        }

        if (eg_str_eq(&value[i], "reuseport")) {
#if (EG_HAVE_REUSEPORT)
            lst.reuseport = 1;
            lst.bind_opts = 1;
            continue;
#else
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "\"reuseport\" is not supported on this "
                              "platform");
            return EG_CONF_ERROR;
#endif
        }

        lst.bind_opts = 1;

        if (eg_strncmp(value[i].data, "backlog=", 8) == 0) {
            n = eg_atoi(value[i].data + 8, value[i].len - 8);

            if (n == EG_ERROR || n == 0 || n > INT_MAX) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "invalid backlog \"%s\"", value[i].data);
                return EG_CONF_ERROR;
            }

            lst.backlog = (int) n;
            continue;
        }

        if (eg_strncmp(value[i].data, "rcvbuf=", 7) == 0
            || eg_strncmp(value[i].data, "sndbuf=", 7) == 0)
        {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;
            size = eg_parse_size(&s);

            if (size == EG_ERROR || size > INT_MAX) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "invalid buffer size \"%s\"",
                                  value[i].data);
                return EG_CONF_ERROR;
            }

            if (value[i].data[0] == 'r') {
                lst.rcvbuf = (int) size;

            } else {
                lst.sndbuf = (int) size;
            }

            continue;
        }

        if (eg_str_eq(&value[i], "ipv6only=on")) {
            lst.ipv6only = 1;
            continue;
        }

        if (eg_str_eq(&value[i], "ipv6only=off")) {
            lst.ipv6only = 0;
            continue;
        }

        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid parameter \"%s\" of the \"listen\" "
                          "directive", value[i].data);
        return EG_CONF_ERROR;
    }

    if (eg_inet_resolve_host(cf->pool, &u, &addrs, &naddrs) != EG_OK) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "host \"%s\" of the \"listen\" directive: %s",
                          value[1].data, u.err ? u.err : "not found");
        return EG_CONF_ERROR;
    }

    cmcf = eg_http_conf_get_module_main_conf(cf, eg_http_core_module);

    for (i = 0; i < naddrs; i++) {
        eg_memcpy(&lst.sockaddr, &addrs[i].sa, addrs[i].socklen);
        lst.socklen = addrs[i].socklen;
        lst.addr_text = addrs[i].name;

        if (eg_http_core_add_listen(cf, cmcf, &lst) != EG_OK) {
            return EG_CONF_ERROR;
        }
    }

    return EG_CONF_OK;
}


static char *
eg_http_core_server_name(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_core_srv_conf_t  *cscf = conf;

    eg_uint_t   i;
    eg_str_t   *value, *name;

    eg_unused(cmd);

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        name = eg_array_push(&cscf->server_names);
        if (name == NULL) {
            return EG_CONF_ERROR;
        }

        name->len = value[i].len;
        name->data = eg_pnalloc(cf->pool, value[i].len + 1);
        if (name->data == NULL) {
            return EG_CONF_ERROR;
        }

        eg_strlow(name->data, value[i].data, value[i].len + 1);
    }

    return EG_CONF_OK;
}


static char *
eg_http_core_large_buffers(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_core_srv_conf_t  *cscf = conf;

    ssize_t    size;
    eg_int_t   n;
    eg_str_t  *value;

    if (cscf->large_client_header_buffers_num != EG_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = eg_atoi(value[1].data, value[1].len);

    if (n == EG_ERROR || n == 0 || n > 64) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid number of buffers \"%s\" in \"%s\" "
                          "directive, it must be between 1 and 64",
                          value[1].data, cmd->name.data);
        return EG_CONF_ERROR;
    }

    size = eg_parse_size(&value[2]);

    if (size == EG_ERROR || size < 128 || size > 1048576) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid buffer size \"%s\" in \"%s\" directive, "
                          "it must be between 128 and 1m",
                          value[2].data, cmd->name.data);
        return EG_CONF_ERROR;
    }

    cscf->large_client_header_buffers_num = (eg_uint_t) n;
    cscf->large_client_header_buffers_size = (size_t) size;

    return EG_CONF_OK;
}


static char *
eg_http_core_location(eg_conf_t *cf, eg_command_t *cmd, void *dummy)
{
    char                       *rv;
    void                       *mconf;
    eg_uint_t                   m, mi, i;
    eg_str_t                   *value, *name;
    eg_conf_t                   pcf;
    eg_module_t               **modules;
    eg_http_module_t           *module;
    eg_regex_compile_t          rc;
    eg_http_conf_ctx_t         *ctx, *pctx;
    eg_http_core_srv_conf_t    *cscf;
    eg_http_core_loc_conf_t    *clcf, **clcfp;

    eg_unused(cmd);
    eg_unused(dummy);

    ctx = eg_pcalloc(cf->pool, sizeof(eg_http_conf_ctx_t));
    if (ctx == NULL) {
        return EG_CONF_ERROR;
    }

    pctx = cf->ctx;
    ctx->main_conf = pctx->main_conf;
    ctx->srv_conf = pctx->srv_conf;

    ctx->loc_conf = eg_pcalloc(cf->pool,
                               sizeof(void *) * eg_http_max_module);
    if (ctx->loc_conf == NULL) {
        return EG_CONF_ERROR;
    }

    modules = cf->cycle->modules;

    for (m = 0; m < cf->cycle->modules_n; m++) {
        if (modules[m]->type != EG_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;
        mi = modules[m]->ctx_index;

        if (module->create_loc_conf) {
            mconf = module->create_loc_conf(cf);
            if (mconf == NULL) {
                return EG_CONF_ERROR;
            }

            ctx->loc_conf[mi] = mconf;
        }
    }

    clcf = ctx->loc_conf[eg_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;

    value = cf->args->elts;

    if (cf->args->nelts == 3) {
        name = &value[2];

        if (eg_str_eq(&value[1], "=")) {
            clcf->exact_match = 1;

        } else if (eg_str_eq(&value[1], "^~")) {
            clcf->noregex = 1;

        } else if (eg_str_eq(&value[1], "~")
                   || eg_str_eq(&value[1], "~*"))
        {
            eg_memzero(&rc, sizeof(eg_regex_compile_t));

            rc.pattern = *name;
            rc.pool = cf->pool;
            rc.options = value[1].len == 2 ? EG_REGEX_CASELESS : 0;

            if (eg_regex_compile(&rc) != EG_OK) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0, "%.*s",
                                  (int) rc.err_len, rc.err);
                return EG_CONF_ERROR;
            }

            clcf->regex = rc.regex;
            clcf->regex_caseless = value[1].len == 2;

        } else {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid location modifier \"%s\", it must "
                              "be one of \"=\", \"^~\", \"~\", \"~*\"",
                              value[1].data);
            return EG_CONF_ERROR;
        }

    } else {
        name = &value[1];
    }

    if (clcf->regex == NULL && (name->len == 0 || name->data[0] != '/')) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "location \"%s\" must start with \"/\"",
                          name->data);
        return EG_CONF_ERROR;
    }

    clcf->name = *name;

    cscf = ctx->srv_conf[eg_http_core_module.ctx_index];

    clcfp = cscf->locations.elts;

    for (i = 0; i < cscf->locations.nelts; i++) {
        if (clcfp[i]->exact_match == clcf->exact_match
            && (clcfp[i]->regex == NULL) == (clcf->regex == NULL)
            && clcfp[i]->regex_caseless == clcf->regex_caseless
            && clcfp[i]->name.len == clcf->name.len
            && eg_memcmp(clcfp[i]->name.data, clcf->name.data,
                         clcf->name.len) == 0)
        {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "duplicate location \"%s\"", name->data);
            return EG_CONF_ERROR;
        }
    }

    clcfp = eg_array_push(&cscf->locations);
    if (clcfp == NULL) {
        return EG_CONF_ERROR;
    }

    *clcfp = clcf;

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = EG_HTTP_LOC_CONF;

    rv = eg_conf_parse(cf, NULL);

    *cf = pcf;

    return rv;
}


static int
eg_http_core_cmp_locations(const void *one, const void *two)
{
    eg_http_core_loc_conf_t  *a, *b;
    int                       ra, rb;

    a = *(eg_http_core_loc_conf_t **) one;
    b = *(eg_http_core_loc_conf_t **) two;

    /* exact first, then prefixes longest first, then regexes */

    ra = a->exact_match ? 0 : (a->regex ? 2 : 1);
    rb = b->exact_match ? 0 : (b->regex ? 2 : 1);

    if (ra != rb) {
        return ra - rb;
    }

    if (ra == 1 && a->name.len != b->name.len) {
        return a->name.len > b->name.len ? -1 : 1;
    }

    /* regexes keep their order in the file: the first match wins */
    return a < b ? -1 : (a > b ? 1 : 0);
}


static eg_int_t
eg_http_core_sort_locations(eg_conf_t *cf, eg_http_core_srv_conf_t *cscf)
{
    eg_uint_t                  i, j;
    eg_http_core_loc_conf_t  **clcfp, *t;

    eg_unused(cf);

    /* an insertion sort keeps equal elements (regexes) in file order */

    clcfp = cscf->locations.elts;

    for (i = 1; i < cscf->locations.nelts; i++) {
        t = clcfp[i];

        for (j = i; j > 0; j--) {
            if (eg_http_core_cmp_locations(&clcfp[j - 1], &t) <= 0
                || (clcfp[j - 1]->regex && t->regex))
            {
                break;
            }

            clcfp[j] = clcfp[j - 1];
        }

        clcfp[j] = t;
    }

    return EG_OK;
}


/* picks the server by the Host header among those on the address */
eg_int_t
eg_http_core_find_server(eg_http_request_t *r)
{
    eg_uint_t                  i, n;
    eg_str_t                  *name;
    eg_http_connection_t      *hc;
    eg_http_addr_conf_t       *addr;
    eg_http_core_srv_conf_t  **cscfp, *cscf;

    hc = r->http_connection;
    addr = hc->addr_conf;

    cscf = addr->default_server;

    if (addr->servers.nelts > 1 && r->headers_in.server.len) {
        cscfp = addr->servers.elts;

        for (i = 0; i < addr->servers.nelts; i++) {
            name = cscfp[i]->server_names.elts;

            for (n = 0; n < cscfp[i]->server_names.nelts; n++) {
                if (name[n].len == r->headers_in.server.len
                    && eg_memcmp(name[n].data, r->headers_in.server.data,
                                 name[n].len) == 0)
                {
                    cscf = cscfp[i];
                    goto found;
                }
            }
        }
    }

found:

    r->srv_conf = cscf->ctx->srv_conf;
    r->loc_conf = cscf->ctx->loc_conf;

    return EG_OK;
}


/*
 * nginx's order: an exact match wins; otherwise the longest prefix is
 * remembered, and used at once if it is "^~"; otherwise the first regex
 * that matches; otherwise the longest prefix.
 */
eg_int_t
eg_http_core_find_location(eg_http_request_t *r)
{
    eg_int_t                   rc;
    eg_uint_t                  i;
    eg_http_core_loc_conf_t  **clcfp, *prefix, *found;
    eg_http_core_srv_conf_t   *cscf;

    cscf = eg_http_get_module_srv_conf(r, eg_http_core_module);

    clcfp = cscf->locations.elts;
    prefix = NULL;
    found = NULL;

    for (i = 0; i < cscf->locations.nelts; i++) {

        if (clcfp[i]->exact_match) {
            if (clcfp[i]->name.len == r->uri.len
                && eg_memcmp(clcfp[i]->name.data, r->uri.data, r->uri.len)
                   == 0)
            {
                found = clcfp[i];
                goto done;
            }

            continue;
        }

        if (clcfp[i]->regex == NULL) {
            if (prefix == NULL && clcfp[i]->name.len <= r->uri.len
                && eg_memcmp(clcfp[i]->name.data, r->uri.data,
                             clcfp[i]->name.len) == 0)
            {
                prefix = clcfp[i];

                if (prefix->noregex) {
                    found = prefix;
                    goto done;
                }
            }

            continue;
        }

        rc = eg_regex_exec(clcfp[i]->regex, &r->uri);

        if (rc == EG_OK) {
            found = clcfp[i];
            goto done;
        }

        if (rc == EG_ERROR) {
            eg_log_error(EG_LOG_ALERT, r->connection->log, 0,
                         "regex match of location \"" EG_STR_FMT
                         "\" failed", EG_STR_ARG(clcfp[i]->name));
            return EG_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    found = prefix;

done:

    if (found) {
        r->loc_conf = found->loc_conf;
    }

    return EG_OK;
}


/*
 * Runs the request through the phases.  A handler's result: EG_DECLINED
 * or EG_OK moves on; EG_AGAIN means it will finish the request itself
 * later; an HTTP status ends the request with that status.
 */
eg_int_t
eg_http_core_run_phases(eg_http_request_t *r)
{
    eg_int_t                    rc;
    eg_uint_t                   i;
    eg_http_handler_pt         *h;
    eg_http_core_loc_conf_t    *clcf;
    eg_http_core_main_conf_t   *cmcf;

    cmcf = eg_http_get_module_main_conf(r, eg_http_core_module);

    rc = eg_http_core_find_location(r);
    if (rc != EG_OK) {
        return rc;
    }

    clcf = eg_http_get_module_loc_conf(r, eg_http_core_module);

    h = cmcf->phases[EG_HTTP_ACCESS_PHASE].handlers.elts;

    for (i = 0; i < cmcf->phases[EG_HTTP_ACCESS_PHASE].handlers.nelts; i++) {
        rc = h[i](r);

        if (rc == EG_OK || rc == EG_DECLINED) {
            continue;
        }

        return rc;
    }

    r->content_handler = clcf->handler;

    if (r->content_handler) {
        return r->content_handler(r);
    }

    h = cmcf->phases[EG_HTTP_CONTENT_PHASE].handlers.elts;

    for (i = 0; i < cmcf->phases[EG_HTTP_CONTENT_PHASE].handlers.nelts; i++) {
        rc = h[i](r);

        if (rc != EG_DECLINED) {
            return rc;
        }
    }

    return EG_HTTP_NOT_FOUND;
}
