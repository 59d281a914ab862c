/*
 * TLS for HTTP servers: "listen ... ssl" with
 *
 *     ssl_certificate      cert.pem;       # the chain, leaf first
 *     ssl_certificate_key  key.pem;
 *     ssl_protocols        TLSv1.2 TLSv1.3;
 *     ssl_ciphers          HIGH:!aNULL:!MD5;   # TLS 1.2 suites
 *
 * The files are read when the configuration is (so HUP re-reads them,
 * which is how a renewed certificate is put in service), by the master,
 * which may read keys that workers' user may not.  A listening address
 * uses the certificate of its default server.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_event_openssl.h>
#include <eg_http.h>
#include <eg_http_ssl_module.h>


static void *eg_http_ssl_create_srv_conf(eg_conf_t *cf);
static char *eg_http_ssl_merge_srv_conf(eg_conf_t *cf, void *parent,
    void *child);
static char *eg_http_ssl_protocols(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_http_ssl_certificate(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static eg_int_t eg_http_ssl_init(eg_conf_t *cf);
static eg_int_t eg_http_ssl_load(eg_conf_t *cf,
    eg_http_ssl_srv_conf_t *conf);


static eg_command_t  eg_http_ssl_commands[] = {

    { eg_string("ssl_certificate"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_CONF_TAKE1,
      eg_http_ssl_certificate,
      EG_HTTP_SRV_CONF_OFFSET,
      offsetof(eg_http_ssl_srv_conf_t, certificate),
      NULL },

    { eg_string("ssl_certificate_key"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_CONF_TAKE1,
      eg_conf_set_str_slot,
      EG_HTTP_SRV_CONF_OFFSET,
      offsetof(eg_http_ssl_srv_conf_t, certificate_key),
      NULL },

    { eg_string("ssl_protocols"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_CONF_1MORE,
      eg_http_ssl_protocols,
      EG_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { eg_string("ssl_ciphers"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_CONF_TAKE1,
      eg_conf_set_str_slot,
      EG_HTTP_SRV_CONF_OFFSET,
      offsetof(eg_http_ssl_srv_conf_t, ciphers),
      NULL },

      eg_null_command
};


static eg_http_module_t  eg_http_ssl_module_ctx = {
    NULL,                                   /* preconfiguration */
    eg_http_ssl_init,                       /* postconfiguration */
    NULL,                                   /* create main configuration */
    NULL,                                   /* init main configuration */
    eg_http_ssl_create_srv_conf,            /* create server configuration */
    eg_http_ssl_merge_srv_conf,             /* merge server configuration */
    NULL,                                   /* create location configuration */
    NULL                                    /* merge location configuration */
};


eg_module_t  eg_http_ssl_module = {
    EG_MODULE_V1,
    "eg_http_ssl_module",
    EG_HTTP_MODULE,                         /* module type */
    &eg_http_ssl_module_ctx,                /* module context */
    eg_http_ssl_commands,                   /* module directives */
    NULL,                                   /* environment overrides */
    NULL,                                   /* init master */
    NULL,                                   /* init module */
    NULL,                                   /* init process */
    NULL,                                   /* exit process */
    NULL                                    /* exit master */
};


static void *
eg_http_ssl_create_srv_conf(eg_conf_t *cf)
{
    eg_http_ssl_srv_conf_t  *sscf;

    sscf = eg_pcalloc(cf->pool, sizeof(eg_http_ssl_srv_conf_t));
    if (sscf == NULL) {
        return NULL;
    }

    /* pcalloc() left the strings empty and the context unmade */

    sscf->protocols = EG_CONF_UNSET_UINT;

    return sscf;
}


static char *
eg_http_ssl_merge_srv_conf(eg_conf_t *cf, void *parent, void *child)
{
    eg_http_ssl_srv_conf_t  *prev = parent;
    eg_http_ssl_srv_conf_t  *conf = child;

    eg_int_t         rc;
    eg_conf_file_t   where, *saved;

    eg_conf_merge_uint_value(conf->protocols, prev->protocols,
                             EG_SSL_TLSv1_2|EG_SSL_TLSv1_3);
    eg_conf_merge_str_value(conf->ciphers, prev->ciphers, "HIGH:!aNULL:!MD5");

    if (conf->certificate.data == NULL) {
        conf->certificate = prev->certificate;
        conf->where_file = prev->where_file;
        conf->where_line = prev->where_line;
    }

    if (conf->certificate_key.data == NULL) {
        conf->certificate_key = prev->certificate_key;
    }

    if (conf->certificate.data == NULL) {
        return EG_CONF_OK;      /* no TLS here, unless a listen wants it */
    }

    /*
     * The block is parsed by now: errors name the ssl_certificate line
     * (inherited with the certificate), not the end of the block.
     */

    saved = cf->conf_file;
    where.name = conf->where_file;
    where.line = conf->where_line;
    cf->conf_file = &where;

    rc = eg_http_ssl_load(cf, conf);

    cf->conf_file = saved;

    return rc == EG_OK ? EG_CONF_OK : EG_CONF_ERROR;
}


static eg_int_t
eg_http_ssl_load(eg_conf_t *cf, eg_http_ssl_srv_conf_t *conf)
{
    eg_int_t  rc;
    eg_str_t  cert, key;

    if (conf->certificate_key.data == NULL) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "no \"ssl_certificate_key\" is defined for "
                          "certificate \"%s\"", conf->certificate.data);
        return EG_ERROR;
    }

    conf->ssl.log = cf->log;

    if (eg_ssl_create(&conf->ssl, conf->protocols, cf->pool) != EG_OK) {
        return EG_ERROR;
    }

    cert = conf->certificate;
    key = conf->certificate_key;

    if (eg_conf_full_name(cf->cycle, &cert, 1) != EG_OK
        || eg_conf_full_name(cf->cycle, &key, 1) != EG_OK)
    {
        return EG_ERROR;
    }

    rc = eg_ssl_certificate(cf, &conf->ssl, &cert, &key);

    if (rc == EG_OK) {
        rc = eg_ssl_ciphers(cf, &conf->ssl, &conf->ciphers);
    }

    return rc;
}


static char *
eg_http_ssl_certificate(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_ssl_srv_conf_t  *sscf = conf;

    char  *rv;

    rv = eg_conf_set_str_slot(cf, cmd, conf);

    if (rv == EG_CONF_OK) {
        sscf->where_file = cf->conf_file->name;
        sscf->where_line = cf->conf_file->line;
    }

    return rv;
}


static char *
eg_http_ssl_protocols(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_ssl_srv_conf_t  *sscf = conf;

    eg_uint_t   i;
    eg_str_t   *value;

    if (sscf->protocols != EG_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    sscf->protocols = 0;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (eg_str_eq(&value[i], "TLSv1.2")) {
            sscf->protocols |= EG_SSL_TLSv1_2;

        } else if (eg_str_eq(&value[i], "TLSv1.3")) {
            sscf->protocols |= EG_SSL_TLSv1_3;

        } else {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid value \"%s\" in \"%s\" directive, "
                              "it must be \"TLSv1.2\" or \"TLSv1.3\"",
                              value[i].data, cmd->name.data);
            return EG_CONF_ERROR;
        }
    }

    return EG_CONF_OK;
}


/* every "listen ... ssl" must have a certificate to show */
static eg_int_t
eg_http_ssl_init(eg_conf_t *cf)
{
    eg_uint_t                   i;
    eg_http_listen_t           *lst;
    eg_http_ssl_srv_conf_t     *sscf;
    eg_http_core_main_conf_t   *cmcf;

    cmcf = eg_http_conf_get_module_main_conf(cf, eg_http_core_module);

    lst = cmcf->listen.elts;

    for (i = 0; i < cmcf->listen.nelts; i++) {
        if (!lst[i].ssl) {
            continue;
        }

        sscf = lst[i].server->ctx->srv_conf[eg_http_ssl_module.ctx_index];

        if (sscf->ssl.ctx == NULL) {
            eg_log_error(EG_LOG_EMERG, cf->log, 0,
                         "no \"ssl_certificate\" is defined for the "
                         "\"listen %s ssl\" directive in %s:%lu",
                         lst[i].addr_text.data, lst[i].file_name,
                         (unsigned long) lst[i].line);
            return EG_ERROR;
        }
    }

    return EG_OK;
}


eg_ssl_t *
eg_http_ssl_server(eg_http_core_srv_conf_t *cscf)
{
    eg_http_ssl_srv_conf_t  *sscf;

    sscf = cscf->ctx->srv_conf[eg_http_ssl_module.ctx_index];

    return sscf->ssl.ctx ? &sscf->ssl : NULL;
}
