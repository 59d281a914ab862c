/*
 * Pool allocator.  A block that fails to serve four requests in a row is
 * skipped for good by moving "current" past it, so allocation stays O(1)
 * on long-lived pools that fill up unevenly.
 */

#include <eg_config.h>
#include <eg_core.h>


static void *eg_palloc_small(eg_pool_t *pool, size_t size, eg_uint_t align);
static void *eg_palloc_block(eg_pool_t *pool, size_t size);
static void *eg_palloc_large(eg_pool_t *pool, size_t size);


void *
eg_alloc(size_t size, eg_log_t *log)
{
    void  *p;

    p = malloc(size);

    if (p == NULL) {
        eg_log_error(EG_LOG_EMERG, log, eg_errno,
                     "malloc(%zu) failed", size);
    }

    return p;
}


void *
eg_calloc(size_t size, eg_log_t *log)
{
    void  *p;

    p = eg_alloc(size, log);

    if (p) {
        eg_memzero(p, size);
    }

    return p;
}


eg_pool_t *
eg_create_pool(size_t size, eg_log_t *log)
{
    eg_pool_t  *p;

    if (size < sizeof(eg_pool_t) + EG_MIN_POOL_SIZE) {
        size = sizeof(eg_pool_t) + EG_MIN_POOL_SIZE;
    }

    p = eg_alloc(size, log);
    if (p == NULL) {
        return NULL;
    }

    p->block.last = (u_char *) p + sizeof(eg_pool_t);
    p->block.end = (u_char *) p + size;
    p->block.next = NULL;
    p->block.failed = 0;

    size -= sizeof(eg_pool_t);
    p->max = eg_min(size, EG_MAX_ALLOC_FROM_POOL);

    p->current = &p->block;
    p->large = NULL;
    p->cleanup = NULL;
    p->log = log;

    return p;
}


void
eg_destroy_pool(eg_pool_t *pool)
{
    eg_pool_block_t    *b, *n;
    eg_pool_large_t    *l;
    eg_pool_cleanup_t  *c;

    for (c = pool->cleanup; c; c = c->next) {
        if (c->handler) {
            c->handler(c->data);
        }
    }

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            eg_free(l->alloc);
        }
    }

    for (b = pool->block.next; b; b = n) {
        n = b->next;
        eg_free(b);
    }

    eg_free(pool);
}


void
eg_reset_pool(eg_pool_t *pool)
{
    eg_pool_block_t  *b;
    eg_pool_large_t  *l;

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            eg_free(l->alloc);
        }
    }

    pool->block.last = (u_char *) pool + sizeof(eg_pool_t);
    pool->block.failed = 0;

    for (b = pool->block.next; b; b = b->next) {
        b->last = (u_char *) b + sizeof(eg_pool_block_t);
        b->failed = 0;
    }

    pool->current = &pool->block;
    pool->large = NULL;
}


void *
eg_palloc(eg_pool_t *pool, size_t size)
{
    if (size <= pool->max) {
        return eg_palloc_small(pool, size, 1);
    }

    return eg_palloc_large(pool, size);
}


void *
eg_pnalloc(eg_pool_t *pool, size_t size)
{
    if (size <= pool->max) {
        return eg_palloc_small(pool, size, 0);
    }

    return eg_palloc_large(pool, size);
}


void *
eg_pcalloc(eg_pool_t *pool, size_t size)
{
    void  *p;

    p = eg_palloc(pool, size);

    if (p) {
        eg_memzero(p, size);
    }

    return p;
}


static void *
eg_palloc_small(eg_pool_t *pool, size_t size, eg_uint_t align)
{
    u_char           *m;
    eg_pool_block_t  *b;

    for (b = pool->current; b; b = b->next) {
        m = b->last;

        if (align) {
            m = eg_align_ptr(m, EG_ALIGNMENT);
        }

        if (m <= b->end && (size_t) (b->end - m) >= size) {
            b->last = m + size;
            return m;
        }
    }

    return eg_palloc_block(pool, size);
}


static void *
eg_palloc_block(eg_pool_t *pool, size_t size)
{
    u_char           *m;
    size_t            psize;
    eg_pool_block_t  *b, *last, *nb;

    psize = (size_t) (pool->block.end - (u_char *) pool);

    m = eg_alloc(psize, pool->log);
    if (m == NULL) {
        return NULL;
    }

    nb = (eg_pool_block_t *) m;
    nb->end = m + psize;
    nb->next = NULL;
    nb->failed = 0;

    m += sizeof(eg_pool_block_t);
    m = eg_align_ptr(m, EG_ALIGNMENT);
    nb->last = m + size;

    last = pool->current;

    for (b = pool->current; b->next; b = b->next) {
        if (b->failed++ > 4) {
            pool->current = b->next;
        }

        last = b->next;
    }

    last->next = nb;

    return m;
}


static void *
eg_palloc_large(eg_pool_t *pool, size_t size)
{
    void             *p;
    eg_uint_t         n;
    eg_pool_large_t  *large;

    p = eg_alloc(size, pool->log);
    if (p == NULL) {
        return NULL;
    }

    /* reuse one of the first few freed slots rather than grow the list */

    n = 0;

    for (large = pool->large; large; large = large->next) {
        if (large->alloc == NULL) {
            large->alloc = p;
            return p;
        }

        if (n++ > 3) {
            break;
        }
    }

    large = eg_palloc_small(pool, sizeof(eg_pool_large_t), 1);
    if (large == NULL) {
        eg_free(p);
        return NULL;
    }

    large->alloc = p;
    large->next = pool->large;
    pool->large = large;

    return p;
}


eg_int_t
eg_pfree(eg_pool_t *pool, void *p)
{
    eg_pool_large_t  *l;

    for (l = pool->large; l; l = l->next) {
        if (p == l->alloc) {
            eg_free(l->alloc);
            l->alloc = NULL;
            return EG_OK;
        }
    }

    return EG_DECLINED;
}


u_char *
eg_pstrdup(eg_pool_t *pool, eg_str_t *src)
{
    u_char  *dst;

    dst = eg_pnalloc(pool, src->len + 1);
    if (dst == NULL) {
        return NULL;
    }

    if (src->len) {
        eg_memcpy(dst, src->data, src->len);
    }

    dst[src->len] = '\0';

    return dst;
}


eg_pool_cleanup_t *
eg_pool_cleanup_add(eg_pool_t *p, size_t size)
{
    eg_pool_cleanup_t  *c;

    c = eg_palloc(p, sizeof(eg_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    if (size) {
        c->data = eg_palloc(p, size);
        if (c->data == NULL) {
            return NULL;
        }

    } else {
        c->data = NULL;
    }

    c->handler = NULL;
    c->next = p->cleanup;
    p->cleanup = c;

    return c;
}
