/*
 * Growable arrays allocated from a pool.
 */

#ifndef EG_ARRAY_H_INCLUDED
#define EG_ARRAY_H_INCLUDED


typedef struct {
    void        *elts;      /* the elements */
    eg_uint_t    nelts;     /* how many are in use */
    size_t       size;      /* size of one element */
    eg_uint_t    nalloc;    /* how many fit before it must grow */
    eg_pool_t   *pool;
} eg_array_t;


eg_array_t *eg_array_create(eg_pool_t *p, eg_uint_t n, size_t size);
void eg_array_destroy(eg_array_t *a);
void *eg_array_push(eg_array_t *a);
void *eg_array_push_n(eg_array_t *a, eg_uint_t n);


static inline eg_int_t
eg_array_init(eg_array_t *array, eg_pool_t *pool, eg_uint_t n, size_t size)
{
    array->nelts = 0;
    array->size = size;
    array->nalloc = n;
    array->pool = pool;

    array->elts = eg_palloc(pool, n * size);
    if (array->elts == NULL) {
        return EG_ERROR;
    }

    return EG_OK;
}

#endif /* EG_ARRAY_H_INCLUDED */
