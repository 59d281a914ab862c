/*
 * Module bookkeeping: global indexes, per-kind indexes, and the calls
 * into every module's hooks.
 */

#include <eg_config.h>
#include <eg_core.h>


eg_uint_t  eg_modules_n;


eg_int_t
eg_preinit_modules(void)
{
    eg_uint_t  i;

    for (i = 0; eg_modules[i]; i++) {
        eg_modules[i]->index = i;
        eg_modules[i]->name = eg_module_names[i];
    }

    eg_modules_n = i;

    return EG_OK;
}


eg_int_t
eg_cycle_modules(eg_cycle_t *cycle)
{
    eg_uint_t  i, j, n;

    cycle->modules = eg_pcalloc(cycle->pool,
                                (eg_modules_n + 1) * sizeof(eg_module_t *));
    if (cycle->modules == NULL) {
        return EG_ERROR;
    }

    eg_memcpy(cycle->modules, eg_modules,
              eg_modules_n * sizeof(eg_module_t *));

    cycle->modules_n = eg_modules_n;

    /* number the modules of each kind in list order */

    for (i = 0; i < cycle->modules_n; i++) {
        n = 0;

        for (j = 0; j < i; j++) {
            if (cycle->modules[j]->type == cycle->modules[i]->type) {
                n++;
            }
        }

        cycle->modules[i]->ctx_index = n;
    }

    return EG_OK;
}


/* gives every module of the kind its ctx_index; returns how many there are */
eg_uint_t
eg_count_modules(eg_cycle_t *cycle, eg_uint_t type)
{
    eg_uint_t  i, n;

    n = 0;

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->type != type) {
            continue;
        }

        cycle->modules[i]->ctx_index = n++;
    }

    return n;
}


eg_int_t
eg_init_modules(eg_cycle_t *cycle)
{
    eg_uint_t  i;

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->init_module) {
            if (cycle->modules[i]->init_module(cycle) != EG_OK) {
                return EG_ERROR;
            }
        }
    }

    return EG_OK;
}


eg_module_t *
eg_module_by_name(const char *name)
{
    eg_uint_t  i;

    for (i = 0; eg_modules[i]; i++) {
        if (strcmp(eg_modules[i]->name, name) == 0) {
            return eg_modules[i];
        }
    }

    return NULL;
}
