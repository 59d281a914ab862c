/* placeholder while the mcast method is written: it registers nothing */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_discovery.h>


static eg_cluster_module_t  eg_discovery_mcast_module_ctx = {
    eg_string("mcast"),
    NULL,
    NULL
};


eg_module_t  eg_discovery_mcast_module = {
    EG_MODULE_V1,
    "eg_discovery_mcast_module",
    EG_CLUSTER_MODULE,
    &eg_discovery_mcast_module_ctx,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL
};
