"""Accuracy of entity resolution against the generator's ground truth (``<landing>/_truth/``).

``er_report(database, truth_dir)`` reads ``identity.int_identity__person_map`` and
``identity.int_identity__payment_order_matches`` from a built DuckDB file and compares them with
``identifiers.csv`` and ``payments.csv`` of the truth:

- person clusters: pairwise precision, recall and F1 over the identifiers present in both the map
  and the truth. Pairs are counted from the contingency table (predicted person × true person):
  true positives are ``sum C(n_ij, 2)``, predicted pairs ``sum C(a_i, 2)``, true pairs
  ``sum C(b_j, 2)``, so the cost is linear in the number of identifiers. The truth holds canonical
  emails; the map holds their keyed pseudonyms (HMAC-SHA-256 hex under the project's secret,
  shoplog.keys), so truth emails are pseudonymised with the same key.
- shared devices: an anonymous id used by two persons (``shared_anonymous_ids.csv``) truly
  belongs to both, and a person map gives it one person. It is scored as belonging to the owner
  the map put it with (the owner whose other identifiers share its person key), else to its
  first owner; ``shared_anonymous_ids`` reports how many there are, how many the shared-device
  guard blocked from merging, and how many were mapped to one of their owners.
- the same scores against the *resolvable* truth: each true person split into the groups of its
  identifiers that the log connects at all (links of ``identity.int_identity__links`` between
  identifiers of that same person, before any guard). A person browsing on two devices who never
  logs in or orders on one of them leaves no trace that joins them; no resolver can recover that
  pair. The generator does not make such persons, so ``recall_ceiling`` is 1 on its logs; on
  other truth (a log where devices go unidentified) it shows the cap.
- payment → order matches: precision (correct / matched, over payments in the truth) and recall
  (correct / payments in the truth), overall and by match method.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from shoplog.keys import project_key, pseudonym

__all__ = ["er_report", "pairwise_scores"]

#: Truth identifier types → identifier types of the person map.
TRUTH_TYPES = {
    "anonymous_id": "anonymous_id",
    "user_id": "user_id",
    "email": "email_hash",
    "payment_customer_id": "payment_customer_id",
}


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def pairwise_scores(assignments: Sequence[tuple[Hashable, Hashable]]) -> dict[str, float | int]:
    """Pairwise precision/recall/F1 of ``(predicted_cluster, true_cluster)`` per item."""
    cells = Counter(assignments)
    predicted = Counter(p for p, _ in assignments)
    actual = Counter(t for _, t in assignments)
    true_positive = sum(_pairs(n) for n in cells.values())
    predicted_pairs = sum(_pairs(n) for n in predicted.values())
    true_pairs = sum(_pairs(n) for n in actual.values())
    precision = _ratio(true_positive, predicted_pairs)
    recall = _ratio(true_positive, true_pairs)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "items": len(assignments),
        "true_positive_pairs": true_positive,
        "predicted_pairs": predicted_pairs,
        "true_pairs": true_pairs,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def _find(parent: dict[tuple[str, str], tuple[str, str]], item: tuple[str, str]) -> tuple[str, str]:
    root = item
    while parent.setdefault(root, root) != root:
        root = parent[root]
    while parent[item] != root:
        parent[item], item = root, parent[item]
    return root


def _resolvable_clusters(
    truth_person: dict[tuple[str, str], str], links: list[tuple[str, str, str, str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """Truth persons split into the groups of identifiers the log's links connect."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}
    for type_a, value_a, type_b, value_b in links:
        a, b = (type_a, value_a), (type_b, value_b)
        person = truth_person.get(a)
        if person is not None and person == truth_person.get(b):
            root_a, root_b = _find(parent, a), _find(parent, b)
            if root_a != root_b:
                parent[max(root_a, root_b)] = min(root_a, root_b)
    return {key: _find(parent, key) for key in truth_person}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _truth_key(identifier_type: str, value: str, key: bytes) -> tuple[str, str]:
    mapped = TRUTH_TYPES[identifier_type]
    if mapped == "email_hash":
        value = pseudonym(value, key)
    return mapped, value


def er_report(database: Path, truth_dir: Path, key: bytes | None = None) -> dict[str, Any]:
    """Score the identity layer of ``database`` against the truth CSVs in ``truth_dir``; truth
    emails are pseudonymised with ``key`` (default: the key of the project this process runs
    in)."""
    key = key if key is not None else project_key()
    truth_person = {
        _truth_key(row["identifier_type"], row["identifier_value"], key): row["person_id"]
        for row in _read_csv(truth_dir / "identifiers.csv")
    }
    shared_owners: dict[tuple[str, str], set[str]] = {}
    shared_path = truth_dir / "shared_anonymous_ids.csv"
    if shared_path.exists():
        for row in _read_csv(shared_path):
            shared = ("anonymous_id", row["anonymous_id"])
            shared_owners.setdefault(shared, set()).update(
                (row["person_id"], row["other_person_id"])
            )
    truth_payments = {
        row["payment_id"]: row["order_id"] for row in _read_csv(truth_dir / "payments.csv")
    }
    with duckdb.connect(str(database), read_only=True) as con:
        # qualify with the catalog: a database file named like a schema would be ambiguous
        schema = '"{}".identity'.format(con.execute("select current_database()").fetchall()[0][0])
        person_map = con.execute(
            "select identifier_type, identifier_value, person_key "
            f"from {schema}.int_identity__person_map"
        ).fetchall()
        links = con.execute(
            "select distinct identifier_type_a, identifier_value_a, identifier_type_b, "
            f"identifier_value_b from {schema}.int_identity__links"
        ).fetchall()
        blocked = {
            (identifier_type, value)
            for identifier_type, value in con.execute(
                "select identifier_type, identifier_value "
                f"from {schema}.int_identity__identifiers where is_merge_blocked"
            ).fetchall()
        }
        matches = con.execute(
            "select payment_id, order_id, match_method "
            f"from {schema}.int_identity__payment_order_matches where payment_id is not null"
        ).fetchall()

    predicted: dict[tuple[str, str], str] = {(t, v): person for t, v, person in person_map}
    clusters_of: dict[str, set[str]] = {}
    for identifier, person_id in truth_person.items():
        if identifier not in shared_owners and identifier in predicted:
            clusters_of.setdefault(person_id, set()).add(predicted[identifier])
    mapped_to_owner = 0
    for identifier, owners in shared_owners.items():
        agreeing = sorted(
            o for o in owners if predicted.get(identifier) in clusters_of.get(o, set())
        )
        if agreeing:
            truth_person[identifier] = agreeing[0]
            mapped_to_owner += 1
    resolvable = _resolvable_clusters(truth_person, links)
    assignments: list[tuple[str, str]] = []
    resolvable_assignments: list[tuple[str, tuple[str, str]]] = []
    by_type: Counter[str] = Counter()
    for identifier_type, value, person_key in person_map:
        truth_id = truth_person.get((identifier_type, value))
        if truth_id is not None:
            assignments.append((person_key, truth_id))
            resolvable_assignments.append((person_key, resolvable[(identifier_type, value)]))
            by_type[identifier_type] += 1
    clusters: dict[str, Any] = dict(pairwise_scores(assignments))
    ceiling = pairwise_scores([(resolvable[i], person) for i, person in truth_person.items()])
    clusters["recall_ceiling"] = ceiling["recall"]
    clusters["identifiers_in_map"] = len(person_map)
    clusters["identifiers_in_truth"] = len(truth_person)
    clusters["matched_by_type"] = dict(sorted(by_type.items()))

    scored = [(p, o, m) for p, o, m in matches if p in truth_payments]
    matched = [(p, o, m) for p, o, m in scored if o is not None]
    correct = [(p, o, m) for p, o, m in matched if truth_payments[p] == o]
    by_method: dict[str, dict[str, int]] = {}
    for _p, _o, m in scored:
        entry = by_method.setdefault(m, {"payments": 0, "correct": 0})
        entry["payments"] += 1
    for _p, _o, m in correct:
        by_method[m]["correct"] += 1
    payments = {
        "truth_payments": len(truth_payments),
        "payments_in_model": len(matches),
        "matched": len(matched),
        "correct": len(correct),
        "precision": _ratio(len(correct), len(matched)),
        "recall": _ratio(len(correct), len(truth_payments)),
        "by_method": dict(sorted(by_method.items())),
    }
    return {
        "person_clusters": clusters,
        "resolvable_person_clusters": pairwise_scores(resolvable_assignments),
        "shared_anonymous_ids": {
            "count": len(shared_owners),
            "merge_blocked": len(blocked & shared_owners.keys()),
            "mapped_to_an_owner": mapped_to_owner,
        },
        "payment_matches": payments,
    }
