/*
 * What the cluster API module shares with the status page.
 */

#ifndef EG_HTTP_CLUSTER_MODULE_H_INCLUDED
#define EG_HTTP_CLUSTER_MODULE_H_INCLUDED


#include <jansson.h>


/* the discovery health document (a new reference), or NULL on no memory */
json_t *eg_http_cluster_discovery_json(void);

#endif /* EG_HTTP_CLUSTER_MODULE_H_INCLUDED */
