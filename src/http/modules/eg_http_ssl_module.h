#ifndef EG_HTTP_SSL_MODULE_H_INCLUDED
#define EG_HTTP_SSL_MODULE_H_INCLUDED


#include <eg_event_openssl.h>


typedef struct {
    eg_ssl_t             ssl;
    eg_str_t             certificate;
    eg_str_t             certificate_key;
    eg_str_t             ciphers;
    eg_uint_t            protocols;     /* EG_SSL_TLSv1_* */

    /* where ssl_certificate was set, for the messages when it fails */
    eg_str_t             where_file;
    eg_uint_t            where_line;
} eg_http_ssl_srv_conf_t;


/* the TLS context of a server, or NULL when it has none */
eg_ssl_t *eg_http_ssl_server(eg_http_core_srv_conf_t *cscf);

extern eg_module_t  eg_http_ssl_module;

#endif /* EG_HTTP_SSL_MODULE_H_INCLUDED */
