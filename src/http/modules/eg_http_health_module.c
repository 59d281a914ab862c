/*
 * "health;": liveness.  Answers 200 with a small JSON document as long as
 * the worker runs its event loop, which is what a liveness probe asks.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>
#include <engram.h>


static char *eg_http_health(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static eg_int_t eg_http_health_handler(eg_http_request_t *r);


static eg_command_t  eg_http_health_commands[] = {

    { eg_string("health"),
      EG_HTTP_LOC_CONF|EG_CONF_NOARGS,
      eg_http_health,
      0,
      0,
      NULL },

      eg_null_command
};


static eg_http_module_t  eg_http_health_module_ctx = {
    NULL,                                   /* preconfiguration */
    NULL,                                   /* postconfiguration */
    NULL,                                   /* create main configuration */
    NULL,                                   /* init main configuration */
    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */
    NULL,                                   /* create location configuration */
    NULL                                    /* merge location configuration */
};


eg_module_t  eg_http_health_module = {
    EG_MODULE_V1,
    "eg_http_health_module",
    EG_HTTP_MODULE,                         /* module type */
    &eg_http_health_module_ctx,             /* module context */
    eg_http_health_commands,                /* module directives */
    NULL,                                   /* environment overrides */
    NULL,                                   /* init master */
    NULL,                                   /* init module */
    NULL,                                   /* init process */
    NULL,                                   /* exit process */
    NULL                                    /* exit master */
};


static char *
eg_http_health(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_core_loc_conf_t  *clcf;

    eg_unused(cmd);
    eg_unused(conf);

    clcf = eg_http_conf_get_module_loc_conf(cf, eg_http_core_module);

    if (clcf->handler) {
        return "is duplicate: the location has a handler already";
    }

    clcf->handler = eg_http_health_handler;

    return EG_CONF_OK;
}


static eg_int_t
eg_http_health_handler(eg_http_request_t *r)
{
    u_char    *p;
    size_t     len;
    eg_str_t   body;

    if (!(r->method & (EG_HTTP_GET|EG_HTTP_HEAD))) {
        return EG_HTTP_NOT_ALLOWED;
    }

    len = sizeof("{\"status\":\"ok\",\"version\":\"" ENGRAM_VERSION
                 "\",\"pid\":,\"uptime_seconds\":}\n")
          + 2 * EG_INT_T_LEN;

    p = eg_pnalloc(r->pool, len);
    if (p == NULL) {
        return EG_ERROR;
    }

    body.data = p;

    /* probes call this often: copies, not printf */

    p = eg_cpymem(p, "{\"status\":\"ok\",\"version\":\"" ENGRAM_VERSION
                  "\",\"pid\":",
                  sizeof("{\"status\":\"ok\",\"version\":\"" ENGRAM_VERSION
                         "\",\"pid\":") - 1);
    p = eg_sprint_uint(p, (uint64_t) eg_pid);
    p = eg_cpymem(p, ",\"uptime_seconds\":",
                  sizeof(",\"uptime_seconds\":") - 1);
    p = eg_sprint_uint(p, (uint64_t) eg_max(eg_time() - eg_start_time, 0));
    *p++ = '}';
    *p++ = '\n';

    body.len = (size_t) (p - body.data);

    return eg_http_send_response(r, EG_HTTP_OK, &eg_http_json_type, &body);
}
