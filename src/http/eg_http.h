/*
 * HTTP: the server module family.  Workers serve HTTP/1.1 as nginx's do:
 * "http {}" holds "server {}" blocks, each with "listen" addresses and
 * "location {}" blocks; a request runs through phases (find config,
 * access, content, log) where modules hook their handlers.
 */

#ifndef EG_HTTP_H_INCLUDED
#define EG_HTTP_H_INCLUDED


typedef struct eg_http_request_s  eg_http_request_t;

typedef eg_int_t (*eg_http_handler_pt)(eg_http_request_t *r);


#include <eg_http_config.h>
#include <eg_http_request.h>
#include <eg_http_core_module.h>


/* eg_http_parse.c: incremental parsers; see there for the return codes */
eg_int_t eg_http_parse_request_line(eg_http_request_t *r, eg_buf_t *b);
eg_int_t eg_http_parse_header_line(eg_http_request_t *r, eg_buf_t *b,
    eg_uint_t allow_underscores);
eg_int_t eg_http_normalize_uri(eg_http_request_t *r);
eg_int_t eg_http_parse_connection(eg_str_t *value);
eg_uint_t eg_http_parse_accept_encoding(eg_str_t *value, const char *coding);

/* eg_http_request.c */
void eg_http_init_connection(eg_connection_t *c);
void eg_http_finalize_request(eg_http_request_t *r, eg_int_t rc);
void eg_http_close_connection(eg_connection_t *c);
eg_table_elt_t *eg_http_find_header(eg_http_request_t *r, const char *lcname);

/* eg_http_response.c */
eg_int_t eg_http_send_response(eg_http_request_t *r, eg_uint_t status,
    eg_str_t *content_type, eg_str_t *body);
eg_int_t eg_http_send_special(eg_http_request_t *r, eg_uint_t status);
eg_table_elt_t *eg_http_add_header(eg_http_request_t *r, const char *name,
    eg_str_t *value);
eg_int_t eg_http_output(eg_http_request_t *r);
const char *eg_http_status_text(eg_uint_t status);

/*
 * The server's own figures, in the shared registry: what stub_status
 * shows, plus requests by status code and their duration.
 */
typedef struct {
    eg_metric_t         *accepted;
    eg_metric_t         *active;
    eg_metric_t         *reading;
    eg_metric_t         *writing;
    eg_metric_t         *waiting;
    eg_metric_family_t  *requests;      /* {code} */
    eg_metric_t         *duration;
} eg_http_stats_t;

#define EG_HTTP_STAT_NONE     0
#define EG_HTTP_STAT_WAITING  1
#define EG_HTTP_STAT_READING  2
#define EG_HTTP_STAT_WRITING  3

void eg_http_stat_state(eg_http_connection_t *hc, eg_uint_t state);
eg_metric_t *eg_http_stat_code(eg_uint_t status);

extern eg_http_stats_t  eg_http_stats;

/* a module that changes a response body before it is sent (gzip) */
typedef eg_int_t (*eg_http_body_filter_pt)(eg_http_request_t *r,
    eg_str_t *body);

extern eg_http_body_filter_pt  eg_http_top_body_filter;

extern eg_uint_t    eg_http_max_module;
extern eg_module_t  eg_http_module;
extern eg_module_t  eg_http_core_module;

extern eg_str_t     eg_http_html_type;
extern eg_str_t     eg_http_json_type;
extern eg_str_t     eg_http_text_type;

#endif /* EG_HTTP_H_INCLUDED */
