/*
 * SWIM with Lifeguard: the protocol.
 *
 * Failure detection (Das, Gupta, Motivala, "SWIM", 2002).  Every probe
 * interval a node pings the next member of a shuffled round-robin order.
 * An ack within the probe timeout means the member is alive.  Otherwise
 * the node asks indirect_checks other members to ping it on its behalf
 * (PING_REQ); their acks are relayed back.  No ack by the end of the
 * interval makes the member suspect, not dead: the suspicion is gossiped,
 * and the member, on hearing it, refutes it by gossiping itself alive
 * with a higher incarnation.  A suspicion that nobody refutes before its
 * timeout turns into death.  Each member is thus probed once per round
 * in expectation, and a crash is detected in O(1) rounds whatever N is.
 *
 * Dissemination.  Membership updates ride on every ping, ack and gossip
 * packet (eg_swim_dissem.c), each retransmitted about log(N) times, so
 * news reaches everyone in O(log N) rounds without a single broadcast.
 * Periodic push-pull of the whole state over a stream repairs what was
 * lost, and join is the same exchange done once.
 *
 * Lifeguard (Dadgar, Phillips, Currey, 2017) makes the detector robust
 * against a slow node blaming healthy ones:
 *  - Local health (LHA-Probe): a multiplier from 0 to awareness_max - 1
 *    that grows when this node's probes fail without the nacks that
 *    would show its helpers could reach the target, or when it must
 *    refute a suspicion of itself, and shrinks with every acked probe.
 *    The probe interval and timeout are stretched by (multiplier + 1):
 *    a node that cannot keep up probes less and blames less.
 *  - Nacks: an indirect prober that gets no ack from the target in time
 *    says so, which tells the requester its helpers are fine and the
 *    target is the problem.
 *  - LHA-Suspicion: a suspicion starts at max = suspicion_max_mult * min
 *    and shrinks toward min = suspicion_mult * log10(N) * probe_interval
 *    as independent members confirm it; k = suspicion_mult - 2
 *    confirmations bring it to min.  A lone confused accuser thus waits
 *    long enough for a paused or overloaded member to refute.  Only an
 *    accuser other than the first counts: the first accusation gossiped
 *    back does not, nor a snapshot's word, and an accusation at a newer
 *    incarnation (the member refuted, we missed it) starts afresh.  A
 *    failed probe of a suspect is this node's own confirmation.
 *  - Buddy system: a ping to a suspect carries the suspicion first, so
 *    the suspect learns of it, and refutes, at once.
 *
 * Stale news.  Dissemination reaches nearly everyone, not everyone: a
 * member that missed a refutation keeps its suspicion, and, once that
 * runs out, declares a live member dead.  So a record older than what
 * this node knows (a lower incarnation) is answered at once with a
 * GOSSIP of the newer one straight to the packet's sender; and a member
 * that hears a stale accusation of itself, one it has already outbid,
 * tells its current incarnation again instead of refuting anew.
 *
 * Incarnations.  Only a member raises its own incarnation (to refute, to
 * change tags, to leave).  A node starts at an incarnation given by its
 * caller, the wall clock in ms in the daemon, so a restarted node always
 * outbids the records of its previous life without storing anything.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_membership.h>
#include <eg_swim.h>
#include <eg_swim_int.h>
#include <math.h>


static void eg_swim_probe(eg_swim_t *swim, eg_swim_timer_t *t);
static void eg_swim_probe_timeout(eg_swim_t *swim, eg_swim_timer_t *t);
static void eg_swim_probe_finish(eg_swim_t *swim);
static void eg_swim_handle(eg_swim_t *swim, eg_swim_addr_t *from,
    eg_swim_message_t *msg);
static void eg_swim_send_correction(eg_swim_t *swim, eg_swim_addr_t *to,
    eg_swim_member_t **stale, eg_uint_t n);
static void eg_swim_relay_timeout(eg_swim_t *swim, eg_swim_timer_t *t);
static void eg_swim_suspicion_timeout(eg_swim_t *swim, eg_swim_timer_t *t);
static void eg_swim_alive(eg_swim_t *swim, eg_swim_record_t *r);
static void eg_swim_suspect(eg_swim_t *swim, eg_swim_member_t *m,
    uint64_t incarnation, u_char *from, uint8_t from_len);
static void eg_swim_dead(eg_swim_t *swim, eg_swim_record_t *r);
static void eg_swim_refute(eg_swim_t *swim, uint64_t incarnation);
static void eg_swim_awareness(eg_swim_t *swim, eg_int_t delta);
static eg_msec_t eg_swim_scale(eg_swim_t *swim, eg_msec_t t);
static void eg_swim_start_packet(eg_swim_t *swim, eg_swim_buf_t *b,
    uint8_t type);
static void eg_swim_send_ack(eg_swim_t *swim, eg_swim_addr_t *to,
    uint8_t type, uint32_t seq);
static void eg_swim_send_ping(eg_swim_t *swim, eg_swim_addr_t *to,
    uint32_t seq, eg_swim_member_t *target, u_char *id, uint8_t id_len);
static void eg_swim_drop(eg_swim_t *swim, eg_uint_t reason);
static void eg_swim_clear_suspicion(eg_swim_t *swim, eg_swim_member_t *m);


const char  *eg_swim_drop_reasons[] = {
    "short", "magic", "version", "cluster", "decrypt", "plaintext",
    "malformed", "unknown", NULL
};


void
eg_swim_conf_default(eg_swim_conf_t *conf)
{
    /* memberlist's LAN profile, which Serf and Consul run with */

    conf->probe_interval = 1000;
    conf->probe_timeout = 500;
    conf->indirect_checks = 3;
    conf->suspicion_mult = 4;
    conf->suspicion_max_mult = 6;
    conf->retransmit_mult = 4;
    conf->gossip_interval = 200;
    conf->gossip_nodes = 3;
    conf->gossip_to_dead = 30000;
    conf->push_pull_interval = 30000;
    conf->reconnect_interval = 30000;
    conf->reap_timeout = 3600000;
    conf->awareness_max = 8;
    conf->lifeguard = 1;
    conf->packet_size = EG_SWIM_MAX_PACKET;
}


eg_swim_t *
eg_swim_create(eg_swim_conf_t *conf, eg_swim_env_t *env,
    eg_swim_ident_t *self, uint64_t incarnation, eg_str_t *cluster_name,
    eg_swim_keyring_t *keyring)
{
    eg_msec_t   now;
    eg_swim_t  *swim;

    if (cluster_name->len > EG_SWIM_NAME_MAX
        || conf->packet_size > EG_SWIM_MAX_PACKET)
    {
        return NULL;
    }

    swim = calloc(1, sizeof(eg_swim_t));
    if (swim == NULL) {
        return NULL;
    }

    swim->conf = *conf;
    swim->env = *env;

    if (keyring) {
        swim->keyring = *keyring;
    }

    eg_memcpy(swim->cluster_name, cluster_name->data, cluster_name->len);
    swim->cluster_name_len = cluster_name->len;
    swim->cluster = eg_swim_cluster_hash(cluster_name->data,
                                         cluster_name->len);

    env->random(env->data, (u_char *) swim->rng, sizeof(swim->rng));
    swim->rng[0] |= 1;

    eg_rbtree_init(&swim->timers, &swim->timer_sentinel,
                   eg_rbtree_insert_timer_value);
    eg_swim_bcast_init(swim);
    eg_queue_init(&swim->relays);
    eg_queue_init(&swim->pending);

    if (eg_swim_table_init(swim) != EG_OK) {
        eg_swim_destroy(swim);
        return NULL;
    }

    swim->self = eg_swim_table_add(swim, self, EG_MEMBER_ALIVE,
                                   incarnation);
    if (swim->self == NULL) {
        eg_swim_destroy(swim);
        return NULL;
    }

    swim->probe_timer.handler = eg_swim_probe;
    swim->probe_timeout_timer.handler = eg_swim_probe_timeout;
    swim->gossip_timer.handler = eg_swim_gossip;
    swim->push_pull_timer.handler = eg_swim_push_pull;
    swim->reconnect_timer.handler = eg_swim_reconnect;
    swim->reap_timer.handler = eg_swim_reap;

    /* staggered starts, so that a cluster started at once spreads out */

    now = eg_swim_now(swim);

    eg_swim_timer_add(swim, &swim->probe_timer,
                      now + eg_swim_random_n(swim, conf->probe_interval)
                      + 1);
    eg_swim_timer_add(swim, &swim->gossip_timer,
                      now + eg_swim_random_n(swim, conf->gossip_interval)
                      + 1);
    eg_swim_timer_add(swim, &swim->push_pull_timer,
                      now + eg_swim_random_n(swim, conf->push_pull_interval)
                      + 1);
    eg_swim_timer_add(swim, &swim->reconnect_timer,
                      now + conf->reconnect_interval);

    return swim;
}


void
eg_swim_destroy(eg_swim_t *swim)
{
    eg_queue_t         *q;
    eg_swim_relay_t    *relay;
    eg_swim_pending_t  *p;

    if (swim == NULL) {
        return;
    }

    while (!eg_queue_empty(&swim->relays)) {
        q = eg_queue_head(&swim->relays);
        relay = eg_queue_data(q, eg_swim_relay_t, queue);
        eg_queue_remove(q);
        free(relay);
    }

    while (!eg_queue_empty(&swim->pending)) {
        q = eg_queue_head(&swim->pending);
        p = eg_queue_data(q, eg_swim_pending_t, queue);
        eg_queue_remove(q);
        free(p);
    }

    eg_swim_bcast_free(swim);

    if (swim->hash) {
        eg_swim_table_free(swim);
    }

    free(swim);
}


void
eg_swim_set_conf(eg_swim_t *swim, eg_swim_conf_t *conf)
{
    /* running timers keep their deadlines; the next ones use the new */
    swim->conf = *conf;
}


void
eg_swim_set_keyring(eg_swim_t *swim, eg_swim_keyring_t *keyring)
{
    if (keyring) {
        swim->keyring = *keyring;

    } else {
        eg_memzero(&swim->keyring, sizeof(eg_swim_keyring_t));
    }
}


eg_msec_t
eg_swim_now(eg_swim_t *swim)
{
    return swim->env.now(swim->env.data);
}


/* xorshift128+: fast, and reproducible from the seed in the simulator */
uint64_t
eg_swim_random(eg_swim_t *swim)
{
    uint64_t  s1, s0;

    s1 = swim->rng[0];
    s0 = swim->rng[1];

    swim->rng[0] = s0;
    s1 ^= s1 << 23;
    swim->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);

    return swim->rng[1] + s0;
}


eg_uint_t
eg_swim_random_n(eg_swim_t *swim, eg_uint_t n)
{
    return n ? (eg_uint_t) (eg_swim_random(swim) % n) : 0;
}


void
eg_swim_timer_add(eg_swim_t *swim, eg_swim_timer_t *t, eg_msec_t at)
{
    if (t->set) {
        eg_rbtree_delete(&swim->timers, &t->node);
    }

    t->node.key = (eg_rbtree_key_t) at;
    eg_rbtree_insert(&swim->timers, &t->node);
    t->set = 1;
}


void
eg_swim_timer_del(eg_swim_t *swim, eg_swim_timer_t *t)
{
    if (t->set) {
        eg_rbtree_delete(&swim->timers, &t->node);
        t->set = 0;
    }
}


eg_msec_t
eg_swim_next_deadline(eg_swim_t *swim)
{
    eg_rbtree_node_t  *node;

    if (eg_rbtree_empty(&swim->timers)) {
        return (eg_msec_t) -1;
    }

    node = eg_rbtree_min(swim->timers.root, swim->timers.sentinel);

    return (eg_msec_t) node->key;
}


void
eg_swim_tick(eg_swim_t *swim)
{
    eg_msec_t          now;
    eg_swim_timer_t   *t;
    eg_rbtree_node_t  *node;

    now = eg_swim_now(swim);

    while (!eg_rbtree_empty(&swim->timers)) {
        node = eg_rbtree_min(swim->timers.root, swim->timers.sentinel);

        if ((eg_msec_int_t) (node->key - now) > 0) {
            break;
        }

        t = eg_rbtree_data(node, eg_swim_timer_t, node);

        eg_rbtree_delete(&swim->timers, node);
        t->set = 0;

        t->handler(swim, t);
    }
}


/* N for the formulas: the members that count, this node included */
eg_uint_t
eg_swim_estimate(eg_swim_t *swim)
{
    return eg_max(swim->count[EG_MEMBER_ALIVE]
                  + swim->count[EG_MEMBER_SUSPECT], 1);
}


void
eg_swim_event(eg_swim_t *swim, eg_swim_member_t *m, eg_uint_t event)
{
    if (swim->env.event) {
        swim->env.event(swim->env.data, m, event);
    }
}


static eg_msec_t
eg_swim_scale(eg_swim_t *swim, eg_msec_t t)
{
    return t * (swim->awareness + 1);
}


static void
eg_swim_awareness(eg_swim_t *swim, eg_int_t delta)
{
    eg_int_t  a;

    if (!swim->conf.lifeguard) {
        return;
    }

    a = (eg_int_t) swim->awareness + delta;
    a = eg_max(a, 0);
    a = eg_min(a, (eg_int_t) swim->conf.awareness_max - 1);

    swim->awareness = (eg_uint_t) a;
}


static void
eg_swim_drop(eg_swim_t *swim, eg_uint_t reason)
{
    swim->stats.dropped[reason]++;
}


/* a datagram */
void
eg_swim_receive(eg_swim_t *swim, eg_swim_addr_t *from, u_char *buf,
    size_t len)
{
    u_char              *body;
    size_t               blen;
    ssize_t              n;
    uint8_t              flags;
    eg_int_t             rc;
    eg_uint_t            i, nstale, reason;
    eg_swim_member_t    *m, *stale[EG_SWIM_MAX_RECORDS];
    eg_swim_record_t    *r;
    eg_swim_message_t   *msg;

    swim->stats.received_packets++;
    swim->stats.received_bytes += len;

    if (eg_swim_check_header(buf, len, swim->cluster, &flags, &reason)
        != EG_OK)
    {
        eg_swim_drop(swim, reason);
        return;
    }

    if (flags & EG_SWIM_F_COMPRESSED) {
        eg_swim_drop(swim, EG_SWIM_DROP_MALFORMED);
        return;
    }

    body = buf + EG_SWIM_HEADER_LEN;
    blen = len - EG_SWIM_HEADER_LEN;

    if (flags & EG_SWIM_F_ENCRYPTED) {
        if (swim->keyring.nkeys == 0 || len > EG_SWIM_MAX_PACKET) {
            eg_swim_drop(swim, EG_SWIM_DROP_DECRYPT);
            return;
        }

        n = eg_swim_decrypt(&swim->keyring, buf, EG_SWIM_HEADER_LEN, body,
                            blen, swim->plain);
        if (n < 0) {
            eg_swim_drop(swim, EG_SWIM_DROP_DECRYPT);
            return;
        }

        body = swim->plain;
        blen = (size_t) n;

    } else if (swim->keyring.nkeys) {
        eg_swim_drop(swim, EG_SWIM_DROP_PLAINTEXT);
        return;
    }

    msg = &swim->msg;

    rc = eg_swim_decode_message(body, blen, msg);

    if (rc != EG_OK) {
        eg_swim_drop(swim, (eg_uint_t) rc);
        return;
    }

    /*
     * The news first: the answer may depend on it.  News older than
     * ours (a member that has since refuted, say) means the sender
     * missed an update; it hears ours straight back.
     */

    nstale = 0;

    for (i = 0; i < msg->nrecords; i++) {
        r = &msg->records[i];
        m = eg_swim_find(swim, r->id, r->id_len);

        if (m && m->incarnation > r->incarnation) {
            stale[nstale++] = m;
        }

        eg_swim_apply(swim, r, 0);
    }

    /* the message may point into swim->plain: answers overwrite it */

    eg_swim_handle(swim, from, msg);

    if (nstale) {
        eg_swim_send_correction(swim, from, stale, nstale);
    }
}


static void
eg_swim_handle(eg_swim_t *swim, eg_swim_addr_t *from,
    eg_swim_message_t *msg)
{
    u_char             id[EG_SWIM_ID_MAX];
    uint8_t            id_len;
    eg_queue_t        *q;
    eg_swim_relay_t   *relay;
    eg_swim_member_t  *m;

    switch (msg->type) {

    case EG_SWIM_PING:
        if (msg->target_len != swim->self->ident->id_len
            || eg_memcmp(msg->target, swim->self->ident->id,
                         msg->target_len) != 0)
        {
            /* meant for someone who had this address before us */
            return;
        }

        eg_swim_send_ack(swim, from, EG_SWIM_ACK, msg->seq);
        return;

    case EG_SWIM_PING_REQ:
        relay = malloc(sizeof(eg_swim_relay_t));
        if (relay == NULL) {
            return;
        }

        eg_memzero(relay, sizeof(eg_swim_relay_t));

        relay->seq = ++swim->seq;
        relay->req_seq = msg->seq;
        relay->requester = *from;
        relay->timer.handler = eg_swim_relay_timeout;

        eg_queue_insert_tail(&swim->relays, &relay->queue);

        /* the nack must reach the requester before its round ends */
        eg_swim_timer_add(swim, &relay->timer, eg_swim_now(swim)
                          + swim->conf.probe_timeout * 4 / 5);

        /* the id is in swim->plain, where the ping is about to be built */

        id_len = msg->target_len;
        eg_memcpy(id, msg->target, id_len);

        m = eg_swim_find(swim, id, id_len);

        eg_swim_send_ping(swim, &msg->target_addr, relay->seq, m, id,
                          id_len);
        return;

    case EG_SWIM_ACK:
        if (swim->probe_state.active && msg->seq == swim->probe_state.seq) {
            swim->probe_state.acked = 1;
            return;
        }

        for (q = eg_queue_head(&swim->relays);
             q != eg_queue_sentinel(&swim->relays);
             q = eg_queue_next(q))
        {
            relay = eg_queue_data(q, eg_swim_relay_t, queue);

            if (relay->seq == msg->seq) {
                eg_swim_send_ack(swim, &relay->requester, EG_SWIM_ACK,
                                 relay->req_seq);
                eg_swim_timer_del(swim, &relay->timer);
                eg_queue_remove(q);
                free(relay);
                return;
            }
        }

        return;

    case EG_SWIM_NACK:
        if (swim->probe_state.active && msg->seq == swim->probe_state.seq) {
            swim->probe_state.nacks++;
        }

        return;

    case EG_SWIM_GOSSIP:
        return;
    }
}


/*
 * Our records of members the sender spoke of in older incarnations, in
 * one GOSSIP straight back to it.  Dissemination reaches nearly every
 * member, not all; a member that missed a refutation would otherwise
 * keep its suspicion until it ran out and declare a live member dead.
 * The sender's stale word, still being gossiped, is what gives it away.
 */
static void
eg_swim_send_correction(eg_swim_t *swim, eg_swim_addr_t *to,
    eg_swim_member_t **stale, eg_uint_t n)
{
    u_char                *count;
    eg_uint_t              i, sent;
    eg_swim_buf_t          b;
    eg_swim_record_t       r;
    eg_swim_suspicion_t   *s;
    eg_swim_member_ext_t  *ext;

    eg_swim_start_packet(swim, &b, EG_SWIM_GOSSIP);

    count = b.p;
    eg_swim_put_u8(&b, 0);

    sent = 0;

    for (i = 0; i < n && !b.error; i++) {
        eg_swim_member_record(stale[i], &r);

        if (stale[i]->state != EG_MEMBER_ALIVE) {

            /* in the accuser's name, as gossip would tell it */

            ext = stale[i]->ext;
            s = ext ? ext->suspicion : NULL;

            r.flags = EG_SWIM_R_FROM;
            r.from = swim->self->ident->id;
            r.from_len = swim->self->ident->id_len;

            if (stale[i]->state == EG_MEMBER_SUSPECT && s
                && s->accuser_len)
            {
                r.from = s->accuser_id;
                r.from_len = s->accuser_len;
            }
        }

        if (eg_swim_record_size(&r) > (size_t) (b.last - b.p)) {
            break;
        }

        eg_swim_put_record(&b, &r);
        sent++;
    }

    if (sent == 0 || b.error) {
        return;
    }

    *count = (u_char) sent;

    eg_swim_send(swim, to, &b);
}


static void
eg_swim_relay_timeout(eg_swim_t *swim, eg_swim_timer_t *t)
{
    eg_swim_relay_t  *relay;

    /* the timer is the relay's first member */
    relay = (eg_swim_relay_t *) t;

    eg_swim_send_ack(swim, &relay->requester, EG_SWIM_NACK, relay->req_seq);

    eg_queue_remove(&relay->queue);
    free(relay);
}


static void
eg_swim_start_packet(eg_swim_t *swim, eg_swim_buf_t *b, uint8_t type)
{
    b->p = swim->plain;
    b->last = swim->plain + swim->conf.packet_size
              - (swim->keyring.nkeys ? EG_SWIM_CRYPTO_OVERHEAD : 0);
    b->error = 0;

    eg_swim_put_header(b, 0, swim->cluster);
    eg_swim_put_u8(b, type);
}


static void
eg_swim_send_ack(eg_swim_t *swim, eg_swim_addr_t *to, uint8_t type,
    uint32_t seq)
{
    u_char         *count;
    eg_swim_buf_t   b;

    eg_swim_start_packet(swim, &b, type);
    eg_swim_put_u32(&b, seq);

    count = b.p;
    eg_swim_put_u8(&b, 0);

    if (!b.error) {
        *count = (u_char) eg_swim_fill(swim, &b, NULL);
    }

    eg_swim_send(swim, to, &b);
}


static void
eg_swim_send_ping(eg_swim_t *swim, eg_swim_addr_t *to, uint32_t seq,
    eg_swim_member_t *target, u_char *id, uint8_t id_len)
{
    u_char                *count;
    eg_swim_buf_t          b;
    eg_swim_suspicion_t   *s;
    eg_swim_member_ext_t  *ext;

    /*
     * The buddy system: a suspect hears of its suspicion on the ping
     * itself, so that it can refute at once instead of waiting for the
     * gossip to find it.  The record names the original accuser: in our
     * name it would count, for everyone else, as one more confirmation
     * that nobody has actually observed.
     */

    if (target && target->state == EG_MEMBER_SUSPECT) {
        ext = target->ext;

        if (ext == NULL || ext->bcast == NULL) {
            s = ext ? ext->suspicion : NULL;

            if (s && s->accuser_len) {
                eg_swim_enqueue_member(swim, target, s->accuser_id,
                                       s->accuser_len);

            } else {
                eg_swim_enqueue_member(swim, target, NULL, 0);
            }
        }
    }

    eg_swim_start_packet(swim, &b, EG_SWIM_PING);
    eg_swim_put_u32(&b, seq);
    eg_swim_put_u8(&b, id_len);
    eg_swim_put_bytes(&b, id, id_len);
    eg_swim_put_u8(&b, swim->self->ident->id_len);
    eg_swim_put_bytes(&b, swim->self->ident->id, swim->self->ident->id_len);

    count = b.p;
    eg_swim_put_u8(&b, 0);

    if (!b.error) {
        *count = (u_char) eg_swim_fill(swim, &b, target);
    }

    eg_swim_send(swim, to, &b);
}


/* the probe round: judge the last probe, start the next */
static void
eg_swim_probe(eg_swim_t *swim, eg_swim_timer_t *t)
{
    eg_msec_t          now;
    eg_swim_member_t  *m;
    eg_swim_probe_t   *ps;

    eg_swim_probe_finish(swim);

    now = eg_swim_now(swim);

    eg_swim_timer_add(swim, t, now + eg_swim_scale(swim,
                                                 swim->conf.probe_interval));

    if (swim->leaving) {
        return;
    }

    m = eg_swim_next_probe(swim);

    if (m == NULL) {
        return;
    }

    ps = &swim->probe_state;

    eg_memcpy(ps->id, m->ident->id, m->ident->id_len);
    ps->id_len = m->ident->id_len;
    ps->seq = ++swim->seq;
    ps->active = 1;
    ps->acked = 0;
    ps->indirect = 0;
    ps->expected_nacks = 0;
    ps->nacks = 0;

    swim->stats.probes++;

    eg_swim_send_ping(swim, &m->ident->addr, ps->seq, m, m->ident->id,
                      m->ident->id_len);

    eg_swim_timer_add(swim, &swim->probe_timeout_timer,
                      now + eg_swim_scale(swim, swim->conf.probe_timeout));
}


/* no direct ack in time: ask others to try */
static void
eg_swim_probe_timeout(eg_swim_t *swim, eg_swim_timer_t *t)
{
    u_char            *count;
    eg_uint_t          j, n, tries;
    eg_swim_buf_t      b;
    eg_swim_probe_t   *ps;
    eg_swim_member_t  *m, *target, *used[EG_SWIM_INDIRECT_MAX];

    eg_unused(t);

    ps = &swim->probe_state;

    if (!ps->active || ps->acked) {
        return;
    }

    target = eg_swim_find(swim, ps->id, ps->id_len);

    if (target == NULL) {
        return;
    }

    ps->indirect = 1;
    n = 0;

    for (tries = 0;
         n < eg_min(swim->conf.indirect_checks, EG_SWIM_INDIRECT_MAX)
         && tries < 64;
         tries++)
    {
        m = eg_swim_random_member(swim, 1u << EG_MEMBER_ALIVE, 0);

        if (m == NULL) {
            break;
        }

        if (m == target) {
            continue;
        }

        for (j = 0; j < n; j++) {
            if (used[j] == m) {
                break;
            }
        }

        if (j < n) {
            continue;
        }

        used[n++] = m;

        eg_swim_start_packet(swim, &b, EG_SWIM_PING_REQ);
        eg_swim_put_u32(&b, ps->seq);
        eg_swim_put_u8(&b, target->ident->id_len);
        eg_swim_put_bytes(&b, target->ident->id, target->ident->id_len);
        eg_swim_put_addr(&b, &target->ident->addr);

        count = b.p;
        eg_swim_put_u8(&b, 0);

        if (!b.error) {
            *count = (u_char) eg_swim_fill(swim, &b, NULL);
        }

        eg_swim_send(swim, &m->ident->addr, &b);
    }

    ps->expected_nacks = n;
}


/* the end of a probe round: an unanswered probe makes a suspect */
static void
eg_swim_probe_finish(eg_swim_t *swim)
{
    eg_swim_probe_t   *ps;
    eg_swim_member_t  *m;

    ps = &swim->probe_state;

    if (!ps->active) {
        return;
    }

    ps->active = 0;
    eg_swim_timer_del(swim, &swim->probe_timeout_timer);

    if (ps->acked) {
        /* a direct answer is the sign of our own good health */
        if (!ps->indirect) {
            eg_swim_awareness(swim, -1);
        }

        return;
    }

    swim->stats.probe_failures++;

    /*
     * Missing nacks mean our helpers did not get through either, which
     * points at us rather than at the target: lower our own confidence.
     * Without helpers, any failure counts against us.
     */

    if (ps->expected_nacks) {
        if (ps->nacks < ps->expected_nacks) {
            eg_swim_awareness(swim,
                              (eg_int_t) (ps->expected_nacks - ps->nacks));
        }

    } else {
        eg_swim_awareness(swim, 1);
    }

    /*
     * A failed probe of a member someone else already suspects is an
     * independent observation of our own: it confirms that suspicion
     * (and is gossiped as such), which is what brings the Lifeguard
     * timeout down from max toward min for a member that is really gone.
     */

    m = eg_swim_find(swim, ps->id, ps->id_len);

    if (m && (m->state == EG_MEMBER_ALIVE || m->state == EG_MEMBER_SUSPECT)) {
        eg_swim_suspect(swim, m, m->incarnation, swim->self->ident->id,
                        swim->self->ident->id_len);
    }
}


/* what a record says, applied; merge is for snapshots (push-pull, join) */
void
eg_swim_apply(eg_swim_t *swim, eg_swim_record_t *r, eg_uint_t merge)
{
    eg_swim_member_t  *m;

    switch (r->state) {

    case EG_MEMBER_ALIVE:
        eg_swim_alive(swim, r);
        return;

    case EG_MEMBER_SUSPECT:
    case EG_MEMBER_DEAD:
        m = eg_swim_find(swim, r->id, r->id_len);

        if (merge) {
            /*
             * A snapshot's word that someone is dead is second hand and
             * maybe old: suspect it, in the name of its accuser (the
             * record's from, or else the snapshot's sender: see
             * eg_swim_merge_snapshot()), and let it refute.  A member we
             * never heard of is learnt first.  One we already suspect
             * stays as it is: a snapshot is nobody's independent
             * observation, so it confirms nothing.
             */

            if (m == NULL && (r->flags & EG_SWIM_R_ADDR)) {
                r->state = EG_MEMBER_ALIVE;
                eg_swim_alive(swim, r);
                m = eg_swim_find(swim, r->id, r->id_len);
            }

            if (m && m->state == EG_MEMBER_ALIVE) {
                if (r->from_len) {
                    eg_swim_suspect(swim, m, r->incarnation, r->from,
                                    r->from_len);

                } else {
                    eg_swim_suspect(swim, m, r->incarnation,
                                    swim->self->ident->id,
                                    swim->self->ident->id_len);
                }
            }

            return;
        }

        if (r->state == EG_MEMBER_SUSPECT) {
            if (m) {
                eg_swim_suspect(swim, m, r->incarnation, r->from,
                                r->from_len);
            }

            return;
        }

        eg_swim_dead(swim, r);
        return;

    case EG_MEMBER_LEFT:
        eg_swim_dead(swim, r);
        return;
    }
}


static void
eg_swim_alive(eg_swim_t *swim, eg_swim_record_t *r)
{
    eg_uint_t          old, event;
    eg_swim_ident_t   *ident;
    eg_swim_member_t  *m;

    m = eg_swim_find(swim, r->id, r->id_len);

    if (m == swim->self) {
        if (r->incarnation < m->incarnation
            || (r->incarnation == m->incarnation
                && eg_swim_ident_same(m->ident, r)))
        {
            return;     /* our own news, coming back around */
        }

        /* an old record of us (a previous life) or a conflicting one */

        if (!swim->leaving) {
            eg_swim_refute(swim, r->incarnation);
        }

        return;
    }

    if (m == NULL) {
        ident = eg_swim_ident_create(r->id, r->id_len, &r->addr, r->tags,
                                     r->tags_len);
        if (ident == NULL) {
            return;
        }

        m = eg_swim_table_add(swim, ident, EG_MEMBER_ALIVE, r->incarnation);
        eg_swim_ident_unref(ident);

        if (m == NULL) {
            return;
        }

        eg_swim_enqueue_member(swim, m, NULL, 0);
        eg_swim_event(swim, m, EG_SWIM_EVENT_JOIN);
        return;
    }

    if (r->incarnation <= m->incarnation) {
        return;
    }

    old = m->state;

    if (!eg_swim_ident_same(m->ident, r)) {
        ident = eg_swim_ident_create(r->id, r->id_len, &r->addr, r->tags,
                                     r->tags_len);
        if (ident == NULL) {
            return;
        }

        eg_swim_ident_unref(m->ident);
        m->ident = ident;
        event = EG_SWIM_EVENT_UPDATE;

    } else {
        event = EG_SWIM_EVENT_INCARNATION;
    }

    m->incarnation = r->incarnation;

    eg_swim_clear_suspicion(swim, m);

    if (old != EG_MEMBER_ALIVE) {
        eg_swim_set_state(swim, m, EG_MEMBER_ALIVE);
        event = EG_SWIM_EVENT_JOIN;
    }

    eg_swim_event(swim, m, event);

    eg_swim_enqueue_member(swim, m, NULL, 0);
}


static void
eg_swim_clear_suspicion(eg_swim_t *swim, eg_swim_member_t *m)
{
    eg_swim_suspicion_t   *s;
    eg_swim_member_ext_t  *ext;

    ext = m->ext;

    if (ext == NULL || ext->suspicion == NULL) {
        return;
    }

    s = ext->suspicion;
    eg_swim_timer_del(swim, &s->timer);
    free(s);
    ext->suspicion = NULL;
}


static eg_msec_t
eg_swim_suspicion_deadline(eg_swim_t *swim, eg_swim_suspicion_t *s)
{
    double     frac;
    eg_msec_t  timeout;

    eg_unused(swim);

    if (s->k == 0 || s->n >= s->k) {
        return s->start + s->min;
    }

    /* Lifeguard: from max down to min as log(n + 1) / log(k + 1) */

    frac = log((double) s->n + 1.0) / log((double) s->k + 1.0);
    timeout = (eg_msec_t) ((double) s->max
                           - frac * (double) (s->max - s->min));

    return s->start + eg_max(timeout, s->min);
}


static void
eg_swim_suspect(eg_swim_t *swim, eg_swim_member_t *m, uint64_t incarnation,
    u_char *from, uint8_t from_len)
{
    double                 n;
    uint32_t               h;
    eg_uint_t              i;
    eg_msec_t              min;
    eg_swim_suspicion_t   *s;
    eg_swim_member_ext_t  *ext;

    if (m == swim->self) {
        if (!swim->leaving) {
            eg_swim_refute(swim, incarnation);
        }

        return;
    }

    if (incarnation < m->incarnation
        || m->state == EG_MEMBER_DEAD || m->state == EG_MEMBER_LEFT)
    {
        return;
    }

    ext = eg_swim_ext(swim, m);
    if (ext == NULL) {
        return;
    }

    if (m->state == EG_MEMBER_SUSPECT && ext->suspicion
        && incarnation > m->incarnation)
    {
        /*
         * The member refuted our suspicion (we missed that) and is
         * accused again: a new suspicion, not a confirmation of the old
         * one, whose time has mostly run.
         */

        eg_swim_clear_suspicion(swim, m);
    }

    if (m->state == EG_MEMBER_SUSPECT && ext->suspicion) {

        /* a confirmation: counts once per accuser, and not the first */

        s = ext->suspicion;
        h = eg_swim_cluster_hash(from, from_len);

        if (h == s->accuser) {
            return;     /* the first accusation, gossiped back to us */
        }

        for (i = 0; i < s->n && i < eg_nelems(s->from); i++) {
            if (s->from[i] == h) {
                return;
            }
        }

        if (s->n >= s->k) {
            return;
        }

        s->from[s->n++] = h;

        eg_swim_timer_add(swim, &s->timer,
                          eg_swim_suspicion_deadline(swim, s));

        /* pass the confirmation on: others may count it too */
        eg_swim_enqueue_member(swim, m, from, from_len);
        return;
    }

    s = calloc(1, sizeof(eg_swim_suspicion_t));
    if (s == NULL) {
        return;
    }

    m->incarnation = incarnation;
    eg_swim_set_state(swim, m, EG_MEMBER_SUSPECT);

    /* min = suspicion_mult * log10(N) * probe_interval, N at least 10 */

    n = (double) eg_swim_estimate(swim);
    n = eg_max(log10(eg_max(n, 1.0)), 1.0);
    min = (eg_msec_t) (swim->conf.suspicion_mult * n
                       * (double) swim->conf.probe_interval);

    s->member = m;
    s->start = eg_swim_now(swim);
    s->min = min;

    if (swim->conf.lifeguard && swim->conf.suspicion_mult > 2) {
        s->k = eg_min(swim->conf.suspicion_mult - 2, eg_nelems(s->from));
        s->max = min * swim->conf.suspicion_max_mult;

    } else {
        s->k = 0;
        s->max = min;
    }

    /*
     * The accuser's own word is not a confirmation: n starts at 0, and
     * its accusation coming back to us through others does not count.
     */

    s->accuser = eg_swim_cluster_hash(from, from_len);
    s->accuser_len = eg_min(from_len, EG_SWIM_ID_MAX);
    eg_memcpy(s->accuser_id, from, s->accuser_len);
    s->timer.handler = eg_swim_suspicion_timeout;
    ext->suspicion = s;

    eg_swim_timer_add(swim, &s->timer, eg_swim_suspicion_deadline(swim, s));

    swim->stats.suspicions++;

    eg_swim_enqueue_member(swim, m, from, from_len);
    eg_swim_event(swim, m, EG_SWIM_EVENT_SUSPECT);
}


static void
eg_swim_suspicion_timeout(eg_swim_t *swim, eg_swim_timer_t *t)
{
    eg_swim_member_t      *m;
    eg_swim_suspicion_t   *s;
    eg_swim_member_ext_t  *ext;

    s = (eg_swim_suspicion_t *) t;
    m = s->member;
    ext = m->ext;

    ext->suspicion = NULL;
    free(s);

    if (m->state != EG_MEMBER_SUSPECT) {
        return;
    }

    eg_swim_set_state(swim, m, EG_MEMBER_DEAD);
    eg_swim_enqueue_member(swim, m, NULL, 0);
    eg_swim_gossip_now(swim);
    eg_swim_event(swim, m, EG_SWIM_EVENT_FAIL);
}


static void
eg_swim_dead(eg_swim_t *swim, eg_swim_record_t *r)
{
    eg_swim_member_t  *m;

    m = eg_swim_find(swim, r->id, r->id_len);

    if (m == NULL) {
        return;
    }

    if (m == swim->self) {
        if (!swim->leaving) {
            eg_swim_refute(swim, r->incarnation);
        }

        return;
    }

    if (r->incarnation < m->incarnation
        || m->state == EG_MEMBER_DEAD || m->state == EG_MEMBER_LEFT)
    {
        return;
    }

    eg_swim_clear_suspicion(swim, m);

    m->incarnation = r->incarnation;
    eg_swim_set_state(swim, m, r->state);

    eg_swim_enqueue_member(swim, m, r->from, r->from_len);
    eg_swim_gossip_now(swim);
    eg_swim_event(swim, m, r->state == EG_MEMBER_LEFT ? EG_SWIM_EVENT_LEAVE
                                                      : EG_SWIM_EVENT_FAIL);
}


/* someone thinks us suspect, dead, or older than we are: outbid it */
static void
eg_swim_refute(eg_swim_t *swim, uint64_t incarnation)
{
    eg_swim_member_t      *self;
    eg_swim_member_ext_t  *ext;

    self = swim->self;

    if (incarnation < self->incarnation) {
        /*
         * Already outbid: our refutation missed whoever still says
         * this (it ran out of retransmits while the network was lost).
         * Say it again, as it stands, unless it is still being said.
         */

        ext = self->ext;

        if (ext == NULL || ext->bcast == NULL) {
            eg_swim_enqueue_member(swim, self, NULL, 0);
        }

        return;
    }

    self->incarnation = incarnation + 1;
    eg_swim_event(swim, self, EG_SWIM_EVENT_INCARNATION);

    swim->stats.refutations++;

    /* having to refute is a sign that we are the slow one */
    eg_swim_awareness(swim, 1);

    eg_swim_enqueue_member(swim, self, NULL, 0);
}


void
eg_swim_join(eg_swim_t *swim, eg_swim_addr_t *addr)
{
    eg_swim_stream_send(swim, addr, EG_SWIM_JOIN);
}


u_char *
eg_swim_stream_request(eg_swim_t *swim, eg_swim_addr_t *from, u_char *buf,
    size_t len, size_t *rlen)
{
    u_char     *body, *answer;
    size_t      blen;
    uint8_t     type;
    eg_uint_t   reason;

    eg_unused(from);

    *rlen = 0;

    swim->stats.received_packets++;
    swim->stats.received_bytes += len;

    if (eg_swim_open_stream(swim, buf, len, &body, &blen, &type, &reason)
        != EG_OK)
    {
        eg_swim_drop(swim, reason);
        return NULL;
    }

    if (type != EG_SWIM_JOIN && type != EG_SWIM_PUSH_PULL) {
        free(body);
        eg_swim_drop(swim, EG_SWIM_DROP_UNKNOWN);
        return NULL;
    }

    if (type == EG_SWIM_JOIN && swim->forming) {
        /* not taking members yet: say so, and who we are */
        free(body);
        swim->stats.streams++;
        return eg_swim_snapshot(swim, EG_SWIM_NOT_READY, rlen);
    }

    /* the answer is our state before theirs is merged into it */

    answer = NULL;

    if (type == EG_SWIM_PUSH_PULL) {
        answer = eg_swim_snapshot(swim, EG_SWIM_SNAPSHOT, rlen);
    }

    if (eg_swim_merge_snapshot(swim, body, blen, &reason) != EG_OK) {
        free(body);
        free(answer);
        *rlen = 0;
        eg_swim_drop(swim, reason);
        return NULL;
    }

    free(body);

    if (type == EG_SWIM_JOIN) {
        /* the joiner is in, and its alive news is queued: tell it all */
        answer = eg_swim_snapshot(swim, EG_SWIM_SNAPSHOT, rlen);
    }

    swim->stats.streams++;

    return answer;
}


void
eg_swim_stream_response(eg_swim_t *swim, uint32_t tag, u_char *buf,
    size_t len)
{
    u_char             *body;
    size_t              blen;
    uint8_t             type;
    eg_int_t            rc;
    eg_uint_t           reason;
    eg_queue_t         *q;
    eg_swim_record_t    r;
    eg_swim_pending_t  *p;

    p = NULL;

    for (q = eg_queue_head(&swim->pending);
         q != eg_queue_sentinel(&swim->pending);
         q = eg_queue_next(q))
    {
        p = eg_queue_data(q, eg_swim_pending_t, queue);

        if (p->tag == tag) {
            break;
        }

        p = NULL;
    }

    if (p == NULL) {
        return;
    }

    eg_queue_remove(&p->queue);

    rc = EG_ERROR;

    if (buf) {
        swim->stats.received_packets++;
        swim->stats.received_bytes += len;

        rc = eg_swim_open_stream(swim, buf, len, &body, &blen, &type,
                                 &reason);

        if (rc == EG_OK && p->type == EG_SWIM_JOIN
            && type == EG_SWIM_NOT_READY)
        {
            /* the peer is forming a cluster: learn its id, merge nothing */

            if (eg_swim_peek_snapshot(swim, body, blen, &r, &reason)
                == EG_OK)
            {
                if (swim->env.join_result) {
                    swim->env.join_result(swim->env.data, &p->to,
                                          EG_DECLINED, r.id, r.id_len);
                }

                free(body);
                free(p);
                return;
            }

            free(body);
            eg_swim_drop(swim, reason);
            rc = EG_ERROR;

        } else if (rc == EG_OK && type != EG_SWIM_SNAPSHOT) {
            free(body);
            reason = EG_SWIM_DROP_UNKNOWN;
            rc = EG_ERROR;
            eg_swim_drop(swim, reason);

        } else if (rc == EG_OK) {
            rc = eg_swim_merge_snapshot(swim, body, blen, &reason);
            free(body);

            if (rc != EG_OK) {
                eg_swim_drop(swim, reason);
            }

        } else {
            eg_swim_drop(swim, reason);
        }
    }

    if (p->type == EG_SWIM_JOIN && swim->env.join_result) {
        swim->env.join_result(swim->env.data, &p->to, rc, NULL, 0);
    }

    free(p);
}


void
eg_swim_set_forming(eg_swim_t *swim, eg_uint_t forming)
{
    swim->forming = forming ? 1 : 0;
}


eg_int_t
eg_swim_set_tags(eg_swim_t *swim, u_char *tags, size_t len)
{
    eg_swim_ident_t   *ident, *old;

    if (len > EG_SWIM_TAGS_MAX || eg_swim_tags_valid(tags, len) != EG_OK) {
        return EG_ERROR;
    }

    old = swim->self->ident;

    if (old->tags_len == len && eg_memcmp(old->tags, tags, len) == 0) {
        return EG_OK;   /* unchanged: no new incarnation */
    }

    ident = eg_swim_ident_create(old->id, old->id_len, &old->addr, tags,
                                 len);
    if (ident == NULL) {
        return EG_ERROR;
    }

    swim->self->ident = ident;
    eg_swim_ident_unref(old);

    swim->self->incarnation++;

    eg_swim_enqueue_member(swim, swim->self, NULL, 0);
    eg_swim_event(swim, swim->self, EG_SWIM_EVENT_UPDATE);

    return EG_OK;
}


void
eg_swim_leave(eg_swim_t *swim)
{
    if (swim->leaving) {
        return;
    }

    swim->leaving = 1;

    swim->self->incarnation++;
    eg_swim_set_state(swim, swim->self, EG_MEMBER_LEFT);
    eg_swim_enqueue_member(swim, swim->self, NULL, 0);
}


/* the leave has been told as often as any news is, or nobody is left */
eg_uint_t
eg_swim_leave_done(eg_swim_t *swim)
{
    eg_swim_member_ext_t  *ext;

    if (!swim->leaving) {
        return 0;
    }

    ext = swim->self->ext;

    return ext == NULL || ext->bcast == NULL
           || (swim->count[EG_MEMBER_ALIVE]
               + swim->count[EG_MEMBER_SUSPECT]) == 0;
}


eg_swim_member_t *
eg_swim_add_member(eg_swim_t *swim, eg_swim_ident_t *id, eg_uint_t state,
    uint64_t incarnation)
{
    if (eg_swim_find(swim, id->id, id->id_len)) {
        return NULL;
    }

    return eg_swim_table_add(swim, id, state, incarnation);
}


eg_swim_member_t *
eg_swim_self(eg_swim_t *swim)
{
    return swim->self;
}


eg_uint_t
eg_swim_members(eg_swim_t *swim, eg_uint_t *by_state)
{
    eg_uint_t  i;

    if (by_state) {
        for (i = 0; i < EG_MEMBER_STATES; i++) {
            by_state[i] = swim->count[i];
        }
    }

    return swim->nmembers;
}


void
eg_swim_foreach(eg_swim_t *swim, eg_swim_member_pt handler, void *data)
{
    eg_uint_t  i;

    handler(data, swim->self);

    for (i = 0; i < swim->nprobe; i++) {
        handler(data, swim->probe[i]);
    }
}


void *
eg_swim_member_data(eg_swim_member_t *m)
{
    return m->ext ? ((eg_swim_member_ext_t *) m->ext)->data : NULL;
}


eg_int_t
eg_swim_set_member_data(eg_swim_t *swim, eg_swim_member_t *m, void *data)
{
    eg_swim_member_ext_t  *ext;

    ext = eg_swim_ext(swim, m);
    if (ext == NULL) {
        return EG_ERROR;
    }

    ext->data = data;

    return EG_OK;
}


eg_uint_t
eg_swim_local_health(eg_swim_t *swim)
{
    return swim->awareness;
}


eg_swim_stats_t *
eg_swim_stats(eg_swim_t *swim)
{
    return &swim->stats;
}
