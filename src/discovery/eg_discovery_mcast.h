/*
 * Multicast discovery: the announcement datagram and its codec, apart
 * from the sockets so that the unit tests and the fuzzer can call it.
 * docs/protocol.md ("Multicast announcements") is the description:
 *
 *     magic "EGMC" (4) | version (1) | flags (1) | cluster hash (4)
 *     interval (4) | time (8) | gossip address (7 or 19) | id (1 + n)
 *
 * With a keyring, what follows the header is sealed as the gossip's
 * datagrams are (AES-256-GCM, the header as associated data).
 */

#ifndef EG_DISCOVERY_MCAST_H_INCLUDED
#define EG_DISCOVERY_MCAST_H_INCLUDED


#include <eg_swim.h>


#define EG_MCAST_MAGIC          0x45474d43U     /* "EGMC" */
#define EG_MCAST_VERSION        1               /* what we send */
#define EG_MCAST_VERSION_MIN    1               /* the oldest we accept */
#define EG_MCAST_VERSION_MAX    1               /* the newest we accept */

#define EG_MCAST_HEADER_LEN     10

/* header flags */
#define EG_MCAST_F_SEALED       0x01

/* an announcement's interval must be in this range, in ms */
#define EG_MCAST_INTERVAL_MIN   100
#define EG_MCAST_INTERVAL_MAX   3600000

/* the largest plaintext body: an IPv6 address and a 64-byte id */
#define EG_MCAST_BODY_MAX       (4 + 8 + 19 + 1 + EG_SWIM_ID_MAX)
/* the largest datagram: anything longer is not an announcement */
#define EG_MCAST_MAX            (EG_MCAST_HEADER_LEN                        \
                                 + EG_SWIM_CRYPTO_OVERHEAD                  \
                                 + EG_MCAST_BODY_MAX)

/* why an announcement was dropped, for the counters and the log */
#define EG_MCAST_DROP_SHORT     0   /* shorter than a header */
#define EG_MCAST_DROP_MAGIC     1   /* not an announcement at all */
#define EG_MCAST_DROP_VERSION   2   /* a version or flag we do not know */
#define EG_MCAST_DROP_CLUSTER   3   /* another cluster's */
#define EG_MCAST_DROP_DECRYPT   4   /* sealed, and no key of ours opens it */
#define EG_MCAST_DROP_PLAINTEXT 5   /* in clear, but we have keys */
#define EG_MCAST_DROP_MALFORMED 6   /* a length or field does not check */
#define EG_MCAST_DROP_STALE     7   /* not newer than the last of its node */
#define EG_MCAST_DROP_REASONS   8


/* an announcement, decoded */
typedef struct {
    eg_msec_t            interval;      /* the sender's period, ms */
    uint64_t             time;          /* the sender's wall clock, ms */
    eg_swim_addr_t       addr;          /* its gossip address */
    uint8_t              id_len;
    u_char               id[EG_SWIM_ID_MAX];
} eg_mcast_announce_t;


/*
 * Writes the datagram into out (at least EG_MCAST_MAX bytes); sealed
 * with the keyring's primary key and nonce (EG_SWIM_NONCE_LEN random
 * bytes, new for every datagram) when kr has keys.  Returns its length,
 * or 0 if the announcement cannot be encoded (an id that is too long).
 */
size_t eg_mcast_encode(eg_mcast_announce_t *a, uint32_t cluster,
    eg_swim_keyring_t *kr, u_char *nonce, u_char *out);

/*
 * Checks and decodes a datagram of cluster; kr is the keyring (NULL or
 * no keys: announcements must be in clear).  EG_OK, or EG_ERROR with
 * the EG_MCAST_DROP_* reason in *reason.  Nothing of buf is kept.
 */
eg_int_t eg_mcast_decode(u_char *buf, size_t len, uint32_t cluster,
    eg_swim_keyring_t *kr, eg_mcast_announce_t *a, eg_uint_t *reason);

extern const char  *eg_mcast_drop_reasons[];


#endif /* EG_DISCOVERY_MCAST_H_INCLUDED */
