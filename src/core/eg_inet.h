/*
 * Addresses: socket addresses with their text, "host:port" parsing (IPv4,
 * [IPv6], names), CIDR blocks, and address comparison.
 */

#ifndef EG_INET_H_INCLUDED
#define EG_INET_H_INCLUDED


#define EG_INET_ADDRSTRLEN   (sizeof("255.255.255.255") - 1)
#define EG_INET6_ADDRSTRLEN                                                  \
    (sizeof("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255") - 1)
/* "[" addr "]:" port */
#define EG_SOCKADDR_STRLEN   (EG_INET6_ADDRSTRLEN + sizeof("[]:65535") - 1)


typedef union {
    struct sockaddr           sockaddr;
    struct sockaddr_in        sockaddr_in;
    struct sockaddr_in6       sockaddr_in6;
    struct sockaddr_un        sockaddr_un;
    struct sockaddr_storage   storage;
} eg_sockaddr_t;


typedef struct {
    eg_sockaddr_t       sa;
    socklen_t           socklen;
    eg_str_t            name;           /* "127.0.0.1:7946", "[::1]:80" */
} eg_addr_t;


/* allow the url to omit the port, or the host ("8081" = "*:8081") */
#define EG_URL_PORT_OPTIONAL    0x01
#define EG_URL_HOST_OPTIONAL    0x02
/* allow port 0, for "choose an ephemeral port" */
#define EG_URL_PORT_ZERO        0x04

typedef struct {
    eg_str_t            url;            /* as given */
    eg_str_t            host;           /* without brackets; "" for "*" */
    in_port_t           port;           /* host byte order */
    unsigned            no_port:1;      /* the url had no port */
    unsigned            wildcard:1;     /* "*" or no host */
    unsigned            literal:1;      /* host is an address: addr is set */
    eg_addr_t           addr;           /* when literal or wildcard */
    const char         *err;            /* why parsing failed */
} eg_url_t;


typedef struct {
    int                 family;         /* AF_INET or AF_INET6 */
    union {
        struct {
            in_addr_t   addr;           /* network order */
            in_addr_t   mask;
        } in;
        struct {
            u_char      addr[16];
            u_char      mask[16];
        } in6;
    } u;
} eg_cidr_t;


eg_int_t eg_parse_url(eg_pool_t *pool, eg_url_t *u, eg_str_t *text,
    in_port_t default_port, eg_uint_t flags);

/* resolves u->host with getaddrinfo(): config time only, it blocks */
eg_int_t eg_inet_resolve_host(eg_pool_t *pool, eg_url_t *u,
    eg_addr_t **addrs, eg_uint_t *naddrs);

/* "1.2.3.4", "::1" (no port); returns EG_OK or EG_ERROR */
eg_int_t eg_parse_addr(eg_str_t *text, eg_sockaddr_t *sa,
    socklen_t *socklen);

/* "10.0.0.0/8", "::1", "fe80::/10"; EG_DONE when host bits were set */
eg_int_t eg_ptocidr(eg_str_t *text, eg_cidr_t *cidr);
eg_uint_t eg_cidr_match(eg_cidr_t *cidr, struct sockaddr *sa);

size_t eg_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text,
    size_t len, eg_uint_t port);
eg_int_t eg_addr_set_name(eg_pool_t *pool, eg_addr_t *addr);

eg_int_t eg_cmp_sockaddr(struct sockaddr *sa1, socklen_t slen1,
    struct sockaddr *sa2, socklen_t slen2, eg_uint_t cmp_port);

in_port_t eg_inet_get_port(struct sockaddr *sa);
void eg_inet_set_port(struct sockaddr *sa, in_port_t port);
eg_uint_t eg_inet_wildcard(struct sockaddr *sa);

#endif /* EG_INET_H_INCLUDED */
