/*
 * The simulator's engine: a priority queue of events in virtual time
 * (datagram and stream deliveries, node ticks), the network model, and
 * the bookkeeping behind the report.
 *
 * Every node runs the real gossip core; the engine only stands in for
 * its environment: "now" is the virtual clock, "send" puts a delivery on
 * the queue after the link's delay (or loses it), "stream" delivers a
 * request and brings the answer back, and "random" draws from a per-node
 * generator seeded from the run's seed.  Each node's next deadline is
 * kept on the queue as one tick event; a stale one is recognised and
 * skipped rather than removed.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_membership.h>
#include <eg_swim.h>
#include <eg_sim.h>


#define EG_SIM_NEVER          ((eg_msec_t) -1)
#define EG_SIM_PORT           7946
#define EG_SIM_CONNECT_FAIL   1000      /* a stream to nowhere, in ms */

#define EG_SIM_EV_TICK        1
#define EG_SIM_EV_PACKET      2
#define EG_SIM_EV_STREAM_REQ  3
#define EG_SIM_EV_STREAM_RESP 4
#define EG_SIM_EV_RESUME      5


typedef struct {
    eg_msec_t            time;
    uint64_t             seq;           /* keeps equal times in order */
    uint32_t             type;
    uint32_t             node;          /* who receives it */
    void                *data;
} eg_sim_event_t;


typedef struct {
    uint32_t             from;
    uint32_t             tag;           /* streams */
    size_t               len;
    u_char               data[];        /* NULL-like when len is 0 */
} eg_sim_packet_t;


typedef struct {
    eg_sim_t            *sim;
    eg_uint_t            index;
    eg_swim_t           *swim;
    eg_swim_ident_t     *ident;
    uint64_t             rng;
    eg_msec_t            tick_at;       /* the live tick event, or NEVER */
    eg_msec_t            paused_until;
    eg_uint_t            group;
    unsigned             started:1;
    unsigned             crashed:1;
    unsigned             paused:1;
    unsigned             left:1;
} eg_sim_node_t;


typedef struct {
    eg_uint_t            a;
    eg_uint_t            b;
    double               loss;
} eg_sim_link_t;


typedef struct {
    eg_sim_spread_t      spread;
    u_char              *seen;          /* a bit per observer */
} eg_sim_track_t;


struct eg_sim_s {
    eg_sim_conf_t        conf;
    eg_msec_t            now;
    uint64_t             seq;
    uint64_t             rng;           /* the network's own draws */

    eg_sim_node_t       *nodes;
    eg_uint_t            running;       /* started and not crashed */

    eg_sim_event_t      *heap;
    eg_uint_t            nheap;
    eg_uint_t            heap_alloc;

    eg_sim_link_t       *links;
    eg_uint_t            nlinks;
    eg_uint_t            partitioned:1;

    eg_sim_track_t      *tracks;        /* per node, NULL until tracked */
    eg_sim_crash_t      *crashes;
    eg_sim_stats_t       stats;

    eg_log_t             log;
    eg_open_file_t       log_file;
};


static void eg_sim_push(eg_sim_t *sim, eg_msec_t time, uint32_t type,
    uint32_t node, void *data);
static void eg_sim_schedule(eg_sim_node_t *n);
static eg_int_t eg_sim_start(eg_sim_t *sim, eg_sim_node_t *n);


/* splitmix64: one state word, good enough spread, trivially seeded */
static uint64_t
eg_sim_rand64(uint64_t *state)
{
    uint64_t  z;

    z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


static double
eg_sim_uniform(uint64_t *state)
{
    return (double) (eg_sim_rand64(state) >> 11) / (double) (1ULL << 53);
}


void
eg_sim_addr(eg_uint_t node, eg_swim_addr_t *addr)
{
    eg_memzero(addr, sizeof(eg_swim_addr_t));

    addr->family = 4;
    addr->port = EG_SIM_PORT;
    addr->ip[0] = 10;
    addr->ip[1] = (u_char) (node >> 16);
    addr->ip[2] = (u_char) (node >> 8);
    addr->ip[3] = (u_char) node;
}


eg_uint_t
eg_sim_node_of(eg_swim_addr_t *addr)
{
    return ((eg_uint_t) addr->ip[1] << 16) | ((eg_uint_t) addr->ip[2] << 8)
           | addr->ip[3];
}


/* the environment a node's gossip core sees */

static eg_msec_t
eg_sim_env_now(void *data)
{
    eg_sim_node_t  *n = data;

    return n->sim->now;
}


static void
eg_sim_env_random(void *data, u_char *buf, size_t len)
{
    uint64_t        r;
    eg_sim_node_t  *n = data;

    while (len) {
        r = eg_sim_rand64(&n->rng);
        eg_memcpy(buf, &r, eg_min(len, sizeof(r)));
        buf += eg_min(len, sizeof(r));
        len -= eg_min(len, sizeof(r));
    }
}


static eg_uint_t
eg_sim_can_talk(eg_sim_t *sim, eg_uint_t a, eg_uint_t b)
{
    return !sim->partitioned || sim->nodes[a].group == sim->nodes[b].group;
}


static double
eg_sim_loss(eg_sim_t *sim, eg_uint_t a, eg_uint_t b)
{
    eg_uint_t  i;

    for (i = 0; i < sim->nlinks; i++) {
        if ((sim->links[i].a == a && sim->links[i].b == b)
            || (sim->links[i].a == b && sim->links[i].b == a))
        {
            return sim->links[i].loss;
        }
    }

    return sim->conf.loss;
}


static eg_msec_t
eg_sim_delay(eg_sim_t *sim)
{
    eg_msec_t  d;

    d = sim->conf.delay;

    if (sim->conf.jitter) {
        d += (eg_msec_t) (eg_sim_rand64(&sim->rng) % (sim->conf.jitter + 1));
    }

    return eg_max(d, 1);
}


static eg_sim_packet_t *
eg_sim_packet(eg_uint_t from, uint32_t tag, u_char *buf, size_t len)
{
    eg_sim_packet_t  *p;

    p = malloc(sizeof(eg_sim_packet_t) + len);
    if (p == NULL) {
        return NULL;
    }

    p->from = (uint32_t) from;
    p->tag = tag;
    p->len = len;

    if (len) {
        eg_memcpy(p->data, buf, len);
    }

    return p;
}


static void
eg_sim_env_send(void *data, eg_swim_addr_t *to, u_char *buf, size_t len)
{
    eg_uint_t         dst;
    eg_sim_t         *sim;
    eg_sim_node_t    *n = data;
    eg_sim_packet_t  *p;

    sim = n->sim;
    dst = eg_sim_node_of(to);

    sim->stats.packets++;
    sim->stats.bytes += len;

    if (dst >= sim->conf.nodes || !eg_sim_can_talk(sim, n->index, dst)
        || eg_sim_uniform(&sim->rng) < eg_sim_loss(sim, n->index, dst))
    {
        sim->stats.lost++;
        return;
    }

    p = eg_sim_packet(n->index, 0, buf, len);
    if (p == NULL) {
        return;
    }

    eg_sim_push(sim, sim->now + eg_sim_delay(sim), EG_SIM_EV_PACKET,
                (uint32_t) dst, p);
}


static void
eg_sim_env_stream(void *data, eg_swim_addr_t *to, u_char *buf, size_t len,
    uint32_t tag)
{
    eg_uint_t         dst;
    eg_sim_t         *sim;
    eg_sim_node_t    *n = data;
    eg_sim_packet_t  *p;

    sim = n->sim;
    dst = eg_sim_node_of(to);

    sim->stats.streams++;
    sim->stats.bytes += len;

    if (dst >= sim->conf.nodes) {
        p = eg_sim_packet(dst, tag, NULL, 0);
        if (p) {
            eg_sim_push(sim, sim->now + EG_SIM_CONNECT_FAIL,
                        EG_SIM_EV_STREAM_RESP, (uint32_t) n->index, p);
        }

        return;
    }

    /* TCP hides loss; a partition or a dead peer shows as a timeout */

    p = eg_sim_packet(n->index, tag, buf, len);
    if (p == NULL) {
        return;
    }

    eg_sim_push(sim, sim->now + eg_sim_delay(sim), EG_SIM_EV_STREAM_REQ,
                (uint32_t) dst, p);
}


static void
eg_sim_env_event(void *data, eg_swim_member_t *m, eg_uint_t event)
{
    eg_uint_t        subject, byte, bit;
    eg_sim_t        *sim;
    eg_sim_node_t   *n = data;
    eg_sim_node_t   *s;
    eg_sim_crash_t  *c;
    eg_sim_track_t  *t;

    sim = n->sim;
    subject = eg_sim_node_of(&m->ident->addr);

    if (subject >= sim->conf.nodes || subject == n->index) {
        return;
    }

    s = &sim->nodes[subject];
    c = &sim->crashes[subject];

    switch (event) {

    case EG_SWIM_EVENT_JOIN:
        t = sim->tracks ? &sim->tracks[subject] : NULL;

        if (t == NULL || t->seen == NULL) {
            return;
        }

        byte = n->index / 8;
        bit = 1u << (n->index % 8);

        if (t->seen[byte] & bit) {
            return;
        }

        t->seen[byte] |= (u_char) bit;
        t->spread.count++;

        if (t->spread.done == 0
            && t->spread.count >= sim->running - (s->crashed ? 0 : 1))
        {
            t->spread.done = sim->now;
        }

        return;

    case EG_SWIM_EVENT_SUSPECT:
        if (s->crashed) {
            if (c->first_suspect == 0) {
                c->first_suspect = sim->now;
            }

        } else if (!s->left) {
            sim->stats.false_suspect++;
        }

        return;

    case EG_SWIM_EVENT_FAIL:
        if (!s->crashed) {
            if (!s->left) {
                sim->stats.false_dead++;
            }

            return;
        }

        if (c->first_dead == 0) {
            c->first_dead = sim->now;
        }

        if (++c->dead_count >= sim->running && c->all_dead == 0) {
            c->all_dead = sim->now;
        }

        return;
    }
}


static eg_sim_node_t *
eg_sim_node(eg_sim_t *sim, eg_uint_t i)
{
    return i < sim->conf.nodes ? &sim->nodes[i] : NULL;
}


void
eg_sim_conf_default(eg_sim_conf_t *conf)
{
    eg_memzero(conf, sizeof(eg_sim_conf_t));

    conf->nodes = 10;
    conf->seed = 1;
    conf->delay = 1;
    conf->preformed = 1;

    eg_swim_conf_default(&conf->swim);
}


eg_sim_t *
eg_sim_create(eg_sim_conf_t *conf)
{
    eg_uint_t        i, j;
    eg_sim_t        *sim;
    eg_swim_addr_t   addr;
    eg_sim_node_t   *n;
    u_char           id[32], *p;

    if (conf->nodes == 0 || conf->nodes > (1u << 24)) {
        return NULL;
    }

    sim = calloc(1, sizeof(eg_sim_t));
    if (sim == NULL) {
        return NULL;
    }

    sim->conf = *conf;
    sim->conf.hold = NULL;      /* the caller's, read only here */
    sim->rng = conf->seed ^ 0x5eed5eed5eed5eedULL;
    sim->now = 1;

    /* the core logs through here: errors only, to stderr */

    sim->log_file.fd = STDERR_FILENO;
    eg_str_set(&sim->log_file.name, "stderr");
    sim->log.file = &sim->log_file;
    sim->log.log_level = EG_LOG_ERR;

    sim->nodes = calloc(conf->nodes, sizeof(eg_sim_node_t));
    sim->crashes = calloc(conf->nodes, sizeof(eg_sim_crash_t));
    sim->tracks = calloc(conf->nodes, sizeof(eg_sim_track_t));

    if (sim->nodes == NULL || sim->crashes == NULL || sim->tracks == NULL) {
        eg_sim_destroy(sim);
        return NULL;
    }

    for (i = 0; i < conf->nodes; i++) {
        n = &sim->nodes[i];

        n->sim = sim;
        n->index = i;
        n->tick_at = EG_SIM_NEVER;
        n->rng = conf->seed * 0x100000001b3ULL + i + 1;

        p = eg_slprintf(id, id + sizeof(id), "node-%lu", (unsigned long) i);
        eg_sim_addr(i, &addr);

        n->ident = eg_swim_ident_create(id, (size_t) (p - id), &addr, NULL,
                                        0);
        if (n->ident == NULL) {
            eg_sim_destroy(sim);
            return NULL;
        }
    }

    if (!conf->preformed) {
        return sim;
    }

    for (i = 0; i < conf->nodes; i++) {
        if (conf->hold && conf->hold[i]) {
            continue;
        }

        if (eg_sim_start(sim, &sim->nodes[i]) != EG_OK) {
            eg_sim_destroy(sim);
            return NULL;
        }
    }

    /* one formed cluster: everyone knows everyone, and nothing to tell */

    for (i = 0; i < conf->nodes; i++) {
        for (j = 0; j < conf->nodes; j++) {
            if (i != j && sim->nodes[i].started && sim->nodes[j].started
                && eg_swim_add_member(sim->nodes[i].swim,
                                      sim->nodes[j].ident, EG_MEMBER_ALIVE,
                                      1)
                   == NULL)
            {
                eg_sim_destroy(sim);
                return NULL;
            }
        }
    }

    return sim;
}


static eg_int_t
eg_sim_start(eg_sim_t *sim, eg_sim_node_t *n)
{
    eg_str_t        cluster;
    eg_swim_env_t   env;

    eg_str_set(&cluster, "sim");

    env.data = n;
    env.now = eg_sim_env_now;
    env.send = eg_sim_env_send;
    env.stream = eg_sim_env_stream;
    env.random = eg_sim_env_random;
    env.event = eg_sim_env_event;
    env.join_result = NULL;
    env.log = &sim->log;

    n->swim = eg_swim_create(&sim->conf.swim, &env, n->ident, 1, &cluster,
                             sim->conf.keyring.nkeys ? &sim->conf.keyring
                                                     : NULL);
    if (n->swim == NULL) {
        return EG_ERROR;
    }

    n->started = 1;
    sim->running++;

    eg_sim_schedule(n);

    return EG_OK;
}


void
eg_sim_destroy(eg_sim_t *sim)
{
    eg_uint_t  i;

    if (sim == NULL) {
        return;
    }

    for (i = 0; i < sim->nheap; i++) {
        if (sim->heap[i].type != EG_SIM_EV_TICK
            && sim->heap[i].type != EG_SIM_EV_RESUME)
        {
            free(sim->heap[i].data);
        }
    }

    for (i = 0; sim->nodes && i < sim->conf.nodes; i++) {
        eg_swim_destroy(sim->nodes[i].swim);
        eg_swim_ident_unref(sim->nodes[i].ident);
    }

    for (i = 0; sim->tracks && i < sim->conf.nodes; i++) {
        free(sim->tracks[i].seen);
    }

    free(sim->heap);
    free(sim->links);
    free(sim->nodes);
    free(sim->crashes);
    free(sim->tracks);
    free(sim);
}


/* a binary min-heap by (time, seq) */

static eg_uint_t
eg_sim_before(eg_sim_event_t *a, eg_sim_event_t *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}


static void
eg_sim_push(eg_sim_t *sim, eg_msec_t time, uint32_t type, uint32_t node,
    void *data)
{
    eg_uint_t        i, parent, size;
    eg_sim_event_t   ev, *heap;

    if (sim->nheap == sim->heap_alloc) {
        size = sim->heap_alloc ? sim->heap_alloc * 2 : 1024;

        heap = realloc(sim->heap, size * sizeof(eg_sim_event_t));
        if (heap == NULL) {
            if (type != EG_SIM_EV_TICK && type != EG_SIM_EV_RESUME) {
                free(data);
            }

            return;
        }

        sim->heap = heap;
        sim->heap_alloc = size;
    }

    ev.time = time;
    ev.seq = ++sim->seq;
    ev.type = type;
    ev.node = node;
    ev.data = data;

    for (i = sim->nheap++; i; i = parent) {
        parent = (i - 1) / 2;

        if (!eg_sim_before(&ev, &sim->heap[parent])) {
            break;
        }

        sim->heap[i] = sim->heap[parent];
    }

    sim->heap[i] = ev;
}


static void
eg_sim_pop(eg_sim_t *sim, eg_sim_event_t *out)
{
    eg_uint_t        i, child;
    eg_sim_event_t   last;

    *out = sim->heap[0];
    last = sim->heap[--sim->nheap];

    for (i = 0; (child = 2 * i + 1) < sim->nheap; i = child) {
        if (child + 1 < sim->nheap
            && eg_sim_before(&sim->heap[child + 1], &sim->heap[child]))
        {
            child++;
        }

        if (!eg_sim_before(&sim->heap[child], &last)) {
            break;
        }

        sim->heap[i] = sim->heap[child];
    }

    if (sim->nheap) {
        sim->heap[i] = last;
    }
}


/* keeps one tick on the queue, at the node's next deadline */
static void
eg_sim_schedule(eg_sim_node_t *n)
{
    eg_msec_t  at;

    if (!n->started || n->crashed || n->paused) {
        return;
    }

    at = eg_swim_next_deadline(n->swim);

    if (at == EG_SIM_NEVER) {
        return;
    }

    at = eg_max(at, n->sim->now);

    if (n->tick_at != EG_SIM_NEVER && n->tick_at <= at) {
        return;     /* an earlier tick is queued; it will reschedule */
    }

    n->tick_at = at;
    eg_sim_push(n->sim, at, EG_SIM_EV_TICK, (uint32_t) n->index, NULL);
}


static void
eg_sim_deliver(eg_sim_t *sim, eg_sim_event_t *ev)
{
    u_char           *answer;
    size_t            len;
    eg_swim_addr_t    from;
    eg_sim_node_t    *n;
    eg_sim_packet_t  *p, *r;

    n = &sim->nodes[ev->node];
    p = ev->data;

    switch (ev->type) {

    case EG_SIM_EV_PACKET:
        if (n->started && !n->crashed) {
            eg_sim_addr(p->from, &from);
            eg_swim_receive(n->swim, &from, p->data, p->len);
        }

        break;

    case EG_SIM_EV_STREAM_REQ:
        if (!n->started || n->crashed
            || !eg_sim_can_talk(sim, p->from, ev->node))
        {
            r = eg_sim_packet(ev->node, p->tag, NULL, 0);
            if (r) {
                eg_sim_push(sim, sim->now + EG_SIM_CONNECT_FAIL,
                            EG_SIM_EV_STREAM_RESP, p->from, r);
            }

            break;
        }

        eg_sim_addr(p->from, &from);

        answer = eg_swim_stream_request(n->swim, &from, p->data, p->len,
                                        &len);

        r = eg_sim_packet(ev->node, p->tag, answer, answer ? len : 0);
        free(answer);

        if (r) {
            sim->stats.bytes += r->len;
            eg_sim_push(sim, sim->now + eg_sim_delay(sim),
                        EG_SIM_EV_STREAM_RESP, p->from, r);
        }

        break;

    case EG_SIM_EV_STREAM_RESP:
        if (n->started && !n->crashed) {
            eg_swim_stream_response(n->swim, p->tag,
                                    p->len ? p->data : NULL, p->len);
        }

        break;
    }

    free(p);
    eg_sim_schedule(n);
}


void
eg_sim_run(eg_sim_t *sim, eg_msec_t until)
{
    eg_sim_node_t   *n;
    eg_sim_event_t   ev;

    while (sim->nheap && sim->heap[0].time <= until) {

        eg_sim_pop(sim, &ev);

        sim->now = eg_max(sim->now, ev.time);
        sim->stats.events++;

        n = &sim->nodes[ev.node];

        if (ev.type == EG_SIM_EV_RESUME) {
            if (n->paused && sim->now >= n->paused_until) {
                n->paused = 0;
                n->tick_at = EG_SIM_NEVER;
                eg_sim_schedule(n);
            }

            continue;
        }

        if (n->paused && ev.type != EG_SIM_EV_TICK) {
            /* held by the kernel until the process runs again */
            eg_sim_push(sim, n->paused_until, ev.type, ev.node, ev.data);
            continue;
        }

        if (ev.type == EG_SIM_EV_TICK) {
            if (ev.time != n->tick_at || n->paused || n->crashed) {
                continue;   /* stale */
            }

            n->tick_at = EG_SIM_NEVER;
            eg_swim_tick(n->swim);
            eg_sim_schedule(n);
            continue;
        }

        eg_sim_deliver(sim, &ev);
    }

    sim->now = eg_max(sim->now, until);
}


eg_msec_t
eg_sim_now(eg_sim_t *sim)
{
    return sim->now;
}


eg_int_t
eg_sim_join(eg_sim_t *sim, eg_uint_t node, eg_uint_t via)
{
    eg_sim_node_t   *n;
    eg_swim_addr_t   addr;

    n = eg_sim_node(sim, node);

    if (n == NULL || via >= sim->conf.nodes) {
        return EG_ERROR;
    }

    if (!n->started && eg_sim_start(sim, n) != EG_OK) {
        return EG_ERROR;
    }

    eg_sim_track(sim, node);

    if (via != node) {
        eg_sim_addr(via, &addr);
        eg_swim_join(n->swim, &addr);
        eg_sim_schedule(n);
    }

    return EG_OK;
}


void
eg_sim_crash(eg_sim_t *sim, eg_uint_t node)
{
    eg_sim_node_t  *n;

    n = eg_sim_node(sim, node);

    if (n == NULL || !n->started || n->crashed) {
        return;
    }

    n->crashed = 1;
    sim->running--;
    sim->crashes[node].at = sim->now;
}


void
eg_sim_pause(eg_sim_t *sim, eg_uint_t node, eg_msec_t duration)
{
    eg_sim_node_t  *n;

    n = eg_sim_node(sim, node);

    if (n == NULL || !n->started || n->crashed) {
        return;
    }

    n->paused = 1;
    n->paused_until = sim->now + duration;

    eg_sim_push(sim, n->paused_until, EG_SIM_EV_RESUME, (uint32_t) node,
                NULL);
}


void
eg_sim_leave(eg_sim_t *sim, eg_uint_t node)
{
    eg_sim_node_t  *n;

    n = eg_sim_node(sim, node);

    if (n == NULL || !n->started || n->crashed) {
        return;
    }

    n->left = 1;
    eg_swim_leave(n->swim);
    eg_sim_schedule(n);
}


void
eg_sim_partition(eg_sim_t *sim, eg_uint_t *group)
{
    eg_uint_t  i;

    for (i = 0; i < sim->conf.nodes; i++) {
        sim->nodes[i].group = group[i];
    }

    sim->partitioned = 1;
}


void
eg_sim_heal(eg_sim_t *sim)
{
    sim->partitioned = 0;
}


void
eg_sim_link_loss(eg_sim_t *sim, eg_uint_t a, eg_uint_t b, double loss)
{
    eg_uint_t       i;
    eg_sim_link_t  *links;

    for (i = 0; i < sim->nlinks; i++) {
        if ((sim->links[i].a == a && sim->links[i].b == b)
            || (sim->links[i].a == b && sim->links[i].b == a))
        {
            sim->links[i].loss = loss;
            return;
        }
    }

    links = realloc(sim->links, (sim->nlinks + 1) * sizeof(eg_sim_link_t));
    if (links == NULL) {
        return;
    }

    sim->links = links;
    sim->links[sim->nlinks].a = a;
    sim->links[sim->nlinks].b = b;
    sim->links[sim->nlinks].loss = loss;
    sim->nlinks++;
}


void
eg_sim_set_keyring(eg_sim_t *sim, eg_uint_t node, eg_swim_keyring_t *kr)
{
    eg_sim_node_t  *n;

    n = eg_sim_node(sim, node);

    if (n && n->swim) {
        eg_swim_set_keyring(n->swim, kr);
    }
}


void
eg_sim_inject(eg_sim_t *sim, eg_uint_t node, eg_uint_t from, u_char *buf,
    size_t len)
{
    eg_sim_node_t   *n;
    eg_swim_addr_t   addr;

    n = eg_sim_node(sim, node);

    if (n == NULL || !n->started || n->crashed) {
        return;
    }

    eg_sim_addr(from, &addr);
    eg_swim_receive(n->swim, &addr, buf, len);
    eg_sim_schedule(n);
}


eg_swim_t *
eg_sim_swim(eg_sim_t *sim, eg_uint_t node)
{
    return node < sim->conf.nodes ? sim->nodes[node].swim : NULL;
}


eg_uint_t
eg_sim_nodes(eg_sim_t *sim)
{
    return sim->conf.nodes;
}


eg_uint_t
eg_sim_alive(eg_sim_t *sim, eg_uint_t node)
{
    eg_sim_node_t  *n;

    n = eg_sim_node(sim, node);

    return n && n->started && !n->crashed;
}


eg_uint_t
eg_sim_view(eg_sim_t *sim, eg_uint_t observer, eg_uint_t subject)
{
    eg_sim_node_t     *o, *s;
    eg_swim_member_t  *m;

    o = eg_sim_node(sim, observer);
    s = eg_sim_node(sim, subject);

    if (o == NULL || s == NULL || o->swim == NULL) {
        return EG_MEMBER_STATES;
    }

    m = eg_swim_find(o->swim, s->ident->id, s->ident->id_len);

    return m ? m->state : EG_MEMBER_STATES;
}


eg_uint_t
eg_sim_seen_as(eg_sim_t *sim, eg_uint_t subject, eg_uint_t state)
{
    eg_uint_t  i, n;

    n = 0;

    for (i = 0; i < sim->conf.nodes; i++) {
        if (i != subject && eg_sim_alive(sim, i)
            && eg_sim_view(sim, i, subject) == state)
        {
            n++;
        }
    }

    return n;
}


void
eg_sim_track(eg_sim_t *sim, eg_uint_t subject)
{
    eg_sim_track_t  *t;

    if (subject >= sim->conf.nodes) {
        return;
    }

    t = &sim->tracks[subject];

    free(t->seen);

    t->seen = calloc((sim->conf.nodes + 7) / 8, 1);
    t->spread.start = sim->now;
    t->spread.done = 0;
    t->spread.count = 0;
}


eg_sim_spread_t *
eg_sim_spread(eg_sim_t *sim, eg_uint_t subject)
{
    return subject < sim->conf.nodes ? &sim->tracks[subject].spread : NULL;
}


eg_sim_crash_t *
eg_sim_crash_info(eg_sim_t *sim, eg_uint_t node)
{
    return node < sim->conf.nodes ? &sim->crashes[node] : NULL;
}


eg_sim_stats_t *
eg_sim_stats(eg_sim_t *sim)
{
    return &sim->stats;
}
