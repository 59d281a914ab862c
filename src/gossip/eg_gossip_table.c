/*
 * The member table in shared memory.
 *
 * The cluster process writes it on every membership event; workers read
 * it to answer /cluster/members, the status page and metrics.  Both take
 * the zone's mutex only to copy records, so a reader never holds up the
 * protocol for more than a copy.  The table also keeps this node's own
 * incarnation: a cluster process that the master restarts after a crash
 * resumes from it, with the same incarnation and the same members, and
 * peers never see the node change.
 *
 * The snapshot file is the same list on disk (written atomically, by
 * rename), so that a node restarted when all its seeds are gone can still
 * find the members it knew.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_gossip.h>


#define EG_GOSSIP_BUCKETS  4096


typedef struct eg_gossip_record_s  eg_gossip_record_t;

struct eg_gossip_record_s {
    eg_gossip_record_t  *next;          /* in its bucket */
    eg_gossip_record_t  *all_next;      /* in the list of all */
    eg_gossip_record_t **all_prev;
    uint64_t             incarnation;
    time_t               last_change;   /* wall clock */
    eg_swim_addr_t       addr;
    uint8_t              state;
    uint8_t              id_len;
    uint16_t             tags_len;
    u_char               data[];        /* id, then tags */
};


struct eg_gossip_shm_s {
    uint64_t             generation;    /* grows with every change */
    uint64_t             incarnation;   /* this node's */
    u_char               self[EG_SWIM_ID_MAX];
    uint8_t              self_len;
    eg_uint_t            nrecords;
    eg_gossip_record_t  *all;
    eg_gossip_record_t  *buckets[EG_GOSSIP_BUCKETS];
};


/*
 * The smallest zone holds the table's head and a few pages of members
 * besides: the slab allocator takes a descriptor per page and its own
 * head (less than a page) from the zone too.
 */
#define EG_GOSSIP_HEAD_PAGES                                                 \
    ((sizeof(eg_gossip_shm_t) + EG_SLAB_PAGE_SIZE - 1) / EG_SLAB_PAGE_SIZE)

_Static_assert(EG_GOSSIP_HEAD_PAGES + 4
               <= EG_GOSSIP_ZONE_MIN
                  / (EG_SLAB_PAGE_SIZE + sizeof(eg_slab_page_t)) - 1,
               "EG_GOSSIP_ZONE_MIN is too small for the member table");


static uint64_t  eg_gossip_snapshot_generation;


eg_int_t
eg_gossip_table_init_zone(eg_shm_zone_t *zone, void *data)
{
    eg_slab_pool_t   *pool;
    eg_gossip_shm_t  *shm;

    if (data) {
        /* kept across the reload, members and all */
        zone->data = data;
        return EG_OK;
    }

    pool = (eg_slab_pool_t *) zone->shm.addr;

    shm = eg_slab_calloc(pool, sizeof(eg_gossip_shm_t));
    if (shm == NULL) {
        eg_log_error(EG_LOG_EMERG, zone->shm.log, 0,
                     "the member table needs %zu bytes, more than "
                     "\"members_zone_size\" %zu leaves",
                     sizeof(eg_gossip_shm_t), zone->shm.size);
        return EG_ERROR;
    }

    pool->data = shm;
    zone->data = shm;

    return EG_OK;
}


static eg_slab_pool_t *
eg_gossip_pool(eg_gossip_t *g)
{
    return (eg_slab_pool_t *) g->conf->zone->shm.addr;
}


static eg_gossip_record_t **
eg_gossip_lookup(eg_gossip_shm_t *shm, u_char *id, size_t len)
{
    eg_gossip_record_t  **rp;

    rp = &shm->buckets[eg_swim_cluster_hash(id, len) % EG_GOSSIP_BUCKETS];

    for ( /* void */ ; *rp; rp = &(*rp)->next) {
        if ((*rp)->id_len == len && eg_memcmp((*rp)->data, id, len) == 0) {
            break;
        }
    }

    return rp;
}


static void
eg_gossip_unlink(eg_slab_pool_t *pool, eg_gossip_shm_t *shm,
    eg_gossip_record_t **rp)
{
    eg_gossip_record_t  *r;

    r = *rp;
    *rp = r->next;

    *r->all_prev = r->all_next;

    if (r->all_next) {
        r->all_next->all_prev = r->all_prev;
    }

    shm->nrecords--;

    eg_slab_free_locked(pool, r);
}


/* a member's record made or brought up to date; the zone is locked */
static eg_int_t
eg_gossip_put_locked(eg_slab_pool_t *pool, eg_gossip_shm_t *shm,
    eg_swim_record_t *m)
{
    eg_gossip_record_t  **rp, *r;

    rp = eg_gossip_lookup(shm, m->id, m->id_len);
    r = *rp;

    if (r && r->tags_len != m->tags_len) {
        /* a record of another size: make it anew */
        eg_gossip_unlink(pool, shm, rp);
        r = NULL;
        rp = eg_gossip_lookup(shm, m->id, m->id_len);
    }

    if (r == NULL) {
        r = eg_slab_alloc_locked(pool, sizeof(eg_gossip_record_t)
                                       + m->id_len + m->tags_len);
        if (r == NULL) {
            return EG_ERROR;
        }

        r->id_len = m->id_len;
        r->tags_len = m->tags_len;
        eg_memcpy(r->data, m->id, m->id_len);

        r->next = NULL;
        *rp = r;

        r->all_next = shm->all;
        r->all_prev = &shm->all;

        if (shm->all) {
            shm->all->all_prev = &r->all_next;
        }

        shm->all = r;
        shm->nrecords++;
    }

    if (m->tags_len) {
        eg_memcpy(r->data + m->id_len, m->tags, m->tags_len);
    }

    if (r->state != m->state || r->last_change == 0) {
        r->last_change = eg_time();
    }

    r->addr = m->addr;
    r->state = m->state;
    r->incarnation = m->incarnation;

    shm->generation++;

    return EG_OK;
}


void
eg_gossip_table_update(eg_gossip_t *g, eg_swim_member_t *m)
{
    eg_slab_pool_t    *pool;
    eg_swim_ident_t   *id;
    eg_gossip_shm_t   *shm;
    eg_swim_record_t   r;

    shm = g->shm;
    pool = eg_gossip_pool(g);
    id = m->ident;

    eg_memzero(&r, sizeof(eg_swim_record_t));
    r.state = (uint8_t) m->state;
    r.incarnation = m->incarnation;
    r.id = id->id;
    r.id_len = id->id_len;
    r.addr = id->addr;
    r.tags = id->tags;
    r.tags_len = id->tags_len;

    eg_shmtx_lock(&pool->mutex);

    if (eg_gossip_put_locked(pool, shm, &r) != EG_OK) {
        eg_shmtx_unlock(&pool->mutex);
        eg_log_error(EG_LOG_CRIT, g->log, 0,
                     "the member table is full: raise "
                     "\"members_zone_size\"");
        return;
    }

    if (m == eg_swim_self(g->swim)) {
        shm->incarnation = m->incarnation;
        eg_memcpy(shm->self, id->id, id->id_len);
        shm->self_len = id->id_len;
    }

    eg_shmtx_unlock(&pool->mutex);
}


void
eg_gossip_table_remove(eg_gossip_t *g, eg_swim_member_t *m)
{
    eg_slab_pool_t       *pool;
    eg_gossip_shm_t      *shm;
    eg_gossip_record_t  **rp;

    shm = g->shm;
    pool = eg_gossip_pool(g);

    eg_shmtx_lock(&pool->mutex);

    rp = eg_gossip_lookup(shm, m->ident->id, m->ident->id_len);

    if (*rp) {
        eg_gossip_unlink(pool, shm, rp);
        shm->generation++;
    }

    eg_shmtx_unlock(&pool->mutex);
}


void
eg_gossip_table_self(eg_gossip_t *g)
{
    eg_gossip_table_update(g, eg_swim_self(g->swim));
}


/*
 * this node's incarnation, as the previous cluster process left it, and
 * the tags it had then (in *tags, at most EG_SWIM_TAGS_MAX bytes)
 */
uint64_t
eg_gossip_table_incarnation(eg_gossip_t *g, u_char *tags, size_t *tags_len)
{
    uint64_t             inc;
    eg_slab_pool_t      *pool;
    eg_gossip_shm_t     *shm;
    eg_gossip_conf_t    *gcf;
    eg_gossip_record_t  *r;

    shm = g->shm;
    pool = eg_gossip_pool(g);
    gcf = g->conf;

    eg_shmtx_lock(&pool->mutex);

    inc = 0;
    *tags_len = 0;

    /* only if it was this node: node_id may have changed on reload */

    if (shm->self_len == gcf->node_id.len
        && eg_memcmp(shm->self, gcf->node_id.data, shm->self_len) == 0)
    {
        inc = shm->incarnation;

        r = *eg_gossip_lookup(shm, shm->self, shm->self_len);

        if (r && r->tags_len <= EG_SWIM_TAGS_MAX) {
            eg_memcpy(tags, r->data + r->id_len, r->tags_len);
            *tags_len = r->tags_len;
        }
    }

    eg_shmtx_unlock(&pool->mutex);

    return inc;
}


/* gives a new cluster process the members its predecessor knew */
void
eg_gossip_table_restore(eg_gossip_t *g)
{
    eg_uint_t            n;
    eg_slab_pool_t      *pool;
    eg_swim_ident_t     *id;
    eg_gossip_shm_t     *shm;
    eg_gossip_record_t  *r, *next;
    eg_swim_member_t    *self;

    shm = g->shm;
    pool = eg_gossip_pool(g);
    self = eg_swim_self(g->swim);
    n = 0;

    eg_shmtx_lock(&pool->mutex);

    if (shm->self_len != self->ident->id_len
        || eg_memcmp(shm->self, self->ident->id, shm->self_len) != 0)
    {
        /* another node's table (node_id changed on reload): start clean */

        while (shm->all) {
            eg_gossip_unlink(pool, shm,
                             eg_gossip_lookup(shm, shm->all->data,
                                              shm->all->id_len));
        }
    }

    for (r = shm->all; r; r = next) {
        next = r->all_next;

        if (r->id_len == self->ident->id_len
            && eg_memcmp(r->data, self->ident->id, r->id_len) == 0)
        {
            continue;
        }

        id = eg_swim_ident_create(r->data, r->id_len, &r->addr,
                                  r->data + r->id_len, r->tags_len);
        if (id == NULL) {
            continue;
        }

        if (eg_swim_add_member(g->swim, id, r->state, r->incarnation)) {
            n++;
        }

        eg_swim_ident_unref(id);
    }

    shm->generation++;

    eg_shmtx_unlock(&pool->mutex);

    if (n) {
        eg_log_error(EG_LOG_NOTICE, g->log, 0,
                     "resumed with %lu members from the member table",
                     (unsigned long) n);
    }
}


/* tags blob to key/value pairs, in the reader's pool */
static eg_array_t *
eg_gossip_tags_array(eg_pool_t *pool, u_char *p, size_t len)
{
    u_char       *last;
    eg_array_t   *a;
    eg_keyval_t  *kv;

    if (len == 0) {
        return NULL;
    }

    a = eg_array_create(pool, 4, sizeof(eg_keyval_t));
    if (a == NULL) {
        return NULL;
    }

    last = p + len;

    while (p < last) {
        kv = eg_array_push(a);
        if (kv == NULL) {
            return NULL;
        }

        kv->key.len = *p++;
        kv->key.data = eg_pnalloc(pool, kv->key.len);
        if (kv->key.data == NULL) {
            return NULL;
        }

        eg_memcpy(kv->key.data, p, kv->key.len);
        p += kv->key.len;

        kv->value.len = *p++;
        kv->value.data = eg_pnalloc(pool, kv->value.len + 1);
        if (kv->value.data == NULL) {
            return NULL;
        }

        eg_memcpy(kv->value.data, p, kv->value.len);
        p += kv->value.len;
    }

    return a;
}


/* the workers' view: a copy of the table, made under the lock */
eg_int_t
eg_gossip_membership(eg_cycle_t *cycle, eg_pool_t *pool, eg_membership_t *m)
{
    u_char               text[EG_SOCKADDR_STRLEN + 1];
    size_t               len;
    eg_slab_pool_t      *zpool;
    eg_gossip_shm_t     *shm;
    eg_member_info_t    *info;
    eg_gossip_conf_t    *gcf;
    eg_gossip_record_t  *r;

    gcf = eg_cluster_get_conf(cycle->conf_ctx, eg_gossip_module);

    if (gcf == NULL || gcf->zone == NULL || gcf->zone->data == NULL) {
        return eg_membership_single(cycle, pool, m);
    }

    shm = gcf->zone->data;
    zpool = (eg_slab_pool_t *) gcf->zone->shm.addr;

    eg_memzero(m, sizeof(eg_membership_t));

    m->distributed = 1;
    m->cluster_name = gcf->cluster_name;
    m->self = gcf->node_id;

    eg_shmtx_lock(&zpool->mutex);

    if (eg_array_init(&m->members, pool, eg_max(shm->nrecords, 1),
                      sizeof(eg_member_info_t))
        != EG_OK)
    {
        eg_shmtx_unlock(&zpool->mutex);
        return EG_ERROR;
    }

    for (r = shm->all; r; r = r->all_next) {
        info = eg_array_push(&m->members);
        if (info == NULL) {
            break;
        }

        eg_memzero(info, sizeof(eg_member_info_t));

        info->id.len = r->id_len;
        info->id.data = eg_pnalloc(pool, r->id_len);
        len = eg_swim_addr_text(&r->addr, text, sizeof(text));
        info->address.len = len;
        info->address.data = eg_pnalloc(pool, len ? len : 1);

        if (info->id.data == NULL || info->address.data == NULL) {
            break;
        }

        eg_memcpy(info->id.data, r->data, r->id_len);
        eg_memcpy(info->address.data, text, len);

        info->state = r->state;
        info->incarnation = r->incarnation;
        info->last_change = r->last_change;
        info->tags = eg_gossip_tags_array(pool, r->data + r->id_len,
                                          r->tags_len);
        info->self = (r->id_len == gcf->node_id.len
                      && eg_memcmp(r->data, gcf->node_id.data, r->id_len)
                         == 0);
    }

    eg_shmtx_unlock(&zpool->mutex);

    if (m->members.nelts == 0) {
        /* the cluster process has not started yet: this node alone */
        return eg_membership_single(cycle, pool, m);
    }

    return EG_OK;
}


/*
 * The handover record.  A new binary's master makes zones of its own, so
 * the cluster process it starts would find no table to resume from and
 * come back at a new incarnation with no members.  So a cluster process
 * that hands over also writes the table into the lock file, as wire
 * records, and its successor, holding the lock next, reads it into a
 * fresh zone (and empties the file).  Only a recent record is believed:
 * a daemon started long after must not take an old life's incarnation.
 *
 *     magic "engram-handover-1\n", u64 written (unix s), u8 id length,
 *     id, u64 incarnation, u32 records, then the records
 */

#define EG_GOSSIP_HANDOVER_MAGIC  "engram-handover-1\n"
#define EG_GOSSIP_HANDOVER_TTL    60


void
eg_gossip_handover_write(eg_gossip_t *g, int fd)
{
    u_char              *buf;
    size_t               size;
    eg_swim_buf_t        b;
    eg_slab_pool_t      *pool;
    eg_gossip_shm_t     *shm;
    eg_swim_record_t     r;
    eg_gossip_record_t  *rec;

    shm = g->shm;
    pool = eg_gossip_pool(g);

    eg_shmtx_lock(&pool->mutex);

    size = 64 + EG_SWIM_ID_MAX
           + shm->nrecords * (32 + EG_SWIM_ID_MAX + EG_SWIM_TAGS_MAX);

    buf = malloc(size);
    if (buf == NULL) {
        eg_shmtx_unlock(&pool->mutex);
        return;
    }

    b.p = buf;
    b.last = buf + size;
    b.error = 0;

    eg_swim_put_bytes(&b, (u_char *) EG_GOSSIP_HANDOVER_MAGIC,
                      sizeof(EG_GOSSIP_HANDOVER_MAGIC) - 1);
    eg_swim_put_u64(&b, (uint64_t) eg_time());
    eg_swim_put_u8(&b, shm->self_len);
    eg_swim_put_bytes(&b, shm->self, shm->self_len);
    eg_swim_put_u64(&b, shm->incarnation);
    eg_swim_put_u32(&b, (uint32_t) shm->nrecords);

    for (rec = shm->all; rec; rec = rec->all_next) {
        eg_memzero(&r, sizeof(eg_swim_record_t));
        r.state = rec->state;
        r.flags = EG_SWIM_R_ADDR;
        r.incarnation = rec->incarnation;
        r.id = rec->data;
        r.id_len = rec->id_len;
        r.addr = rec->addr;
        r.tags = rec->data + rec->id_len;
        r.tags_len = rec->tags_len;

        eg_swim_put_record(&b, &r);
    }

    eg_shmtx_unlock(&pool->mutex);

    if (b.error == 0
        && (ftruncate(fd, 0) == -1
            || pwrite(fd, buf, (size_t) (b.p - buf), 0) != b.p - buf))
    {
        eg_log_error(EG_LOG_ALERT, g->log, eg_errno,
                     "cannot write the handover record");
    }

    free(buf);
}


/* into a fresh zone: the table the previous cluster process handed over */
void
eg_gossip_handover_read(eg_gossip_t *g, int fd)
{
    u_char              *buf, *id;
    off_t                size;
    ssize_t              n;
    uint8_t              id_len;
    uint32_t             i, count;
    uint64_t             written, incarnation;
    eg_swim_buf_t        b;
    struct stat          st;
    eg_slab_pool_t      *pool;
    eg_gossip_shm_t     *shm;
    eg_gossip_conf_t    *gcf;
    eg_swim_record_t     r;

    shm = g->shm;
    gcf = g->conf;

    if (fstat(fd, &st) == -1 || st.st_size == 0) {
        return;     /* nothing was handed over */
    }

    size = eg_min(st.st_size, 64 * 1024 * 1024);

    buf = malloc((size_t) size);
    if (buf == NULL) {
        return;
    }

    n = pread(fd, buf, (size_t) size, 0);

    /* read once: a later start must not take it again */
    if (ftruncate(fd, 0) == -1) {
        eg_log_error(EG_LOG_ALERT, g->log, eg_errno,
                     "cannot empty the handover record");
    }

    if (shm->self_len != 0) {
        free(buf);
        return;     /* the zone lived on (a reload): it is newer */
    }

    b.p = buf;
    b.last = buf + (n > 0 ? n : 0);
    b.error = 0;

    id = eg_swim_get_bytes(&b, sizeof(EG_GOSSIP_HANDOVER_MAGIC) - 1);
    written = eg_swim_get_u64(&b);
    id_len = eg_swim_get_u8(&b);
    id = (b.error || eg_memcmp(id, EG_GOSSIP_HANDOVER_MAGIC,
                               sizeof(EG_GOSSIP_HANDOVER_MAGIC) - 1))
         ? NULL : eg_swim_get_bytes(&b, id_len);
    incarnation = eg_swim_get_u64(&b);
    count = eg_swim_get_u32(&b);

    if (b.error || id == NULL || id_len != gcf->node_id.len
        || eg_memcmp(id, gcf->node_id.data, id_len) != 0
        || (uint64_t) eg_time() - written > EG_GOSSIP_HANDOVER_TTL)
    {
        free(buf);
        return;
    }

    pool = eg_gossip_pool(g);

    eg_shmtx_lock(&pool->mutex);

    for (i = 0; i < count; i++) {
        if (eg_swim_get_record(&b, &r) != EG_OK
            || !(r.flags & EG_SWIM_R_ADDR)
            || eg_gossip_put_locked(pool, shm, &r) != EG_OK)
        {
            break;
        }
    }

    shm->incarnation = incarnation;
    eg_memcpy(shm->self, id, id_len);
    shm->self_len = id_len;

    eg_shmtx_unlock(&pool->mutex);

    eg_log_error(EG_LOG_NOTICE, g->log, 0,
                 "took over %lu members and incarnation %llu from the "
                 "previous cluster process", (unsigned long) i,
                 (unsigned long long) incarnation);

    free(buf);
}


/*
 * The snapshot file, one member per line:
 *
 *     # engram members of cluster "engram", written 2026-11-26T04:02:21Z
 *     node-1 127.0.0.1:7946 alive 1795665630123
 *
 * ids are checked to hold no spaces when they are configured, but an id
 * that arrives over the network might: those are written %XX-escaped.
 */
eg_int_t
eg_gossip_snapshot_write(eg_gossip_t *g)
{
    int                  fd;
    u_char              *buf, *p, *last, *tmp, text[EG_SOCKADDR_STRLEN + 1];
    size_t               size, len;
    eg_uint_t            i;
    eg_slab_pool_t      *pool;
    eg_gossip_shm_t     *shm;
    eg_gossip_conf_t    *gcf;
    eg_gossip_record_t  *r;

    gcf = g->conf;
    shm = g->shm;

    if (gcf->snapshot_path.data == NULL || shm == NULL
        || shm->generation == eg_gossip_snapshot_generation)
    {
        return EG_OK;
    }

    pool = eg_gossip_pool(g);

    eg_shmtx_lock(&pool->mutex);

    size = 128 + shm->nrecords * (3 * EG_SWIM_ID_MAX + EG_SOCKADDR_STRLEN
                                  + 32);

    buf = malloc(size);
    if (buf == NULL) {
        eg_shmtx_unlock(&pool->mutex);
        return EG_ERROR;
    }

    p = buf;
    last = buf + size;

    p = eg_slprintf(p, last, "# engram members of cluster \"" EG_STR_FMT
                    "\", written %.*s\n", EG_STR_ARG(gcf->cluster_name),
                    (int) eg_cached_iso8601_time.len,
                    (char *) eg_cached_iso8601_time.data);

    for (r = shm->all; r; r = r->all_next) {
        for (i = 0; i < r->id_len; i++) {
            if (r->data[i] <= 0x20 || r->data[i] >= 0x7f
                || r->data[i] == '%')
            {
                p = eg_slprintf(p, last, "%%%02X", r->data[i]);

            } else {
                *p++ = r->data[i];
            }
        }

        len = eg_swim_addr_text(&r->addr, text, sizeof(text));

        p = eg_slprintf(p, last, " %.*s %s %llu\n", (int) len, text,
                        eg_member_states[r->state % EG_MEMBER_STATES],
                        (unsigned long long) r->incarnation);
    }

    eg_gossip_snapshot_generation = shm->generation;

    eg_shmtx_unlock(&pool->mutex);

    /* written beside the file and renamed over it: never half a file */

    len = gcf->snapshot_path.len;

    tmp = malloc(len + sizeof(".tmp"));
    if (tmp == NULL) {
        free(buf);
        return EG_ERROR;
    }

    (void) memcpy(eg_cpymem(tmp, gcf->snapshot_path.data, len), ".tmp",
                  sizeof(".tmp"));

    fd = open((char *) tmp, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644);

    if (fd == -1) {
        eg_log_error(EG_LOG_ERR, g->log, eg_errno,
                     "open() \"%s\" failed", tmp);
        free(tmp);
        free(buf);
        return EG_ERROR;
    }

    if (eg_write_fd(fd, buf, (size_t) (p - buf)) != EG_OK
        || fsync(fd) == -1)
    {
        eg_log_error(EG_LOG_ERR, g->log, eg_errno,
                     "write() \"%s\" failed", tmp);
        (void) close(fd);
        (void) unlink((char *) tmp);
        free(tmp);
        free(buf);
        return EG_ERROR;
    }

    (void) close(fd);

    if (rename((char *) tmp, (char *) gcf->snapshot_path.data) == -1) {
        eg_log_error(EG_LOG_ERR, g->log, eg_errno,
                     "rename() \"%s\" to \"%s\" failed", tmp,
                     gcf->snapshot_path.data);
        (void) unlink((char *) tmp);
    }

    free(tmp);
    free(buf);

    return EG_OK;
}


/* the addresses of the members the snapshot remembers, to join through */
eg_int_t
eg_gossip_snapshot_read(eg_gossip_t *g)
{
    u_char            *p, *last, *line, *sp, *addr_end;
    eg_str_t           content, text;
    eg_url_t           u;
    eg_uint_t          n;
    eg_swim_addr_t     a, *cand;
    eg_gossip_conf_t  *gcf;

    gcf = g->conf;

    if (gcf->snapshot_path.data == NULL) {
        return EG_OK;
    }

    if (eg_read_file(g->cycle->pool, (char *) gcf->snapshot_path.data,
                     &content, 64 * 1024 * 1024)
        != EG_OK)
    {
        if (eg_errno != EG_ENOENT) {
            eg_log_error(EG_LOG_WARN, g->log, eg_errno,
                         "cannot read the snapshot \"%s\"",
                         gcf->snapshot_path.data);
        }

        return EG_OK;
    }

    n = 0;
    p = content.data;
    last = p + content.len;

    while (p < last) {
        line = p;

        while (p < last && *p != '\n') {
            p++;
        }

        if (p < last) {
            p++;
        }

        if (*line == '#') {
            continue;
        }

        /* id, address, state, incarnation: only live ones are worth it */

        sp = eg_strlchr(line, p, ' ');
        if (sp == NULL) {
            continue;
        }

        text.data = sp + 1;
        addr_end = eg_strlchr(text.data, p, ' ');
        if (addr_end == NULL) {
            continue;
        }

        text.len = (size_t) (addr_end - text.data);

        if (p - addr_end < 5
            || (eg_strncmp(addr_end + 1, "alive", 5) != 0
                && eg_strncmp(addr_end + 1, "suspect", 7) != 0))
        {
            continue;
        }

        if (eg_parse_url(NULL, &u, &text, EG_GOSSIP_DEFAULT_PORT, 0)
            != EG_OK
            || !u.literal
            || eg_gossip_swim_addr(&u.addr.sa.sockaddr, &a) != EG_OK
            || eg_swim_addr_eq(&a, &gcf->advertise_addr))
        {
            continue;
        }

        cand = eg_array_push(g->remembered);
        if (cand == NULL) {
            break;
        }

        *cand = a;
        n++;
    }

    if (n) {
        eg_log_error(EG_LOG_NOTICE, g->log, 0,
                     "the snapshot \"%s\" remembers %lu members to join "
                     "through", gcf->snapshot_path.data, (unsigned long) n);
    }

    return EG_OK;
}
