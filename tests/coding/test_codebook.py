"""The codebook: every check on load names the code and the fix; guards work."""

import re

import pytest

from analysis.core import paths
from analysis.coding.codebook import load_codebook
from analysis.coding.engine import matcher
from analysis.coding.examples import find_codes
from analysis.coding.schema import phrase_expression
from analysis.core.text import normalize
from analysis.core.errors import InputError
from conftest import run_cli

BOOK = load_codebook()
ORIGINAL = paths.CODEBOOK.read_text(encoding="utf-8")


def _refusal(tmp_path, text, design=None):
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_codebook(path, design)
    return str(err.value)


def _replace(old, new, count=1):
    assert old in ORIGINAL, old
    return ORIGINAL.replace(old, new, count)


def test_the_codebook_covers_every_design_code_and_has_a_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", BOOK.version)
    ids = set(BOOK.ids)
    assert "frame.responsibility.R5" in ids and "frame.economic.E3" in ids
    assert "issue.institutional_accountability" in ids
    assert "backlash.social_sanction" in ids
    assert len([i for i in ids if i.startswith("backlash.")]) == 10
    assert len([c for c in BOOK.codes if c.parent]) == 19  # R1-R5 H1-H4 C1-C4 M1-M3 E1-E3


def test_unknown_field_is_refused_naming_the_code(tmp_path):
    msg = _refusal(tmp_path, _replace("    label: Censorship\n",
                                      "    label: Censorship\n    colour: red\n"))
    assert "code 'backlash.censorship': unknown field 'colour'; allowed fields are" in msg


def test_duplicate_id_is_refused(tmp_path):
    msg = _refusal(tmp_path, _replace("  - id: backlash.social_sanction\n",
                                      "  - id: backlash.censorship\n"))
    assert "code 'backlash.censorship': duplicate id" in msg
    assert "the design's code 'backlash.social_sanction' (backlash) is missing" in msg


def test_an_id_not_in_the_design_is_refused_with_the_fix(tmp_path):
    msg = _refusal(tmp_path, _replace("  - id: backlash.censorship\n",
                                      "  - id: backlash.deplatforming\n"))
    assert "code 'backlash.deplatforming': not a backlash code in the design" in msg
    assert "add it to" in msg and "design.yaml" in msg


def test_a_code_in_the_wrong_family_is_refused(tmp_path):
    text = _replace("  - id: issue.state_control\n    family: issue_frame\n",
                    "  - id: issue.state_control\n    family: backlash\n")
    msg = _refusal(tmp_path, text)
    assert "code 'issue.state_control': not a backlash code in the design (the design lists " \
           "it under issue_frame)" in msg


def test_a_regex_that_does_not_compile_is_refused(tmp_path):
    text = _replace('        phrases: ["witch hunt*"',
                    "        patterns: ['witch (hunt']\n        phrases: [\"witch hunt*\"")
    msg = _refusal(tmp_path, text)
    assert ("code 'backlash.state_delegitimization', indicator 'delegitimizing_labels': "
            "pattern 'witch (hunt' does not compile") in msg


def test_a_pattern_hyperscan_cannot_scan_is_refused_with_the_alternative(tmp_path):
    text = _replace('        phrases: ["witch hunt*"',
                    "        patterns: ['state media.{0,80}witch']\n        phrases: [\"witch hunt*\"")
    msg = _refusal(tmp_path, text)
    assert "cannot be compiled for scanning" in msg and "use context" in msg


def test_an_example_the_indicators_miss_is_refused(tmp_path):
    text = _replace('"State media called the campaign a witch hunt.",',
                    '"State media called the campaign a smear.",')
    msg = _refusal(tmp_path, text)
    assert ("code 'backlash.state_delegitimization': example 'State media called the campaign "
            "a smear.' should match but no indicator finds it") in msg


def test_an_example_the_indicators_wrongly_code_is_refused(tmp_path):
    text = _replace('"The hashtag trended on Weibo."]', '"She became the target of vitriol."]')
    msg = _refusal(tmp_path, text)
    assert ("code 'backlash.online_abuse': example 'She became the target of vitriol.' should "
            "not match but indicator 'online_attack' finds 'vitriol'; narrow the indicator or "
            "add a guard") in msg


def test_an_unknown_guard_and_a_missing_question_are_refused(tmp_path):
    text = _replace("        guards: [negation, hedging]\n", "        guards: [negation, sarcasm]\n")
    text = text.replace("      - id: frame.economic.E3\n", "      - id: frame.economic.E9\n")
    msg = _refusal(tmp_path, text)
    assert "guard 'sarcasm' is not defined under guards" in msg
    assert "question 'frame.economic.E3' from the design is missing" in msg
    assert "code 'frame.economic.E9': not a question of frame.economic in the design" in msg


def test_a_bad_codebook_stops_the_build_before_anything_is_written(tmp_path):
    bad = tmp_path / "codebook.yaml"
    bad.write_text(_replace("    label: Censorship\n", "    labl: Censorship\n"))
    proc = run_cli("build", "--processed", tmp_path / "out", "--codebook", bad)
    assert proc.returncode == 2
    assert "code 'backlash.censorship': unknown field 'labl'" in proc.stderr
    assert not (tmp_path / "out").exists()


def _codes(text):
    return {c for c, *_ in find_codes(BOOK, normalize(text))}


def test_negation_guard_drops_negated_mentions():
    assert "backlash.state_delegitimization" in _codes("State media called it a witch hunt.")
    assert "backlash.state_delegitimization" not in _codes(
        "There is no evidence of a witch hunt, the lawyer said.")
    assert "backlash.false_accusation" not in _codes("He was not falsely accused, police said.")
    assert "backlash.false_accusation" not in _codes("Nobody said she didn't lie; no liar here.")
    # a negation in an earlier clause does not reach across the full stop
    assert "backlash.state_delegitimization" in _codes("It was not over. Officials called it a "
                                                       "witch hunt.")


def test_hedging_guard_applies_to_frame_questions_only():
    assert "frame.responsibility.R2" in _codes("Critics say the government failed survivors.")
    # cues are looked for before the match, in its clause
    assert "frame.responsibility.R2" not in _codes("Perhaps the government failed them.")
    # themes are coded where reported, hedged or not
    assert "backlash.state_delegitimization" in _codes("State media may call it a witch hunt.")


def test_context_requirement_for_ambiguous_words():
    assert "backlash.offline_intimidation" in _codes(
        "She was pushed by bystanders outside the court.")
    assert "backlash.offline_intimidation" not in _codes("Activists pushed for a new law.")


def test_phrases_are_word_bounded_case_insensitive_and_inflected():
    assert _codes("A DEFAMATION suit") >= {"issue.legal_process"}
    assert "issue.legal_process" not in _codes("The courtyard was empty.")  # not "court"
    assert "backlash.censorship" in _codes("Posts were censored.")  # censor*
    assert phrase_expression("speak* out") == r"\bspeak\w*\s+out\b"


def test_hyperscan_finds_what_a_naive_per_pattern_regex_finds():
    """The fast engine checked against one Python regex per expression, on the
    seeds' paragraphs and sentences written to nest phrases."""
    import pyarrow.parquet as pq

    texts = [normalize(t) for t in pq.read_table(paths.PROCESSED / "segments.parquet")
             .column("text").to_pylist()] if (paths.PROCESSED / "segments.parquet").exists() else []
    texts += ["Men sued their accusers in a defamation lawsuit; lawsuits followed.",
              "False accusations and false accusation claims, $6,960 and $1,800.",
              "The court's courts, a courthouse; witch hunts and witch-hunting."]
    m = matcher(BOOK)
    for text in texts:
        data = text.encode("utf-8")
        fast = {(int(m.owner[x]), len(data[:s].decode()), len(data[:e].decode()))
                for x, s, e in m.scan(data).tolist() if m.kind[x] == m.IND}
        naive = set()
        for k, ind in enumerate(BOOK.indicators):
            for expr in ind.expressions:
                naive |= {(k, x.start(), x.end()) for x in re.finditer(expr, text, re.I)}
        assert fast >= naive, (text, naive - fast)
        # and nothing the naive search misses, but nested starts of one phrase
        extra = fast - naive
        assert all(any(k == k2 and s2 <= s and e <= e2 for k2, s2, e2 in naive)
                   for k, s, e in extra), (text, extra)


def test_a_phrase_without_words_and_a_pattern_matching_nothing_are_refused(tmp_path):
    msg = _refusal(tmp_path, _replace('            phrases: ["new law", "new laws",',
                                      '            phrases: ["*", "campaigns to tackle",'))
    assert "phrase '*' has no letter or digit, so it would match nearly anywhere" in msg
    msg = _refusal(tmp_path, _replace('            phrases: ["new law", "new laws",',
                                      '            patterns: ["(abc)?"]\n'
                                      '            phrases: ["new law", "new laws",'))
    assert "pattern '(abc)?' matches empty text, so it would mark every paragraph" in msg


def test_a_phrase_or_pattern_that_matches_ordinary_sentences_is_refused(tmp_path):
    book = tmp_path / "codebook.yaml"
    book.write_text(_replace('            phrases: ["new law", "new laws",',
                             '            patterns: ["[a-z]{4,}"]\n'
                             '            phrases: ["the", "campaigns to tackle",'))
    proc = run_cli("build", "--processed", tmp_path / "out", "--codebook", book, check=2)
    assert ("phrase 'the' matches 7 of 8 ordinary English sentences about unrelated things "
            "(weather, cooking, sport), so it would mark nearly every paragraph") in proc.stderr
    assert "pattern '[a-z]{4,}' matches 8 of 8 ordinary English sentences" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_codebook_must_say_which_languages_its_indicators_cover(tmp_path):
    assert BOOK.languages == ("en", "zh") and BOOK.covers("zh-Hant") and BOOK.covers("und")
    assert not BOOK.covers("fr")
    msg = _refusal(tmp_path, _replace("languages: [en, zh]\n", ""))
    assert "must list the languages the indicators cover" in msg
    msg = _refusal(tmp_path, _replace("languages: [en, zh]\n", "languages: [English]\n"))
    assert "e.g. languages: [en, zh]" in msg


def _scan_rows(m, text: str) -> list:
    return sorted(m.scan(text.encode("utf-8")).tolist())


def test_a_compiled_database_is_kept_on_disk_and_loaded_instead_of_compiled(tmp_path,
                                                                            monkeypatch):
    """A codebook's database is compiled once: another process (here a new
    Matcher) loads it from the cache folder and finds the same matches."""
    from analysis.coding import engine

    monkeypatch.setattr(engine, "DATABASES", tmp_path / "hs")
    text = "She sued him for defamation; the court said the witch hunt was no smear."
    first = engine.Matcher(BOOK)
    kept = list((tmp_path / "hs").glob("*.hsdb"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0

    def refuse(*a):
        raise AssertionError("compiled again, not loaded")

    monkeypatch.setattr(engine, "_compile", refuse)
    second = engine.Matcher(BOOK)
    assert _scan_rows(second, text) == _scan_rows(first, text) != []
    assert second.matches(b"defamation suit\0", [0])[0].tolist() == \
        first.matches(b"defamation suit\0", [0])[0].tolist()


def test_a_damaged_or_unwritable_database_cache_only_costs_a_compile(tmp_path, monkeypatch):
    from analysis.coding import engine

    monkeypatch.setattr(engine, "DATABASES", tmp_path / "hs")
    text = "A defamation lawsuit followed the accusations."
    want = _scan_rows(engine.Matcher(BOOK), text)
    (path,) = (tmp_path / "hs").glob("*.hsdb")
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    path.write_bytes(bytes(damaged))
    assert _scan_rows(engine.Matcher(BOOK), text) == want
    assert path.read_bytes() != bytes(damaged)  # compiled again and kept again
    path.write_bytes(b"not a database")
    assert _scan_rows(engine.Matcher(BOOK), text) == want
    # a cache folder that is a file cannot be written: the matcher still works
    blocked = tmp_path / "file"
    blocked.write_text("x")
    monkeypatch.setattr(engine, "DATABASES", blocked / "hs")
    assert _scan_rows(engine.Matcher(BOOK), text) == want


def test_only_the_most_recently_used_databases_are_kept(tmp_path, monkeypatch):
    import os

    from analysis.coding import engine

    folder = tmp_path / "hs"
    monkeypatch.setattr(engine, "DATABASES", folder)
    monkeypatch.setattr(engine, "KEEP_DATABASES", 2)
    for n, word in enumerate(["alpha", "beta", "gamma"]):
        engine._kept_database([rf"\b{word}\b"], [True])
        for p in folder.glob("*.hsdb"):  # distinct times, oldest first
            os.utime(p, ns=(p.stat().st_mtime_ns - 10**9,) * 2)
    assert len(list(folder.glob("*.hsdb"))) == 2
    engine._kept_database([r"\bbeta\b"], [True])  # used: made the newest
    engine._kept_database([r"\bdelta\b"], [True])
    names = sorted(p.name for p in folder.glob("*.hsdb"))
    compiled = []
    monkeypatch.setattr(engine, "_compile", lambda e, s: compiled.append(e) or
                        engine.hyperscan.Database())
    engine._kept_database([r"\bbeta\b"], [True])
    engine._kept_database([r"\bdelta\b"], [True])
    assert compiled == [] and sorted(p.name for p in folder.glob("*.hsdb")) == names


def test_texts_coded_together_are_coded_as_each_alone():
    """The codebook's examples are checked in one pass: a text's guard cues and
    context phrases never reach into the next text."""
    from analysis.coding.examples import find_codes_each

    texts = [normalize(t) for t in [
        "He was never", "sued for defamation, and the campaign went on.",
        "Critics called the #MeToo movement a witch hunt.", "No", "witch hunt at all.",
        "她起诉了他。", "并未起诉"]]
    each = find_codes_each(BOOK, texts)
    assert each == [find_codes(BOOK, t) for t in texts]
    assert any(each) and not all(each)
