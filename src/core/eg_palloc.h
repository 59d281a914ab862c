/*
 * Memory pools.  Objects that live and die together (a cycle, a
 * connection, a request) are carved from one pool and freed at once by
 * destroying it.  Small requests are bump-allocated from blocks; large
 * ones get their own malloc() and may be freed early with eg_pfree().
 */

#ifndef EG_PALLOC_H_INCLUDED
#define EG_PALLOC_H_INCLUDED


#define EG_DEFAULT_POOL_SIZE    (16 * 1024)
#define EG_MIN_POOL_SIZE        256

/* requests above this go to malloc() directly */
#define EG_MAX_ALLOC_FROM_POOL  4095


typedef void (*eg_pool_cleanup_pt)(void *data);

typedef struct eg_pool_cleanup_s  eg_pool_cleanup_t;

struct eg_pool_cleanup_s {
    eg_pool_cleanup_pt   handler;   /* runs when the pool is destroyed */
    void                *data;
    eg_pool_cleanup_t   *next;
};


typedef struct eg_pool_large_s  eg_pool_large_t;

struct eg_pool_large_s {
    eg_pool_large_t     *next;
    void                *alloc;     /* NULL once freed with eg_pfree() */
};


typedef struct eg_pool_block_s  eg_pool_block_t;

struct eg_pool_block_s {
    u_char              *last;      /* first free byte */
    u_char              *end;       /* end of the block */
    eg_pool_block_t     *next;
    eg_uint_t            failed;    /* times it was too full to serve */
};


struct eg_pool_s {
    eg_pool_block_t      block;     /* the first block, this very memory */
    eg_pool_block_t     *current;   /* first block worth trying */
    size_t               max;       /* largest request served from blocks */
    eg_pool_large_t     *large;
    eg_pool_cleanup_t   *cleanup;
    eg_log_t            *log;
};


void *eg_alloc(size_t size, eg_log_t *log);
void *eg_calloc(size_t size, eg_log_t *log);
#define eg_free  free

eg_pool_t *eg_create_pool(size_t size, eg_log_t *log);
void eg_destroy_pool(eg_pool_t *pool);
void eg_reset_pool(eg_pool_t *pool);

void *eg_palloc(eg_pool_t *pool, size_t size);     /* aligned */
void *eg_pnalloc(eg_pool_t *pool, size_t size);    /* unaligned */
void *eg_pcalloc(eg_pool_t *pool, size_t size);    /* aligned, zeroed */
eg_int_t eg_pfree(eg_pool_t *pool, void *p);       /* large blocks only */

u_char *eg_pstrdup(eg_pool_t *pool, eg_str_t *src);  /* NUL-terminated */

eg_pool_cleanup_t *eg_pool_cleanup_add(eg_pool_t *p, size_t size);

#endif /* EG_PALLOC_H_INCLUDED */
