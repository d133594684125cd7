"""Terraform plan JSON into the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmslint.model import (
    KeyKind,
    KeyResource,
    Known,
    MultiRegionUse,
    ProjectKind,
    Unknown,
    UsageKind,
    instance_index,
    known_str,
    to_plain,
)
from kmslint.parsers.common import ParseFailure, ParseOptions
from kmslint.parsers.terraform_plan import looks_like_plan, parse_plan, strip_indexes
from kmslint.policy.document import read_policy

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}],
    }
)


def _resource(address: str, rtype: str, name: str, values: dict[str, object], **extra: object) -> dict[str, object]:
    return {"address": address, "mode": "managed", "type": rtype, "name": name, "values": values, **extra}


def _plan() -> dict[str, object]:
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {
            "root_module": {
                "resources": [
                    _resource(
                        "aws_kms_key.defaults",
                        "aws_kms_key",
                        "defaults",
                        {
                            "customer_master_key_spec": "SYMMETRIC_DEFAULT",
                            "enable_key_rotation": False,
                            "is_enabled": True,
                            "multi_region": False,
                            "deletion_window_in_days": None,
                            "tags": None,
                        },
                    ),
                    _resource(
                        "aws_kms_key.computed[0]",
                        "aws_kms_key",
                        "computed",
                        {"enable_key_rotation": True, "multi_region": True},
                        index=0,
                    ),
                    _resource(
                        "aws_kms_key.computed[1]",
                        "aws_kms_key",
                        "computed",
                        {"enable_key_rotation": True, "multi_region": True},
                        index=1,
                    ),
                    _resource("aws_dynamodb_table.t", "aws_dynamodb_table", "t", {"replica": [{"region_name": "x"}]}),
                ],
                "child_modules": [
                    {
                        "address": "module.kms",
                        "resources": [
                            _resource(
                                "module.kms.aws_kms_external_key.this",
                                "aws_kms_external_key",
                                "this",
                                {"deletion_window_in_days": 7, "enabled": True},
                            ),
                            _resource(
                                "module.kms.aws_kms_key_policy.this",
                                "aws_kms_key_policy",
                                "this",
                                {"policy": POLICY},
                            ),
                        ],
                        "child_modules": [
                            {
                                "address": 'module.kms.module.inner["a"]',
                                "resources": [
                                    _resource(
                                        'module.kms.module.inner["a"].aws_kms_alias.a',
                                        "aws_kms_alias",
                                        "a",
                                        {"name": "alias/a"},
                                    )
                                ],
                            }
                        ],
                    }
                ],
            }
        },
        "resource_changes": [
            {
                "address": "aws_kms_key.computed[0]",
                "change": {"actions": ["create"], "after_unknown": {"policy": True, "arn": True}},
            },
            {
                "address": "aws_kms_key.defaults",
                "change": {"actions": ["create"], "after_unknown": {"policy": True, "arn": True}},
            },
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {"address": "aws_kms_key.defaults", "mode": "managed", "type": "aws_kms_key", "expressions": {}},
                    {
                        "address": "aws_kms_key.computed",
                        "mode": "managed",
                        "type": "aws_kms_key",
                        "expressions": {
                            "enable_key_rotation": {"constant_value": True},
                            "multi_region": {"constant_value": True},
                            "policy": {"references": ["data.aws_iam_policy_document.p.json"]},
                        },
                    },
                    {
                        "address": "aws_dynamodb_table.t",
                        "mode": "managed",
                        "type": "aws_dynamodb_table",
                        "expressions": {
                            "server_side_encryption": [
                                {"kms_key_arn": {"references": ["aws_kms_key.computed[0].arn", "aws_kms_key.computed"]}}
                            ],
                            "replica": [{"region_name": {"constant_value": "x"}}],
                        },
                    },
                ],
                "module_calls": {
                    "kms": {
                        "source": "./kms",
                        "module": {
                            "resources": [
                                {
                                    "address": "aws_kms_external_key.this",
                                    "mode": "managed",
                                    "type": "aws_kms_external_key",
                                    "expressions": {"deletion_window_in_days": {"references": ["var.window"]}},
                                },
                                {
                                    "address": "aws_kms_key_policy.this",
                                    "mode": "managed",
                                    "type": "aws_kms_key_policy",
                                    "expressions": {
                                        "key_id": {
                                            "references": [
                                                "aws_kms_external_key.this.id",
                                                "aws_kms_external_key.this",
                                            ]
                                        },
                                        "policy": {"references": ["local.policy"]},
                                    },
                                },
                            ]
                        },
                    }
                },
            }
        },
    }


def _parse(tmp_path: Path, plan: dict[str, object]) -> object:
    path = tmp_path / "plan.json"
    text = json.dumps(plan, indent=2)
    path.write_text(text)
    return parse_plan(path, text, ParseOptions(scan_root=tmp_path, display_names={path: "plan.json"}))


def test_looks_like_plan() -> None:
    assert looks_like_plan(_plan())
    assert looks_like_plan({"format_version": "1.0", "terraform_version": "1.5.0", "resource_changes": []})
    assert not looks_like_plan({"Version": "2012-10-17"})
    assert not looks_like_plan([])


def test_strip_indexes() -> None:
    assert strip_indexes('module.a[0].module.b["x]y"].aws_kms_key.k[3]') == "module.a.module.b.aws_kms_key.k"


def test_plan_keys_modules_and_not_set(tmp_path: Path) -> None:
    p = _parse(tmp_path, _plan())
    assert p.kind is ProjectKind.TERRAFORM_PLAN  # type: ignore[attr-defined]
    keys: dict[str, KeyResource] = {}
    for k in p.keys:  # type: ignore[attr-defined]
        keys.setdefault(k.name, k)  # the first instance of each
    assert list(keys) == ["aws_kms_key.defaults", "aws_kms_key.computed", "module.kms.aws_kms_external_key.this"]
    # Each instance of aws_kms_key.computed is a key of its own, named without its index.
    instances = [(k.name, instance_index(k.name)) for k in p.keys if k.name == "aws_kms_key.computed"]  # type: ignore[attr-defined]
    assert instances == [("aws_kms_key.computed", "[0]"), ("aws_kms_key.computed", "[1]")]
    defaults = keys["aws_kms_key.defaults"]
    # Provider defaults that the configuration does not write are "not set".
    assert defaults.rotation is None and defaults.key_spec is None and defaults.multi_region is None
    assert defaults.policy is None
    assert defaults.loc.file == "plan.json" and defaults.loc.line > 1
    computed = keys["aws_kms_key.computed"]
    assert computed.rotation == Known(True)
    assert computed.multi_region == Known(True)
    assert computed.attr_locs["rotation"].line > computed.loc.line
    # Configured, but computed at apply time.
    assert computed.policy is not None and isinstance(computed.policy.document, Unknown)
    ext = keys["module.kms.aws_kms_external_key.this"]
    assert ext.kind is KeyKind.EXTERNAL
    assert ext.deletion_window == Known(7)
    assert ext.enabled is None
    # The module's aws_kms_key_policy attaches through the key_id references.
    assert ext.policy is not None
    assert ext.policy.attached_by == "module.kms.aws_kms_key_policy.this"
    assert to_plain(ext.policy.document) == POLICY
    assert ext.policy.document.loc is not None and ext.policy.document.loc.file == "plan.json"
    (alias,) = p.aliases  # type: ignore[attr-defined]
    assert alias.name == "module.kms.module.inner.aws_kms_alias.a"
    assert alias.alias_name == Known("alias/a")
    assert p.multi_region_uses == [  # type: ignore[attr-defined]
        MultiRegionUse("aws_kms_key.computed", "aws_dynamodb_table.t", UsageKind.GLOBAL_TABLE)
    ]
    assert p.resource_spans["aws_kms_key.computed"][1] == computed.loc.line  # type: ignore[attr-defined]


def test_plan_without_configuration_takes_values_as_set(tmp_path: Path) -> None:
    plan = _plan()
    del plan["configuration"]
    p = _parse(tmp_path, plan)
    defaults = next(k for k in p.keys if k.name == "aws_kms_key.defaults")  # type: ignore[attr-defined]
    assert defaults.rotation == Known(False)
    # No configuration: a computed policy is unknown, and the key_id link cannot be made.
    assert defaults.policy is not None and isinstance(defaults.policy.document, Unknown)
    assert [sp.attached_by for sp in p.standalone_policies] == ["module.kms.aws_kms_key_policy.this"]  # type: ignore[attr-defined]


def test_invalid_plan_json(tmp_path: Path) -> None:
    with pytest.raises(ParseFailure) as exc:
        parse_plan(tmp_path / "p.json", '{"planned_values": {\n  "root_module": [\n}', ParseOptions(scan_root=tmp_path))
    assert exc.value.line == 3


def test_empty_plan(tmp_path: Path) -> None:
    p = _parse(tmp_path, {"format_version": "1.0", "terraform_version": "1.5.0", "resource_changes": []})
    assert p.keys == []  # type: ignore[attr-defined]


_types = st.sampled_from(
    [
        "aws_kms_key",
        "aws_kms_key_policy",
        "aws_kms_alias",
        "aws_kms_grant",
        "aws_iam_role",
        "aws_dynamodb_table",
        "aws_rds_cluster",
        "aws_rds_global_cluster",
        "aws_kms_replica_key",
        "aws_iam_policy",
    ]
)
_vals = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(["x", "aws_kms_key.k", POLICY, "{"])),
    lambda c: st.one_of(
        st.lists(c, max_size=3),
        st.dictionaries(st.sampled_from(["policy", "kms_key_arn", "references", "key_id", "replica"]), c, max_size=3),
    ),
    max_leaves=12,
)
_attrs = st.dictionaries(
    st.sampled_from(
        [
            "policy",
            "key_id",
            "enable_key_rotation",
            "tags",
            "replica",
            "inline_policy",
            "server_side_encryption",
            "global_cluster_identifier",
            "kms_key_id",
            "source_db_cluster_identifier",
            "target_key_id",
            "name",
        ]
    ),
    _vals,
    max_size=5,
)


@pytest.mark.slow
@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(_types, st.sampled_from(["k", "p", "t"]), _attrs, _attrs, _attrs), max_size=5))
def test_random_plans_never_crash(
    rows: list[tuple[str, str, dict[str, object], dict[str, object], dict[str, object]]],
) -> None:
    resources = [
        {"address": f"{t}.{n}", "mode": "managed", "type": t, "name": n, "values": v} for t, n, v, _, _ in rows
    ]
    configs = [{"address": f"{t}.{n}", "mode": "managed", "type": t, "expressions": c} for t, n, _, c, _ in rows]
    changes = [{"address": f"{t}.{n}", "change": {"after_unknown": u}} for t, n, _, _, u in rows]
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {
            "root_module": {"resources": resources, "child_modules": [{"address": "module.m", "resources": resources}]}
        },
        "configuration": {
            "root_module": {"resources": configs, "module_calls": {"m": {"module": {"resources": configs}}}}
        },
        "resource_changes": changes,
    }
    text = json.dumps(plan)
    project = parse_plan(Path("/nonexistent/plan.json"), text, ParseOptions(scan_root=Path("/nonexistent")))
    for policy in project.key_policies():
        read_policy(policy.document, policy.loc)
    for ip in project.identity_policies:
        read_policy(ip.document, ip.loc)


def test_plan_tags_all_carries_default_tags(tmp_path: Path) -> None:
    plan = _plan()
    resources = plan["planned_values"]["root_module"]["resources"]  # type: ignore[index]
    resources[0]["values"]["tags_all"] = {"Owner": "platform"}
    p = _parse(tmp_path, plan)
    defaults = next(k for k in p.keys if k.name == "aws_kms_key.defaults")  # type: ignore[attr-defined]
    assert to_plain(defaults.tags) == {"Owner": "platform"}
    assert defaults.attr_locs["tags"].file == "plan.json"


def _instance_plan() -> dict[str, object]:
    """Keys of a resource with for_each, an aws_kms_key_policy over them, an alias and a grant
    whose arguments the plan leaves out (no after_unknown): only the configuration links them."""
    keys = [
        _resource(f'aws_kms_key.keys["{k}"]', "aws_kms_key", "keys", {"enable_key_rotation": True}, index=k)
        for k in ("a", "b")
    ]
    policies = [
        _resource(f'aws_kms_key_policy.p["{k}"]', "aws_kms_key_policy", "p", {"policy": POLICY}, index=k)
        for k in ("a", "b")
    ]
    linked = {"references": ['aws_kms_key.keys["a"].key_id', "aws_kms_key.keys"]}
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {
            "root_module": {
                "resources": [
                    *keys,
                    *policies,
                    _resource("aws_kms_alias.a", "aws_kms_alias", "a", {"name": "alias/a"}),
                    _resource("aws_kms_grant.g", "aws_kms_grant", "g", {"grantee_principal": "arn:aws:iam::1:role/r"}),
                ]
            }
        },
        "configuration": {
            "root_module": {
                "resources": [
                    {"address": "aws_kms_key.keys", "mode": "managed", "type": "aws_kms_key", "expressions": {}},
                    {
                        "address": "aws_kms_key_policy.p",
                        "mode": "managed",
                        "type": "aws_kms_key_policy",
                        "for_each_expression": {"references": ["aws_kms_key.keys"]},
                        "expressions": {
                            "key_id": {"references": ["each.value.key_id", "each.value"]},
                            "policy": {"constant_value": "x"},
                        },
                    },
                    {
                        "address": "aws_kms_alias.a",
                        "mode": "managed",
                        "type": "aws_kms_alias",
                        "expressions": {"name": {"constant_value": "alias/a"}, "target_key_id": linked},
                    },
                    {
                        "address": "aws_kms_grant.g",
                        "mode": "managed",
                        "type": "aws_kms_grant",
                        "expressions": {"key_id": linked, "grantee_principal": {"constant_value": "x"}},
                    },
                ]
            }
        },
    }


def test_plan_instances_link_to_their_own_keys(tmp_path: Path) -> None:
    p = _parse(tmp_path, _instance_plan())
    # for_each over aws_kms_key.keys: each policy instance attaches to the key instance of its own key.
    got = [(instance_index(k.name), k.policy and instance_index(k.policy.attached_by)) for k in p.keys]  # type: ignore[attr-defined]
    assert got == [('["a"]', '["a"]'), ('["b"]', '["b"]')]
    assert p.standalone_policies == []  # type: ignore[attr-defined]
    # References alone link an alias and a grant to their key.
    assert [a.target for a in p.aliases] == ["aws_kms_key.keys"]  # type: ignore[attr-defined]
    assert [g.key for g in p.grants] == ["aws_kms_key.keys"]  # type: ignore[attr-defined]


def test_plan_provider_states_the_account(tmp_path: Path) -> None:
    plan = _instance_plan()
    providers = {"aws": {"name": "aws", "expressions": {"allowed_account_ids": {"constant_value": ["111122223333"]}}}}
    plan["configuration"]["provider_config"] = providers  # type: ignore[index]
    p = _parse(tmp_path, plan)
    assert {known_str(k.account) for k in p.keys} == {"111122223333"}  # type: ignore[attr-defined]
    providers["west"] = {"name": "aws", "alias": "west", "expressions": {}}  # one provider says nothing
    p = _parse(tmp_path, plan)
    assert {k.account for k in p.keys} == {None}  # type: ignore[attr-defined]


def _module_links_plan() -> dict[str, object]:
    """An alias at the root given a nested module's output (module.outer.key_id, which is
    module.inner's key_id, which is its key's), and an alias in a module called with
    for_each whose target_key_id is a variable the call passes a root key's ID; a third
    alias is given an output that leads round a cycle (which Terraform refuses), to nothing."""
    ext = {"address": "aws_kms_external_key.root", "mode": "managed", "type": "aws_kms_external_key"}
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": {
            "root_module": {
                "resources": [
                    _resource("aws_kms_external_key.root", "aws_kms_external_key", "root", {"description": "r"}),
                    _resource("aws_kms_alias.outer", "aws_kms_alias", "outer", {"name": "alias/outer"}),
                    _resource("aws_kms_alias.loop", "aws_kms_alias", "loop", {"name": "alias/loop"}),
                ],
                "child_modules": [
                    {
                        "address": "module.outer",
                        "child_modules": [
                            {
                                "address": "module.outer.module.inner",
                                "resources": [
                                    _resource(
                                        "module.outer.module.inner.aws_kms_external_key.this",
                                        "aws_kms_external_key",
                                        "this",
                                        {"description": "i"},
                                    )
                                ],
                            }
                        ],
                    },
                    *(
                        {
                            "address": f'module.alias["{k}"]',
                            "resources": [
                                _resource(
                                    f'module.alias["{k}"].aws_kms_alias.this',
                                    "aws_kms_alias",
                                    "this",
                                    {"name": f"alias/{k}"},
                                )
                            ],
                        }
                        for k in ("a", "b")
                    ),
                ],
            }
        },
        "resource_changes": [
            {"address": "aws_kms_alias.outer", "change": {"after_unknown": {"target_key_id": True}}},
            {"address": "aws_kms_alias.loop", "change": {"after_unknown": {"target_key_id": True}}},
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {**ext, "expressions": {"description": {"constant_value": "r"}}},
                    {
                        "address": "aws_kms_alias.outer",
                        "mode": "managed",
                        "type": "aws_kms_alias",
                        "expressions": {"target_key_id": {"references": ["module.outer.key_id", "module.outer"]}},
                    },
                    {
                        "address": "aws_kms_alias.loop",
                        "mode": "managed",
                        "type": "aws_kms_alias",
                        "expressions": {"target_key_id": {"references": ["module.outer.ping", "module.outer"]}},
                    },
                ],
                "module_calls": {
                    "outer": {
                        "source": "./outer",
                        "module": {
                            "outputs": {
                                "key_id": {"expression": {"references": ["module.inner.key_id", "module.inner"]}},
                                "ping": {"expression": {"references": ["module.inner.ping", "module.inner"]}},
                            },
                            "module_calls": {
                                "inner": {
                                    "source": "./inner",
                                    "module": {
                                        "outputs": {
                                            "key_id": {
                                                "expression": {
                                                    "references": [
                                                        "aws_kms_external_key.this.id",
                                                        "aws_kms_external_key.this",
                                                    ]
                                                }
                                            },
                                            # module.inner's ping is its variable ping, which is its ping.
                                            "ping": {"expression": {"references": ["var.ping"]}},
                                        },
                                        "resources": [
                                            {
                                                "address": "aws_kms_external_key.this",
                                                "mode": "managed",
                                                "type": "aws_kms_external_key",
                                                "expressions": {"description": {"constant_value": "i"}},
                                            }
                                        ],
                                    },
                                    "expressions": {"ping": {"references": ["module.inner.ping", "module.inner"]}},
                                }
                            },
                        },
                    },
                    "alias": {
                        "source": "./alias",
                        "for_each_expression": {"constant_value": ["a", "b"]},
                        "expressions": {
                            "key_id": {"references": ["aws_kms_external_key.root.id", "aws_kms_external_key.root"]}
                        },
                        "module": {
                            "resources": [
                                {
                                    "address": "aws_kms_alias.this",
                                    "mode": "managed",
                                    "type": "aws_kms_alias",
                                    "expressions": {
                                        "name": {"references": ["each.key"]},
                                        "target_key_id": {"references": ["var.key_id"]},
                                    },
                                }
                            ],
                            "variables": {"key_id": {}},
                        },
                    },
                },
            }
        },
    }


def test_plan_follows_references_through_module_outputs_and_variables(tmp_path: Path) -> None:
    # As the .tf files' evaluation does (fixtures/projects/tf_module_for_each: an alias given a
    # module's key_id output targets the module's key), so that both forms agree on KMS010.
    p = _parse(tmp_path, _module_links_plan())
    targets = {a.name: a.target for a in p.aliases}  # type: ignore[attr-defined]
    assert targets == {
        "aws_kms_alias.outer": "module.outer.module.inner.aws_kms_external_key.this",
        "aws_kms_alias.loop": None,  # the outputs' cycle leads nowhere
        "module.alias.aws_kms_alias.this": "aws_kms_external_key.root",
    }
    # Without the alias that leads nowhere (which may target any key), each key but an orphan
    # has an alias: KMS010 for the orphan only, where unlinked aliases had hidden it.
    from kmslint import api
    from kmslint.settings import Settings

    plan = _module_links_plan()
    del plan["planned_values"]["root_module"]["resources"][2]  # type: ignore[index]
    del plan["configuration"]["root_module"]["resources"][2]  # type: ignore[index]
    path = tmp_path / "plan.json"
    orphan = {"address": "aws_kms_external_key.orphan", "mode": "managed", "type": "aws_kms_external_key"}
    plan["planned_values"]["root_module"]["resources"].append({**orphan, "name": "orphan", "values": {}})  # type: ignore[index]
    plan["configuration"]["root_module"]["resources"].append({**orphan, "expressions": {}})  # type: ignore[index]
    path.write_text(json.dumps(plan))
    report = api.lint([str(path)], Settings(select=frozenset({"KMS010"})))
    assert [f.resource_name for f in report.findings] == ["aws_kms_external_key.orphan"]
