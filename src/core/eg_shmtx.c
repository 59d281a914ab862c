/*
 * Process-shared mutex on pthreads.  A robust mutex whose owner died
 * returns EOWNERDEAD: the data it guards may be half-updated, but every
 * user of shared state here either writes whole records or can rebuild
 * them, so the lock is marked consistent and the caller goes on.
 */

#include <eg_config.h>
#include <eg_core.h>


eg_int_t
eg_shmtx_create(eg_shmtx_t *mtx)
{
    pthread_mutexattr_t  attr;

    if (pthread_mutexattr_init(&attr) != 0) {
        return EG_ERROR;
    }

    if (pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0) {
        (void) pthread_mutexattr_destroy(&attr);
        return EG_ERROR;
    }

#if (EG_HAVE_ROBUST_MUTEX)
    if (pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0) {
        (void) pthread_mutexattr_destroy(&attr);
        return EG_ERROR;
    }
#endif

    if (pthread_mutex_init(&mtx->mutex, &attr) != 0) {
        (void) pthread_mutexattr_destroy(&attr);
        return EG_ERROR;
    }

    (void) pthread_mutexattr_destroy(&attr);

    return EG_OK;
}


void
eg_shmtx_destroy(eg_shmtx_t *mtx)
{
    (void) pthread_mutex_destroy(&mtx->mutex);
}


void
eg_shmtx_lock(eg_shmtx_t *mtx)
{
    int  err;

    err = pthread_mutex_lock(&mtx->mutex);

#if (EG_HAVE_ROBUST_MUTEX)
    if (err == EOWNERDEAD) {
        (void) pthread_mutex_consistent(&mtx->mutex);
        err = 0;
    }
#endif

    if (err != 0) {
        /* only a corrupted mutex gets here; nothing sane can follow */
        abort();
    }
}


eg_uint_t
eg_shmtx_trylock(eg_shmtx_t *mtx)
{
    int  err;

    err = pthread_mutex_trylock(&mtx->mutex);

#if (EG_HAVE_ROBUST_MUTEX)
    if (err == EOWNERDEAD) {
        (void) pthread_mutex_consistent(&mtx->mutex);
        err = 0;
    }
#endif

    return err == 0;
}


void
eg_shmtx_unlock(eg_shmtx_t *mtx)
{
    (void) pthread_mutex_unlock(&mtx->mutex);
}
