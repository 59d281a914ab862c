/*
 * libFuzzer target: what the Kubernetes method makes of the API server's
 * answers (src/discovery/eg_discovery_k8s_module.c), a PodList read for
 * its Running and Ready pods and a Status read for its message, without
 * the network.  Whatever the input, nothing may crash or leak, every peer
 * found is an IPv4 or IPv6 address with the port asked for, and the
 * texts that reach the log and the health endpoint are printable.
 * Run: make fuzz && objs/fuzz/fuzz_k8s t/fuzz/corpus/k8s
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_discovery.h>
#include <eg_discovery_k8s_int.h>


#define EG_FUZZ_PORT  7946


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static eg_log_t  eg_fuzz_log;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char          *copy, err[200], msg[160], *p;
    eg_uint_t        i;
    eg_pool_t       *pool;
    eg_array_t      *peers;
    eg_swim_addr_t  *a;

    eg_fuzz_log.log_level = EG_LOG_EMERG;

    /* memory of exactly the input's size: a read past it is caught */

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    if (size) {
        memcpy(copy, data, size);
    }

    pool = eg_create_pool(4096, &eg_fuzz_log);
    if (pool == NULL) {
        free(copy);
        return 0;
    }

    peers = eg_array_create(pool, 4, sizeof(eg_swim_addr_t));

    if (peers
        && eg_discovery_k8s__pods(copy, size, EG_FUZZ_PORT, peers, err,
                                  sizeof(err))
           == EG_OK)
    {
        a = peers->elts;

        for (i = 0; i < peers->nelts; i++) {
            if ((a[i].family != 4 && a[i].family != 6)
                || a[i].port != EG_FUZZ_PORT)
            {
                abort();
            }
        }
    }

    if (eg_discovery_k8s__status(copy, size, msg, sizeof(msg)) == EG_OK) {
        for (p = msg; *p; p++) {
            if (*p < 0x20 || *p == 0x7f || p >= msg + sizeof(msg) - 1) {
                abort();
            }
        }
    }

    eg_destroy_pool(pool);
    free(copy);

    return 0;
}
