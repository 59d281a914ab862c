/*
 * What the Kubernetes method (eg_discovery_k8s_module.c) makes of the API
 * server's answers, without the network, so that the unit tests and the
 * fuzzer can feed it any bytes.
 */

#ifndef EG_DISCOVERY_K8S_INT_H_INCLUDED
#define EG_DISCOVERY_K8S_INT_H_INCLUDED


#include <eg_discovery.h>


/*
 * The peers of a PodList (GET /api/v1/namespaces/NS/pods): each pod that
 * runs, is Ready and is not being deleted, at its pod IP (IPv4 or IPv6)
 * and port.  Pushes eg_swim_addr_t onto peers and returns EG_OK, or
 * EG_ERROR with err saying what was wrong with the answer.
 */
eg_int_t eg_discovery_k8s__pods(u_char *json, size_t len, in_port_t port,
    eg_array_t *peers, u_char *err, size_t size);

/*
 * The "message" of the Status object the API server sends with an error
 * (401, 403, 404, ...), made printable, into buf; EG_DECLINED if the
 * body is no such object.
 */
eg_int_t eg_discovery_k8s__status(u_char *json, size_t len, u_char *buf,
    size_t size);


#endif /* EG_DISCOVERY_K8S_INT_H_INCLUDED */
