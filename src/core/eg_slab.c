/*
 * Shared-memory slab allocator; see eg_slab.h for the layout.  Every
 * pointer stored here points into the zone itself, which is mapped at the
 * same address in every process, so the structures are valid everywhere.
 */

#include <eg_config.h>
#include <eg_core.h>


static eg_slab_page_t *eg_slab_alloc_pages(eg_slab_pool_t *pool,
    eg_uint_t n);
static void eg_slab_free_pages(eg_slab_pool_t *pool, eg_slab_page_t *page,
    eg_uint_t n);
static void eg_slab_set_free_run(eg_slab_page_t *head, eg_uint_t n);
static void eg_slab_list_insert(eg_slab_page_t *sentinel,
    eg_slab_page_t *page);
static void eg_slab_list_remove(eg_slab_page_t *page);


#define eg_slab_page_addr(pool, page)                                        \
    ((pool)->start + (((page) - (pool)->pages) << EG_SLAB_PAGE_SHIFT))


eg_int_t
eg_slab_init(eg_slab_pool_t *pool, size_t size, eg_str_t *name)
{
    u_char     *p, *start, *end;
    eg_uint_t   i, n;

    end = (u_char *) pool + size;
    p = (u_char *) pool + sizeof(eg_slab_pool_t);

    if (p >= end) {
        return EG_ERROR;
    }

    n = (eg_uint_t) (end - p) / (EG_SLAB_PAGE_SIZE + sizeof(eg_slab_page_t));

    for ( ;; ) {
        start = eg_align_ptr(p + n * sizeof(eg_slab_page_t),
                             EG_SLAB_PAGE_SIZE);

        if (n == 0 || start + (n << EG_SLAB_PAGE_SHIFT) <= end) {
            break;
        }

        n--;
    }

    if (n == 0) {
        return EG_ERROR;
    }

    pool->addr = pool;
    pool->pages = (eg_slab_page_t *) p;
    pool->npages = n;
    pool->pfree = n;
    pool->start = start;
    pool->end = end;
    pool->data = NULL;
    pool->log_nomem = 1;

    (void) eg_cpystrn(pool->name, name ? name->data : (u_char *) "",
                      eg_min(sizeof(pool->name),
                             (name ? name->len : 0) + 1));

    /*
     * A zone is a fresh anonymous mapping, zeroes already: leaving the
     * descriptors untouched keeps their pages unallocated until used,
     * and zero is "inside a free run", so only the run's ends are set.
     */

    eg_memzero(pool->stats, sizeof(pool->stats));

    pool->free.next = &pool->free;
    pool->free.prev = &pool->free;

    for (i = 0; i < EG_SLAB_CLASSES; i++) {
        pool->slots[i].next = &pool->slots[i];
        pool->slots[i].prev = &pool->slots[i];
    }

    eg_slab_set_free_run(pool->pages, n);
    eg_slab_list_insert(&pool->free, pool->pages);

    if (eg_shmtx_create(&pool->mutex) != EG_OK) {
        return EG_ERROR;
    }

    return EG_OK;
}


void *
eg_slab_alloc(eg_slab_pool_t *pool, size_t size)
{
    void  *p;

    eg_shmtx_lock(&pool->mutex);
    p = eg_slab_alloc_locked(pool, size);
    eg_shmtx_unlock(&pool->mutex);

    return p;
}


void *
eg_slab_calloc(eg_slab_pool_t *pool, size_t size)
{
    void  *p;

    eg_shmtx_lock(&pool->mutex);
    p = eg_slab_calloc_locked(pool, size);
    eg_shmtx_unlock(&pool->mutex);

    return p;
}


void *
eg_slab_calloc_locked(eg_slab_pool_t *pool, size_t size)
{
    void  *p;

    p = eg_slab_alloc_locked(pool, size);

    if (p) {
        eg_memzero(p, size);
    }

    return p;
}


void *
eg_slab_alloc_locked(eg_slab_pool_t *pool, size_t size)
{
    uint64_t         free_bits;
    eg_uint_t        shift, cls, nslots, w, bit, slot, n;
    eg_slab_page_t  *page, *sentinel;

    if (size == 0) {
        size = 1;
    }

    if (size > EG_SLAB_PAGE_SIZE / 2) {
        if (size > (size_t) pool->npages << EG_SLAB_PAGE_SHIFT) {
            return NULL;
        }

        n = (eg_uint_t) ((size + EG_SLAB_PAGE_SIZE - 1) >> EG_SLAB_PAGE_SHIFT);

        page = eg_slab_alloc_pages(pool, n);
        if (page == NULL) {
            return NULL;
        }

        return eg_slab_page_addr(pool, page);
    }

    for (shift = EG_SLAB_MIN_SHIFT; ((size_t) 1 << shift) < size; shift++) {
        /* void */
    }

    cls = shift - EG_SLAB_MIN_SHIFT;
    nslots = EG_SLAB_PAGE_SIZE >> shift;
    sentinel = &pool->slots[cls];

    pool->stats[cls].reqs++;

    if (sentinel->next == sentinel) {
        page = eg_slab_alloc_pages(pool, 1);

        if (page == NULL) {
            pool->stats[cls].fails++;
            return NULL;
        }

        page->type = EG_SLAB_CLASS;
        page->shift = (uint32_t) shift;
        page->used = 0;
        eg_memzero(page->map, sizeof(page->map));

        eg_slab_list_insert(sentinel, page);
        pool->stats[cls].total += nslots;
    }

    page = sentinel->next;

    for (w = 0; w * 64 < nslots; w++) {
        free_bits = ~page->map[w];

        if (nslots - w * 64 < 64) {
            free_bits &= ((uint64_t) 1 << (nslots - w * 64)) - 1;
        }

        if (free_bits == 0) {
            continue;
        }

        bit = (eg_uint_t) __builtin_ctzll(free_bits);
        slot = w * 64 + bit;

        page->map[w] |= (uint64_t) 1 << bit;
        page->used++;
        pool->stats[cls].used++;

        if (page->used == nslots) {
            eg_slab_list_remove(page);
        }

        return eg_slab_page_addr(pool, page) + (slot << shift);
    }

    /* a page on the list always has room: the list is corrupt */
    abort();
}


void
eg_slab_free(eg_slab_pool_t *pool, void *p)
{
    eg_shmtx_lock(&pool->mutex);
    eg_slab_free_locked(pool, p);
    eg_shmtx_unlock(&pool->mutex);
}


void
eg_slab_free_locked(eg_slab_pool_t *pool, void *p)
{
    u_char          *addr;
    uint64_t         mask;
    eg_uint_t        idx, offset, slot, nslots, cls;
    eg_slab_page_t  *page;

    if ((u_char *) p < pool->start
        || (u_char *) p >= pool->start
                           + (pool->npages << EG_SLAB_PAGE_SHIFT))
    {
        abort();
    }

    idx = (eg_uint_t) ((u_char *) p - pool->start) >> EG_SLAB_PAGE_SHIFT;
    page = &pool->pages[idx];
    addr = eg_slab_page_addr(pool, page);

    switch (page->type) {

    case EG_SLAB_CLASS:
        offset = (eg_uint_t) ((u_char *) p - addr);

        if (offset & ((1u << page->shift) - 1)) {
            abort();
        }

        slot = offset >> page->shift;
        mask = (uint64_t) 1 << (slot % 64);

        if (!(page->map[slot / 64] & mask)) {
            /* a double free: refuse rather than corrupt the counts */
            abort();
        }

        nslots = EG_SLAB_PAGE_SIZE >> page->shift;
        cls = page->shift - EG_SLAB_MIN_SHIFT;

        if (page->used == nslots) {
            eg_slab_list_insert(&pool->slots[cls], page);
        }

        page->map[slot / 64] &= ~mask;
        page->used--;
        pool->stats[cls].used--;

        if (page->used == 0) {
            eg_slab_list_remove(page);
            pool->stats[cls].total -= nslots;
            eg_slab_free_pages(pool, page, 1);
        }

        return;

    case EG_SLAB_RUN:
        if ((u_char *) p != addr) {
            abort();
        }

        eg_slab_free_pages(pool, page, page->npages);
        return;

    default:
        abort();
    }
}


static eg_slab_page_t *
eg_slab_alloc_pages(eg_slab_pool_t *pool, eg_uint_t n)
{
    eg_uint_t        i, left;
    eg_slab_page_t  *run, *rest;

    for (run = pool->free.next; run != &pool->free; run = run->next) {

        if (run->npages < n) {
            continue;
        }

        left = run->npages - n;

        eg_slab_list_remove(run);

        if (left) {
            rest = run + n;
            rest->type = EG_SLAB_FREE_BODY;
            eg_slab_set_free_run(rest, left);
            eg_slab_list_insert(&pool->free, rest);
        }

        run->type = EG_SLAB_RUN;
        run->npages = (uint32_t) n;

        for (i = 1; i < n; i++) {
            run[i].type = EG_SLAB_RUN_BODY;
        }

        pool->pfree -= n;

        return run;
    }

    if (pool->log_nomem) {
        (void) fprintf(stderr, "engram: [crit] eg_slab_alloc() failed: "
                       "no memory in zone \"%s\"\n", (char *) pool->name);
    }

    return NULL;
}


static void
eg_slab_free_pages(eg_slab_pool_t *pool, eg_slab_page_t *page, eg_uint_t n)
{
    eg_uint_t        i;
    eg_slab_page_t  *next, *prev, *head, *last;

    pool->pfree += n;

    for (i = 0; i < n; i++) {
        page[i].type = EG_SLAB_FREE_BODY;
    }

    last = pool->pages + pool->npages;

    /* merge with the free run that follows */

    next = page + n;

    if (next < last && next->type == EG_SLAB_FREE) {
        eg_slab_list_remove(next);
        n += next->npages;

        if (next->npages > 1) {
            next[next->npages - 1].type = EG_SLAB_FREE_BODY;
        }

        next->type = EG_SLAB_FREE_BODY;
    }

    /* and with the one that precedes */

    if (page > pool->pages) {
        prev = page - 1;
        head = NULL;

        if (prev->type == EG_SLAB_FREE_TAIL) {
            head = prev->prev;

        } else if (prev->type == EG_SLAB_FREE) {
            head = prev;
        }

        if (head) {
            eg_slab_list_remove(head);

            if (prev != head) {
                prev->type = EG_SLAB_FREE_BODY;
            }

            n += head->npages;
            page = head;
        }
    }

    eg_slab_set_free_run(page, n);
    eg_slab_list_insert(&pool->free, page);
}


static void
eg_slab_set_free_run(eg_slab_page_t *head, eg_uint_t n)
{
    eg_slab_page_t  *tail;

    head->type = EG_SLAB_FREE;
    head->npages = (uint32_t) n;

    if (n > 1) {
        tail = head + n - 1;
        tail->type = EG_SLAB_FREE_TAIL;
        tail->prev = head;
    }
}


static void
eg_slab_list_insert(eg_slab_page_t *sentinel, eg_slab_page_t *page)
{
    page->next = sentinel->next;
    page->prev = sentinel;
    sentinel->next->prev = page;
    sentinel->next = page;
}


static void
eg_slab_list_remove(eg_slab_page_t *page)
{
    page->prev->next = page->next;
    page->next->prev = page->prev;
    page->next = NULL;
    page->prev = NULL;
}
