/*
 * Generated from botocore's SigV4Auth by t/unit/aws_sigv4_vectors.py:
 * do not edit.
 */

static eg_unit_sigv4_case_t  eg_unit_sigv4_cases[] = {

    { "ec2_get_describe_instances_with_filters",
      "GET", "ec2.us-east-1.amazonaws.com", "/",
      {
          { "Action",
            "DescribeInstances" },
          { "Version",
            "2016-11-15" },
          { "Filter.1.Name",
            "tag:EngramCluster" },
          { "Filter.1.Value.1",
            "production" },
          { "Filter.2.Name",
            "instance-state-name" },
          { "Filter.2.Value.1",
            "running" },
          { NULL, NULL } },
      { { NULL, NULL } },
      "", 0,
      "us-east-1", "ec2", 1704164645,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      NULL,
      "GET\n"
      "/\n"
      "Action=DescribeInstances&Filter.1.Name=tag%3AEngramCluster&Filter.1.Valu"
      "e.1=production&Filter.2.Name=instance-state-name&Filter.2.Value.1=runnin"
      "g&Version=2016-11-15\n"
      "host:ec2.us-east-1.amazonaws.com\n"
      "x-amz-date:20240102T030405Z\n"
      "\n"
      "host;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "AWS4-HMAC-SHA256\n"
      "20240102T030405Z\n"
      "20240102/us-east-1/ec2/aws4_request\n"
      "3c131911768632d5e0c4842cc04db83c8bd2c3ae13e7e2cb59d6685e9863d4c2",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/ec2/aws4_requ"
      "est, SignedHeaders=host;x-amz-date, Signature=78af26c425bfff136606ffe334"
      "03a6117ab4252abb5830c5635448dfb63449a7" },

    { "get_query_needing_encoding",
      "GET", "ec2.eu-west-1.amazonaws.com", "/",
      {
          { "Action",
            "DescribeInstances" },
          { "Filter.1.Name",
            "tag:Engram Cluster/Name" },
          { "Filter.1.Value.1",
            "a b+c=d&e/f\077g#h%i" },
          { "Filter.1.Value.2",
            "caf\303\251 \342\230\203" },
          { "Marker",
            "~unreserved-_.~" },
          { "Empty",
            "" },
          { "Version",
            "2016-11-15" },
          { NULL, NULL } },
      { { NULL, NULL } },
      "", 0,
      "eu-west-1", "ec2", 1704067199,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      NULL,
      "GET\n"
      "/\n"
      "Action=DescribeInstances&Empty=&Filter.1.Name=tag%3AEngram%20Cluster%2FN"
      "ame&Filter.1.Value.1=a%20b%2Bc%3Dd%26e%2Ff%3Fg%23h%25i&Filter.1.Value.2="
      "caf%C3%A9%20%E2%98%83&Marker=~unreserved-_.~&Version=2016-11-15\n"
      "host:ec2.eu-west-1.amazonaws.com\n"
      "x-amz-date:20231231T235959Z\n"
      "\n"
      "host;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "AWS4-HMAC-SHA256\n"
      "20231231T235959Z\n"
      "20231231/eu-west-1/ec2/aws4_request\n"
      "c7cf6d14ac280ee8364ee25d5e1e53a8b324a91a0cfd18644790c940543f654e",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231231/eu-west-1/ec2/aws4_requ"
      "est, SignedHeaders=host;x-amz-date, Signature=0de21d447545afd5fb2b6e9805"
      "64f5d743dd103fd8bf455b85e136970affb641" },

    { "get_repeated_keys_sort_by_value",
      "GET", "example.amazonaws.com", "/",
      {
          { "b",
            "2" },
          { "a",
            "z" },
          { "a",
            "y" },
          { "a-b",
            "1" },
          { "a b",
            "0" },
          { "A",
            "upper" },
          { "a",
            "" },
          { NULL, NULL } },
      { { NULL, NULL } },
      "", 0,
      "us-west-2", "service", 1440938160,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      NULL,
      "GET\n"
      "/\n"
      "A=upper&a=&a=y&a=z&a%20b=0&a-b=1&b=2\n"
      "host:example.amazonaws.com\n"
      "x-amz-date:20150830T123600Z\n"
      "\n"
      "host;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "AWS4-HMAC-SHA256\n"
      "20150830T123600Z\n"
      "20150830/us-west-2/service/aws4_request\n"
      "8443c36d2b14f85145e25f14ac1f62adde8518056d61ade80d0bca502820befd",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-west-2/service/aws4_"
      "request, SignedHeaders=host;x-amz-date, Signature=388e930ba66b7dc3c1081c"
      "9517feaada9aa1723d60b45fb73f262bdb7545676b" },

    { "post_form_body",
      "POST", "ec2.us-east-1.amazonaws.com", "/",
      { { NULL, NULL } },
      {
          { "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8" },
          { NULL, NULL } },
      "Action=DescribeInstances&Filter.1.Name=tag%3AEngramCluster&Filter.1.Valu"
      "e.1=production&Filter.2.Name=instance-state-name&Filter.2.Value.1=runnin"
      "g&MaxResults=100&NextToken=eyJ2IjoiMiIsImMiOiJ0b2tlbiJ9%2F%2B%3D%3D&Vers"
      "ion=2016-11-15", 230,
      "us-east-1", "ec2", 1718446830,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      NULL,
      "POST\n"
      "/\n"
      "\n"
      "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
      "host:ec2.us-east-1.amazonaws.com\n"
      "x-amz-date:20240615T102030Z\n"
      "\n"
      "content-type;host;x-amz-date\n"
      "f20fda5e7b9c21877e8fa22fdba7260308e9bffd3781989cbb0e54302549f2cd",
      "AWS4-HMAC-SHA256\n"
      "20240615T102030Z\n"
      "20240615/us-east-1/ec2/aws4_request\n"
      "5b96f794b06f2d57016d69e8366c309f2cce9a26b0a84fca01f7c501dd86bb66",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240615/us-east-1/ec2/aws4_requ"
      "est, SignedHeaders=content-type;host;x-amz-date, Signature=a54642c109463"
      "10d852689b7a1223710625283104abdd90870b6d583be16b1fb" },

    { "post_form_body_with_session_token",
      "POST", "ec2.ap-southeast-2.amazonaws.com", "/",
      { { NULL, NULL } },
      {
          { "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8" },
          { NULL, NULL } },
      "Action=DescribeInstances&Filter.1.Name=tag%3AEngramCluster&Filter.1.Valu"
      "e.1=production&Filter.2.Name=instance-state-name&Filter.2.Value.1=runnin"
      "g&Version=2016-11-15", 164,
      "ap-southeast-2", "ec2", 1709164800,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample+token/wit"
      "h=padding==",
      "POST\n"
      "/\n"
      "\n"
      "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
      "host:ec2.ap-southeast-2.amazonaws.com\n"
      "x-amz-date:20240229T000000Z\n"
      "x-amz-security-token:IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEU"
      "CIQDexample+token/with=padding==\n"
      "\n"
      "content-type;host;x-amz-date;x-amz-security-token\n"
      "500c76367bc1d41a1a8b74978fcb1a4663ba828e0e8fd6c074f78b54797d5012",
      "AWS4-HMAC-SHA256\n"
      "20240229T000000Z\n"
      "20240229/ap-southeast-2/ec2/aws4_request\n"
      "42e5f3e8abd5383aa4d9d0172159b134c92783b9323f1e39a62f824f4cd30083",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240229/ap-southeast-2/ec2/aws4"
      "_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-toke"
      "n, Signature=df202b71d744f0b04a7fdafeddf2809c150b91c00e8950f7cad6a4b5653"
      "8a3ff" },

    { "get_with_session_token_and_query",
      "GET", "sts.amazonaws.com", "/",
      {
          { "Action",
            "GetCallerIdentity" },
          { "Version",
            "2011-06-15" },
          { NULL, NULL } },
      { { NULL, NULL } },
      "", 0,
      "us-east-1", "sts", 1651727105,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      "short-token",
      "GET\n"
      "/\n"
      "Action=GetCallerIdentity&Version=2011-06-15\n"
      "host:sts.amazonaws.com\n"
      "x-amz-date:20220505T050505Z\n"
      "x-amz-security-token:short-token\n"
      "\n"
      "host;x-amz-date;x-amz-security-token\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "AWS4-HMAC-SHA256\n"
      "20220505T050505Z\n"
      "20220505/us-east-1/sts/aws4_request\n"
      "e053b330c0bbcd096fb93983f2d6863c896630eb7dc1f9b418232eb60d5afc52",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20220505/us-east-1/sts/aws4_requ"
      "est, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=246d5"
      "d2e4467d1c1b72b95121cfa04a7471ace19e15e77a31fd37e22418a059a" },

    { "host_with_a_port_and_plain_http",
      "POST", "127.0.0.1:8080", "/",
      { { NULL, NULL } },
      {
          { "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8" },
          { NULL, NULL } },
      "Action=DescribeInstances&Version=2016-11-15", 43,
      "us-east-1", "ec2", 1704164645,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      NULL,
      "POST\n"
      "/\n"
      "\n"
      "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
      "host:127.0.0.1:8080\n"
      "x-amz-date:20240102T030405Z\n"
      "\n"
      "content-type;host;x-amz-date\n"
      "6171eb09865e32b0602af0f7957e26573a51f53caaedff02ff88883cb0275885",
      "AWS4-HMAC-SHA256\n"
      "20240102T030405Z\n"
      "20240102/us-east-1/ec2/aws4_request\n"
      "0f0135acbcb477a29afa179ef512637b234357b90f42abf61c72ac0b2a090af1",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/ec2/aws4_requ"
      "est, SignedHeaders=content-type;host;x-amz-date, Signature=7711416f8eb3d"
      "39b7d354755159f0a79c0a0eca3c14b9f83831421ba481723f5" },

    { "path_with_dot_segments_and_encoding",
      "get", "example.amazonaws.com", "/a/./b/../c//d%20e/%C3%BC/",
      {
          { "x",
            "1" },
          { NULL, NULL } },
      { { NULL, NULL } },
      "", 0,
      "eu-central-1", "execute-api", 1580674820,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      NULL,
      "GET\n"
      "/a/c/d%2520e/%25C3%25BC/\n"
      "x=1\n"
      "host:example.amazonaws.com\n"
      "x-amz-date:20200202T202020Z\n"
      "\n"
      "host;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "AWS4-HMAC-SHA256\n"
      "20200202T202020Z\n"
      "20200202/eu-central-1/execute-api/aws4_request\n"
      "801261627f2e4e6a4e25611792e931c8fc096e6132c8376169c5f5a2de01760c",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20200202/eu-central-1/execute-ap"
      "i/aws4_request, SignedHeaders=host;x-amz-date, Signature=160df610eaf7fd3"
      "c8fb28ae391739f39d214bca8c649653fa7bec0c74e339ebc" },

    { "path_up_past_the_root",
      "GET", "example.amazonaws.com", "/../..//x/..",
      { { NULL, NULL } },
      { { NULL, NULL } },
      "", 0,
      "eu-central-1", "execute-api", 1580674820,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      NULL,
      "GET\n"
      "/\n"
      "\n"
      "host:example.amazonaws.com\n"
      "x-amz-date:20200202T202020Z\n"
      "\n"
      "host;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "AWS4-HMAC-SHA256\n"
      "20200202T202020Z\n"
      "20200202/eu-central-1/execute-api/aws4_request\n"
      "75c71507ff4acf2046b8f706c5dd68ab3e2674ceb1a1fa9343111d6e4bbd210a",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20200202/eu-central-1/execute-ap"
      "i/aws4_request, SignedHeaders=host;x-amz-date, Signature=7efa33110f3714b"
      "dd0d578c3daeb72df9aca9eb88c4322c67b484b16f569184e" },

    { "headers_trimmed_and_sorted",
      "POST", "dynamodb.us-east-1.amazonaws.com", "/",
      { { NULL, NULL } },
      {
          { "X-Amz-Target",
            "DynamoDB_20120810.ListTables" },
          { "Content-Type",
            "  application/x-amz-json-1.0  " },
          { "My-Header1",
            "   a   b   c  " },
          { "my-header2",
            "\"a\011  b   c\"" },
          { NULL, NULL } },
      "{}", 2,
      "us-east-1", "dynamodb", 1573470671,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      NULL,
      "POST\n"
      "/\n"
      "\n"
      "content-type:application/x-amz-json-1.0\n"
      "host:dynamodb.us-east-1.amazonaws.com\n"
      "my-header1:a b c\n"
      "my-header2:\"a b c\"\n"
      "x-amz-date:20191111T111111Z\n"
      "x-amz-target:DynamoDB_20120810.ListTables\n"
      "\n"
      "content-type;host;my-header1;my-header2;x-amz-date;x-amz-target\n"
      "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
      "AWS4-HMAC-SHA256\n"
      "20191111T111111Z\n"
      "20191111/us-east-1/dynamodb/aws4_request\n"
      "a4f1d3290c6e4132a5ed37cb6fc8b9bf5a07fd4a8f82d0aeef4dca05a9d8e2fc",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20191111/us-east-1/dynamodb/aws4"
      "_request, SignedHeaders=content-type;host;my-header1;my-header2;x-amz-da"
      "te;x-amz-target, Signature=10016af6f21ab3bca7f7f1ed8774d6a78fc2cc9b7d753"
      "4da06a459575106d43d" },

    { "put_empty_body_other_region",
      "PUT", "iam.amazonaws.com", "/",
      {
          { "Action",
            "ListUsers" },
          { "Version",
            "2010-05-08" },
          { NULL, NULL } },
      { { NULL, NULL } },
      "", 0,
      "cn-north-1", "iam", 1625400000,
      "AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      NULL,
      "PUT\n"
      "/\n"
      "Action=ListUsers&Version=2010-05-08\n"
      "host:iam.amazonaws.com\n"
      "x-amz-date:20210704T120000Z\n"
      "\n"
      "host;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "AWS4-HMAC-SHA256\n"
      "20210704T120000Z\n"
      "20210704/cn-north-1/iam/aws4_request\n"
      "c1167f8865d1a21cc9f7bf9a5f38ef3bb742764bf4ec832204fd20d47a4f40a7",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20210704/cn-north-1/iam/aws4_req"
      "uest, SignedHeaders=host;x-amz-date, Signature=b7c1aa403dd9e1b7107414572"
      "6a91cf49c66ab43b98fb9b15cf70c3fa8ac5d9a" },

    { "long_secret_and_binary_body",
      "POST", "ec2.us-gov-west-1.amazonaws.com", "/",
      { { NULL, NULL } },
      {
          { "Content-Type",
            "application/octet-stream" },
          { NULL, NULL } },
      "\000\001\002\003\004\005\006\007\010\011\n"
      "\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034"
      "\035\036\037 !\"#$%&'()*+,-./0123456789:;<=>\077@ABCDEFGHIJKLMNOPQRSTUVW"
      "XYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\177\200\201\202\203\204\205\206"
      "\207\210\211\212\213\214\215\216\217\220\221\222\223\224\225\226\227\230"
      "\231\232\233\234\235\236\237\240\241\242\243\244\245\246\247\250\251\252"
      "\253\254\255\256\257\260\261\262\263\264\265\266\267\270\271\272\273\274"
      "\275\276\277\300\301\302\303\304\305\306\307\310\311\312\313\314\315\316"
      "\317\320\321\322\323\324\325\326\327\330\331\332\333\334\335\336\337\340"
      "\341\342\343\344\345\346\347\350\351\352\353\354\355\356\357\360\361\362"
      "\363\364\365\366\367\370\371\372\373\374\375\376\377", 256,
      "us-gov-west-1", "ec2", 1924991999,
      "AKIAZZZZZZZZZZZZZZZZ",
      "ssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss"
      "ssssssssssssssssssssssssssss",
      NULL,
      "POST\n"
      "/\n"
      "\n"
      "content-type:application/octet-stream\n"
      "host:ec2.us-gov-west-1.amazonaws.com\n"
      "x-amz-date:20301231T235959Z\n"
      "\n"
      "content-type;host;x-amz-date\n"
      "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880",
      "AWS4-HMAC-SHA256\n"
      "20301231T235959Z\n"
      "20301231/us-gov-west-1/ec2/aws4_request\n"
      "7b59abfbdb8133311003d86cdb41384a4e535348b4094076dfb0ac8201ca3239",
      "AWS4-HMAC-SHA256 Credential=AKIAZZZZZZZZZZZZZZZZ/20301231/us-gov-west-1/"
      "ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
      "e5355ac5126e084d035782eff1e7d7e8d05380654f8693c2d1c2c969b07bac6e" },
};
