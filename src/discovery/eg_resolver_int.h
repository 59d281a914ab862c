/*
 * The resolver's handling of an SRV answer (eg_resolver_srv.c), apart
 * from the event loop (eg_resolver.c) so that the unit tests and the SRV
 * fuzzer (t/fuzz/fuzz_srv.c) reach it: the answer's records and TTL, and
 * the order RFC 2782 picks them in.
 */

#ifndef EG_RESOLVER_INT_H_INCLUDED
#define EG_RESOLVER_INT_H_INCLUDED


#include <eg_resolver.h>


/*
 * The most SRV records of one answer that are resolved, in RFC 2782
 * order: one answer over TCP may hold thousands, each a lookup.
 */
#define EG_RESOLVER_SRV_MAX  64

/* the DNS type and class of SRV questions and records */
#define EG_DNS_T_SRV         33
#define EG_DNS_C_IN          1


typedef struct {
    eg_str_t             target;        /* NUL-terminated, never "." */
    uint16_t             port;
    uint16_t             priority;      /* lower first */
    uint16_t             weight;        /* share within a priority */
} eg_resolver_srv_t;


/* uniform 32 random bits */
typedef uint32_t (*eg_resolver_random_pt)(void *data);


/*
 * A DNS answer (the whole message) to its SRV records, in *srvs
 * (eg_resolver_srv_t, allocated in pool; records whose target is "."
 * are left out, the service is not there), and *ttl the smallest TTL of
 * the SRV records in seconds (0 when there is none).  Returns
 * ARES_SUCCESS, or the c-ares status that says why not (ARES_EBADRESP,
 * ARES_ENODATA, ARES_ENOMEM).
 */
int eg_resolver__parse_srv(eg_pool_t *pool, const u_char *buf, size_t len,
    eg_array_t **srvs, uint32_t *ttl);

/*
 * Orders n records as RFC 2782 says a client picks them: by priority,
 * lowest first, and within a priority at random, each record's chance
 * its weight's share of the weights not yet picked.
 */
void eg_resolver__order_srv(eg_resolver_srv_t *srv, eg_uint_t n,
    eg_resolver_random_pt random, void *data);


#endif /* EG_RESOLVER_INT_H_INCLUDED */
