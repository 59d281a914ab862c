/*
 * Address parsing and formatting.  Parsing never resolves a name by itself:
 * the daemon resolves seeds asynchronously on every attempt, and only
 * config-time callers (listen) use the blocking eg_inet_resolve_host().
 */

#include <eg_config.h>
#include <eg_core.h>


static eg_int_t eg_parse_port(u_char *p, size_t len, eg_uint_t flags);
static eg_uint_t eg_valid_hostname(u_char *p, size_t len);


eg_int_t
eg_parse_addr(eg_str_t *text, eg_sockaddr_t *sa, socklen_t *socklen)
{
    char  buf[EG_INET6_ADDRSTRLEN + 1];

    if (text->len == 0 || text->len > EG_INET6_ADDRSTRLEN) {
        return EG_ERROR;
    }

    eg_memcpy(buf, text->data, text->len);
    buf[text->len] = '\0';

    eg_memzero(sa, sizeof(eg_sockaddr_t));

    if (inet_pton(AF_INET, buf, &sa->sockaddr_in.sin_addr) == 1) {
        sa->sockaddr_in.sin_family = AF_INET;
        *socklen = sizeof(struct sockaddr_in);
        return EG_OK;
    }

    if (inet_pton(AF_INET6, buf, &sa->sockaddr_in6.sin6_addr) == 1) {
        sa->sockaddr_in6.sin6_family = AF_INET6;
        *socklen = sizeof(struct sockaddr_in6);
        return EG_OK;
    }

    return EG_ERROR;
}


eg_int_t
eg_parse_url(eg_pool_t *pool, eg_url_t *u, eg_str_t *text,
    in_port_t default_port, eg_uint_t flags)
{
    u_char    *p, *last, *colon, *host_end;
    eg_int_t   port;
    eg_str_t   host, port_text;

    eg_str_null(&port_text);

    eg_memzero(u, sizeof(eg_url_t));
    u->url = *text;

    p = text->data;
    last = p + text->len;

    if (text->len == 0) {
        u->err = "empty address";
        return EG_ERROR;
    }

    colon = NULL;

    if (*p == '[') {
        host_end = eg_strlchr(p, last, ']');

        if (host_end == NULL) {
            u->err = "missing \"]\" in IPv6 address";
            return EG_ERROR;
        }

        host.data = p + 1;
        host.len = (size_t) (host_end - host.data);

        if (host_end + 1 < last) {
            if (host_end[1] != ':') {
                u->err = "invalid character after \"]\"";
                return EG_ERROR;
            }

            colon = host_end + 1;
        }

        if (eg_parse_addr(&host, &u->addr.sa, &u->addr.socklen) != EG_OK
            || u->addr.sa.sockaddr.sa_family != AF_INET6)
        {
            u->err = "invalid IPv6 address";
            return EG_ERROR;
        }

        u->literal = 1;

    } else {
        colon = eg_strlchr(p, last, ':');

        if (colon && eg_strlchr(colon + 1, last, ':')) {
            /* several colons: a bare IPv6 address, which has no port */
            colon = NULL;
            host.data = p;
            host.len = text->len;

            if (eg_parse_addr(&host, &u->addr.sa, &u->addr.socklen)
                != EG_OK)
            {
                u->err = "invalid IPv6 address";
                return EG_ERROR;
            }

            u->literal = 1;

        } else {
            host.data = p;
            host.len = colon ? (size_t) (colon - p) : text->len;

            if (colon == NULL
                && (flags & EG_URL_HOST_OPTIONAL)
                && eg_parse_port(p, text->len, flags) != EG_ERROR)
            {
                /* "8081" alone: a port on every address */
                host.len = 0;
                port_text = *text;
            }
        }
    }

    if (colon) {
        port_text.data = colon + 1;
        port_text.len = (size_t) (last - colon - 1);
    }

    if (port_text.data) {
        port = eg_parse_port(port_text.data, port_text.len, flags);

        if (port == EG_ERROR) {
            u->err = "invalid port";
            return EG_ERROR;
        }

        u->port = (in_port_t) port;

    } else {
        if (!(flags & EG_URL_PORT_OPTIONAL)) {
            u->err = "no port";
            return EG_ERROR;
        }

        u->no_port = 1;
        u->port = default_port;
    }

    u->host = host;

    if (!u->literal) {

        if (host.len == 0 || (host.len == 1 && host.data[0] == '*')) {
            if (host.len == 0 && !(flags & EG_URL_HOST_OPTIONAL)) {
                u->err = "no host";
                return EG_ERROR;
            }

            u->wildcard = 1;
            u->host.len = 0;
            u->addr.sa.sockaddr_in.sin_family = AF_INET;
            u->addr.sa.sockaddr_in.sin_addr.s_addr = htonl(INADDR_ANY);
            u->addr.socklen = sizeof(struct sockaddr_in);
            u->literal = 1;

        } else if (eg_parse_addr(&host, &u->addr.sa, &u->addr.socklen)
                   == EG_OK)
        {
            u->literal = 1;

        } else if (!eg_valid_hostname(host.data, host.len)) {
            u->err = "invalid host name";
            return EG_ERROR;

        } else if (eg_atoi(host.data, host.len) != EG_ERROR) {
            /*
             * All digits: no host name, but a port out of range
             * ("70000") that getaddrinfo() would take for an address.
             */
            u->err = (flags & EG_URL_HOST_OPTIONAL) && colon == NULL
                     ? "invalid port" : "invalid host name";
            return EG_ERROR;
        }
    }

    if (u->literal) {
        eg_inet_set_port(&u->addr.sa.sockaddr, u->port);

        if (pool && eg_addr_set_name(pool, &u->addr) != EG_OK) {
            return EG_ERROR;
        }
    }

    return EG_OK;
}


static eg_int_t
eg_parse_port(u_char *p, size_t len, eg_uint_t flags)
{
    eg_int_t  port;

    if (len == 0 || len > 5) {
        return EG_ERROR;
    }

    port = eg_atoi(p, len);

    if (port == EG_ERROR || port > 65535
        || (port == 0 && !(flags & EG_URL_PORT_ZERO)))
    {
        return EG_ERROR;
    }

    return port;
}


static eg_uint_t
eg_valid_hostname(u_char *p, size_t len)
{
    u_char  *last;

    if (len == 0 || len > 253 || *p == '-' || *p == '.') {
        return 0;
    }

    for (last = p + len; p < last; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
            || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
            || *p == '_')
        {
            continue;
        }

        return 0;
    }

    return 1;
}


eg_int_t
eg_inet_resolve_host(eg_pool_t *pool, eg_url_t *u, eg_addr_t **addrs,
    eg_uint_t *naddrs)
{
    int               rc;
    u_char           *host;
    eg_uint_t         n;
    eg_addr_t        *a;
    struct addrinfo   hints, *res, *rp;

    if (u->literal) {
        *addrs = &u->addr;
        *naddrs = 1;
        return EG_OK;
    }

    host = eg_pstrdup(pool, &u->host);
    if (host == NULL) {
        return EG_ERROR;
    }

    eg_memzero(&hints, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo((char *) host, NULL, &hints, &res);

    if (rc != 0) {
        u->err = gai_strerror(rc);
        return EG_ERROR;
    }

    n = 0;

    for (rp = res; rp; rp = rp->ai_next) {
        if (rp->ai_family == AF_INET || rp->ai_family == AF_INET6) {
            n++;
        }
    }

    if (n == 0) {
        freeaddrinfo(res);
        u->err = "host not found";
        return EG_ERROR;
    }

    a = eg_pcalloc(pool, n * sizeof(eg_addr_t));
    if (a == NULL) {
        freeaddrinfo(res);
        return EG_ERROR;
    }

    n = 0;

    for (rp = res; rp; rp = rp->ai_next) {
        if (rp->ai_family != AF_INET && rp->ai_family != AF_INET6) {
            continue;
        }

        eg_memcpy(&a[n].sa, rp->ai_addr, rp->ai_addrlen);
        a[n].socklen = rp->ai_addrlen;
        eg_inet_set_port(&a[n].sa.sockaddr, u->port);

        if (eg_addr_set_name(pool, &a[n]) != EG_OK) {
            freeaddrinfo(res);
            return EG_ERROR;
        }

        n++;
    }

    freeaddrinfo(res);

    *addrs = a;
    *naddrs = n;

    return EG_OK;
}


eg_int_t
eg_ptocidr(eg_str_t *text, eg_cidr_t *cidr)
{
    u_char         *mask, *a, *m;
    size_t          alen;
    eg_int_t        bits, max, i, rc;
    eg_str_t        addr;
    eg_sockaddr_t   sa;
    socklen_t       socklen;

    mask = eg_strlchr(text->data, text->data + text->len, '/');

    addr.data = text->data;
    addr.len = mask ? (size_t) (mask - text->data) : text->len;

    if (eg_parse_addr(&addr, &sa, &socklen) != EG_OK) {
        return EG_ERROR;
    }

    cidr->family = sa.sockaddr.sa_family;

    if (cidr->family == AF_INET) {
        a = (u_char *) &cidr->u.in.addr;
        m = (u_char *) &cidr->u.in.mask;
        eg_memcpy(a, &sa.sockaddr_in.sin_addr, 4);
        alen = 4;
        max = 32;

    } else {
        a = cidr->u.in6.addr;
        m = cidr->u.in6.mask;
        eg_memcpy(a, &sa.sockaddr_in6.sin6_addr, 16);
        alen = 16;
        max = 128;
    }

    if (mask) {
        mask++;
        bits = eg_atoi(mask, (size_t) (text->data + text->len - mask));

        if (bits == EG_ERROR || bits > max) {
            return EG_ERROR;
        }

    } else {
        bits = max;
    }

    rc = EG_OK;

    for (i = 0; i < (eg_int_t) alen; i++) {
        if (bits >= 8) {
            m[i] = 0xff;
            bits -= 8;

        } else {
            m[i] = (u_char) (0xff << (8 - bits));
            bits = 0;
        }

        if (a[i] & ~m[i]) {
            /* "10.1.2.3/8": keep the network, let the caller warn */
            a[i] &= m[i];
            rc = EG_DONE;
        }
    }

    return rc;
}


eg_uint_t
eg_cidr_match(eg_cidr_t *cidr, struct sockaddr *sa)
{
    u_char               *p;
    eg_uint_t             i;
    struct sockaddr_in6  *sin6;

    switch (sa->sa_family) {

    case AF_INET:
        if (cidr->family != AF_INET) {
            return 0;
        }

        return (((struct sockaddr_in *) sa)->sin_addr.s_addr
                & cidr->u.in.mask) == cidr->u.in.addr;

    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        p = sin6->sin6_addr.s6_addr;

        if (cidr->family == AF_INET) {
            /* an IPv4-mapped IPv6 peer matches IPv4 rules */
            if (!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
                return 0;
            }

            return ((*(in_addr_t *) (void *) (p + 12)) & cidr->u.in.mask)
                   == cidr->u.in.addr;
        }

        for (i = 0; i < 16; i++) {
            if ((p[i] & cidr->u.in6.mask[i]) != cidr->u.in6.addr[i]) {
                return 0;
            }
        }

        return 1;
    }

    return 0;
}


size_t
eg_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text,
    size_t len, eg_uint_t port)
{
    char                  buf[EG_INET6_ADDRSTRLEN + 1];
    u_char               *p;
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    eg_unused(socklen);

    switch (sa->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) sa;

        if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)) == NULL) {
            return 0;
        }

        if (port) {
            p = eg_slprintf(text, text + len, "%s:%u", buf,
                            (unsigned) ntohs(sin->sin_port));

        } else {
            p = eg_slprintf(text, text + len, "%s", buf);
        }

        return (size_t) (p - text);

    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;

        if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf)) == NULL)
        {
            return 0;
        }

        if (port) {
            p = eg_slprintf(text, text + len, "[%s]:%u", buf,
                            (unsigned) ntohs(sin6->sin6_port));

        } else {
            p = eg_slprintf(text, text + len, "%s", buf);
        }

        return (size_t) (p - text);

    case AF_UNIX:
        p = eg_slprintf(text, text + len, "unix:%s",
                        ((struct sockaddr_un *) sa)->sun_path);
        return (size_t) (p - text);
    }

    return 0;
}


eg_int_t
eg_addr_set_name(eg_pool_t *pool, eg_addr_t *addr)
{
    u_char  buf[EG_SOCKADDR_STRLEN + 1];
    size_t  len;

    len = eg_sock_ntop(&addr->sa.sockaddr, addr->socklen, buf, sizeof(buf),
                       1);

    addr->name.data = eg_pnalloc(pool, len + 1);
    if (addr->name.data == NULL) {
        return EG_ERROR;
    }

    eg_memcpy(addr->name.data, buf, len + 1);
    addr->name.len = len;

    return EG_OK;
}


eg_int_t
eg_cmp_sockaddr(struct sockaddr *sa1, socklen_t slen1,
    struct sockaddr *sa2, socklen_t slen2, eg_uint_t cmp_port)
{
    struct sockaddr_in   *sin1, *sin2;
    struct sockaddr_in6  *sin61, *sin62;

    if (sa1->sa_family != sa2->sa_family) {
        return EG_DECLINED;
    }

    switch (sa1->sa_family) {

    case AF_INET:
        sin1 = (struct sockaddr_in *) sa1;
        sin2 = (struct sockaddr_in *) sa2;

        if (cmp_port && sin1->sin_port != sin2->sin_port) {
            return EG_DECLINED;
        }

        if (sin1->sin_addr.s_addr != sin2->sin_addr.s_addr) {
            return EG_DECLINED;
        }

        return EG_OK;

    case AF_INET6:
        sin61 = (struct sockaddr_in6 *) sa1;
        sin62 = (struct sockaddr_in6 *) sa2;

        if (cmp_port && sin61->sin6_port != sin62->sin6_port) {
            return EG_DECLINED;
        }

        if (memcmp(&sin61->sin6_addr, &sin62->sin6_addr, 16) != 0) {
            return EG_DECLINED;
        }

        return EG_OK;

    default:
        if (slen1 != slen2 || memcmp(sa1, sa2, slen1) != 0) {
            return EG_DECLINED;
        }

        return EG_OK;
    }
}


in_port_t
eg_inet_get_port(struct sockaddr *sa)
{
    switch (sa->sa_family) {
    case AF_INET:
        return ntohs(((struct sockaddr_in *) sa)->sin_port);
    case AF_INET6:
        return ntohs(((struct sockaddr_in6 *) sa)->sin6_port);
    }

    return 0;
}


void
eg_inet_set_port(struct sockaddr *sa, in_port_t port)
{
    switch (sa->sa_family) {
    case AF_INET:
        ((struct sockaddr_in *) sa)->sin_port = htons(port);
        break;
    case AF_INET6:
        ((struct sockaddr_in6 *) sa)->sin6_port = htons(port);
        break;
    }
}


eg_uint_t
eg_inet_wildcard(struct sockaddr *sa)
{
    switch (sa->sa_family) {
    case AF_INET:
        return ((struct sockaddr_in *) sa)->sin_addr.s_addr == INADDR_ANY;
    case AF_INET6:
        return IN6_IS_ADDR_UNSPECIFIED(
                   &((struct sockaddr_in6 *) sa)->sin6_addr);
    }

    return 0;
}
