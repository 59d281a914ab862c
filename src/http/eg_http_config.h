/*
 * HTTP configuration contexts.  Each HTTP module may keep a main conf
 * (one per "http {}"), a server conf (one per "server {}") and a location
 * conf (one per "location {}", plus one at server and http level that
 * the locations inherit from by merging).
 */

#ifndef EG_HTTP_CONFIG_H_INCLUDED
#define EG_HTTP_CONFIG_H_INCLUDED


typedef struct {
    void        **main_conf;
    void        **srv_conf;
    void        **loc_conf;
} eg_http_conf_ctx_t;


typedef struct {
    /* before the block is parsed: register variables, defaults */
    eg_int_t    (*preconfiguration)(eg_conf_t *cf);
    /* after everything is merged: hook handlers into the phases */
    eg_int_t    (*postconfiguration)(eg_conf_t *cf);

    void       *(*create_main_conf)(eg_conf_t *cf);
    char       *(*init_main_conf)(eg_conf_t *cf, void *conf);

    void       *(*create_srv_conf)(eg_conf_t *cf);
    char       *(*merge_srv_conf)(eg_conf_t *cf, void *prev, void *conf);

    void       *(*create_loc_conf)(eg_conf_t *cf);
    char       *(*merge_loc_conf)(eg_conf_t *cf, void *prev, void *conf);
} eg_http_module_t;


#define EG_HTTP_MAIN_CONF        0x02000000
#define EG_HTTP_SRV_CONF         0x04000000
#define EG_HTTP_LOC_CONF         0x08000000

#define EG_HTTP_MAIN_CONF_OFFSET offsetof(eg_http_conf_ctx_t, main_conf)
#define EG_HTTP_SRV_CONF_OFFSET  offsetof(eg_http_conf_ctx_t, srv_conf)
#define EG_HTTP_LOC_CONF_OFFSET  offsetof(eg_http_conf_ctx_t, loc_conf)


#define eg_http_get_module_main_conf(r, module)                              \
    (r)->main_conf[module.ctx_index]
#define eg_http_get_module_srv_conf(r, module)                               \
    (r)->srv_conf[module.ctx_index]
#define eg_http_get_module_loc_conf(r, module)                               \
    (r)->loc_conf[module.ctx_index]

#define eg_http_conf_get_module_main_conf(cf, module)                        \
    ((eg_http_conf_ctx_t *) cf->ctx)->main_conf[module.ctx_index]
#define eg_http_conf_get_module_srv_conf(cf, module)                         \
    ((eg_http_conf_ctx_t *) cf->ctx)->srv_conf[module.ctx_index]
#define eg_http_conf_get_module_loc_conf(cf, module)                         \
    ((eg_http_conf_ctx_t *) cf->ctx)->loc_conf[module.ctx_index]

/* from a cycle, for code outside requests (metrics, status) */
#define eg_http_cycle_get_module_main_conf(cycle, module)                    \
    ((cycle)->conf_ctx[eg_http_module.index]                                 \
     ? ((eg_http_conf_ctx_t *) (cycle)->conf_ctx[eg_http_module.index])      \
           ->main_conf[module.ctx_index]                                     \
     : NULL)

#endif /* EG_HTTP_CONFIG_H_INCLUDED */
