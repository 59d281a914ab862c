/*
 * libFuzzer target: what the resolver makes of an SRV answer
 * (src/discovery/eg_resolver_srv.c).  The input is a whole DNS message,
 * as c-ares hands it to eg_resolver.c: it goes through
 * ares_parse_srv_reply() and the walk of the answer section for
 * the TTL (eg_resolver__parse_srv), and the records through the RFC 2782
 * order (eg_resolver__order_srv) with random draws derived from the
 * input, and with the smallest and the largest draws.  Whatever it holds,
 * nothing may crash or leak, and the order must be a permutation of the
 * records by non-decreasing priority, each target a NUL-terminated name.
 * Run: make fuzz && objs/fuzz/fuzz_srv t/fuzz/corpus/srv
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_resolver_int.h>

#include <ares.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static uint32_t
eg_fuzz_random(void *data)
{
    uint64_t  *s = data;

    /* xorshift64: the same input, the same order */

    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;

    return (uint32_t) (*s >> 32);
}


static uint32_t
eg_fuzz_zero(void *data)
{
    eg_unused(data);

    return 0;
}


static uint32_t
eg_fuzz_max(void *data)
{
    eg_unused(data);

    return UINT32_MAX;
}


static void
eg_fuzz_check(eg_resolver_srv_t *s, eg_resolver_srv_t *orig, eg_uint_t n)
{
    eg_uint_t  i, j, found;

    for (i = 0; i < n; i++) {

        if (i > 0 && s[i - 1].priority > s[i].priority) {
            __builtin_trap();
        }

        /* each record is one of the originals (targets are never copied) */

        found = 0;

        for (j = 0; j < n; j++) {
            if (orig[j].target.data == s[i].target.data
                && orig[j].port == s[i].port
                && orig[j].priority == s[i].priority
                && orig[j].weight == s[i].weight)
            {
                found = 1;
                break;
            }
        }

        if (!found) {
            __builtin_trap();
        }

        for (j = 0; j < i; j++) {
            if (s[j].target.data == s[i].target.data) {
                __builtin_trap();   /* twice: one went missing */
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    size_t              i;
    uint32_t            ttl;
    uint64_t            seed;
    eg_pool_t          *pool;
    eg_array_t         *srvs;
    eg_resolver_srv_t  *s, *orig;

    static eg_log_t    *log;

    if (log == NULL) {
        eg_time_init();
        (void) ares_library_init(ARES_LIB_INIT_ALL);

        log = eg_log_init(NULL, (u_char *) "/dev/null");
        if (log == NULL) {
            return 0;
        }

        log->log_level = EG_LOG_EMERG;
    }

    pool = eg_create_pool(1024, log);
    if (pool == NULL) {
        return 0;
    }

    rc = eg_resolver__parse_srv(pool, data, size, &srvs, &ttl);

    if (rc != ARES_SUCCESS) {
        if (srvs != NULL && rc != ARES_ENOMEM) {
            /* a refused answer leaves nothing behind */
            __builtin_trap();
        }

        eg_destroy_pool(pool);
        return 0;
    }

    s = srvs->elts;

    for (i = 0; i < srvs->nelts; i++) {
        if (s[i].target.len == 0
            || strlen((char *) s[i].target.data) != s[i].target.len)
        {
            __builtin_trap();
        }
    }

    orig = eg_palloc(pool, srvs->nelts * sizeof(eg_resolver_srv_t) + 1);
    if (orig == NULL) {
        eg_destroy_pool(pool);
        return 0;
    }

    if (srvs->nelts) {
        eg_memcpy(orig, s, srvs->nelts * sizeof(eg_resolver_srv_t));
    }

    /* FNV-1a of the input, never 0 (xorshift would stay there) */

    seed = 14695981039346656037ULL;

    for (i = 0; i < size; i++) {
        seed = (seed ^ data[i]) * 1099511628211ULL;
    }

    seed |= 1;

    eg_resolver__order_srv(s, srvs->nelts, eg_fuzz_random, &seed);
    eg_fuzz_check(s, orig, srvs->nelts);

    eg_resolver__order_srv(s, srvs->nelts, eg_fuzz_zero, NULL);
    eg_fuzz_check(s, orig, srvs->nelts);

    eg_resolver__order_srv(s, srvs->nelts, eg_fuzz_max, NULL);
    eg_fuzz_check(s, orig, srvs->nelts);

    eg_destroy_pool(pool);

    return 0;
}
