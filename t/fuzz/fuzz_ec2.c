/*
 * libFuzzer target: what the AWS method makes of EC2's answers
 * (src/discovery/eg_discovery_aws_module.c), a DescribeInstancesResponse
 * read for the addresses of its running instances and its nextToken, or
 * an error Response read for its Code and Message, without the network.
 * The first byte of the input picks private or public addresses; the
 * rest is the answer.  Whatever it holds, nothing may crash or leak,
 * every peer found is an IPv4 address with the port asked for, no more
 * peers than instances, and what was read lies within the pool's memory.
 * Run: make fuzz && objs/fuzz/fuzz_ec2 t/fuzz/corpus/ec2
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_discovery.h>
#include <eg_discovery_aws_int.h>


#define EG_FUZZ_PORT  7946


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static eg_log_t  eg_fuzz_log;


static void
eg_fuzz_touch(eg_str_t *s)
{
    size_t            i;
    volatile u_char   sum;

    /* a string that is not in live memory is found by the sanitizer */
    sum = 0;

    for (i = 0; i < s->len; i++) {
        sum ^= s->data[i];
    }

    (void) sum;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char               *copy;
    eg_uint_t             i, public;
    eg_pool_t            *pool;
    eg_swim_addr_t       *a;
    eg_aws_ec2_result_t   r;

    eg_fuzz_log.log_level = EG_LOG_EMERG;

    if (size == 0) {
        return 0;
    }

    public = data[0] & 1;
    data++;
    size--;

    /* memory of exactly the answer's size: a read past it is caught */

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

    eg_memzero(&r, sizeof(eg_aws_ec2_result_t));

    r.addrs = eg_array_create(pool, 4, sizeof(eg_swim_addr_t));

    if (r.addrs) {
        if (eg_discovery_aws__parse(pool, copy, size, public, EG_FUZZ_PORT,
                                    &r)
            == EG_OK)
        {
            if (r.addrs->nelts > r.instances) {
                abort();
            }
        }

        a = r.addrs->elts;

        for (i = 0; i < r.addrs->nelts; i++) {
            if (a[i].family != 4 || a[i].port != EG_FUZZ_PORT) {
                abort();
            }
        }

        eg_fuzz_touch(&r.next_token);
        eg_fuzz_touch(&r.error_code);
        eg_fuzz_touch(&r.error_message);

        if (r.xml_error && strlen(r.xml_error) == 0) {
            abort();
        }
    }

    eg_destroy_pool(pool);
    free(copy);

    return 0;
}
