/*
 * Dissemination: the queue of member updates that ride on every packet,
 * the periodic gossip to a few random members, and the full-state
 * exchanges over streams (push-pull, join) that repair what gossip
 * missed.
 *
 * The queue keeps one update per member (a newer one replaces an older)
 * ordered by how often it was sent, then by how new it is, so a packet
 * carries the least-told news first.  An update is sent at most
 * retransmit_mult * ceil(log10(N + 1)) times: enough, with each packet
 * going to a random member, for it to reach everyone with high
 * probability (SWIM, section 4.1).
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_membership.h>
#include <eg_swim.h>
#include <eg_swim_int.h>
#include <zlib.h>


#define EG_SWIM_SEQ_MASK   0xffffffffffffULL

/* the smallest record: state, flags, incarnation, id of one byte */
#define EG_SWIM_MIN_RECORD (1 + 1 + 8 + 1 + 1)


static eg_rbtree_key_t
eg_swim_bcast_key(eg_swim_bcast_t *b)
{
    /* fewest transmits first, then the newest */
    return ((eg_rbtree_key_t) b->transmits << 48)
           | (~b->seq & EG_SWIM_SEQ_MASK);
}


void
eg_swim_bcast_init(eg_swim_t *swim)
{
    eg_rbtree_init(&swim->bcasts, &swim->bcast_sentinel,
                   eg_rbtree_insert_value);
}


void
eg_swim_bcast_free(eg_swim_t *swim)
{
    eg_rbtree_node_t  *node;
    eg_swim_bcast_t   *b;

    while (!eg_rbtree_empty(&swim->bcasts)) {
        node = eg_rbtree_min(swim->bcasts.root, swim->bcasts.sentinel);
        b = eg_rbtree_data(node, eg_swim_bcast_t, node);
        eg_rbtree_delete(&swim->bcasts, node);
        free(b);
    }
}


eg_uint_t
eg_swim_retransmit_limit(eg_swim_t *swim)
{
    eg_uint_t  n, digits;

    /* ceil(log10(N + 1)) without floating point */

    n = eg_swim_estimate(swim);

    for (digits = 0; n; n /= 10) {
        digits++;
    }

    return swim->conf.retransmit_mult * eg_max(digits, 1);
}


void
eg_swim_drop_bcast(eg_swim_t *swim, eg_swim_member_t *m)
{
    eg_swim_member_ext_t  *ext;

    ext = m->ext;

    if (ext == NULL || ext->bcast == NULL) {
        return;
    }

    eg_rbtree_delete(&swim->bcasts, &ext->bcast->node);
    free(ext->bcast);
    ext->bcast = NULL;
    swim->nbcasts--;
}


void
eg_swim_enqueue(eg_swim_t *swim, eg_swim_member_t *m, eg_swim_record_t *r)
{
    size_t                 len;
    eg_swim_buf_t          buf;
    eg_swim_bcast_t       *b;
    eg_swim_member_ext_t  *ext;

    ext = eg_swim_ext(swim, m);
    if (ext == NULL) {
        return;
    }

    len = eg_swim_record_size(r);

    b = malloc(sizeof(eg_swim_bcast_t) + len);
    if (b == NULL) {
        return;
    }

    buf.p = b->data;
    buf.last = b->data + len;
    buf.error = 0;

    eg_swim_put_record(&buf, r);

    if (buf.error) {
        free(b);
        return;
    }

    /* news about a member makes older news about it worthless */
    eg_swim_drop_bcast(swim, m);

    b->member = m;
    b->transmits = 0;
    b->seq = ++swim->bcast_seq;
    b->len = len;
    b->node.key = eg_swim_bcast_key(b);

    eg_rbtree_insert(&swim->bcasts, &b->node);

    ext->bcast = b;
    swim->nbcasts++;
}


void
eg_swim_member_record(eg_swim_member_t *m, eg_swim_record_t *r)
{
    eg_memzero(r, sizeof(eg_swim_record_t));

    r->state = m->state;
    r->flags = EG_SWIM_R_ADDR;
    r->incarnation = m->incarnation;
    r->id = m->ident->id;
    r->id_len = m->ident->id_len;
    r->addr = m->ident->addr;
    r->tags = m->ident->tags;
    r->tags_len = m->ident->tags_len;
}


/* an update about m as it stands now; from says who suspects or buries */
void
eg_swim_enqueue_member(eg_swim_t *swim, eg_swim_member_t *m, u_char *from,
    uint8_t from_len)
{
    eg_swim_record_t  r;

    eg_swim_member_record(m, &r);

    if (m->state != EG_MEMBER_ALIVE) {
        /* only alive records need the address; the others name a judge */
        r.flags = EG_SWIM_R_FROM;
        r.from = from ? from : swim->self->ident->id;
        r.from_len = from ? from_len : swim->self->ident->id_len;
    }

    eg_swim_enqueue(swim, m, &r);
}


/*
 * Appends as many updates as fit, the least sent and newest first (and
 * first's, for the buddy system, before all of them).  Returns how many.
 */
eg_uint_t
eg_swim_fill(eg_swim_t *swim, eg_swim_buf_t *b, eg_swim_member_t *first)
{
    size_t                 room;
    eg_uint_t              i, n, misses, limit;
    eg_swim_bcast_t       *bc, *chosen[EG_SWIM_MAX_RECORDS];
    eg_rbtree_node_t      *node;
    eg_swim_member_ext_t  *ext;

    n = 0;

    if (swim->nbcasts == 0 || b->error) {
        return 0;
    }

    ext = first ? first->ext : NULL;

    if (ext && ext->bcast && ext->bcast->len <= (size_t) (b->last - b->p)) {
        chosen[n++] = ext->bcast;
        eg_swim_put_bytes(b, ext->bcast->data, ext->bcast->len);
    }

    misses = 0;

    for (node = eg_rbtree_min(swim->bcasts.root, swim->bcasts.sentinel);
         node && n < EG_SWIM_MAX_RECORDS;
         node = eg_rbtree_next(&swim->bcasts, node))
    {
        bc = eg_rbtree_data(node, eg_swim_bcast_t, node);

        if (ext && bc == ext->bcast) {
            continue;
        }

        room = (size_t) (b->last - b->p);

        if (room < EG_SWIM_MIN_RECORD) {
            break;
        }

        if (bc->len > room) {
            /* a smaller one further on may still fit; do not look far */
            if (++misses > 16) {
                break;
            }

            continue;
        }

        eg_swim_put_bytes(b, bc->data, bc->len);
        chosen[n++] = bc;
    }

    /* count the sends; the tree order changes, so after the walk */

    limit = eg_swim_retransmit_limit(swim);

    for (i = 0; i < n; i++) {
        bc = chosen[i];

        eg_rbtree_delete(&swim->bcasts, &bc->node);

        if (++bc->transmits >= limit) {
            ext = bc->member->ext;
            ext->bcast = NULL;
            swim->nbcasts--;
            free(bc);
            continue;
        }

        bc->node.key = eg_swim_bcast_key(bc);
        eg_rbtree_insert(&swim->bcasts, &bc->node);
    }

    return n;
}


/*
 * Finishes a packet built in swim->plain (header, message, a count byte
 * and the records it counts) and hands it to the transport, sealed when
 * there is a keyring.
 */
void
eg_swim_send(eg_swim_t *swim, eg_swim_addr_t *to, eg_swim_buf_t *b)
{
    u_char   nonce[EG_SWIM_NONCE_LEN];
    size_t   len, sealed;

    if (b->error) {
        return;
    }

    len = (size_t) (b->p - swim->plain);

    if (swim->keyring.nkeys == 0) {
        swim->stats.sent_packets++;
        swim->stats.sent_bytes += len;
        swim->env.send(swim->env.data, to, swim->plain, len);
        return;
    }

    swim->plain[5] |= EG_SWIM_F_ENCRYPTED;
    eg_memcpy(swim->sealed, swim->plain, EG_SWIM_HEADER_LEN);

    swim->env.random(swim->env.data, nonce, sizeof(nonce));

    sealed = eg_swim_encrypt(&swim->keyring, swim->plain,
                             EG_SWIM_HEADER_LEN, nonce,
                             swim->plain + EG_SWIM_HEADER_LEN,
                             len - EG_SWIM_HEADER_LEN,
                             swim->sealed + EG_SWIM_HEADER_LEN);
    if (sealed == 0) {
        return;
    }

    swim->stats.sent_packets++;
    swim->stats.sent_bytes += EG_SWIM_HEADER_LEN + sealed;
    swim->env.send(swim->env.data, to, swim->sealed,
                   EG_SWIM_HEADER_LEN + sealed);
}


/* gossip_interval: the pending updates to a few random members */
void
eg_swim_gossip(eg_swim_t *swim, eg_swim_timer_t *t)
{
    eg_swim_timer_add(swim, t, eg_swim_now(swim)
                               + swim->conf.gossip_interval);

    eg_swim_gossip_now(swim);
}


/*
 * One round of gossip, out of turn too: news of a death is passed on the
 * moment it is learnt rather than at the next tick, which takes a tick
 * off every hop of its spread.  Each member does so once per death, so
 * it costs gossip_nodes datagrams per member per failure.
 */
void
eg_swim_gossip_now(eg_swim_t *swim)
{
    u_char            *count;
    eg_uint_t          i, n;
    eg_swim_buf_t      b;
    eg_swim_member_t  *m;

    for (i = 0; i < swim->conf.gossip_nodes && swim->nbcasts; i++) {

        /* the recently dead hear too: if they live, they will refute */

        m = eg_swim_random_member(swim, (1u << EG_MEMBER_ALIVE)
                                        | (1u << EG_MEMBER_SUSPECT),
                                  swim->conf.gossip_to_dead);
        if (m == NULL) {
            return;
        }

        b.p = swim->plain;
        b.last = swim->plain + swim->conf.packet_size
                 - (swim->keyring.nkeys ? EG_SWIM_CRYPTO_OVERHEAD : 0);
        b.error = 0;

        eg_swim_put_header(&b, 0, swim->cluster);
        eg_swim_put_u8(&b, EG_SWIM_GOSSIP);

        count = b.p;
        eg_swim_put_u8(&b, 0);

        n = eg_swim_fill(swim, &b, NULL);

        if (n == 0) {
            return;
        }

        *count = (u_char) n;

        eg_swim_send(swim, &m->ident->addr, &b);
    }
}


/*
 * Push-pull every push_pull_interval, stretched in big clusters (as
 * memberlist does) so that the full-state traffic grows with log N.
 */
void
eg_swim_push_pull(eg_swim_t *swim, eg_swim_timer_t *t)
{
    eg_uint_t          n, scale;
    eg_swim_member_t  *m;

    n = eg_swim_estimate(swim);

    for (scale = 1; n > 32; n /= 2) {
        scale++;
    }

    eg_swim_timer_add(swim, t, eg_swim_now(swim)
                               + swim->conf.push_pull_interval * scale);

    if (swim->leaving) {
        return;
    }

    m = eg_swim_random_member(swim, 1u << EG_MEMBER_ALIVE, 0);

    if (m) {
        eg_swim_stream_send(swim, &m->ident->addr, EG_SWIM_PUSH_PULL);
    }
}


/*
 * A push-pull with a member we think dead: if it is alive after all (a
 * healed partition) each side learns it is thought dead and refutes, and
 * the two views merge again.
 */
void
eg_swim_reconnect(eg_swim_t *swim, eg_swim_timer_t *t)
{
    eg_swim_member_t  *m;

    eg_swim_timer_add(swim, t, eg_swim_now(swim)
                               + swim->conf.reconnect_interval);

    if (swim->leaving || swim->count[EG_MEMBER_DEAD] == 0) {
        return;
    }

    m = eg_swim_random_member(swim, 1u << EG_MEMBER_DEAD, 0);

    if (m) {
        eg_swim_stream_send(swim, &m->ident->addr, EG_SWIM_PUSH_PULL);
    }
}


void
eg_swim_stream_send(eg_swim_t *swim, eg_swim_addr_t *to, uint8_t type)
{
    u_char             *buf;
    size_t              len;
    eg_swim_pending_t  *p;

    buf = eg_swim_snapshot(swim, type, &len);
    if (buf == NULL) {
        return;
    }

    p = malloc(sizeof(eg_swim_pending_t));
    if (p == NULL) {
        free(buf);
        return;
    }

    p->tag = ++swim->stream_tag;
    p->type = type;
    p->to = *to;

    eg_queue_insert_tail(&swim->pending, &p->queue);

    swim->stats.streams++;
    swim->env.stream(swim->env.data, to, buf, len, p->tag);

    free(buf);
}


/*
 * A member as a snapshot carries it: with its address and tags, and, if
 * we suspect it, who accused it first, so that the receiver's suspicion
 * is in the accuser's name (see eg_swim_merge_snapshot()).
 */
static void
eg_swim_snapshot_record(eg_swim_member_t *m, eg_swim_record_t *r)
{
    eg_swim_suspicion_t   *s;
    eg_swim_member_ext_t  *ext;

    eg_swim_member_record(m, r);

    ext = m->ext;

    if (m->state != EG_MEMBER_SUSPECT || ext == NULL
        || ext->suspicion == NULL)
    {
        return;
    }

    s = ext->suspicion;

    if (s->accuser_len) {
        r->flags |= EG_SWIM_R_FROM;
        r->from = s->accuser_id;
        r->from_len = s->accuser_len;
    }
}


/*
 * A stream message: header, then (deflated when COMPRESSED, after a u32
 * of the plain length) the type, cluster name, version range, and the
 * members; a join carries only the joiner.
 */
u_char *
eg_swim_snapshot(eg_swim_t *swim, uint8_t type, size_t *len)
{
    u_char            *plain, *out, *sealed, nonce[EG_SWIM_NONCE_LEN];
    size_t             size, body, clen;
    uLongf             zlen;
    uint8_t            flags;
    eg_uint_t          i, n, one;
    eg_swim_buf_t      b;
    eg_swim_record_t   r;
    eg_swim_member_t  *m;

    /* measure: every member, or just this one for a join (or NOT_READY) */

    one = (type == EG_SWIM_JOIN || type == EG_SWIM_NOT_READY);
    n = one ? 1 : swim->nmembers;
    size = 1 + 1 + swim->cluster_name_len + 1 + 1 + 4;

    eg_swim_member_record(swim->self, &r);
    size += eg_swim_record_size(&r);

    for (i = 0; !one && i < swim->nprobe; i++) {
        eg_swim_snapshot_record(swim->probe[i], &r);
        size += eg_swim_record_size(&r);
    }

    plain = malloc(size);
    if (plain == NULL) {
        return NULL;
    }

    b.p = plain;
    b.last = plain + size;
    b.error = 0;

    eg_swim_put_u8(&b, type);
    eg_swim_put_u8(&b, (uint8_t) swim->cluster_name_len);
    eg_swim_put_bytes(&b, swim->cluster_name, swim->cluster_name_len);
    eg_swim_put_u8(&b, EG_SWIM_VERSION_MIN);
    eg_swim_put_u8(&b, EG_SWIM_VERSION_MAX);
    eg_swim_put_u32(&b, (uint32_t) n);

    eg_swim_member_record(swim->self, &r);
    eg_swim_put_record(&b, &r);

    for (i = 0; !one && i < swim->nprobe; i++) {
        m = swim->probe[i];
        eg_swim_snapshot_record(m, &r);
        eg_swim_put_record(&b, &r);
    }

    if (b.error) {
        free(plain);
        return NULL;
    }

    body = size;
    flags = 0;

    /* large snapshots go deflated */

    if (body > EG_SWIM_COMPRESS_MIN) {
        zlen = compressBound((uLong) body);

        out = malloc(4 + zlen);
        if (out == NULL) {
            free(plain);
            return NULL;
        }

        if (compress2(out + 4, &zlen, plain, (uLong) body, 1) == Z_OK
            && zlen + 4 < body)
        {
            b.p = out;
            b.last = out + 4;
            b.error = 0;
            eg_swim_put_u32(&b, (uint32_t) body);

            free(plain);
            plain = out;
            body = 4 + zlen;
            flags |= EG_SWIM_F_COMPRESSED;

        } else {
            free(out);
        }
    }

    out = malloc(EG_SWIM_HEADER_LEN + body + EG_SWIM_CRYPTO_OVERHEAD);
    if (out == NULL) {
        free(plain);
        return NULL;
    }

    b.p = out;
    b.last = out + EG_SWIM_HEADER_LEN;
    b.error = 0;

    if (swim->keyring.nkeys) {
        flags |= EG_SWIM_F_ENCRYPTED;
    }

    eg_swim_put_header(&b, flags, swim->cluster);

    if (swim->keyring.nkeys == 0) {
        eg_memcpy(out + EG_SWIM_HEADER_LEN, plain, body);
        *len = EG_SWIM_HEADER_LEN + body;
        free(plain);
        return out;
    }

    swim->env.random(swim->env.data, nonce, sizeof(nonce));

    sealed = out + EG_SWIM_HEADER_LEN;
    clen = eg_swim_encrypt(&swim->keyring, out, EG_SWIM_HEADER_LEN, nonce,
                           plain, body, sealed);
    free(plain);

    if (clen == 0) {
        free(out);
        return NULL;
    }

    *len = EG_SWIM_HEADER_LEN + clen;

    return out;
}


/*
 * Checks, decrypts and inflates a stream message; *body (malloc()ed, the
 * caller frees it) starts at the type byte.  Returns EG_OK, or EG_ERROR
 * with the drop reason in *reason.
 */
eg_int_t
eg_swim_open_stream(eg_swim_t *swim, u_char *buf, size_t len, u_char **body,
    size_t *blen, uint8_t *type, eg_uint_t *reason)
{
    u_char         *plain, *raw;
    size_t          plen;
    uLongf          rlen;
    ssize_t         n;
    uint8_t         flags;
    uint32_t        want;
    eg_swim_buf_t   b;

    *body = NULL;

    if (len > EG_SWIM_MAX_STREAM) {
        *reason = EG_SWIM_DROP_MALFORMED;
        return EG_ERROR;
    }

    if (eg_swim_check_header(buf, len, swim->cluster, &flags, reason)
        != EG_OK)
    {
        return EG_ERROR;
    }

    if ((flags & EG_SWIM_F_ENCRYPTED) && swim->keyring.nkeys == 0) {
        *reason = EG_SWIM_DROP_DECRYPT;
        return EG_ERROR;
    }

    if (!(flags & EG_SWIM_F_ENCRYPTED) && swim->keyring.nkeys) {
        *reason = EG_SWIM_DROP_PLAINTEXT;
        return EG_ERROR;
    }

    plen = len - EG_SWIM_HEADER_LEN;

    plain = malloc(plen ? plen : 1);
    if (plain == NULL) {
        *reason = EG_SWIM_DROP_MALFORMED;
        return EG_ERROR;
    }

    if (flags & EG_SWIM_F_ENCRYPTED) {
        n = eg_swim_decrypt(&swim->keyring, buf, EG_SWIM_HEADER_LEN,
                            buf + EG_SWIM_HEADER_LEN, plen, plain);
        if (n < 0) {
            free(plain);
            *reason = EG_SWIM_DROP_DECRYPT;
            return EG_ERROR;
        }

        plen = (size_t) n;

    } else {
        eg_memcpy(plain, buf + EG_SWIM_HEADER_LEN, plen);
    }

    if (flags & EG_SWIM_F_COMPRESSED) {
        b.p = plain;
        b.last = plain + plen;
        b.error = 0;

        want = eg_swim_get_u32(&b);

        if (b.error || want == 0 || want > EG_SWIM_MAX_STREAM) {
            free(plain);
            *reason = EG_SWIM_DROP_MALFORMED;
            return EG_ERROR;
        }

        raw = malloc(want);
        if (raw == NULL) {
            free(plain);
            *reason = EG_SWIM_DROP_MALFORMED;
            return EG_ERROR;
        }

        rlen = want;

        if (uncompress(raw, &rlen, plain + 4, (uLong) (plen - 4)) != Z_OK
            || rlen != want)
        {
            free(raw);
            free(plain);
            *reason = EG_SWIM_DROP_MALFORMED;
            return EG_ERROR;
        }

        free(plain);
        plain = raw;
        plen = want;
    }

    if (plen < 1) {
        free(plain);
        *reason = EG_SWIM_DROP_MALFORMED;
        return EG_ERROR;
    }

    *type = plain[0];
    *body = plain;
    *blen = plen;

    return EG_OK;
}


/*
 * The sender's own record of a stream message (a NOT_READY answer), its
 * cluster name and versions checked, nothing merged; r points into body.
 */
eg_int_t
eg_swim_peek_snapshot(eg_swim_t *swim, u_char *body, size_t len,
    eg_swim_record_t *r, eg_uint_t *reason)
{
    u_char         *name;
    uint8_t         name_len, vmin, vmax;
    uint32_t        count;
    eg_swim_buf_t   b;

    b.p = body + 1;
    b.last = body + len;
    b.error = 0;

    name_len = eg_swim_get_u8(&b);
    name = eg_swim_get_bytes(&b, name_len);
    vmin = eg_swim_get_u8(&b);
    vmax = eg_swim_get_u8(&b);
    count = eg_swim_get_u32(&b);

    if (b.error || count != 1 || eg_swim_get_record(&b, r) != EG_OK
        || !(r->flags & EG_SWIM_R_ADDR) || b.p != b.last)
    {
        *reason = EG_SWIM_DROP_MALFORMED;
        return EG_ERROR;
    }

    if (name_len != swim->cluster_name_len
        || (name_len && eg_memcmp(name, swim->cluster_name, name_len) != 0))
    {
        *reason = EG_SWIM_DROP_CLUSTER;
        return EG_ERROR;
    }

    if (vmin > EG_SWIM_VERSION_MAX || vmax < EG_SWIM_VERSION_MIN) {
        *reason = EG_SWIM_DROP_VERSION;
        return EG_ERROR;
    }

    return EG_OK;
}


/*
 * Adopts a snapshot (body from eg_swim_open_stream()).  Every record is
 * checked before any is applied: a bad one rejects the whole message
 * (EG_ERROR, with the drop reason in *reason).
 */
eg_int_t
eg_swim_merge_snapshot(eg_swim_t *swim, u_char *body, size_t len,
    eg_uint_t *reason)
{
    u_char            *name;
    uint8_t            name_len, vmin, vmax;
    uint32_t           count;
    eg_uint_t          i;
    eg_swim_buf_t      b;
    eg_swim_record_t  *recs;

    b.p = body + 1;
    b.last = body + len;
    b.error = 0;

    name_len = eg_swim_get_u8(&b);
    name = eg_swim_get_bytes(&b, name_len);
    vmin = eg_swim_get_u8(&b);
    vmax = eg_swim_get_u8(&b);
    count = eg_swim_get_u32(&b);

    if (b.error) {
        *reason = EG_SWIM_DROP_MALFORMED;
        return EG_ERROR;
    }

    if (name_len != swim->cluster_name_len
        || (name_len && eg_memcmp(name, swim->cluster_name, name_len) != 0))
    {
        /* the hashes matched, the names do not: still another cluster */
        *reason = EG_SWIM_DROP_CLUSTER;
        return EG_ERROR;
    }

    if (vmin > EG_SWIM_VERSION_MAX || vmax < EG_SWIM_VERSION_MIN) {
        *reason = EG_SWIM_DROP_VERSION;
        return EG_ERROR;
    }

    if (count == 0 || count > (len / EG_SWIM_MIN_RECORD)) {
        *reason = EG_SWIM_DROP_MALFORMED;
        return EG_ERROR;
    }

    recs = malloc(count * sizeof(eg_swim_record_t));
    if (recs == NULL) {
        *reason = EG_SWIM_DROP_MALFORMED;
        return EG_ERROR;
    }

    for (i = 0; i < count; i++) {
        if (eg_swim_get_record(&b, &recs[i]) != EG_OK
            || !(recs[i].flags & EG_SWIM_R_ADDR))
        {
            free(recs);
            *reason = EG_SWIM_DROP_MALFORMED;
            return EG_ERROR;
        }
    }

    if (b.p != b.last) {
        free(recs);
        *reason = EG_SWIM_DROP_MALFORMED;
        return EG_ERROR;
    }

    /*
     * The first record is the sender's own.  What it says of others it
     * says second hand: a suspicion we start from it is in the name of
     * the accuser the record names, or else of the sender, so that,
     * gossiped on, it does not pass for an independent confirmation of
     * ours.
     */

    for (i = 1; i < count; i++) {
        if (!(recs[i].flags & EG_SWIM_R_FROM)) {
            recs[i].from = recs[0].id;
            recs[i].from_len = recs[0].id_len;
        }
    }

    for (i = 0; i < count; i++) {
        eg_swim_apply(swim, &recs[i], 1);
    }

    free(recs);

    return EG_OK;
}
