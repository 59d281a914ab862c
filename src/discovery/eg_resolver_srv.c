/*
 * The resolver's handling of an SRV answer (eg_resolver_int.h), apart
 * from c-ares's event loop in eg_resolver.c: the answer's records, taken
 * by ares_parse_srv_reply(), and their TTL, which c-ares does not keep,
 * from a walk of the answer section of our own; then the order in which
 * RFC 2782 says a client tries them, by priority and, within one, drawn
 * at random by weight.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_resolver.h>
#include <eg_resolver_int.h>

#include <ares.h>


#define EG_DNS_HEADER_LEN        12


static uint32_t eg_resolver_srv_ttl(const u_char *buf, size_t len);


int
eg_resolver__parse_srv(eg_pool_t *pool, const u_char *buf, size_t len,
    eg_array_t **srvs, uint32_t *ttl)
{
    int                     rc;
    eg_resolver_srv_t      *srv;
    struct ares_srv_reply  *reply, *r;

    *srvs = NULL;
    *ttl = 0;

    if (len > INT_MAX) {
        return ARES_EBADRESP;
    }

    reply = NULL;

    rc = ares_parse_srv_reply(buf, (int) len, &reply);

    if (rc != ARES_SUCCESS) {
        return rc;
    }

    *srvs = eg_array_create(pool, 4, sizeof(eg_resolver_srv_t));
    if (*srvs == NULL) {
        rc = ARES_ENOMEM;
        goto done;
    }

    for (r = reply; r; r = r->next) {

        /* ".", decoded as "": the service is not available there */
        if (r->host == NULL || r->host[0] == '\0'
            || (r->host[0] == '.' && r->host[1] == '\0'))
        {
            continue;
        }

        srv = eg_array_push(*srvs);
        if (srv == NULL) {
            rc = ARES_ENOMEM;
            goto done;
        }

        srv->target.len = strlen(r->host);
        srv->target.data = eg_pnalloc(pool, srv->target.len + 1);

        if (srv->target.data == NULL) {
            rc = ARES_ENOMEM;
            goto done;
        }

        eg_memcpy(srv->target.data, r->host, srv->target.len + 1);

        srv->port = r->port;
        srv->priority = r->priority;
        srv->weight = r->weight;
    }

    *ttl = eg_resolver_srv_ttl(buf, len);

done:

    ares_free_data(reply);

    return rc;
}


/*
 * ares_parse_srv_reply() keeps no TTL: the answer section is walked once
 * more for the smallest TTL of its SRV records.  The message has been
 * parsed by c-ares already, but every length is checked again all the
 * same.
 */
static uint32_t
eg_resolver_srv_ttl(const u_char *buf, size_t len)
{
    int            n;
    long           enclen;
    char          *name;
    uint32_t       ttl, min;
    eg_uint_t      qdcount, ancount, i, type, class, rdlen;
    const u_char  *p, *last;

    if (len < EG_DNS_HEADER_LEN) {
        return 0;
    }

    qdcount = ((eg_uint_t) buf[4] << 8) | buf[5];
    ancount = ((eg_uint_t) buf[6] << 8) | buf[7];

    p = buf + EG_DNS_HEADER_LEN;
    last = buf + len;
    n = (int) len;

    min = UINT32_MAX;

    for (i = 0; i < qdcount; i++) {
        if (ares_expand_name(p, buf, n, &name, &enclen) != ARES_SUCCESS) {
            return 0;
        }

        ares_free_string(name);

        if (enclen < 0 || (size_t) (last - p) < (size_t) enclen + 4) {
            return 0;
        }

        p += enclen + 4;
    }

    for (i = 0; i < ancount; i++) {
        if (ares_expand_name(p, buf, n, &name, &enclen) != ARES_SUCCESS) {
            break;
        }

        ares_free_string(name);

        if (enclen < 0 || (size_t) (last - p) < (size_t) enclen + 10) {
            break;
        }

        p += enclen;

        type = ((eg_uint_t) p[0] << 8) | p[1];
        class = ((eg_uint_t) p[2] << 8) | p[3];
        ttl = ((uint32_t) p[4] << 24) | ((uint32_t) p[5] << 16)
              | ((uint32_t) p[6] << 8) | p[7];
        rdlen = ((eg_uint_t) p[8] << 8) | p[9];

        p += 10;

        if ((size_t) (last - p) < rdlen) {
            break;
        }

        p += rdlen;

        if (type == EG_DNS_T_SRV && class == EG_DNS_C_IN) {
            /* RFC 2181 8: a TTL with the top bit set is 0 */
            min = eg_min(min, (ttl & 0x80000000) ? 0 : ttl);
        }
    }

    return (min == UINT32_MAX) ? 0 : min;
}


void
eg_resolver__order_srv(eg_resolver_srv_t *srv, eg_uint_t n,
    eg_resolver_random_pt random, void *data)
{
    uint32_t           sum, pick, running;
    eg_uint_t          i, j, k, end;
    eg_resolver_srv_t  t;

    /* by priority; a stable insertion sort, answers are short */

    for (i = 1; i < n; i++) {
        t = srv[i];

        for (j = i; j > 0 && srv[j - 1].priority > t.priority; j--) {
            srv[j] = srv[j - 1];
        }

        srv[j] = t;
    }

    for (i = 0; i < n; i = end) {

        for (end = i + 1; end < n && srv[end].priority == srv[i].priority;
             end++)
        {
            /* void */
        }

        /*
         * RFC 2782: put the weight-0 records first, draw a number from 0
         * to the sum of the weights, take the first record whose running
         * sum reaches it; again with the rest.
         */

        for (k = i; k + 1 < end; k++) {

            for (j = k + 1; j < end; j++) {
                if (srv[j].weight == 0) {
                    t = srv[j];
                    memmove(&srv[k + 1], &srv[k], (j - k) * sizeof(t));
                    srv[k] = t;
                }
            }

            sum = 0;

            for (j = k; j < end; j++) {
                sum += srv[j].weight;
            }

            pick = random(data) % (sum + 1);
            running = 0;

            for (j = k; j < end; j++) {
                running += srv[j].weight;

                if (running >= pick) {
                    break;
                }
            }

            if (j == end) {
                j = end - 1;
            }

            t = srv[j];
            memmove(&srv[k + 1], &srv[k], (j - k) * sizeof(t));
            srv[k] = t;
        }
    }
}
