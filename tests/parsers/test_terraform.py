"""Terraform (.tf, .tf.json) into the model: positions, resources, errors, suppressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmslint.model import (
    Interpolated,
    KeyKind,
    Known,
    Location,
    Meaning,
    MultiRegionUse,
    Project,
    Unknown,
    UsageKind,
    Value,
    instance_index,
    known_str,
    to_plain,
)
from kmslint.parsers.common import ParseOptions
from kmslint.parsers.terraform import parse_directory
from kmslint.policy.document import read_policy
from kmslint.policy.keyspec import is_imported
from tests.parsers.tf_helpers import d, key, lst, parse, statements

# --------------------------------------------------------------------------- positions


def test_key_header_and_attribute_spans(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "example" {
              description             = "app data"
              enable_key_rotation     = true
              deletion_window_in_days = 10
              multi_region            = false
            }
            """
        },
    )
    k = key(p, "aws_kms_key.example")
    assert k.kind is KeyKind.KEY
    assert k.loc == Location("main.tf", 1, 1, 1, 35)
    assert k.attr_locs["rotation"] == Location("main.tf", 3, 3, 3, 33)
    assert k.rotation == Known(True)
    assert k.rotation is not None and k.rotation.loc == Location("main.tf", 3, 29, 3, 33)
    assert k.deletion_window == Known(10)
    assert k.attr_locs["deletion_window"].line == 4
    assert k.multi_region == Known(False)
    assert k.policy is None
    assert p.resource_spans["aws_kms_key.example"] == ("main.tf", 1, 6)
    assert p.resource_count == 1


def test_heredoc_policy_statements_keep_their_lines(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              policy = <<-EOT
                {
                  "Version": "2012-10-17",
                  "Statement": [
                    {
                      "Sid": "Everyone",
                      "Effect": "Allow",
                      "Principal": "*",
                      "Action": "kms:*",
                      "Resource": "*"
                    }
                  ]
                }
              EOT
            }
            """
        },
    )
    k = key(p, "aws_kms_key.k")
    assert k.policy is not None
    assert k.policy.attached_by == "aws_kms_key.k"
    assert k.policy.loc == Location("main.tf", 2, 3, 15, 6)
    st = statements(k.policy.document)[0]
    assert st.loc == Location("main.tf", 6, 9, 12, 10)
    principal = d(st)["Principal"]
    assert principal == Known("*")
    assert principal.loc == Location("main.tf", 9, 24, 9, 27)
    docs = read_policy(k.policy.document, k.policy.loc)
    assert docs[0].statements[0].loc.line == 6


def test_heredoc_closing_marker_with_trailing_spaces_is_valid(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_kms_key" "k" {\n  policy = <<EOF\n{"Version": "2012-10-17", "Statement": []}\nEOF   \n}\n'
    )
    p = parse(tmp_path)
    assert p.errors == []
    k = key(p, "aws_kms_key.k")
    assert k.policy is not None
    assert to_plain(k.policy.document) == {"Version": "2012-10-17", "Statement": []}
    assert d(k.policy.document)["Version"].loc == Location("main.tf", 3, 13, 3, 25)


def test_heredoc_interpolations_become_unknown_parts(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            data "aws_caller_identity" "current" {}
            resource "aws_kms_key" "k" {
              policy = <<EOT
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
              "Principal": {"AWS": "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"},
              "Action": "kms:*", "Resource": "*", "Condition": ${jsonencode(local.cond)}}]}
            EOT
            }
            locals {
              cond = { StringEquals = { "kms:CallerAccount" = "111122223333" } }
            }
            """
        },
    )
    st = d(statements(key(p, "aws_kms_key.k").policy.document)[0])  # type: ignore[union-attr]
    aws = d(st["Principal"])["AWS"]
    assert isinstance(aws, Interpolated)
    assert aws.parts[0] == "arn:aws:iam::" and aws.parts[2] == ":root"
    part = aws.parts[1]
    assert isinstance(part, Unknown)
    assert part.meaning is Meaning.ACCOUNT_ID
    assert part.ref == "data.aws_caller_identity.current.account_id"
    assert aws.loc is not None and aws.loc.line == 5
    # A bare ${...} in JSON position is the value itself, located where it is written.
    cond = st["Condition"]
    assert to_plain(cond) == {"StringEquals": {"kms:CallerAccount": "111122223333"}}
    assert cond.loc is not None and cond.loc.line == 10


def test_heredoc_with_escaped_interpolation_is_literal(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              policy = <<EOT
            {"Version": "2012-10-17", "Statement": [{"Sid": "$${aws:username}", "Effect": "Allow"}]}
            EOT
            }
            """
        },
    )
    st = d(statements(key(p, "aws_kms_key.k").policy.document)[0])  # type: ignore[union-attr]
    assert st["Sid"] == Known("${aws:username}")


def test_jsonencode_statement_locations(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              policy = jsonencode({
                Version = "2012-10-17"
                Statement = [
                  {
                    Sid       = "Admins"
                    Effect    = "Allow"
                    Principal = { AWS = ["arn:aws:iam::111122223333:role/admin"] }
                    Action    = "kms:*"
                    Resource  = "*"
                  },
                ]
              })
            }
            """
        },
    )
    doc = key(p, "aws_kms_key.k").policy.document  # type: ignore[union-attr]
    st = statements(doc)[0]
    assert st.loc == Location("main.tf", 5, 7, 11, 8)
    aws = lst(d(d(st)["Principal"])["AWS"])[0]
    assert aws == Known("arn:aws:iam::111122223333:role/admin")
    assert aws.loc == Location("main.tf", 8, 30, 8, 68)


def test_policy_document_in_another_file(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              policy = data.aws_iam_policy_document.k.json
            }
            """,
            "policy.tf": """
            data "aws_iam_policy_document" "k" {
              statement {
                sid       = "Root"
                actions   = ["kms:*"]
                resources = ["*"]
                principals {
                  type        = "AWS"
                  identifiers = ["arn:aws:iam::111122223333:root"]
                }
              }
              statement {
                effect        = "Deny"
                not_actions   = ["kms:Decrypt"]
                not_resources = ["arn:aws:kms:*:*:key/x"]
                not_principals {
                  type        = "AWS"
                  identifiers = ["arn:aws:iam::111122223333:role/x"]
                }
                condition {
                  test     = "Bool"
                  variable = "aws:SecureTransport"
                  values   = ["false"]
                }
              }
            }
            """,
        },
    )
    k = key(p, "aws_kms_key.k")
    assert k.policy is not None
    assert k.policy.loc == Location("main.tf", 2, 3, 2, 47)
    doc = k.policy.document
    assert to_plain(doc) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
                "Action": ["kms:*"],
                "Resource": ["*"],
            },
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:role/x"]},
                "NotAction": ["kms:Decrypt"],
                "NotResource": ["arn:aws:kms:*:*:key/x"],
                "Condition": {"Bool": {"aws:SecureTransport": ["false"]}},
            },
        ],
    }
    first, second = statements(doc)
    assert first.loc == Location("policy.tf", 2, 3, 10, 4)
    assert second.loc == Location("policy.tf", 11, 3, 24, 4)
    ident = lst(d(d(first)["Principal"])["AWS"])[0]
    assert ident.loc == Location("policy.tf", 8, 22, 8, 54)
    cond_value = lst(d(d(d(second)["Condition"])["Bool"])["aws:SecureTransport"])[0]
    assert cond_value.loc == Location("policy.tf", 22, 19, 22, 26)
    # The reader sees the same statement locations.
    reading = read_policy(doc, k.policy.loc)[0]
    assert [s.loc.line for s in reading.statements] == [2, 11]
    assert reading.statements[0].is_allow


def test_policy_file_read_by_file_function(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              policy = file("${path.module}/policies/key.json")
            }
            """,
            "policies/key.json": """
            {
              "Version": "2012-10-17",
              "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
              ]
            }
            """,
        },
    )
    doc = key(p, "aws_kms_key.k").policy.document  # type: ignore[union-attr]
    st = statements(doc)[0]
    assert st.loc == Location("key.json", 4, 5, 4, 78) or st.loc.file.endswith("key.json")
    assert st.loc.line == 4
    assert any(f.endswith("key.json") for f in p.files)


def test_file_outside_scan_root_is_unknown(tmp_path: Path) -> None:
    outside = tmp_path / "secret.json"
    outside.write_text('{"Statement": []}')
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "link.json").symlink_to(outside)
    p = parse(
        conf,
        {
            "main.tf": """
            resource "aws_kms_key" "a" {
              policy = file("../secret.json")
            }
            resource "aws_kms_key" "b" {
              policy = file("link.json")
            }
            resource "aws_kms_key" "c" {
              policy = file("/etc/passwd")
            }
            """
        },
        scan_root=conf,
    )
    for name in ("aws_kms_key.a", "aws_kms_key.b", "aws_kms_key.c"):
        pol = key(p, name).policy
        assert pol is not None
        assert isinstance(pol.document, Unknown), name


# --------------------------------------------------------------------------- resources


def test_key_kinds_and_attribute_mapping(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "primary" {
              customer_master_key_spec = "RSA_2048"
              key_usage                = "SIGN_VERIFY"
              custom_key_store_id      = "cks-1"
              rotation_period_in_days  = 400
              bypass_policy_lockout_safety_check = true
              is_enabled               = false
              multi_region             = true
              tags                     = { Team = "a" }
            }
            resource "aws_kms_external_key" "ext" {
              key_spec = "SYMMETRIC_DEFAULT"
              enabled  = false
            }
            resource "aws_kms_replica_key" "rep" {
              primary_key_arn = aws_kms_key.primary.arn
            }
            resource "aws_kms_replica_external_key" "repx" {
              primary_key_arn = aws_kms_external_key.ext.arn
            }
            """
        },
    )
    primary = key(p, "aws_kms_key.primary")
    assert known_str(primary.key_spec) == "RSA_2048"
    assert known_str(primary.key_usage) == "SIGN_VERIFY"
    assert known_str(primary.custom_key_store) == "cks-1"
    assert primary.rotation_period == Known(400)
    assert primary.bypass_lockout_check == Known(True)
    assert primary.enabled == Known(False)
    assert primary.multi_region == Known(True)
    assert to_plain(primary.tags) == {"Team": "a"}
    assert set(primary.attr_locs) >= {
        "key_spec",
        "key_usage",
        "custom_key_store",
        "rotation_period",
        "bypass_lockout_check",
        "enabled",
        "multi_region",
        "tags",
    }
    ext = key(p, "aws_kms_external_key.ext")
    assert ext.kind is KeyKind.EXTERNAL
    assert is_imported(ext.kind, ext.origin)
    assert ext.enabled == Known(False)
    assert known_str(ext.key_spec) == "SYMMETRIC_DEFAULT"
    rep = key(p, "aws_kms_replica_key.rep")
    assert rep.kind is KeyKind.REPLICA and rep.primary == "aws_kms_key.primary"
    repx = key(p, "aws_kms_replica_external_key.repx")
    assert repx.kind is KeyKind.REPLICA_EXTERNAL and repx.primary == "aws_kms_external_key.ext"


def test_key_policy_resource_attaches_to_its_key(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              count = 2
            }
            resource "aws_kms_key_policy" "k" {
              key_id = aws_kms_key.k[0].id
              policy = jsonencode({ Version = "2012-10-17", Statement = [] })
            }
            resource "aws_kms_key_policy" "elsewhere" {
              key_id = var.key_id
              policy = jsonencode({ Version = "2012-10-17", Statement = [] })
            }
            """
        },
    )
    k = key(p, "aws_kms_key.k")
    assert k.policy is not None
    assert k.policy.attached_by == "aws_kms_key_policy.k"
    assert k.policy.key is k
    assert k.policy.loc.line == 6
    assert [sp.attached_by for sp in p.standalone_policies] == ["aws_kms_key_policy.elsewhere"]
    assert p.standalone_policies[0].key is None


def test_alias_grant_and_identity_policies(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {}
            resource "aws_kms_alias" "a" {
              name          = "alias/app"
              target_key_id = aws_kms_key.k.key_id
            }
            resource "aws_kms_alias" "b" {
              name_prefix   = "alias/tmp-"
              target_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
            }
            resource "aws_kms_grant" "g" {
              key_id            = aws_kms_key.k.id
              grantee_principal = aws_iam_role.app.arn
              operations        = ["Decrypt"]
            }
            resource "aws_iam_role" "app" {
              assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [] })
              inline_policy {
                name   = "inline"
                policy = jsonencode({ Version = "2012-10-17", Statement = [] })
              }
            }
            resource "aws_iam_policy" "p" {
              policy = data.aws_iam_policy_document.decrypt.json
            }
            resource "aws_iam_role_policy" "rp" {
              policy = "{}"
            }
            resource "aws_iam_user_policy" "up" {
              policy = "{}"
            }
            resource "aws_iam_group_policy" "gp" {
              policy = "{}"
            }
            data "aws_iam_policy_document" "decrypt" {
              statement {
                actions   = ["kms:Decrypt"]
                resources = ["*"]
              }
            }
            """
        },
    )
    a, b = p.aliases
    assert a.name == "aws_kms_alias.a" and a.alias_name == Known("alias/app") and a.target == "aws_kms_key.k"
    assert a.attr_locs["alias_name"].line == 3
    assert isinstance(b.alias_name, Interpolated) and b.alias_name.parts[0] == "alias/tmp-"
    assert b.target is None
    (g,) = p.grants
    assert g.key == "aws_kms_key.k"
    assert isinstance(g.grantee, Unknown) and g.grantee.meaning is Meaning.RESOURCE_ARN
    assert g.grantee.ref == "aws_iam_role.app.arn"
    names = [ip.name for ip in p.identity_policies]
    assert names == [
        "aws_iam_role.app",
        "aws_iam_policy.p",
        "aws_iam_role_policy.rp",
        "aws_iam_user_policy.up",
        "aws_iam_group_policy.gp",
    ]
    inline = p.identity_policies[0]
    assert inline.loc.line == 19  # the inline policy, not assume_role_policy
    assert to_plain(p.identity_policies[1].document) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": ["*"]}],
    }


def test_multi_region_uses(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "table" { multi_region = true }
            resource "aws_kms_replica_key" "table_west" {
              primary_key_arn = aws_kms_key.table.arn
            }
            resource "aws_kms_key" "db" { multi_region = true }
            resource "aws_kms_key" "db2" { multi_region = true }
            resource "aws_kms_key" "plain" { multi_region = true }
            resource "aws_dynamodb_table" "t" {
              name = "t"
              server_side_encryption {
                enabled     = true
                kms_key_arn = aws_kms_key.table.arn
              }
              replica {
                region_name = "us-west-2"
                kms_key_arn = aws_kms_replica_key.table_west.arn
              }
            }
            resource "aws_dynamodb_table" "local_only" {
              server_side_encryption {
                enabled     = true
                kms_key_arn = aws_kms_key.plain.arn
              }
            }
            resource "aws_rds_global_cluster" "g" {
              global_cluster_identifier    = "g"
              source_db_cluster_identifier = aws_rds_cluster.primary.arn
            }
            resource "aws_rds_cluster" "primary" {
              kms_key_id = aws_kms_key.db.arn
            }
            resource "aws_rds_cluster" "member" {
              global_cluster_identifier = aws_rds_global_cluster.g.id
              kms_key_id                = aws_kms_key.db2.arn
            }
            """
        },
    )
    assert p.multi_region_uses == [
        MultiRegionUse("aws_kms_key.table", "aws_dynamodb_table.t", UsageKind.GLOBAL_TABLE),
        MultiRegionUse("aws_kms_replica_key.table_west", "aws_dynamodb_table.t", UsageKind.GLOBAL_TABLE),
        MultiRegionUse("aws_kms_key.db", "aws_rds_global_cluster.g", UsageKind.GLOBAL_CLUSTER),
        MultiRegionUse("aws_kms_key.db2", "aws_rds_cluster.member", UsageKind.GLOBAL_CLUSTER),
    ]


def _instances(p: Project, name: str = "aws_kms_key.k") -> list[tuple[str, Value | None]]:
    return [(instance_index(k.name), k.deletion_window) for k in p.keys if k.name == name]


def test_for_each_instances_share_the_resource_name(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              for_each                = { payments = 7, ledger = 30 }
              deletion_window_in_days = each.value
            }
            resource "aws_kms_key" "set" {
              for_each                = toset(["b", "a", "b"])
              deletion_window_in_days = each.key == "a" ? 7 : 8
            }
            """
        },
    )
    # One key per instance, in Terraform's order (by key), named without its index (RULES.md).
    assert {k.name for k in p.keys} == {"aws_kms_key.k", "aws_kms_key.set"}
    assert _instances(p) == [('["ledger"]', Known(30)), ('["payments"]', Known(7))]
    assert _instances(p, "aws_kms_key.set") == [('["a"]', Known(7)), ('["b"]', Known(8))]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        ("2", [("[0]", Known(7)), ("[1]", Known(8))]),
        ("0", []),
        ("var.create ? 1 : 0", [("", Known(7))]),  # the one instance is not named (count.index is 0)
        ("length(var.none)", [("", "unknown")]),  # unknown: one instance, as before
        ("1000000000", [("", "unknown")]),  # past MAX_INSTANCES: read as unknown, not expanded
    ],
)
def test_count_instances(tmp_path: Path, count: str, expected: list[tuple[str, object]]) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": f"""
            variable "create" {{
              default = true
            }}
            variable "none" {{}}
            resource "aws_kms_key" "k" {{
              count                   = {count}
              deletion_window_in_days = 7 + count.index
            }}
            """
        },
    )
    got = [(i, "unknown" if isinstance(v, Unknown) else v) for i, v in _instances(p)]
    assert got == expected


def test_for_each_over_another_resource_links_each_instance(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "keys" {
              for_each = toset(["a", "b"])
            }
            resource "aws_kms_key_policy" "p" {
              for_each = aws_kms_key.keys
              key_id   = each.value.key_id
              policy   = "{}"
            }
            """
        },
    )
    # Each key gets the policy of its own instance: none is left on the default policy.
    assert [(instance_index(k.name), k.policy is not None) for k in p.keys] == [('["a"]', True), ('["b"]', True)]
    assert all(instance_index(k.name) == instance_index(k.policy.attached_by) for k in p.keys if k.policy)
    assert p.standalone_policies == []


def test_duplicate_addresses_across_files_are_tolerated(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "a.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n',
            "b.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n',
        },
    )
    assert p.errors == []
    # Terraform rejects a duplicate address; kmslint lints both definitions rather than hide one.
    assert [(k.name, k.rotation, k.loc.file) for k in p.keys] == [
        ("aws_kms_key.k", Known(True), "a.tf"),
        ("aws_kms_key.k", Known(False), "b.tf"),
    ]


# --------------------------------------------------------------------------- errors and limits


def test_syntax_error_is_a_parse_error_and_other_files_go_on(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "bad.tf": 'resource "aws_kms_key" "x" {\n  enable_key_rotation = true\n  policy = \n',
            "good.tf": 'resource "aws_kms_key" "ok" {}\n',
        },
    )
    assert [k.name for k in p.keys] == ["aws_kms_key.ok"]
    (err,) = p.errors
    assert err.file == "bad.tf"
    assert err.line >= 1


def test_error_line_is_the_first_error(tmp_path: Path) -> None:
    p = parse(tmp_path, {"bad.tf": 'locals {\n  a = 1\n}\n\nresource "x" "y" {\n  b = [1, 2\n}\n'})
    (err,) = p.errors
    assert err.line in (6, 7)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.tf").write_text("# " + "x" * 5000 + "\n")
    tf = [tmp_path / "big.tf"]
    p = parse_directory(tmp_path, tf, ParseOptions(scan_root=tmp_path, max_file_bytes=1000))
    assert len(p.errors) == 1
    assert "limit" in p.errors[0].message or "larger" in p.errors[0].message


def test_deep_nesting_does_not_crash(tmp_path: Path) -> None:
    depth = 3000
    text = "locals {\n  a = " + "[" * depth + "1" + "]" * depth + "\n  b = " + "{x = " * depth + "1" + "}" * depth
    text += '\n}\nresource "aws_kms_key" "k" {\n  tags = { a = jsonencode(local.a), b = local.b }\n}\n'
    blocks = "a {\n" * 500 + "}\n" * 500
    p = parse(tmp_path, {"main.tf": text, "blocks.tf": blocks})
    # Expressions nested past what the evaluator follows stop it, with a KMS000 (an Unknown
    # there would let whatever the expression holds pass unchecked).
    assert [(e.file, e.line, e.column) for e in p.errors] == [("blocks.tf", 202, 1), ("main.tf", 2, 7)]
    assert "because expressions nest deeper than 800 levels" in p.errors[1].message


def test_bom_and_crlf(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_bytes(
        b'\xef\xbb\xbfresource "aws_kms_key" "k" {\r\n  enable_key_rotation = true\r\n  policy = <<EOT\r\n'
        b'{"Version": "2012-10-17", "Statement": []}\r\nEOT\r\n}\r\n'
    )
    p = parse(tmp_path)
    assert p.errors == []
    k = key(p, "aws_kms_key.k")
    assert k.rotation == Known(True)
    assert k.attr_locs["rotation"].line == 2
    assert to_plain(k.policy.document) == {"Version": "2012-10-17", "Statement": []}  # type: ignore[union-attr]


def test_invalid_json_policy_text_stays_a_string(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              policy = <<EOT
            {"Version": "2012-10-17", "Statement": [ }
            EOT
            }
            """
        },
    )
    doc = key(p, "aws_kms_key.k").policy.document  # type: ignore[union-attr]
    assert isinstance(doc, Known) and isinstance(doc.value, str)
    reading = read_policy(doc, key(p, "aws_kms_key.k").policy.loc)  # type: ignore[union-attr]
    assert reading[0].problems


# --------------------------------------------------------------------------- suppressions


def test_suppression_comments(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            # kmslint:ignore KMS004 -- used by the global table
            resource "aws_kms_key" "a" {
              multi_region = true
            }

            resource "aws_kms_key" "b" { // kmslint:ignore KMS002, KMS004 -- legacy
              description = "# kmslint:ignore KMS001 -- not a comment"
              /* kmslint:ignore KMS001 */
            }
            """
        },
    )
    got = [(s.resource, s.rule_ids, s.reason, s.loc.line) for s in p.suppressions]
    assert got == [
        ("aws_kms_key.a", ("KMS004",), "used by the global table", 1),
        ("aws_kms_key.b", ("KMS002", "KMS004"), "legacy", 6),
        ("aws_kms_key.b", ("KMS001",), "", 8),
    ]


# --------------------------------------------------------------------------- .tf.json


def test_tf_json_configuration(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf.json": """
            {
              "variable": {"env": {"default": "prod"}},
              "resource": {
                "aws_kms_key": {
                  "k": {
                    "//": "kmslint:ignore KMS002 -- rotated by hand",
                    "enable_key_rotation": false,
                    "description": "${var.env} key",
                    "policy": "${data.aws_iam_policy_document.p.json}"
                  }
                },
                "aws_kms_alias": {"a": {"name": "alias/${var.env}", "target_key_id": "${aws_kms_key.k.id}"}}
              },
              "data": {
                "aws_iam_policy_document": {
                  "p": {
                    "statement": [
                      {"sid": "A", "actions": ["kms:*"], "resources": ["*"],
                       "principals": [{"type": "AWS", "identifiers": ["*"]}]}
                    ]
                  }
                }
              }
            }
            """
        },
    )
    assert p.errors == []
    k = key(p, "aws_kms_key.k")
    assert k.loc.line == 5
    assert k.rotation == Known(False)
    assert k.attr_locs["rotation"] == Location("main.tf.json", 7, 9, 7, 37)
    doc = k.policy.document  # type: ignore[union-attr]
    assert to_plain(doc) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["kms:*"], "Resource": ["*"]}
        ],
    }
    assert statements(doc)[0].loc is not None and statements(doc)[0].loc.line == 18  # type: ignore[union-attr]
    (alias,) = p.aliases
    assert alias.alias_name == Known("alias/prod") and alias.target == "aws_kms_key.k"
    (sup,) = p.suppressions
    assert sup.resource == "aws_kms_key.k" and sup.rule_ids == ("KMS002",) and sup.reason == "rotated by hand"


def test_tf_json_syntax_error(tmp_path: Path) -> None:
    p = parse(tmp_path, {"main.tf.json": '{\n  "resource": {\n    "aws_kms_key": {"k": {}},\n  }\n}\n'})
    (err,) = p.errors
    assert err.file == "main.tf.json" and err.line == 4


@pytest.mark.parametrize("name", ["main.tf", "main.tf.json"])
def test_empty_files(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("" if name == "main.tf" else "{}")
    p = parse(tmp_path)
    assert p.errors == [] and p.keys == []


def test_key_account_from_the_aws_provider(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            provider "aws" {
              region              = "eu-west-1"
              allowed_account_ids = ["111122223333"]
            }
            provider "aws" {
              alias               = "west"
              region              = "us-west-2"
              allowed_account_ids = ["111122223333"]
            }
            resource "aws_kms_key" "k" {}
            """
        },
    )
    assert key(p, "aws_kms_key.k").account == Known("111122223333")
    q = parse(tmp_path / "other", {"main.tf": 'resource "aws_kms_key" "k" {}\n'})
    assert key(q, "aws_kms_key.k").account is None


def test_whole_string_interpolation_is_the_value_itself(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              policy = <<EOT
            {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "${aws_iam_role.app.arn}"}}]}
            EOT
            }
            """
        },
    )
    st = d(statements(key(p, "aws_kms_key.k").policy.document)[0])  # type: ignore[union-attr]
    aws = d(st["Principal"])["AWS"]
    assert isinstance(aws, Unknown) and aws.meaning is Meaning.RESOURCE_ARN and aws.ref == "aws_iam_role.app.arn"


def test_provider_default_tags_are_key_tags(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            provider "aws" {
              default_tags {
                tags = { Owner = "platform", Env = "prod" }
              }
            }
            provider "aws" {
              alias = "west"
            }
            resource "aws_kms_key" "a" {
              tags = { Env = "dev" }
            }
            resource "aws_kms_key" "b" {}
            resource "aws_kms_key" "c" {
              provider = aws.west
            }
            """
        },
    )
    assert to_plain(key(p, "aws_kms_key.a").tags) == {"Owner": "platform", "Env": "dev"}
    assert to_plain(key(p, "aws_kms_key.b").tags) == {"Owner": "platform", "Env": "prod"}
    assert key(p, "aws_kms_key.c").tags is None


def test_override_files_merge_as_terraform_merges_them(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            variable "window" {
              default = 30
            }
            locals {
              spec = "SYMMETRIC_DEFAULT"
            }
            resource "aws_kms_key" "k" {
              enable_key_rotation     = true
              deletion_window_in_days = var.window
              customer_master_key_spec = local.spec
              description             = "kept"
            }
            """,
            # Read after main.tf whatever its name; a later override wins over an earlier one.
            "a_override.tf": """
            variable "window" {
              default = 7
            }
            locals {
              spec = "RSA_2048"
            }
            """,
            "keys_override.tf.json": '{"resource": {"aws_kms_key": {"k": {"enable_key_rotation": false}}}}',
            "override.tf": 'resource "aws_kms_key" "k" {\n  multi_region = true\n}\n',
        },
    )
    (k,) = p.keys
    assert k.rotation == Known(False) and k.attr_locs["rotation"].file == "keys_override.tf.json"
    assert k.multi_region == Known(True) and k.attr_locs["multi_region"].file == "override.tf"
    assert k.deletion_window == Known(7) and k.key_spec == Known("RSA_2048")
    assert k.loc.file == "main.tf"  # the resource is where its original header is


def test_override_of_nothing_is_read_as_written(tmp_path: Path) -> None:
    p = parse(tmp_path, {"main.tf": "", "override.tf": 'resource "aws_kms_key" "lonely" {\n  multi_region = true\n}\n'})
    assert [(k.name, k.multi_region) for k in p.keys] == [("aws_kms_key.lonely", Known(True))]


@pytest.mark.parametrize("index", ['"b"', "1"])
def test_a_literal_instance_reference_links_to_that_instance(tmp_path: Path, index: str) -> None:
    each = 'for_each = toset(["a", "b"])' if index.startswith('"') else "count = 2"
    p = parse(
        tmp_path,
        {
            "main.tf": f"""
            resource "aws_kms_key" "keys" {{
              {each}
            }}
            resource "aws_kms_key_policy" "second" {{
              key_id = aws_kms_key.keys[{index}].id
              policy = "{{}}"
            }}
            """
        },
    )
    with_policy = [instance_index(k.name) for k in p.keys if k.policy is not None]
    assert with_policy == [f"[{index}]"]
