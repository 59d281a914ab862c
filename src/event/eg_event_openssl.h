/*
 * TLS on connections of the event loop, by OpenSSL.  A connection with
 * TLS swaps its recv/send for the ones here once the handshake, which is
 * non-blocking and driven by the connection's events, has completed.
 */

#ifndef EG_EVENT_OPENSSL_H_INCLUDED
#define EG_EVENT_OPENSSL_H_INCLUDED


#include <openssl/ssl.h>
#include <openssl/err.h>


#define EG_SSL_TLSv1_2    0x01
#define EG_SSL_TLSv1_3    0x02


typedef struct {
    SSL_CTX                  *ctx;
    eg_log_t                 *log;
} eg_ssl_t;


typedef struct {
    SSL                      *connection;
    eg_event_handler_pt       saved_read_handler;
    eg_event_handler_pt       saved_write_handler;
    eg_connection_handler_pt  handler;      /* after the handshake */
    unsigned                  handshaked:1;
} eg_ssl_connection_t;


eg_int_t eg_ssl_init(eg_log_t *log);
eg_int_t eg_ssl_create(eg_ssl_t *ssl, eg_uint_t protocols, eg_pool_t *pool);
eg_int_t eg_ssl_certificate(eg_conf_t *cf, eg_ssl_t *ssl, eg_str_t *cert,
    eg_str_t *key);
eg_int_t eg_ssl_ciphers(eg_conf_t *cf, eg_ssl_t *ssl, eg_str_t *ciphers);

eg_int_t eg_ssl_create_connection(eg_ssl_t *ssl, eg_connection_t *c);
/* EG_OK, EG_AGAIN (c->ssl->handler runs when done) or EG_ERROR */
eg_int_t eg_ssl_handshake(eg_connection_t *c);
ssize_t eg_ssl_recv(eg_connection_t *c, u_char *buf, size_t size);
ssize_t eg_ssl_send(eg_connection_t *c, u_char *buf, size_t size);
void eg_ssl_shutdown(eg_connection_t *c);

void eg_ssl_error(eg_uint_t level, eg_log_t *log, eg_err_t err,
    const char *fmt, ...) EG_PRINTF(4, 5);
void eg_ssl_conf_error(eg_conf_t *cf, const char *fmt, ...) EG_PRINTF(2, 3);

#endif /* EG_EVENT_OPENSSL_H_INCLUDED */
