"""The build's memory of what it has seen: every member is found again, by
its value, however many merges it went through, and nothing else is."""

import hashlib

from analysis.corpus import seen
from analysis.corpus.seen import DigestSet, Strings


def digest(i: int) -> bytes:
    return hashlib.sha256(f"article {i}".encode()).digest()


def test_members_are_found_with_their_values_across_merges(monkeypatch):
    monkeypatch.setattr(seen, "_RECENT", 4)  # a merge every few members
    s = DigestSet()
    for i in range(50):
        assert s.get(digest(i)) is None
        s.add(digest(i), i * 10)
    assert len(s) == 50 and len(s.recent) < 50  # most were merged into the arrays
    assert [s.get(digest(i)) for i in range(50)] == [i * 10 for i in range(50)]
    assert s.get(digest(50)) is None
    # only the first 16 bytes count: a longer digest with them is the same member
    assert s.get(digest(7)[:16] + b"other tail") == 70


def test_digests_sharing_their_first_half_are_told_apart(monkeypatch):
    monkeypatch.setattr(seen, "_RECENT", 2)
    head = b"\x42" * 8
    s = DigestSet()
    for tail in (b"\x03" * 8, b"\x01" * 8, b"\x02" * 8, b"\x00" * 8):
        s.add(head + tail, tail[0])
    assert not s.recent  # all four in the sorted arrays
    assert [s.get(head + bytes([n]) * 8) for n in range(4)] == [0, 1, 2, 3]
    assert s.get(head + b"\x04" * 8) is None and s.get(b"\x41" * 16) is None


def test_strings_are_read_back_by_position_across_blocks(monkeypatch):
    monkeypatch.setattr(seen, "_RECENT", 3)
    s = Strings()
    names = [f"doc-{i}" for i in range(10)] + ["文章-甲"]
    assert [s.append(n) for n in names] == list(range(len(names)))
    assert len(s.blocks) == 3 and len(s) == len(names)
    assert [s[i] for i in range(len(names))] == names
