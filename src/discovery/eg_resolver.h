/*
 * An asynchronous resolver for the cluster process: c-ares, driven by the
 * event loop (its sockets are connections of ours, its timeouts a timer
 * of ours), never a blocking call.  Name servers from the "resolver"
 * directive, or /etc/resolv.conf.  Numeric addresses are answered without
 * asking anyone (still through the handler, later).
 */

#ifndef EG_RESOLVER_H_INCLUDED
#define EG_RESOLVER_H_INCLUDED


#include <eg_discovery.h>


typedef struct eg_resolver_query_s  eg_resolver_query_t;


/*
 * The answer: rc EG_OK with addrs (eg_swim_addr_t, ports set: for a host
 * the port asked for, for SRV each target's port; SRV targets in the
 * order RFC 2782 picks them, by priority, then weighted at random), and
 * ttl the smallest TTL of the records used, in ms; or EG_ERROR with
 * error a short text ("_engram._tcp.example.com: NXDOMAIN").  addrs
 * lives in the query's pool, freed after the handler returns: copy what
 * must stay.
 */
typedef void (*eg_resolver_handler_pt)(void *data, eg_int_t rc,
    eg_array_t *addrs, eg_msec_t ttl, const char *error);


/* servers: eg_str_t "addr[:port]" (NULL: /etc/resolv.conf) */
eg_resolver_t *eg_resolver_create(eg_array_t *servers, eg_msec_t timeout,
    eg_log_t *log);
void eg_resolver_destroy(eg_resolver_t *r);

/* A and AAAA of a name (IPv4 first), with port set on each */
eg_resolver_query_t *eg_resolve_host(eg_resolver_t *r, eg_str_t *name,
    uint16_t port, eg_resolver_handler_pt handler, void *data);

/* SRV of a name, each target then resolved to its A/AAAA */
eg_resolver_query_t *eg_resolve_srv(eg_resolver_t *r, eg_str_t *name,
    eg_resolver_handler_pt handler, void *data);

/* no handler call after this */
void eg_resolve_cancel(eg_resolver_query_t *q);


#endif /* EG_RESOLVER_H_INCLUDED */
