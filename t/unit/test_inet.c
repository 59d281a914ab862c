/*
 * Addresses: "host:port" parsing with its flags, CIDR blocks and
 * matching (IPv4, IPv6, IPv4-mapped), formatting and comparison.
 */

#include <eg_unit.h>


static eg_log_t    eg_unit_quiet_log;
static eg_pool_t  *pool;


static void
eg_unit_inet_setup(void)
{
    eg_memzero(&eg_unit_quiet_log, sizeof(eg_log_t));
    eg_unit_quiet_log.log_level = EG_LOG_EMERG;

    pool = eg_create_pool(4096, &eg_unit_quiet_log);
    ck_assert_ptr_nonnull(pool);
}


static void
eg_unit_inet_teardown(void)
{
    eg_destroy_pool(pool);
    pool = NULL;
}


static eg_int_t
eg_unit_url(eg_url_t *u, const char *text, in_port_t port, eg_uint_t flags)
{
    eg_str_t  s;

    s.len = strlen(text);
    s.data = (u_char *) text;

    return eg_parse_url(pool, u, &s, port, flags);
}


static eg_int_t
eg_unit_cidr(eg_cidr_t *cidr, const char *text)
{
    eg_str_t  s;

    s.len = strlen(text);
    s.data = (u_char *) text;

    eg_memzero(cidr, sizeof(eg_cidr_t));

    return eg_ptocidr(&s, cidr);
}


static void
eg_unit_sockaddr(eg_sockaddr_t *sa, socklen_t *socklen, const char *addr,
    in_port_t port)
{
    eg_str_t  s;

    s.len = strlen(addr);
    s.data = (u_char *) addr;

    ck_assert_int_eq(eg_parse_addr(&s, sa, socklen), EG_OK);
    eg_inet_set_port(&sa->sockaddr, port);
}


static eg_uint_t
eg_unit_match(eg_cidr_t *cidr, const char *addr)
{
    socklen_t      socklen;
    eg_sockaddr_t  sa;

    eg_unit_sockaddr(&sa, &socklen, addr, 0);

    return eg_cidr_match(cidr, &sa.sockaddr);
}


/* eg_parse_url */

START_TEST(parse_url_reads_ipv4_and_port)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "1.2.3.4:80", 0, 0), EG_OK);

    eg_unit_assert_str_eq(&u.host, "1.2.3.4");
    ck_assert_uint_eq(u.port, 80);
    ck_assert(u.literal);
    ck_assert(!u.wildcard);
    ck_assert(!u.no_port);
    ck_assert_int_eq(u.addr.sa.sockaddr.sa_family, AF_INET);
    ck_assert_uint_eq(u.addr.socklen, sizeof(struct sockaddr_in));
    ck_assert_uint_eq(eg_inet_get_port(&u.addr.sa.sockaddr), 80);
    ck_assert_str_eq((char *) u.addr.name.data, "1.2.3.4:80");
}
END_TEST


START_TEST(parse_url_reads_bracketed_ipv6_and_port)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "[::1]:80", 0, 0), EG_OK);

    eg_unit_assert_str_eq(&u.host, "::1");
    ck_assert_uint_eq(u.port, 80);
    ck_assert(u.literal);
    ck_assert_int_eq(u.addr.sa.sockaddr.sa_family, AF_INET6);
    ck_assert_str_eq((char *) u.addr.name.data, "[::1]:80");
}
END_TEST


START_TEST(parse_url_takes_bare_ipv6_when_the_port_is_optional)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "::1", 7946, EG_URL_PORT_OPTIONAL),
                     EG_OK);

    eg_unit_assert_str_eq(&u.host, "::1");
    ck_assert(u.no_port);
    ck_assert_uint_eq(u.port, 7946);
    ck_assert_int_eq(u.addr.sa.sockaddr.sa_family, AF_INET6);
    ck_assert_str_eq((char *) u.addr.name.data, "[::1]:7946");
}
END_TEST


START_TEST(parse_url_refuses_bare_ipv6_when_a_port_is_required)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "::1", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "no port");
}
END_TEST


START_TEST(parse_url_takes_bracketed_ipv6_without_port_when_optional)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "[fe80::1]", 9, EG_URL_PORT_OPTIONAL),
                     EG_OK);

    eg_unit_assert_str_eq(&u.host, "fe80::1");
    ck_assert(u.no_port);
    ck_assert_uint_eq(u.port, 9);
}
END_TEST


START_TEST(parse_url_reads_a_wildcard_host)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "*:80", 0, 0), EG_OK);

    ck_assert(u.wildcard);
    ck_assert(u.literal);
    ck_assert_uint_eq(u.host.len, 0);
    ck_assert_uint_eq(u.port, 80);
    ck_assert(eg_inet_wildcard(&u.addr.sa.sockaddr));
    ck_assert_str_eq((char *) u.addr.name.data, "0.0.0.0:80");
}
END_TEST


START_TEST(parse_url_reads_a_port_alone_when_the_host_is_optional)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "8081", 0, EG_URL_HOST_OPTIONAL),
                     EG_OK);

    ck_assert(u.wildcard);
    ck_assert(!u.no_port);
    ck_assert_uint_eq(u.port, 8081);
    ck_assert_str_eq((char *) u.addr.name.data, "0.0.0.0:8081");
}
END_TEST


START_TEST(parse_url_refuses_a_number_alone_as_a_host)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "8081", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "no port");

    /* getaddrinfo() would read "8081" as the address 0.0.31.145 */
    ck_assert_int_eq(eg_unit_url(&u, "8081", 5, EG_URL_PORT_OPTIONAL),
                     EG_ERROR);
    ck_assert_str_eq(u.err, "invalid host name");
}
END_TEST


START_TEST(parse_url_refuses_a_port_out_of_range_alone)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "70000", 5,
                                 EG_URL_HOST_OPTIONAL|EG_URL_PORT_OPTIONAL),
                     EG_ERROR);
    ck_assert_str_eq(u.err, "invalid port");

    ck_assert_int_eq(eg_unit_url(&u, "0", 5,
                                 EG_URL_HOST_OPTIONAL|EG_URL_PORT_OPTIONAL),
                     EG_ERROR);
    ck_assert_str_eq(u.err, "invalid port");
}
END_TEST


START_TEST(parse_url_reads_an_empty_host_as_wildcard_when_optional)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, ":80", 0, EG_URL_HOST_OPTIONAL), EG_OK);
    ck_assert(u.wildcard);
    ck_assert_uint_eq(u.port, 80);
}
END_TEST


START_TEST(parse_url_refuses_an_empty_host_otherwise)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, ":80", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "no host");
}
END_TEST


START_TEST(parse_url_keeps_a_host_name_unresolved)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "seed-1.example.com:7946", 0, 0),
                     EG_OK);

    eg_unit_assert_str_eq(&u.host, "seed-1.example.com");
    ck_assert_uint_eq(u.port, 7946);
    ck_assert(!u.literal);
    ck_assert(!u.wildcard);
}
END_TEST


START_TEST(parse_url_takes_a_host_name_without_port_when_optional)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "localhost", 7946,
                                 EG_URL_PORT_OPTIONAL),
                     EG_OK);

    eg_unit_assert_str_eq(&u.host, "localhost");
    ck_assert(u.no_port);
    ck_assert_uint_eq(u.port, 7946);
}
END_TEST


START_TEST(parse_url_rejects_an_invalid_host_name)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "bad!host:80", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid host name");

    ck_assert_int_eq(eg_unit_url(&u, "-lead:80", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid host name");

    ck_assert_int_eq(eg_unit_url(&u, ".lead:80", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid host name");
}
END_TEST


START_TEST(parse_url_rejects_port_zero)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "1.2.3.4:0", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid port");
}
END_TEST


START_TEST(parse_url_accepts_port_zero_when_allowed)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "1.2.3.4:0", 0, EG_URL_PORT_ZERO),
                     EG_OK);
    ck_assert_uint_eq(u.port, 0);
}
END_TEST


START_TEST(parse_url_accepts_port_65535)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "1.2.3.4:65535", 0, 0), EG_OK);
    ck_assert_uint_eq(u.port, 65535);
}
END_TEST


START_TEST(parse_url_rejects_port_65536)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "1.2.3.4:65536", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid port");

    ck_assert_int_eq(eg_unit_url(&u, "1.2.3.4:000080", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid port");
}
END_TEST


START_TEST(parse_url_rejects_an_empty_port)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "1.2.3.4:", 0, EG_URL_PORT_OPTIONAL),
                     EG_ERROR);
    ck_assert_str_eq(u.err, "invalid port");

    ck_assert_int_eq(eg_unit_url(&u, "[::1]:", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid port");
}
END_TEST


START_TEST(parse_url_rejects_a_port_that_is_not_a_number)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "1.2.3.4:http", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid port");

    ck_assert_int_eq(eg_unit_url(&u, "1.2.3.4:-1", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid port");
}
END_TEST


START_TEST(parse_url_requires_a_port_unless_optional)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "1.2.3.4", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "no port");
}
END_TEST


START_TEST(parse_url_rejects_a_missing_closing_bracket)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "[::1:80", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "missing \"]\" in IPv6 address");
}
END_TEST


START_TEST(parse_url_rejects_text_after_the_closing_bracket)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "[::1]80", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid character after \"]\"");
}
END_TEST


START_TEST(parse_url_rejects_ipv4_in_brackets)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "[1.2.3.4]:80", 0, 0), EG_ERROR);
    ck_assert_str_eq(u.err, "invalid IPv6 address");
}
END_TEST


START_TEST(parse_url_rejects_a_malformed_bare_ipv6)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "1::2::3", 0, EG_URL_PORT_OPTIONAL),
                     EG_ERROR);
    ck_assert_str_eq(u.err, "invalid IPv6 address");
}
END_TEST


START_TEST(parse_url_rejects_an_empty_address)
{
    eg_url_t  u;

    ck_assert_int_eq(eg_unit_url(&u, "", 0, EG_URL_PORT_OPTIONAL
                                            |EG_URL_HOST_OPTIONAL),
                     EG_ERROR);
    ck_assert_str_eq(u.err, "empty address");
}
END_TEST


START_TEST(parse_url_without_a_pool_leaves_the_name_unset)
{
    eg_str_t  s = eg_string("10.0.0.1:7946");
    eg_url_t  u;

    ck_assert_int_eq(eg_parse_url(NULL, &u, &s, 0, 0), EG_OK);

    ck_assert(u.literal);
    ck_assert_uint_eq(u.addr.name.len, 0);
    ck_assert_uint_eq(eg_inet_get_port(&u.addr.sa.sockaddr), 7946);
}
END_TEST


/* eg_parse_addr */

START_TEST(parse_addr_reads_ipv4_and_ipv6)
{
    eg_str_t       v4 = eg_string("192.168.0.1");
    eg_str_t       v6 = eg_string("2001:db8::1");
    socklen_t      socklen;
    eg_sockaddr_t  sa;

    ck_assert_int_eq(eg_parse_addr(&v4, &sa, &socklen), EG_OK);
    ck_assert_int_eq(sa.sockaddr.sa_family, AF_INET);
    ck_assert_uint_eq(socklen, sizeof(struct sockaddr_in));

    ck_assert_int_eq(eg_parse_addr(&v6, &sa, &socklen), EG_OK);
    ck_assert_int_eq(sa.sockaddr.sa_family, AF_INET6);
    ck_assert_uint_eq(socklen, sizeof(struct sockaddr_in6));
}
END_TEST


START_TEST(parse_addr_rejects_partial_and_overlong_text)
{
    eg_str_t       partial = eg_string("1.2.3");
    eg_str_t       name = eg_string("localhost");
    eg_str_t       empty = eg_string("");
    eg_str_t       longer =
        eg_string("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2550");
    socklen_t      socklen;
    eg_sockaddr_t  sa;

    ck_assert_int_eq(eg_parse_addr(&partial, &sa, &socklen), EG_ERROR);
    ck_assert_int_eq(eg_parse_addr(&name, &sa, &socklen), EG_ERROR);
    ck_assert_int_eq(eg_parse_addr(&empty, &sa, &socklen), EG_ERROR);
    ck_assert_int_eq(eg_parse_addr(&longer, &sa, &socklen), EG_ERROR);
}
END_TEST


/* eg_ptocidr */

START_TEST(ptocidr_reads_an_ipv4_block)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "10.0.0.0/8"), EG_OK);

    ck_assert_int_eq(cidr.family, AF_INET);
    ck_assert_uint_eq(ntohl(cidr.u.in.addr), 0x0a000000);
    ck_assert_uint_eq(ntohl(cidr.u.in.mask), 0xff000000);
}
END_TEST


START_TEST(ptocidr_reads_an_odd_prefix_length)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "172.16.0.0/12"), EG_OK);
    ck_assert_uint_eq(ntohl(cidr.u.in.mask), 0xfff00000);
}
END_TEST


START_TEST(ptocidr_reads_an_address_alone_as_a_host_block)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "1.2.3.4"), EG_OK);
    ck_assert_uint_eq(cidr.u.in.mask, 0xffffffff);
    ck_assert_uint_eq(ntohl(cidr.u.in.addr), 0x01020304);
}
END_TEST


START_TEST(ptocidr_returns_done_and_clears_host_bits)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "10.1.2.3/8"), EG_DONE);
    ck_assert_uint_eq(ntohl(cidr.u.in.addr), 0x0a000000);
}
END_TEST


START_TEST(ptocidr_reads_an_ipv6_block)
{
    u_char     mask[16] = { 0xff, 0xc0 };
    u_char     addr[16] = { 0xfe, 0x80 };
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "fe80::/10"), EG_OK);

    ck_assert_int_eq(cidr.family, AF_INET6);
    ck_assert_mem_eq(cidr.u.in6.mask, mask, 16);
    ck_assert_mem_eq(cidr.u.in6.addr, addr, 16);
}
END_TEST


START_TEST(ptocidr_returns_done_for_ipv6_host_bits)
{
    u_char     addr[16] = { 0xfe, 0x80 };
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "fe80::1/10"), EG_DONE);
    ck_assert_mem_eq(cidr.u.in6.addr, addr, 16);
}
END_TEST


START_TEST(ptocidr_reads_an_ipv6_address_alone_as_a_host_block)
{
    u_char     ones[16];
    eg_cidr_t  cidr;

    eg_memset(ones, 0xff, 16);

    ck_assert_int_eq(eg_unit_cidr(&cidr, "::1"), EG_OK);
    ck_assert_mem_eq(cidr.u.in6.mask, ones, 16);
}
END_TEST


START_TEST(ptocidr_rejects_a_prefix_too_long)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "10.0.0.0/33"), EG_ERROR);
    ck_assert_int_eq(eg_unit_cidr(&cidr, "::/129"), EG_ERROR);
}
END_TEST


START_TEST(ptocidr_rejects_a_malformed_prefix)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "10.0.0.0/"), EG_ERROR);
    ck_assert_int_eq(eg_unit_cidr(&cidr, "10.0.0.0/x"), EG_ERROR);
    ck_assert_int_eq(eg_unit_cidr(&cidr, "10.0.0.0/-1"), EG_ERROR);
    ck_assert_int_eq(eg_unit_cidr(&cidr, "example.com/8"), EG_ERROR);
    ck_assert_int_eq(eg_unit_cidr(&cidr, "/8"), EG_ERROR);
}
END_TEST


/* eg_cidr_match */

START_TEST(cidr_match_checks_ipv4_membership)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "192.168.0.0/16"), EG_OK);

    ck_assert(eg_unit_match(&cidr, "192.168.1.2"));
    ck_assert(eg_unit_match(&cidr, "192.168.255.255"));
    ck_assert(!eg_unit_match(&cidr, "192.169.0.1"));
    ck_assert(!eg_unit_match(&cidr, "10.0.0.1"));
}
END_TEST


START_TEST(cidr_match_checks_ipv6_membership)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "2001:db8::/32"), EG_OK);

    ck_assert(eg_unit_match(&cidr, "2001:db8::1"));
    ck_assert(eg_unit_match(&cidr, "2001:db8:ffff::1"));
    ck_assert(!eg_unit_match(&cidr, "2001:db9::1"));
}
END_TEST


START_TEST(cidr_match_applies_ipv4_blocks_to_ipv4_mapped_peers)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "10.0.0.0/8"), EG_OK);

    ck_assert(eg_unit_match(&cidr, "::ffff:10.1.2.3"));
    ck_assert(!eg_unit_match(&cidr, "::ffff:11.1.2.3"));
}
END_TEST


START_TEST(cidr_match_refuses_ipv6_peers_for_ipv4_blocks)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "0.0.0.0/0"), EG_OK);

    ck_assert(!eg_unit_match(&cidr, "::1"));
    ck_assert(!eg_unit_match(&cidr, "::a00:1"));   /* IPv4-compatible */
}
END_TEST


START_TEST(cidr_match_refuses_ipv4_peers_for_ipv6_blocks)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "::/0"), EG_OK);

    ck_assert(!eg_unit_match(&cidr, "10.0.0.1"));
    ck_assert(eg_unit_match(&cidr, "::ffff:10.0.0.1"));
}
END_TEST


START_TEST(cidr_match_of_a_zero_prefix_admits_every_ipv4_address)
{
    eg_cidr_t  cidr;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "0.0.0.0/0"), EG_OK);

    ck_assert(eg_unit_match(&cidr, "1.2.3.4"));
    ck_assert(eg_unit_match(&cidr, "255.255.255.255"));
}
END_TEST


START_TEST(cidr_match_refuses_other_families)
{
    eg_cidr_t           cidr;
    struct sockaddr_un  sun;

    ck_assert_int_eq(eg_unit_cidr(&cidr, "0.0.0.0/0"), EG_OK);

    eg_memzero(&sun, sizeof(sun));
    sun.sun_family = AF_UNIX;

    ck_assert(!eg_cidr_match(&cidr, (struct sockaddr *) &sun));
}
END_TEST


/* eg_sock_ntop, eg_cmp_sockaddr and friends */

START_TEST(sock_ntop_formats_ipv4_with_and_without_port)
{
    u_char         text[EG_SOCKADDR_STRLEN + 1];
    size_t         n;
    socklen_t      socklen;
    eg_sockaddr_t  sa;

    eg_unit_sockaddr(&sa, &socklen, "10.0.0.1", 7946);

    n = eg_sock_ntop(&sa.sockaddr, socklen, text, sizeof(text), 1);
    ck_assert_str_eq((char *) text, "10.0.0.1:7946");
    ck_assert_uint_eq(n, 13);

    n = eg_sock_ntop(&sa.sockaddr, socklen, text, sizeof(text), 0);
    ck_assert_str_eq((char *) text, "10.0.0.1");
    ck_assert_uint_eq(n, 8);
}
END_TEST


START_TEST(sock_ntop_brackets_ipv6_with_port)
{
    u_char         text[EG_SOCKADDR_STRLEN + 1];
    socklen_t      socklen;
    eg_sockaddr_t  sa;

    eg_unit_sockaddr(&sa, &socklen, "2001:db8::1", 443);

    (void) eg_sock_ntop(&sa.sockaddr, socklen, text, sizeof(text), 1);
    ck_assert_str_eq((char *) text, "[2001:db8::1]:443");

    (void) eg_sock_ntop(&sa.sockaddr, socklen, text, sizeof(text), 0);
    ck_assert_str_eq((char *) text, "2001:db8::1");
}
END_TEST


START_TEST(sock_ntop_fits_the_longest_address)
{
    u_char         text[EG_SOCKADDR_STRLEN + 1];
    size_t         n;
    socklen_t      socklen;
    eg_sockaddr_t  sa;

    eg_unit_sockaddr(&sa, &socklen, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                     65535);

    n = eg_sock_ntop(&sa.sockaddr, socklen, text, sizeof(text), 1);

    ck_assert_str_eq((char *) text,
                     "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    ck_assert_uint_eq(n, strlen((char *) text));
}
END_TEST


START_TEST(sock_ntop_truncates_to_the_buffer)
{
    u_char         text[8];
    size_t         n;
    socklen_t      socklen;
    eg_sockaddr_t  sa;

    eg_unit_sockaddr(&sa, &socklen, "192.168.100.200", 80);

    n = eg_sock_ntop(&sa.sockaddr, socklen, text, sizeof(text), 1);

    ck_assert_uint_eq(n, 7);
    ck_assert_str_eq((char *) text, "192.168");
}
END_TEST


START_TEST(sock_ntop_formats_unix_sockets)
{
    u_char              text[128];
    struct sockaddr_un  sun;

    eg_memzero(&sun, sizeof(sun));
    sun.sun_family = AF_UNIX;
    (void) strcpy(sun.sun_path, "/run/engram.sock");

    (void) eg_sock_ntop((struct sockaddr *) &sun, sizeof(sun), text,
                        sizeof(text), 1);

    ck_assert_str_eq((char *) text, "unix:/run/engram.sock");
}
END_TEST


START_TEST(sock_ntop_returns_zero_for_unknown_families)
{
    u_char           text[16];
    struct sockaddr  sa;

    eg_memzero(&sa, sizeof(sa));
    sa.sa_family = AF_UNSPEC;

    ck_assert_uint_eq(eg_sock_ntop(&sa, sizeof(sa), text, sizeof(text), 1),
                      0);
}
END_TEST


START_TEST(cmp_sockaddr_matches_equal_ipv4_addresses)
{
    socklen_t      l1, l2;
    eg_sockaddr_t  a, b;

    eg_unit_sockaddr(&a, &l1, "10.0.0.1", 80);
    eg_unit_sockaddr(&b, &l2, "10.0.0.1", 80);

    ck_assert_int_eq(eg_cmp_sockaddr(&a.sockaddr, l1, &b.sockaddr, l2, 1),
                     EG_OK);
}
END_TEST


START_TEST(cmp_sockaddr_compares_ports_only_when_asked)
{
    socklen_t      l1, l2;
    eg_sockaddr_t  a, b;

    eg_unit_sockaddr(&a, &l1, "10.0.0.1", 80);
    eg_unit_sockaddr(&b, &l2, "10.0.0.1", 81);

    ck_assert_int_eq(eg_cmp_sockaddr(&a.sockaddr, l1, &b.sockaddr, l2, 1),
                     EG_DECLINED);
    ck_assert_int_eq(eg_cmp_sockaddr(&a.sockaddr, l1, &b.sockaddr, l2, 0),
                     EG_OK);
}
END_TEST


START_TEST(cmp_sockaddr_tells_different_addresses_apart)
{
    socklen_t      l1, l2;
    eg_sockaddr_t  a, b;

    eg_unit_sockaddr(&a, &l1, "10.0.0.1", 80);
    eg_unit_sockaddr(&b, &l2, "10.0.0.2", 80);
    ck_assert_int_eq(eg_cmp_sockaddr(&a.sockaddr, l1, &b.sockaddr, l2, 0),
                     EG_DECLINED);

    eg_unit_sockaddr(&a, &l1, "::1", 80);
    eg_unit_sockaddr(&b, &l2, "::2", 80);
    ck_assert_int_eq(eg_cmp_sockaddr(&a.sockaddr, l1, &b.sockaddr, l2, 0),
                     EG_DECLINED);
}
END_TEST


START_TEST(cmp_sockaddr_matches_equal_ipv6_addresses)
{
    socklen_t      l1, l2;
    eg_sockaddr_t  a, b;

    eg_unit_sockaddr(&a, &l1, "2001:db8::1", 7946);
    eg_unit_sockaddr(&b, &l2, "2001:db8:0::1", 7946);

    ck_assert_int_eq(eg_cmp_sockaddr(&a.sockaddr, l1, &b.sockaddr, l2, 1),
                     EG_OK);

    eg_inet_set_port(&b.sockaddr, 7947);
    ck_assert_int_eq(eg_cmp_sockaddr(&a.sockaddr, l1, &b.sockaddr, l2, 1),
                     EG_DECLINED);
}
END_TEST


START_TEST(cmp_sockaddr_never_matches_across_families)
{
    socklen_t      l1, l2;
    eg_sockaddr_t  a, b;

    eg_unit_sockaddr(&a, &l1, "10.0.0.1", 80);
    eg_unit_sockaddr(&b, &l2, "::ffff:10.0.0.1", 80);

    ck_assert_int_eq(eg_cmp_sockaddr(&a.sockaddr, l1, &b.sockaddr, l2, 0),
                     EG_DECLINED);
}
END_TEST


START_TEST(cmp_sockaddr_compares_unix_sockets_bytewise)
{
    struct sockaddr_un  a, b;

    eg_memzero(&a, sizeof(a));
    eg_memzero(&b, sizeof(b));
    a.sun_family = AF_UNIX;
    b.sun_family = AF_UNIX;
    (void) strcpy(a.sun_path, "/run/a.sock");
    (void) strcpy(b.sun_path, "/run/a.sock");

    ck_assert_int_eq(eg_cmp_sockaddr((struct sockaddr *) &a, sizeof(a),
                                     (struct sockaddr *) &b, sizeof(b), 1),
                     EG_OK);

    b.sun_path[5] = 'b';

    ck_assert_int_eq(eg_cmp_sockaddr((struct sockaddr *) &a, sizeof(a),
                                     (struct sockaddr *) &b, sizeof(b), 1),
                     EG_DECLINED);
}
END_TEST


START_TEST(inet_set_port_stores_network_order)
{
    socklen_t      socklen;
    eg_sockaddr_t  sa;

    eg_unit_sockaddr(&sa, &socklen, "10.0.0.1", 0x1234);

    ck_assert_uint_eq(sa.sockaddr_in.sin_port, htons(0x1234));
    ck_assert_uint_eq(eg_inet_get_port(&sa.sockaddr), 0x1234);

    eg_unit_sockaddr(&sa, &socklen, "::1", 0x4321);

    ck_assert_uint_eq(sa.sockaddr_in6.sin6_port, htons(0x4321));
    ck_assert_uint_eq(eg_inet_get_port(&sa.sockaddr), 0x4321);
}
END_TEST


START_TEST(inet_wildcard_recognizes_any_addresses)
{
    socklen_t      socklen;
    eg_sockaddr_t  sa;

    eg_unit_sockaddr(&sa, &socklen, "0.0.0.0", 80);
    ck_assert(eg_inet_wildcard(&sa.sockaddr));

    eg_unit_sockaddr(&sa, &socklen, "::", 80);
    ck_assert(eg_inet_wildcard(&sa.sockaddr));

    eg_unit_sockaddr(&sa, &socklen, "127.0.0.1", 80);
    ck_assert(!eg_inet_wildcard(&sa.sockaddr));
}
END_TEST


Suite *
eg_unit_inet_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("inet");

    tc = tcase_create("url");
    tcase_add_checked_fixture(tc, eg_unit_inet_setup, eg_unit_inet_teardown);
    tcase_add_test(tc, parse_url_reads_ipv4_and_port);
    tcase_add_test(tc, parse_url_reads_bracketed_ipv6_and_port);
    tcase_add_test(tc, parse_url_takes_bare_ipv6_when_the_port_is_optional);
    tcase_add_test(tc, parse_url_refuses_bare_ipv6_when_a_port_is_required);
    tcase_add_test(tc,
                   parse_url_takes_bracketed_ipv6_without_port_when_optional);
    tcase_add_test(tc, parse_url_reads_a_wildcard_host);
    tcase_add_test(tc, parse_url_reads_a_port_alone_when_the_host_is_optional);
    tcase_add_test(tc, parse_url_refuses_a_number_alone_as_a_host);
    tcase_add_test(tc, parse_url_refuses_a_port_out_of_range_alone);
    tcase_add_test(tc,
                   parse_url_reads_an_empty_host_as_wildcard_when_optional);
    tcase_add_test(tc, parse_url_refuses_an_empty_host_otherwise);
    tcase_add_test(tc, parse_url_keeps_a_host_name_unresolved);
    tcase_add_test(tc,
                   parse_url_takes_a_host_name_without_port_when_optional);
    tcase_add_test(tc, parse_url_rejects_an_invalid_host_name);
    tcase_add_test(tc, parse_url_rejects_port_zero);
    tcase_add_test(tc, parse_url_accepts_port_zero_when_allowed);
    tcase_add_test(tc, parse_url_accepts_port_65535);
    tcase_add_test(tc, parse_url_rejects_port_65536);
    tcase_add_test(tc, parse_url_rejects_an_empty_port);
    tcase_add_test(tc, parse_url_rejects_a_port_that_is_not_a_number);
    tcase_add_test(tc, parse_url_requires_a_port_unless_optional);
    tcase_add_test(tc, parse_url_rejects_a_missing_closing_bracket);
    tcase_add_test(tc, parse_url_rejects_text_after_the_closing_bracket);
    tcase_add_test(tc, parse_url_rejects_ipv4_in_brackets);
    tcase_add_test(tc, parse_url_rejects_a_malformed_bare_ipv6);
    tcase_add_test(tc, parse_url_rejects_an_empty_address);
    tcase_add_test(tc, parse_url_without_a_pool_leaves_the_name_unset);
    tcase_add_test(tc, parse_addr_reads_ipv4_and_ipv6);
    tcase_add_test(tc, parse_addr_rejects_partial_and_overlong_text);
    suite_add_tcase(s, tc);

    tc = tcase_create("cidr");
    tcase_add_test(tc, ptocidr_reads_an_ipv4_block);
    tcase_add_test(tc, ptocidr_reads_an_odd_prefix_length);
    tcase_add_test(tc, ptocidr_reads_an_address_alone_as_a_host_block);
    tcase_add_test(tc, ptocidr_returns_done_and_clears_host_bits);
    tcase_add_test(tc, ptocidr_reads_an_ipv6_block);
    tcase_add_test(tc, ptocidr_returns_done_for_ipv6_host_bits);
    tcase_add_test(tc, ptocidr_reads_an_ipv6_address_alone_as_a_host_block);
    tcase_add_test(tc, ptocidr_rejects_a_prefix_too_long);
    tcase_add_test(tc, ptocidr_rejects_a_malformed_prefix);
    tcase_add_test(tc, cidr_match_checks_ipv4_membership);
    tcase_add_test(tc, cidr_match_checks_ipv6_membership);
    tcase_add_test(tc, cidr_match_applies_ipv4_blocks_to_ipv4_mapped_peers);
    tcase_add_test(tc, cidr_match_refuses_ipv6_peers_for_ipv4_blocks);
    tcase_add_test(tc, cidr_match_refuses_ipv4_peers_for_ipv6_blocks);
    tcase_add_test(tc,
                   cidr_match_of_a_zero_prefix_admits_every_ipv4_address);
    tcase_add_test(tc, cidr_match_refuses_other_families);
    suite_add_tcase(s, tc);

    tc = tcase_create("sockaddr");
    tcase_add_test(tc, sock_ntop_formats_ipv4_with_and_without_port);
    tcase_add_test(tc, sock_ntop_brackets_ipv6_with_port);
    tcase_add_test(tc, sock_ntop_fits_the_longest_address);
    tcase_add_test(tc, sock_ntop_truncates_to_the_buffer);
    tcase_add_test(tc, sock_ntop_formats_unix_sockets);
    tcase_add_test(tc, sock_ntop_returns_zero_for_unknown_families);
    tcase_add_test(tc, cmp_sockaddr_matches_equal_ipv4_addresses);
    tcase_add_test(tc, cmp_sockaddr_compares_ports_only_when_asked);
    tcase_add_test(tc, cmp_sockaddr_tells_different_addresses_apart);
    tcase_add_test(tc, cmp_sockaddr_matches_equal_ipv6_addresses);
    tcase_add_test(tc, cmp_sockaddr_never_matches_across_families);
    tcase_add_test(tc, cmp_sockaddr_compares_unix_sockets_bytewise);
    tcase_add_test(tc, inet_set_port_stores_network_order);
    tcase_add_test(tc, inet_wildcard_recognizes_any_addresses);
    suite_add_tcase(s, tc);

    return s;
}
