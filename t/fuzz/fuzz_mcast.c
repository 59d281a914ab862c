/*
 * libFuzzer target: the decoder of multicast announcements
 * (eg_mcast_decode(), docs/protocol.md "Multicast announcements").  The
 * input is decoded as a datagram of the cluster "fuzz" in clear and with
 * a keyring, and as one of whatever cluster its header names, so that the
 * fuzzer gets past the hash at once.  An announcement that decodes is
 * encoded again, in clear and sealed, and must decode to the same thing:
 * the codec is its own inverse.  Whatever the input, nothing may crash,
 * read out of bounds or leak.
 * Run: make fuzz && objs/fuzz/fuzz_mcast t/fuzz/corpus/mcast
 *
 * The keyed decoder holds the key whose bytes are 0, 1, 2 ... 31, as
 * fuzz_wire's does; the corpus holds announcements in clear and sealed
 * with it (nonce 0x5a...), IPv4 and IPv6, and a few that are dropped.
 */

#include <eg_config.h>
#include <eg_core.h>

#if (EG_DISCOVERY_MCAST)
#include <eg_discovery_mcast.h>
#endif


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#if (EG_DISCOVERY_MCAST)

/* encodes a, decodes it again, and insists on getting a back */
static void
eg_fuzz_mcast_again(eg_mcast_announce_t *a, uint32_t cluster,
    eg_swim_keyring_t *kr)
{
    u_char               buf[EG_MCAST_MAX], nonce[EG_SWIM_NONCE_LEN];
    size_t               n;
    eg_uint_t            reason;
    eg_mcast_announce_t  b;

    eg_memset(nonce, 0x5a, sizeof(nonce));

    n = eg_mcast_encode(a, cluster, kr, nonce, buf);

    if (n == 0 || n > EG_MCAST_MAX) {
        abort();
    }

    if (eg_mcast_decode(buf, n, cluster, kr, &b, &reason) != EG_OK
        || b.interval != a->interval || b.time != a->time
        || !eg_swim_addr_eq(&b.addr, &a->addr) || b.id_len != a->id_len
        || eg_memcmp(b.id, a->id, a->id_len) != 0)
    {
        abort();
    }
}


static void
eg_fuzz_mcast_decode(const uint8_t *data, size_t size, uint32_t cluster,
    eg_swim_keyring_t *kr)
{
    eg_uint_t            reason;
    eg_mcast_announce_t  a;

    reason = EG_MCAST_DROP_REASONS;

    if (eg_mcast_decode((u_char *) data, size, cluster, kr, &a, &reason)
        != EG_OK)
    {
        /* a drop always says why */
        if (reason >= EG_MCAST_DROP_REASONS) {
            abort();
        }

        return;
    }

    eg_fuzz_mcast_again(&a, cluster, NULL);
    eg_fuzz_mcast_again(&a, cluster, kr);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t            fuzz, named;
    eg_uint_t           i;
    eg_swim_keyring_t   kr;

    fuzz = eg_swim_cluster_hash((u_char *) "fuzz", 4);

    eg_memzero(&kr, sizeof(eg_swim_keyring_t));

    for (i = 0; i < EG_SWIM_KEY_LEN; i++) {
        kr.keys[0][i] = (u_char) i;
    }

    kr.nkeys = 1;

    eg_fuzz_mcast_decode(data, size, fuzz, NULL);
    eg_fuzz_mcast_decode(data, size, fuzz, &kr);

    if (size >= EG_MCAST_HEADER_LEN) {
        named = ((uint32_t) data[6] << 24) | ((uint32_t) data[7] << 16)
                | ((uint32_t) data[8] << 8) | data[9];

        eg_fuzz_mcast_decode(data, size, named, NULL);
        eg_fuzz_mcast_decode(data, size, named, &kr);
    }

    return 0;
}

#else

/* built without the multicast method: nothing to fuzz */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eg_unused(data);
    eg_unused(size);

    return 0;
}

#endif
