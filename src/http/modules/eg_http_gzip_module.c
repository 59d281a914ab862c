/*
 * gzip: compresses a response body with zlib when the client accepts it,
 * the type is listed and the body is long enough.  Every body here is in
 * memory and complete, so one deflate() call does it, and the exact
 * Content-Length of the compressed body goes in the header.
 *
 *     gzip on;  gzip_min_length 256;  gzip_comp_level 1;
 *     gzip_types application/json text/plain;     # text/html always
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>
#include <zlib.h>


typedef struct {
    eg_flag_t        enable;
    size_t           min_length;
    eg_int_t         level;
    eg_array_t      *types;         /* eg_str_t, lower case */
} eg_http_gzip_conf_t;


static void *eg_http_gzip_create_conf(eg_conf_t *cf);
static char *eg_http_gzip_merge_conf(eg_conf_t *cf, void *parent,
    void *child);
static eg_int_t eg_http_gzip_init(eg_conf_t *cf);
static eg_int_t eg_http_gzip_body_filter(eg_http_request_t *r,
    eg_str_t *body);


static eg_conf_num_bounds_t  eg_http_gzip_level_bounds = { 1, 9 };


static eg_command_t  eg_http_gzip_commands[] = {

    { eg_string("gzip"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_FLAG,
      eg_conf_set_flag_slot,
      EG_HTTP_LOC_CONF_OFFSET,
      offsetof(eg_http_gzip_conf_t, enable),
      NULL },

    { eg_string("gzip_min_length"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_TAKE1,
      eg_conf_set_size_slot,
      EG_HTTP_LOC_CONF_OFFSET,
      offsetof(eg_http_gzip_conf_t, min_length),
      NULL },

    { eg_string("gzip_comp_level"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      EG_HTTP_LOC_CONF_OFFSET,
      offsetof(eg_http_gzip_conf_t, level),
      &eg_http_gzip_level_bounds },

    { eg_string("gzip_types"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_1MORE,
      eg_conf_set_str_array_slot,
      EG_HTTP_LOC_CONF_OFFSET,
      offsetof(eg_http_gzip_conf_t, types),
      NULL },

      eg_null_command
};


static eg_http_module_t  eg_http_gzip_module_ctx = {
    NULL,                                   /* preconfiguration */
    eg_http_gzip_init,                      /* postconfiguration */
    NULL,                                   /* create main configuration */
    NULL,                                   /* init main configuration */
    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */
    eg_http_gzip_create_conf,               /* create location configuration */
    eg_http_gzip_merge_conf                 /* merge location configuration */
};


eg_module_t  eg_http_gzip_module = {
    EG_MODULE_V1,
    "eg_http_gzip_module",
    EG_HTTP_MODULE,                         /* module type */
    &eg_http_gzip_module_ctx,               /* module context */
    eg_http_gzip_commands,                  /* module directives */
    NULL,                                   /* environment overrides */
    NULL,                                   /* init master */
    NULL,                                   /* init module */
    NULL,                                   /* init process */
    NULL,                                   /* exit process */
    NULL                                    /* exit master */
};


static eg_http_body_filter_pt  eg_http_next_body_filter;

static eg_str_t  eg_http_gzip_vary = eg_string("Accept-Encoding");
static eg_str_t  eg_http_gzip_encoding = eg_string("gzip");


static eg_uint_t
eg_http_gzip_type(eg_http_gzip_conf_t *conf, eg_str_t *content_type)
{
    size_t      len;
    u_char     *semi;
    eg_uint_t   i;
    eg_str_t   *t;

    if (content_type->len == 0) {
        return 0;
    }

    semi = eg_strlchr(content_type->data,
                      content_type->data + content_type->len, ';');
    len = semi ? (size_t) (semi - content_type->data) : content_type->len;

    while (len && content_type->data[len - 1] == ' ') {
        len--;
    }

    if (len == 9 && eg_strncasecmp(content_type->data,
                                   (u_char *) "text/html", 9) == 0)
    {
        return 1;
    }

    if (conf->types == NULL) {
        return 0;
    }

    t = conf->types->elts;

    for (i = 0; i < conf->types->nelts; i++) {
        if ((t[i].len == 1 && t[i].data[0] == '*')
            || (t[i].len == len
                && eg_strncasecmp(t[i].data, content_type->data, len) == 0))
        {
            return 1;
        }
    }

    return 0;
}


static void *
eg_http_gzip_zalloc(void *opaque, u_int items, u_int size)
{
    return eg_palloc(opaque, (size_t) items * size);
}


static void
eg_http_gzip_zfree(void *opaque, void *address)
{
    eg_unused(opaque);
    eg_unused(address);     /* the request pool frees it */
}


static eg_int_t
eg_http_gzip_body_filter(eg_http_request_t *r, eg_str_t *body)
{
    int                   rc;
    u_char               *out;
    uLong                 bound;
    z_stream              zs;
    eg_http_gzip_conf_t  *conf;

    conf = eg_http_get_module_loc_conf(r, eg_http_gzip_module);

    if (!conf->enable
        || !eg_http_gzip_type(conf, &r->headers_out.content_type))
    {
        goto next;
    }

    /* the answer depends on Accept-Encoding: caches must know */

    if (eg_http_add_header(r, "Vary", &eg_http_gzip_vary) == NULL) {
        return EG_ERROR;
    }

    if (body->len < conf->min_length
        || r->headers_in.accept_encoding == NULL
        || !eg_http_parse_accept_encoding(
                                  &r->headers_in.accept_encoding->value,
                                  "gzip"))
    {
        goto next;
    }

    eg_memzero(&zs, sizeof(z_stream));
    zs.zalloc = eg_http_gzip_zalloc;
    zs.zfree = eg_http_gzip_zfree;
    zs.opaque = r->pool;

    /* 15 + 16: a gzip wrapper rather than zlib's */

    if (deflateInit2(&zs, (int) conf->level, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY)
        != Z_OK)
    {
        eg_log_error(EG_LOG_ALERT, r->connection->log, 0,
                     "deflateInit2() failed");
        goto next;
    }

    bound = deflateBound(&zs, (uLong) body->len);

    out = eg_pnalloc(r->pool, bound);
    if (out == NULL) {
        (void) deflateEnd(&zs);
        return EG_ERROR;
    }

    zs.next_in = body->data;
    zs.avail_in = (uInt) body->len;
    zs.next_out = out;
    zs.avail_out = (uInt) bound;

    rc = deflate(&zs, Z_FINISH);

    if (rc != Z_STREAM_END) {
        eg_log_error(EG_LOG_ALERT, r->connection->log, 0,
                     "deflate() failed: %d", rc);
        (void) deflateEnd(&zs);
        goto next;
    }

    body->data = out;
    body->len = zs.total_out;

    (void) deflateEnd(&zs);

    if (eg_http_add_header(r, "Content-Encoding", &eg_http_gzip_encoding)
        == NULL)
    {
        return EG_ERROR;
    }

next:

    return eg_http_next_body_filter ? eg_http_next_body_filter(r, body)
                                    : EG_OK;
}


static void *
eg_http_gzip_create_conf(eg_conf_t *cf)
{
    eg_http_gzip_conf_t  *conf;

    conf = eg_pcalloc(cf->pool, sizeof(eg_http_gzip_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = EG_CONF_UNSET;
    conf->min_length = EG_CONF_UNSET_SIZE;
    conf->level = EG_CONF_UNSET;
    conf->types = EG_CONF_UNSET_PTR;

    return conf;
}


static char *
eg_http_gzip_merge_conf(eg_conf_t *cf, void *parent, void *child)
{
    eg_http_gzip_conf_t  *prev = parent;
    eg_http_gzip_conf_t  *conf = child;

    eg_unused(cf);

    eg_conf_merge_value(conf->enable, prev->enable, 0);
    eg_conf_merge_size_value(conf->min_length, prev->min_length, 20);
    eg_conf_merge_value(conf->level, prev->level, 1);
    eg_conf_merge_ptr_value(conf->types, prev->types, NULL);

    return EG_CONF_OK;
}


static eg_int_t
eg_http_gzip_init(eg_conf_t *cf)
{
    eg_unused(cf);

    eg_http_next_body_filter = eg_http_top_body_filter;
    eg_http_top_body_filter = eg_http_gzip_body_filter;

    return EG_OK;
}
