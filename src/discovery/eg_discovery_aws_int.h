/*
 * Inside the AWS EC2 method: its answer reader, apart from the network,
 * for the method (eg_discovery_aws_module.c), its Check suite
 * (t/unit/test_aws_ec2.c) and the fuzzer (t/fuzz/fuzz_ec2.c).
 */

#ifndef EG_DISCOVERY_AWS_INT_H_INCLUDED
#define EG_DISCOVERY_AWS_INT_H_INCLUDED


#include <eg_config.h>
#include <eg_core.h>
#include <eg_swim.h>


/* an answer of EC2, read */
typedef struct {
    eg_array_t          *addrs;         /* eg_swim_addr_t of the instances
                                           found are pushed here */
    eg_str_t             next_token;    /* empty on the last page */
    eg_str_t             error_code;    /* of an error answer:
                                           "AuthFailure" */
    eg_str_t             error_message;
    eg_uint_t            instances;     /* seen, with an address or not */
    eg_uint_t            skipped;       /* not running, or no address */
    const char          *xml_error;     /* why the XML was refused */
} eg_aws_ec2_result_t;


/*
 * Reads a DescribeInstancesResponse (the private, or with public set
 * the public, IPv4 address of each running instance, with port) or an
 * error Response or ErrorResponse (its first Code and Message).
 * EG_ERROR when the XML is broken or not one of those (res->xml_error
 * says why), or the memory fails (xml_error NULL).  Strings are
 * allocated from pool.
 */
eg_int_t eg_discovery_aws__parse(eg_pool_t *pool, u_char *xml, size_t len,
    eg_uint_t public, uint16_t port, eg_aws_ec2_result_t *res);


#endif /* EG_DISCOVERY_AWS_INT_H_INCLUDED */
