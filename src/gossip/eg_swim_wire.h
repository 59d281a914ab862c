/*
 * The gossip wire format: datagrams of at most 1400 bytes and stream
 * messages (join, push-pull), every one starting with the same header:
 *
 *     magic "EGRM" (4) | version (1) | flags (1) | cluster hash (4)
 *
 * so that foreign traffic, another cluster's traffic and a version this
 * node does not speak are each recognised in ten bytes.  Integers are in
 * network order and every length is checked before it is used; structs
 * are never written raw.  With a keyring the rest of the packet is
 * AES-256-GCM with the header as associated data.  docs/protocol.md is
 * the full description.
 */

#ifndef EG_SWIM_WIRE_H_INCLUDED
#define EG_SWIM_WIRE_H_INCLUDED


#define EG_SWIM_MAGIC           0x4547524dU     /* "EGRM" */
#define EG_SWIM_VERSION         1               /* what we send */
#define EG_SWIM_VERSION_MIN     1               /* the oldest we accept */
#define EG_SWIM_VERSION_MAX     1               /* the newest we accept */

#define EG_SWIM_HEADER_LEN      10
#define EG_SWIM_MAX_PACKET      1400
#define EG_SWIM_MAX_STREAM      (64 * 1024 * 1024)
#define EG_SWIM_ID_MAX          64
#define EG_SWIM_TAGS_MAX        512
#define EG_SWIM_NAME_MAX        64

/* header flags */
#define EG_SWIM_F_ENCRYPTED     0x01
#define EG_SWIM_F_COMPRESSED    0x02            /* streams only */

/* datagram messages */
#define EG_SWIM_PING            1
#define EG_SWIM_PING_REQ        2
#define EG_SWIM_ACK             3
#define EG_SWIM_NACK            4
#define EG_SWIM_GOSSIP          5

/* stream messages */
#define EG_SWIM_JOIN            16
#define EG_SWIM_PUSH_PULL       17
#define EG_SWIM_SNAPSHOT        18
/* a join answered "not yet": the node is forming a cluster (its own record) */
#define EG_SWIM_NOT_READY       19

/* record flags */
#define EG_SWIM_R_ADDR          0x01            /* address and tags follow */
#define EG_SWIM_R_FROM          0x02            /* who said so follows */

/* why a datagram or stream message was dropped, for the counters */
#define EG_SWIM_DROP_SHORT      0   /* shorter than a header */
#define EG_SWIM_DROP_MAGIC      1   /* not ours at all */
#define EG_SWIM_DROP_VERSION    2   /* a protocol version we do not speak */
#define EG_SWIM_DROP_CLUSTER    3   /* another cluster's */
#define EG_SWIM_DROP_DECRYPT    4   /* fails to decrypt or authenticate */
#define EG_SWIM_DROP_PLAINTEXT  5   /* unencrypted, but we require keys */
#define EG_SWIM_DROP_MALFORMED  6   /* a length or field does not check */
#define EG_SWIM_DROP_UNKNOWN    7   /* an unknown message type */
#define EG_SWIM_DROP_REASONS    8

/* AES-256-GCM */
#define EG_SWIM_KEY_LEN         32
#define EG_SWIM_NONCE_LEN       12
#define EG_SWIM_TAG_LEN         16
#define EG_SWIM_CRYPTO_OVERHEAD (EG_SWIM_NONCE_LEN + EG_SWIM_TAG_LEN)
#define EG_SWIM_MAX_KEYS        16

/* compressed when the plain body is longer than this */
#define EG_SWIM_COMPRESS_MIN    1024


typedef struct {
    uint8_t              family;        /* 4 or 6 */
    uint16_t             port;          /* host order */
    u_char               ip[16];        /* network order; 4 used for v4 */
} eg_swim_addr_t;


/*
 * Who a member is: id, address and tags, immutable once made and shared
 * by reference (a change makes a new one), so that the simulator's
 * thousands of views of one node cost one copy.
 */
typedef struct {
    uint32_t             refs;
    uint8_t              id_len;
    uint16_t             tags_len;
    eg_swim_addr_t       addr;
    u_char              *tags;          /* id_len bytes after id */
    u_char               id[];
} eg_swim_ident_t;


/* a member update as it travels, pointing into the packet */
typedef struct {
    uint8_t              state;         /* EG_MEMBER_* */
    uint8_t              flags;         /* EG_SWIM_R_* */
    uint64_t             incarnation;
    u_char              *id;
    uint8_t              id_len;
    eg_swim_addr_t       addr;
    u_char              *tags;
    uint16_t             tags_len;
    u_char              *from;
    uint8_t              from_len;
} eg_swim_record_t;


#define EG_SWIM_MAX_RECORDS     255

/* a decoded datagram */
typedef struct {
    uint8_t              type;
    uint32_t             seq;
    u_char              *target;        /* PING, PING_REQ */
    uint8_t              target_len;
    eg_swim_addr_t       target_addr;   /* PING_REQ */
    u_char              *source;        /* PING */
    uint8_t              source_len;
    eg_uint_t            nrecords;
    eg_swim_record_t     records[EG_SWIM_MAX_RECORDS];
} eg_swim_message_t;


typedef struct {
    u_char               keys[EG_SWIM_MAX_KEYS][EG_SWIM_KEY_LEN];
    eg_uint_t            nkeys;         /* 0: plaintext */
} eg_swim_keyring_t;


/* bounded writer and reader; the first overflow sticks in "error" */
typedef struct {
    u_char              *p;
    u_char              *last;
    eg_uint_t            error;
} eg_swim_buf_t;


void eg_swim_put_u8(eg_swim_buf_t *b, uint8_t v);
void eg_swim_put_u16(eg_swim_buf_t *b, uint16_t v);
void eg_swim_put_u32(eg_swim_buf_t *b, uint32_t v);
void eg_swim_put_u64(eg_swim_buf_t *b, uint64_t v);
void eg_swim_put_bytes(eg_swim_buf_t *b, const u_char *p, size_t len);
void eg_swim_put_addr(eg_swim_buf_t *b, eg_swim_addr_t *a);

uint8_t eg_swim_get_u8(eg_swim_buf_t *b);
uint16_t eg_swim_get_u16(eg_swim_buf_t *b);
uint32_t eg_swim_get_u32(eg_swim_buf_t *b);
uint64_t eg_swim_get_u64(eg_swim_buf_t *b);
u_char *eg_swim_get_bytes(eg_swim_buf_t *b, size_t len);
void eg_swim_get_addr(eg_swim_buf_t *b, eg_swim_addr_t *a);

uint32_t eg_swim_cluster_hash(u_char *name, size_t len);

void eg_swim_put_header(eg_swim_buf_t *b, uint8_t flags, uint32_t cluster);
/*
 * EG_OK, or EG_ERROR with the EG_SWIM_DROP_* reason in *reason (the
 * reasons count from 0, as EG_OK does: they cannot be the return value)
 */
eg_int_t eg_swim_check_header(u_char *buf, size_t len, uint32_t cluster,
    uint8_t *flags, eg_uint_t *reason);

size_t eg_swim_record_size(eg_swim_record_t *r);
void eg_swim_put_record(eg_swim_buf_t *b, eg_swim_record_t *r);
eg_int_t eg_swim_get_record(eg_swim_buf_t *b, eg_swim_record_t *r);

/*
 * the body after the header (decrypted); EG_OK, or the drop reason
 * (EG_SWIM_DROP_MALFORMED or EG_SWIM_DROP_UNKNOWN, never 0)
 */
eg_int_t eg_swim_decode_message(u_char *buf, size_t len,
    eg_swim_message_t *msg);

/* tags: a blob of (key length, key, value length, value) pairs */
eg_int_t eg_swim_tags_valid(u_char *tags, size_t len);

eg_swim_ident_t *eg_swim_ident_create(u_char *id, size_t id_len,
    eg_swim_addr_t *addr, u_char *tags, size_t tags_len);
void eg_swim_ident_ref(eg_swim_ident_t *ident);
void eg_swim_ident_unref(eg_swim_ident_t *ident);
eg_uint_t eg_swim_ident_same(eg_swim_ident_t *ident, eg_swim_record_t *r);

eg_uint_t eg_swim_addr_eq(eg_swim_addr_t *a, eg_swim_addr_t *b);
size_t eg_swim_addr_text(eg_swim_addr_t *a, u_char *buf, size_t len);

/* keyring: one base64 key per line, '#' comments; the first encrypts */
eg_int_t eg_swim_keyring_parse(eg_swim_keyring_t *kr, u_char *text,
    size_t len, const char **err);

/* out must hold len + EG_SWIM_CRYPTO_OVERHEAD; nonce from the caller */
size_t eg_swim_encrypt(eg_swim_keyring_t *kr, u_char *aad, size_t aad_len,
    u_char *nonce, u_char *in, size_t len, u_char *out);
/* returns the plaintext length, or -1 if no key authenticates it */
ssize_t eg_swim_decrypt(eg_swim_keyring_t *kr, u_char *aad, size_t aad_len,
    u_char *in, size_t len, u_char *out);

#endif /* EG_SWIM_WIRE_H_INCLUDED */
