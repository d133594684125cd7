"""CloudFormation conditions evaluated from their definitions (kmslint.parsers.cfn_conditions).

The space is read from small templates, as the reader builds it, and asked
the questions the checks ask: which combinations are possible, which
conditions are decided, which parameters a combination pins.  Messages are
checked on the fixtures that hold the cases (``fixtures/KMS00x/*condition*``,
``fixtures/projects/cfn_resource_conditions``).
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from kmslint import api
from kmslint.model import Conditional, Interpolated, Known, Location, Unknown, branches
from kmslint.parsers import cfn_conditions, cloudformation
from kmslint.parsers.cfn_conditions import Space
from kmslint.parsers.common import Budget, BudgetExceeded, ParseOptions
from kmslint.settings import Settings
from tests.conftest import FIXTURES

FILE = "template.yaml"
# A key whose Fn::If makes the reader read the conditions (a template without one skips them).
KEY = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      Description: !If [Any, a, b]\n"


def space_of(text: str, budget: Budget | None = None) -> Space:
    path = Path("/virtual") / FILE
    opts = ParseOptions(display_names={path: FILE}, budget=budget)
    project = cloudformation.parse_template(path, textwrap.dedent(text) + KEY, opts, is_json=False)
    assert project is not None and project.condition_space is not None
    assert isinstance(project.condition_space, Space)
    return project.condition_space


def possible(space: Space, **choices: bool) -> bool:
    return space.feasible(dict(choices))


# --------------------------------------------------------------------------- deciding


def test_a_parameter_default_decides_a_condition() -> None:
    s = space_of("""\
        Parameters:
          KeySpec: {Type: String, Default: SYMMETRIC_DEFAULT}
        Conditions:
          HasSymmetricKey: !Equals [!Ref KeySpec, SYMMETRIC_DEFAULT]
          IsHmac: !Equals [!Ref KeySpec, HMAC_256]
        """)
    assert s.decided("HasSymmetricKey") is True
    assert s.decided("IsHmac") is False


def test_allowed_values_are_the_domain_of_a_parameter_without_a_default() -> None:
    s = space_of("""\
        Parameters:
          Only: {Type: String, AllowedValues: [SYMMETRIC_DEFAULT]}
          Stage: {Type: String, AllowedValues: [dev, test, prod]}
        Conditions:
          Symmetric: !Equals [!Ref Only, SYMMETRIC_DEFAULT]
          IsProd: !Equals [!Ref Stage, prod]
          IsDev: !Equals [!Ref Stage, dev]
          IsStaging: !Equals [!Ref Stage, staging]
          ProdOrDev: !Or [!Condition IsProd, !Condition IsDev]
        """)
    assert s.decided("Symmetric") is True
    assert s.decided("IsStaging") is False  # not an allowed value
    assert s.decided("IsProd") is None
    assert not possible(s, IsProd=True, IsDev=True)
    assert possible(s, IsProd=False, IsDev=False)  # test
    assert possible(s, ProdOrDev=False)
    assert not possible(s, ProdOrDev=False, IsProd=True)


def test_a_free_parameter_may_equal_each_literal_or_none() -> None:
    s = space_of("""\
        Parameters:
          Stage: {Type: String}
        Conditions:
          IsProd: !Equals [!Ref Stage, prod]
          IsDev: !Equals [!Ref Stage, dev]
        """)
    assert possible(s, IsProd=True, IsDev=False)
    assert possible(s, IsProd=False, IsDev=True)
    assert possible(s, IsProd=False, IsDev=False)  # any other stage
    assert not possible(s, IsProd=True, IsDev=True)


def test_every_allowed_value_listed_leaves_no_other() -> None:
    s = space_of("""\
        Parameters:
          Stage: {Type: String, AllowedValues: [dev, prod]}
        Conditions:
          IsProd: !Equals [!Ref Stage, prod]
          IsDev: !Equals [!Ref Stage, dev]
        """)
    assert not possible(s, IsProd=False, IsDev=False)
    assert possible(s, IsProd=False)


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        ("true", '"true"', True),
        ("True", '"true"', True),  # a YAML boolean is the text "true"
        ('"True"', '"true"', False),  # text compares case-sensitively
        ("365", '"365"', True),
        ("1.5", '"1.5"', True),
        ("false", "false", True),
        ('""', '""', True),
        ("a", "b", False),
    ],
)
def test_equals_compares_literals_as_text(left: str, right: str, equal: bool) -> None:
    s = space_of(f"Conditions:\n  C: !Equals [{left}, {right}]\n")
    assert s.decided("C") is equal


def test_numbers_and_booleans_from_parameters_compare_as_text() -> None:
    s = space_of("""\
        Parameters:
          Days: {Type: Number, Default: 30}
          Flag: {Type: String, Default: "true"}
        Conditions:
          Month: !Equals [!Ref Days, "30"]
          On: !Equals [!Ref Flag, true]
        """)
    assert s.decided("Month") is True
    assert s.decided("On") is True


def test_mappings_sub_and_join_are_resolved_as_for_properties() -> None:
    s = space_of("""\
        Parameters:
          Stage: {Type: String, Default: prod}
          Env: {Type: String}
        Mappings:
          Stages: {prod: {Spec: SYMMETRIC_DEFAULT}, dev: {Spec: HMAC_256}}
        Conditions:
          Mapped: !Equals [!FindInMap [Stages, !Ref Stage, Spec], SYMMETRIC_DEFAULT]
          Joined: !Equals [!Join ["-", [!Ref Stage, app]], prod-app]
          SubOfFree: !Equals [!Sub "${Env}-app", prod-app]
          SubNeverMatches: !Equals [!Sub "${Env}-app", prod-web]
          SubOtherFree: !Equals [!Sub "${Env}-app", dev-app]
        """)
    assert s.decided("Mapped") is True
    assert s.decided("Joined") is True
    assert s.decided("SubOfFree") is None
    assert s.decided("SubNeverMatches") is False  # the suffix cannot match
    assert not possible(s, SubOfFree=True, SubOtherFree=True)  # Env is prod, or dev, not both
    assert s.pins({"SubOfFree": True}) == {"Env": "prod"}


def test_an_empty_join_needs_every_part_empty() -> None:
    s = space_of("""\
        Parameters:
          A: {Type: String}
          B: {Type: String}
        Conditions:
          NoneGiven: !Equals [!Join ["", [!Ref A, !Ref B]], ""]
          HasA: !Not [!Equals [!Ref A, ""]]
        """)
    assert not possible(s, NoneGiven=True, HasA=True)
    assert possible(s, NoneGiven=False, HasA=False)  # B given


def test_pseudo_parameters_are_free_and_correlated() -> None:
    s = space_of("""\
        Conditions:
          InUsEast1: !Equals [!Ref "AWS::Region", us-east-1]
          InEuWest1: !Equals [!Ref "AWS::Region", eu-west-1]
        """)
    assert s.decided("InUsEast1") is None
    assert not possible(s, InUsEast1=True, InEuWest1=True)
    assert s.pins({"InEuWest1": True}) == {"AWS::Region": "eu-west-1"}


def test_two_unknowns_compared_are_free_but_the_same_one_is_equal() -> None:
    s = space_of("""\
        Parameters:
          A: {Type: String}
          B: {Type: String}
        Conditions:
          Same: !Equals [!Ref A, !Ref A]
          AB: !Equals [!Ref A, !Ref B]
          BA: !Equals [!Ref B, !Ref A]
        """)
    assert s.decided("Same") is True
    assert s.decided("AB") is None
    assert not possible(s, AB=True, BA=False)  # one comparison, written twice


def test_and_or_not_and_condition_chains() -> None:
    s = space_of("""\
        Parameters:
          Env: {Type: String, AllowedValues: [dev, test, prod]}
        Conditions:
          IsProd: !Equals [!Ref Env, prod]
          NotProd: !Not [!Condition IsProd]
          IsDev: !Equals [!Ref Env, dev]
          IsTest: !Equals [!Ref Env, test]
          DevOrTest: !Or [!Condition IsDev, !Condition IsTest]
          Everything: !Or [!Condition IsProd, !Condition DevOrTest]
          Nothing: !And [!Condition IsProd, !Condition NotProd]
        """)
    assert s.decided("Everything") is True
    assert s.decided("Nothing") is False
    assert not possible(s, NotProd=True, DevOrTest=False)
    assert possible(s, NotProd=True, DevOrTest=True, IsTest=True)


def test_what_cannot_be_read_is_free() -> None:
    s = space_of("""\
        Conditions:
          UnknownFunction: !GetAZs ""
          NotAList: {"Fn::And": "x"}
          TwoMappings: {"Fn::Equals": [a, b], "Fn::Not": [c]}
          Azs: !Equals [!Select [0, !GetAZs ""], us-east-1a]
          FromUndefined: !Not [!Condition Undefined]
          Literal: true
        """)
    for name in ("UnknownFunction", "NotAList", "TwoMappings", "Azs", "FromUndefined", "Literal", "Undefined"):
        assert s.decided(name) is None, name
    assert not possible(s, FromUndefined=True, Undefined=True)  # the undefined name is one free boolean


def test_conditions_on_a_cycle_are_free_and_what_depends_on_them_is_read() -> None:
    s = space_of("""\
        Conditions:
          A: !Condition B
          B: !Not [!Condition A]
          Self: !And [!Condition Self, !Equals [a, a]]
          NotA: !Not [!Condition A]
        """)
    for name in ("A", "B", "Self", "NotA"):
        assert s.decided(name) is None, name
    assert possible(s, A=True, B=True)  # A = B and B = not A cannot both hold: each is free instead
    assert not possible(s, A=True, NotA=True)


def test_a_list_parameter_allowed_values_do_not_restrict_a_comparison() -> None:
    s = space_of("""\
        Parameters:
          Envs: {Type: CommaDelimitedList, AllowedValues: [a]}
        Conditions:
          Joined: !Equals [!Join [",", !Ref Envs], a]
        """)
    assert s.decided("Joined") is None


def test_a_resource_condition_is_assumed_in_its_space() -> None:
    s = space_of("""\
        Parameters:
          Stage: {Type: String, AllowedValues: [dev, prod]}
        Conditions:
          IsProd: !Equals [!Ref Stage, prod]
          IsDev: !Equals [!Ref Stage, dev]
        """)
    inside = s.assuming("IsProd")
    assert inside.decided("IsDev") is False
    assert inside.pins({}) == {"Stage": "prod"}
    assert not inside.feasible({"IsProd": False})
    assert s.decided("IsDev") is None


def test_conditions_are_read_only_when_something_is_conditional() -> None:
    path = Path("/virtual") / FILE
    conditions = "Conditions:\n  C: !Equals [a, b]\n"
    plain = conditions + "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"
    found = cloudformation.parse_template(path, plain, ParseOptions(), is_json=False)
    assert found is not None and found.condition_space is None
    guarded = plain + "    Condition: C\n"
    found = cloudformation.parse_template(path, guarded, ParseOptions(), is_json=False)
    assert found is not None and found.condition_space is not None and found.keys == []
    escaped = '{"Conditions": {"C": {"Fn::Equals": ["a", "a"]}}, "Resources": {"Key": {"Type": "AWS::KMS::Key",'
    escaped += ' "Properties": {"EnableKeyRotation": {"Fn::\\u0049f": ["C", true, false]}}}}}'
    found = cloudformation.parse_template(path, escaped, ParseOptions(), is_json=True)
    assert found is not None and found.condition_space is not None
    assert found.keys[0].rotation == Known(True)


# --------------------------------------------------------------------------- branches


def _conditional(space: Space, condition: str, then: str | bool, otherwise: str | bool) -> Conditional:
    loc = Location(FILE, 1, 1, 1, 2)
    return Conditional(condition, Known(then, loc), Known(otherwise, loc), loc, space)


def test_branches_skip_what_the_space_rules_out_in_product_order() -> None:
    s = space_of("""\
        Parameters:
          Stage: {Type: String}
        Conditions:
          IsProd: !Equals [!Ref Stage, prod]
          IsDev: !Equals [!Ref Stage, dev]
        """)
    value = Known([_conditional(s, "IsDev", "d", "-"), _conditional(s, "IsProd", "p", "-")])
    got = [b for b, _ in branches(value)]
    assert got == [
        (("IsDev", True), ("IsProd", False)),
        (("IsDev", False), ("IsProd", True)),
        (("IsDev", False), ("IsProd", False)),
    ]


def test_branches_without_a_space_are_every_combination() -> None:
    loc = Location(FILE, 1, 1, 1, 2)
    value = Known([Conditional("A", Known(1, loc), None, loc), Conditional("B", Known(2, loc), None, loc)])
    assert [b for b, _ in branches(value)] == [
        (("A", True), ("B", True)),
        (("A", True), ("B", False)),
        (("A", False), ("B", True)),
        (("A", False), ("B", False)),
    ]


def test_branches_pin_the_parameters_a_combination_forces() -> None:
    s = space_of("""\
        Parameters:
          KeySpec: {Type: String}
        Conditions:
          HasSymmetricKey: !Equals [!Ref KeySpec, SYMMETRIC_DEFAULT]
        """)
    loc = Location(FILE, 1, 1, 1, 2)
    spec = Unknown("parameter KeySpec has no default", loc, ref="KeySpec")
    arn = Interpolated(("arn:", Unknown("p", loc, ref="KeySpec")), loc)
    value = Known({"spec": spec, "arn": arn, "rotation": _conditional(s, "HasSymmetricKey", False, True)})
    (on, when_on), (_, when_off) = list(branches(value))
    assert on == (("HasSymmetricKey", True),)
    assert isinstance(when_on, Known) and isinstance(when_on.value, dict)
    assert when_on.value["spec"] == Known("SYMMETRIC_DEFAULT")
    assert when_on.value["arn"] == Known("arn:SYMMETRIC_DEFAULT")
    assert isinstance(when_off, Known) and isinstance(when_off.value, dict)
    assert when_off.value["spec"] == spec  # not equal to it: still unknown


# --------------------------------------------------------------------------- bounds


def test_reading_conditions_spends_the_budget() -> None:
    text = "Conditions:\n" + "".join(f"  C{i}: !Equals [!Ref AWS::Region, r{i}]\n" for i in range(400))
    with pytest.raises(BudgetExceeded):
        space_of(text, Budget(steps=200))


def _xor(a: str, b: str) -> str:
    return f"!Or [!And [{a}, !Not [{b}]], !And [!Not [{a}], {b}]]"


def test_a_question_too_hard_to_answer_is_answered_possible() -> None:
    """The parity of twenty unknowns, computed in two orders, asked to differ: impossible,
    but nothing is decided before every unknown has a value (2**20 of them).  Past
    MAX_STEPS_PER_QUESTION the answer is "possible", as if the conditions were free."""
    n = 20
    params = "".join(f"  P{i}: {{Type: String}}\n" for i in range(n))
    conditions = "".join(f"  E{i}: !Equals [!Ref P{i}, x]\n" for i in range(n))
    conditions += "  F0: !Condition E0\n  G0: !Condition E19\n"
    for i in range(1, n):
        conditions += f"  F{i}: {_xor(f'!Condition F{i - 1}', f'!Condition E{i}')}\n"
        conditions += f"  G{i}: {_xor(f'!Condition G{i - 1}', f'!Condition E{n - 1 - i}')}\n"
    s = space_of(f"Parameters:\n{params}Conditions:\n{conditions}")
    started = time.perf_counter()
    assert possible(s, F19=True, G19=False)
    assert time.perf_counter() - started < 5
    assert cfn_conditions.MAX_STEPS_PER_QUESTION <= s._circuit.steps <= cfn_conditions.MAX_STEPS
    # With fewer unknowns left open, the same question is answered exactly.
    pinned = {f"E{i}": True for i in range(n - 3)}
    assert not possible(s, F19=True, G19=False, **pinned)


def test_the_module_states_its_bounds() -> None:
    assert cfn_conditions.MAX_STEPS_PER_QUESTION <= cfn_conditions.MAX_STEPS


# --------------------------------------------------------------------------- messages


def messages(*case: str) -> dict[tuple[str, str | None], str]:
    report = api.lint([str(FIXTURES.joinpath(*case))], Settings(select=frozenset({"ALL"})))
    return {(f.rule_id, f.resource_name): f.message for f in report.findings}


def test_messages_name_the_branch_where_the_key_is_symmetric() -> None:
    found = messages("KMS002", "fail_cfn_condition_free_parameter")
    assert found[("KMS002", "InvertedKey")].endswith("(when condition HasSymmetricKey is true)")
    assert found[("KMS002", "DefaultSpecKey")].endswith("(when condition HasSymmetricKey is false)")
    assert ("KMS002", "RightKey") not in found


def test_messages_name_every_condition_of_a_possible_combination() -> None:
    found = messages("KMS002", "fail_cfn_condition_chains")
    assert found[("KMS002", "RegionKey")].endswith(
        "(when condition IsProd is true and condition ProdInUsEast1 is false)"
    )
    found = messages("KMS001", "fail_cfn_service_conditions_all_false")
    assert found[("KMS001", "ServiceKey")].endswith(
        "(when condition IsS3 is false and condition IsSns is false and condition IsSqs is false)"
    )
    assert messages("KMS002", "fail_cfn_condition_cycle")[("KMS002", "CycleKey")].endswith(
        "(when condition A is false)"
    )


def test_a_decided_condition_is_not_named() -> None:
    assert "condition" not in messages("KMS002", "fail_cfn_condition_equals_compares_text")[("KMS002", "CaseKey")]
    found = messages("KMS002", "fail_cfn_foreach_conditions")
    assert "condition" not in found[("KMS002", "KeyB")]
    assert "condition" not in found[("KMS002", "OptionalC")]
    assert "condition" not in messages("KMS010", "fail_cfn_alias_not_created")[("KMS010", "ImportedKey")]


def test_findings_about_a_conditional_resource_name_its_condition() -> None:
    found = messages("projects", "cfn_resource_conditions")
    for rule, resource, condition in [
        ("KMS001", "ProdKey", "IsProd"),
        ("KMS002", "ProdKey", "IsProd"),
        ("KMS012", "ProdPolicy", "IsProd"),
        ("KMS012", "DevFunction", "IsDev"),
        ("KMS001", "ProdImportedKey", "IsProd"),
    ]:
        assert found[(rule, resource)].endswith(f"({resource} exists only when condition {condition} is true)")
    assert "IsDev" not in found[("KMS002", "ProdKey")]  # decided false inside ProdKey
    assert found[("KMS010", "ImportedKey")].endswith("(when condition IsProd is false)")
    assert "exists only" not in found[("KMS001", "ImportedKey")]
    assert not [r for r in found.values() if "CreateKeys" in r]
