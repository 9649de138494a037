"""The emulator's IAM evaluator decides as AWS documents, including where moto's own evaluator is kinder."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data

from core.emulator.policy import allows, decide

pytestmark = pytest.mark.unit

OBJECT = "arn:aws:s3:::b/p/model.tar.gz"


def statement(effect: str = "Allow", action: Any = "s3:GetObject", resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource, **more}


def policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return document


def holds(condition: dict[str, Any], context: dict[str, Any] | None = None) -> bool:
    """Whether an Allow statement with this condition allows a GetObject in this request context."""
    return allows([policy(statement(Condition=condition))], "s3:GetObject", OBJECT, context)


# Evaluation logic


def test_nothing_that_matches_is_an_implicit_deny():
    assert decide([], "s3:GetObject", OBJECT) == "implicitDeny"
    assert decide([policy(statement(action="s3:PutObject"))], "s3:GetObject", OBJECT) == "implicitDeny"
    assert decide([policy(statement())], "s3:GetObject", OBJECT) == "allowed"


@pytest.mark.parametrize("order", [1, -1])
def test_an_explicit_deny_in_any_document_wins(order):
    documents = [policy(statement()), policy(statement("Deny", resource="arn:aws:s3:::b/*"))][::order]
    assert decide(documents, "s3:GetObject", OBJECT) == "explicitDeny"
    assert decide(documents, "s3:GetObject", "arn:aws:s3:::other/k") == "allowed"


def test_allows_is_decide_equal_to_allowed():
    assert allows([policy(statement())], "s3:GetObject", OBJECT) is True
    assert allows([policy(statement("Deny"))], "s3:GetObject", OBJECT) is False
    assert allows([], "s3:GetObject", OBJECT) is False


def test_documents_may_be_json_and_statement_a_single_object():
    single = {"Version": "2012-10-17", "Statement": statement()}
    assert decide([json.dumps(single)], "s3:GetObject", OBJECT) == "allowed"
    assert decide([json.dumps(policy(statement("Deny")))], "s3:GetObject", OBJECT) == "explicitDeny"


def test_the_effect_is_case_sensitive():
    assert decide([policy(statement("allow"))], "s3:GetObject", OBJECT) == "implicitDeny"
    assert decide([policy(statement("deny")), policy(statement())], "s3:GetObject", OBJECT) == "allowed"


def test_a_statement_needs_an_action_or_a_not_action():
    no_action = {"Effect": "Allow", "Resource": "*"}
    both = statement(NotAction="s3:PutObject")
    assert decide([policy(no_action, both)], "s3:GetObject", OBJECT) == "implicitDeny"


# Action and Resource


@pytest.mark.parametrize(("pattern", "matches"), [
    ("s3:GetObject", True), ("S3:getobject", True), (["s3:PutObject", "s3:GetObject"], True), ("s3:Get*", True),
    ("*", True), ("s3:Get?bject", True), ("s3:Get?", False), ("s3:*Bucket", False), ("s3:GetObject?", False),
    ("ec2:GetObject", False), ([], False),
])
def test_actions_match_ignoring_case_with_wildcards(pattern, matches):
    assert allows([policy(statement(action=pattern))], "s3:GetObject", OBJECT) is matches


def test_not_action_matches_every_other_action():
    document = policy({"Effect": "Allow", "NotAction": ["s3:Delete*", "iam:*"], "Resource": "*"})
    assert allows([document], "s3:GetObject", OBJECT)
    assert not allows([document], "s3:DeleteObject", OBJECT)
    assert not allows([document], "IAM:CreateRole", "*")


@pytest.mark.parametrize(("pattern", "resource", "matches"), [
    ("arn:aws:s3:::b/p/model.tar.gz", OBJECT, True),
    ("arn:aws:s3:::B/p/model.tar.gz", OBJECT, False),
    ("arn:aws:s3:::b/P/*", OBJECT, False),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y:z/k", True),
    ("arn:aws:s3:::b/?.txt", "arn:aws:s3:::b/a.txt", True),
    ("arn:aws:s3:::b/?.txt", "arn:aws:s3:::b/ab.txt", False),
    ("arn:aws:s3:::b/[p]/*", "arn:aws:s3:::b/p/k", False),
    ("arn:aws:s3:::b/[p]/*", "arn:aws:s3:::b/[p]/k", True),
    (["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"], OBJECT, True),
    ("*", OBJECT, True),
    # A * that ends an ARN part may run on past the colons.
    ("arn:aws:s3:*", OBJECT, True),
    ("arn:aws:dynamodb:*:table/prod-*", "arn:aws:dynamodb:us-east-1:111122223333:table/prod-x", True),
    ("arn:aws:dynamodb:*:table/prod-*", "arn:aws:dynamodb:us-east-1:111122223333:table/dev-x", False),
    # Any other wildcard in the first five parts stays inside its part.
    ("arn:aws:sqs:us-*-1:q", "arn:aws:sqs:us-east-1:111122223333-1:q", False),
    ("arn:aws:sqs:us-*-1:*:q", "arn:aws:sqs:us-east-1:111122223333:q", True),
    ("arn:aws:sqs:us-eas?1:*:q", "arn:aws:sqs:us-eas:1:111122223333:q", False),
])
def test_resources_match_case_sensitively_with_wildcards(pattern, resource, matches):
    assert allows([policy(statement(resource=pattern))], "s3:GetObject", resource) is matches


def test_not_resource_matches_every_other_resource():
    document = policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": ["arn:aws:s3:::secret/*"]})
    assert allows([document], "s3:GetObject", OBJECT)
    assert not allows([document], "s3:GetObject", "arn:aws:s3:::secret/k")


def test_a_crafted_pattern_cannot_stall_the_matcher():
    start = time.monotonic()
    assert not allows([policy(statement(resource="arn:aws:s3:::" + "*a" * 40 + "b"))], "s3:GetObject",
                      "arn:aws:s3:::" + "a" * 400)
    assert not allows([policy(statement(action="s3:" + "*e" * 40 + "x"))], "s3:" + "e" * 400, OBJECT)
    assert time.monotonic() - start < 2


# Policy variables


def test_a_variable_in_the_resource_takes_the_context_value():
    document = policy(statement(resource="arn:aws:s3:::b/${aws:username}/*"))
    assert allows([document], "s3:GetObject", "arn:aws:s3:::b/alice/k", {"aws:username": "alice"})
    assert not allows([document], "s3:GetObject", "arn:aws:s3:::b/bob/k", {"aws:username": "alice"})
    assert allows([document], "s3:GetObject", "arn:aws:s3:::b/alice/k", {"AWS:UserName": "alice"})


def test_a_variable_value_is_literal_text_not_a_wildcard():
    document = policy(statement(resource="arn:aws:s3:::b/${aws:username}/k"))
    assert not allows([document], "s3:GetObject", "arn:aws:s3:::b/alice/k", {"aws:username": "*"})
    assert allows([document], "s3:GetObject", "arn:aws:s3:::b/*/k", {"aws:username": "*"})


def test_a_resource_with_a_variable_that_has_no_value_matches_no_resource():
    resource = "arn:aws:s3:::b/${aws:username}/*"
    assert decide([policy(statement(resource=resource))], "s3:GetObject", "arn:aws:s3:::b/alice/k") == "implicitDeny"
    assert not allows([policy(statement(resource=resource))], "s3:GetObject", "arn:aws:s3:::b/${aws:username}/k")
    # ... so as a NotResource it excludes nothing.
    not_resource = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": resource}
    assert allows([policy(not_resource)], "s3:GetObject", "arn:aws:s3:::b/alice/k")
    assert not allows([policy(not_resource)], "s3:GetObject", "arn:aws:s3:::b/alice/k", {"aws:username": "alice"})


def test_a_multivalued_key_is_no_variable():
    document = policy(statement(resource="arn:aws:s3:::b/${aws:CalledVia}/*"))
    assert allows([document], "s3:GetObject", "arn:aws:s3:::b/x/k", {"aws:CalledVia": ["x"]})
    assert not allows([document], "s3:GetObject", "arn:aws:s3:::b/x/k", {"aws:CalledVia": ["x", "y"]})


def test_a_variable_default_stands_in_for_a_missing_value():
    document = policy(statement(resource="arn:aws:s3:::b-${aws:PrincipalTag/team, 'company-wide'}/*"))
    assert allows([document], "s3:GetObject", "arn:aws:s3:::b-company-wide/k")
    assert allows([document], "s3:GetObject", "arn:aws:s3:::b-yellow/k", {"aws:PrincipalTag/team": "yellow"})
    assert not allows([document], "s3:GetObject", "arn:aws:s3:::b-company-wide/k", {"aws:PrincipalTag/team": "yellow"})


def test_escapes_stand_for_literal_characters():
    star = policy(statement(resource="arn:aws:s3:::b/${*}"))
    assert allows([star], "s3:GetObject", "arn:aws:s3:::b/*")
    assert not allows([star], "s3:GetObject", "arn:aws:s3:::b/x")
    assert holds({"StringLike": {"k": "a${?}"}}, {"k": "a?"})
    assert not holds({"StringLike": {"k": "a${?}"}}, {"k": "ab"})
    assert holds({"StringEquals": {"k": "${$}{x}"}}, {"k": "${x}"})


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_variables_are_literal_text_before_the_2012_policy_language(version):
    document = policy(statement(resource="arn:aws:s3:::b/${aws:username}/*"), version=version)
    assert not allows([document], "s3:GetObject", "arn:aws:s3:::b/alice/k", {"aws:username": "alice"})
    assert allows([document], "s3:GetObject", "arn:aws:s3:::b/${aws:username}/k", {"aws:username": "alice"})


def test_variables_in_string_condition_values():
    condition = {"StringEquals": {"s3:ExistingObjectTag/owner": "${aws:PrincipalTag/owner}"}}
    assert holds(condition, {"s3:ExistingObjectTag/owner": "ana", "aws:PrincipalTag/owner": "ana"})
    assert not holds(condition, {"s3:ExistingObjectTag/owner": "ana", "aws:PrincipalTag/owner": "bo"})
    assert not holds(condition, {"s3:ExistingObjectTag/owner": "ana"})
    assert holds({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:${aws:PrincipalAccount}:*"}},
                 {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:t", "aws:PrincipalAccount": "123456789012"})


def test_a_negated_operator_matches_a_variable_that_has_no_value():
    """AWS's own example: deny when the object's Team tag is not the principal's, and when the principal has none."""
    deny = statement("Deny", Condition={"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}})
    documents = [policy(statement(), deny)]
    assert decide(documents, "s3:GetObject", OBJECT, {"s3:ExistingObjectTag/Team": "red"}) == "explicitDeny"
    assert decide(documents, "s3:GetObject", OBJECT, {"s3:ExistingObjectTag/Team": "red",
                                                      "aws:PrincipalTag/Team": "blue"}) == "explicitDeny"
    assert decide(documents, "s3:GetObject", OBJECT, {"s3:ExistingObjectTag/Team": "red",
                                                      "aws:PrincipalTag/Team": "red"}) == "allowed"


def test_numeric_and_bool_values_take_no_variables():
    context = {"s3:max-keys": "10", "limit": "10", "aws:SecureTransport": "true", "flag": "true"}
    assert not holds({"NumericEquals": {"s3:max-keys": "${limit}"}}, context)
    assert not holds({"Bool": {"aws:SecureTransport": "${flag}"}}, context)


# Conditions: how operators, keys and values combine


def test_every_operator_and_every_key_must_hold_and_any_value_may_match():
    context = {"aws:PrincipalAccount": "123456789012", "s3:ExistingObjectTag/SageMaker": "true"}
    both = {"StringEquals": {"aws:PrincipalAccount": "123456789012"},
            "StringEqualsIgnoreCase": {"s3:ExistingObjectTag/SageMaker": "TRUE"}}
    assert holds(both, context)
    assert not holds({**both, "StringLike": {"aws:PrincipalAccount": "9*"}}, context)
    keys = {"StringEquals": {"aws:PrincipalAccount": "123456789012", "s3:ExistingObjectTag/SageMaker": "yes"}}
    assert not holds(keys, context)
    assert holds({"StringEquals": {"aws:PrincipalAccount": ["111111111111", "123456789012"]}}, context)
    assert holds({}, context)


def test_a_negated_operator_with_several_values_holds_only_when_none_matches():
    condition = {"StringNotEquals": {"aws:PrincipalTag/role": ["audit", "security"]}}
    assert not holds(condition, {"aws:PrincipalTag/role": "audit"})
    assert not holds(condition, {"aws:PrincipalTag/role": "security"})
    assert holds(condition, {"aws:PrincipalTag/role": "dev"})


def test_condition_key_names_ignore_case_but_values_do_not():
    assert holds({"StringEquals": {"AWS:PrincipalAccount": "123456789012"}}, {"aws:principalaccount": "123456789012"})
    assert not holds({"StringEquals": {"aws:PrincipalTag/Team": "Red"}}, {"aws:principaltag/team": "red"})


@pytest.mark.parametrize("operator", ["StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
                                      "Bool", "NumericEquals", "NumericLessThan", "NumericGreaterThanEquals"])
def test_a_missing_key_fails_a_positive_operator(operator):
    assert not holds({operator: {"k": "1"}})
    assert holds({f"{operator}IfExists": {"k": "1"}})


@pytest.mark.parametrize("operator", ["StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
                                      "ArnNotLike", "NumericNotEquals"])
def test_a_missing_key_satisfies_a_negated_operator(operator):
    assert holds({operator: {"k": "1"}})
    assert holds({f"{operator}IfExists": {"k": "1"}})


def test_if_exists_still_checks_a_present_key():
    assert holds({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*"]}}, {"ec2:InstanceType": "t2.micro"})
    assert not holds({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*"]}}, {"ec2:InstanceType": "m5.large"})
    assert not holds({"StringNotEqualsIfExists": {"k": "a"}}, {"k": "a"})


@pytest.mark.parametrize("operator", [
    "StringEqualz", "stringequals", "DateGreaterThan", "IpAddress", "BinaryEquals", "NullIfExists", "ForAllValues:Null",
    "ForSomeValues:StringEquals", "ForAnyValue:ForAllValues:StringEquals", "StringEqualsIfExistsIfExists", "IfExists",
])
def test_an_operator_it_does_not_know_fails_the_condition(operator):
    """moto skips these; AWS does not, so neither may the emulator."""
    assert not holds({operator: {"k": "v"}}, {"k": "v"})
    assert not holds({operator: {"k": "v"}})


def test_a_condition_moto_would_skip_still_applies():
    document = policy(statement(Condition={"StringLike": {"s3:prefix": "p/*"}}))
    assert decide([document], "s3:GetObject", OBJECT, {"s3:prefix": "q/x"}) == "implicitDeny"
    assert decide([document], "s3:GetObject", OBJECT, {"s3:prefix": "p/x"}) == "allowed"


# Conditions: the operators


def test_string_equals_is_exact_and_case_sensitive_without_wildcards():
    assert holds({"StringEquals": {"k": "Abc"}}, {"k": "Abc"})
    assert not holds({"StringEquals": {"k": "Abc"}}, {"k": "abc"})
    assert not holds({"StringEquals": {"k": "A*"}}, {"k": "Abc"})
    assert holds({"StringEquals": {"k": "A*"}}, {"k": "A*"})
    assert holds({"StringNotEquals": {"k": "Abc"}}, {"k": "abc"})
    assert not holds({"StringNotEquals": {"k": "Abc"}}, {"k": "Abc"})


def test_string_equals_ignore_case():
    assert holds({"StringEqualsIgnoreCase": {"k": "PreProd"}}, {"k": "preprod"})
    assert not holds({"StringEqualsIgnoreCase": {"k": "PreProd"}}, {"k": "prod"})
    assert not holds({"StringNotEqualsIgnoreCase": {"k": "PreProd"}}, {"k": "PREPROD"})
    assert holds({"StringNotEqualsIgnoreCase": {"k": "PreProd"}}, {"k": "prod"})


def test_string_like_is_case_sensitive_with_wildcards():
    assert holds({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/a/b"})
    assert holds({"StringLike": {"s3:prefix": "home/?"}}, {"s3:prefix": "home/a"})
    assert not holds({"StringLike": {"s3:prefix": "home/?"}}, {"s3:prefix": "home/ab"})
    assert not holds({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "Home/a"})
    assert holds({"StringLike": {"s3:prefix": ""}}, {"s3:prefix": ""})
    assert not holds({"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/a"})
    assert holds({"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "tmp/a"})


ROLE = "arn:aws:iam::123456789012:role/sagewiz-execution"


@pytest.mark.parametrize("operator", ["ArnEquals", "ArnLike"])
def test_arn_equals_and_arn_like_match_each_part_with_wildcards(operator):
    assert holds({operator: {"aws:PrincipalArn": ROLE}}, {"aws:PrincipalArn": ROLE})
    assert holds({operator: {"aws:PrincipalArn": "arn:aws:iam::*:role/sagewiz-*"}}, {"aws:PrincipalArn": ROLE})
    assert holds({operator: {"aws:PrincipalArn": "arn:aws:iam::12345678901?:role/*"}}, {"aws:PrincipalArn": ROLE})
    assert not holds({operator: {"aws:PrincipalArn": "arn:aws:iam::*:role/Sagewiz-*"}}, {"aws:PrincipalArn": ROLE})
    assert not holds({operator: {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, {"aws:PrincipalArn": ROLE})
    # The six parts are matched one by one: a pattern without all six matches nothing, unlike StringLike.
    assert not holds({operator: {"aws:PrincipalArn": "arn:aws:iam::*"}}, {"aws:PrincipalArn": ROLE})
    assert holds({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*"}}, {"aws:PrincipalArn": ROLE})
    assert not holds({operator: {"aws:PrincipalArn": "*"}}, {"aws:PrincipalArn": "not-an-arn"})
    # In the resource part a wildcard spans colons.
    assert holds({operator: {"aws:SourceArn": "arn:aws:logs:*:*:log-group:*"}},
                 {"aws:SourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/x:log-stream:y"})


@pytest.mark.parametrize("operator", ["ArnNotEquals", "ArnNotLike"])
def test_arn_not_equals_and_arn_not_like(operator):
    assert not holds({operator: {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}, {"aws:PrincipalArn": ROLE})
    assert holds({operator: {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, {"aws:PrincipalArn": ROLE})


def test_bool_compares_true_and_false_in_any_case():
    assert holds({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "TRUE"})
    assert holds({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "true"})
    assert holds({"Bool": {"aws:SecureTransport": "False"}}, {"aws:SecureTransport": "false"})
    assert not holds({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"})
    assert not holds({"Bool": {"aws:SecureTransport": "yes"}}, {"aws:SecureTransport": "yes"})


def test_null_checks_whether_the_key_is_there():
    assert holds({"Null": {"aws:TokenIssueTime": "true"}})
    assert not holds({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})
    assert holds({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})
    assert not holds({"Null": {"aws:TokenIssueTime": False}})
    assert holds({"Null": {"AWS:TOKENISSUETIME": True}}, {"aws:TagKeys": []})
    assert holds({"Null": {"aws:TagKeys": "true"}}, {"aws:TagKeys": []})


@pytest.mark.parametrize(("operator", "policy_value", "request_value", "expected"), [
    ("NumericEquals", "10", "10", True), ("NumericEquals", "1.5", "1.50", True), ("NumericEquals", "10", "11", False),
    ("NumericEquals", 10, "10", True), ("NumericEquals", "10", "ten", False),
    ("NumericNotEquals", "10", "11", True), ("NumericNotEquals", "10", "10", False),
    ("NumericLessThan", "10", "9", True), ("NumericLessThan", "10", "10", False),
    ("NumericLessThanEquals", "10", "10", True), ("NumericLessThanEquals", "10", "11", False),
    ("NumericGreaterThan", "10", "11", True), ("NumericGreaterThan", "10", "10", False),
    ("NumericGreaterThanEquals", "10", "10", True), ("NumericGreaterThanEquals", "10", "9.99", False),
])
def test_numeric_operators_compare_the_request_value_with_the_policy_value(operator, policy_value, request_value,
                                                                           expected):
    assert holds({operator: {"s3:max-keys": policy_value}}, {"s3:max-keys": request_value}) is expected


# Conditions: multivalued keys


def test_for_any_value_needs_one_request_value_to_match():
    condition = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "team"]}}
    assert holds(condition, {"aws:TagKeys": ["costcenter", "team"]})
    assert not holds(condition, {"aws:TagKeys": ["costcenter", "owner"]})
    assert not holds(condition)
    assert not holds(condition, {"aws:TagKeys": []})
    assert holds(condition, {"aws:TagKeys": "team"})  # a single value is a set of one
    assert holds({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "team"}})


def test_for_all_values_needs_every_request_value_to_match_and_holds_when_there_are_none():
    condition = {"ForAllValues:StringLike": {"aws:TagKeys": ["key1*", "key2*"]}}
    assert holds(condition, {"aws:TagKeys": ["key1-a", "key2-b"]})
    assert not holds(condition, {"aws:TagKeys": ["key1-a", "other"]})
    assert holds(condition)
    assert holds(condition, {"aws:TagKeys": []})


def test_negated_set_operators_test_each_request_value():
    none_match = {"ForAllValues:StringNotLike": {"aws:TagKeys": ["key1*", "key2*"]}}
    assert holds(none_match, {"aws:TagKeys": ["a", "b"]})
    assert not holds(none_match, {"aws:TagKeys": ["a", "key2-b"]})
    one_does_not = {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a", "b"]}}
    assert holds(one_does_not, {"aws:TagKeys": ["a", "c"]})
    assert not holds(one_does_not, {"aws:TagKeys": ["a", "b"]})
    assert not holds(one_does_not)


def test_a_multivalued_key_needs_a_set_operator():
    assert not holds({"StringEquals": {"aws:TagKeys": "a"}}, {"aws:TagKeys": ["a", "b"]})
    assert not holds({"StringNotEquals": {"aws:TagKeys": "c"}}, {"aws:TagKeys": ["a", "b"]})
    assert holds({"StringEquals": {"aws:TagKeys": "a"}}, {"aws:TagKeys": ["a"]})


# The policies the emulator meets


@pytest.fixture(scope="module")
def full_access() -> dict[str, Any]:
    return json.loads(aws_managed_policies_data)["AmazonSageMakerFullAccess"]["Document"]


MODEL = "arn:aws:s3:::sagewiz-123456789012-us-east-1/sagewiz/x/model.tar.gz"


def test_full_access_names_sagemaker_buckets_in_three_cases_only(full_access):
    """The cases below rely on these being the only bucket patterns that grant GetObject without a tag."""
    granting = [s for s in full_access["Statement"]
                if "s3:GetObject" in s["Action"] and "Condition" not in s]
    assert [s["Resource"] for s in granting] == [["arn:aws:s3:::*SageMaker*", "arn:aws:s3:::*Sagemaker*",
                                                  "arn:aws:s3:::*sagemaker*", "arn:aws:s3:::*aws-glue*"]]
    assert all(s["Effect"] == "Allow" for s in full_access["Statement"])


def test_full_access_reads_no_untagged_object_outside_a_sagemaker_bucket(full_access):
    assert decide([full_access], "s3:GetObject", MODEL) == "implicitDeny"
    assert decide([full_access], "s3:GetObject", MODEL, {"s3:ExistingObjectTag/SageMaker": "false"}) == "implicitDeny"
    assert decide([full_access], "s3:GetObject", MODEL, {"s3:ExistingObjectTag/Other": "true"}) == "implicitDeny"


@pytest.mark.parametrize("tag", ["true", "TRUE", "True"])
def test_full_access_reads_an_object_tagged_for_sagemaker(full_access, tag):
    assert decide([full_access], "s3:GetObject", MODEL, {"s3:ExistingObjectTag/SageMaker": tag}) == "allowed"
    lower_case_key = {"s3:existingobjecttag/sagemaker": tag}
    assert decide([json.dumps(full_access)], "s3:GetObject", MODEL, lower_case_key) == "allowed"


def test_full_access_reads_a_bucket_named_for_sagemaker_in_a_case_it_lists(full_access):
    assert decide([full_access], "s3:GetObject", "arn:aws:s3:::my-sagemaker-models/x/model.tar.gz") == "allowed"
    assert decide([full_access], "s3:GetObject", "arn:aws:s3:::models-SageMaker/x/model.tar.gz") == "allowed"
    assert decide([full_access], "s3:GetObject", "arn:aws:s3:::MY-SAGEMAKER-MODELS/x/model.tar.gz") == "implicitDeny"
    assert decide([full_access], "s3:GetObject", "arn:aws:s3:::my-sageMaker-models/x/model.tar.gz") == "implicitDeny"


@pytest.mark.parametrize("action", ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                    "ecr:BatchCheckLayerAvailability"])
def test_full_access_pulls_from_any_repository(full_access, action):
    for repository in ("sagewiz", "SAGEWIZ-models", "team/app"):
        assert allows([full_access], action, f"arn:aws:ecr:us-east-1:123456789012:repository/{repository}")


def test_full_access_pushes_only_to_sagemaker_repositories(full_access):
    assert not allows([full_access], "ecr:PutImage", "arn:aws:ecr:us-east-1:123456789012:repository/sagewiz")
    assert allows([full_access], "ecr:PutImage", "arn:aws:ecr:us-east-1:123456789012:repository/my-sagemaker-x")


@pytest.mark.parametrize(("resource", "expected"), [
    ("arn:aws:s3:::b/p/model.tar.gz", True),
    ("arn:aws:s3:::b/p/deep/dir/model.tar.gz", True),
    ("arn:aws:s3:::b/p", False),
    ("arn:aws:s3:::b/pp/model.tar.gz", False),
    ("arn:aws:s3:::b/q/model.tar.gz", False),
    ("arn:aws:s3:::bb/p/model.tar.gz", False),
    ("arn:aws:s3:::B/p/model.tar.gz", False),
])
def test_a_least_privilege_policy_reads_only_under_its_prefix(resource, expected):
    document = policy(statement(action="s3:GetObject", resource="arn:aws:s3:::b/p/*"),
                      statement(action="s3:ListBucket", resource="arn:aws:s3:::b",
                                Condition={"StringLike": {"s3:prefix": "p/*"}}))
    assert allows([document], "s3:GetObject", resource) is expected
    assert not allows([document], "s3:PutObject", resource)
