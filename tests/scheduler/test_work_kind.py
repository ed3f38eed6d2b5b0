"""A work item carries its action's kind (ick/scheduler/work.py), when the controller says it."""

from __future__ import annotations

from ick.scheduler.work import WorkItem


def item(kind: str = "") -> WorkItem:
    return WorkItem(3, "p", 1, 0, 1, {"shell": "true", "where": "host"}, {}, kind=kind)


def test_the_kind_goes_over_the_wire_and_back() -> None:
    doc = item("shell").to_json()
    assert doc["kind"] == "shell"
    assert WorkItem.from_json(doc) == item("shell")


def test_an_item_without_a_kind_reads_as_before() -> None:
    doc = item().to_json()
    assert "kind" not in doc
    assert WorkItem.from_json(doc).kind == ""
