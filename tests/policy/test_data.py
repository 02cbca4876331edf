"""Detection of data that must not leave: cards, credentials, patterns, fields."""

from __future__ import annotations

from typing import Any

import pytest

from harness.policy.data import Leak, SensitiveValues, find_leaks, luhn_valid, mask
from harness.policy.model import DataRule
from harness.run import prepare_run
from harness.world.world import World
from tests.conftest import small_scenario

CARDS = DataRule(name="no-cards", detect="card_number")
CREDENTIALS = DataRule(name="no-credentials", detect="credential")
SSN = DataRule(name="no-ssn", pattern=r"\b\d{3}-\d{2}-\d{4}\b")
EMAILS = DataRule(name="no-customer-emails", fields=("payments.customers.email",))


def leaks_in(rule: DataRule, body: str, world: World | None = None) -> list[Leak]:
    return find_leaks([rule], {"body": body}, world)


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=0)


# -- card numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "Please charge card 4242 4242 4242 4242, exp 12/26, thanks.",
        "card 4242424242424242 cvc 123",
        "4242 4242 4242 4242 123",
    ],
)
def test_card_numbers_passing_luhn_are_leaks(body: str) -> None:
    assert leaks_in(CARDS, body) == [
        Leak(
            rule="no-cards",
            kind="card_number",
            excerpt="************4242",
            where="body",
        )
    ]


@pytest.mark.parametrize(
    "body",
    [
        "4242424242424241",  # fails Luhn
        "Order 12345678901234",  # fails Luhn
        "0000000000000000",  # passes Luhn, but all one digit
        "142424242424242421",  # the card inside a longer run of digits
        "ch_4242424242424242",  # part of an identifier
        "4242 4242",  # too short
    ],
)
def test_digit_runs_that_are_not_cards_are_not_leaks(body: str) -> None:
    assert leaks_in(CARDS, body) == []


def test_luhn_check_accepts_the_stripe_test_card_only() -> None:
    assert luhn_valid("4242424242424242")
    assert not luhn_valid("4242424242424241")


def test_a_card_in_nested_params_names_its_path() -> None:
    params = {
        "to": "ops@acme.example",
        "messages": [
            {"body": "nothing here"},
            {"body": "card 4242-4242-4242-4242"},
        ],
    }
    leaks = find_leaks([CARDS], params, None)
    assert [leak.where for leak in leaks] == ["messages[1].body"]


def test_leaks_come_by_path_then_rule_then_position() -> None:
    params = {
        "b": "4242424242424242 and 123-45-6789",
        "a": ["x", "123-45-6789 then 4242 4242 4242 4242"] * 6,
    }
    leaks = find_leaks([CARDS, SSN], params, None)
    order = [(leak.where, leak.rule) for leak in leaks]
    assert order[:4] == [
        ("a[1]", "no-cards"),
        ("a[1]", "no-ssn"),
        ("a[3]", "no-cards"),
        ("a[3]", "no-ssn"),
    ]
    assert order[-4:] == [
        ("a[11]", "no-cards"),
        ("a[11]", "no-ssn"),
        ("b", "no-cards"),
        ("b", "no-ssn"),
    ]


# -- masking ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret", ["4242424242424242", "hunter2!", "abcd", "x" * 5 + "y" * 200]
)
def test_masking_never_shows_more_than_the_last_four_characters(secret: str) -> None:
    masked = mask(secret)
    visible = masked.replace("*", "").replace("…", "")
    assert len(visible) <= 4
    assert secret.endswith(visible)
    assert secret not in masked


def test_a_leaked_key_is_reported_without_its_secret_part() -> None:
    key = "sk_live_" + "Ab3dEf6hIj9kLm2nOp5q"
    (leak,) = leaks_in(CREDENTIALS, f"use {key} for the api")
    assert leak.excerpt.endswith("Op5q")
    assert "Ab3d" not in leak.excerpt
    assert key not in leak.excerpt


# -- credentials ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "key: sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "sk_test_51HqLyjWDarjtT1zdp7dcXYZ",
        "rk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "aws AKIAIOSFODNN7EXAMPLE",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKl",
        "Authorization: Bearer 9f8e7d6c5b4a39281706abcdef",
        "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "password: hunter2",
        "PWD=letmein",
        "the secret is Tr0ub4dor&3",
        '{"passwd": "correcthorse"}',
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow...",
        "-----BEGIN PRIVATE KEY-----",
    ],
)
def test_each_credential_form_is_a_leak(body: str) -> None:
    leaks = leaks_in(CREDENTIALS, body)
    assert [(leak.rule, leak.kind) for leak in leaks] == [
        ("no-credentials", "credential")
    ]


@pytest.mark.parametrize(
    "body",
    [
        "Please reset your password via the link we sent.",
        "Password: reset required",
        "Your password is expired.",
        "password: ********",
        "pk_live_4eC39HqLyjWDarjtT1zdp7dc",  # publishable, not secret
        "Bearer token missing",
    ],
)
def test_prose_about_credentials_is_not_a_leak(body: str) -> None:
    assert leaks_in(CREDENTIALS, body) == []


def test_a_key_inside_a_bearer_header_is_one_leak() -> None:
    body = "Authorization: Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    assert len(leaks_in(CREDENTIALS, body)) == 1


# -- patterns -----------------------------------------------------------------------


def test_a_custom_pattern_rule_finds_each_match() -> None:
    leaks = leaks_in(SSN, "SSNs 123-45-6789 and 987-65-4321; not 1234-56-7890")
    assert [(leak.kind, leak.excerpt) for leak in leaks] == [
        ("pattern", "*******6789"),
        ("pattern", "*******4321"),
    ]


# -- record fields ------------------------------------------------------------------


def customer_email(world: World) -> str:
    customers = world.services["payments"].state["customers"].values()
    return str(next(iter(customers))["email"])


def test_a_customer_email_is_a_field_leak(world: World) -> None:
    email = customer_email(world)
    leaks = leaks_in(EMAILS, f"Customer {email.upper()} asked for a refund.", world)
    assert [(leak.kind, leak.where) for leak in leaks] == [("field", "body")]
    assert email not in leaks[0].excerpt


def test_an_email_not_in_the_world_is_not_a_field_leak(world: World) -> None:
    assert leaks_in(EMAILS, "Write to nobody-here@example.invalid", world) == []


def test_a_field_value_inside_a_longer_token_is_not_a_leak(world: World) -> None:
    email = customer_email(world)
    longer = [f"jo{email}", f"x.{email}", f"{email}.au", f"{email}x"]
    assert leaks_in(EMAILS, " ".join(longer), world) == []


def test_field_rules_need_a_world() -> None:
    assert leaks_in(EMAILS, "lindaharrell@yahoo.com", None) == []


def test_sensitive_values_skip_short_values_and_cache_per_field(
    world: World,
) -> None:
    values = SensitiveValues(world)
    emails = values.values(["payments.customers.email"])
    assert customer_email(world) in emails
    assert all(len(v) >= 4 for v in values.values(["iam.users.status"]))
    assert values.values(["payments.customers.email"]) is emails
    assert values.values(["payments.nowhere.email"]) == frozenset()


# -- secrets the run issued -----------------------------------------------------------


def test_a_reset_link_token_the_run_issued_is_a_credential_leak() -> None:
    setup = prepare_run(small_scenario(), seed=0)
    users = setup.world.services["iam"].state["users"].values()
    active = next(user for user in users if user["status"] == "active")
    values = SensitiveValues(setup.world)
    assert values.issued_secrets() == frozenset()

    reset: dict[str, Any] = setup.tools.call("reset_credentials", user=active["id"])
    token = reset["reset_link"].rsplit("/", 1)[-1]
    assert values.issued_secrets() == {token}
    params = {"channel": "#it", "text": f"here is your code: {token}"}
    leaks = find_leaks([CREDENTIALS], params, setup.world, values=values)
    assert [(leak.kind, leak.where) for leak in leaks] == [("credential", "text")]
    assert token not in leaks[0].excerpt
    assert leaks[0].excerpt.endswith(token[-4:])
