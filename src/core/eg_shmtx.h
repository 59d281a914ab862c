/*
 * A mutex that lives in shared memory and works across processes.  It is
 * robust where the platform allows: if a process dies holding it (a worker
 * killed with -9), the next locker takes it over instead of hanging.
 */

#ifndef EG_SHMTX_H_INCLUDED
#define EG_SHMTX_H_INCLUDED


typedef struct {
    pthread_mutex_t     mutex;
} eg_shmtx_t;


eg_int_t eg_shmtx_create(eg_shmtx_t *mtx);
void eg_shmtx_destroy(eg_shmtx_t *mtx);
void eg_shmtx_lock(eg_shmtx_t *mtx);
eg_uint_t eg_shmtx_trylock(eg_shmtx_t *mtx);
void eg_shmtx_unlock(eg_shmtx_t *mtx);

#endif /* EG_SHMTX_H_INCLUDED */
