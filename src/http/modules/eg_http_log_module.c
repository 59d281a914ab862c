/*
 * access_log and log_format.  A format is compiled once into a list of
 * literal pieces and variables; each request's line is measured, then
 * written with a single write(2), so lines from several workers never
 * mix.  The files are the cycle's open files: USR1 reopens them.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>


typedef enum {
    eg_log_literal = 0,
    eg_log_remote_addr,
    eg_log_remote_port,
    eg_log_time_local,
    eg_log_time_iso8601,
    eg_log_msec,
    eg_log_request,
    eg_log_request_method,
    eg_log_request_uri,
    eg_log_uri,
    eg_log_args,
    eg_log_server_protocol,
    eg_log_status,
    eg_log_body_bytes_sent,
    eg_log_bytes_sent,
    eg_log_request_time,
    eg_log_connection,
    eg_log_connection_requests,
    eg_log_pid,
    eg_log_host,
    eg_log_header            /* $http_NAME */
} eg_http_log_var_e;


typedef struct {
    eg_http_log_var_e    var;
    eg_str_t             text;      /* literal, or header name (lower) */
} eg_http_log_op_t;


typedef struct {
    eg_str_t             name;
    eg_array_t           ops;       /* eg_http_log_op_t */
} eg_http_log_fmt_t;


typedef struct {
    eg_open_file_t      *file;
    eg_http_log_fmt_t   *format;
} eg_http_log_t;


typedef struct {
    eg_array_t           formats;   /* eg_http_log_fmt_t */
} eg_http_log_main_conf_t;


typedef struct {
    eg_array_t          *logs;      /* eg_http_log_t; NULL: inherit */
    eg_uint_t            off;
} eg_http_log_loc_conf_t;


static const struct {
    const char          *name;
    eg_http_log_var_e    var;
} eg_http_log_vars[] = {
    { "remote_addr",          eg_log_remote_addr },
    { "remote_port",          eg_log_remote_port },
    { "time_local",           eg_log_time_local },
    { "time_iso8601",         eg_log_time_iso8601 },
    { "msec",                 eg_log_msec },
    { "request",              eg_log_request },
    { "request_method",       eg_log_request_method },
    { "request_uri",          eg_log_request_uri },
    { "uri",                  eg_log_uri },
    { "args",                 eg_log_args },
    { "server_protocol",      eg_log_server_protocol },
    { "status",               eg_log_status },
    { "body_bytes_sent",      eg_log_body_bytes_sent },
    { "bytes_sent",           eg_log_bytes_sent },
    { "request_time",         eg_log_request_time },
    { "connection",           eg_log_connection },
    { "connection_requests",  eg_log_connection_requests },
    { "pid",                  eg_log_pid },
    { "host",                 eg_log_host },
    { NULL,                   eg_log_literal }
};


static eg_str_t  eg_http_combined_fmt =
    eg_string("$remote_addr - - [$time_local] \"$request\" $status "
              "$body_bytes_sent \"$http_referer\" \"$http_user_agent\"");


static char *eg_http_log_set_format(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_http_log_set_log(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static eg_int_t eg_http_log_compile(eg_conf_t *cf, eg_http_log_fmt_t *fmt,
    eg_str_t *text);
static void *eg_http_log_create_main_conf(eg_conf_t *cf);
static void *eg_http_log_create_loc_conf(eg_conf_t *cf);
static char *eg_http_log_merge_loc_conf(eg_conf_t *cf, void *parent,
    void *child);
static eg_int_t eg_http_log_init(eg_conf_t *cf);
static eg_int_t eg_http_log_handler(eg_http_request_t *r);


static eg_command_t  eg_http_log_commands[] = {

    { eg_string("log_format"),
      EG_HTTP_MAIN_CONF|EG_CONF_2MORE,
      eg_http_log_set_format,
      EG_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { eg_string("access_log"),
      EG_HTTP_MAIN_CONF|EG_HTTP_SRV_CONF|EG_HTTP_LOC_CONF|EG_CONF_TAKE12,
      eg_http_log_set_log,
      EG_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      eg_null_command
};


static eg_http_module_t  eg_http_log_module_ctx = {
    NULL,                                   /* preconfiguration */
    eg_http_log_init,                       /* postconfiguration */
    eg_http_log_create_main_conf,           /* create main configuration */
    NULL,                                   /* init main configuration */
    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */
    eg_http_log_create_loc_conf,            /* create location configuration */
    eg_http_log_merge_loc_conf              /* merge location configuration */
};


eg_module_t  eg_http_log_module = {
    EG_MODULE_V1,
    "eg_http_log_module",
    EG_HTTP_MODULE,                         /* module type */
    &eg_http_log_module_ctx,                /* module context */
    eg_http_log_commands,                   /* module directives */
    NULL,                                   /* environment overrides */
    NULL,                                   /* init master */
    NULL,                                   /* init module */
    NULL,                                   /* init process */
    NULL,                                   /* exit process */
    NULL                                    /* exit master */
};


static eg_int_t
eg_http_log_compile(eg_conf_t *cf, eg_http_log_fmt_t *fmt, eg_str_t *text)
{
    u_char            *p, *last, *start;
    size_t             len;
    eg_uint_t          i;
    eg_http_log_op_t  *op;

    p = text->data;
    last = p + text->len;

    while (p < last) {

        op = eg_array_push(&fmt->ops);
        if (op == NULL) {
            return EG_ERROR;
        }

        if (*p != '$') {
            start = p;

            while (p < last && *p != '$') {
                p++;
            }

            op->var = eg_log_literal;
            op->text.data = start;
            op->text.len = (size_t) (p - start);
            continue;
        }

        /* $name or ${name} */

        p++;

        if (p < last && *p == '{') {
            start = ++p;

            while (p < last && *p != '}') {
                p++;
            }

            if (p == last) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "missing \"}\" in the log format \"%s\"",
                                  text->data);
                return EG_ERROR;
            }

            len = (size_t) (p - start);
            p++;

        } else {
            start = p;

            while (p < last && ((*p >= 'a' && *p <= 'z') || *p == '_'
                                || (*p >= 'A' && *p <= 'Z')
                                || (*p >= '0' && *p <= '9')))
            {
                p++;
            }

            len = (size_t) (p - start);
        }

        if (len == 0) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid variable name in the log format "
                              "\"%s\"", text->data);
            return EG_ERROR;
        }

        if (len > 5 && eg_strncmp(start, "http_", 5) == 0) {
            /* $http_user_agent is the User-Agent header: lower, - for _ */
            op->var = eg_log_header;
            op->text.len = len - 5;
            op->text.data = eg_pnalloc(cf->pool, op->text.len + 1);
            if (op->text.data == NULL) {
                return EG_ERROR;
            }

            for (i = 0; i < op->text.len; i++) {
                op->text.data[i] = start[5 + i] == '_'
                                   ? '-' : eg_tolower(start[5 + i]);
            }

            op->text.data[op->text.len] = '\0';
            continue;
        }

        for (i = 0; eg_http_log_vars[i].name; i++) {
            if (strlen(eg_http_log_vars[i].name) == len
                && eg_strncmp(eg_http_log_vars[i].name, start, len) == 0)
            {
                break;
            }
        }

        if (eg_http_log_vars[i].name == NULL) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "unknown variable \"$%.*s\" in the log format",
                              (int) len, start);
            return EG_ERROR;
        }

        op->var = eg_http_log_vars[i].var;
        eg_str_null(&op->text);
    }

    return EG_OK;
}


static eg_http_log_fmt_t *
eg_http_log_find_format(eg_http_log_main_conf_t *lmcf, eg_str_t *name)
{
    eg_uint_t           i;
    eg_http_log_fmt_t  *fmt;

    fmt = lmcf->formats.elts;

    for (i = 0; i < lmcf->formats.nelts; i++) {
        if (eg_str_cmp(&fmt[i].name, name) == 0) {
            return &fmt[i];
        }
    }

    return NULL;
}


static void *
eg_http_log_create_main_conf(eg_conf_t *cf)
{
    eg_http_log_fmt_t        *fmt;
    eg_http_log_main_conf_t  *lmcf;

    lmcf = eg_pcalloc(cf->pool, sizeof(eg_http_log_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (eg_array_init(&lmcf->formats, cf->pool, 4,
                      sizeof(eg_http_log_fmt_t))
        != EG_OK)
    {
        return NULL;
    }

    fmt = eg_array_push(&lmcf->formats);
    if (fmt == NULL) {
        return NULL;
    }

    eg_str_set(&fmt->name, "combined");

    if (eg_array_init(&fmt->ops, cf->pool, 16, sizeof(eg_http_log_op_t))
        != EG_OK
        || eg_http_log_compile(cf, fmt, &eg_http_combined_fmt) != EG_OK)
    {
        return NULL;
    }

    return lmcf;
}


static char *
eg_http_log_set_format(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_log_main_conf_t  *lmcf = conf;

    u_char             *p;
    size_t              len;
    eg_str_t           *value, text;
    eg_uint_t           i;
    eg_http_log_fmt_t  *fmt;

    eg_unused(cmd);

    value = cf->args->elts;

    if (eg_http_log_find_format(lmcf, &value[1])) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "duplicate \"log_format\" name \"%s\"",
                          value[1].data);
        return EG_CONF_ERROR;
    }

    /* the rest of the arguments, joined, as nginx allows */

    len = 0;

    for (i = 2; i < cf->args->nelts; i++) {
        len += value[i].len;
    }

    text.data = eg_pnalloc(cf->pool, len + 1);
    if (text.data == NULL) {
        return EG_CONF_ERROR;
    }

    p = text.data;

    for (i = 2; i < cf->args->nelts; i++) {
        p = eg_cpymem(p, value[i].data, value[i].len);
    }

    *p = '\0';
    text.len = len;

    fmt = eg_array_push(&lmcf->formats);
    if (fmt == NULL) {
        return EG_CONF_ERROR;
    }

    fmt->name = value[1];

    if (eg_array_init(&fmt->ops, cf->pool, 16, sizeof(eg_http_log_op_t))
        != EG_OK)
    {
        return EG_CONF_ERROR;
    }

    if (eg_http_log_compile(cf, fmt, &text) != EG_OK) {
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


static char *
eg_http_log_set_log(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_log_loc_conf_t  *llcf = conf;

    eg_str_t                 *value, name;
    eg_http_log_t            *log;
    eg_http_log_main_conf_t  *lmcf;

    eg_unused(cmd);

    value = cf->args->elts;

    if (eg_str_eq(&value[1], "off")) {
        if (cf->args->nelts != 2) {
            return "takes no format with \"off\"";
        }

        if (llcf->logs) {
            return "\"off\" conflicts with a log given at the same level";
        }

        llcf->off = 1;
        return EG_CONF_OK;
    }

    if (llcf->off) {
        return "conflicts with \"access_log off\" at the same level";
    }

    if (llcf->logs == NULL) {
        llcf->logs = eg_array_create(cf->pool, 2, sizeof(eg_http_log_t));
        if (llcf->logs == NULL) {
            return EG_CONF_ERROR;
        }
    }

    log = eg_array_push(llcf->logs);
    if (log == NULL) {
        return EG_CONF_ERROR;
    }

    log->file = eg_conf_open_file(cf->cycle, &value[1]);
    if (log->file == NULL) {
        return EG_CONF_ERROR;
    }

    lmcf = eg_http_conf_get_module_main_conf(cf, eg_http_log_module);

    if (cf->args->nelts == 3) {
        name = value[2];

    } else {
        eg_str_set(&name, "combined");
    }

    log->format = eg_http_log_find_format(lmcf, &name);

    if (log->format == NULL) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "unknown log format \"%s\"", name.data);
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


static void *
eg_http_log_create_loc_conf(eg_conf_t *cf)
{
    return eg_pcalloc(cf->pool, sizeof(eg_http_log_loc_conf_t));
}


static char *
eg_http_log_merge_loc_conf(eg_conf_t *cf, void *parent, void *child)
{
    eg_http_log_loc_conf_t  *prev = parent;
    eg_http_log_loc_conf_t  *conf = child;

    eg_unused(cf);

    if (conf->logs == NULL && !conf->off) {
        conf->logs = prev->logs;
        conf->off = prev->off;
    }

    return EG_CONF_OK;
}


static eg_int_t
eg_http_log_init(eg_conf_t *cf)
{
    eg_http_handler_pt         *h;
    eg_http_core_main_conf_t   *cmcf;

    cmcf = eg_http_conf_get_module_main_conf(cf, eg_http_core_module);

    h = eg_array_push(&cmcf->phases[EG_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return EG_ERROR;
    }

    *h = eg_http_log_handler;

    return EG_OK;
}


/* a value as it goes into the log: quotes, backslashes, controls as \xXX */
static u_char *
eg_http_log_escape(u_char *dst, u_char *src, size_t len)
{
    static const char  hex[] = "0123456789ABCDEF";

    u_char  *last;

    for (last = src + len; src < last; src++) {
        if (*src < 0x20 || *src >= 0x7f || *src == '"' || *src == '\\') {
            *dst++ = '\\';
            *dst++ = 'x';
            *dst++ = hex[*src >> 4];
            *dst++ = hex[*src & 0xf];
            continue;
        }

        *dst++ = *src;
    }

    return dst;
}


static size_t
eg_http_log_escaped_len(u_char *src, size_t len)
{
    size_t   n;
    u_char  *last;

    n = len;

    for (last = src + len; src < last; src++) {
        if (*src < 0x20 || *src >= 0x7f || *src == '"' || *src == '\\') {
            n += 3;
        }
    }

    return n;
}


/* the text of one variable; numbers are printed into buf */
static eg_str_t
eg_http_log_value(eg_http_request_t *r, eg_http_log_op_t *op, u_char *buf,
    size_t size)
{
    u_char           *p;
    eg_str_t          v;
    eg_table_elt_t   *h;
    eg_msec_int_t     ms;

    eg_str_null(&v);
    p = NULL;

    switch (op->var) {

    case eg_log_literal:
        return op->text;

    case eg_log_remote_addr:
        return r->connection->addr_text;

    case eg_log_remote_port:
        p = eg_slprintf(buf, buf + size, "%u", (unsigned)
                        eg_inet_get_port(r->connection->sockaddr));
        break;

    case eg_log_time_local:
        v.data = (u_char *) eg_cached_http_log_time.data;
        v.len = eg_cached_http_log_time.len;
        return v;

    case eg_log_time_iso8601:
        v.data = (u_char *) eg_cached_iso8601_time.data;
        v.len = eg_cached_iso8601_time.len;
        return v;

    case eg_log_msec:
        p = eg_slprintf(buf, buf + size, "%ld.%03lu",
                        (long) eg_timeofday()->sec,
                        (unsigned long) eg_timeofday()->msec);
        break;

    case eg_log_request:
        return r->request_line;

    case eg_log_request_method:
        return r->method_name;

    case eg_log_request_uri:
        return r->unparsed_uri;

    case eg_log_uri:
        return r->uri;

    case eg_log_args:
        return r->args;

    case eg_log_server_protocol:
        return r->http_protocol;

    case eg_log_status:
        p = eg_slprintf(buf, buf + size, "%03u",
                        (unsigned) r->headers_out.status);
        break;

    case eg_log_body_bytes_sent:
        p = eg_slprintf(buf, buf + size, "%lld",
                        (long long) r->body_bytes_sent);
        break;

    case eg_log_bytes_sent:
        p = eg_slprintf(buf, buf + size, "%lld",
                        (long long) r->bytes_sent);
        break;

    case eg_log_request_time:
        ms = (eg_msec_int_t) (eg_current_msec - r->start_msec);
        ms = eg_max(ms, 0);
        p = eg_slprintf(buf, buf + size, "%lld.%03lld",
                        (long long) (ms / 1000), (long long) (ms % 1000));
        break;

    case eg_log_connection:
        p = eg_slprintf(buf, buf + size, "%lu",
                        (unsigned long) r->connection->number);
        break;

    case eg_log_connection_requests:
        p = eg_slprintf(buf, buf + size, "%lu",
                        (unsigned long) r->connection->requests);
        break;

    case eg_log_pid:
        p = eg_slprintf(buf, buf + size, "%ld", (long) eg_pid);
        break;

    case eg_log_host:
        return r->headers_in.server;

    case eg_log_header:
        h = eg_http_find_header(r, (char *) op->text.data);

        if (h) {
            return h->value;
        }

        break;
    }

    if (p) {
        v.data = buf;
        v.len = (size_t) (p - buf);
    }

    return v;
}


static eg_int_t
eg_http_log_handler(eg_http_request_t *r)
{
    u_char                  *line, *p, buf[64];
    size_t                   len;
    eg_str_t                 v;
    eg_uint_t                i, j;
    eg_http_log_t           *log;
    eg_http_log_op_t        *op;
    eg_http_log_loc_conf_t  *llcf;

    llcf = eg_http_get_module_loc_conf(r, eg_http_log_module);

    if (llcf->off || llcf->logs == NULL) {
        return EG_OK;
    }

    log = llcf->logs->elts;

    for (i = 0; i < llcf->logs->nelts; i++) {

        op = log[i].format->ops.elts;

        /* measure, then build; an empty variable logs as "-" */

        len = 1;

        for (j = 0; j < log[i].format->ops.nelts; j++) {
            v = eg_http_log_value(r, &op[j], buf, sizeof(buf));

            if (op[j].var == eg_log_literal) {
                len += v.len;

            } else {
                len += v.len ? eg_http_log_escaped_len(v.data, v.len) : 1;
            }
        }

        line = eg_pnalloc(r->pool, len);
        if (line == NULL) {
            return EG_ERROR;
        }

        p = line;

        for (j = 0; j < log[i].format->ops.nelts; j++) {
            v = eg_http_log_value(r, &op[j], buf, sizeof(buf));

            if (op[j].var == eg_log_literal) {
                p = eg_cpymem(p, v.data, v.len);

            } else if (v.len == 0) {
                *p++ = '-';

            } else {
                p = eg_http_log_escape(p, v.data, v.len);
            }
        }

        *p++ = '\n';

        if (log[i].file->fd != -1
            && eg_write_fd(log[i].file->fd, line, (size_t) (p - line))
               != EG_OK)
        {
            eg_log_error(EG_LOG_ALERT, r->connection->log, eg_errno,
                         "write() to \"%s\" failed",
                         log[i].file->name.data);
        }
    }

    return EG_OK;
}
