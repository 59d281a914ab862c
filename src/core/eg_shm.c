/*
 * Anonymous shared mappings, made by the master before it forks, so that
 * the master, the workers and module processes share them at one address.
 */

#include <eg_config.h>
#include <eg_core.h>


eg_int_t
eg_shm_alloc(eg_shm_t *shm)
{
    shm->addr = mmap(NULL, shm->size, PROT_READ|PROT_WRITE,
                     MAP_ANON|MAP_SHARED, -1, 0);

    if (shm->addr == MAP_FAILED) {
        eg_log_error(EG_LOG_ALERT, shm->log, eg_errno,
                     "mmap(MAP_ANON|MAP_SHARED, %zu) failed", shm->size);
        shm->addr = NULL;
        return EG_ERROR;
    }

    return EG_OK;
}


void
eg_shm_free(eg_shm_t *shm)
{
    if (shm->addr == NULL) {
        return;
    }

    if (munmap((void *) shm->addr, shm->size) == -1) {
        eg_log_error(EG_LOG_ALERT, shm->log, eg_errno,
                     "munmap(%p, %zu) failed", (void *) shm->addr,
                     shm->size);
    }

    shm->addr = NULL;
}


/*
 * Declares a zone.  Two declarations of one name must agree on the owner;
 * a size of 0 means "whatever the other declaration says".
 */
eg_shm_zone_t *
eg_shared_memory_add(eg_conf_t *cf, eg_str_t *name, size_t size, void *tag)
{
    eg_uint_t        i;
    eg_shm_zone_t   *zone;
    eg_list_part_t  *part;

    for (part = &cf->cycle->shared_memory.part; part; part = part->next) {
        zone = part->elts;

        for (i = 0; i < part->nelts; i++) {

            if (name->len != zone[i].shm.name.len
                || eg_strncmp(name->data, zone[i].shm.name.data, name->len)
                   != 0)
            {
                continue;
            }

            if (tag != zone[i].tag) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "the shared memory zone \"" EG_STR_FMT
                                  "\" is already declared for another "
                                  "module", EG_STR_ARG(*name));
                return NULL;
            }

            if (zone[i].shm.size == 0) {
                zone[i].shm.size = size;
            }

            if (size && size != zone[i].shm.size) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "the size %zu of shared memory zone \""
                                  EG_STR_FMT "\" conflicts with already "
                                  "declared size %zu", size,
                                  EG_STR_ARG(*name), zone[i].shm.size);
                return NULL;
            }

            return &zone[i];
        }
    }

    zone = eg_list_push(&cf->cycle->shared_memory);
    if (zone == NULL) {
        return NULL;
    }

    zone->data = NULL;
    zone->shm.addr = NULL;
    zone->shm.log = cf->cycle->log;
    zone->shm.size = size;
    zone->shm.name = *name;
    zone->shm.exists = 0;
    zone->init = NULL;
    zone->tag = tag;
    zone->noreuse = 0;

    return zone;
}
