"""The case registry (checked on load) and the linking of body sentences."""

import pytest

from analysis.core import paths
from analysis.cases.registry import load_registry
from analysis.core.errors import InputError
from conftest import run_cli, table, write_corpus

ORIGINAL = paths.CASES.read_text(encoding="utf-8")
W = "000_8b4f6d6c62240631", "001_edab2e6d0a5b9686", "002_5d940f0a5119fa01"


def _refusal(tmp_path, old, new):
    assert old in ORIGINAL, old
    path = tmp_path / "cases.yaml"
    path.write_text(ORIGINAL.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_registry(path)
    return str(err.value)


def test_unknown_role_is_refused_naming_the_party(tmp_path):
    msg = _refusal(tmp_path, "        role: supporter\n        supports: accused\n",
                   "        role: spouse\n")
    assert ("case 'alibaba_2021', party 'wang_wife': role 'spouse' is not one of accuser, "
            "accused, supporter, institution") in msg


def test_an_alias_shared_by_two_cases_is_refused(tmp_path):
    msg = _refusal(tmp_path, 'aliases: ["Kris Wu", "Wu Yifan",',
                   'aliases: ["Kris Wu", "Alibaba manager",')
    assert ("case 'kris_wu_2021': alias 'Alibaba manager' is also an alias of case "
            "'alibaba_2021'; an alias must name one case only") in msg


def test_missing_and_duplicate_ids_and_unknown_keys_are_refused(tmp_path):
    msg = _refusal(tmp_path, "  - case_id: kris_wu_2021\n", "  - title_only: x\n")
    assert "case entry 6 has no case_id; give every case an id" in msg
    msg = _refusal(tmp_path, "  - case_id: kris_wu_2021\n", "  - case_id: alibaba_2021\n")
    assert "case 'alibaba_2021': duplicate case_id (also entry 4)" in msg
    msg = _refusal(tmp_path, "    year: 2023\n    place: Guangzhou",
                   "    year: 2023\n    verdict: none\n    place: Guangzhou")
    assert "case 'guangzhou_metro_2023': unknown key 'verdict'" in msg


def test_a_bad_registry_stops_the_build_before_anything_is_written(tmp_path):
    bad = tmp_path / "cases.yaml"
    bad.write_text(ORIGINAL.replace("role: institution", "role: company", 1))
    proc = run_cli("build", "--processed", tmp_path / "out", "--cases", bad)
    assert proc.returncode == 2 and "role 'company' is not one of" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_seed_cases_link_to_the_articles_that_discuss_them(seed_build):
    m = table(seed_build, "case_mentions")
    linked = {(d, c) for d, c in zip(m.doc_id, m.case_id)}
    assert linked == {(W[0], "chengdu_metro_2023"), (W[0], "guangzhou_metro_2023"),
                      (W[1], "he_qian_deng_fei_2018"), (W[2], "alibaba_2021"),
                      (W[2], "zhou_xiaoxuan_zhu_jun_2018")}
    cases = table(seed_build, "cases").set_index("case_id")
    assert cases.loc["kris_wu_2021", "n_documents"] == 0  # named only in a related headline


def test_aliases_resolve_to_one_party_and_surnames_stay_in_their_case(seed_build):
    m = table(seed_build, "case_mentions")
    qian = m[m.evidence.isin(["He Qian", "Ms.Qian"])]
    assert set(qian.party_id) == {"he_qian"} and set(qian.evidence) == {"He Qian", "Ms.Qian"}
    he = m[m.evidence == "He"]
    assert set(he.doc_id) == {W[0]} and set(he.party_id) == {"he"}  # the Chengdu man
    assert not len(m[(m.doc_id == W[1]) & (m.case_id == "chengdu_metro_2023")])
    zhou = m[(m.doc_id == W[2]) & (m.evidence == "Zhou")]
    assert set(zhou.case_id) == {"alibaba_2021"}  # not Zhou Xiaoxuan's case
    assert set(m[m.evidence == "Zhou Xiaoxuan"].case_id) == {"zhou_xiaoxuan_zhu_jun_2018"}


def test_mentions_carry_exact_raw_evidence_confidence_and_reason(seed_build):
    m = table(seed_build, "case_mentions")
    for doc_id, g in m.groupby("doc_id"):
        raw = (paths.RAW / f"{doc_id}.txt").read_text(encoding="utf-8")
        for s, e, ev in zip(g.start, g.end, g.evidence):
            assert raw[s:e] == ev
    assert set(zip(m.reason, m.confidence)) == {("alias", 1.0), ("surname", 0.6),
                                                ("descriptor", 0.6), ("context", 0.3)}
    context = m[m.reason == "context"]
    assert context.party_id.isna().all() and len(context) > 0


def test_a_case_named_only_outside_the_body_is_not_linked(tmp_path):
    text = ("A Title About Courts\n\n"
            "A court heard a harassment case on Monday. The judge adjourned it.\n\n"
            "Kris Wu faces new questions in a separate case\n")  # a related-article headline
    corpus = write_corpus(tmp_path / "c", {"a.txt": text.encode()},
                          {"a.txt": {"outlet": "The Washington Post"}})
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    lines = table(tmp_path / "o", "lines")
    assert lines.loc[4, "role"] == "boilerplate"
    assert not len(table(tmp_path / "o", "case_mentions"))


def test_a_registry_change_relinks_without_recoding(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": b"A Title\n\nKris Wu was questioned. "
                                                    b"Police spoke to him.\n"})
    out = tmp_path / "o"
    run_cli("build", "--corpus", corpus, "--processed", out, check=0)
    m = table(out, "case_mentions")
    assert list(zip(m.reason, m.case_id)) == [("alias", "kris_wu_2021"),
                                              ("context", "kris_wu_2021")]
    changed = tmp_path / "cases.yaml"
    changed.write_text(ORIGINAL.replace('"Kris Wu", "Wu Yifan"', '"Wu Yifan"'))
    proc = run_cli("build", "--corpus", corpus, "--processed", out, "--cases", changed, check=0)
    assert "Coding is up to date" in proc.stdout
    assert "wrote cases.parquet, case_mentions.parquet" in proc.stdout
    assert not len(table(out, "case_mentions"))


def test_an_empty_or_one_letter_name_is_refused_before_anything_is_written(tmp_path):
    bad = tmp_path / "cases.yaml"
    bad.write_text(ORIGINAL.replace('surnames: ["Luo"]', 'surnames: ["L"]', 1)
                   .replace('descriptors: ["his wife"]', 'aliases: [""]', 1))
    proc = run_cli("build", "--processed", tmp_path / "out", "--cases", bad, check=2)
    assert "party 'wang_wife': alias '' is empty or shorter than two letters" in proc.stderr
    assert "surname 'L' is empty or shorter than two letters" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_name_that_matches_ordinary_sentences_is_refused(tmp_path):
    bad = tmp_path / "cases.yaml"
    bad.write_text(ORIGINAL.replace('descriptors: ["his wife"]', 'aliases: ["The"]', 1))
    proc = run_cli("build", "--processed", tmp_path / "out", "--cases", bad, check=2)
    assert ("party 'wang_wife': alias 'The' matches 7 of 8 ordinary English sentences about "
            "unrelated things (weather, cooking, sport), so it would link nearly every "
            "sentence") in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_document_linked_in_pieces_gives_the_bytes_of_one_linked_at_once(tmp_path,
                                                                           monkeypatch):
    # a huge document is linked in two passes over its pieces; tiny batches
    # and pieces make every seed article one (surnames resolve across pieces)
    from analysis.cases import stage

    out = tmp_path / "o"
    run_cli("build", "--corpus", paths.RAW, "--processed", out, check=0)
    monkeypatch.setattr(stage, "BATCH_ROWS", 16)
    monkeypatch.setattr(stage, "HOLD_ROWS", None)
    stage.link_corpus(out, force=True)
    whole = {f: (out / f).read_bytes() for f in stage.CASE_OUTPUTS}
    assert table(out, "case_mentions").reason.eq("surname").any()
    monkeypatch.setattr(stage, "HOLD_ROWS", 16)
    stage.link_corpus(out, force=True)
    for f, data in whole.items():
        assert (out / f).read_bytes() == data, f


def test_a_registry_goes_to_a_worker_process_after_it_has_scanned():
    import pickle

    from analysis.cases.registry import load_registry

    registry = load_registry()
    registry.scanner()  # compiled here: a Hyperscan database cannot be pickled
    copy = pickle.loads(pickle.dumps(registry))
    assert copy == registry and copy.scanner().owners == registry.scanner().owners
