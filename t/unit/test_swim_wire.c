/*
 * The gossip wire format (src/gossip/eg_swim_wire.c, docs/protocol.md):
 * the bounded writer and reader in network order, the header and every
 * reason it is refused, each datagram message, records and tags, with
 * every decoder error path; the keyring file and AES-256-GCM sealing,
 * rotation included.  No simulator: bytes in, verdicts out.
 */

#include <eg_unit.h>
#include <eg_swim.h>
#include <openssl/evp.h>


#define EG_UNIT_CLUSTER  0x01020304U


/* a writer or reader over size bytes of mem */
static void
eg_unit_wire_buf(eg_swim_buf_t *b, u_char *mem, size_t size)
{
    b->p = mem;
    b->last = mem + size;
    b->error = 0;
}


static void
eg_unit_wire_addr4(eg_swim_addr_t *a, u_char d, uint16_t port)
{
    eg_memzero(a, sizeof(eg_swim_addr_t));

    a->family = 4;
    a->port = port;
    a->ip[0] = 192;
    a->ip[1] = 0;
    a->ip[2] = 2;
    a->ip[3] = d;
}


/* an alive record with an address and tags "dc"="eu", "rack"="" */
static void
eg_unit_wire_alive(eg_swim_record_t *r, const char *id)
{
    static u_char  tags[] = "\x02" "dc" "\x02" "eu" "\x04" "rack" "\x00";

    eg_memzero(r, sizeof(eg_swim_record_t));

    r->state = EG_MEMBER_ALIVE;
    r->flags = EG_SWIM_R_ADDR;
    r->incarnation = 0x0102030405060708ULL;
    r->id = (u_char *) id;
    r->id_len = (uint8_t) strlen(id);
    eg_unit_wire_addr4(&r->addr, 7, 7946);
    r->tags = tags;
    r->tags_len = sizeof(tags) - 1;
}


/* a suspect record that names its accuser */
static void
eg_unit_wire_suspect(eg_swim_record_t *r, const char *id, const char *from)
{
    eg_memzero(r, sizeof(eg_swim_record_t));

    r->state = EG_MEMBER_SUSPECT;
    r->flags = EG_SWIM_R_FROM;
    r->incarnation = 9;
    r->id = (u_char *) id;
    r->id_len = (uint8_t) strlen(id);
    r->from = (u_char *) from;
    r->from_len = (uint8_t) strlen(from);
}


/*
 * A valid PING body (after the header): seq, target, source, and two
 * records, an alive one and a suspect one.  Returns its length.
 */
static size_t
eg_unit_wire_ping(u_char *out, size_t size)
{
    eg_swim_buf_t     b;
    eg_swim_record_t  r;

    eg_unit_wire_buf(&b, out, size);

    eg_swim_put_u8(&b, EG_SWIM_PING);
    eg_swim_put_u32(&b, 0xdeadbeef);
    eg_swim_put_u8(&b, 6);
    eg_swim_put_bytes(&b, (u_char *) "target", 6);
    eg_swim_put_u8(&b, 6);
    eg_swim_put_bytes(&b, (u_char *) "source", 6);
    eg_swim_put_u8(&b, 2);

    eg_unit_wire_alive(&r, "node-a");
    eg_swim_put_record(&b, &r);

    eg_unit_wire_suspect(&r, "node-b", "node-c");
    eg_swim_put_record(&b, &r);

    ck_assert_int_eq(b.error, 0);

    return (size_t) (b.p - out);
}


/*
 * A GOSSIP body carrying one record given as raw bytes, for the record
 * error paths: the record is written by hand, field by field.
 */
static size_t
eg_unit_wire_gossip_raw(u_char *out, size_t size, const u_char *rec,
    size_t len)
{
    ck_assert(len + 2 <= size);

    out[0] = EG_SWIM_GOSSIP;
    out[1] = 1;
    eg_memcpy(out + 2, rec, len);

    return len + 2;
}


static eg_int_t
eg_unit_wire_decode_record(const u_char *rec, size_t len)
{
    u_char              body[1024];
    size_t              n;
    eg_swim_message_t  *msg;
    eg_int_t            rc;

    msg = malloc(sizeof(eg_swim_message_t));
    ck_assert(msg != NULL);

    n = eg_unit_wire_gossip_raw(body, sizeof(body), rec, len);
    rc = eg_swim_decode_message(body, n, msg);

    free(msg);

    return rc;
}


/* state, flags, incarnation 1, id "x" */
static size_t
eg_unit_wire_record_head(u_char *p, uint8_t state, uint8_t flags)
{
    size_t  n;

    n = 0;
    p[n++] = state;
    p[n++] = flags;
    eg_memzero(p + n, 8);
    p[n + 7] = 1;
    n += 8;
    p[n++] = 1;
    p[n++] = 'x';

    return n;
}


/* family, port 7946, address */
static size_t
eg_unit_wire_record_addr(u_char *p, uint8_t family)
{
    size_t  n;

    n = 0;
    p[n++] = family;
    p[n++] = 0x1f;
    p[n++] = 0x0a;
    eg_memset(p + n, 0x0a, family == 6 ? 16 : 4);
    n += family == 6 ? 16 : 4;

    return n;
}


static void
eg_unit_wire_key(u_char *key, u_char seed)
{
    eg_uint_t  i;

    for (i = 0; i < EG_SWIM_KEY_LEN; i++) {
        key[i] = (u_char) (seed * 31 + i * 7);
    }
}


/* "KEY\n" in base64 for the keyring file */
static size_t
eg_unit_wire_key_line(u_char *out, u_char seed)
{
    u_char  key[EG_SWIM_KEY_LEN];
    int     n;

    eg_unit_wire_key(key, seed);

    n = EVP_EncodeBlock(out, key, EG_SWIM_KEY_LEN);
    ck_assert_int_eq(n, 44);

    out[n++] = '\n';

    return (size_t) n;
}


static u_char *
eg_unit_wire_text(u_char *p, const char *text)
{
    return eg_cpymem(p, text, strlen(text));
}


static void
eg_unit_wire_keyring(eg_swim_keyring_t *kr, const u_char *seeds,
    eg_uint_t n)
{
    eg_uint_t  i;

    eg_memzero(kr, sizeof(eg_swim_keyring_t));

    for (i = 0; i < n; i++) {
        eg_unit_wire_key(kr->keys[i], seeds[i]);
    }

    kr->nkeys = n;
}


/* bounded writer and reader */

START_TEST(integers_are_written_in_network_order)
{
    u_char         mem[15];
    eg_swim_buf_t  b;

    static const u_char  expect[] = {
        0x12,
        0x12, 0x34,
        0x12, 0x34, 0x56, 0x78,
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
    };

    eg_unit_wire_buf(&b, mem, sizeof(mem));

    eg_swim_put_u8(&b, 0x12);
    eg_swim_put_u16(&b, 0x1234);
    eg_swim_put_u32(&b, 0x12345678);
    eg_swim_put_u64(&b, 0x0102030405060708ULL);

    ck_assert_int_eq(b.error, 0);
    ck_assert(b.p == mem + sizeof(mem));
    ck_assert_mem_eq(mem, expect, sizeof(expect));
}
END_TEST


START_TEST(integers_read_back_as_written)
{
    u_char         mem[64];
    eg_swim_buf_t  b;

    eg_unit_wire_buf(&b, mem, sizeof(mem));

    eg_swim_put_u8(&b, 0);
    eg_swim_put_u8(&b, 0xff);
    eg_swim_put_u16(&b, 0xffff);
    eg_swim_put_u16(&b, 0x8001);
    eg_swim_put_u32(&b, 0xffffffffU);
    eg_swim_put_u32(&b, 0x80000001U);
    eg_swim_put_u64(&b, 0xffffffffffffffffULL);
    eg_swim_put_u64(&b, 0x8000000000000001ULL);
    eg_swim_put_bytes(&b, (u_char *) "abc", 3);

    ck_assert_int_eq(b.error, 0);

    eg_unit_wire_buf(&b, mem, (size_t) (b.p - mem));

    ck_assert_uint_eq(eg_swim_get_u8(&b), 0);
    ck_assert_uint_eq(eg_swim_get_u8(&b), 0xff);
    ck_assert_uint_eq(eg_swim_get_u16(&b), 0xffff);
    ck_assert_uint_eq(eg_swim_get_u16(&b), 0x8001);
    ck_assert_uint_eq(eg_swim_get_u32(&b), 0xffffffffU);
    ck_assert_uint_eq(eg_swim_get_u32(&b), 0x80000001U);
    ck_assert(eg_swim_get_u64(&b) == 0xffffffffffffffffULL);
    ck_assert(eg_swim_get_u64(&b) == 0x8000000000000001ULL);
    ck_assert_mem_eq(eg_swim_get_bytes(&b, 3), "abc", 3);

    ck_assert_int_eq(b.error, 0);
    ck_assert(b.p == b.last);
}
END_TEST


START_TEST(writer_overflow_writes_nothing_and_sticks)
{
    u_char         mem[8];
    eg_swim_buf_t  b;

    eg_memset(mem, 0xaa, sizeof(mem));
    eg_unit_wire_buf(&b, mem, 3);

    eg_swim_put_u32(&b, 0x01020304);

    ck_assert_int_eq(b.error, 1);
    ck_assert(b.p == mem);
    ck_assert_uint_eq(mem[0], 0xaa);

    /* the first overflow sticks: a write that would fit fails too */

    eg_swim_put_u8(&b, 1);
    eg_swim_put_bytes(&b, (u_char *) "", 0);

    ck_assert_int_eq(b.error, 1);
    ck_assert(b.p == mem);

    eg_unit_wire_buf(&b, mem, 3);
    eg_swim_put_bytes(&b, (u_char *) "abcd", 4);
    ck_assert_int_eq(b.error, 1);

    eg_unit_wire_buf(&b, mem, 7);
    eg_swim_put_u64(&b, 1);
    ck_assert_int_eq(b.error, 1);
}
END_TEST


START_TEST(reader_overflow_returns_zero_and_sticks)
{
    u_char         mem[4] = { 1, 2, 3, 4 };
    eg_swim_buf_t  b;

    eg_unit_wire_buf(&b, mem, 3);

    ck_assert_uint_eq(eg_swim_get_u32(&b), 0);
    ck_assert_int_eq(b.error, 1);
    ck_assert(b.p == mem);

    ck_assert_uint_eq(eg_swim_get_u8(&b), 0);
    ck_assert_uint_eq(eg_swim_get_u16(&b), 0);
    ck_assert(eg_swim_get_bytes(&b, 0) == NULL);

    eg_unit_wire_buf(&b, mem, 1);
    ck_assert_uint_eq(eg_swim_get_u16(&b), 0);
    ck_assert_int_eq(b.error, 1);

    eg_unit_wire_buf(&b, mem, 4);
    ck_assert(eg_swim_get_u64(&b) == 0);
    ck_assert_int_eq(b.error, 1);

    eg_unit_wire_buf(&b, mem, 4);
    ck_assert(eg_swim_get_bytes(&b, 5) == NULL);
    ck_assert_int_eq(b.error, 1);

    /* a length near SIZE_MAX must not wrap the bounds check */
    eg_unit_wire_buf(&b, mem, 4);
    ck_assert(eg_swim_get_bytes(&b, (size_t) -1) == NULL);
    ck_assert_int_eq(b.error, 1);
}
END_TEST


START_TEST(addresses_round_trip_in_seven_or_nineteen_bytes)
{
    u_char          mem[64];
    eg_swim_buf_t   b;
    eg_swim_addr_t  a4, a6, r;

    eg_unit_wire_addr4(&a4, 9, 7946);

    eg_memzero(&a6, sizeof(eg_swim_addr_t));
    a6.family = 6;
    a6.port = 65535;
    a6.ip[0] = 0x20;
    a6.ip[1] = 0x01;
    a6.ip[2] = 0x0d;
    a6.ip[3] = 0xb8;
    a6.ip[15] = 1;

    eg_unit_wire_buf(&b, mem, sizeof(mem));
    eg_swim_put_addr(&b, &a4);
    ck_assert_int_eq(b.p - mem, 7);
    ck_assert_mem_eq(mem, "\x04\x1f\x0a\xc0\x00\x02\x09", 7);

    eg_swim_put_addr(&b, &a6);
    ck_assert_int_eq(b.p - mem, 7 + 19);
    ck_assert_int_eq(b.error, 0);

    eg_unit_wire_buf(&b, mem, 7 + 19);

    eg_swim_get_addr(&b, &r);
    ck_assert(eg_swim_addr_eq(&r, &a4));
    eg_swim_get_addr(&b, &r);
    ck_assert(eg_swim_addr_eq(&r, &a6));
    ck_assert_int_eq(b.error, 0);
    ck_assert(b.p == b.last);
}
END_TEST


START_TEST(address_family_other_than_4_or_6_is_refused)
{
    u_char          mem[32];
    eg_uint_t       family;
    eg_swim_buf_t   b;
    eg_swim_addr_t  r;

    for (family = 0; family < 256; family++) {
        if (family == 4 || family == 6) {
            continue;
        }

        eg_memzero(mem, sizeof(mem));
        mem[0] = (u_char) family;

        eg_unit_wire_buf(&b, mem, sizeof(mem));
        eg_swim_get_addr(&b, &r);

        eg_unit_require(b.error == 1, "family %u accepted",
                        (unsigned) family);
    }
}
END_TEST


START_TEST(address_text_is_ip_and_port)
{
    u_char          text[64];
    size_t          n;
    eg_swim_addr_t  a;

    eg_unit_wire_addr4(&a, 7, 7946);
    n = eg_swim_addr_text(&a, text, sizeof(text));
    ck_assert_int_eq(n, strlen("192.0.2.7:7946"));
    ck_assert_mem_eq(text, "192.0.2.7:7946", n);

    eg_memzero(&a, sizeof(eg_swim_addr_t));
    a.family = 6;
    a.port = 80;
    a.ip[15] = 1;
    n = eg_swim_addr_text(&a, text, sizeof(text));
    ck_assert_int_eq(n, strlen("[::1]:80"));
    ck_assert_mem_eq(text, "[::1]:80", n);
}
END_TEST


START_TEST(records_round_trip_with_address_tags_and_from)
{
    u_char            mem[256];
    eg_swim_buf_t     b;
    eg_swim_record_t  in, out;

    eg_unit_wire_alive(&in, "node-a");
    in.flags |= EG_SWIM_R_FROM;
    in.from = (u_char *) "judge";
    in.from_len = 5;

    eg_unit_wire_buf(&b, mem, sizeof(mem));
    eg_swim_put_record(&b, &in);
    ck_assert_int_eq(b.error, 0);
    ck_assert_uint_eq((size_t) (b.p - mem), eg_swim_record_size(&in));

    eg_unit_wire_buf(&b, mem, (size_t) (b.p - mem));
    ck_assert_int_eq(eg_swim_get_record(&b, &out), EG_OK);
    ck_assert(b.p == b.last);

    ck_assert_uint_eq(out.state, EG_MEMBER_ALIVE);
    ck_assert_uint_eq(out.flags, EG_SWIM_R_ADDR|EG_SWIM_R_FROM);
    ck_assert(out.incarnation == in.incarnation);
    ck_assert_uint_eq(out.id_len, 6);
    ck_assert_mem_eq(out.id, "node-a", 6);
    ck_assert(eg_swim_addr_eq(&out.addr, &in.addr));
    ck_assert_uint_eq(out.tags_len, in.tags_len);
    ck_assert_mem_eq(out.tags, in.tags, in.tags_len);
    ck_assert_uint_eq(out.from_len, 5);
    ck_assert_mem_eq(out.from, "judge", 5);
}
END_TEST


START_TEST(record_layout_is_state_flags_incarnation_id)
{
    u_char            mem[64];
    eg_swim_buf_t     b;
    eg_swim_record_t  r;

    static const u_char  expect[] = {
        EG_MEMBER_SUSPECT, EG_SWIM_R_FROM,
        0, 0, 0, 0, 0, 0, 0, 9,
        6, 'n', 'o', 'd', 'e', '-', 'b',
        6, 'n', 'o', 'd', 'e', '-', 'c'
    };

    eg_unit_wire_suspect(&r, "node-b", "node-c");

    eg_unit_wire_buf(&b, mem, sizeof(mem));
    eg_swim_put_record(&b, &r);

    ck_assert_int_eq(b.p - mem, sizeof(expect));
    ck_assert_uint_eq(eg_swim_record_size(&r), sizeof(expect));
    ck_assert_mem_eq(mem, expect, sizeof(expect));
}
END_TEST


/* header */

START_TEST(cluster_hash_is_fnv1a_32)
{
    /* the published FNV-1a test vectors: any build must agree */

    ck_assert_uint_eq(eg_swim_cluster_hash((u_char *) "", 0), 0x811c9dc5U);
    ck_assert_uint_eq(eg_swim_cluster_hash((u_char *) "a", 1), 0xe40c292cU);
    ck_assert_uint_eq(eg_swim_cluster_hash((u_char *) "foobar", 6),
                      0xbf9cf968U);
    ck_assert_uint_eq(eg_swim_cluster_hash((u_char *) "sim", 3),
                      eg_swim_cluster_hash((u_char *) "sim", 3));
    ck_assert_uint_ne(eg_swim_cluster_hash((u_char *) "prod", 4),
                      eg_swim_cluster_hash((u_char *) "test", 4));
}
END_TEST


START_TEST(header_is_magic_version_flags_and_cluster_hash)
{
    u_char         mem[EG_SWIM_HEADER_LEN];
    eg_swim_buf_t  b;

    static const u_char  expect[] = {
        'E', 'G', 'R', 'M', EG_SWIM_VERSION, EG_SWIM_F_ENCRYPTED,
        0x01, 0x02, 0x03, 0x04
    };

    eg_unit_wire_buf(&b, mem, sizeof(mem));
    eg_swim_put_header(&b, EG_SWIM_F_ENCRYPTED, EG_UNIT_CLUSTER);

    ck_assert_int_eq(b.error, 0);
    ck_assert(b.p == b.last);
    ck_assert_mem_eq(mem, expect, sizeof(expect));
}
END_TEST


static void
eg_unit_wire_header(u_char *mem, uint8_t version, uint8_t flags,
    uint32_t cluster)
{
    eg_swim_buf_t  b;

    eg_unit_wire_buf(&b, mem, EG_SWIM_HEADER_LEN);
    eg_swim_put_u32(&b, EG_SWIM_MAGIC);
    eg_swim_put_u8(&b, version);
    eg_swim_put_u8(&b, flags);
    eg_swim_put_u32(&b, cluster);
}


/*
 * The header's verdict: EG_UNIT_PASS, or the drop reason (which counts
 * from 0, as EG_OK does: eg_swim_check_header() hands it back aside).
 */
#define EG_UNIT_PASS  (-1)

static eg_int_t
eg_unit_wire_verdict(u_char *mem, size_t len, uint32_t cluster,
    uint8_t *flags)
{
    eg_uint_t  reason;

    reason = 99;

    if (eg_swim_check_header(mem, len, cluster, flags, &reason) == EG_OK) {
        ck_assert_uint_eq(reason, 99);
        return EG_UNIT_PASS;
    }

    ck_assert_uint_lt(reason, EG_SWIM_DROP_REASONS);

    return (eg_int_t) reason;
}


START_TEST(header_of_our_cluster_is_accepted_with_its_flags)
{
    u_char   mem[EG_SWIM_HEADER_LEN];
    uint8_t  flags;

    eg_unit_wire_header(mem, EG_SWIM_VERSION,
                        EG_SWIM_F_ENCRYPTED|EG_SWIM_F_COMPRESSED,
                        EG_UNIT_CLUSTER);

    flags = 0;
    ck_assert_int_eq(eg_unit_wire_verdict(mem, sizeof(mem), EG_UNIT_CLUSTER,
                                          &flags), EG_UNIT_PASS);
    ck_assert_uint_eq(flags, EG_SWIM_F_ENCRYPTED|EG_SWIM_F_COMPRESSED);

    eg_unit_wire_header(mem, EG_SWIM_VERSION, 0, EG_UNIT_CLUSTER);
    ck_assert_int_eq(eg_unit_wire_verdict(mem, sizeof(mem), EG_UNIT_CLUSTER,
                                          &flags), EG_UNIT_PASS);
    ck_assert_uint_eq(flags, 0);
}
END_TEST


START_TEST(packet_shorter_than_a_header_is_dropped_as_short)
{
    u_char   mem[EG_SWIM_HEADER_LEN];
    size_t   len;
    uint8_t  flags;

    eg_unit_wire_header(mem, EG_SWIM_VERSION, 0, EG_UNIT_CLUSTER);

    for (len = 0; len < EG_SWIM_HEADER_LEN; len++) {
        ck_assert_int_eq(eg_unit_wire_verdict(mem, len, EG_UNIT_CLUSTER,
                                              &flags),
                         EG_SWIM_DROP_SHORT);
    }
}
END_TEST


START_TEST(packet_without_the_magic_is_dropped_as_foreign)
{
    u_char     mem[EG_SWIM_HEADER_LEN];
    uint8_t    flags;
    eg_uint_t  i;

    for (i = 0; i < 4; i++) {
        eg_unit_wire_header(mem, EG_SWIM_VERSION, 0, EG_UNIT_CLUSTER);
        mem[i] ^= 0x20;

        ck_assert_int_eq(eg_unit_wire_verdict(mem, sizeof(mem),
                                              EG_UNIT_CLUSTER, &flags),
                         EG_SWIM_DROP_MAGIC);
    }
}
END_TEST


START_TEST(version_newer_than_we_speak_is_refused)
{
    u_char   mem[EG_SWIM_HEADER_LEN];
    uint8_t  flags;

    eg_unit_wire_header(mem, EG_SWIM_VERSION_MAX + 1, 0, EG_UNIT_CLUSTER);
    ck_assert_int_eq(eg_unit_wire_verdict(mem, sizeof(mem), EG_UNIT_CLUSTER,
                                          &flags), EG_SWIM_DROP_VERSION);

    eg_unit_wire_header(mem, 255, 0, EG_UNIT_CLUSTER);
    ck_assert_int_eq(eg_unit_wire_verdict(mem, sizeof(mem), EG_UNIT_CLUSTER,
                                          &flags), EG_SWIM_DROP_VERSION);
}
END_TEST


START_TEST(version_older_than_we_accept_is_refused)
{
    u_char   mem[EG_SWIM_HEADER_LEN];
    uint8_t  flags;

    eg_unit_wire_header(mem, EG_SWIM_VERSION_MIN - 1, 0, EG_UNIT_CLUSTER);
    ck_assert_int_eq(eg_unit_wire_verdict(mem, sizeof(mem), EG_UNIT_CLUSTER,
                                          &flags), EG_SWIM_DROP_VERSION);
}
END_TEST


START_TEST(unknown_header_flag_is_refused_as_a_newer_version)
{
    u_char     mem[EG_SWIM_HEADER_LEN];
    uint8_t    flags;
    eg_uint_t  bit;

    for (bit = 2; bit < 8; bit++) {
        eg_unit_wire_header(mem, EG_SWIM_VERSION, (uint8_t) (1u << bit),
                            EG_UNIT_CLUSTER);

        ck_assert_int_eq(eg_unit_wire_verdict(mem, sizeof(mem),
                                              EG_UNIT_CLUSTER, &flags),
                         EG_SWIM_DROP_VERSION);
    }
}
END_TEST


START_TEST(another_clusters_packet_is_refused)
{
    u_char   mem[EG_SWIM_HEADER_LEN];
    uint8_t  flags;

    eg_unit_wire_header(mem, EG_SWIM_VERSION, 0,
                        eg_swim_cluster_hash((u_char *) "other", 5));

    ck_assert_int_eq(eg_unit_wire_verdict(mem, sizeof(mem),
                         eg_swim_cluster_hash((u_char *) "ours", 4),
                         &flags),
                     EG_SWIM_DROP_CLUSTER);
}
END_TEST


/* datagram messages */

START_TEST(ping_decodes_seq_target_source_and_records)
{
    u_char              body[512];
    size_t              len;
    eg_swim_message_t  *msg;

    msg = malloc(sizeof(eg_swim_message_t));
    ck_assert(msg != NULL);

    len = eg_unit_wire_ping(body, sizeof(body));

    ck_assert_int_eq(eg_swim_decode_message(body, len, msg), EG_OK);

    ck_assert_uint_eq(msg->type, EG_SWIM_PING);
    ck_assert_uint_eq(msg->seq, 0xdeadbeef);
    ck_assert_uint_eq(msg->target_len, 6);
    ck_assert_mem_eq(msg->target, "target", 6);
    ck_assert_uint_eq(msg->source_len, 6);
    ck_assert_mem_eq(msg->source, "source", 6);
    ck_assert_uint_eq(msg->nrecords, 2);

    ck_assert_uint_eq(msg->records[0].state, EG_MEMBER_ALIVE);
    ck_assert_mem_eq(msg->records[0].id, "node-a", 6);
    ck_assert_uint_eq(msg->records[0].addr.port, 7946);
    ck_assert_uint_eq(msg->records[1].state, EG_MEMBER_SUSPECT);
    ck_assert(msg->records[1].incarnation == 9);
    ck_assert_mem_eq(msg->records[1].from, "node-c", 6);

    free(msg);
}
END_TEST


START_TEST(ping_req_ack_nack_and_gossip_decode)
{
    u_char              body[128];
    eg_swim_buf_t       b;
    eg_swim_addr_t      a;
    eg_swim_message_t  *msg;

    msg = malloc(sizeof(eg_swim_message_t));
    ck_assert(msg != NULL);

    /* PING_REQ: seq, target id, target address, no records */

    eg_unit_wire_addr4(&a, 3, 7000);
    eg_unit_wire_buf(&b, body, sizeof(body));
    eg_swim_put_u8(&b, EG_SWIM_PING_REQ);
    eg_swim_put_u32(&b, 77);
    eg_swim_put_u8(&b, 2);
    eg_swim_put_bytes(&b, (u_char *) "n3", 2);
    eg_swim_put_addr(&b, &a);
    eg_swim_put_u8(&b, 0);

    ck_assert_int_eq(eg_swim_decode_message(body, (size_t) (b.p - body),
                                            msg), EG_OK);
    ck_assert_uint_eq(msg->type, EG_SWIM_PING_REQ);
    ck_assert_uint_eq(msg->seq, 77);
    ck_assert_mem_eq(msg->target, "n3", 2);
    ck_assert(eg_swim_addr_eq(&msg->target_addr, &a));
    ck_assert_uint_eq(msg->nrecords, 0);

    /* ACK and NACK: seq and records */

    ck_assert_int_eq(eg_swim_decode_message(
                         (u_char *) "\x03\x00\x00\x01\x00\x00", 6, msg),
                     EG_OK);
    ck_assert_uint_eq(msg->type, EG_SWIM_ACK);
    ck_assert_uint_eq(msg->seq, 256);

    ck_assert_int_eq(eg_swim_decode_message(
                         (u_char *) "\x04\xff\xff\xff\xff\x00", 6, msg),
                     EG_OK);
    ck_assert_uint_eq(msg->type, EG_SWIM_NACK);
    ck_assert_uint_eq(msg->seq, 0xffffffffU);

    /* GOSSIP: only records */

    ck_assert_int_eq(eg_swim_decode_message((u_char *) "\x05\x00", 2, msg),
                     EG_OK);
    ck_assert_uint_eq(msg->type, EG_SWIM_GOSSIP);
    ck_assert_uint_eq(msg->nrecords, 0);

    free(msg);
}
END_TEST


START_TEST(unknown_message_type_is_refused)
{
    u_char              body[2];
    eg_uint_t           type;
    eg_swim_message_t  *msg;

    msg = malloc(sizeof(eg_swim_message_t));
    ck_assert(msg != NULL);

    for (type = 0; type < 256; type++) {
        if (type >= EG_SWIM_PING && type <= EG_SWIM_GOSSIP) {
            continue;
        }

        /* stream messages (JOIN, PUSH_PULL, SNAPSHOT) included */

        body[0] = (u_char) type;
        body[1] = 0;

        eg_unit_require(eg_swim_decode_message(body, 2, msg)
                        == EG_SWIM_DROP_UNKNOWN,
                        "type %u accepted", (unsigned) type);
    }

    free(msg);
}
END_TEST


START_TEST(packet_truncated_at_any_byte_is_refused)
{
    u_char             *copy;
    u_char              body[512];
    size_t              len, cut;
    eg_int_t            rc;
    eg_swim_message_t  *msg;

    msg = malloc(sizeof(eg_swim_message_t));
    ck_assert(msg != NULL);

    len = eg_unit_wire_ping(body, sizeof(body));

    for (cut = 0; cut < len; cut++) {

        /* an exact-size copy, so that ASan sees any read past the end */

        copy = malloc(cut ? cut : 1);
        ck_assert(copy != NULL);
        eg_memcpy(copy, body, cut);

        rc = eg_swim_decode_message(copy, cut, msg);

        free(copy);

        /* no byte at all reads as type 0: unknown */
        eg_unit_require(rc == (cut ? EG_SWIM_DROP_MALFORMED
                                   : EG_SWIM_DROP_UNKNOWN),
                        "truncated at %lu of %lu: %ld", (unsigned long) cut,
                        (unsigned long) len, (long) rc);
    }

    free(msg);
}
END_TEST


START_TEST(trailing_bytes_after_the_records_are_refused)
{
    u_char              body[512];
    size_t              len;
    eg_swim_message_t  *msg;

    msg = malloc(sizeof(eg_swim_message_t));
    ck_assert(msg != NULL);

    len = eg_unit_wire_ping(body, sizeof(body));
    body[len] = 0;

    ck_assert_int_eq(eg_swim_decode_message(body, len + 1, msg),
                     EG_SWIM_DROP_MALFORMED);

    /* a count lower than the records present leaves trailing bytes too */
    body[1 + 4 + 7 + 7] = 1;
    ck_assert_int_eq(eg_swim_decode_message(body, len, msg),
                     EG_SWIM_DROP_MALFORMED);

    free(msg);
}
END_TEST


START_TEST(ping_with_empty_or_oversized_ids_is_refused)
{
    u_char              body[256];
    eg_swim_buf_t       b;
    eg_swim_message_t  *msg;
    u_char              id[EG_SWIM_ID_MAX + 1];

    msg = malloc(sizeof(eg_swim_message_t));
    ck_assert(msg != NULL);

    eg_memset(id, 'i', sizeof(id));

    /* empty target */
    eg_unit_wire_buf(&b, body, sizeof(body));
    eg_swim_put_u8(&b, EG_SWIM_PING);
    eg_swim_put_u32(&b, 1);
    eg_swim_put_u8(&b, 0);
    eg_swim_put_u8(&b, 1);
    eg_swim_put_bytes(&b, id, 1);
    eg_swim_put_u8(&b, 0);
    ck_assert_int_eq(eg_swim_decode_message(body, (size_t) (b.p - body),
                                            msg), EG_SWIM_DROP_MALFORMED);

    /* a 65-byte source */
    eg_unit_wire_buf(&b, body, sizeof(body));
    eg_swim_put_u8(&b, EG_SWIM_PING);
    eg_swim_put_u32(&b, 1);
    eg_swim_put_u8(&b, 1);
    eg_swim_put_bytes(&b, id, 1);
    eg_swim_put_u8(&b, EG_SWIM_ID_MAX + 1);
    eg_swim_put_bytes(&b, id, EG_SWIM_ID_MAX + 1);
    eg_swim_put_u8(&b, 0);
    ck_assert_int_eq(eg_swim_decode_message(body, (size_t) (b.p - body),
                                            msg), EG_SWIM_DROP_MALFORMED);

    /* a 64-byte one is the longest allowed */
    eg_unit_wire_buf(&b, body, sizeof(body));
    eg_swim_put_u8(&b, EG_SWIM_PING);
    eg_swim_put_u32(&b, 1);
    eg_swim_put_u8(&b, EG_SWIM_ID_MAX);
    eg_swim_put_bytes(&b, id, EG_SWIM_ID_MAX);
    eg_swim_put_u8(&b, 1);
    eg_swim_put_bytes(&b, id, 1);
    eg_swim_put_u8(&b, 0);
    ck_assert_int_eq(eg_swim_decode_message(body, (size_t) (b.p - body),
                                            msg), EG_OK);

    free(msg);
}
END_TEST


START_TEST(ping_req_with_a_bad_address_family_is_refused)
{
    u_char              body[64];
    eg_swim_message_t  *msg;

    static const u_char  req[] = {
        EG_SWIM_PING_REQ, 0, 0, 0, 1, 1, 'x',
        5, 0x1f, 0x0a, 10, 0, 0, 1,
        0
    };

    msg = malloc(sizeof(eg_swim_message_t));
    ck_assert(msg != NULL);

    eg_memcpy(body, req, sizeof(req));
    ck_assert_int_eq(eg_swim_decode_message(body, sizeof(req), msg),
                     EG_SWIM_DROP_MALFORMED);

    body[7] = 4;
    ck_assert_int_eq(eg_swim_decode_message(body, sizeof(req), msg), EG_OK);

    free(msg);
}
END_TEST


/* records */

START_TEST(well_formed_hand_written_records_are_accepted)
{
    u_char  rec[128];
    size_t  n;

    /* suspect without anything optional */
    n = eg_unit_wire_record_head(rec, EG_MEMBER_SUSPECT, 0);
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n), EG_OK);

    /* alive, IPv6, no tags */
    n = eg_unit_wire_record_head(rec, EG_MEMBER_ALIVE, EG_SWIM_R_ADDR);
    n += eg_unit_wire_record_addr(rec + n, 6);
    rec[n++] = 0;
    rec[n++] = 0;
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n), EG_OK);

    /* left, naming who said so */
    n = eg_unit_wire_record_head(rec, EG_MEMBER_LEFT, EG_SWIM_R_FROM);
    rec[n++] = 1;
    rec[n++] = 'y';
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n), EG_OK);
}
END_TEST


START_TEST(record_with_state_out_of_range_is_refused)
{
    u_char     rec[64];
    size_t     n;
    eg_uint_t  state;

    for (state = EG_MEMBER_STATES; state < 256; state++) {
        n = eg_unit_wire_record_head(rec, (uint8_t) state, 0);

        eg_unit_require(eg_unit_wire_decode_record(rec, n)
                        == EG_SWIM_DROP_MALFORMED,
                        "state %u accepted", (unsigned) state);
    }
}
END_TEST


START_TEST(record_with_unknown_flag_is_refused)
{
    u_char     rec[64];
    size_t     n;
    eg_uint_t  bit;

    for (bit = 2; bit < 8; bit++) {
        n = eg_unit_wire_record_head(rec, EG_MEMBER_DEAD,
                                     (uint8_t) (1u << bit));

        ck_assert_int_eq(eg_unit_wire_decode_record(rec, n),
                         EG_SWIM_DROP_MALFORMED);
    }
}
END_TEST


START_TEST(record_id_of_length_zero_is_refused)
{
    u_char  rec[64];
    size_t  n;

    n = eg_unit_wire_record_head(rec, EG_MEMBER_DEAD, 0);
    rec[10] = 0;    /* id length */
    n--;            /* and no id byte */

    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n),
                     EG_SWIM_DROP_MALFORMED);
}
END_TEST


START_TEST(record_id_longer_than_64_is_refused)
{
    u_char  rec[128];
    size_t  n;

    n = eg_unit_wire_record_head(rec, EG_MEMBER_DEAD, 0) - 2;

    rec[n++] = EG_SWIM_ID_MAX;
    eg_memset(rec + n, 'i', EG_SWIM_ID_MAX);
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n + EG_SWIM_ID_MAX),
                     EG_OK);

    rec[n - 1] = EG_SWIM_ID_MAX + 1;
    eg_memset(rec + n, 'i', EG_SWIM_ID_MAX + 1);
    ck_assert_int_eq(eg_unit_wire_decode_record(rec,
                                                n + EG_SWIM_ID_MAX + 1),
                     EG_SWIM_DROP_MALFORMED);
}
END_TEST


START_TEST(record_from_of_length_zero_or_over_64_is_refused)
{
    u_char  rec[128];
    size_t  n;

    n = eg_unit_wire_record_head(rec, EG_MEMBER_SUSPECT, EG_SWIM_R_FROM);
    rec[n++] = 0;
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n),
                     EG_SWIM_DROP_MALFORMED);

    n = eg_unit_wire_record_head(rec, EG_MEMBER_SUSPECT, EG_SWIM_R_FROM);
    rec[n++] = EG_SWIM_ID_MAX + 1;
    eg_memset(rec + n, 'f', EG_SWIM_ID_MAX + 1);
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n + EG_SWIM_ID_MAX + 1),
                     EG_SWIM_DROP_MALFORMED);
}
END_TEST


START_TEST(record_tags_longer_than_512_are_refused)
{
    u_char   *rec;
    size_t    n, i;

    rec = malloc(1024);
    ck_assert(rec != NULL);

    /* 513 bytes of well-formed pairs: still too long */

    n = eg_unit_wire_record_head(rec, EG_MEMBER_ALIVE, EG_SWIM_R_ADDR);
    n += eg_unit_wire_record_addr(rec + n, 4);
    rec[n++] = (EG_SWIM_TAGS_MAX + 1) >> 8;
    rec[n++] = (EG_SWIM_TAGS_MAX + 1) & 0xff;

    for (i = 0; i < EG_SWIM_TAGS_MAX + 1; i++) {
        rec[n + i] = 0x01;      /* key "\1", value of 1 byte, ... */
    }

    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n + EG_SWIM_TAGS_MAX
                                                     + 1),
                     EG_SWIM_DROP_MALFORMED);

    free(rec);
}
END_TEST


START_TEST(record_with_a_malformed_tags_blob_is_refused)
{
    u_char     rec[128];
    size_t     n, head;
    eg_uint_t  i;

    static const struct {
        const char  *tags;
        size_t       len;
    }  bad[] = {
        { "\x00\x00", 2 },              /* an empty key */
        { "\x03" "ab", 3 },             /* the key runs past the end */
        { "\x02" "ab", 3 },             /* no value length */
        { "\x02" "ab" "\x03" "xy", 6 }, /* the value runs past the end */
        { "\x01" "a" "\x00" "\x05", 4 } /* a second pair cut short */
    };

    head = eg_unit_wire_record_head(rec, EG_MEMBER_ALIVE, EG_SWIM_R_ADDR);
    head += eg_unit_wire_record_addr(rec + head, 4);

    for (i = 0; i < eg_nelems(bad); i++) {
        n = head;
        rec[n++] = 0;
        rec[n++] = (u_char) bad[i].len;
        eg_memcpy(rec + n, bad[i].tags, bad[i].len);

        eg_unit_require(eg_unit_wire_decode_record(rec, n + bad[i].len)
                        == EG_SWIM_DROP_MALFORMED,
                        "tags #%u accepted", (unsigned) i);
    }
}
END_TEST


START_TEST(alive_record_without_an_address_is_refused)
{
    u_char  rec[64];
    size_t  n;

    n = eg_unit_wire_record_head(rec, EG_MEMBER_ALIVE, 0);
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n),
                     EG_SWIM_DROP_MALFORMED);

    n = eg_unit_wire_record_head(rec, EG_MEMBER_ALIVE, EG_SWIM_R_FROM);
    rec[n++] = 1;
    rec[n++] = 'z';
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n),
                     EG_SWIM_DROP_MALFORMED);
}
END_TEST


START_TEST(record_address_family_other_than_4_or_6_is_refused)
{
    u_char  rec[64];
    size_t  n;

    n = eg_unit_wire_record_head(rec, EG_MEMBER_ALIVE, EG_SWIM_R_ADDR);
    n += eg_unit_wire_record_addr(rec + n, 4);
    rec[n++] = 0;
    rec[n++] = 0;
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n), EG_OK);

    rec[12] = 5;
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n),
                     EG_SWIM_DROP_MALFORMED);

    rec[12] = 0;
    ck_assert_int_eq(eg_unit_wire_decode_record(rec, n),
                     EG_SWIM_DROP_MALFORMED);
}
END_TEST


/* tags */

START_TEST(tags_are_length_prefixed_key_value_pairs)
{
    ck_assert_int_eq(eg_swim_tags_valid(NULL, 0), EG_OK);
    ck_assert_int_eq(eg_swim_tags_valid((u_char *) "\x01k\x01v", 4), EG_OK);
    ck_assert_int_eq(eg_swim_tags_valid((u_char *) "\x01k\x00", 3), EG_OK);
    ck_assert_int_eq(eg_swim_tags_valid(
                         (u_char *) "\x02" "dc" "\x02" "eu" "\x01" "r"
                                    "\x00", 9),
                     EG_OK);

    ck_assert_int_eq(eg_swim_tags_valid((u_char *) "\x00\x01v", 3),
                     EG_ERROR);
    ck_assert_int_eq(eg_swim_tags_valid((u_char *) "\x01k", 2), EG_ERROR);
    ck_assert_int_eq(eg_swim_tags_valid((u_char *) "\x01k\x02v", 4),
                     EG_ERROR);
    ck_assert_int_eq(eg_swim_tags_valid((u_char *) "\x05", 1), EG_ERROR);
}
END_TEST


START_TEST(ident_refuses_bad_lengths_and_compares_with_records)
{
    eg_swim_addr_t     a;
    eg_swim_ident_t   *ident;
    eg_swim_record_t   r;
    u_char             id[EG_SWIM_ID_MAX + 1];

    eg_memset(id, 'i', sizeof(id));
    eg_unit_wire_addr4(&a, 1, 1);

    ck_assert(eg_swim_ident_create(id, 0, &a, NULL, 0) == NULL);
    ck_assert(eg_swim_ident_create(id, EG_SWIM_ID_MAX + 1, &a, NULL, 0)
              == NULL);
    ck_assert(eg_swim_ident_create(id, 1, &a, id, EG_SWIM_TAGS_MAX + 1)
              == NULL);

    eg_unit_wire_alive(&r, "node-a");

    ident = eg_swim_ident_create(r.id, r.id_len, &r.addr, r.tags,
                                 r.tags_len);
    ck_assert(ident != NULL);
    ck_assert(eg_swim_ident_same(ident, &r));

    r.addr.port++;
    ck_assert(!eg_swim_ident_same(ident, &r));
    r.addr.port--;

    r.tags_len = 0;
    ck_assert(!eg_swim_ident_same(ident, &r));

    eg_swim_ident_unref(ident);
}
END_TEST


/* keyring */

START_TEST(keyring_file_with_comments_and_blank_lines_parses_in_order)
{
    u_char              text[512], *p, key[EG_SWIM_KEY_LEN];
    const char         *err;
    eg_swim_keyring_t   kr;

    p = text;
    p = eg_unit_wire_text(p, "# engram gossip keys: the first encrypts\n\n");
    p += eg_unit_wire_key_line(p, 1);
    p = eg_unit_wire_text(p, "   \t\n# the old one, still accepted\n  ");
    p += eg_unit_wire_key_line(p, 2);
    p[-1] = '\r';
    *p++ = '\n';
    *p++ = '\t';
    p += eg_unit_wire_key_line(p, 3);
    p--;    /* the last line without its newline */

    err = NULL;
    ck_assert_int_eq(eg_swim_keyring_parse(&kr, text, (size_t) (p - text),
                                           &err), EG_OK);
    ck_assert(err == NULL);
    ck_assert_uint_eq(kr.nkeys, 3);

    eg_unit_wire_key(key, 1);
    ck_assert_mem_eq(kr.keys[0], key, EG_SWIM_KEY_LEN);
    eg_unit_wire_key(key, 2);
    ck_assert_mem_eq(kr.keys[1], key, EG_SWIM_KEY_LEN);
    eg_unit_wire_key(key, 3);
    ck_assert_mem_eq(kr.keys[2], key, EG_SWIM_KEY_LEN);
}
END_TEST


START_TEST(keyring_key_of_the_wrong_length_is_refused)
{
    u_char              text[128];
    size_t              n;
    const char         *err;
    eg_swim_keyring_t   kr;

    /* 16 bytes: AES-128 is not what we run */
    err = NULL;
    ck_assert_int_eq(eg_swim_keyring_parse(&kr,
                         (u_char *) "AAECAwQFBgcICQoLDA0ODw==\n", 25, &err),
                     EG_ERROR);
    ck_assert_str_eq(err, "a key must be 32 bytes in base64 (44 characters)");

    /* one character too many */
    n = eg_unit_wire_key_line(text, 1);
    text[n - 1] = 'A';
    err = NULL;
    ck_assert_int_eq(eg_swim_keyring_parse(&kr, text, n, &err), EG_ERROR);
    ck_assert_str_eq(err, "a key must be 32 bytes in base64 (44 characters)");
}
END_TEST


START_TEST(keyring_key_that_is_not_base64_is_refused)
{
    u_char              text[128];
    size_t              n;
    const char         *err;
    eg_swim_keyring_t   kr;

    n = eg_unit_wire_key_line(text, 1);

    text[5] = '*';
    err = NULL;
    ck_assert_int_eq(eg_swim_keyring_parse(&kr, text, n, &err), EG_ERROR);
    ck_assert_str_eq(err, "a key is not valid base64");

    /* 44 characters, but 31 bytes with "==" */
    n = eg_unit_wire_key_line(text, 1);
    text[42] = '=';
    err = NULL;
    ck_assert_int_eq(eg_swim_keyring_parse(&kr, text, n, &err), EG_ERROR);
    ck_assert_str_eq(err, "a key is not valid base64");

    /* 44 characters without padding: 33 bytes */
    n = eg_unit_wire_key_line(text, 1);
    text[43] = 'A';
    err = NULL;
    ck_assert_int_eq(eg_swim_keyring_parse(&kr, text, n, &err), EG_ERROR);
    ck_assert_str_eq(err, "a key is not valid base64");

    /* a blank inside the key */
    n = eg_unit_wire_key_line(text, 1);
    text[20] = ' ';
    err = NULL;
    ck_assert_int_eq(eg_swim_keyring_parse(&kr, text, n, &err), EG_ERROR);
    ck_assert_str_eq(err, "a key is not valid base64");
}
END_TEST


START_TEST(keyring_of_more_than_16_keys_is_refused)
{
    u_char              text[64 * 45], *p;
    eg_uint_t           i;
    const char         *err;
    eg_swim_keyring_t   kr;

    p = text;

    for (i = 0; i < EG_SWIM_MAX_KEYS; i++) {
        p += eg_unit_wire_key_line(p, (u_char) i);
    }

    err = NULL;
    ck_assert_int_eq(eg_swim_keyring_parse(&kr, text, (size_t) (p - text),
                                           &err), EG_OK);
    ck_assert_uint_eq(kr.nkeys, EG_SWIM_MAX_KEYS);

    p += eg_unit_wire_key_line(p, 99);

    ck_assert_int_eq(eg_swim_keyring_parse(&kr, text, (size_t) (p - text),
                                           &err), EG_ERROR);
    ck_assert_str_eq(err, "too many keys (at most 16)");
}
END_TEST


START_TEST(keyring_without_keys_is_refused)
{
    const char         *err;
    eg_swim_keyring_t   kr;

    err = NULL;
    ck_assert_int_eq(eg_swim_keyring_parse(&kr, (u_char *) "", 0, &err),
                     EG_ERROR);
    ck_assert_str_eq(err, "no keys");

    err = NULL;
    ck_assert_int_eq(eg_swim_keyring_parse(&kr,
                         (u_char *) "# nothing yet\n\n   \n", 19, &err),
                     EG_ERROR);
    ck_assert_str_eq(err, "no keys");
}
END_TEST


/* AES-256-GCM */

static size_t
eg_unit_wire_seal(eg_swim_keyring_t *kr, u_char *header, const char *text,
    u_char *out)
{
    u_char  nonce[EG_SWIM_NONCE_LEN];
    size_t  n;

    eg_memset(nonce, 0x5a, sizeof(nonce));

    n = eg_swim_encrypt(kr, header, EG_SWIM_HEADER_LEN, nonce,
                        (u_char *) text, strlen(text), out);

    ck_assert_uint_eq(n, strlen(text) + EG_SWIM_CRYPTO_OVERHEAD);
    ck_assert_mem_eq(out, nonce, EG_SWIM_NONCE_LEN);

    return n;
}


START_TEST(sealed_packet_opens_with_the_same_keyring)
{
    u_char              header[EG_SWIM_HEADER_LEN], sealed[128], plain[128];
    size_t              n;
    ssize_t             m;
    eg_swim_keyring_t   kr;

    static const u_char  seeds[] = { 1 };

    eg_unit_wire_keyring(&kr, seeds, 1);
    eg_unit_wire_header(header, EG_SWIM_VERSION, EG_SWIM_F_ENCRYPTED,
                        EG_UNIT_CLUSTER);

    n = eg_unit_wire_seal(&kr, header, "a gossip body", sealed);

    /* the ciphertext is not the plaintext */
    ck_assert(memcmp(sealed + EG_SWIM_NONCE_LEN, "a gossip body", 13) != 0);

    m = eg_swim_decrypt(&kr, header, EG_SWIM_HEADER_LEN, sealed, n, plain);

    ck_assert_int_eq(m, 13);
    ck_assert_mem_eq(plain, "a gossip body", 13);

    /* an empty body seals to nonce and tag alone */
    n = eg_unit_wire_seal(&kr, header, "", sealed);
    ck_assert_int_eq(eg_swim_decrypt(&kr, header, EG_SWIM_HEADER_LEN, sealed,
                                     n, plain), 0);
}
END_TEST


START_TEST(packet_sealed_with_an_old_key_opens_where_it_is_secondary)
{
    u_char              header[EG_SWIM_HEADER_LEN], sealed[128], plain[128];
    size_t              n;
    eg_swim_keyring_t   old, rotated, fresh;

    static const u_char  a[] = { 1 };
    static const u_char  ba[] = { 2, 1 };
    static const u_char  b[] = { 2 };

    eg_unit_wire_keyring(&old, a, 1);
    eg_unit_wire_keyring(&rotated, ba, 2);
    eg_unit_wire_keyring(&fresh, b, 1);

    eg_unit_wire_header(header, EG_SWIM_VERSION, EG_SWIM_F_ENCRYPTED,
                        EG_UNIT_CLUSTER);

    n = eg_unit_wire_seal(&old, header, "from a node not yet rotated",
                          sealed);

    ck_assert_int_eq(eg_swim_decrypt(&rotated, header, EG_SWIM_HEADER_LEN,
                                     sealed, n, plain), 27);
    ck_assert_mem_eq(plain, "from a node not yet rotated", 27);

    /* once the old key is removed, it no longer opens */
    ck_assert_int_eq(eg_swim_decrypt(&fresh, header, EG_SWIM_HEADER_LEN,
                                     sealed, n, plain), -1);

    /* and the rotated ring seals with its primary, which old lacks */
    n = eg_unit_wire_seal(&rotated, header, "new", sealed);
    ck_assert_int_eq(eg_swim_decrypt(&fresh, header, EG_SWIM_HEADER_LEN,
                                     sealed, n, plain), 3);
    ck_assert_int_eq(eg_swim_decrypt(&old, header, EG_SWIM_HEADER_LEN,
                                     sealed, n, plain), -1);
}
END_TEST


START_TEST(tampering_with_any_byte_fails_authentication)
{
    u_char              header[EG_SWIM_HEADER_LEN], sealed[128], plain[128];
    size_t              n, i;
    eg_swim_keyring_t   kr;

    static const u_char  seeds[] = { 7 };

    eg_unit_wire_keyring(&kr, seeds, 1);
    eg_unit_wire_header(header, EG_SWIM_VERSION, EG_SWIM_F_ENCRYPTED,
                        EG_UNIT_CLUSTER);

    n = eg_unit_wire_seal(&kr, header, "state alive inc 42", sealed);

    /* nonce, ciphertext and tag */

    for (i = 0; i < n; i++) {
        sealed[i] ^= 0x01;

        eg_unit_require(eg_swim_decrypt(&kr, header, EG_SWIM_HEADER_LEN,
                                        sealed, n, plain) == -1,
                        "a flipped bit at %lu went unnoticed",
                        (unsigned long) i);

        sealed[i] ^= 0x01;
    }

    /* the header is authenticated too */

    for (i = 0; i < EG_SWIM_HEADER_LEN; i++) {
        header[i] ^= 0x80;

        eg_unit_require(eg_swim_decrypt(&kr, header, EG_SWIM_HEADER_LEN,
                                        sealed, n, plain) == -1,
                        "a flipped header bit at %lu went unnoticed",
                        (unsigned long) i);

        header[i] ^= 0x80;
    }

    ck_assert_int_eq(eg_swim_decrypt(&kr, header, EG_SWIM_HEADER_LEN, sealed,
                                     n, plain), 18);
}
END_TEST


START_TEST(sealed_input_shorter_than_nonce_and_tag_is_refused)
{
    u_char              header[EG_SWIM_HEADER_LEN], sealed[64], plain[64];
    eg_swim_keyring_t   kr;

    static const u_char  seeds[] = { 1 };

    eg_unit_wire_keyring(&kr, seeds, 1);
    eg_unit_wire_header(header, EG_SWIM_VERSION, EG_SWIM_F_ENCRYPTED,
                        EG_UNIT_CLUSTER);
    eg_memzero(sealed, sizeof(sealed));

    ck_assert_int_eq(eg_swim_decrypt(&kr, header, EG_SWIM_HEADER_LEN, sealed,
                                     EG_SWIM_CRYPTO_OVERHEAD - 1, plain), -1);
    ck_assert_int_eq(eg_swim_decrypt(&kr, header, EG_SWIM_HEADER_LEN, sealed,
                                     0, plain), -1);
}
END_TEST


Suite *
eg_unit_swim_wire_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("swim_wire");

    tc = tcase_create("integers");
    tcase_add_test(tc, integers_are_written_in_network_order);
    tcase_add_test(tc, integers_read_back_as_written);
    tcase_add_test(tc, writer_overflow_writes_nothing_and_sticks);
    tcase_add_test(tc, reader_overflow_returns_zero_and_sticks);
    tcase_add_test(tc, addresses_round_trip_in_seven_or_nineteen_bytes);
    tcase_add_test(tc, address_family_other_than_4_or_6_is_refused);
    tcase_add_test(tc, address_text_is_ip_and_port);
    tcase_add_test(tc, records_round_trip_with_address_tags_and_from);
    tcase_add_test(tc, record_layout_is_state_flags_incarnation_id);
    suite_add_tcase(s, tc);

    tc = tcase_create("header");
    tcase_add_test(tc, cluster_hash_is_fnv1a_32);
    tcase_add_test(tc, header_is_magic_version_flags_and_cluster_hash);
    tcase_add_test(tc, header_of_our_cluster_is_accepted_with_its_flags);
    tcase_add_test(tc, packet_shorter_than_a_header_is_dropped_as_short);
    tcase_add_test(tc, packet_without_the_magic_is_dropped_as_foreign);
    tcase_add_test(tc, version_newer_than_we_speak_is_refused);
    tcase_add_test(tc, version_older_than_we_accept_is_refused);
    tcase_add_test(tc, unknown_header_flag_is_refused_as_a_newer_version);
    tcase_add_test(tc, another_clusters_packet_is_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("messages");
    tcase_add_test(tc, ping_decodes_seq_target_source_and_records);
    tcase_add_test(tc, ping_req_ack_nack_and_gossip_decode);
    tcase_add_test(tc, unknown_message_type_is_refused);
    tcase_add_test(tc, packet_truncated_at_any_byte_is_refused);
    tcase_add_test(tc, trailing_bytes_after_the_records_are_refused);
    tcase_add_test(tc, ping_with_empty_or_oversized_ids_is_refused);
    tcase_add_test(tc, ping_req_with_a_bad_address_family_is_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("records");
    tcase_add_test(tc, well_formed_hand_written_records_are_accepted);
    tcase_add_test(tc, record_with_state_out_of_range_is_refused);
    tcase_add_test(tc, record_with_unknown_flag_is_refused);
    tcase_add_test(tc, record_id_of_length_zero_is_refused);
    tcase_add_test(tc, record_id_longer_than_64_is_refused);
    tcase_add_test(tc, record_from_of_length_zero_or_over_64_is_refused);
    tcase_add_test(tc, record_tags_longer_than_512_are_refused);
    tcase_add_test(tc, record_with_a_malformed_tags_blob_is_refused);
    tcase_add_test(tc, alive_record_without_an_address_is_refused);
    tcase_add_test(tc, record_address_family_other_than_4_or_6_is_refused);
    tcase_add_test(tc, tags_are_length_prefixed_key_value_pairs);
    tcase_add_test(tc, ident_refuses_bad_lengths_and_compares_with_records);
    suite_add_tcase(s, tc);

    tc = tcase_create("keyring");
    tcase_add_test(tc,
        keyring_file_with_comments_and_blank_lines_parses_in_order);
    tcase_add_test(tc, keyring_key_of_the_wrong_length_is_refused);
    tcase_add_test(tc, keyring_key_that_is_not_base64_is_refused);
    tcase_add_test(tc, keyring_of_more_than_16_keys_is_refused);
    tcase_add_test(tc, keyring_without_keys_is_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("crypto");
    tcase_add_test(tc, sealed_packet_opens_with_the_same_keyring);
    tcase_add_test(tc,
        packet_sealed_with_an_old_key_opens_where_it_is_secondary);
    tcase_add_test(tc, tampering_with_any_byte_fails_authentication);
    tcase_add_test(tc, sealed_input_shorter_than_nonce_and_tag_is_refused);
    suite_add_tcase(s, tc);

    return s;
}
