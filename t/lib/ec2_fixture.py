#!/usr/bin/python3
"""A fixture EC2 API and instance metadata service (IMDSv2), for
t/discovery_aws.t.  Never anything but loopback.

    ec2_fixture.py --config STATE.json --log REQUESTS.jsonl \\
                   --ec2 127.0.0.1:PORT [--imds 127.0.0.1:PORT] \\
                   [--cert CERT.pem --key KEY.pem]

EC2 (plain HTTP, or HTTPS with --cert/--key) answers DescribeInstances,
POST form or GET query, as EC2 does (Version 2016-11-15): the request's
Signature Version 4 is checked by recomputing it with botocore's
SigV4Auth from the same credentials (403 SignatureDoesNotMatch in EC2's
error XML when it differs; 401 AuthFailure for an unknown key or a
wrong session token; 400 RequestExpired for an old X-Amz-Date), then the
instances of the state file that pass the filters (tag:KEY, tag-key,
instance-state-name, instance-id) are answered in pages of at most
"page_size" instances, with a nextToken while there are more.

IMDS answers PUT /latest/api/token (the TTL header is required) and, with
a valid X-aws-ec2-metadata-token only, GET /latest/meta-data/
placement/region, .../iam/security-credentials/ and
.../iam/security-credentials/ROLE: temporary credentials, a new key each
time (so that a refresh shows), valid "expires_in" seconds, which EC2
then accepts with their token.

The state file is read again for every request, so a test changes the
fixture by rewriting it:

    {
      "region": "us-east-1",
      "page_size": 2,
      "keys": {"AKIA...": {"secret": "...", "token": null}},
      "instances": [
        {"id": "i-1", "private_ip": "127.0.0.41", "public_ip": null,
         "state": "running", "tags": {"EngramCluster": "test"}}
      ],
      "imds": {"role": "engram-node", "region": "us-east-1",
               "expires_in": 3600, "no_role": false, "fail": null}
    }

Every request is appended to the log as a JSON line: server, method,
path, status, and what was checked (access_key, action, next_token,
token_ok...).  "READY" is printed on stdout once both ports listen.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import secrets
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/'
STATE_CODES = {'pending': 0, 'running': 16, 'shutting-down': 32,
               'terminated': 48, 'stopping': 64, 'stopped': 80}

LOCK = threading.Lock()
ISSUED = {}         # access key => {"secret", "token"}: IMDS's, for EC2
IMDS_TOKENS = {}    # token => expiry (time.time())
ARGS = None


def state():
    with open(ARGS.config) as f:
        return json.load(f)


def log(entry):
    entry['time'] = round(time.time(), 3)
    with LOCK:
        with open(ARGS.log, 'a') as f:
            f.write(json.dumps(entry) + '\n')


def amz_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(t):
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


def error_xml(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Response><Errors><Error><Code>{escape(code)}</Code>'
            f'<Message>{escape(message)}</Message></Error></Errors>'
            f'<RequestID>{secrets.token_hex(16)}</RequestID></Response>\n')


class Refused(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'AmazonEC2'
    sys_version = ''

    def log_message(self, fmt, *args):
        pass

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def reply(self, status, body, ctype='text/xml;charset=UTF-8'):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


###########################################################################
# EC2

class EC2Handler(Handler):

    def do_GET(self):
        self.ec2(b'')

    def do_POST(self):
        self.ec2(self.body())

    def ec2(self, body):
        entry = {'server': 'ec2', 'method': self.command, 'path': self.path}
        try:
            st = state()
            entry.update(self.verify(st, body))
            params = self.params(body)
            entry['action'] = params.get('Action')
            entry['next_token'] = params.get('NextToken')
            xml = self.describe(st, params, entry)
            status = 200
        except Refused as e:
            status, xml = e.status, error_xml(e.code, e.message)
            entry['error'] = e.code
            if getattr(self, 'canonical', None):
                entry['canonical'] = self.canonical
                entry['received'] = self.received
        entry['status'] = status
        log(entry)
        self.reply(status, xml)

    def verify(self, st, body):
        """The signature, as EC2 checks it: recomputed from the key's
        secret over what the request says it signed."""
        authz = self.headers.get('Authorization')
        if not authz:
            raise Refused(401, 'MissingAuthenticationToken',
                          'Request is missing Authentication Token')

        algo, _, rest = authz.partition(' ')
        fields = {}
        for part in rest.split(','):
            k, _, v = part.strip().partition('=')
            fields[k] = v
        if algo != 'AWS4-HMAC-SHA256' or not all(
                k in fields for k in ('Credential', 'SignedHeaders',
                                      'Signature')):
            raise Refused(400, 'IncompleteSignature',
                          f'Authorization header is malformed: {authz}')

        scope = fields['Credential'].split('/')
        if len(scope) != 5 or scope[4] != 'aws4_request':
            raise Refused(400, 'AuthorizationHeaderMalformed',
                          'the credential scope is malformed')
        akid, day, region, service = scope[:4]

        keys = dict(st.get('keys', {}))
        with LOCK:
            keys.update(ISSUED)
        key = keys.get(akid)
        if key is None:
            raise Refused(401, 'AuthFailure',
                          'AWS was not able to validate the provided '
                          'access credentials')

        if region != st.get('region', 'us-east-1') or service != 'ec2':
            raise Refused(400, 'AuthorizationHeaderMalformed',
                          f"Credential should be scoped to a valid region "
                          f"and to ec2, not '{region}/{service}'.")

        date = self.headers.get('X-Amz-Date', '')
        try:
            when = datetime.datetime.strptime(date, '%Y%m%dT%H%M%SZ')
        except ValueError:
            raise Refused(400, 'AuthFailure', 'X-Amz-Date is missing or '
                          'invalid')
        when = when.replace(tzinfo=datetime.timezone.utc)
        if abs((amz_now() - when).total_seconds()) > 300 or day != date[:8]:
            raise Refused(400, 'RequestExpired', 'Request has expired.')

        signed = fields['SignedHeaders'].split(';')
        for need in ('host', 'x-amz-date'):
            if need not in signed:
                raise Refused(403, 'SignatureDoesNotMatch',
                              f'{need} is not signed')

        token = self.headers.get('X-Amz-Security-Token')
        if key.get('token') != token:
            raise Refused(401, 'AuthFailure',
                          'The security token included in the request is '
                          'invalid')
        if token is not None and 'x-amz-security-token' not in signed:
            raise Refused(403, 'SignatureDoesNotMatch',
                          'x-amz-security-token is not signed')

        headers = {}
        for name in signed:
            value = self.headers.get_all(name)
            if value is None:
                raise Refused(403, 'SignatureDoesNotMatch',
                              f'signed header {name} is missing')
            headers[name] = ','.join(value)

        scheme = 'https' if ARGS.cert else 'http'
        req = AWSRequest(method=self.command,
                         url=f'{scheme}://{headers["host"]}{self.path}',
                         headers=headers, data=body)
        auth = SigV4Auth(Credentials(akid, key['secret'], token), 'ec2',
                         region)
        # add_auth() with the request's time instead of the clock's
        req.context['timestamp'] = date
        auth._modify_request_before_signing(req)
        canonical = auth.canonical_request(req)
        sts = auth.string_to_sign(req, canonical)
        auth._inject_signature_to_request(req, auth.signature(sts, req))

        if req.headers['Authorization'] != authz:
            # what we signed, for the test's diagnostics
            self.canonical = canonical
            self.received = {'headers': dict(self.headers.items()),
                             'body': body.decode('latin-1')}
            raise Refused(403, 'SignatureDoesNotMatch',
                          'The request signature we calculated does not '
                          'match the signature you provided. Check your AWS '
                          'Secret Access Key and signing method. Consult '
                          'the service documentation for details.')

        return {'access_key': akid, 'token': token is not None,
                'signed_headers': signed}

    def params(self, body):
        query = urllib.parse.urlsplit(self.path).query
        if self.command == 'POST':
            ctype = self.headers.get('Content-Type', '')
            if not ctype.startswith('application/x-www-form-urlencoded'):
                raise Refused(400, 'InvalidParameterValue',
                              f'unexpected Content-Type {ctype}')
            query = body.decode()
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True,
                                       strict_parsing=bool(query))
        return dict(pairs)

    def describe(self, st, params, entry):
        if params.get('Action') != 'DescribeInstances':
            raise Refused(400, 'InvalidAction',
                          f"The action {params.get('Action')} is not valid "
                          'for this web service.')
        if params.get('Version') != '2016-11-15':
            raise Refused(400, 'InvalidParameterValue', 'bad Version')
        if st.get('broken'):
            return '<DescribeInstancesResponse><reservationSet><item>'

        filters = {}
        for k, v in params.items():
            parts = k.split('.')
            if parts[0] != 'Filter':
                continue
            n = parts[1]
            f = filters.setdefault(n, {'name': None, 'values': []})
            if parts[2] == 'Name':
                f['name'] = v
            elif parts[2] == 'Value':
                f['values'].append(v)

        def passes(inst):
            for f in filters.values():
                name, values = f['name'], f['values']
                if name.startswith('tag:'):
                    if inst.get('tags', {}).get(name[4:]) not in values:
                        return False
                elif name == 'tag-key':
                    if not set(values) & set(inst.get('tags', {})):
                        return False
                elif name == 'instance-state-name':
                    if inst.get('state', 'running') not in values:
                        return False
                elif name == 'instance-id':
                    if inst['id'] not in values:
                        return False
                else:
                    raise Refused(400, 'InvalidParameterValue',
                                  f'The filter \'{name}\' is invalid')
            return True

        found = [i for i in st.get('instances', []) if passes(i)]
        entry['filters'] = sorted(f['name'] for f in filters.values())

        size = int(st.get('page_size', 1000))
        if 'MaxResults' in params:
            m = int(params['MaxResults'])
            if m < 5 or m > 1000:
                raise Refused(400, 'InvalidParameterValue',
                              'MaxResults must be 5 to 1000')
            size = min(size, m)

        start = 0
        if params.get('NextToken'):
            try:
                start = json.loads(base64.b64decode(
                    params['NextToken']))['offset']
            except Exception:
                raise Refused(400, 'InvalidParameterValue',
                              'The token is invalid')

        page = found[start:start + size]
        more = start + size < len(found)
        entry['instances'] = [i['id'] for i in page]

        out = ['<?xml version="1.0" encoding="UTF-8"?>\n',
               f'<DescribeInstancesResponse xmlns="{EC2_NS}">\n',
               f'    <requestId>{secrets.token_hex(16)}</requestId>\n',
               '    <reservationSet>\n']
        for inst in page:
            out.append(instance_xml(inst, st.get('region', 'us-east-1')))
        out.append('    </reservationSet>\n')
        if more:
            token = base64.b64encode(json.dumps(
                {'offset': start + size,
                 'nonce': secrets.token_hex(8)}).encode()).decode()
            out.append(f'    <nextToken>{token}</nextToken>\n')
        out.append('</DescribeInstancesResponse>\n')
        return ''.join(out)


def instance_xml(inst, region):
    """One instance in its own reservation, with what EC2 sends around
    the addresses: the nested network interface carries addresses too,
    a secondary private one among them."""
    state = inst.get('state', 'running')
    priv = inst.get('private_ip')
    pub = inst.get('public_ip')
    tags = ''.join(f'<item><key>{escape(k)}</key><value>{escape(v)}</value>'
                   '</item>' for k, v in inst.get('tags', {}).items())
    ip_elem = f'<ipAddress>{pub}</ipAddress>' if pub else ''
    assoc = (f'<association><publicIp>{pub}</publicIp><ipOwnerId>amazon'
             '</ipOwnerId></association>') if pub else ''
    priv_elem = f'<privateIpAddress>{priv}</privateIpAddress>' if priv else ''
    dns = f"ip-{(priv or '').replace('.', '-')}.ec2.internal"
    return f'''        <item>
            <reservationId>r-{inst['id'][2:]}</reservationId>
            <ownerId>123456789012</ownerId>
            <groupSet/>
            <instancesSet>
                <item>
                    <instanceId>{escape(inst['id'])}</instanceId>
                    <imageId>ami-0abcdef1234567890</imageId>
                    <instanceState>
                        <code>{STATE_CODES.get(state, 16)}</code>
                        <name>{escape(state)}</name>
                    </instanceState>
                    <privateDnsName>{dns}</privateDnsName>
                    <dnsName/>
                    <reason/>
                    <amiLaunchIndex>0</amiLaunchIndex>
                    <productCodes/>
                    <instanceType>t3.micro</instanceType>
                    <launchTime>2024-01-02T03:04:05.000Z</launchTime>
                    <placement>
                        <availabilityZone>{region}a</availabilityZone>
                        <groupName/>
                        <tenancy>default</tenancy>
                    </placement>
                    <monitoring><state>disabled</state></monitoring>
                    <subnetId>subnet-0123456789abcdef0</subnetId>
                    <vpcId>vpc-0123456789abcdef0</vpcId>
                    {priv_elem}
                    {ip_elem}
                    <sourceDestCheck>true</sourceDestCheck>
                    <groupSet>
                        <item><groupId>sg-0123</groupId>
                              <groupName>engram</groupName></item>
                    </groupSet>
                    <architecture>x86_64</architecture>
                    <rootDeviceType>ebs</rootDeviceType>
                    <rootDeviceName>/dev/xvda</rootDeviceName>
                    <blockDeviceMapping/>
                    <virtualizationType>hvm</virtualizationType>
                    <clientToken/>
                    <tagSet>{tags}</tagSet>
                    <hypervisor>xen</hypervisor>
                    <networkInterfaceSet>
                        <item>
                            <networkInterfaceId>eni-0123</networkInterfaceId>
                            <status>in-use</status>
                            <privateIpAddress>{priv or ''}</privateIpAddress>
                            {assoc}
                            <privateIpAddressesSet>
                                <item>
                                    <privateIpAddress>{priv or ''}</privateIpAddress>
                                    <primary>true</primary>
                                    {assoc}
                                </item>
                                <item>
                                    <privateIpAddress>10.255.255.254</privateIpAddress>
                                    <primary>false</primary>
                                </item>
                            </privateIpAddressesSet>
                        </item>
                    </networkInterfaceSet>
                    <ebsOptimized>false</ebsOptimized>
                </item>
            </instancesSet>
        </item>
'''


###########################################################################
# IMDSv2

class IMDSHandler(Handler):

    def down(self, entry):
        """"fail": N in the state's imds makes every answer an HTTP N."""
        status = state().get('imds', {}).get('fail')
        if not status:
            return False
        entry['status'] = status
        log(entry)
        self.reply(status, 'Service Unavailable', 'text/plain')
        return True

    def do_PUT(self):
        entry = {'server': 'imds', 'method': 'PUT', 'path': self.path}
        self.body()
        if self.down(entry):
            return
        ttl = self.headers.get('X-aws-ec2-metadata-token-ttl-seconds')
        if self.path != '/latest/api/token':
            status, text = 404, 'Not Found'
        elif self.headers.get('X-Forwarded-For'):
            status, text = 403, 'Forbidden'
        elif not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            status, text = 400, 'Bad Request'
        else:
            text = secrets.token_urlsafe(40)
            with LOCK:
                IMDS_TOKENS[text] = time.time() + int(ttl)
            status = 200
            entry['ttl'] = int(ttl)
        entry['status'] = status
        log(entry)
        self.reply(status, text, 'text/plain')

    def do_GET(self):
        entry = {'server': 'imds', 'method': 'GET', 'path': self.path}
        if self.down(entry):
            return
        st = state()
        imds = st.get('imds', {})
        token = self.headers.get('X-aws-ec2-metadata-token')
        with LOCK:
            valid = token is not None and IMDS_TOKENS.get(token, 0) > \
                time.time()
        entry['token_ok'] = valid
        role = imds.get('role', 'engram-node')
        base = '/latest/meta-data/iam/security-credentials/'

        if not valid:
            # IMDSv2 only: a request without a session token is refused
            status, text, ctype = 401, 'Unauthorized', 'text/plain'
        elif self.path == '/latest/meta-data/placement/region':
            status, text, ctype = 200, imds.get('region', 'us-east-1'), \
                'text/plain'
        elif self.path == base:
            if imds.get('no_role'):
                status, text, ctype = 404, 'Not Found', 'text/plain'
            else:
                status, text, ctype = 200, role, 'text/plain'
        elif self.path == base + role and not imds.get('no_role'):
            now = amz_now()
            expires = now + datetime.timedelta(
                seconds=imds.get('expires_in', 3600))
            akid = 'ASIA' + secrets.token_hex(8).upper()
            secret = base64.b64encode(os.urandom(30)).decode()
            session = base64.b64encode(os.urandom(60)).decode()
            with LOCK:
                ISSUED[akid] = {'secret': secret, 'token': session}
            text = json.dumps({
                'Code': 'Success', 'LastUpdated': iso(now),
                'Type': 'AWS-HMAC', 'AccessKeyId': akid,
                'SecretAccessKey': secret, 'Token': session,
                'Expiration': iso(expires)}, indent=2)
            status, ctype = 200, 'text/plain'
            entry['access_key'] = akid
            entry['secret'] = secret
        else:
            status, text, ctype = 404, 'Not Found', 'text/plain'

        entry['status'] = status
        log(entry)
        self.reply(status, text, ctype)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # HTTPServer's would ask DNS for the name of 127.0.0.1: no traffic
        # may leave loopback, and the name is of no use here
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def serve(addr, handler, tls):
    host, port = addr.rsplit(':', 1)
    srv = Server((host, int(port)), handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.cert, ARGS.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv


def main():
    global ARGS

    p = argparse.ArgumentParser()
    p.add_argument('--config', required=True)
    p.add_argument('--log', required=True)
    p.add_argument('--ec2', required=True)
    p.add_argument('--imds')
    p.add_argument('--cert')
    p.add_argument('--key')
    ARGS = p.parse_args()

    for a in (ARGS.ec2, ARGS.imds):
        if a and not a.startswith('127.'):
            sys.exit('the fixture listens on loopback only')

    serve(ARGS.ec2, EC2Handler, bool(ARGS.cert))
    if ARGS.imds:
        serve(ARGS.imds, IMDSHandler, False)

    print('READY', flush=True)

    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
