"""The seam's shared rules: what of a signed payload ick keeps (sane), constant-time header
comparison, deleted refs."""

from __future__ import annotations

from ick.forges.forge import Pushed, deleted, same, sane


def test_a_ref_or_commit_git_would_not_take_is_refused() -> None:
    good = Pushed("push", "refs/heads/feat/x", "0123abc", "fix\x1b[31m it", "Ann\nB")
    assert sane(good) == Pushed("push", "refs/heads/feat/x", "0123abc", "fix [31m it",
                                "Ann B")
    assert sane(Pushed("push", "refs/heads/a b", "0123abc")) == (
        "the webhook's ref 'refs/heads/a b' is not a ref name git takes")
    assert sane(Pushed("push", "refs/heads/../x", "0123abc")) == (
        "the webhook's ref 'refs/heads/../x' is not a ref name git takes")
    assert sane(Pushed("push", "refs/heads/x", "--upload-pack=evil")) == (
        "the webhook's commit '--upload-pack=evil' is not a hex sha")
    long = sane(Pushed("push", "refs/heads/x", "0123abc", "s" * 500))
    assert isinstance(long, Pushed) and long.subject == "s" * 200


def test_headers_compare_whole_and_an_all_zero_sha_is_a_deletion() -> None:
    assert same(" abc ", "abc") and not same("abd", "abc") and not same(None, "abc")
    assert deleted("0" * 40) and deleted("0" * 64) and not deleted("0" * 39 + "1")
    assert not deleted("")
