/*
 * Multicast announcements (src/discovery/eg_discovery_mcast_module.c,
 * docs/protocol.md "Multicast announcements"): the bytes of one, what
 * survives the round trip in clear and sealed, key rotation, and every
 * reason the decoder drops a datagram, one test each.  No socket: bytes
 * in, verdicts out.
 */

#include <eg_unit.h>

#if (EG_DISCOVERY_MCAST)

#include <eg_discovery_mcast.h>


#define EG_UNIT_CLUSTER  0x01020304U


static eg_swim_keyring_t  eg_unit_kr1;      /* key 0x11... */
static eg_swim_keyring_t  eg_unit_kr2;      /* key 0x22... */
static eg_swim_keyring_t  eg_unit_kr21;     /* 0x22..., then 0x11... */
static u_char             eg_unit_nonce[EG_SWIM_NONCE_LEN];


static void
eg_unit_mcast_setup(void)
{
    eg_memzero(&eg_unit_kr1, sizeof(eg_swim_keyring_t));
    eg_memzero(&eg_unit_kr2, sizeof(eg_swim_keyring_t));
    eg_memzero(&eg_unit_kr21, sizeof(eg_swim_keyring_t));

    eg_memset(eg_unit_kr1.keys[0], 0x11, EG_SWIM_KEY_LEN);
    eg_unit_kr1.nkeys = 1;

    eg_memset(eg_unit_kr2.keys[0], 0x22, EG_SWIM_KEY_LEN);
    eg_unit_kr2.nkeys = 1;

    eg_memset(eg_unit_kr21.keys[0], 0x22, EG_SWIM_KEY_LEN);
    eg_memset(eg_unit_kr21.keys[1], 0x11, EG_SWIM_KEY_LEN);
    eg_unit_kr21.nkeys = 2;

    eg_memset(eg_unit_nonce, 0x5a, sizeof(eg_unit_nonce));
}


/* node "n1" at 192.0.2.7:7946, every 5 s */
static void
eg_unit_mcast_announce(eg_mcast_announce_t *a)
{
    eg_memzero(a, sizeof(eg_mcast_announce_t));

    a->interval = 5000;
    a->time = 0x0102030405060708ULL;
    a->addr.family = 4;
    a->addr.port = 7946;
    a->addr.ip[0] = 192;
    a->addr.ip[2] = 2;
    a->addr.ip[3] = 7;
    a->id_len = 2;
    eg_memcpy(a->id, "n1", 2);
}


/* the datagram of eg_unit_mcast_announce(), or of *a */
static size_t
eg_unit_mcast_encode(eg_mcast_announce_t *a, eg_swim_keyring_t *kr,
    u_char *out)
{
    size_t               n;
    eg_mcast_announce_t  def;

    if (a == NULL) {
        eg_unit_mcast_announce(&def);
        a = &def;
    }

    n = eg_mcast_encode(a, EG_UNIT_CLUSTER, kr, eg_unit_nonce, out);
    ck_assert_uint_gt(n, 0);

    return n;
}


static eg_uint_t
eg_unit_mcast_reason(u_char *buf, size_t len, eg_swim_keyring_t *kr)
{
    eg_uint_t            reason;
    eg_mcast_announce_t  a;

    reason = (eg_uint_t) -1;

    ck_assert_int_eq(eg_mcast_decode(buf, len, EG_UNIT_CLUSTER, kr, &a,
                                     &reason),
                     EG_ERROR);

    return reason;
}


START_TEST(announcement_in_clear_is_the_documented_bytes)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n;

    static const u_char  expect[] = {
        'E', 'G', 'M', 'C', 1, 0, 0x01, 0x02, 0x03, 0x04,   /* header */
        0x00, 0x00, 0x13, 0x88,                             /* 5000 ms */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,     /* time */
        4, 0x1f, 0x0a, 192, 0, 2, 7,                        /* address */
        2, 'n', '1'                                         /* id */
    };

    n = eg_unit_mcast_encode(NULL, NULL, buf);

    ck_assert_uint_eq(n, sizeof(expect));
    ck_assert_mem_eq(buf, expect, sizeof(expect));
}
END_TEST


START_TEST(announcement_in_clear_survives_the_round_trip)
{
    u_char               buf[EG_MCAST_MAX];
    size_t               n;
    eg_uint_t            reason;
    eg_mcast_announce_t  in, out;

    eg_unit_mcast_announce(&in);
    n = eg_unit_mcast_encode(&in, NULL, buf);

    ck_assert_int_eq(eg_mcast_decode(buf, n, EG_UNIT_CLUSTER, NULL, &out,
                                     &reason),
                     EG_OK);

    ck_assert_uint_eq(out.interval, 5000);
    ck_assert(out.time == in.time);
    ck_assert(eg_swim_addr_eq(&out.addr, &in.addr));
    ck_assert_uint_eq(out.id_len, 2);
    ck_assert_mem_eq(out.id, "n1", 2);
}
END_TEST


START_TEST(sealed_ipv6_announcement_survives_the_round_trip)
{
    u_char               buf[EG_MCAST_MAX];
    size_t               n;
    eg_uint_t            reason;
    eg_mcast_announce_t  in, out;

    eg_memzero(&in, sizeof(eg_mcast_announce_t));

    in.interval = EG_MCAST_INTERVAL_MAX;
    in.time = 1;
    in.addr.family = 6;
    in.addr.port = 65535;
    in.addr.ip[0] = 0xfd;
    in.addr.ip[15] = 1;
    in.id_len = EG_SWIM_ID_MAX;
    eg_memset(in.id, 'x', EG_SWIM_ID_MAX);

    n = eg_unit_mcast_encode(&in, &eg_unit_kr1, buf);

    /* the longest there is: an IPv6 address and a 64-byte id, sealed */
    ck_assert_uint_eq(n, EG_MCAST_MAX);
    ck_assert_uint_eq(buf[5], EG_MCAST_F_SEALED);

    ck_assert_int_eq(eg_mcast_decode(buf, n, EG_UNIT_CLUSTER, &eg_unit_kr1,
                                     &out, &reason),
                     EG_OK);

    ck_assert(eg_swim_addr_eq(&out.addr, &in.addr));
    ck_assert_uint_eq(out.id_len, EG_SWIM_ID_MAX);
    ck_assert_mem_eq(out.id, in.id, EG_SWIM_ID_MAX);
    ck_assert_uint_eq(out.interval, EG_MCAST_INTERVAL_MAX);
}
END_TEST


START_TEST(sealed_announcement_hides_the_id)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n, i;

    n = eg_unit_mcast_encode(NULL, &eg_unit_kr1, buf);

    ck_assert_uint_eq(n, 32 + EG_SWIM_CRYPTO_OVERHEAD);

    for (i = 0; i + 1 < n; i++) {
        ck_assert(!(buf[i] == 'n' && buf[i + 1] == '1'));
    }
}
END_TEST


START_TEST(any_key_of_the_keyring_opens_an_announcement)
{
    u_char               buf[EG_MCAST_MAX];
    size_t               n;
    eg_uint_t            reason;
    eg_mcast_announce_t  out;

    /* sealed with 0x11..., opened by a keyring that has it second */

    n = eg_unit_mcast_encode(NULL, &eg_unit_kr1, buf);

    ck_assert_int_eq(eg_mcast_decode(buf, n, EG_UNIT_CLUSTER, &eg_unit_kr21,
                                     &out, &reason),
                     EG_OK);
    ck_assert_mem_eq(out.id, "n1", 2);
}
END_TEST


START_TEST(shorter_than_a_header_is_dropped_as_short)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n;

    n = eg_unit_mcast_encode(NULL, NULL, buf);
    ck_assert_uint_gt(n, EG_MCAST_HEADER_LEN);

    for (n = 0; n < EG_MCAST_HEADER_LEN; n++) {
        ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, NULL),
                          EG_MCAST_DROP_SHORT);
    }
}
END_TEST


START_TEST(gossip_datagram_is_dropped_as_magic)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n;

    n = eg_unit_mcast_encode(NULL, NULL, buf);
    eg_memcpy(buf, "EGRM", 4);

    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, NULL),
                      EG_MCAST_DROP_MAGIC);
}
END_TEST


START_TEST(unknown_version_is_dropped_as_version)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n;

    n = eg_unit_mcast_encode(NULL, NULL, buf);

    buf[4] = EG_MCAST_VERSION_MAX + 1;
    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, NULL),
                      EG_MCAST_DROP_VERSION);

    buf[4] = 0;
    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, NULL),
                      EG_MCAST_DROP_VERSION);
}
END_TEST


START_TEST(unknown_flag_is_dropped_as_version)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n;

    n = eg_unit_mcast_encode(NULL, NULL, buf);
    buf[5] = 0x80;

    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, NULL),
                      EG_MCAST_DROP_VERSION);
}
END_TEST


START_TEST(another_clusters_announcement_is_dropped_as_cluster)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n;

    n = eg_unit_mcast_encode(NULL, NULL, buf);
    buf[9] ^= 1;

    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, NULL),
                      EG_MCAST_DROP_CLUSTER);

    /* sealed: the hash is read before anything is opened */
    n = eg_unit_mcast_encode(NULL, &eg_unit_kr1, buf);
    buf[6] ^= 0x80;

    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, &eg_unit_kr1),
                      EG_MCAST_DROP_CLUSTER);
}
END_TEST


START_TEST(sealed_with_another_key_is_dropped_as_decrypt)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n;

    n = eg_unit_mcast_encode(NULL, &eg_unit_kr2, buf);

    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, &eg_unit_kr1),
                      EG_MCAST_DROP_DECRYPT);
}
END_TEST


START_TEST(sealed_without_keys_is_dropped_as_decrypt)
{
    u_char             buf[EG_MCAST_MAX];
    size_t             n;
    eg_swim_keyring_t  none;

    n = eg_unit_mcast_encode(NULL, &eg_unit_kr1, buf);

    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, NULL),
                      EG_MCAST_DROP_DECRYPT);

    eg_memzero(&none, sizeof(eg_swim_keyring_t));

    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, &none),
                      EG_MCAST_DROP_DECRYPT);
}
END_TEST


START_TEST(any_changed_byte_of_a_sealed_one_is_dropped)
{
    u_char     buf[EG_MCAST_MAX];
    size_t     n, i;
    eg_uint_t  reason;

    n = eg_unit_mcast_encode(NULL, &eg_unit_kr1, buf);

    /* the header is authenticated too: the version and flags included */

    for (i = 4; i < n; i++) {
        buf[i] ^= 0x01;

        reason = eg_unit_mcast_reason(buf, n, &eg_unit_kr1);

        ck_assert_msg(reason == EG_MCAST_DROP_DECRYPT
                      || (i == 4 && reason == EG_MCAST_DROP_VERSION)
                      || (i == 5 && reason == EG_MCAST_DROP_PLAINTEXT)
                      || (i >= 6 && i < 10
                          && reason == EG_MCAST_DROP_CLUSTER),
                      "byte %lu changed: reason %lu", (unsigned long) i,
                      (unsigned long) reason);

        buf[i] ^= 0x01;
    }

    /* and a sealed one cut short anywhere */

    for (i = EG_MCAST_HEADER_LEN; i < n; i++) {
        ck_assert_uint_eq(eg_unit_mcast_reason(buf, i, &eg_unit_kr1),
                          EG_MCAST_DROP_DECRYPT);
    }
}
END_TEST


START_TEST(in_clear_with_keys_is_dropped_as_plaintext)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n;

    n = eg_unit_mcast_encode(NULL, NULL, buf);

    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, &eg_unit_kr1),
                      EG_MCAST_DROP_PLAINTEXT);
}
END_TEST


START_TEST(truncated_body_is_dropped_as_malformed)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n, i;

    n = eg_unit_mcast_encode(NULL, NULL, buf);

    for (i = EG_MCAST_HEADER_LEN; i < n; i++) {
        ck_assert_uint_eq(eg_unit_mcast_reason(buf, i, NULL),
                          EG_MCAST_DROP_MALFORMED);
    }
}
END_TEST


START_TEST(trailing_byte_is_dropped_as_malformed)
{
    u_char  buf[EG_MCAST_MAX + 1];
    size_t  n;

    n = eg_unit_mcast_encode(NULL, NULL, buf);
    buf[n] = 0;

    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n + 1, NULL),
                      EG_MCAST_DROP_MALFORMED);
}
END_TEST


START_TEST(datagram_longer_than_any_announcement_is_dropped_as_malformed)
{
    u_char  buf[EG_MCAST_MAX + 100];
    size_t  n;

    n = eg_unit_mcast_encode(NULL, &eg_unit_kr1, buf);
    eg_memzero(buf + n, sizeof(buf) - n);

    ck_assert_uint_eq(eg_unit_mcast_reason(buf, sizeof(buf), &eg_unit_kr1),
                      EG_MCAST_DROP_MALFORMED);
}
END_TEST


/* the ways a field of the default announcement can be wrong */
enum {
    EG_UNIT_SPOIL_INTERVAL_LOW,
    EG_UNIT_SPOIL_INTERVAL_HIGH,
    EG_UNIT_SPOIL_PORT,
    EG_UNIT_SPOIL_WILDCARD,
    EG_UNIT_SPOIL_GROUP,
    EG_UNIT_SPOIL_WILDCARD6,
    EG_UNIT_SPOIL_GROUP6,
    EG_UNIT_SPOIL_ID_SPACE,
    EG_UNIT_SPOIL_ID_QUOTE,
    EG_UNIT_SPOIL_ID_CONTROL
};


/* the default announcement with one field that does not check, dropped */
static void
eg_unit_mcast_bad_field(eg_uint_t spoil)
{
    u_char               buf[EG_MCAST_MAX];
    size_t               n;
    eg_mcast_announce_t  a;

    eg_unit_mcast_announce(&a);

    switch (spoil) {

    case EG_UNIT_SPOIL_INTERVAL_LOW:
        a.interval = EG_MCAST_INTERVAL_MIN - 1;
        break;

    case EG_UNIT_SPOIL_INTERVAL_HIGH:
        a.interval = EG_MCAST_INTERVAL_MAX + 1;
        break;

    case EG_UNIT_SPOIL_PORT:
        a.addr.port = 0;
        break;

    case EG_UNIT_SPOIL_WILDCARD:
        eg_memzero(a.addr.ip, 4);
        break;

    case EG_UNIT_SPOIL_GROUP:
        a.addr.ip[0] = 239;
        break;

    case EG_UNIT_SPOIL_WILDCARD6:
        a.addr.family = 6;
        eg_memzero(a.addr.ip, 16);
        break;

    case EG_UNIT_SPOIL_GROUP6:
        a.addr.family = 6;
        a.addr.ip[0] = 0xff;
        a.addr.ip[1] = 0x02;
        break;

    case EG_UNIT_SPOIL_ID_SPACE:
        a.id[1] = ' ';
        break;

    case EG_UNIT_SPOIL_ID_QUOTE:
        a.id[0] = '"';
        break;

    default: /* EG_UNIT_SPOIL_ID_CONTROL */
        a.id[1] = '\n';
        break;
    }

    /* encode() writes what it is given: the decoder is the gate */

    n = eg_mcast_encode(&a, EG_UNIT_CLUSTER, NULL, eg_unit_nonce, buf);
    ck_assert_uint_gt(n, 0);

    ck_assert_msg(eg_unit_mcast_reason(buf, n, NULL)
                  == EG_MCAST_DROP_MALFORMED, "spoil %lu in clear",
                  (unsigned long) spoil);

    n = eg_mcast_encode(&a, EG_UNIT_CLUSTER, &eg_unit_kr1, eg_unit_nonce,
                        buf);
    ck_assert_uint_gt(n, 0);

    ck_assert_msg(eg_unit_mcast_reason(buf, n, &eg_unit_kr1)
                  == EG_MCAST_DROP_MALFORMED, "spoil %lu sealed",
                  (unsigned long) spoil);
}


START_TEST(interval_out_of_range_is_dropped_as_malformed)
{
    eg_unit_mcast_bad_field(EG_UNIT_SPOIL_INTERVAL_LOW);
    eg_unit_mcast_bad_field(EG_UNIT_SPOIL_INTERVAL_HIGH);
}
END_TEST


START_TEST(address_no_one_can_be_reached_at_is_dropped_as_malformed)
{
    eg_unit_mcast_bad_field(EG_UNIT_SPOIL_PORT);
    eg_unit_mcast_bad_field(EG_UNIT_SPOIL_WILDCARD);
    eg_unit_mcast_bad_field(EG_UNIT_SPOIL_GROUP);
    eg_unit_mcast_bad_field(EG_UNIT_SPOIL_WILDCARD6);
    eg_unit_mcast_bad_field(EG_UNIT_SPOIL_GROUP6);
}
END_TEST


START_TEST(id_that_is_no_node_id_is_dropped_as_malformed)
{
    eg_unit_mcast_bad_field(EG_UNIT_SPOIL_ID_SPACE);
    eg_unit_mcast_bad_field(EG_UNIT_SPOIL_ID_QUOTE);
    eg_unit_mcast_bad_field(EG_UNIT_SPOIL_ID_CONTROL);
}
END_TEST


START_TEST(empty_id_or_bad_family_in_the_bytes_is_dropped_as_malformed)
{
    u_char  buf[EG_MCAST_MAX];
    size_t  n;

    n = eg_unit_mcast_encode(NULL, NULL, buf);

    /* the id length, 2, made 0: two bytes too many */
    buf[n - 3] = 0;
    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, NULL),
                      EG_MCAST_DROP_MALFORMED);
    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n - 2, NULL),
                      EG_MCAST_DROP_MALFORMED);

    /* the address family, 4, made 5 */
    n = eg_unit_mcast_encode(NULL, NULL, buf);
    buf[22] = 5;
    ck_assert_uint_eq(eg_unit_mcast_reason(buf, n, NULL),
                      EG_MCAST_DROP_MALFORMED);
}
END_TEST


START_TEST(encoder_refuses_what_it_cannot_write)
{
    u_char               buf[EG_MCAST_MAX];
    eg_mcast_announce_t  a;

    eg_unit_mcast_announce(&a);
    a.id_len = 0;
    ck_assert_uint_eq(eg_mcast_encode(&a, 1, NULL, eg_unit_nonce, buf), 0);

    eg_unit_mcast_announce(&a);
    a.id_len = EG_SWIM_ID_MAX + 1;
    ck_assert_uint_eq(eg_mcast_encode(&a, 1, NULL, eg_unit_nonce, buf), 0);

    eg_unit_mcast_announce(&a);
    a.addr.family = 5;
    ck_assert_uint_eq(eg_mcast_encode(&a, 1, NULL, eg_unit_nonce, buf), 0);
}
END_TEST


START_TEST(every_drop_reason_has_a_name)
{
    eg_uint_t  i;

    for (i = 0; i < EG_MCAST_DROP_REASONS; i++) {
        ck_assert_ptr_nonnull(eg_mcast_drop_reasons[i]);
    }

    ck_assert_str_eq(eg_mcast_drop_reasons[EG_MCAST_DROP_DECRYPT],
                     "decrypt");
    ck_assert_str_eq(eg_mcast_drop_reasons[EG_MCAST_DROP_STALE], "stale");
}
END_TEST


Suite *
eg_unit_mcast_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("mcast");

    tc = tcase_create("codec");
    tcase_add_checked_fixture(tc, eg_unit_mcast_setup, NULL);

    tcase_add_test(tc, announcement_in_clear_is_the_documented_bytes);
    tcase_add_test(tc, announcement_in_clear_survives_the_round_trip);
    tcase_add_test(tc, sealed_ipv6_announcement_survives_the_round_trip);
    tcase_add_test(tc, sealed_announcement_hides_the_id);
    tcase_add_test(tc, any_key_of_the_keyring_opens_an_announcement);
    tcase_add_test(tc, encoder_refuses_what_it_cannot_write);
    tcase_add_test(tc, every_drop_reason_has_a_name);
    suite_add_tcase(s, tc);

    tc = tcase_create("drops");
    tcase_add_checked_fixture(tc, eg_unit_mcast_setup, NULL);

    tcase_add_test(tc, shorter_than_a_header_is_dropped_as_short);
    tcase_add_test(tc, gossip_datagram_is_dropped_as_magic);
    tcase_add_test(tc, unknown_version_is_dropped_as_version);
    tcase_add_test(tc, unknown_flag_is_dropped_as_version);
    tcase_add_test(tc, another_clusters_announcement_is_dropped_as_cluster);
    tcase_add_test(tc, sealed_with_another_key_is_dropped_as_decrypt);
    tcase_add_test(tc, sealed_without_keys_is_dropped_as_decrypt);
    tcase_add_test(tc, any_changed_byte_of_a_sealed_one_is_dropped);
    tcase_add_test(tc, in_clear_with_keys_is_dropped_as_plaintext);
    tcase_add_test(tc, truncated_body_is_dropped_as_malformed);
    tcase_add_test(tc, trailing_byte_is_dropped_as_malformed);
    tcase_add_test(tc,
        datagram_longer_than_any_announcement_is_dropped_as_malformed);
    tcase_add_test(tc, interval_out_of_range_is_dropped_as_malformed);
    tcase_add_test(tc,
        address_no_one_can_be_reached_at_is_dropped_as_malformed);
    tcase_add_test(tc, id_that_is_no_node_id_is_dropped_as_malformed);
    tcase_add_test(tc,
        empty_id_or_bad_family_in_the_bytes_is_dropped_as_malformed);
    suite_add_tcase(s, tc);

    return s;
}

#else

/* built without the multicast method: nothing to test */

Suite *
eg_unit_mcast_suite(void)
{
    return suite_create("mcast");
}

#endif
