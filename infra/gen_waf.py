#!/usr/bin/env python3
"""Generates infra/waf.yaml: the optional edge firewall of the API (AWS WAF, scope
CLOUDFRONT), deployed as its own small stack in us-east-1 (CloudFront's web ACLs live
there), whose WebAclArn output the main stack takes as its EdgeWebAclArn parameter to put
a CloudFront distribution with this web ACL in front of the HTTP API.

Per caller, not only per stage: a rate-based rule per client IP, one per Authorization
header (a token, whatever IP it comes from), and a stricter one on new applications;
AWS's managed rule groups for known bad inputs (Log4Shell and the like) and IP
reputation. Blocked requests get the API's own error shape (429, Chinese message).
Requests are logged to a WAF log group with the Authorization header redacted."""
import sys
import yaml

def ref(n): return {"Ref": n}
def sub(s): return {"Fn::Sub": s}

P = {
    "Stage": {"Type": "String", "Default": "prod", "AllowedPattern": "^[a-z0-9-]{1,16}$"},
    "RatePerIp": {"Type": "Number", "Default": 1000, "MinValue": 100, "Description": "Requests per client IP per 5 minutes"},
    "RatePerCaller": {"Type": "Number", "Default": 500, "MinValue": 100, "Description": "Requests per Authorization header (caller) per 5 minutes"},
    "RateApplicationsPerIp": {"Type": "Number", "Default": 100, "MinValue": 100, "Description": "POST /v1/applications per client IP per 5 minutes"},
}

def visibility(name):
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}

throttled = {"Block": {"CustomResponse": {"ResponseCode": 429, "CustomResponseBodyKey": "throttled",
                                           "ResponseHeaders": [{"Name": "retry-after", "Value": "300"}]}}}
rules = [
    {"Name": "known-bad-inputs", "Priority": 0, "OverrideAction": {"None": {}},
     "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesKnownBadInputsRuleSet"}},
     "VisibilityConfig": visibility("onething-known-bad-inputs")},
    {"Name": "ip-reputation", "Priority": 1, "OverrideAction": {"None": {}},
     "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesAmazonIpReputationList"}},
     "VisibilityConfig": visibility("onething-ip-reputation")},
    {"Name": "rate-per-ip", "Priority": 2, "Action": throttled,
     "Statement": {"RateBasedStatement": {"Limit": ref("RatePerIp"), "EvaluationWindowSec": 300, "AggregateKeyType": "IP"}},
     "VisibilityConfig": visibility("onething-rate-per-ip")},
    {"Name": "rate-per-caller", "Priority": 3, "Action": throttled,
     "Statement": {"RateBasedStatement": {"Limit": ref("RatePerCaller"), "EvaluationWindowSec": 300, "AggregateKeyType": "CUSTOM_KEYS",
                                          "CustomKeys": [{"Header": {"Name": "authorization", "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}]}},
     "VisibilityConfig": visibility("onething-rate-per-caller")},
    {"Name": "rate-applications-per-ip", "Priority": 4, "Action": throttled,
     "Statement": {"RateBasedStatement": {"Limit": ref("RateApplicationsPerIp"), "EvaluationWindowSec": 300, "AggregateKeyType": "IP",
                                          "ScopeDownStatement": {"ByteMatchStatement": {
                                              "FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "EXACTLY", "SearchString": "/v1/applications",
                                              "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}}},
     "VisibilityConfig": visibility("onething-rate-applications")},
]
r = {
    "WebAcl": {"Type": "AWS::WAFv2::WebACL", "Properties": {
        "Name": sub("onething-${Stage}"), "Scope": "CLOUDFRONT", "DefaultAction": {"Allow": {}},
        "Description": "onething API: per-IP and per-caller rate limits, known bad inputs, IP reputation",
        "CustomResponseBodies": {"throttled": {"ContentType": "APPLICATION_JSON",
                                               "Content": '{"error":{"code":"throttled","message":"请求过于频繁，请稍后再试","details":[]}}'}},
        "Rules": rules, "VisibilityConfig": visibility("onething-waf")}},
    # WAF log groups must be named aws-waf-logs-*; the caller's token is never logged.
    "WafLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": sub("aws-waf-logs-onething-${Stage}"), "RetentionInDays": 365},
                "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_158", "comment": "WAF logs hold no personal data (the Authorization header is redacted); AWS-managed encryption"}]}}},
    "WafLogging": {"Type": "AWS::WAFv2::LoggingConfiguration", "Properties": {
        "ResourceArn": {"Fn::GetAtt": ["WebAcl", "Arn"]},
        "LogDestinationConfigs": [{"Fn::GetAtt": ["WafLogs", "Arn"]}],
        "RedactedFields": [{"SingleHeader": {"Name": "authorization"}}]}},
}
doc = {"AWSTemplateFormatVersion": "2010-09-09",
       "Description": "onething: edge firewall (AWS WAF for CloudFront, deploy in us-east-1)",
       "Parameters": P, "Resources": r,
       "Outputs": {"WebAclArn": {"Value": {"Fn::GetAtt": ["WebAcl", "Arn"]}}}}

class NoAlias(yaml.SafeDumper):
    def ignore_aliases(self, data): return True
text = "# Generated by infra/gen_waf.py: edit that script, not this file.\n" + yaml.dump(doc, Dumper=NoAlias, sort_keys=False, allow_unicode=True, width=200)
out = sys.argv[1] if len(sys.argv) > 1 else "infra/waf.yaml"
open(out, "w").write(text)
print("wrote", out)
