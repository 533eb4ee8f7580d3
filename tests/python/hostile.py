"""Hostile and odd lines for the log: what a producer can write, and what staging must make of it.

``conforming_event`` builds a random event of every type of the standard (odd but conforming:
orders of unknown products, refunds of unknown orders, an order id used twice, long and
non-ASCII text). ``MUTATIONS`` turn a conforming event into a line the standard forbids, each
with the quarantine reason staging must give it. Used by the named probes and the fuzz test.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

TYPES = [
    ("web", "page_view", 1),
    ("web", "product_view", 1),
    ("web", "add_to_cart", 1),
    ("web", "add_to_cart", 2),
    ("web", "checkout_started", 1),
    ("web", "signup", 1),
    ("web", "login", 1),
    ("web", "identify", 1),
    ("shop", "order_created", 1),
    ("shop", "order_status_changed", 1),
    ("shop", "order_refunded", 1),
    ("payments", "payment_authorized", 1),
    ("payments", "payment_captured", 1),
    ("payments", "payment_failed", 1),
    ("payments", "payment_refunded", 1),
    ("catalog", "product_created", 1),
    ("catalog", "product_price_changed", 1),
]

ODD_TEXT = ["", "ünïcødé ✓", "x" * 2000, "line\nbreak", 'quote " and \\ backslash', "ｆｕｌｌ"]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _money(rng: random.Random) -> float:
    return rng.choice([0, 0.01, 9.99, 12.5, 999_999_999_999.99, round(rng.uniform(0, 500), 2)])


def conforming_event(rng: random.Random, n: int, at: datetime, kind: int | None = None) -> dict:
    """A random event that conforms to the standard (some of it odd), received at ``at``."""
    source, event_type, version = TYPES[rng.randrange(len(TYPES)) if kind is None else kind]
    # Identifiers belong to one of 150 persons (two devices each), so the identity graph has the
    # shape of a shop's, not one random giant component; order ids are reused within a person.
    person = rng.randint(1, 150)
    pid = f"p_{rng.randint(1, 40)}" if rng.random() < 0.9 else f"p_unknown_{n}"
    order_id = f"o_{person}_{rng.randint(1, 3)}"
    event = {
        "event_id": f"fz-{n:07d}",
        "event_type": event_type,
        "schema_version": version,
        "source": source,
        "event_time": iso(at - timedelta(seconds=rng.randint(0, 600))),
        "received_at": iso(at),
    }
    props: dict = {}
    if source == "web":
        event["anonymous_id"] = f"a_{person}_{rng.randint(1, 2)}"
        event["context"] = {
            "page_url": f"https://shop.example/{rng.choice(ODD_TEXT)[:50]}",
            "path": "/",
            "referrer": rng.choice([None, "https://search.example/?q=x"]),
            "host": "shop.example",
            "user_agent": rng.choice(ODD_TEXT),
            "ip": f"10.0.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
            "campaign": rng.choice([None, "spring"]),
        }
        if event_type == "page_view":
            props = {"page_type": rng.choice(["home", "category", "weird-type"]), "title": "t"}
        elif event_type == "product_view":
            props = {"product_id": pid, "price": _money(rng), "currency": "EUR"}
        elif event_type == "add_to_cart" and version == 1:
            props = {
                "product_id": pid,
                "quantity": rng.randint(1, 5),
                "price": 9.99,
                "currency": "EUR",
            }
        elif event_type == "add_to_cart":
            props = {
                "item_id": pid,
                "qty": rng.randint(1, 5),
                "unit_price": 9.99,
                "currency": "USD",
            }
        elif event_type == "checkout_started":
            props = {"cart_value": _money(rng), "item_count": rng.randint(0, 9), "currency": "EUR"}
        elif event_type in ("signup", "login"):
            event["user_id"] = f"u_{person}"
            if event_type == "signup":
                event["email"] = f" User{person}@Example.com "
        else:  # identify
            event["email"] = f"user{person}@example.com"
            if rng.random() < 0.5:
                event["user_id"] = f"u_{person}"
    elif source == "shop":
        event["order_id"] = order_id
        if event_type == "order_created":
            event["user_id"] = rng.choice([None, f"u_{person}"])
            event["email"] = f"user{person}@example.com"
            lines = [
                {"product_id": pid, "quantity": rng.randint(1, 3), "unit_price": _money(rng)}
                for _ in range(rng.randint(0, 3))
            ]
            if rng.random() < 0.02:  # the largest line the standard allows: 10^18 in all
                lines.append({"product_id": pid, "quantity": 1_000_000, "unit_price": 1e12})
            props = {"currency": "EUR", "total_amount": _money(rng), "lines": lines}
        elif event_type == "order_status_changed":
            props = {
                "status": rng.choice(["paid", "shipped", "delivered", "cancelled"]),
                "previous_status": rng.choice([None, "paid", "nonsense"]),
            }
        else:
            props = {"amount": _money(rng), "currency": "EUR", "reason": rng.choice(ODD_TEXT)}
    elif source == "payments":
        event["payment_customer_id"] = f"pc_{person}"
        if rng.random() < 0.8:
            event["order_id"] = order_id
        props = {
            "payment_id": f"pay_{person}_{rng.randint(1, 3)}",
            "amount": _money(rng),
            "currency": "EUR",
        }
        if event_type == "payment_refunded":
            props["refund_id"] = f"re_{n}"
        else:
            props["method"] = rng.choice(["card", "paypal", "barter"])
        if event_type == "payment_failed":
            props["failure_reason"] = "declined"
    else:
        if event_type == "product_created":
            props = {
                "product_id": pid,
                "name": rng.choice(ODD_TEXT),
                "category": "c",
                "price": _money(rng),
                "currency": "EUR",
            }
        else:
            props = {
                "product_id": pid,
                "old_price": 1.0,
                "new_price": _money(rng),
                "currency": "EUR",
            }
    event["properties"] = props
    return event


def dumps(event: dict) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Mutation:
    """A change that makes a conforming event a line the standard forbids."""

    name: str
    applies: Callable[[dict], bool]
    apply: Callable[[dict, datetime], bytes]
    reason: str
    #: The landing source to write the line under (None: the event's own source).
    landing_source: str | None = None


def _set(path: str, value) -> Callable[[dict, datetime], bytes]:
    def apply(event: dict, loaded_at: datetime) -> bytes:
        target = event
        *parents, key = path.split(".")
        for parent in parents:
            target = target[parent]
        target[key] = value
        return dumps(event)

    return apply


def _drop(path: str) -> Callable[[dict, datetime], bytes]:
    def apply(event: dict, loaded_at: datetime) -> bytes:
        target = event
        *parents, key = path.split(".")
        for parent in parents:
            target = target[parent]
        del target[key]
        return dumps(event)

    return apply


def _text(transform: Callable[[str], str]) -> Callable[[dict, datetime], bytes]:
    return lambda event, loaded_at: transform(json.dumps(event)).encode("utf-8")


def _received(offset: timedelta) -> Callable[[dict, datetime], bytes]:
    def apply(event: dict, loaded_at: datetime) -> bytes:
        event["received_at"] = iso(loaded_at + offset)
        return dumps(event)

    return apply


def _event_time(value: str | Callable[[datetime], str]) -> Callable[[dict, datetime], bytes]:
    def apply(event: dict, loaded_at: datetime) -> bytes:
        event["event_time"] = value(loaded_at) if callable(value) else value
        return dumps(event)

    return apply


def _invalid_utf8(event: dict, loaded_at: datetime) -> bytes:
    event["properties"]["note"] = "PLACEHOLDER"
    return dumps(event).replace(b"PLACEHOLDER", b"caf\xe9 \xff")


def _is(event_type: str) -> Callable[[dict], bool]:
    return lambda event: event["event_type"] == event_type


def _has_prop(name: str) -> Callable[[dict], bool]:
    return lambda event: name in event["properties"]


def _any(event: dict) -> bool:
    return True


def _order_with_lines(event: dict) -> bool:
    return event["event_type"] == "order_created" and len(event["properties"]["lines"]) > 0


def _first_line(key: str, value) -> Callable[[dict, datetime], bytes]:
    def apply(event: dict, loaded_at: datetime) -> bytes:
        if value is _DROP:
            del event["properties"]["lines"][0][key]
        else:
            event["properties"]["lines"][0][key] = value
        return dumps(event)

    return apply


_DROP = object()
_MISMATCH = {"web": "shop", "shop": "payments", "payments": "catalog", "catalog": "web"}

MUTATIONS: list[Mutation] = [
    Mutation("invalid_utf8", _any, _invalid_utf8, "invalid_utf8"),
    Mutation("trailing_comma", _any, _text(lambda t: t[:-1] + ",}"), "invalid_json"),
    Mutation("nan", _any, _text(lambda t: t[:-1] + ', "x": NaN}'), "invalid_json"),
    Mutation("infinity", _any, _text(lambda t: t[:-1] + ', "x": -Infinity}'), "invalid_json"),
    Mutation("truncated", _any, _text(lambda t: t[: len(t) // 2]), "invalid_json"),
    Mutation("not_json", _any, _text(lambda t: "# " + t), "invalid_json"),
    Mutation("array_document", _any, _text(lambda t: "[" + t + "]"), "missing_envelope_field"),
    Mutation("no_event_id", _any, _drop("event_id"), "missing_envelope_field"),
    Mutation("no_properties", _any, _drop("properties"), "missing_envelope_field"),
    Mutation("null_properties", _any, _set("properties", None), "missing_envelope_field"),
    Mutation("list_properties", _any, _set("properties", []), "wrong_type"),
    Mutation("schema_version_true", _any, _set("schema_version", True), "wrong_type"),
    Mutation("schema_version_2_64", _any, _set("schema_version", 2**64 - 1), "wrong_type"),
    Mutation("schema_version_1e23", _any, _set("schema_version", 1e23), "wrong_type"),
    Mutation("event_time_infinity", _any, _event_time("infinity"), "wrong_type"),
    Mutation("event_time_epoch", _any, _event_time("epoch"), "wrong_type"),
    Mutation("event_time_bc", _any, _event_time("0044-03-15T12:00:00 BC"), "wrong_type"),
    Mutation(
        "event_time_zone", _any, _event_time("2026-01-02T10:00:00 Europe/Paris"), "wrong_type"
    ),
    Mutation("event_time_date", _any, _event_time("2026-01-02"), "wrong_type"),
    Mutation("event_id_number", _any, _set("event_id", 12345), "wrong_type"),
    Mutation("event_id_empty", _any, _set("event_id", ""), "wrong_type"),
    Mutation("user_id_number", _any, _set("user_id", 7), "wrong_type"),
    Mutation("context_string", _any, _set("context", "https://x"), "wrong_type"),
    Mutation(
        "source_claimed",
        _any,
        lambda event, at: dumps(event),
        "source_mismatch",
        landing_source="privacy",
    ),
    Mutation("unknown_type", _any, _set("event_type", "teleported"), "unknown_event_type"),
    Mutation("unknown_version", _any, _set("schema_version", 9), "unknown_schema_version"),
    Mutation(
        "received_year_9999", _any, _set("received_at", "9999-12-31T00:00:00.000Z"), "clock_ahead"
    ),
    Mutation("received_days_ahead", _any, _received(timedelta(days=3)), "clock_ahead"),
    Mutation("event_time_9999", _any, _event_time("9999-12-31T23:59:59Z"), "value_out_of_range"),
    Mutation("event_time_1960", _any, _event_time("1960-01-01T00:00:00Z"), "value_out_of_range"),
    Mutation(
        "order_without_id", _is("order_created"), _drop("order_id"), "missing_required_property"
    ),
    Mutation(
        "payment_without_id",
        _is("payment_captured"),
        _drop("properties.payment_id"),
        "missing_required_property",
    ),
    Mutation(
        "product_without_id",
        _is("product_created"),
        _drop("properties.product_id"),
        "missing_required_property",
    ),
    Mutation("signup_without_email", _is("signup"), _drop("email"), "missing_required_property"),
    Mutation(
        "amount_abc",
        _has_prop("total_amount"),
        _set("properties.total_amount", "abc"),
        "wrong_property_type",
    ),
    Mutation(
        "amount_true",
        _has_prop("total_amount"),
        _set("properties.total_amount", True),
        "wrong_property_type",
    ),
    Mutation(
        "amount_1e16",
        _has_prop("total_amount"),
        _set("properties.total_amount", 1e16),
        "value_out_of_range",
    ),
    Mutation(
        "amount_3_decimals",
        _has_prop("amount"),
        _set("properties.amount", 19.999),
        "value_out_of_range",
    ),
    Mutation(
        "amount_negative", _has_prop("amount"), _set("properties.amount", -5), "value_out_of_range"
    ),
    Mutation(
        "lines_not_a_list",
        _is("order_created"),
        _set("properties.lines", "not a list"),
        "wrong_property_type",
    ),
    Mutation(
        "line_negative_quantity",
        _order_with_lines,
        _first_line("quantity", -1),
        "value_out_of_range",
    ),
    Mutation(
        "line_without_product",
        _order_with_lines,
        _first_line("product_id", _DROP),
        "missing_required_property",
    ),
    Mutation(
        "line_price_text",
        _order_with_lines,
        _first_line("unit_price", "9.99"),
        "wrong_property_type",
    ),
    Mutation(
        "quantity_fraction",
        _has_prop("quantity"),
        _set("properties.quantity", 2.5),
        "wrong_property_type",
    ),
    Mutation("quantity_zero", _has_prop("qty"), _set("properties.qty", 0), "value_out_of_range"),
    Mutation(
        "status_unknown",
        _is("order_status_changed"),
        _set("properties.status", "exploded"),
        "value_out_of_range",
    ),
    Mutation(
        "currency_lowercase",
        _has_prop("currency"),
        _set("properties.currency", "eur"),
        "value_out_of_range",
    ),
]
