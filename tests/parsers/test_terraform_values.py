"""Value resolution: what Terraform expressions resolve to, statically."""

from __future__ import annotations

from pathlib import Path

from kmslint.model import Interpolated, Known, Location, Meaning, Unknown, Value, to_plain
from kmslint.parsers.hcl_eval import MAX_VALUE_NODES, var_meaning
from kmslint.policy.principals import PrincipalClass, classify_value
from tests.parsers.tf_helpers import d, key, lst, parse, statements


def tags_of(tmp_path: Path, body: str, extra: dict[str, str] | None = None) -> dict[str, Value]:
    """Evaluate expressions as the values of a key's ``tags`` map."""
    files = {"main.tf": 'resource "aws_kms_key" "k" {\n  tags = {\n' + body + "\n  }\n}\n"}
    files.update(extra or {})
    p = parse(tmp_path, files)
    assert p.errors == [], p.errors
    return d(key(p, "aws_kms_key.k").tags)


def test_literals_and_operators(tmp_path: Path) -> None:
    t = tags_of(
        tmp_path,
        """
    s = "text"
    n = 3
    f = 1.5
    b = true
    z = null
    l = [1, "a"]
    o = { x = 1, "y" = 2 }
    arith = 2 * 3 + 1
    cmp = 3 > 2 && !false
    eq = "a" == "a"
    cond = 1 > 2 ? "yes" : "no"
    neg = -4
    esc = "a\\"b\\n$${x}"
    """,
    )
    plain = {k: to_plain(v) for k, v in t.items()}
    assert plain == {
        "s": "text",
        "n": 3,
        "f": 1.5,
        "b": True,
        "z": None,
        "l": [1, "a"],
        "o": {"x": 1, "y": 2},
        "arith": 7,
        "cmp": True,
        "eq": True,
        "cond": "no",
        "neg": -4,
        "esc": 'a"b\n${x}',
    }


def test_locals_and_variables_with_tfvars(tmp_path: Path) -> None:
    t = tags_of(
        tmp_path,
        """
    a = local.name
    b = var.env
    c = var.team
    d = var.region
    e = local.nested.inner[1]
    """,
        {
            "vars.tf": """
            variable "env" { default = "dev" }
            variable "team" { default = "core" }
            variable "region" {}
            locals {
              name   = "${var.env}-${var.team}"
              nested = { inner = ["x", local.name] }
            }
            """,
            "terraform.tfvars": 'env = "staging"\nteam = "a"\n',
            "b.auto.tfvars": 'team = "b"\n',
            "a.auto.tfvars": 'team = "from-a"\n',
        },
    )
    assert t["a"] == Known("staging-b")
    assert t["b"] == Known("staging")
    assert t["b"].loc == Location("terraform.tfvars", 1, 7, 1, 16) or t["b"].loc.line == 1  # type: ignore[union-attr]
    assert t["c"] == Known("b")  # *.auto.tfvars in lexical order, after terraform.tfvars
    d_val = t["d"]
    assert isinstance(d_val, Unknown) and d_val.meaning is Meaning.REGION and d_val.ref == "var.region"
    assert t["e"] == Known("staging-b")


def test_variable_without_default_named_as_account(tmp_path: Path) -> None:
    t = tags_of(
        tmp_path,
        """
    a = "arn:aws:iam::${var.account_id}:root"
    b = var.aws_account_id
    c = var.something
    """,
        {"vars.tf": 'variable "account_id" {}\nvariable "aws_account_id" { type = string }\nvariable "something" {}\n'},
    )
    a = t["a"]
    assert isinstance(a, Interpolated)
    assert classify_value(a) is PrincipalClass.ACCOUNT_ROOT
    b = t["b"]
    assert isinstance(b, Unknown) and b.meaning is Meaning.ACCOUNT_ID
    c = t["c"]
    assert isinstance(c, Unknown) and c.meaning is Meaning.NOTHING and c.ref == "var.something"


def test_var_meaning_from_names() -> None:
    for name in ("account_id", "aws_account_id", "account", "target_account_id", "ACCOUNT_ID", "account_ids"):
        assert var_meaning(name) is Meaning.ACCOUNT_ID, name
    assert var_meaning("partition") is Meaning.PARTITION
    assert var_meaning("aws_region") is Meaning.REGION
    for name in ("accounting_tag", "key_name", "account_alias"):
        assert var_meaning(name) is Meaning.NOTHING, name


def test_references_with_meaning(tmp_path: Path) -> None:
    t = tags_of(
        tmp_path,
        """
    acct = data.aws_caller_identity.current.account_id
    part = data.aws_partition.current.partition
    role = aws_iam_role.app.arn
    role_idx = aws_iam_role.app[0].arn
    root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
    mod = module.kms.key_arn
    other = data.aws_ssm_parameter.p.value
    """,
    )
    acct = t["acct"]
    assert isinstance(acct, Unknown) and acct.meaning is Meaning.ACCOUNT_ID
    assert acct.ref == "data.aws_caller_identity.current.account_id"
    part = t["part"]
    assert isinstance(part, Unknown) and part.meaning is Meaning.PARTITION
    for name in ("role", "role_idx"):
        role = t[name]
        assert isinstance(role, Unknown) and role.meaning is Meaning.RESOURCE_ARN
        assert role.ref == "aws_iam_role.app.arn"
        assert classify_value(role) is PrincipalClass.SPECIFIC
    root = t["root"]
    assert isinstance(root, Interpolated)
    assert [p if isinstance(p, str) else p.meaning for p in root.parts] == [
        "arn:",
        Meaning.PARTITION,
        ":iam::",
        Meaning.ACCOUNT_ID,
        ":root",
    ]
    assert classify_value(root) is PrincipalClass.ACCOUNT_ROOT
    for name in ("mod", "other"):
        v = t[name]
        assert isinstance(v, Unknown) and v.meaning is Meaning.NOTHING
        assert classify_value(v) is PrincipalClass.UNKNOWN


def test_functions(tmp_path: Path) -> None:
    t = tags_of(
        tmp_path,
        """
    fmt = format("arn:aws:iam::%s:role/%s", "111122223333", "app")
    fmt_unknown = format("arn:aws:iam::%s:root", data.aws_caller_identity.c.account_id)
    joined = join(",", ["a", "b"])
    concat = concat(["a"], ["b", "c"])
    merged = merge({ a = 1, b = 1 }, { b = 2 })
    tolist = tolist(["x"])
    toset = toset(["b", "a", "b"])
    encoded = jsonencode("x")
    upper = upper("abc")
    coalesce = coalesce("", "first")
    lookup = lookup({ a = "1" }, "b", "dflt")
    length = length([1, 2, 3])
    flatten = flatten([["a"], ["b", ["c"]]])
    for_list = [for s in ["a", "b"] : "arn:aws:iam::111122223333:role/${s}" if s != "b"]
    for_map = { for k, v in { a = 1 } : upper(k) => v }
    try = try(local.missing.attr, "fallback")
    unsupported = timestamp()
    """,
    )
    plain = {k: to_plain(v) for k, v in t.items()}
    assert plain["fmt"] == "arn:aws:iam::111122223333:role/app"
    assert isinstance(t["fmt_unknown"], Interpolated)
    assert classify_value(t["fmt_unknown"]) is PrincipalClass.ACCOUNT_ROOT
    assert plain["joined"] == "a,b"
    assert plain["concat"] == ["a", "b", "c"]
    assert plain["merged"] == {"a": 1, "b": 2}
    assert plain["tolist"] == ["x"]
    assert plain["toset"] == ["a", "b"]
    assert plain["encoded"] == '"x"'
    assert plain["upper"] == "ABC"
    assert plain["coalesce"] == "first"
    assert plain["lookup"] == "dflt"
    assert plain["length"] == 3
    assert plain["flatten"] == ["a", "b", "c"]
    assert plain["for_list"] == ["arn:aws:iam::111122223333:role/a"]
    assert plain["for_map"] == {"A": 1}
    assert isinstance(t["try"], Unknown) or plain["try"] == "fallback"
    assert isinstance(t["unsupported"], Unknown)


def test_unknown_inputs_stay_unknown(tmp_path: Path) -> None:
    t = tags_of(
        tmp_path,
        """
    merged = merge(var.map, { a = 1 })
    joined = join(",", var.list)
    for_list = [for s in var.list : s]
    """,
        {"vars.tf": 'variable "list" {}\nvariable "map" {}\nvariable "flag" {}\n'},
    )
    for name, v in t.items():
        assert isinstance(v, Unknown), name


def test_unknown_list_keeps_the_known_elements(tmp_path: Path) -> None:
    t = tags_of(
        tmp_path,
        'concat = concat(var.list, ["a"])',
        {"vars.tf": 'variable "list" {}\n'},
    )
    first, second = lst(t["concat"])
    assert isinstance(first, Unknown) and "any number of elements" in first.reason
    assert first.ref is None  # not one value: rules must not compare it as one principal
    assert "list" in first.reason
    assert to_plain(second) == "a"


def test_file_and_templatefile(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              policy = templatefile("${path.module}/key-policy.json.tpl", {
                account = "111122223333"
                admins  = ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"]
              })
            }
            resource "aws_kms_key" "j" {
              policy = jsondecode(file("plain.json"))
            }
            """,
            "key-policy.json.tpl": """
            {
              "Version": "2012-10-17",
              "Statement": [
                {
                  "Sid": "Root",
                  "Effect": "Allow",
                  "Principal": {"AWS": "arn:aws:iam::${account}:root"},
                  "Action": "kms:*",
                  "Resource": "*"
                },
                {
                  "Sid": "Admins",
                  "Effect": "Allow",
                  "Principal": {"AWS": ${jsonencode(admins)}},
                  "Action": "kms:Describe*",
                  "Resource": "*"
                }
              ]
            }
            """,
            "plain.json": '{"Version": "2012-10-17", "Statement": []}\n',
        },
    )
    doc = key(p, "aws_kms_key.k").policy.document  # type: ignore[union-attr]
    root, admins = statements(doc)
    assert to_plain(d(root)["Principal"]) == {"AWS": "arn:aws:iam::111122223333:root"}
    assert root.loc is not None and root.loc.file.endswith("key-policy.json.tpl")
    assert (root.loc.line, root.loc.column, root.loc.end_line, root.loc.end_column) == (4, 5, 10, 6)
    assert to_plain(d(admins)["Principal"]) == {
        "AWS": ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"]
    }
    assert admins.loc is not None and admins.loc.line == 11
    j = key(p, "aws_kms_key.j").policy.document  # type: ignore[union-attr]
    assert to_plain(j) == {"Version": "2012-10-17", "Statement": []}


def test_policy_document_merging(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              policy = data.aws_iam_policy_document.combined.json
            }
            data "aws_iam_policy_document" "base" {
              statement {
                sid       = "Shared"
                actions   = ["kms:Decrypt"]
                resources = ["*"]
              }
              statement {
                sid       = "BaseOnly"
                actions   = ["kms:Encrypt"]
                resources = ["*"]
              }
            }
            data "aws_iam_policy_document" "override" {
              statement {
                sid       = "BaseOnly"
                effect    = "Deny"
                actions   = ["kms:Encrypt"]
                resources = ["*"]
              }
              statement {
                actions   = ["kms:ListKeys"]
                resources = ["*"]
              }
            }
            data "aws_iam_policy_document" "combined" {
              source_policy_documents   = [data.aws_iam_policy_document.base.json]
              override_policy_documents = [data.aws_iam_policy_document.override.json]
              statement {
                sid       = "Shared"
                actions   = ["kms:GenerateDataKey"]
                resources = ["*"]
              }
              statement {
                sid       = "Own"
                actions   = ["kms:DescribeKey"]
                resources = ["*"]
              }
            }
            """
        },
    )
    doc = key(p, "aws_kms_key.k").policy.document  # type: ignore[union-attr]
    got = [(to_plain(d(s).get("Sid")), to_plain(d(s)["Effect"]), to_plain(d(s)["Action"])) for s in statements(doc)]
    assert got == [
        ("Shared", "Allow", ["kms:GenerateDataKey"]),  # this document replaces the source's
        ("BaseOnly", "Deny", ["kms:Encrypt"]),  # the override replaces it
        ("Own", "Allow", ["kms:DescribeKey"]),
        (None, "Allow", ["kms:ListKeys"]),  # no sid: appended
    ]
    # Each statement stays located where it is written.
    assert [s.loc.line for s in statements(doc)] == [31, 17, 36, 23]  # type: ignore[union-attr]


def test_dynamic_statement_blocks(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            locals {
              readers = {
                app   = "arn:aws:iam::111122223333:role/app"
                batch = "arn:aws:iam::111122223333:role/batch"
              }
            }
            resource "aws_kms_key" "k" {
              policy = data.aws_iam_policy_document.k.json
            }
            data "aws_iam_policy_document" "k" {
              statement {
                sid     = "First"
                actions = ["kms:*"]
              }
              dynamic "statement" {
                for_each = local.readers
                iterator = reader
                content {
                  sid     = "Read${title(reader.key)}"
                  actions = ["kms:Decrypt"]
                  principals {
                    type        = "AWS"
                    identifiers = [reader.value]
                  }
                  dynamic "condition" {
                    for_each = ["kms:ViaService"]
                    content {
                      test     = "StringEquals"
                      variable = condition.value
                      values   = ["s3.us-east-1.amazonaws.com"]
                    }
                  }
                }
              }
              dynamic "statement" {
                for_each = var.extra
                content {
                  actions = ["kms:*"]
                }
              }
            }
            variable "extra" {}
            """
        },
    )
    doc = key(p, "aws_kms_key.k").policy.document  # type: ignore[union-attr]
    stmts = statements(doc)
    assert len(stmts) == 4
    assert d(stmts[0])["Sid"] == Known("First")
    assert stmts[1].loc is not None and stmts[1].loc.line == 15  # the dynamic block
    assert to_plain(d(stmts[1])["Principal"]) == {"AWS": ["arn:aws:iam::111122223333:role/app"]}
    assert to_plain(d(stmts[2])["Principal"]) == {"AWS": ["arn:aws:iam::111122223333:role/batch"]}
    assert to_plain(d(stmts[2])["Condition"]) == {"StringEquals": {"kms:ViaService": ["s3.us-east-1.amazonaws.com"]}}
    sid = d(stmts[1])["Sid"]
    assert to_plain(sid) == "ReadApp"  # title() is evaluated
    assert isinstance(stmts[3], Unknown)  # over an unknown collection: any number of statements


def test_principals_grouped_by_type_and_star(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            resource "aws_kms_key" "k" {
              policy = data.aws_iam_policy_document.k.json
            }
            data "aws_iam_policy_document" "k" {
              policy_id = "key-policy"
              version   = "2012-10-17"
              statement {
                principals {
                  type        = "AWS"
                  identifiers = ["arn:aws:iam::111122223333:role/a"]
                }
                principals {
                  type        = "AWS"
                  identifiers = ["arn:aws:iam::111122223333:role/b"]
                }
                principals {
                  type        = "*"
                  identifiers = ["*"]
                }
                condition {
                  test     = "StringEquals"
                  variable = "aws:PrincipalOrgID"
                  values   = ["o-1"]
                }
                condition {
                  test     = "StringEquals"
                  variable = "aws:PrincipalOrgID"
                  values   = ["o-2"]
                }
              }
            }
            """
        },
    )
    doc = key(p, "aws_kms_key.k").policy.document  # type: ignore[union-attr]
    assert d(doc)["Id"] == Known("key-policy")
    st = d(statements(doc)[0])
    assert to_plain(st["Principal"]) == {
        "AWS": ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"],
        "*": ["*"],
    }
    assert to_plain(st["Condition"]) == {"StringEquals": {"aws:PrincipalOrgID": ["o-1", "o-2"]}}
    star = lst(d(st["Principal"])["*"])[0]
    assert star.loc is not None and star.loc.line == 18


def test_policy_from_variable_default_and_local_heredoc(tmp_path: Path) -> None:
    p = parse(
        tmp_path,
        {
            "main.tf": """
            variable "policy" {
              default = <<EOT
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*"}]}
            EOT
            }
            resource "aws_kms_key" "k" {
              policy = var.policy
            }
            resource "aws_kms_key" "n" {
              policy = var.missing
            }
            variable "missing" {}
            """
        },
    )
    st = statements(key(p, "aws_kms_key.k").policy.document)[0]  # type: ignore[union-attr]
    assert st.loc is not None and st.loc.line == 3
    n = key(p, "aws_kms_key.n").policy
    assert n is not None and isinstance(n.document, Unknown)


def test_values_that_explode_through_sharing_are_a_kms000(tmp_path: Path) -> None:
    chain = "\n".join(f"    l{i} = [local.l{i - 1}, local.l{i - 1}, local.l{i - 1}]" for i in range(1, 40))
    p = parse(
        tmp_path,
        {
            "main.tf": 'locals {\n    l0 = ["x"]\n' + chain + "\n}\n"
            'resource "aws_kms_key" "k" {\n  policy = jsonencode({ Statement = local.l39 })\n'
            "  tags = { a = toset(local.l39) }\n}\n"
        },
    )
    # Somewhere down the chain a local grew past MAX_VALUE_NODES: evaluation gives up there,
    # with a KMS000, rather than making the policy Unknown (which would let it pass).
    [error] = p.errors
    assert (error.file, error.line, error.column) == ("main.tf", 13, 11)
    assert f"it built a value of over {MAX_VALUE_NODES:,} nodes" in error.message
    assert p.keys == []
