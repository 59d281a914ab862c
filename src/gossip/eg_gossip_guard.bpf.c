/*
 * The gossip guard in the kernel: two programs that drop junk aimed at
 * the gossip port before the cluster process has to read it.
 *
 * A flood of datagrams that are not gossip costs the cluster process a
 * recvmmsg() slot, a wake-up and a header check each; enough of them
 * starve the reads and timers of the failure detector, which then
 * suspects live members.  Dropped here, they cost a few instructions in
 * the softirq instead, and the socket's queue holds only gossip.
 *
 *     eg_guard_socket   a socket filter on the gossip UDP socket
 *                       (SO_ATTACH_BPF): sees every datagram for it,
 *                       starting at its UDP header
 *     eg_guard_xdp      optional, on a named interface: the same checks
 *                       on the frame, before any socket buffer is made;
 *                       frames that are not UDP to the gossip address
 *                       pass untouched
 *
 * The checks are the cluster process's first ones (docs/protocol.md,
 * "The header"), in its order, after the source: an allow-list of CIDR
 * blocks when one is set, then at least 10 bytes, the magic "EGRM", a
 * version in the accepted range with no flag the version does not
 * define, and this cluster's hash.  Whatever passes still goes through
 * every user-space check; the guard never lets in what the cluster
 * process would refuse, it only refuses it sooner.
 *
 * Each drop adds 1 to a per-CPU counter of its hook and reason, which
 * the cluster process sums and publishes every second.
 */

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "eg_gossip_guard_bpf.h"


char  LICENSE[] SEC("license") = "Dual BSD/GPL";


struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct eg_guard_conf);
} eg_guard_conf SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, EG_GUARD_ALLOW_MAX);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct eg_guard_key4);
    __type(value, __u8);
} eg_guard_allow4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, EG_GUARD_ALLOW_MAX);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct eg_guard_key6);
    __type(value, __u8);
} eg_guard_allow6 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, EG_GUARD_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} eg_guard_drops SEC(".maps");

/*
 * What the cluster process has added to the metrics so far, of each
 * counter: the kernel never touches it, but it lives as long as the
 * counters do, so that a cluster process that replaces a crashed one
 * adds only what is new.
 */
__u64  eg_guard_published[EG_GUARD_COUNTERS];


static __always_inline int
eg_guard_drop(__u32 hook, __u32 reason)
{
    __u32   key;
    __u64  *n;

    key = hook * EG_GUARD_REASONS + reason;

    n = bpf_map_lookup_elem(&eg_guard_drops, &key);

    /* per CPU, and softirqs do not nest on one: no atomics needed */
    if (n) {
        *n += 1;
    }

    return 0;
}


/* the 10-byte header: -1 when it is gossip of this cluster, or why not */
static __always_inline int
eg_guard_header(const __u8 *h, const struct eg_guard_conf *c)
{
    __u32  cluster;

    if (h[0] != 'E' || h[1] != 'G' || h[2] != 'R' || h[3] != 'M') {
        return EG_GUARD_MAGIC;
    }

    if (h[4] < c->version_min || h[4] > c->version_max) {
        return EG_GUARD_VERSION;
    }

    cluster = ((__u32) h[6] << 24) | ((__u32) h[7] << 16)
              | ((__u32) h[8] << 8) | h[9];

    if (cluster != c->cluster) {
        return EG_GUARD_CLUSTER;
    }

    /* a flag of a later version: its meaning cannot be known */
    if (h[5] & ~c->flags_known) {
        return EG_GUARD_VERSION;
    }

    return -1;
}


static __always_inline int
eg_guard_allowed4(const __u8 *addr)
{
    struct eg_guard_key4  key;

    key.prefixlen = 32;
    __builtin_memcpy(key.addr, addr, 4);

    return bpf_map_lookup_elem(&eg_guard_allow4, &key) != NULL;
}


/* an IPv4-mapped source (::ffff:a.b.c.d) is judged by the IPv4 list */
static __always_inline int
eg_guard_allowed6(const __u8 *addr)
{
    struct eg_guard_key6  key;

    if (addr[0] == 0 && addr[1] == 0 && addr[2] == 0 && addr[3] == 0
        && addr[4] == 0 && addr[5] == 0 && addr[6] == 0 && addr[7] == 0
        && addr[8] == 0 && addr[9] == 0 && addr[10] == 0xff
        && addr[11] == 0xff)
    {
        return eg_guard_allowed4(addr + 12);
    }

    key.prefixlen = 128;
    __builtin_memcpy(key.addr, addr, 16);

    return bpf_map_lookup_elem(&eg_guard_allow6, &key) != NULL;
}


static __always_inline int
eg_guard_same6(const struct in6_addr *a, const __u8 *b)
{
    const __u32  *w = (const __u32 *) b;

    return a->in6_u.u6_addr32[0] == w[0] && a->in6_u.u6_addr32[1] == w[1]
           && a->in6_u.u6_addr32[2] == w[2] && a->in6_u.u6_addr32[3] == w[3];
}


/*
 * On a UDP socket the program sees the datagram from its UDP header on:
 * the payload starts at offset 8, and the IP header is reached relative
 * to the network header.  It returns how many bytes to keep: 0 drops.
 */
SEC("socket")
int
eg_guard_socket(struct __sk_buff *skb)
{
    int                    reason;
    __u8                   h[EG_GUARD_HEADER_LEN], ip[16], v;
    __u32                  key;
    struct eg_guard_conf  *c;

    key = 0;

    c = bpf_map_lookup_elem(&eg_guard_conf, &key);
    if (c == NULL) {
        return skb->len;
    }

    if (c->allow) {
        if (bpf_skb_load_bytes_relative(skb, 0, &v, 1, BPF_HDR_START_NET)
            < 0)
        {
            return eg_guard_drop(EG_GUARD_HOOK_SOCKET, EG_GUARD_SOURCE);
        }

        if ((v >> 4) == 4) {
            if (bpf_skb_load_bytes_relative(skb,
                                            offsetof(struct iphdr, saddr),
                                            ip, 4, BPF_HDR_START_NET)
                < 0
                || !eg_guard_allowed4(ip))
            {
                return eg_guard_drop(EG_GUARD_HOOK_SOCKET, EG_GUARD_SOURCE);
            }

        } else if ((v >> 4) == 6) {
            if (bpf_skb_load_bytes_relative(skb,
                                            offsetof(struct ipv6hdr, saddr),
                                            ip, 16, BPF_HDR_START_NET)
                < 0
                || !eg_guard_allowed6(ip))
            {
                return eg_guard_drop(EG_GUARD_HOOK_SOCKET, EG_GUARD_SOURCE);
            }

        } else {
            return eg_guard_drop(EG_GUARD_HOOK_SOCKET, EG_GUARD_SOURCE);
        }
    }

    if (skb->len < sizeof(struct udphdr) + EG_GUARD_HEADER_LEN
        || bpf_skb_load_bytes(skb, sizeof(struct udphdr), h, sizeof(h)) < 0)
    {
        return eg_guard_drop(EG_GUARD_HOOK_SOCKET, EG_GUARD_SHORT);
    }

    reason = eg_guard_header(h, c);

    if (reason >= 0) {
        return eg_guard_drop(EG_GUARD_HOOK_SOCKET, (__u32) reason);
    }

    return skb->len;
}


/*
 * At the driver: Ethernet, then IPv4 (not a fragment: only the first
 * has the UDP header, so fragments are left to the socket filter) or
 * IPv6 with UDP as the next header, to the gossip port and address.
 * Multicast destinations pass: the gossip socket takes none, and
 * discovery announcements may share the port.
 */
SEC("xdp")
int
eg_guard_xdp(struct xdp_md *ctx)
{
    int                    reason;
    void                  *data, *data_end;
    __u8                  *payload, *src;
    __u32                  key, ihl;
    struct ethhdr         *eth;
    struct iphdr          *iph;
    struct ipv6hdr        *ip6h;
    struct udphdr         *udp;
    struct eg_guard_conf  *c;

    data = (void *) (long) ctx->data;
    data_end = (void *) (long) ctx->data_end;

    key = 0;

    c = bpf_map_lookup_elem(&eg_guard_conf, &key);
    if (c == NULL) {
        return XDP_PASS;
    }

    eth = data;

    if ((void *) (eth + 1) > data_end) {
        return XDP_PASS;
    }

    if (eth->h_proto == bpf_htons(ETH_P_IP) && c->family == 4) {
        iph = (void *) (eth + 1);

        if ((void *) (iph + 1) > data_end
            || iph->protocol != IPPROTO_UDP
            || (iph->frag_off & bpf_htons(0x3fff)) != 0
            || (iph->daddr & bpf_htonl(0xf0000000))
               == bpf_htonl(0xe0000000))
        {
            return XDP_PASS;
        }

        if (!c->any && iph->daddr != *(__u32 *) c->addr) {
            return XDP_PASS;
        }

        ihl = iph->ihl * 4;

        if (ihl < sizeof(struct iphdr)) {
            return XDP_PASS;
        }

        udp = (void *) ((__u8 *) iph + ihl);
        src = (__u8 *) &iph->saddr;

    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6) && c->family == 6) {
        ip6h = (void *) (eth + 1);

        if ((void *) (ip6h + 1) > data_end
            || ip6h->nexthdr != IPPROTO_UDP
            || ip6h->daddr.in6_u.u6_addr8[0] == 0xff)
        {
            return XDP_PASS;
        }

        if (!c->any && !eg_guard_same6(&ip6h->daddr, c->addr)) {
            return XDP_PASS;
        }

        udp = (void *) (ip6h + 1);
        src = (__u8 *) &ip6h->saddr;

    } else {
        return XDP_PASS;
    }

    if ((void *) (udp + 1) > data_end || udp->dest != c->port) {
        return XDP_PASS;
    }

    if (c->allow) {
        if (!((c->family == 4) ? eg_guard_allowed4(src)
                               : eg_guard_allowed6(src)))
        {
            eg_guard_drop(EG_GUARD_HOOK_XDP, EG_GUARD_SOURCE);
            return XDP_DROP;
        }
    }

    payload = (__u8 *) (udp + 1);

    if ((void *) (payload + EG_GUARD_HEADER_LEN) > data_end
        || bpf_ntohs(udp->len) < sizeof(struct udphdr) + EG_GUARD_HEADER_LEN)
    {
        eg_guard_drop(EG_GUARD_HOOK_XDP, EG_GUARD_SHORT);
        return XDP_DROP;
    }

    reason = eg_guard_header(payload, c);

    if (reason >= 0) {
        eg_guard_drop(EG_GUARD_HOOK_XDP, (__u32) reason);
        return XDP_DROP;
    }

    return XDP_PASS;
}
