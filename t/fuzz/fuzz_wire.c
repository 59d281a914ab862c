/*
 * libFuzzer target: the gossip wire decoder, then the whole receive path.
 * The input is checked as a header, decoded as a datagram body (with and
 * without the header in front) and read as a run of records; then it is
 * handed to real SWIM instances, one in clear and one with a keyring, as
 * a datagram, as a stream request and as the answer to a join, and their
 * timers are run.  Whatever it holds, nothing may crash or leak.
 * Run: make fuzz && objs/fuzz/fuzz_wire t/fuzz/corpus/wire
 *
 * The instances belong to the cluster "fuzz", know the members "fuzz-1"
 * to "fuzz-3" at 10.0.0.1-3:7946, and the keyed one holds the key whose
 * bytes are 0, 1, 2 ... 31; the corpus is written for them.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_membership.h>
#include <eg_swim.h>


#define EG_FUZZ_MEMBERS  3


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


typedef struct {
    eg_msec_t            now;       /* a counter: every call is later */
    uint64_t             rng;       /* the same sequence for every input */
    uint32_t             tag;       /* of the last stream request */
} eg_fuzz_env_t;


static eg_msec_t
eg_fuzz_now(void *data)
{
    eg_fuzz_env_t  *fe = data;

    return ++fe->now;
}


static void
eg_fuzz_send(void *data, eg_swim_addr_t *to, u_char *buf, size_t len)
{
    eg_unused(data);
    eg_unused(to);
    eg_unused(buf);
    eg_unused(len);
}


static void
eg_fuzz_stream(void *data, eg_swim_addr_t *to, u_char *buf, size_t len,
    uint32_t tag)
{
    eg_fuzz_env_t  *fe = data;

    eg_unused(to);
    eg_unused(buf);
    eg_unused(len);

    fe->tag = tag;
}


static void
eg_fuzz_random(void *data, u_char *buf, size_t len)
{
    eg_fuzz_env_t  *fe = data;

    while (len--) {
        fe->rng ^= fe->rng << 13;
        fe->rng ^= fe->rng >> 7;
        fe->rng ^= fe->rng << 17;
        *buf++ = (u_char) fe->rng;
    }
}


static void
eg_fuzz_addr(eg_swim_addr_t *a, u_char last)
{
    eg_memzero(a, sizeof(eg_swim_addr_t));

    a->family = 4;
    a->port = 7946;
    a->ip[0] = 10;
    a->ip[3] = last;
}


static eg_swim_t *
eg_fuzz_swim(eg_fuzz_env_t *fe, eg_swim_keyring_t *kr)
{
    u_char            id[16], *p;
    eg_str_t          cluster = eg_string("fuzz");
    eg_uint_t         i;
    eg_swim_t        *swim;
    eg_swim_env_t     env;
    eg_swim_conf_t    conf;
    eg_swim_addr_t    a;
    eg_swim_ident_t  *self, *ident;

    eg_memzero(fe, sizeof(eg_fuzz_env_t));
    fe->rng = 0x9e3779b97f4a7c15ULL;

    eg_memzero(&env, sizeof(eg_swim_env_t));
    env.data = fe;
    env.now = eg_fuzz_now;
    env.send = eg_fuzz_send;
    env.stream = eg_fuzz_stream;
    env.random = eg_fuzz_random;

    eg_swim_conf_default(&conf);

    eg_fuzz_addr(&a, 100);

    self = eg_swim_ident_create((u_char *) "fuzz-0", 6, &a, NULL, 0);
    if (self == NULL) {
        return NULL;
    }

    swim = eg_swim_create(&conf, &env, self, 1, &cluster, kr);
    eg_swim_ident_unref(self);

    if (swim == NULL) {
        return NULL;
    }

    for (i = 1; i <= EG_FUZZ_MEMBERS; i++) {
        p = eg_slprintf(id, id + sizeof(id), "fuzz-%lu", (unsigned long) i);
        eg_fuzz_addr(&a, (u_char) i);

        ident = eg_swim_ident_create(id, (size_t) (p - id), &a, NULL, 0);
        if (ident == NULL) {
            continue;
        }

        (void) eg_swim_add_member(swim, ident, EG_MEMBER_ALIVE, 1);
        eg_swim_ident_unref(ident);
    }

    return swim;
}


/* every way the input can reach one instance */
static void
eg_fuzz_feed(eg_swim_keyring_t *kr, const uint8_t *data, size_t size)
{
    u_char          *answer;
    size_t           alen;
    eg_swim_t       *swim;
    eg_fuzz_env_t    fe;
    eg_swim_addr_t   from;

    swim = eg_fuzz_swim(&fe, kr);
    if (swim == NULL) {
        return;
    }

    eg_fuzz_addr(&from, 1);

    eg_swim_receive(swim, &from, (u_char *) data, size);
    eg_swim_tick(swim);

    answer = eg_swim_stream_request(swim, &from, (u_char *) data, size,
                                    &alen);
    free(answer);

    /* the answer to our own join */

    eg_fuzz_addr(&from, 2);
    eg_swim_join(swim, &from);
    eg_swim_stream_response(swim, fe.tag, (u_char *) data, size);

    /* and what the news set in motion: probes, suspicions, gossip */

    fe.now += 3600000;
    eg_swim_tick(swim);
    (void) eg_swim_next_deadline(swim);
    (void) eg_swim_members(swim, NULL);

    eg_swim_destroy(swim);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t                     flags;
    eg_uint_t                   i, reason;
    const char                 *err;
    eg_swim_buf_t               b;
    eg_swim_record_t            r;
    eg_swim_keyring_t           kr;
    static eg_swim_message_t    msg;

    (void) eg_swim_check_header((u_char *) data, size,
                                eg_swim_cluster_hash((u_char *) "fuzz", 4),
                                &flags, &reason);

    (void) eg_swim_decode_message((u_char *) data, size, &msg);

    if (size >= EG_SWIM_HEADER_LEN) {
        (void) eg_swim_decode_message((u_char *) data + EG_SWIM_HEADER_LEN,
                                      size - EG_SWIM_HEADER_LEN, &msg);
    }

    /* records back to back, as in a snapshot */

    b.p = (u_char *) data;
    b.last = (u_char *) data + size;
    b.error = 0;

    while (!b.error && b.p < b.last) {
        (void) eg_swim_get_record(&b, &r);
    }

    (void) eg_swim_tags_valid((u_char *) data, size);
    (void) eg_swim_keyring_parse(&kr, (u_char *) data, size, &err);

    /* the instances: in clear, then with the corpus's key */

    eg_fuzz_feed(NULL, data, size);

    eg_memzero(&kr, sizeof(eg_swim_keyring_t));

    for (i = 0; i < EG_SWIM_KEY_LEN; i++) {
        kr.keys[0][i] = (u_char) i;
    }

    kr.nkeys = 1;

    eg_fuzz_feed(&kr, data, size);

    return 0;
}
