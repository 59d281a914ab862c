/*
 * The SWIM core as a whole, on the simulator (src/sim/eg_sim.h): joins,
 * failure detection within the bound the configuration implies,
 * refutation, no false positives under loss, Lifeguard against a paused
 * member, indirect probes, the suspicion timeout and what counts as a
 * confirmation, stale news answered, partitions that heal, key rotation,
 * hostile datagrams and stream requests, leave, tags and reaping.  Every
 * run is deterministic: a seed, virtual time, and a wait for a condition
 * with a deadline rather than a fixed sleep.
 */

#include <eg_unit.h>
#include <eg_swim.h>
#include <eg_sim.h>
#include <math.h>


#define EG_UNIT_STEP     100        /* ms between condition checks */


typedef eg_uint_t (*eg_unit_sim_pt)(eg_sim_t *sim, void *data);


/* a member as one node sees it, for "nothing changed" */
typedef struct {
    u_char               id[EG_SWIM_ID_MAX];
    uint8_t              id_len;
    uint8_t              state;
    uint64_t             incarnation;
} eg_unit_member_t;

typedef struct {
    eg_uint_t            n;
    eg_unit_member_t     members[64];
} eg_unit_table_t;


static eg_sim_t  *sim;


static void
eg_unit_swim_teardown(void)
{
    eg_sim_destroy(sim);
    sim = NULL;
}


static void
eg_unit_sim_conf(eg_sim_conf_t *conf, eg_uint_t nodes, uint64_t seed)
{
    eg_sim_conf_default(conf);

    conf->nodes = nodes;
    conf->seed = seed;
}


static eg_sim_t *
eg_unit_sim_create(eg_sim_conf_t *conf)
{
    eg_sim_t  *s;

    s = eg_sim_create(conf);
    ck_assert_msg(s != NULL, "eg_sim_create() failed");

    return s;
}


/*
 * Runs until pred holds (checked every EG_UNIT_STEP ms) or until the
 * deadline; returns the time it first held, or 0.
 */
static eg_msec_t
eg_unit_sim_until(eg_sim_t *s, eg_msec_t deadline, eg_unit_sim_pt pred,
    void *data)
{
    eg_msec_t  t;

    for (t = eg_sim_now(s); ; t += EG_UNIT_STEP) {
        eg_sim_run(s, eg_min(t, deadline));

        if (pred(s, data)) {
            return eg_sim_now(s);
        }

        if (t >= deadline) {
            return 0;
        }
    }
}


/* how many live observers (not the subject) see subject as state */
static eg_uint_t
eg_unit_sim_seen(eg_sim_t *s, eg_uint_t subject, eg_uint_t state)
{
    return eg_sim_seen_as(s, subject, state);
}


static eg_uint_t
eg_unit_sim_running(eg_sim_t *s)
{
    eg_uint_t  i, n;

    n = 0;

    for (i = 0; i < eg_sim_nodes(s); i++) {
        n += eg_sim_alive(s, i) ? 1 : 0;
    }

    return n;
}


/* every running node sees every other running node alive */
static eg_uint_t
eg_unit_sim_all_alive(eg_sim_t *s, void *data)
{
    eg_uint_t  i, j;

    eg_unused(data);

    for (i = 0; i < eg_sim_nodes(s); i++) {
        if (!eg_sim_alive(s, i)) {
            continue;
        }

        for (j = 0; j < eg_sim_nodes(s); j++) {
            if (i != j && eg_sim_alive(s, j)
                && eg_sim_view(s, i, j) != EG_MEMBER_ALIVE)
            {
                return 0;
            }
        }
    }

    return 1;
}


/* a node in every other live node's view */
typedef struct {
    eg_uint_t            subject;
    eg_uint_t            state;
} eg_unit_seen_t;


static eg_uint_t
eg_unit_sim_seen_by_all(eg_sim_t *s, void *data)
{
    eg_unit_seen_t  *w = data;
    eg_uint_t        others;

    others = eg_unit_sim_running(s) - (eg_sim_alive(s, w->subject) ? 1 : 0);

    return eg_unit_sim_seen(s, w->subject, w->state) == others;
}


static eg_swim_member_t *
eg_unit_sim_member(eg_sim_t *s, eg_uint_t observer, eg_uint_t subject)
{
    eg_swim_member_t  *self;

    self = eg_swim_self(eg_sim_swim(s, subject));

    return eg_swim_find(eg_sim_swim(s, observer), self->ident->id,
                        self->ident->id_len);
}


static void
eg_unit_table_add(void *data, eg_swim_member_t *m)
{
    eg_unit_table_t   *t = data;
    eg_unit_member_t  *u;

    ck_assert(t->n < eg_nelems(t->members));

    u = &t->members[t->n++];

    eg_memcpy(u->id, m->ident->id, m->ident->id_len);
    u->id_len = m->ident->id_len;
    u->state = m->state;
    u->incarnation = m->incarnation;
}


static void
eg_unit_table(eg_sim_t *s, eg_uint_t node, eg_unit_table_t *t)
{
    eg_memzero(t, sizeof(eg_unit_table_t));
    eg_swim_foreach(eg_sim_swim(s, node), eg_unit_table_add, t);
}


static void
eg_unit_table_same(eg_unit_table_t *a, eg_unit_table_t *b)
{
    eg_uint_t  i;

    ck_assert_uint_eq(a->n, b->n);

    for (i = 0; i < a->n; i++) {
        ck_assert_uint_eq(a->members[i].id_len, b->members[i].id_len);
        ck_assert_mem_eq(a->members[i].id, b->members[i].id,
                         a->members[i].id_len);
        ck_assert_uint_eq(a->members[i].state, b->members[i].state);
        ck_assert(a->members[i].incarnation == b->members[i].incarnation);
    }
}


static void
eg_unit_key(u_char *key, u_char seed)
{
    eg_uint_t  i;

    for (i = 0; i < EG_SWIM_KEY_LEN; i++) {
        key[i] = (u_char) (seed * 131 + i * 17 + 5);
    }
}


/* a keyring of the keys named by seeds, the first primary */
static void
eg_unit_keyring(eg_swim_keyring_t *kr, const char *seeds)
{
    eg_uint_t  i;

    eg_memzero(kr, sizeof(eg_swim_keyring_t));

    for (i = 0; seeds[i]; i++) {
        eg_unit_key(kr->keys[i], (u_char) seeds[i]);
    }

    kr->nkeys = i;
}


static void
eg_unit_set_keyring_all(eg_sim_t *s, const char *seeds)
{
    eg_uint_t          i;
    eg_swim_keyring_t  kr;

    eg_unit_keyring(&kr, seeds);

    for (i = 0; i < eg_sim_nodes(s); i++) {
        eg_sim_set_keyring(s, i, &kr);
    }
}


static uint64_t
eg_unit_dropped(eg_sim_t *s, eg_uint_t reason)
{
    eg_uint_t  i;
    uint64_t   n;

    n = 0;

    for (i = 0; i < eg_sim_nodes(s); i++) {
        if (eg_sim_swim(s, i)) {
            n += eg_swim_stats(eg_sim_swim(s, i))->dropped[reason];
        }
    }

    return n;
}


/*
 * A GOSSIP datagram for cluster saying that the simulator's node
 * "subject" is in state at incarnation, in the name of node "from" (or of
 * "intruder" when from is -1); sealed with kr when given.  Returns the
 * length.
 */
static size_t
eg_unit_gossip(u_char *out, const char *cluster, eg_uint_t subject,
    eg_uint_t state, uint64_t incarnation, eg_int_t from,
    eg_swim_keyring_t *kr)
{
    u_char             plain[EG_SWIM_MAX_PACKET], id[32], by[32], *p;
    u_char             nonce[EG_SWIM_NONCE_LEN];
    size_t             len, n;
    eg_swim_buf_t      b;
    eg_swim_record_t   r;

    p = eg_slprintf(id, id + sizeof(id), "node-%lu", (unsigned long) subject);

    eg_memzero(&r, sizeof(eg_swim_record_t));
    r.state = (uint8_t) state;
    r.flags = EG_SWIM_R_FROM;
    r.incarnation = incarnation;
    r.id = id;
    r.id_len = (uint8_t) (p - id);

    if (from < 0) {
        p = eg_cpymem(by, "intruder", 8);

    } else {
        p = eg_slprintf(by, by + sizeof(by), "node-%lu",
                        (unsigned long) from);
    }

    r.from = by;
    r.from_len = (uint8_t) (p - by);

    b.p = plain;
    b.last = plain + sizeof(plain);
    b.error = 0;

    eg_swim_put_header(&b, kr ? EG_SWIM_F_ENCRYPTED : 0,
                       eg_swim_cluster_hash((u_char *) cluster,
                                            strlen(cluster)));
    eg_swim_put_u8(&b, EG_SWIM_GOSSIP);
    eg_swim_put_u8(&b, 1);
    eg_swim_put_record(&b, &r);

    ck_assert_int_eq(b.error, 0);

    len = (size_t) (b.p - plain);

    if (kr == NULL) {
        eg_memcpy(out, plain, len);
        return len;
    }

    eg_memset(nonce, 0x42, sizeof(nonce));
    eg_memcpy(out, plain, EG_SWIM_HEADER_LEN);

    n = eg_swim_encrypt(kr, plain, EG_SWIM_HEADER_LEN, nonce,
                        plain + EG_SWIM_HEADER_LEN, len - EG_SWIM_HEADER_LEN,
                        out + EG_SWIM_HEADER_LEN);
    ck_assert_uint_ne(n, 0);

    return EG_SWIM_HEADER_LEN + n;
}


/*
 * The hostile tests' gossip: node "subject" dead at incarnation 100, a
 * record that would change the receiver's table if it were accepted.
 */
static size_t
eg_unit_gossip_dead(u_char *out, const char *cluster, eg_uint_t subject,
    eg_swim_keyring_t *kr)
{
    return eg_unit_gossip(out, cluster, subject, EG_MEMBER_DEAD, 100, -1,
                          kr);
}


/* gossip that node "from" suspects node "subject" at incarnation */
static void
eg_unit_accuse(eg_sim_t *s, eg_uint_t to, eg_uint_t subject,
    uint64_t incarnation, eg_uint_t from, eg_uint_t via)
{
    u_char  pkt[EG_SWIM_MAX_PACKET];
    size_t  len;

    len = eg_unit_gossip(pkt, "sim", subject, EG_MEMBER_SUSPECT,
                         incarnation, (eg_int_t) from, NULL);

    eg_sim_inject(s, to, via, pkt, len);
}


/* dissemination */

START_TEST(joining_node_reaches_every_member)
{
    u_char            hold[40];
    eg_uint_t         i, by_state[EG_MEMBER_STATES];
    eg_sim_conf_t     conf;
    eg_sim_spread_t  *sp;

    eg_unit_sim_conf(&conf, 40, 11);

    eg_memzero(hold, sizeof(hold));
    hold[39] = 1;
    conf.hold = hold;

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 5000);

    ck_assert(!eg_sim_alive(sim, 39));
    ck_assert_int_eq(eg_sim_join(sim, 39, 0), EG_OK);

    ck_assert(eg_unit_sim_until(sim, 35000, eg_unit_sim_all_alive, NULL));

    sp = eg_sim_spread(sim, 39);
    ck_assert_msg(sp->done != 0, "only %lu of 39 learnt of the joiner",
                  (unsigned long) sp->count);
    ck_assert_uint_eq(sp->count, 39);

    for (i = 0; i < 39; i++) {
        ck_assert_uint_eq(eg_sim_view(sim, i, 39), EG_MEMBER_ALIVE);
    }

    /* and the joiner learnt everyone from the snapshot */

    ck_assert_uint_eq(eg_swim_members(eg_sim_swim(sim, 39), by_state), 40);
    ck_assert_uint_eq(by_state[EG_MEMBER_ALIVE], 40);

    ck_assert_uint_eq(eg_sim_stats(sim)->false_dead, 0);
}
END_TEST


/* failure detection */

START_TEST(crashed_node_is_declared_dead_by_every_live_node_within_the_bound)
{
    double           n;
    eg_msec_t        round, suspicion, spread, bound;
    eg_uint_t        nodes, digits, i;
    eg_sim_conf_t    conf;
    eg_sim_crash_t  *c;
    eg_unit_seen_t   w;

    nodes = 30;
    eg_unit_sim_conf(&conf, nodes, 3);

    /*
     * The bound, from the configuration:
     *  - a probe round: in N - 1 probe intervals every member has been
     *    probed by the others, plus the interval in which the probe of
     *    the crashed node fails;
     *  - the longest suspicion, Lifeguard's suspicion_max_mult * min with
     *    min = suspicion_mult * log10(N) * probe_interval (N at least 10);
     *  - the time the suspicion takes to reach every node: each update
     *    is gossiped retransmit_mult * ceil(log10(N + 1)) times, one
     *    gossip interval apart.
     */

    round = (nodes - 1 + 1) * conf.swim.probe_interval;

    n = eg_max(log10((double) nodes), 1.0);
    suspicion = (eg_msec_t) (conf.swim.suspicion_max_mult
                             * conf.swim.suspicion_mult * n
                             * (double) conf.swim.probe_interval);

    for (digits = 0, i = nodes; i; i /= 10) {
        digits++;
    }

    spread = conf.swim.retransmit_mult * digits * conf.swim.gossip_interval;

    bound = round + suspicion + spread;

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 10000);
    eg_sim_crash(sim, 7);

    w.subject = 7;
    w.state = EG_MEMBER_DEAD;

    ck_assert(eg_unit_sim_until(sim, 10000 + bound, eg_unit_sim_seen_by_all,
                                &w));

    c = eg_sim_crash_info(sim, 7);

    ck_assert(c->at == 10000);
    ck_assert(c->first_suspect >= c->at);
    ck_assert(c->first_dead >= c->first_suspect);
    ck_assert_msg(c->all_dead != 0 && c->all_dead - c->at <= bound,
                  "dead everywhere after %lu ms, the bound is %lu ms",
                  (unsigned long) (c->all_dead - c->at),
                  (unsigned long) bound);
    ck_assert_uint_eq(c->dead_count, nodes - 1);

    ck_assert_uint_eq(eg_unit_sim_seen(sim, 7, EG_MEMBER_DEAD), nodes - 1);
    ck_assert_uint_eq(eg_sim_stats(sim)->false_dead, 0);
}
END_TEST


START_TEST(suspected_live_node_refutes_with_a_higher_incarnation)
{
    eg_uint_t          i, victim;
    uint64_t           inc;
    eg_sim_conf_t      conf;
    eg_unit_seen_t     w;
    eg_swim_member_t  *m;

    victim = 4;
    eg_unit_sim_conf(&conf, 20, 5);

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 5000);

    ck_assert(eg_swim_self(eg_sim_swim(sim, victim))->incarnation == 1);

    /* every packet to and from the victim lost for 4 seconds */

    for (i = 0; i < 20; i++) {
        if (i != victim) {
            eg_sim_link_loss(sim, victim, i, 1.0);
        }
    }

    eg_sim_run(sim, 9000);

    ck_assert_msg(eg_unit_sim_seen(sim, victim, EG_MEMBER_SUSPECT) > 0,
                  "nobody suspects the unreachable node");

    for (i = 0; i < 20; i++) {
        if (i != victim) {
            eg_sim_link_loss(sim, victim, i, 0.0);
        }
    }

    w.subject = victim;
    w.state = EG_MEMBER_ALIVE;

    ck_assert(eg_unit_sim_until(sim, 30000, eg_unit_sim_seen_by_all, &w));

    ck_assert_uint_gt(eg_swim_stats(eg_sim_swim(sim, victim))->refutations,
                      0);

    inc = eg_swim_self(eg_sim_swim(sim, victim))->incarnation;
    ck_assert(inc > 1);

    /* gossip settles: everyone holds the refuting incarnation */

    eg_sim_run(sim, eg_sim_now(sim) + 5000);

    for (i = 0; i < 20; i++) {
        if (i == victim) {
            continue;
        }

        m = eg_unit_sim_member(sim, i, victim);

        ck_assert(m != NULL);
        ck_assert_uint_eq(m->state, EG_MEMBER_ALIVE);
        ck_assert_msg(m->incarnation == inc,
                      "node %lu holds incarnation %llu, not %llu",
                      (unsigned long) i, (unsigned long long) m->incarnation,
                      (unsigned long long) inc);
    }

    /*
     * Cut off, the victim suspected others in turn, and could tell
     * nobody; those suspicions must end without a false death too.
     */

    eg_sim_run(sim, 60000);
    ck_assert_uint_eq(eg_sim_stats(sim)->false_dead, 0);
}
END_TEST


START_TEST(no_false_positive_among_100_nodes_at_10_percent_loss)
{
    eg_uint_t       i, j;
    eg_sim_conf_t   conf;

    /* ten simulated minutes; about a second of wall time */

    eg_unit_sim_conf(&conf, 100, 7);
    conf.loss = 0.1;

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 600000);

    ck_assert_uint_gt(eg_sim_stats(sim)->lost, 0);
    ck_assert_uint_eq(eg_sim_stats(sim)->false_dead, 0);

    for (i = 0; i < 100; i++) {
        for (j = 0; j < 100; j++) {
            eg_unit_require(i == j
                            || eg_sim_view(sim, i, j) == EG_MEMBER_ALIVE
                            || eg_sim_view(sim, i, j) == EG_MEMBER_SUSPECT,
                            "node %lu sees node %lu as %lu",
                            (unsigned long) i, (unsigned long) j,
                            (unsigned long) eg_sim_view(sim, i, j));
        }
    }
}
END_TEST


/*
 * A member paused for 5 s (a long GC, a stopped VM).  Four nodes, probe
 * interval 500 ms (timeout 250 ms), suspicion_mult 6:
 *
 *   plain SWIM: a suspicion lasts suspicion_mult * log10(N) *
 *   probe_interval = 6 * 1 * 500 ms = 3 s (log10 N counts as 1 below
 *   ten nodes), which, begun within a probe interval or two of the
 *   pause, ends inside it;
 *
 *   Lifeguard: the suspicion starts at suspicion_max_mult times that,
 *   18 s, and comes down to 3 s only with k = suspicion_mult - 2 = 4
 *   independent confirmations.  Each member's own failed probe of the
 *   suspect is one, but besides the accuser only two members can
 *   confirm: 18 - 15 * log 3 / log 5 = 7.8 s, and the paused member
 *   refutes when it wakes.
 *
 * In a larger cluster every member probes the paused one within a few
 * intervals, the confirmations come in before min has run out, and the
 * two behave alike (as Serf's memberlist does): a pause is then
 * survived when it is shorter than min, about 6 s at 32 nodes with the
 * defaults.  That case is paused_node_survives_the_default_timeouts.
 */
static void
eg_unit_pause_conf(eg_sim_conf_t *conf, eg_flag_t lifeguard)
{
    eg_unit_sim_conf(conf, 4, 1);

    conf->swim.probe_interval = 500;
    conf->swim.probe_timeout = 250;
    conf->swim.suspicion_mult = 6;
    conf->swim.lifeguard = lifeguard;
}


START_TEST(paused_node_is_not_declared_dead_with_lifeguard)
{
    eg_sim_conf_t   conf;
    eg_uint_t       seed;

    /* over several seeds: this is the property, not one lucky run */

    for (seed = 1; seed <= 8; seed++) {
        eg_unit_pause_conf(&conf, 1);
        conf.seed = seed;

        ck_assert(6 * 1 * conf.swim.probe_interval < 5000);

        sim = eg_unit_sim_create(&conf);

        eg_sim_run(sim, 10000);
        eg_sim_pause(sim, 3, 5000);
        eg_sim_run(sim, 15000);

        ck_assert_msg(eg_sim_stats(sim)->false_suspect > 0,
                      "seed %lu: the pause went unnoticed",
                      (unsigned long) seed);

        ck_assert(eg_unit_sim_until(sim, 40000, eg_unit_sim_all_alive,
                                    NULL));

        ck_assert_msg(eg_sim_stats(sim)->false_dead == 0,
                      "seed %lu: declared dead %llu times",
                      (unsigned long) seed,
                      (unsigned long long) eg_sim_stats(sim)->false_dead);

        ck_assert_uint_gt(
            eg_swim_stats(eg_sim_swim(sim, 3))->refutations, 0);

        eg_sim_destroy(sim);
        sim = NULL;
    }
}
END_TEST


START_TEST(paused_node_is_declared_dead_without_lifeguard)
{
    eg_sim_conf_t   conf;
    eg_uint_t       seed;

    for (seed = 1; seed <= 8; seed++) {
        eg_unit_pause_conf(&conf, 0);
        conf.seed = seed;

        sim = eg_unit_sim_create(&conf);

        eg_sim_run(sim, 10000);
        eg_sim_pause(sim, 3, 5000);
        eg_sim_run(sim, 15000);

        ck_assert_msg(eg_unit_sim_seen(sim, 3, EG_MEMBER_DEAD) > 0
                      && eg_sim_stats(sim)->false_dead > 0,
                      "seed %lu: plain SWIM kept the paused node",
                      (unsigned long) seed);

        /* awake, it learns of its death and refutes it */

        ck_assert(eg_unit_sim_until(sim, 40000, eg_unit_sim_all_alive,
                                    NULL));
        ck_assert_uint_gt(
            eg_swim_stats(eg_sim_swim(sim, 3))->refutations, 0);

        eg_sim_destroy(sim);
        sim = NULL;
    }
}
END_TEST


START_TEST(paused_node_survives_the_default_timeouts)
{
    eg_sim_conf_t   conf;
    eg_uint_t       seed;

    /* 32 nodes, probe_interval 1 s, suspicion_mult 4: min is 6 s */

    for (seed = 1; seed <= 4; seed++) {
        eg_unit_sim_conf(&conf, 32, seed);

        sim = eg_unit_sim_create(&conf);

        eg_sim_run(sim, 10000);
        eg_sim_pause(sim, 3, 5000);
        eg_sim_run(sim, 15000);

        ck_assert_msg(eg_sim_stats(sim)->false_suspect > 0,
                      "seed %lu: the pause went unnoticed",
                      (unsigned long) seed);

        ck_assert(eg_unit_sim_until(sim, 40000, eg_unit_sim_all_alive,
                                    NULL));

        ck_assert_msg(eg_sim_stats(sim)->false_dead == 0,
                      "seed %lu: declared dead %llu times",
                      (unsigned long) seed,
                      (unsigned long long) eg_sim_stats(sim)->false_dead);

        eg_sim_destroy(sim);
        sim = NULL;
    }
}
END_TEST


/*
 * With the link between nodes 0 and 1 down both ways, every probe
 * between them needs a helper: the ping-req, the helper's ping, its ack
 * and the relayed ack.  No suspicion may come of it, in clear or sealed
 * (where the helper's ping is built in the buffer the request was
 * decrypted into).
 */
static void
eg_unit_indirect(eg_sim_conf_t *conf)
{
    sim = eg_unit_sim_create(conf);

    eg_sim_link_loss(sim, 0, 1, 1.0);

    eg_sim_run(sim, 60000);

    ck_assert_uint_gt(eg_swim_stats(eg_sim_swim(sim, 0))->probes, 0);
    ck_assert_uint_eq(eg_swim_stats(eg_sim_swim(sim, 0))->probe_failures,
                      0);
    ck_assert_uint_eq(eg_swim_stats(eg_sim_swim(sim, 1))->probe_failures,
                      0);
    ck_assert_uint_eq(eg_sim_stats(sim)->false_suspect, 0);
    ck_assert(eg_unit_sim_all_alive(sim, NULL));
}


START_TEST(indirect_probe_reaches_a_member_the_direct_link_cannot)
{
    eg_sim_conf_t  conf;

    eg_unit_sim_conf(&conf, 5, 41);
    eg_unit_indirect(&conf);
}
END_TEST


START_TEST(indirect_probe_reaches_a_member_the_direct_link_cannot_sealed)
{
    eg_sim_conf_t  conf;

    eg_unit_sim_conf(&conf, 5, 41);
    eg_unit_keyring(&conf.keyring, "A");
    eg_unit_indirect(&conf);
}
END_TEST


/*
 * Lifeguard's suspicion timeout, watched in one node cut off from the
 * rest (so that only what the test injects reaches it): ten nodes and
 * the defaults give min = 4 * log10(10) * 1 s = 4 s, max = 6 * min =
 * 24 s and k = 4 - 2 = 2; with n independent confirmations the timeout
 * is max - (max - min) * log(n + 1) / log(k + 1): 24 s, 11.38 s, 4 s.
 * Node 2's own probes of node 5 fail too (it is cut off), and a failed
 * probe of a suspect is a confirmation, unless the prober is the first
 * accuser: so the first accusation is in node 2's own name, come back.
 */
#define EG_UNIT_MIN      4000
#define EG_UNIT_MAX      24000
#define EG_UNIT_ONE      11381


static eg_msec_t
eg_unit_suspicion_setup(void)
{
    eg_uint_t       i, group[10];
    eg_sim_conf_t   conf;

    eg_unit_sim_conf(&conf, 10, 43);

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 2000);

    /* node 2 alone: no datagram and no stream in or out */

    for (i = 0; i < 10; i++) {
        group[i] = (i == 2);
    }

    eg_sim_partition(sim, group);

    return eg_sim_now(sim);
}


static void
eg_unit_expect_view(eg_msec_t at, eg_uint_t subject, eg_uint_t state)
{
    eg_sim_run(sim, at);

    ck_assert_msg(eg_sim_view(sim, 2, subject) == state,
                  "at %lu ms node 2 sees node %lu as %lu, not %lu",
                  (unsigned long) at, (unsigned long) subject,
                  (unsigned long) eg_sim_view(sim, 2, subject),
                  (unsigned long) state);
}


START_TEST(lone_accusation_gossiped_back_waits_the_longest_suspicion)
{
    eg_msec_t  t0;

    t0 = eg_unit_suspicion_setup();

    eg_unit_accuse(sim, 2, 5, 1, 2, 1);

    /* the same accusation, relayed back by others: not a confirmation */

    eg_unit_accuse(sim, 2, 5, 1, 2, 6);
    eg_sim_run(sim, t0 + 1000);
    eg_unit_accuse(sim, 2, 5, 1, 2, 7);

    eg_unit_expect_view(t0 + EG_UNIT_MAX - 500, 5, EG_MEMBER_SUSPECT);
    eg_unit_expect_view(t0 + EG_UNIT_MAX + 500, 5, EG_MEMBER_DEAD);
}
END_TEST


START_TEST(one_independent_confirmation_shortens_the_suspicion)
{
    eg_msec_t  t0;

    t0 = eg_unit_suspicion_setup();

    eg_unit_accuse(sim, 2, 5, 1, 2, 1);
    eg_unit_accuse(sim, 2, 5, 1, 6, 6);
    eg_unit_accuse(sim, 2, 5, 1, 6, 7);

    eg_unit_expect_view(t0 + EG_UNIT_ONE - 500, 5, EG_MEMBER_SUSPECT);
    eg_unit_expect_view(t0 + EG_UNIT_ONE + 500, 5, EG_MEMBER_DEAD);
}
END_TEST


START_TEST(k_independent_confirmations_bring_the_suspicion_to_min)
{
    eg_msec_t  t0;

    t0 = eg_unit_suspicion_setup();

    eg_unit_accuse(sim, 2, 5, 1, 2, 1);
    eg_unit_accuse(sim, 2, 5, 1, 6, 6);
    eg_unit_accuse(sim, 2, 5, 1, 7, 7);

    eg_unit_expect_view(t0 + EG_UNIT_MIN - 500, 5, EG_MEMBER_SUSPECT);
    eg_unit_expect_view(t0 + EG_UNIT_MIN + 500, 5, EG_MEMBER_DEAD);
}
END_TEST


START_TEST(suspicion_from_a_snapshot_is_not_a_confirmation)
{
    u_char            *answer, buf[512];
    size_t             len, rlen;
    eg_msec_t          t0;
    eg_swim_buf_t      b;
    eg_swim_addr_t     a;
    eg_swim_record_t   r;

    t0 = eg_unit_suspicion_setup();

    eg_unit_accuse(sim, 2, 5, 1, 2, 1);

    /* a push-pull from node 6 whose snapshot has node 5 suspect too */

    b.p = buf;
    b.last = buf + sizeof(buf);
    b.error = 0;

    eg_swim_put_header(&b, 0, eg_swim_cluster_hash((u_char *) "sim", 3));
    eg_swim_put_u8(&b, EG_SWIM_PUSH_PULL);
    eg_swim_put_u8(&b, 3);
    eg_swim_put_bytes(&b, (u_char *) "sim", 3);
    eg_swim_put_u8(&b, EG_SWIM_VERSION_MIN);
    eg_swim_put_u8(&b, EG_SWIM_VERSION_MAX);
    eg_swim_put_u32(&b, 2);

    eg_memzero(&r, sizeof(eg_swim_record_t));
    r.state = EG_MEMBER_ALIVE;
    r.flags = EG_SWIM_R_ADDR;
    r.incarnation = 1;
    r.id = (u_char *) "node-6";
    r.id_len = 6;
    eg_sim_addr(6, &a);
    r.addr = a;
    eg_swim_put_record(&b, &r);

    r.state = EG_MEMBER_SUSPECT;
    r.id = (u_char *) "node-5";
    eg_sim_addr(5, &a);
    r.addr = a;
    eg_swim_put_record(&b, &r);

    ck_assert_int_eq(b.error, 0);
    len = (size_t) (b.p - buf);

    eg_sim_addr(6, &a);
    answer = eg_swim_stream_request(eg_sim_swim(sim, 2), &a, buf, len,
                                    &rlen);
    ck_assert(answer != NULL);
    free(answer);

    eg_unit_expect_view(t0 + EG_UNIT_ONE + 500, 5, EG_MEMBER_SUSPECT);
    eg_unit_expect_view(t0 + EG_UNIT_MAX + 500, 5, EG_MEMBER_DEAD);
}
END_TEST


START_TEST(accusation_at_a_newer_incarnation_starts_a_new_suspicion)
{
    eg_msec_t  t0, t1;

    t0 = eg_unit_suspicion_setup();

    eg_unit_accuse(sim, 2, 5, 1, 2, 1);

    /*
     * Node 5 refuted (node 2, cut off, never heard) and is accused again
     * later: the old suspicion's time must not count for the new one.
     */

    eg_sim_run(sim, t0 + 15000);
    t1 = eg_sim_now(sim);

    eg_unit_accuse(sim, 2, 5, 2, 2, 6);

    eg_unit_expect_view(t1 + 500, 5, EG_MEMBER_SUSPECT);
    ck_assert(eg_unit_sim_member(sim, 2, 5)->incarnation == 2);

    eg_unit_expect_view(t1 + EG_UNIT_MAX - 500, 5, EG_MEMBER_SUSPECT);
    eg_unit_expect_view(t1 + EG_UNIT_MAX + 500, 5, EG_MEMBER_DEAD);
}
END_TEST


START_TEST(stale_accusation_is_answered_with_the_current_incarnation)
{
    eg_uint_t        i;
    uint64_t         refuted;
    eg_swim_t       *accused;
    eg_sim_conf_t    conf;

    eg_unit_sim_conf(&conf, 10, 47);

    sim = eg_unit_sim_create(&conf);
    accused = eg_sim_swim(sim, 5);

    eg_sim_run(sim, 2000);

    /* node 5 refutes an accusation, and everyone learns it... */

    eg_unit_accuse(sim, 5, 5, 1, 1, 1);
    ck_assert(eg_swim_self(accused)->incarnation == 2);
    refuted = eg_swim_stats(accused)->refutations;

    eg_sim_run(sim, 12000);

    /* ...but node 7, whose datagrams now only reach node 5 */

    for (i = 0; i < 10; i++) {
        if (i != 5 && i != 7) {
            eg_sim_link_loss(sim, 7, i, 1.0);
        }
    }

    ck_assert_uint_eq(eg_sim_view(sim, 7, 5), EG_MEMBER_ALIVE);
    ck_assert(eg_unit_sim_member(sim, 7, 5)->incarnation == 2);

    /* 7 is made to forget, as if it had missed the refutation */

    eg_unit_sim_member(sim, 7, 5)->incarnation = 1;
    eg_unit_accuse(sim, 7, 5, 1, 1, 1);
    ck_assert_uint_eq(eg_sim_view(sim, 7, 5), EG_MEMBER_SUSPECT);

    /*
     * What 7 gossips of 5 is old news to 5: 5 answers 7 straight away
     * with its current incarnation, without refuting again.
     */

    eg_unit_accuse(sim, 5, 5, 1, 1, 7);
    eg_sim_run(sim, eg_sim_now(sim) + 200);

    ck_assert(eg_swim_self(accused)->incarnation == 2);
    ck_assert_uint_eq(eg_swim_stats(accused)->refutations, refuted);
    ck_assert_uint_eq(eg_sim_view(sim, 7, 5), EG_MEMBER_ALIVE);
    ck_assert(eg_unit_sim_member(sim, 7, 5)->incarnation == 2);
}
END_TEST


START_TEST(stale_word_about_a_third_member_is_corrected_at_its_sender)
{
    eg_uint_t        i;
    eg_sim_conf_t    conf;

    eg_unit_sim_conf(&conf, 10, 53);

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 2000);

    eg_unit_accuse(sim, 5, 5, 1, 1, 1);
    eg_sim_run(sim, 12000);

    ck_assert_uint_eq(eg_sim_view(sim, 3, 5), EG_MEMBER_ALIVE);
    ck_assert(eg_unit_sim_member(sim, 3, 5)->incarnation == 2);

    /* node 7 can only talk to node 3, and holds the old suspicion */

    for (i = 0; i < 10; i++) {
        if (i != 3 && i != 7) {
            eg_sim_link_loss(sim, 7, i, 1.0);
        }
    }

    eg_unit_sim_member(sim, 7, 5)->incarnation = 1;
    eg_unit_accuse(sim, 7, 5, 1, 1, 1);
    ck_assert_uint_eq(eg_sim_view(sim, 7, 5), EG_MEMBER_SUSPECT);

    /* its gossip reaches node 3, which knows better and says so */

    eg_unit_accuse(sim, 3, 5, 1, 1, 7);
    eg_sim_run(sim, eg_sim_now(sim) + 200);

    ck_assert_uint_eq(eg_sim_view(sim, 3, 5), EG_MEMBER_ALIVE);
    ck_assert_uint_eq(eg_sim_view(sim, 7, 5), EG_MEMBER_ALIVE);
    ck_assert(eg_unit_sim_member(sim, 7, 5)->incarnation == 2);
}
END_TEST


/* partitions */

static eg_uint_t
eg_unit_halves_apart(eg_sim_t *s, void *data)
{
    eg_uint_t  i, j, n;

    n = eg_sim_nodes(s);

    eg_unused(data);

    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++) {
            if ((i < n / 2) != (j < n / 2)
                && eg_sim_view(s, i, j) != EG_MEMBER_DEAD)
            {
                return 0;
            }
        }
    }

    return 1;
}


START_TEST(halves_of_a_partition_mark_each_other_dead_and_merge_after_heal)
{
    eg_uint_t        i, j, group[40];
    eg_msec_t        healed, merged;
    eg_sim_conf_t    conf;

    eg_unit_sim_conf(&conf, 40, 9);

    /* shorter than the defaults (30 s) to keep the run short */
    conf.swim.reconnect_interval = 5000;
    conf.swim.push_pull_interval = 10000;

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 5000);

    for (i = 0; i < 40; i++) {
        group[i] = i < 20 ? 0 : 1;
    }

    eg_sim_partition(sim, group);

    ck_assert_msg(eg_unit_sim_until(sim, 120000, eg_unit_halves_apart, NULL),
                  "the halves still see each other");

    /* within each half, nobody was lost */

    for (i = 0; i < 40; i++) {
        for (j = 0; j < 40; j++) {
            if (i != j && (i < 20) == (j < 20)) {
                eg_unit_require(eg_sim_view(sim, i, j) == EG_MEMBER_ALIVE,
                                "node %lu sees its neighbour %lu as %lu",
                                (unsigned long) i, (unsigned long) j,
                                (unsigned long) eg_sim_view(sim, i, j));
            }
        }
    }

    eg_sim_heal(sim);
    healed = eg_sim_now(sim);

    merged = eg_unit_sim_until(sim, healed + 120000, eg_unit_sim_all_alive,
                               NULL);

    ck_assert_msg(merged != 0, "the halves did not merge");

    /* and they stay merged */

    eg_sim_run(sim, merged + 30000);
    ck_assert(eg_unit_sim_all_alive(sim, NULL));
}
END_TEST


/* encryption */

START_TEST(keys_rotate_on_every_node_at_once_without_losing_a_packet)
{
    eg_uint_t       i;
    eg_sim_conf_t   conf;

    eg_unit_sim_conf(&conf, 20, 13);
    eg_unit_keyring(&conf.keyring, "A");

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 5000);

    /* the new key as a secondary, then primary, then the old one out */

    eg_unit_set_keyring_all(sim, "AB");
    eg_sim_run(sim, 15000);

    eg_unit_set_keyring_all(sim, "BA");
    eg_sim_run(sim, 25000);

    eg_unit_set_keyring_all(sim, "B");
    eg_sim_run(sim, 45000);

    for (i = 0; i < 20; i++) {
        ck_assert_uint_eq(
            eg_swim_stats(eg_sim_swim(sim, i))->dropped[EG_SWIM_DROP_DECRYPT],
            0);
        ck_assert_uint_eq(eg_swim_stats(eg_sim_swim(sim, i))
                              ->dropped[EG_SWIM_DROP_PLAINTEXT], 0);
        ck_assert_uint_gt(eg_swim_stats(eg_sim_swim(sim, i))
                              ->received_packets, 0);
    }

    ck_assert_uint_eq(eg_sim_stats(sim)->false_suspect, 0);
    ck_assert_uint_eq(eg_sim_stats(sim)->false_dead, 0);
    ck_assert(eg_unit_sim_all_alive(sim, NULL));
}
END_TEST


START_TEST(keys_rotate_one_node_at_a_time_without_losing_a_packet)
{
    eg_uint_t          i, step;
    eg_sim_conf_t      conf;
    eg_swim_keyring_t  kr;

    static const char  *steps[] = { "AB", "BA", "B" };

    eg_unit_sim_conf(&conf, 20, 17);
    eg_unit_keyring(&conf.keyring, "A");

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 5000);

    /*
     * Each step node by node, half a second apart, while the cluster
     * talks; a step starts only when the one before is everywhere, so
     * the key a node encrypts with is always one every other node has.
     */

    for (step = 0; step < eg_nelems(steps); step++) {
        eg_unit_keyring(&kr, steps[step]);

        for (i = 0; i < 20; i++) {
            eg_sim_set_keyring(sim, i, &kr);
            eg_sim_run(sim, eg_sim_now(sim) + 500);
        }

        eg_sim_run(sim, eg_sim_now(sim) + 5000);
    }

    eg_sim_run(sim, eg_sim_now(sim) + 20000);

    ck_assert_uint_eq(eg_unit_dropped(sim, EG_SWIM_DROP_DECRYPT), 0);
    ck_assert_uint_eq(eg_unit_dropped(sim, EG_SWIM_DROP_PLAINTEXT), 0);
    ck_assert_uint_eq(eg_sim_stats(sim)->false_suspect, 0);
    ck_assert_uint_eq(eg_sim_stats(sim)->false_dead, 0);
    ck_assert(eg_unit_sim_all_alive(sim, NULL));
}
END_TEST


START_TEST(node_switched_to_a_key_nobody_has_is_cut_off)
{
    eg_sim_conf_t      conf;
    eg_swim_keyring_t  kr;

    /* the counter the rotation tests watch does count: a wrong step */

    eg_unit_sim_conf(&conf, 10, 19);
    eg_unit_keyring(&conf.keyring, "A");

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 5000);

    eg_unit_keyring(&kr, "B");
    eg_sim_set_keyring(sim, 2, &kr);

    eg_sim_run(sim, 10000);

    ck_assert_uint_gt(eg_unit_dropped(sim, EG_SWIM_DROP_DECRYPT), 0);
    ck_assert_uint_gt(eg_unit_sim_seen(sim, 2, EG_MEMBER_SUSPECT)
                      + eg_unit_sim_seen(sim, 2, EG_MEMBER_DEAD), 0);
}
END_TEST


/* hostile and broken packets */

static void
eg_unit_hostile_setup(eg_sim_conf_t *conf)
{
    eg_unit_sim_conf(conf, 10, 23);
}


START_TEST(well_formed_gossip_of_our_cluster_is_applied)
{
    u_char            pkt[EG_SWIM_MAX_PACKET];
    size_t            len;
    eg_sim_conf_t     conf;

    /* the control for the tests below: this packet does change things */

    eg_unit_hostile_setup(&conf);
    sim = eg_unit_sim_create(&conf);
    eg_sim_run(sim, 3000);

    len = eg_unit_gossip_dead(pkt, "sim", 5, NULL);
    eg_sim_inject(sim, 2, 8, pkt, len);

    ck_assert_uint_eq(eg_sim_view(sim, 2, 5), EG_MEMBER_DEAD);
    ck_assert(eg_unit_sim_member(sim, 2, 5)->incarnation == 100);
}
END_TEST


START_TEST(random_bytes_are_dropped_without_state_change)
{
    u_char            pkt[EG_SWIM_MAX_PACKET];
    size_t            len, k;
    uint64_t          rng, before[EG_SWIM_DROP_REASONS], dropped;
    eg_uint_t         i, r;
    eg_sim_conf_t     conf;
    eg_unit_table_t   t0, t1;
    eg_swim_stats_t  *st;

    eg_unit_hostile_setup(&conf);
    sim = eg_unit_sim_create(&conf);
    eg_sim_run(sim, 3000);

    st = eg_swim_stats(eg_sim_swim(sim, 2));
    eg_memcpy(before, st->dropped, sizeof(before));
    eg_unit_table(sim, 2, &t0);

    rng = 0x1234567;

    for (i = 0; i < 500; i++) {
        len = (size_t) (eg_unit_random(&rng) % sizeof(pkt));

        for (k = 0; k < len; k++) {
            pkt[k] = (u_char) eg_unit_random(&rng);
        }

        eg_sim_inject(sim, 2, 8, pkt, len);
    }

    eg_unit_table(sim, 2, &t1);
    eg_unit_table_same(&t0, &t1);

    dropped = 0;

    for (r = 0; r < EG_SWIM_DROP_REASONS; r++) {
        dropped += st->dropped[r] - before[r];
    }

    ck_assert_uint_eq(dropped, 500);
    ck_assert_uint_eq(st->dropped[EG_SWIM_DROP_SHORT]
                      + st->dropped[EG_SWIM_DROP_MAGIC]
                      - before[EG_SWIM_DROP_SHORT]
                      - before[EG_SWIM_DROP_MAGIC], 500);
}
END_TEST


START_TEST(datagram_shorter_than_a_header_is_dropped_as_short)
{
    u_char            pkt[EG_SWIM_MAX_PACKET];
    size_t            len, cut;
    uint64_t          before, total;
    eg_uint_t         r;
    eg_sim_conf_t     conf;
    eg_unit_table_t   t0, t1;
    eg_swim_stats_t  *st;

    eg_unit_hostile_setup(&conf);
    sim = eg_unit_sim_create(&conf);
    eg_sim_run(sim, 3000);

    st = eg_swim_stats(eg_sim_swim(sim, 2));
    before = st->dropped[EG_SWIM_DROP_SHORT];
    eg_unit_table(sim, 2, &t0);

    total = 0;

    for (r = 0; r < EG_SWIM_DROP_REASONS; r++) {
        total += st->dropped[r];
    }

    /* every prefix of a valid header: none may pass for one */

    len = eg_unit_gossip_dead(pkt, "sim", 5, NULL);
    ck_assert_uint_gt(len, EG_SWIM_HEADER_LEN);

    for (cut = 0; cut < EG_SWIM_HEADER_LEN; cut++) {
        eg_sim_inject(sim, 2, 8, pkt, cut);
    }

    eg_unit_table(sim, 2, &t1);
    eg_unit_table_same(&t0, &t1);
    ck_assert_uint_eq(st->dropped[EG_SWIM_DROP_SHORT],
                      before + EG_SWIM_HEADER_LEN);

    for (r = 0; r < EG_SWIM_DROP_REASONS; r++) {
        total -= st->dropped[r];
    }

    ck_assert(total == (uint64_t) -EG_SWIM_HEADER_LEN);
}
END_TEST


START_TEST(another_clusters_gossip_is_dropped_without_state_change)
{
    u_char            pkt[EG_SWIM_MAX_PACKET];
    size_t            len;
    uint64_t          before;
    eg_sim_conf_t     conf;
    eg_unit_table_t   t0, t1;
    eg_swim_stats_t  *st;

    eg_unit_hostile_setup(&conf);
    sim = eg_unit_sim_create(&conf);
    eg_sim_run(sim, 3000);

    st = eg_swim_stats(eg_sim_swim(sim, 2));
    before = st->dropped[EG_SWIM_DROP_CLUSTER];
    eg_unit_table(sim, 2, &t0);

    len = eg_unit_gossip_dead(pkt, "another", 5, NULL);
    eg_sim_inject(sim, 2, 8, pkt, len);

    eg_unit_table(sim, 2, &t1);
    eg_unit_table_same(&t0, &t1);
    ck_assert_uint_eq(st->dropped[EG_SWIM_DROP_CLUSTER], before + 1);
}
END_TEST


START_TEST(newer_protocol_version_is_dropped_without_state_change)
{
    u_char            pkt[EG_SWIM_MAX_PACKET];
    size_t            len;
    uint64_t          before;
    eg_sim_conf_t     conf;
    eg_unit_table_t   t0, t1;
    eg_swim_stats_t  *st;

    eg_unit_hostile_setup(&conf);
    sim = eg_unit_sim_create(&conf);
    eg_sim_run(sim, 3000);

    st = eg_swim_stats(eg_sim_swim(sim, 2));
    before = st->dropped[EG_SWIM_DROP_VERSION];
    eg_unit_table(sim, 2, &t0);

    len = eg_unit_gossip_dead(pkt, "sim", 5, NULL);

    pkt[4] = EG_SWIM_VERSION_MAX + 1;
    eg_sim_inject(sim, 2, 8, pkt, len);

    pkt[4] = EG_SWIM_VERSION;
    pkt[5] = 0x40;      /* a flag of a later version */
    eg_sim_inject(sim, 2, 8, pkt, len);

    eg_unit_table(sim, 2, &t1);
    eg_unit_table_same(&t0, &t1);
    ck_assert_uint_eq(st->dropped[EG_SWIM_DROP_VERSION], before + 2);
}
END_TEST


START_TEST(garbage_after_a_valid_header_is_dropped_without_state_change)
{
    u_char            pkt[EG_SWIM_MAX_PACKET];
    size_t            len;
    uint64_t          malformed, unknown;
    eg_sim_conf_t     conf;
    eg_unit_table_t   t0, t1;
    eg_swim_stats_t  *st;

    eg_unit_hostile_setup(&conf);
    sim = eg_unit_sim_create(&conf);
    eg_sim_run(sim, 3000);

    st = eg_swim_stats(eg_sim_swim(sim, 2));
    malformed = st->dropped[EG_SWIM_DROP_MALFORMED];
    unknown = st->dropped[EG_SWIM_DROP_UNKNOWN];
    eg_unit_table(sim, 2, &t0);

    /* the valid dead record, then garbage: nothing of it may count */

    len = eg_unit_gossip_dead(pkt, "sim", 5, NULL);
    eg_memcpy(pkt + len, "\xde\xad\xbe\xef", 4);
    eg_sim_inject(sim, 2, 8, pkt, len + 4);

    /* a count of two with one record */
    len = eg_unit_gossip_dead(pkt, "sim", 5, NULL);
    pkt[EG_SWIM_HEADER_LEN + 1] = 2;
    eg_sim_inject(sim, 2, 8, pkt, len);

    /* compressed is for streams only */
    len = eg_unit_gossip_dead(pkt, "sim", 5, NULL);
    pkt[5] = EG_SWIM_F_COMPRESSED;
    eg_sim_inject(sim, 2, 8, pkt, len);

    /* a type nobody knows */
    len = eg_unit_gossip_dead(pkt, "sim", 5, NULL);
    pkt[EG_SWIM_HEADER_LEN] = 0x77;
    eg_sim_inject(sim, 2, 8, pkt, len);

    /* a stream message sent as a datagram */
    pkt[EG_SWIM_HEADER_LEN] = EG_SWIM_JOIN;
    eg_sim_inject(sim, 2, 8, pkt, len);

    eg_unit_table(sim, 2, &t1);
    eg_unit_table_same(&t0, &t1);
    ck_assert_uint_eq(st->dropped[EG_SWIM_DROP_MALFORMED], malformed + 3);
    ck_assert_uint_eq(st->dropped[EG_SWIM_DROP_UNKNOWN], unknown + 2);
}
END_TEST


START_TEST(gossip_sealed_with_an_unknown_key_is_dropped_without_state_change)
{
    u_char              pkt[EG_SWIM_MAX_PACKET];
    size_t              len;
    uint64_t            before;
    eg_sim_conf_t       conf;
    eg_unit_table_t     t0, t1;
    eg_swim_stats_t    *st;
    eg_swim_keyring_t   other;

    eg_unit_hostile_setup(&conf);
    eg_unit_keyring(&conf.keyring, "AB");
    sim = eg_unit_sim_create(&conf);
    eg_sim_run(sim, 3000);

    st = eg_swim_stats(eg_sim_swim(sim, 2));
    before = st->dropped[EG_SWIM_DROP_DECRYPT];
    eg_unit_table(sim, 2, &t0);

    eg_unit_keyring(&other, "C");
    len = eg_unit_gossip_dead(pkt, "sim", 5, &other);
    eg_sim_inject(sim, 2, 8, pkt, len);

    /* a key the node has: the same gossip is read (the control) */

    eg_unit_table(sim, 2, &t1);
    eg_unit_table_same(&t0, &t1);
    ck_assert_uint_eq(st->dropped[EG_SWIM_DROP_DECRYPT], before + 1);

    eg_unit_keyring(&other, "B");
    len = eg_unit_gossip_dead(pkt, "sim", 5, &other);
    eg_sim_inject(sim, 2, 8, pkt, len);

    ck_assert_uint_eq(st->dropped[EG_SWIM_DROP_DECRYPT], before + 1);
    ck_assert_uint_eq(eg_sim_view(sim, 2, 5), EG_MEMBER_DEAD);
}
END_TEST


START_TEST(plaintext_gossip_to_an_encrypted_node_is_dropped)
{
    u_char              pkt[EG_SWIM_MAX_PACKET];
    size_t              len;
    uint64_t            before;
    eg_sim_conf_t       conf;
    eg_unit_table_t     t0, t1;
    eg_swim_stats_t    *st;

    eg_unit_hostile_setup(&conf);
    eg_unit_keyring(&conf.keyring, "A");
    sim = eg_unit_sim_create(&conf);
    eg_sim_run(sim, 3000);

    st = eg_swim_stats(eg_sim_swim(sim, 2));
    before = st->dropped[EG_SWIM_DROP_PLAINTEXT];
    eg_unit_table(sim, 2, &t0);

    len = eg_unit_gossip_dead(pkt, "sim", 5, NULL);
    eg_sim_inject(sim, 2, 8, pkt, len);

    eg_unit_table(sim, 2, &t1);
    eg_unit_table_same(&t0, &t1);
    ck_assert_uint_eq(st->dropped[EG_SWIM_DROP_PLAINTEXT], before + 1);
}
END_TEST


START_TEST(sealed_gossip_to_a_plaintext_node_is_dropped)
{
    u_char              pkt[EG_SWIM_MAX_PACKET];
    size_t              len;
    uint64_t            before;
    eg_sim_conf_t       conf;
    eg_unit_table_t     t0, t1;
    eg_swim_stats_t    *st;
    eg_swim_keyring_t   kr;

    eg_unit_hostile_setup(&conf);
    sim = eg_unit_sim_create(&conf);
    eg_sim_run(sim, 3000);

    st = eg_swim_stats(eg_sim_swim(sim, 2));
    before = st->dropped[EG_SWIM_DROP_DECRYPT];
    eg_unit_table(sim, 2, &t0);

    eg_unit_keyring(&kr, "A");
    len = eg_unit_gossip_dead(pkt, "sim", 5, &kr);
    eg_sim_inject(sim, 2, 8, pkt, len);

    eg_unit_table(sim, 2, &t1);
    eg_unit_table_same(&t0, &t1);
    ck_assert_uint_eq(st->dropped[EG_SWIM_DROP_DECRYPT], before + 1);
}
END_TEST


/*
 * A stream request (join, push-pull) as the daemon would hand it over
 * from a connection: each broken one refused with no answer, the right
 * counter grown and the table untouched.
 */
typedef struct {
    const char          *name;
    u_char              *data;
    size_t               len;
    eg_uint_t            reason;
} eg_unit_stream_case_t;


static size_t
eg_unit_stream(u_char *out, size_t size, uint8_t flags, uint8_t type,
    const char *name, uint8_t vmin, uint8_t vmax, uint32_t count)
{
    eg_swim_buf_t      b;
    eg_swim_addr_t     a;
    eg_swim_record_t   r;

    b.p = out;
    b.last = out + size;
    b.error = 0;

    eg_swim_put_header(&b, flags, eg_swim_cluster_hash((u_char *) "sim", 3));
    eg_swim_put_u8(&b, type);
    eg_swim_put_u8(&b, (uint8_t) strlen(name));
    eg_swim_put_bytes(&b, (u_char *) name, strlen(name));
    eg_swim_put_u8(&b, vmin);
    eg_swim_put_u8(&b, vmax);
    eg_swim_put_u32(&b, count);

    /* one member: a stranger, alive */

    eg_sim_addr(77, &a);
    eg_memzero(&r, sizeof(eg_swim_record_t));
    r.state = EG_MEMBER_ALIVE;
    r.flags = EG_SWIM_R_ADDR;
    r.incarnation = 1;
    r.id = (u_char *) "stranger";
    r.id_len = 8;
    r.addr = a;
    eg_swim_put_record(&b, &r);

    ck_assert_int_eq(b.error, 0);

    return (size_t) (b.p - out);
}


static eg_unit_stream_case_t  cases[16];
static u_char                 case_buf[16][512];
static eg_uint_t              ncases;


/* a new case, starting as a copy of the first, the valid control */
static eg_unit_stream_case_t *
eg_unit_stream_case(const char *name, eg_uint_t reason)
{
    eg_unit_stream_case_t  *c;

    ck_assert(ncases < eg_nelems(cases));

    c = &cases[ncases];

    c->name = name;
    c->reason = reason;
    c->data = case_buf[ncases];

    if (ncases) {
        eg_memcpy(c->data, cases[0].data, cases[0].len);
        c->len = cases[0].len;
    }

    ncases++;

    return c;
}


START_TEST(broken_stream_requests_are_refused_without_state_change)
{
    u_char                  *answer;
    size_t                   rlen;
    uint64_t                 before;
    eg_uint_t                i;
    eg_sim_conf_t            conf;
    eg_swim_addr_t           from;
    eg_unit_table_t          t0, t1;
    eg_swim_stats_t         *st;
    eg_unit_stream_case_t   *c;

    eg_unit_hostile_setup(&conf);
    sim = eg_unit_sim_create(&conf);
    eg_sim_run(sim, 3000);

    ncases = 0;

    /* the control: a join that would add "stranger" */
    c = eg_unit_stream_case("control", 0);
    c->len = eg_unit_stream(c->data, 512, 0, EG_SWIM_JOIN, "sim", 1, 1, 1);

    c = eg_unit_stream_case("shorter than a header", EG_SWIM_DROP_SHORT);
    c->len = EG_SWIM_HEADER_LEN - 1;

    c = eg_unit_stream_case("no magic", EG_SWIM_DROP_MAGIC);
    c->data[0] = 'X';

    c = eg_unit_stream_case("a newer version", EG_SWIM_DROP_VERSION);
    c->data[4] = EG_SWIM_VERSION_MAX + 1;

    c = eg_unit_stream_case("another cluster's hash", EG_SWIM_DROP_CLUSTER);
    c->data[9] ^= 1;

    c = eg_unit_stream_case("sealed, and we have no key",
                            EG_SWIM_DROP_DECRYPT);
    c->data[5] = EG_SWIM_F_ENCRYPTED;

    c = eg_unit_stream_case("compressed, but not by zlib",
                            EG_SWIM_DROP_MALFORMED);
    c->data[5] = EG_SWIM_F_COMPRESSED;

    c = eg_unit_stream_case("no body", EG_SWIM_DROP_MALFORMED);
    c->len = EG_SWIM_HEADER_LEN;

    c = eg_unit_stream_case("a snapshot, which is an answer",
                            EG_SWIM_DROP_UNKNOWN);
    c->data[EG_SWIM_HEADER_LEN] = EG_SWIM_SNAPSHOT;

    c = eg_unit_stream_case("a datagram's type", EG_SWIM_DROP_UNKNOWN);
    c->data[EG_SWIM_HEADER_LEN] = EG_SWIM_PING;

    /* the header's hash is of "sim": only the name can tell */
    c = eg_unit_stream_case("another cluster's name", EG_SWIM_DROP_CLUSTER);
    c->len = eg_unit_stream(c->data, 512, 0, EG_SWIM_JOIN, "mis", 1, 1, 1);

    c = eg_unit_stream_case("versions we do not speak",
                            EG_SWIM_DROP_VERSION);
    c->len = eg_unit_stream(c->data, 512, 0, EG_SWIM_JOIN, "sim", 2, 9, 1);

    c = eg_unit_stream_case("fewer records than counted",
                            EG_SWIM_DROP_MALFORMED);
    c->len = eg_unit_stream(c->data, 512, 0, EG_SWIM_JOIN, "sim", 1, 1, 2);

    c = eg_unit_stream_case("no records", EG_SWIM_DROP_MALFORMED);
    c->len = eg_unit_stream(c->data, 512, 0, EG_SWIM_JOIN, "sim", 1, 1, 0);

    c = eg_unit_stream_case("a trailing byte", EG_SWIM_DROP_MALFORMED);
    c->data[c->len++] = 0;

    st = eg_swim_stats(eg_sim_swim(sim, 2));
    eg_sim_addr(8, &from);

    for (i = 1; i < ncases; i++) {
        c = &cases[i];

        eg_unit_table(sim, 2, &t0);
        before = st->dropped[c->reason];

        rlen = 1;
        answer = eg_swim_stream_request(eg_sim_swim(sim, 2), &from, c->data,
                                        c->len, &rlen);

        ck_assert_msg(answer == NULL && rlen == 0, "%s: answered",
                      c->name);
        ck_assert_msg(st->dropped[c->reason] == before + 1,
                      "%s: not counted as \"%s\"", c->name,
                      eg_swim_drop_reasons[c->reason]);

        eg_unit_table(sim, 2, &t1);
        eg_unit_table_same(&t0, &t1);
    }

    /* the control, last: answered with a snapshot, and "stranger" is in */

    c = &cases[0];

    answer = eg_swim_stream_request(eg_sim_swim(sim, 2), &from, c->data,
                                    c->len, &rlen);
    ck_assert(answer != NULL && rlen > EG_SWIM_HEADER_LEN);
    free(answer);

    ck_assert(eg_swim_find(eg_sim_swim(sim, 2), (u_char *) "stranger", 8)
              != NULL);
}
END_TEST


/* leave, tags, reap */

static eg_uint_t
eg_unit_leave_done(eg_sim_t *s, void *data)
{
    eg_unused(data);

    return eg_swim_leave_done(eg_sim_swim(s, 4));
}


START_TEST(leaving_node_is_seen_as_left_not_dead_everywhere)
{
    eg_uint_t        i;
    eg_sim_conf_t    conf;
    eg_unit_seen_t   w;

    eg_unit_sim_conf(&conf, 10, 29);

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 5000);

    ck_assert(!eg_swim_leave_done(eg_sim_swim(sim, 4)));

    eg_sim_leave(sim, 4);

    w.subject = 4;
    w.state = EG_MEMBER_LEFT;

    ck_assert(eg_unit_sim_until(sim, 15000, eg_unit_sim_seen_by_all, &w));

    /* everyone knows; the leaver is done once its news is all told */

    ck_assert(eg_unit_sim_until(sim, 15000, eg_unit_leave_done, NULL));

    /* the process then stops, as the daemon does once the leave is out */

    eg_sim_crash(sim, 4);
    eg_sim_run(sim, eg_sim_now(sim) + 60000);

    for (i = 0; i < 10; i++) {
        if (i != 4) {
            ck_assert_uint_eq(eg_sim_view(sim, i, 4), EG_MEMBER_LEFT);
        }
    }

    ck_assert_uint_eq(eg_sim_stats(sim)->false_dead, 0);
    ck_assert_uint_eq(eg_sim_crash_info(sim, 4)->dead_count, 0);
}
END_TEST


typedef struct {
    eg_uint_t            subject;
    uint64_t             incarnation;
    const u_char        *tags;
    size_t               tags_len;
} eg_unit_tags_t;


static eg_uint_t
eg_unit_tags_everywhere(eg_sim_t *s, void *data)
{
    eg_uint_t           i;
    eg_unit_tags_t     *w = data;
    eg_swim_member_t   *m;

    for (i = 0; i < eg_sim_nodes(s); i++) {
        if (i == w->subject) {
            continue;
        }

        m = eg_unit_sim_member(s, i, w->subject);

        if (m == NULL || m->state != EG_MEMBER_ALIVE
            || m->incarnation != w->incarnation
            || m->ident->tags_len != w->tags_len
            || eg_memcmp(m->ident->tags, w->tags, w->tags_len) != 0)
        {
            return 0;
        }
    }

    return 1;
}


START_TEST(new_tags_raise_the_incarnation_and_reach_everyone)
{
    uint64_t          inc;
    eg_swim_t        *swim;
    eg_sim_conf_t     conf;
    eg_unit_tags_t    w;

    static u_char  tags[] = "\x04" "zone" "\x01" "b" "\x04" "role" "\x02"
                            "db";

    eg_unit_sim_conf(&conf, 20, 31);

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 5000);

    swim = eg_sim_swim(sim, 6);
    inc = eg_swim_self(swim)->incarnation;

    ck_assert_int_eq(eg_swim_set_tags(swim, tags, sizeof(tags) - 1), EG_OK);
    ck_assert(eg_swim_self(swim)->incarnation == inc + 1);

    /* the same tags again are no news */
    ck_assert_int_eq(eg_swim_set_tags(swim, tags, sizeof(tags) - 1), EG_OK);
    ck_assert(eg_swim_self(swim)->incarnation == inc + 1);

    /* malformed ones are refused, and change nothing */
    ck_assert_int_eq(eg_swim_set_tags(swim, (u_char *) "\x05zo", 3),
                     EG_ERROR);
    ck_assert(eg_swim_self(swim)->incarnation == inc + 1);

    w.subject = 6;
    w.incarnation = inc + 1;
    w.tags = tags;
    w.tags_len = sizeof(tags) - 1;

    ck_assert_msg(eg_unit_sim_until(sim, 15000, eg_unit_tags_everywhere, &w),
                  "the new tags did not reach everyone");
    ck_assert_uint_eq(eg_sim_stats(sim)->false_suspect, 0);
}
END_TEST


typedef struct {
    eg_uint_t            subject;
} eg_unit_forgot_t;


static eg_uint_t
eg_unit_forgotten_everywhere(eg_sim_t *s, void *data)
{
    eg_uint_t          i;
    eg_unit_forgot_t  *w = data;

    for (i = 0; i < eg_sim_nodes(s); i++) {
        if (i != w->subject && eg_sim_alive(s, i)
            && eg_sim_view(s, i, w->subject) != EG_MEMBER_STATES)
        {
            return 0;
        }
    }

    return 1;
}


START_TEST(dead_member_is_forgotten_after_the_reap_timeout)
{
    eg_msec_t          dead;
    eg_uint_t          i, by_state[EG_MEMBER_STATES];
    eg_sim_conf_t      conf;
    eg_unit_seen_t     w;
    eg_unit_forgot_t   f;

    eg_unit_sim_conf(&conf, 10, 37);
    conf.swim.reap_timeout = 20000;

    sim = eg_unit_sim_create(&conf);

    eg_sim_run(sim, 5000);
    eg_sim_crash(sim, 3);

    w.subject = 3;
    w.state = EG_MEMBER_DEAD;

    dead = eg_unit_sim_until(sim, 60000, eg_unit_sim_seen_by_all, &w);
    ck_assert(dead != 0);

    /* still remembered as dead half way through */

    eg_sim_run(sim, dead + conf.swim.reap_timeout / 2);
    ck_assert_uint_eq(eg_unit_sim_seen(sim, 3, EG_MEMBER_DEAD), 9);

    f.subject = 3;

    ck_assert_msg(eg_unit_sim_until(sim, dead + conf.swim.reap_timeout
                                         + 5000,
                                    eg_unit_forgotten_everywhere, &f),
                  "the dead member is still known");

    /* and it stays forgotten: nobody brings it back */

    eg_sim_run(sim, eg_sim_now(sim) + 120000);
    ck_assert(eg_unit_forgotten_everywhere(sim, &f));

    for (i = 0; i < 10; i++) {
        if (i != 3) {
            ck_assert_uint_eq(eg_swim_members(eg_sim_swim(sim, i),
                                              by_state), 9);
            ck_assert_uint_eq(by_state[EG_MEMBER_ALIVE], 9);
        }
    }
}
END_TEST


Suite *
eg_unit_swim_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("swim");

    tc = tcase_create("membership");
    tcase_add_checked_fixture(tc, NULL, eg_unit_swim_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, joining_node_reaches_every_member);
    tcase_add_test(tc, leaving_node_is_seen_as_left_not_dead_everywhere);
    tcase_add_test(tc, new_tags_raise_the_incarnation_and_reach_everyone);
    tcase_add_test(tc, dead_member_is_forgotten_after_the_reap_timeout);
    suite_add_tcase(s, tc);

    tc = tcase_create("detection");
    tcase_add_checked_fixture(tc, NULL, eg_unit_swim_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc,
        crashed_node_is_declared_dead_by_every_live_node_within_the_bound);
    tcase_add_test(tc, suspected_live_node_refutes_with_a_higher_incarnation);
    tcase_add_test(tc, no_false_positive_among_100_nodes_at_10_percent_loss);
    tcase_add_test(tc, paused_node_is_not_declared_dead_with_lifeguard);
    tcase_add_test(tc, paused_node_is_declared_dead_without_lifeguard);
    tcase_add_test(tc, paused_node_survives_the_default_timeouts);
    tcase_add_test(tc,
        indirect_probe_reaches_a_member_the_direct_link_cannot);
    tcase_add_test(tc,
        indirect_probe_reaches_a_member_the_direct_link_cannot_sealed);
    tcase_add_test(tc,
        halves_of_a_partition_mark_each_other_dead_and_merge_after_heal);
    suite_add_tcase(s, tc);

    tc = tcase_create("suspicion");
    tcase_add_checked_fixture(tc, NULL, eg_unit_swim_teardown);
    tcase_add_test(tc,
        lone_accusation_gossiped_back_waits_the_longest_suspicion);
    tcase_add_test(tc, one_independent_confirmation_shortens_the_suspicion);
    tcase_add_test(tc,
        k_independent_confirmations_bring_the_suspicion_to_min);
    tcase_add_test(tc, suspicion_from_a_snapshot_is_not_a_confirmation);
    tcase_add_test(tc,
        accusation_at_a_newer_incarnation_starts_a_new_suspicion);
    tcase_add_test(tc,
        stale_accusation_is_answered_with_the_current_incarnation);
    tcase_add_test(tc,
        stale_word_about_a_third_member_is_corrected_at_its_sender);
    suite_add_tcase(s, tc);

    tc = tcase_create("keys");
    tcase_add_checked_fixture(tc, NULL, eg_unit_swim_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc,
        keys_rotate_on_every_node_at_once_without_losing_a_packet);
    tcase_add_test(tc, keys_rotate_one_node_at_a_time_without_losing_a_packet);
    tcase_add_test(tc, node_switched_to_a_key_nobody_has_is_cut_off);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, NULL, eg_unit_swim_teardown);
    tcase_add_test(tc, well_formed_gossip_of_our_cluster_is_applied);
    tcase_add_test(tc, random_bytes_are_dropped_without_state_change);
    tcase_add_test(tc, datagram_shorter_than_a_header_is_dropped_as_short);
    tcase_add_test(tc,
        another_clusters_gossip_is_dropped_without_state_change);
    tcase_add_test(tc, newer_protocol_version_is_dropped_without_state_change);
    tcase_add_test(tc,
        garbage_after_a_valid_header_is_dropped_without_state_change);
    tcase_add_test(tc,
        gossip_sealed_with_an_unknown_key_is_dropped_without_state_change);
    tcase_add_test(tc, plaintext_gossip_to_an_encrypted_node_is_dropped);
    tcase_add_test(tc, sealed_gossip_to_a_plaintext_node_is_dropped);
    tcase_add_test(tc,
        broken_stream_requests_are_refused_without_state_change);
    suite_add_tcase(s, tc);

    return s;
}
