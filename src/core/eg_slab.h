/*
 * Slab allocator for shared memory zones.  The zone begins with the pool
 * header, then one descriptor per page, then the pages.  Requests up to
 * half a page come from size classes (16 bytes to 2 KiB, powers of two),
 * each page of a class holding equal slots tracked by a bitmap; larger
 * requests take runs of whole pages, found first-fit and coalesced with
 * their free neighbours on release.
 */

#ifndef EG_SLAB_H_INCLUDED
#define EG_SLAB_H_INCLUDED


#define EG_SLAB_PAGE_SHIFT   12
#define EG_SLAB_PAGE_SIZE    (1 << EG_SLAB_PAGE_SHIFT)
#define EG_SLAB_MIN_SHIFT    4
#define EG_SLAB_MAX_SHIFT    (EG_SLAB_PAGE_SHIFT - 1)
#define EG_SLAB_CLASSES      (EG_SLAB_MAX_SHIFT - EG_SLAB_MIN_SHIFT + 1)
#define EG_SLAB_MAP_WORDS                                                    \
    ((EG_SLAB_PAGE_SIZE >> EG_SLAB_MIN_SHIFT) / 64)

/* the smallest zone that holds a header and a few pages */
#define EG_SLAB_MIN_ZONE     (8 * EG_SLAB_PAGE_SIZE)


typedef struct eg_slab_page_s  eg_slab_page_t;

struct eg_slab_page_s {
    eg_slab_page_t   *next;     /* in the free-run or class list */
    eg_slab_page_t   *prev;
    uint32_t          type;     /* EG_SLAB_* below */
    uint32_t          npages;   /* run length, on a run's first page */
    uint32_t          shift;    /* slot size class, on a class page */
    uint32_t          used;     /* slots in use, on a class page */
    uint64_t          map[EG_SLAB_MAP_WORDS];   /* busy slots */
};

#define EG_SLAB_FREE_BODY    0  /* inside a free run: what zeroes are */
#define EG_SLAB_FREE         1  /* first page of a free run */
#define EG_SLAB_FREE_TAIL    2  /* last page of a free run; prev = head */
#define EG_SLAB_CLASS        3  /* a page of slots */
#define EG_SLAB_RUN          4  /* first page of an allocated run */
#define EG_SLAB_RUN_BODY     5  /* inside an allocated run */


typedef struct {
    eg_uint_t         reqs;     /* allocations asked of the class */
    eg_uint_t         fails;    /* and refused for want of memory */
    eg_uint_t         used;     /* slots in use now */
    eg_uint_t         total;    /* slots in the class's pages */
} eg_slab_stat_t;


typedef struct {
    eg_shmtx_t        mutex;

    u_char           *start;    /* first page */
    u_char           *end;      /* end of the zone */
    eg_slab_page_t   *pages;    /* descriptors, one per page */
    eg_uint_t         npages;
    eg_uint_t         pfree;    /* free pages */

    eg_slab_page_t    free;     /* sentinel of the free runs */
    eg_slab_page_t    slots[EG_SLAB_CLASSES];   /* pages with room */
    eg_slab_stat_t    stats[EG_SLAB_CLASSES];

    void             *data;     /* the zone owner's root object */
    void             *addr;     /* where the zone is mapped */
    eg_uint_t         log_nomem;    /* log "no memory" errors */
    u_char            name[32];     /* zone name, for messages */
} eg_slab_pool_t;


/* the zone must be zero-filled, as a fresh mapping is */
eg_int_t eg_slab_init(eg_slab_pool_t *pool, size_t size, eg_str_t *name);
void *eg_slab_alloc(eg_slab_pool_t *pool, size_t size);
void *eg_slab_alloc_locked(eg_slab_pool_t *pool, size_t size);
void *eg_slab_calloc(eg_slab_pool_t *pool, size_t size);
void *eg_slab_calloc_locked(eg_slab_pool_t *pool, size_t size);
void eg_slab_free(eg_slab_pool_t *pool, void *p);
void eg_slab_free_locked(eg_slab_pool_t *pool, void *p);

#endif /* EG_SLAB_H_INCLUDED */
