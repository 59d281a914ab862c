#!/usr/bin/python3
"""Writes t/unit/test_aws_sigv4_vectors.h: requests signed by botocore's
SigV4Auth, for t/unit/test_aws_sigv4.c to hold engram's signer against.

    /usr/bin/python3 t/unit/aws_sigv4_vectors.py \
        > t/unit/test_aws_sigv4_vectors.h

Debian's python3-botocore is enough.  The signing time is fixed per case
(botocore reads the clock in add_auth(); the steps it takes after that
are taken here with the time given), so the output is the same on every
run; run it again after adding a case.
"""

import sys

from botocore.auth import SigV4Auth, _host_from_url
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from datetime import datetime, timezone


AKID = 'AKIDEXAMPLE'
SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
TOKEN = ('IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD'
         'example+token/with=padding==')

FORM = 'application/x-www-form-urlencoded; charset=utf-8'

DESCRIBE = [
    ('Action', 'DescribeInstances'),
    ('Version', '2016-11-15'),
    ('Filter.1.Name', 'tag:EngramCluster'),
    ('Filter.1.Value.1', 'production'),
    ('Filter.2.Name', 'instance-state-name'),
    ('Filter.2.Value.1', 'running'),
]


def form(params):
    """The body as engram encodes it: %20 for a space, pairs sorted."""
    from urllib.parse import quote
    pairs = sorted((quote(k, safe='-_.~'), quote(v, safe='-_.~'))
                   for k, v in params)
    return '&'.join(f'{k}={v}' for k, v in pairs).encode()


# name, method, url, query, headers, body, region, service, time, token
CASES = [
    dict(name='ec2_get_describe_instances_with_filters',
         method='GET', url='https://ec2.us-east-1.amazonaws.com/',
         query=DESCRIBE, region='us-east-1', service='ec2',
         time='2024-01-02T03:04:05'),

    dict(name='get_query_needing_encoding',
         method='GET', url='https://ec2.eu-west-1.amazonaws.com/',
         query=[('Action', 'DescribeInstances'),
                ('Filter.1.Name', 'tag:Engram Cluster/Name'),
                ('Filter.1.Value.1', 'a b+c=d&e/f?g#h%i'),
                ('Filter.1.Value.2', 'caf\u00e9 \u2603'),
                ('Marker', '~unreserved-_.~'),
                ('Empty', ''),
                ('Version', '2016-11-15')],
         region='eu-west-1', service='ec2', time='2023-12-31T23:59:59'),

    dict(name='get_repeated_keys_sort_by_value',
         method='GET', url='https://example.amazonaws.com/',
         query=[('b', '2'), ('a', 'z'), ('a', 'y'), ('a-b', '1'),
                ('a b', '0'), ('A', 'upper'), ('a', '')],
         region='us-west-2', service='service', time='2015-08-30T12:36:00'),

    dict(name='post_form_body',
         method='POST', url='https://ec2.us-east-1.amazonaws.com/',
         headers=[('Content-Type', FORM)], body=form(DESCRIBE
             + [('NextToken', 'eyJ2IjoiMiIsImMiOiJ0b2tlbiJ9/+=='),
                ('MaxResults', '100')]),
         region='us-east-1', service='ec2', time='2024-06-15T10:20:30'),

    dict(name='post_form_body_with_session_token',
         method='POST', url='https://ec2.ap-southeast-2.amazonaws.com/',
         headers=[('Content-Type', FORM)], body=form(DESCRIBE),
         token=TOKEN,
         region='ap-southeast-2', service='ec2', time='2024-02-29T00:00:00'),

    dict(name='get_with_session_token_and_query',
         method='GET', url='https://sts.amazonaws.com/',
         query=[('Action', 'GetCallerIdentity'), ('Version', '2011-06-15')],
         token='short-token',
         region='us-east-1', service='sts', time='2022-05-05T05:05:05'),

    dict(name='host_with_a_port_and_plain_http',
         method='POST', url='http://127.0.0.1:8080/',
         headers=[('Content-Type', FORM)], body=form(DESCRIBE[:2]),
         region='us-east-1', service='ec2', time='2024-01-02T03:04:05'),

    dict(name='path_with_dot_segments_and_encoding',
         method='get',
         url='https://example.amazonaws.com/a/./b/../c//d%20e/%C3%BC/',
         query=[('x', '1')],
         region='eu-central-1', service='execute-api',
         time='2020-02-02T20:20:20'),

    dict(name='path_up_past_the_root',
         method='GET', url='https://example.amazonaws.com/../..//x/..',
         region='eu-central-1', service='execute-api',
         time='2020-02-02T20:20:20'),

    dict(name='headers_trimmed_and_sorted',
         method='POST', url='https://dynamodb.us-east-1.amazonaws.com/',
         headers=[('X-Amz-Target', 'DynamoDB_20120810.ListTables'),
                  ('Content-Type', '  application/x-amz-json-1.0  '),
                  ('My-Header1', '   a   b   c  '),
                  ('my-header2', '"a\t  b   c"')],
         body=b'{}',
         region='us-east-1', service='dynamodb', time='2019-11-11T11:11:11'),

    dict(name='put_empty_body_other_region',
         method='PUT', url='https://iam.amazonaws.com/',
         query=[('Action', 'ListUsers'), ('Version', '2010-05-08')],
         region='cn-north-1', service='iam', time='2021-07-04T12:00:00'),

    dict(name='long_secret_and_binary_body',
         method='POST', url='https://ec2.us-gov-west-1.amazonaws.com/',
         headers=[('Content-Type', 'application/octet-stream')],
         body=bytes(range(256)),
         secret='s' * 100, akid='AKIA' + 'Z' * 16,
         region='us-gov-west-1', service='ec2', time='2030-12-31T23:59:59'),
]


def sign(case):
    """botocore's add_auth(), with the time of the case instead of now."""
    creds = Credentials(case.get('akid', AKID), case.get('secret', SECRET),
                        case.get('token'))
    headers = dict(case.get('headers', []))
    req = AWSRequest(method=case['method'], url=case['url'],
                     headers=headers, data=case.get('body', b''),
                     params=case.get('query') or {})

    auth = SigV4Auth(creds, case['service'], case['region'])

    when = datetime.strptime(case['time'], '%Y-%m-%dT%H:%M:%S')
    req.context['timestamp'] = when.strftime('%Y%m%dT%H%M%SZ')
    auth._modify_request_before_signing(req)
    canonical = auth.canonical_request(req)
    sts = auth.string_to_sign(req, canonical)
    signature = auth.signature(sts, req)
    auth._inject_signature_to_request(req, signature)

    epoch = int(when.replace(tzinfo=timezone.utc).timestamp())

    return canonical, sts, req.headers['Authorization'], epoch


def c_str(b, indent=6):
    """A C string literal of bytes (octal escapes never run on), cut into
    adjacent literals within 80 columns, after each newline."""
    if isinstance(b, str):
        b = b.encode()
    tokens = []
    for c in b:
        ch = chr(c)
        if ch == '"' or ch == '\\':
            tokens.append('\\' + ch)
        elif ch == '\n':
            tokens.append('\\n')
        elif 0x20 <= c < 0x7f and ch != '?':
            tokens.append(ch)
        else:
            tokens.append('\\%03o' % c)
    width = 80 - indent - 2
    lines, cur = [], ''
    for t in tokens:
        if len(cur) + len(t) > width:
            lines.append(cur)
            cur = ''
        cur += t
        if t == '\\n':
            lines.append(cur)
            cur = ''
    if cur or not lines:
        lines.append(cur)
    return ('\n' + ' ' * indent).join('"' + line + '"' for line in lines)


def c_pairs(pairs):
    if not pairs:
        return '{ { NULL, NULL } }'
    return ('{\n' + ''.join(f'          {{ {c_str(k, 12)},\n'
                            f'            {c_str(v, 12)} }},\n'
                            for k, v in pairs)
            + '          { NULL, NULL } }')


def main():
    from urllib.parse import urlsplit

    w = sys.stdout.write
    w('/*\n * Generated from botocore\'s SigV4Auth by '
      't/unit/aws_sigv4_vectors.py:\n * do not edit.\n */\n\n')
    w('static eg_unit_sigv4_case_t  eg_unit_sigv4_cases[] = {\n')

    for case in CASES:
        canonical, sts, authz, epoch = sign(case)
        body = case.get('body', b'')
        parts = urlsplit(case['url'])
        w('\n    { ' + c_str(case['name']) + ',\n')
        w('      ' + c_str(case['method']) + ', '
          + c_str(_host_from_url(case['url'])) + ', '
          + c_str(parts.path) + ',\n')
        w('      ' + c_pairs(case.get('query')) + ',\n')
        w('      ' + c_pairs(case.get('headers')) + ',\n')
        w('      ' + c_str(body) + ', ' + str(len(body)) + ',\n')
        w('      ' + c_str(case['region']) + ', ' + c_str(case['service'])
          + ', ' + str(epoch) + ',\n')
        w('      ' + c_str(case.get('akid', AKID)) + ',\n')
        w('      ' + c_str(case.get('secret', SECRET)) + ',\n')
        w('      ' + (c_str(case['token']) if case.get('token') else 'NULL')
          + ',\n')
        w('      ' + c_str(canonical) + ',\n')
        w('      ' + c_str(sts) + ',\n')
        w('      ' + c_str(authz) + ' },\n')

    w('};\n')


if __name__ == '__main__':
    main()
