#include <eg_config.h>
#include <eg_core.h>


const char  *eg_member_states[] = { "alive", "suspect", "dead", "left",
                                    NULL };

eg_membership_snapshot_pt  eg_membership_snapshot = eg_membership_single;
eg_discovery_health_pt     eg_discovery_health;


/* single-node mode: this node, alive since the daemon started */
eg_int_t
eg_membership_single(eg_cycle_t *cycle, eg_pool_t *pool, eg_membership_t *m)
{
    eg_member_info_t  *self;

    eg_memzero(m, sizeof(eg_membership_t));

    if (eg_array_init(&m->members, pool, 1, sizeof(eg_member_info_t))
        != EG_OK)
    {
        return EG_ERROR;
    }

    self = eg_array_push(&m->members);
    if (self == NULL) {
        return EG_ERROR;
    }

    eg_memzero(self, sizeof(eg_member_info_t));

    self->id = cycle->hostname;
    self->state = EG_MEMBER_ALIVE;
    self->last_change = eg_start_time;
    self->self = 1;

    m->self = cycle->hostname;

    return EG_OK;
}


eg_uint_t
eg_member_state_by_name(eg_str_t *name)
{
    eg_uint_t  i;

    for (i = 0; eg_member_states[i]; i++) {
        if (strlen(eg_member_states[i]) == name->len
            && eg_strncasecmp((u_char *) eg_member_states[i], name->data,
                              name->len) == 0)
        {
            return i;
        }
    }

    return EG_MEMBER_STATES;
}
