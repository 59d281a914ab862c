/*
 * The member table of a SWIM instance: a hash by id, the probe order,
 * and the queue of dead and left members waiting to be forgotten.
 *
 * The probe order is SWIM's randomised round robin: members sit in an
 * array that is walked in order and shuffled at each wrap, and a new
 * member is put at a random place in it, so that every member is probed
 * once per round in an order nobody can predict.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_membership.h>
#include <eg_swim.h>
#include <eg_swim_int.h>


#define EG_SWIM_CHUNK  256      /* members per allocation */


typedef struct eg_swim_chunk_s  eg_swim_chunk_t;

struct eg_swim_chunk_s {
    eg_swim_chunk_t   *next;
    eg_swim_member_t   members[EG_SWIM_CHUNK];
};


static uint32_t
eg_swim_id_hash(u_char *id, size_t len)
{
    return eg_swim_cluster_hash(id, len);
}


eg_int_t
eg_swim_table_init(eg_swim_t *swim)
{
    swim->hash_size = 64;
    swim->hash = calloc(swim->hash_size, sizeof(eg_swim_member_t *));

    swim->probe_alloc = 64;
    swim->probe = malloc(swim->probe_alloc * sizeof(eg_swim_member_t *));

    if (swim->hash == NULL || swim->probe == NULL) {
        return EG_ERROR;
    }

    eg_queue_init(&swim->dead);

    return EG_OK;
}


void
eg_swim_table_free(eg_swim_t *swim)
{
    eg_uint_t             i;
    eg_swim_chunk_t      *c, *next;
    eg_swim_member_t     *m;
    eg_swim_member_ext_t *ext;

    for (i = 0; i < swim->hash_size; i++) {
        for (m = swim->hash[i]; m; m = m->hash_next) {
            ext = m->ext;

            if (ext) {
                free(ext->suspicion);
                free(ext);
            }

            eg_swim_ident_unref(m->ident);
        }
    }

    for (c = swim->chunks; c; c = next) {
        next = c->next;
        free(c);
    }

    free(swim->hash);
    free(swim->probe);
}


static eg_swim_member_t *
eg_swim_member_alloc(eg_swim_t *swim)
{
    eg_uint_t          i;
    eg_swim_chunk_t   *c;
    eg_swim_member_t  *m;

    if (swim->free_members == NULL) {
        c = malloc(sizeof(eg_swim_chunk_t));
        if (c == NULL) {
            return NULL;
        }

        c->next = swim->chunks;
        swim->chunks = c;

        for (i = 0; i < EG_SWIM_CHUNK; i++) {
            c->members[i].hash_next = swim->free_members;
            swim->free_members = &c->members[i];
        }
    }

    m = swim->free_members;
    swim->free_members = m->hash_next;

    eg_memzero(m, sizeof(eg_swim_member_t));

    return m;
}


static eg_int_t
eg_swim_hash_grow(eg_swim_t *swim)
{
    uint32_t           h;
    eg_uint_t          i, size;
    eg_swim_member_t **hash, *m, *next;

    size = swim->hash_size * 2;

    hash = calloc(size, sizeof(eg_swim_member_t *));
    if (hash == NULL) {
        return EG_ERROR;
    }

    for (i = 0; i < swim->hash_size; i++) {
        for (m = swim->hash[i]; m; m = next) {
            next = m->hash_next;
            h = eg_swim_id_hash(m->ident->id, m->ident->id_len);
            m->hash_next = hash[h & (size - 1)];
            hash[h & (size - 1)] = m;
        }
    }

    free(swim->hash);
    swim->hash = hash;
    swim->hash_size = size;

    return EG_OK;
}


eg_swim_member_t *
eg_swim_find(eg_swim_t *swim, u_char *id, size_t len)
{
    uint32_t           h;
    eg_swim_member_t  *m;

    h = eg_swim_id_hash(id, len);

    for (m = swim->hash[h & (swim->hash_size - 1)]; m; m = m->hash_next) {
        if (m->ident->id_len == len && eg_memcmp(m->ident->id, id, len) == 0)
        {
            return m;
        }
    }

    return NULL;
}


/* takes a reference to id; the member starts in state at incarnation */
eg_swim_member_t *
eg_swim_table_add(eg_swim_t *swim, eg_swim_ident_t *id, eg_uint_t state,
    uint64_t incarnation)
{
    uint32_t           h;
    eg_uint_t          slot, size;
    eg_swim_member_t  *m, **probe;

    if (swim->nmembers >= swim->hash_size && eg_swim_hash_grow(swim) != EG_OK)
    {
        return NULL;
    }

    if (swim->nprobe == swim->probe_alloc) {
        size = swim->probe_alloc * 2;

        probe = realloc(swim->probe, size * sizeof(eg_swim_member_t *));
        if (probe == NULL) {
            return NULL;
        }

        swim->probe = probe;
        swim->probe_alloc = size;
    }

    m = eg_swim_member_alloc(swim);
    if (m == NULL) {
        return NULL;
    }

    eg_swim_ident_ref(id);

    m->ident = id;
    m->state = (uint8_t) state;
    m->incarnation = incarnation;
    m->state_change = eg_swim_now(swim);

    h = eg_swim_id_hash(id->id, id->id_len);
    m->hash_next = swim->hash[h & (swim->hash_size - 1)];
    swim->hash[h & (swim->hash_size - 1)] = m;

    swim->nmembers++;
    swim->count[state]++;

    if (swim->self == NULL) {
        /* the first member is this node: it is never probed */
        return m;
    }

    /* a random place in the probe order; the one there goes to the end */

    slot = eg_swim_random_n(swim, swim->nprobe + 1);

    if (slot < swim->nprobe) {
        swim->probe[swim->nprobe] = swim->probe[slot];
        swim->probe[swim->nprobe]->probe_slot = (uint32_t) swim->nprobe;
    }

    swim->probe[slot] = m;
    m->probe_slot = (uint32_t) slot;
    swim->nprobe++;

    if (state == EG_MEMBER_DEAD || state == EG_MEMBER_LEFT) {
        eg_swim_set_state(swim, m, state);
    }

    return m;
}


void
eg_swim_table_remove(eg_swim_t *swim, eg_swim_member_t *m)
{
    uint32_t               h;
    eg_uint_t              slot;
    eg_swim_member_t     **mp, *last;
    eg_swim_member_ext_t  *ext;

    h = eg_swim_id_hash(m->ident->id, m->ident->id_len);

    for (mp = &swim->hash[h & (swim->hash_size - 1)]; *mp;
         mp = &(*mp)->hash_next)
    {
        if (*mp == m) {
            *mp = m->hash_next;
            break;
        }
    }

    /* the last in the probe order takes the hole */

    slot = m->probe_slot;
    last = swim->probe[swim->nprobe - 1];
    swim->probe[slot] = last;
    last->probe_slot = (uint32_t) slot;
    swim->nprobe--;

    if (swim->probe_next > swim->nprobe) {
        swim->probe_next = swim->nprobe;
    }

    ext = m->ext;

    if (ext) {
        if (ext->in_dead) {
            eg_queue_remove(&ext->dead);
        }

        eg_swim_drop_bcast(swim, m);

        if (ext->suspicion) {
            eg_swim_timer_del(swim, &((eg_swim_suspicion_t *)
                                      ext->suspicion)->timer);
            free(ext->suspicion);
        }

        free(ext);
    }

    swim->nmembers--;
    swim->count[m->state]--;

    eg_swim_ident_unref(m->ident);

    m->hash_next = swim->free_members;
    swim->free_members = m;
}


eg_swim_member_ext_t *
eg_swim_ext(eg_swim_t *swim, eg_swim_member_t *m)
{
    eg_swim_member_ext_t  *ext;

    eg_unused(swim);

    if (m->ext) {
        return m->ext;
    }

    ext = calloc(1, sizeof(eg_swim_member_ext_t));
    if (ext == NULL) {
        return NULL;
    }

    ext->member = m;
    m->ext = ext;

    return ext;
}


/* every state change goes through here: the counts and the dead queue */
void
eg_swim_set_state(eg_swim_t *swim, eg_swim_member_t *m, eg_uint_t state)
{
    eg_swim_member_ext_t  *ext;

    if (m->state != state) {
        swim->count[m->state]--;
        swim->count[state]++;
        m->state = (uint8_t) state;
    }

    m->state_change = eg_swim_now(swim);

    if (m == swim->self) {
        return;
    }

    ext = m->ext;

    if (state == EG_MEMBER_DEAD || state == EG_MEMBER_LEFT) {
        ext = eg_swim_ext(swim, m);
        if (ext == NULL) {
            return;     /* it will not be reaped: a small leak of memory */
        }

        if (ext->in_dead) {
            eg_queue_remove(&ext->dead);
        }

        eg_queue_insert_tail(&swim->dead, &ext->dead);
        ext->in_dead = 1;

        if (!swim->reap_timer.set) {
            eg_swim_timer_add(swim, &swim->reap_timer,
                              m->state_change + swim->conf.reap_timeout);
        }

        return;
    }

    if (ext && ext->in_dead) {
        eg_queue_remove(&ext->dead);
        ext->in_dead = 0;
    }
}


/* forgets dead and left members whose time is up, oldest first */
void
eg_swim_reap(eg_swim_t *swim, eg_swim_timer_t *t)
{
    eg_msec_t              now;
    eg_queue_t            *q;
    eg_swim_member_t      *m;
    eg_swim_member_ext_t  *ext;

    now = eg_swim_now(swim);

    while (!eg_queue_empty(&swim->dead)) {
        q = eg_queue_head(&swim->dead);
        ext = eg_queue_data(q, eg_swim_member_ext_t, dead);

        m = ext->member;

        if ((eg_msec_int_t) (now - m->state_change)
            < (eg_msec_int_t) swim->conf.reap_timeout)
        {
            eg_swim_timer_add(swim, t,
                              m->state_change + swim->conf.reap_timeout);
            return;
        }

        eg_swim_event(swim, m, EG_SWIM_EVENT_REAP);
        eg_swim_table_remove(swim, m);
    }
}


/* the next member to probe: alive or suspect, in shuffled rounds */
eg_swim_member_t *
eg_swim_next_probe(eg_swim_t *swim)
{
    eg_uint_t          i, j, tries;
    eg_swim_member_t  *m, *t;

    for (tries = 0; tries < swim->nprobe; tries++) {

        if (swim->probe_next >= swim->nprobe) {
            /* a new round: Fisher-Yates over the whole order */

            for (i = swim->nprobe; i > 1; i--) {
                j = eg_swim_random_n(swim, i);
                t = swim->probe[i - 1];
                swim->probe[i - 1] = swim->probe[j];
                swim->probe[j] = t;
                swim->probe[i - 1]->probe_slot = (uint32_t) (i - 1);
                swim->probe[j]->probe_slot = (uint32_t) j;
            }

            swim->probe_next = 0;
        }

        m = swim->probe[swim->probe_next++];

        if (m->state == EG_MEMBER_ALIVE || m->state == EG_MEMBER_SUSPECT) {
            return m;
        }
    }

    return NULL;
}


/*
 * A random member in one of the states (a bit mask of EG_MEMBER_*), or a
 * dead one that died less than dead_within ago; NULL if a few draws find
 * none.  Rejection sampling keeps it O(1) in big clusters.
 */
eg_swim_member_t *
eg_swim_random_member(eg_swim_t *swim, eg_uint_t states,
    eg_msec_t dead_within)
{
    eg_uint_t          i, tries;
    eg_msec_t          now;
    eg_swim_member_t  *m;

    if (swim->nprobe == 0) {
        return NULL;
    }

    now = eg_swim_now(swim);
    tries = eg_min(swim->nprobe, 16);

    for (i = 0; i < tries; i++) {
        m = swim->probe[eg_swim_random_n(swim, swim->nprobe)];

        if (states & (1u << m->state)) {
            return m;
        }

        if (m->state == EG_MEMBER_DEAD && dead_within
            && (eg_msec_int_t) (now - m->state_change)
               < (eg_msec_int_t) dead_within)
        {
            return m;
        }
    }

    /* few members qualify: walk them all once */

    for (i = 0; i < swim->nprobe; i++) {
        m = swim->probe[(i + eg_swim_random_n(swim, swim->nprobe))
                        % swim->nprobe];

        if (states & (1u << m->state)) {
            return m;
        }
    }

    return NULL;
}
