/*
 * The gossip guard's contract between the kernel programs
 * (eg_gossip_guard.bpf.c, compiled with clang -target bpf) and their
 * loader in the master and the cluster process (eg_gossip_guard_bpf.c):
 * the maps, their keys and values, and the drop reasons.  Both sides
 * include this file, so it uses only the kernel's fixed-size types.
 *
 *     eg_guard_conf     ARRAY, 1 entry: what a datagram must carry
 *     eg_guard_allow4   LPM_TRIE: the IPv4 sources allowed
 *     eg_guard_allow6   LPM_TRIE: the IPv6 sources allowed
 *     eg_guard_drops    PERCPU_ARRAY: drops by hook and reason
 *     .bss              what the cluster process has published of them
 */

#ifndef EG_GOSSIP_GUARD_BPF_H_INCLUDED
#define EG_GOSSIP_GUARD_BPF_H_INCLUDED


/* why a datagram was dropped: the label "reason" of the metrics */
#define EG_GUARD_SOURCE     0   /* a source outside the allow-list */
#define EG_GUARD_SHORT      1   /* shorter than the 10-byte header */
#define EG_GUARD_MAGIC      2   /* not "EGRM" */
#define EG_GUARD_VERSION    3   /* a version or a flag we do not know */
#define EG_GUARD_CLUSTER    4   /* another cluster's hash */
#define EG_GUARD_REASONS    5

/* the counters: those of the socket filter, then those of XDP */
#define EG_GUARD_HOOK_SOCKET  0
#define EG_GUARD_HOOK_XDP     1
#define EG_GUARD_HOOKS        2
#define EG_GUARD_COUNTERS     (EG_GUARD_HOOKS * EG_GUARD_REASONS)

/* CIDR blocks per family in the allow-list */
#define EG_GUARD_ALLOW_MAX  256

/* the wire header (docs/protocol.md) */
#define EG_GUARD_HEADER_LEN 10


/* the value of eg_guard_conf[0]; the loader pins its layout */
struct eg_guard_conf {
    __u32   cluster;        /* FNV-1a hash of the cluster name, host order */
    __u8    version_min;    /* the versions accepted */
    __u8    version_max;
    __u8    flags_known;    /* header flags this version defines */
    __u8    allow;          /* 1: the source must be in an allow-list */
    __u16   port;           /* XDP: the gossip port, network order */
    __u8    family;         /* XDP: 4 or 6, the gossip socket's */
    __u8    any;            /* XDP: 1 when it listens on every address */
    __u8    addr[16];       /* XDP: its address; IPv4 in the first 4 */
};


/* the keys of the allow-lists: a prefix length, then the address */
struct eg_guard_key4 {
    __u32   prefixlen;
    __u8    addr[4];
};

struct eg_guard_key6 {
    __u32   prefixlen;
    __u8    addr[16];
};


#endif /* EG_GOSSIP_GUARD_BPF_H_INCLUDED */
