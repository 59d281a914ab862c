/*
 * A small HTTP/1.1 client for the discovery methods that ask an API
 * (Kubernetes, AWS EC2 and its metadata service): one request per
 * connection, over TLS (OpenSSL, non-blocking, the peer verified against
 * a CA file or the system's, with SNI) or plain, host names resolved with
 * eg_resolver, all in the cluster process's event loop.
 */

#ifndef EG_DISCOVERY_HTTP_H_INCLUDED
#define EG_DISCOVERY_HTTP_H_INCLUDED


#include <eg_discovery.h>
#include <eg_resolver.h>


typedef struct eg_dhttp_s  eg_dhttp_t;


typedef struct {
    eg_str_t             method;        /* "GET", "PUT", "POST" */
    eg_str_t             url;           /* http[s]://host[:port]/path?q */
    eg_array_t          *headers;       /* eg_keyval_t to add; the client
                                           sets Host, Content-Length,
                                           Connection: close */
    eg_str_t             body;
    eg_str_t             ca_file;       /* https; empty: the system's */
    eg_uint_t            verify;        /* check the peer's certificate */
    eg_msec_t            timeout;       /* the whole exchange */
    size_t               max_body;      /* a longer answer is an error */
} eg_dhttp_request_t;


typedef struct {
    eg_uint_t            status;
    eg_array_t          *headers;       /* eg_keyval_t, names lowercased */
    eg_str_t             body;          /* de-chunked */
} eg_dhttp_response_t;


/*
 * rc EG_OK: res holds the answer, whatever its status; EG_ERROR: error
 * says what failed (resolving, connecting, TLS, a bad answer, the
 * timeout).  res and everything in it live in the request's pool, freed
 * after the handler returns.
 */
typedef void (*eg_dhttp_handler_pt)(void *data, eg_int_t rc,
    eg_dhttp_response_t *res, const char *error);


/* NULL when it cannot even start (then no handler call) */
eg_dhttp_t *eg_dhttp_fetch(eg_dhttp_request_t *req, eg_resolver_t *resolver,
    eg_dhttp_handler_pt handler, void *data, eg_log_t *log);

/* no handler call after this */
void eg_dhttp_cancel(eg_dhttp_t *h);


#endif /* EG_DISCOVERY_HTTP_H_INCLUDED */
