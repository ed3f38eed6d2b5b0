"""What the action type records say beyond their keys (ick/runners/catalog.py): which type a
document is, the artifacts a type reads and writes, and what it needs of a worker."""

from __future__ import annotations

import pytest

from ick.model import ActionRecord, ActionTraits
from ick.runners.base import ActionType
from ick.runners.catalog import ACTION_TYPES, BY_KIND, traits_of, type_of
from ick.runners.registry import action_type
from ick.scheduler.routing import Needs, needs_of
from tests.runners.test_catalog import minimal


@pytest.mark.parametrize("record", ACTION_TYPES, ids=lambda t: t.kind)
def test_a_document_is_of_the_type_it_spells(record: ActionType) -> None:
    doc = minimal(record)
    assert type_of(doc) is record
    assert action_type(record.kind) is record
    # What the scheduler keeps of the type is the record's, decided from the document.
    assert traits_of(doc) == record.traits == ActionTraits(record.kind, record.local,
                                                           record.arch_key)
    assert ActionRecord("p", 0, record.kind, "host", doc).kind == record.kind


def test_the_kind_alone_finds_a_record_and_an_unknown_one_has_none() -> None:
    assert action_type("python") is BY_KIND["python"]
    assert type_of({"action": "deploy"}) is None
    assert action_type("deploy") is None
    # A type the records no longer have keeps the name its document gives.
    assert traits_of({"action": "deploy"}) == ActionTraits("deploy")
    assert traits_of({"deploy": "x"}) == ActionTraits("?")


def test_artifacts_read_and_written_come_from_the_records_settings() -> None:
    reads = {t.kind: t.reads for t in ACTION_TYPES if t.reads}
    writes = {t.kind: t.writes for t in ACTION_TYPES if t.writes}
    assert reads == {"populate_systree": ("systree_name",),
                     "populate_workspace": ("workspace_artifact",)}
    assert writes == {"archive": ("artifact_name",)}
    for record in ACTION_TYPES:
        assert set(record.reads) | set(record.writes) <= set(record.settings)
    archive = BY_KIND["archive"]
    assert archive.artifact_names(archive.writes, {"artifact_name": "a"}, {}) == ["a"]
    assert archive.artifact_names(archive.writes, {}, {"artifact_name": "b"}) == ["b"]
    assert archive.artifact_names(archive.writes, {"artifact_name": None},
                                  {"artifact_name": "b"}) == []


def test_what_a_type_needs_of_its_worker() -> None:
    assert [t.kind for t in ACTION_TYPES if t.local] == ["apt_publish"]
    assert {t.kind: t.arch_key for t in ACTION_TYPES if t.arch_key} == {
        "debootstrap": "debian_arch"}
    # Routing cannot import the records; it reads what their traits say.
    apt, debootstrap = BY_KIND["apt_publish"], BY_KIND["debootstrap"]
    assert needs_of([(apt.traits, {})]) == Needs(local=True, local_because="apt_publish")
    assert needs_of([(debootstrap.traits, {"debian_arch": "arm64"})]) == Needs(
        {"arch": "arm64"})
    for record in ACTION_TYPES:
        assert record.arch_key is None or record.arch_key in record.settings
