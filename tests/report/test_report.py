"""The report as users run it: `analysis report` executes every notebook in a
real kernel through papermill, writes the same bytes every time, reruns only
what is stale, stops on a failing notebook without touching the last good
report, and shows corpus text as text."""

import hashlib
import json
import os
import re
import shutil
import socket
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis import __version__
from analysis.cases.registry import load_registry
from analysis.coding.codebook import load_codebook
from analysis.core import paths
from analysis.corpus.cleaning import load_rules
from analysis.report.parameters import declared_parameters
from analysis.workflow import CACHES
from conftest import run_cli, write_corpus

CODEBOOK_VERSION = load_codebook().version
NOTEBOOKS = sorted(p.stem for p in paths.NOTEBOOKS.glob("[0-9]*.ipynb"))


def report(root: Path, *extra, corpus=paths.RAW, check=0):
    """`analysis report` with the processed tables, the coding sheets (when
    ``root/coding`` exists) and the report side by side under ``root`` (as
    data/processed, data/coding and reports/ are in the repository)."""
    coding = ("--coding", root / "coding") if (root / "coding").is_dir() else ()
    return run_cli("report", "--corpus", corpus, "--processed", root / "processed",
                   "--out", root / "reports", *coding, *extra, check=check)


def checksums(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in CACHES}


def mtimes(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in CACHES}


def ran(proc) -> list:
    m = re.search(r"Ran \d+ notebook\(s\): ([^;.]+)", proc.stdout)
    return m.group(1).split(", ") if m else []


def said(notebook: Path) -> str:
    """What an executed notebook displayed (its markdown and text outputs), not its code."""
    outputs = [o for c in json.loads(notebook.read_text())["cells"] for o in c.get("outputs", [])]
    text = "\n".join("".join(o.get("data", {}).get("text/markdown", ""))
                     + "".join(o.get("text", "")) for o in outputs)
    return re.sub(r"\\(.)", r"\1", text)  # as a reader sees it: markdown escapes undone


def copy_report(src: Path, dest: Path) -> Path:
    """A copy of a built report and its processed tables (timestamps kept)."""
    for sub in ("processed", "reports", "coding"):
        shutil.copytree(src / sub, dest / sub)
    return dest


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.links.append(a["src"])
        elif tag == "a" and a.get("href") and not a["href"].startswith(("#", "http")):
            self.links.append(a["href"])


# `make test` sends each test module to one worker whole (--dist loadscope), so
# the seed report is built once
@pytest.fixture(scope="module")
def seed_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed_report")
    shutil.copytree(paths.CODING, root / "coding")
    proc = report(root)
    return root, proc


@pytest.mark.slow
def test_report_runs_every_notebook_and_the_page_shows_every_figure_and_table(seed_report):
    root, proc = seed_report
    out = root / "reports"
    assert ran(proc) == NOTEBOOKS
    for name in NOTEBOOKS:
        nb = json.loads((out / "notebooks" / f"{name}.ipynb").read_text())
        outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
        assert outputs and not [o for o in outputs if o["output_type"] == "error"], name
        assert all(c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code")
        assert (out / "notebooks" / f"{name}.html").read_text().startswith("<!DOCTYPE html>")
    page = (out / "index.html").read_text()
    parser = Links()
    parser.feed(page)
    assert parser.links
    for link in parser.links:  # a link into a notebook points at a cell it has
        path, _, anchor = link.partition("#")
        assert (out / path).is_file(), link
        assert not anchor or f'id="{anchor}"' in (out / path).read_text(), link
    sidecars = sorted((out / "figures").glob("*.json")) + sorted((out / "tables").glob("*.json"))
    assert len(sidecars) >= 20
    for sidecar in sidecars:
        info = json.loads(sidecar.read_text())
        assert info["caption"] and info["n"].startswith("n = ") and info["inputs"]
        assert info["versions"] == {"analysis": __version__,
                                    "cleaning_rules": load_rules(paths.CLEANING_RULES).version,
                                    "codebook": CODEBOOK_VERSION,
                                    "registry": load_registry().version}
        if info["kind"] == "figure":
            assert {f.rsplit(".", 1)[1] for f in info["files"]} == {"png", "svg"}
            assert f'src="figures/{sidecar.stem}.png"' in page
        else:
            assert f'href="tables/{sidecar.stem}.csv"' in page
    # what the research design asks the report to carry
    for stem in ("documents_by_outlet", "frame_scores_by_document", "frame_share_of_units",
                 "frame_cooccurrence", "case_timeline", "outcomes_by_type", "theme_prevalence",
                 "themes_by_frame", "themes_by_outcome"):
        assert f"figures/{stem}.png" in page, stem
    for stem in ("case_ledger", "cleaning_audit", "backlash_kwic", "coder_counts"):
        assert f"tables/{stem}.csv" in page, stem
    assert "alibaba_2021" in page and "Zhou Xiaoxuan" in page  # the ledger, on the page
    assert '<h2 id="methods">' in page
    assert f"Coding scheme (codebook version {CODEBOOK_VERSION})" in page
    assert "describes this corpus only" in page


@pytest.mark.slow
def test_the_page_reads_as_a_document_with_questions_findings_and_validation(seed_report):
    out = seed_report[0] / "reports"
    page = (out / "index.html").read_text()
    text = re.sub(r"<[^>]+>", "", page)
    # each section opens with its notebook's question, and says what the data show
    assert "RQ2: what happens in the cases the articles report" in text
    assert "registered cases have events in the selected documents" in text
    findings = re.findall(r'<div class="findings">(.*?)</div>', page, re.S)
    assert len(findings) >= 10
    # code and data beside each figure
    figures = re.findall(r'<figure id="figure-(\w+)">(.*?)</figure>', page, re.S)
    assert len(figures) >= 15
    assert [stem for stem, html in figures if "data: <a" not in html or "code: <a" not in html
            ] == []
    assert ('data: <a href="tables/outcomes_by_type.csv">outcomes_by_type.csv</a> · code: '
            '<a href="notebooks/03_outcomes.html#cell-id=03-07">') in page
    # how far each measure is validated, before the figures
    status = page.index('id="status"')
    assert status < page.index('id="01_corpus"')
    assert "Outcome events (event finder)" in text and "development fit" in text
    # numbers formatted: no float printed at full precision, counts with separators
    assert not re.search(r"\d\.\d{6,}", text)
    assert ">3,032<" in page or ">3,181<" in page  # body characters of a seed document
    # the contents are not numbered twice, and no placeholder stands as a citation
    assert "<nav><h2>Contents</h2><ul>" in page
    assert "to be filled in" not in text.lower() and "example.org" not in text
    assert "The citation of this repository is not filled in yet" in text
    # the commit the code was at
    prov = json.loads((out / "provenance.json").read_text())
    assert re.fullmatch(r"[0-9a-f]{40}", prov["source"]["commit"])
    assert f"<th>commit</th><td><code>{prov['source']['commit']}" in page


def test_a_table_on_the_page_shows_formatted_numbers_and_cut_texts():
    from analysis.report.page import CELL_CHARS, readable

    table = pd.DataFrame({"code": ["a", "b"], "alpha": ["0.3333333333333333", ""],
                          "units": ["12000", "7"], "year": ["2021", "2022"],
                          "doc_id": ["001", "002"], "text": ["x" * 500, "short"]})
    shown = readable(table)
    assert shown["alpha"].tolist() == ["0.333", ""]
    assert shown["units"].tolist() == ["12,000", "7"]
    assert shown["year"].tolist() == ["2021", "2022"] and shown["doc_id"].tolist() == ["001",
                                                                                      "002"]
    assert len(shown.loc[0, "text"]) == CELL_CHARS and shown.loc[0, "text"].endswith("…")
    assert shown.loc[1, "text"] == "short"


@pytest.mark.slow
def test_provenance_lists_every_output_with_its_checksum(seed_report):
    root, _ = seed_report
    out = root / "reports"
    prov = json.loads((out / "provenance.json").read_text())
    files = checksums(out)
    del files["provenance.json"]
    assert prov["outputs"] == files
    umask = os.umask(0)
    os.umask(umask)
    for f in ("index.html", "figures/case_timeline.png", "tables/case_ledger.csv"):
        assert (out / f).stat().st_mode & 0o777 == 0o666 & ~umask, f  # readable as usual
    assert prov["processed"] == {f: s for f, s in checksums(root / "processed").items()
                                 if f.endswith((".parquet", ".json"))}
    assert prov["stages"]["coding"]["codebook_version"] == CODEBOOK_VERSION
    assert prov["inputs"]["manifest_sha256"] == hashlib.sha256(
        (paths.RAW / "manifest.csv").read_bytes()).hexdigest()
    framing = prov["notebooks"]["02_framing"]
    # relative to where notebooks run: the staging folder, one level below the
    # report folder, as the executed notebooks in report/notebooks/ are
    assert framing["key"]["parameters"]["processed_dir"] == "../../processed"
    assert {"codes.parquet", "doc_codes.parquet", "code_labels.parquet"} <= set(
        framing["dependencies"]["tables"])
    assert "analysis/plots/charts.py" in framing["dependencies"]["modules"]
    assert "analysis/results/framing.py" in framing["dependencies"]["modules"]
    # a notebook depends on the modules it imports, not on the report's runner
    assert "analysis/report/page.py" not in framing["dependencies"]["modules"]
    assert "figures/frame_cooccurrence.svg" in framing["outputs"]


@pytest.mark.slow
def test_outputs_hold_no_times_random_ids_absolute_paths_or_machine_names(seed_report):
    root, _ = seed_report
    out = root / "reports"
    host = re.compile(rf"(?<![\w/+]){re.escape(socket.gethostname())}(?![\w/+])")
    for path in sorted(out.rglob("*")):
        if path.suffix in (".ipynb", ".html", ".json", ".csv", ".svg"):
            text = path.read_text(encoding="utf-8")
            for needle in (str(root), str(paths.ROOT)):
                assert needle not in text, (path.name, needle)
            assert not host.search(text), path.name
            assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text), path.name
    for name in NOTEBOOKS:
        nb = json.loads((out / "notebooks" / f"{name}.ipynb").read_text())
        assert set(nb["metadata"]["papermill"]) == {"parameters", "version", "input_path",
                                                    "output_path"}
        assert all(set(c["metadata"]) <= {"tags"} for c in nb["cells"])
        assert len({c["id"] for c in nb["cells"]}) == len(nb["cells"])
    svg = (out / "figures" / "case_timeline.svg").read_text()
    assert "<dc:date>" not in svg


@pytest.mark.slow
def test_two_runs_on_the_same_inputs_give_identical_files(seed_report, tmp_path):
    root, _ = seed_report
    shutil.copytree(paths.CODING, tmp_path / "coding")
    report(tmp_path)
    assert checksums(tmp_path / "reports") == checksums(root / "reports")
    assert checksums(tmp_path / "processed") == checksums(root / "processed")


@pytest.mark.slow
def test_a_second_run_with_nothing_changed_reruns_nothing(seed_report, tmp_path):
    root = copy_report(seed_report[0], tmp_path)
    before = {**mtimes(root / "reports"), **mtimes(root / "processed")}
    proc = report(root)
    assert "No notebook was stale (5 checked); none ran." in proc.stdout
    assert "reports: nothing changed" in proc.stdout.replace(str(root) + "/", "")
    assert {**mtimes(root / "reports"), **mtimes(root / "processed")} == before


@pytest.mark.slow
def test_a_codebook_change_recodes_and_reruns_only_the_notebooks_that_read_codes(
        seed_report, tmp_path):
    root = copy_report(seed_report[0], tmp_path)
    book = paths.CODEBOOK.read_text(encoding="utf-8")
    changed = tmp_path / "codebook.yaml"
    changed.write_text(book.replace('"gag order", "wiped"]', '"gag order", "wiped", "metro"]', 1),
                       encoding="utf-8")
    before = checksums(root / "reports")
    proc = report(root, "--codebook", changed)
    assert f"Coded with codebook {CODEBOOK_VERSION}" in proc.stdout
    assert "wrote codes.parquet" in proc.stdout
    # 01 reads no codes; 03's events and labels are unchanged by a backlash phrase
    assert ran(proc) == ["02_framing", "04_backlash", "05_validation"]
    after = checksums(root / "reports")
    assert after["notebooks/01_corpus.ipynb"] == before["notebooks/01_corpus.ipynb"]
    assert after["tables/backlash_kwic.csv"] != before["tables/backlash_kwic.csv"]
    assert "metro" in (root / "reports" / "tables" / "backlash_kwic.csv").read_text()


@pytest.mark.slow
def test_changing_one_notebook_reruns_only_that_notebook(seed_report, tmp_path):
    root = copy_report(seed_report[0], tmp_path)
    notebooks = shutil.copytree(paths.NOTEBOOKS, tmp_path / "notebooks")
    proc = report(root, "--notebooks", notebooks)
    assert ran(proc) == []  # same notebook bytes, same key
    path = notebooks / "03_outcomes.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] += "\n\nA sentence added by a researcher."
    path.write_text(json.dumps(nb, indent=1))
    proc = report(root, "--notebooks", notebooks)
    assert ran(proc) == ["03_outcomes"]
    assert "A sentence added by a researcher." in (
        root / "reports" / "notebooks" / "03_outcomes.html").read_text()
    # a notebook taken away takes its outputs with it
    (notebooks / "05_validation.ipynb").unlink()
    params = yaml.safe_load((notebooks / "parameters.yaml").read_text())
    del params["notebooks"]["05_validation"]
    (notebooks / "parameters.yaml").write_text(yaml.safe_dump(params))
    proc = report(root, "--notebooks", notebooks)
    assert ran(proc) == []
    out = root / "reports"
    assert not (out / "tables" / "coder_counts.csv").exists()
    assert not (out / "notebooks" / "05_validation.html").exists()
    assert "05_validation" not in (out / "index.html").read_text()
    assert "05_validation" not in json.loads((out / "provenance.json").read_text())["notebooks"]


@pytest.mark.slow
def test_a_changed_module_reruns_the_notebooks_that_imported_it(seed_report, tmp_path):
    root = copy_report(seed_report[0], tmp_path)
    prov_path = root / "reports" / "provenance.json"
    prov = json.loads(prov_path.read_text())
    # as if analysis/results/corpus.py had changed since 01_corpus last ran
    prov["notebooks"]["01_corpus"]["dependencies"]["modules"]["analysis/results/corpus.py"] = (
        "0" * 64)
    prov_path.write_text(json.dumps(prov))
    proc = report(root)
    assert ran(proc) == ["01_corpus"]


@pytest.mark.slow
def test_a_failing_notebook_is_reported_by_name_and_cell_and_the_last_report_kept(
        seed_report, tmp_path):
    root = copy_report(seed_report[0], tmp_path)
    notebooks = shutil.copytree(paths.NOTEBOOKS, tmp_path / "notebooks")
    path = notebooks / "03_outcomes.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"].insert(4, {"cell_type": "code", "execution_count": None, "id": "broken",
                           "metadata": {}, "outputs": [],
                           "source": "x = 1\nraise ValueError('a deliberate failure')"})
    path.write_text(json.dumps(nb, indent=1))
    before = checksums(root / "reports")
    proc = report(root, "--notebooks", notebooks, check=1)
    assert (f"notebook 03_outcomes.ipynb failed in cell 5 of {len(nb['cells'])} ('x = 1'): "
            "ValueError: a deliberate failure") in proc.stderr
    kept = root / "reports" / "failed" / "03_outcomes.ipynb"
    assert "a deliberate failure" in kept.read_text()
    assert "failed/03_outcomes.ipynb" in proc.stderr
    after = checksums(root / "reports")
    del after["failed/03_outcomes.ipynb"]
    assert after == before
    assert not (root / "reports" / ".staging").exists()


@pytest.mark.slow
def test_the_validation_section_shows_agreement_with_n_disagreements_and_the_baseline(
        seed_report):
    import pandas as pd

    out = seed_report[0] / "reports"
    tables = out / "tables"
    page = (out / "index.html").read_text()
    for stem in ("human_agreement", "dictionary_agreement", "disagreements",
                 "baseline_comparison", "topics", "topic_alignment"):
        assert f"tables/{stem}.csv" in page, stem
    for stem in ("dictionary_alpha", "baseline_f1", "topic_alignment"):
        assert f"figures/{stem}.png" in page, stem
    sheet = pd.read_csv(paths.CODING / "seed_coder_a.csv")
    codes = sheet["code"].nunique()
    versus = pd.read_csv(tables / "dictionary_agreement.csv")
    for unit, n in (("paragraph", 30), ("document", 3)):
        level = versus[versus["unit"] == unit].set_index("code")
        assert len(level) == codes + 1 and (level.drop("(pooled)")["units"] == n).all()
        assert level.loc["(pooled)", "units"] == n * codes
        assert level.loc["(pooled)", "tp"] + level.loc["(pooled)", "fn"] == sheet[
            (sheet["unit"] == unit)]["value"].sum()
        assert set(level["verdict"]) <= {"reliable", "tentative", "unreliable", "undefined"}
    # every disagreement is listed: as many as the false positives and misses
    disagree = pd.read_csv(tables / "disagreements.csv", keep_default_na=False)
    assert len(disagree) == versus.loc[versus["code"] != "(pooled)", ["fp", "fn"]].sum().sum()
    assert set(disagree["kind"]) == {"missed", "extra"}
    extra = disagree[(disagree["kind"] == "extra") & (disagree["unit"] == "paragraph")]
    assert (extra["evidence"] != "").all()  # a false alarm shows what the dictionary matched
    # one coder so far: human agreement is undefined, with n = 0, and says so
    human = pd.read_csv(tables / "human_agreement.csv")
    assert (human["units"] == 0).all() and (human["verdict"] == "undefined").all()
    assert "agreement between human coders cannot be computed yet" in (
        out / "notebooks" / "05_validation.html").read_text()
    base = pd.read_csv(tables / "baseline_comparison.csv")
    learned = base[base["classifier_f1"].notna()]
    assert len(learned) and (learned["positives"] >= 5).all()
    # three seed documents: one held out at a time
    assert (learned["status"] == "3-fold cross-validation by document (3 documents), "
            "seed 20261122").all()
    few = base[base["classifier_f1"].isna()]
    assert len(few) and few["status"].str.startswith(("too few", "no 3-fold split")).all()
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["inputs"]["coding_sheets"]["coding/seed_coder_a.csv"] == hashlib.sha256(
        (paths.CODING / "seed_coder_a.csv").read_bytes()).hexdigest()
    assert "coding sheet coding/seed_coder_a.csv" in page


@pytest.mark.slow
def test_event_sheets_validate_the_events_and_the_outcomes_notebook_says_how_far(
        seed_report, tmp_path):
    import pandas as pd

    # the seed event sheet is development data: notebook 3 says the events are not validated
    out = seed_report[0] / "reports"
    caption = json.loads((out / "figures" / "outcomes_by_type.json").read_text())["caption"]
    assert "(events not validated; development fit only)" in caption
    assert ("Validation of these events: not validated: only development fit, on 30 paragraphs"
            in said(out / "notebooks" / "03_outcomes.ipynb"))
    versus = pd.read_csv(out / "tables" / "event_agreement.csv")
    assert set(versus["set"]) == {"development"}
    types = versus["code"].nunique() - 1
    sheet = paths.CODING / "events" / "seed_events_coder_b.csv"
    hand = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    pooled = versus[versus["code"] == "(pooled)"].iloc[0]
    assert pooled["units"] == 30 * types  # every seed paragraph, every event type
    assert pooled["events"] <= (hand["event"] != "none").sum()
    assert 0 < pooled["side_right"] <= pooled["case_right"] <= pooled["events"]
    page = said(out / "notebooks" / "05_validation.ipynb")
    assert "No event evaluation sheet exists for these documents" in page
    # one seed document's events move to an evaluation sheet
    root = copy_report(seed_report[0], tmp_path)
    held = "002_5d940f0a5119fa01"
    events = root / "coding" / "events"
    (events / "evaluation").mkdir()
    blind = events / "evaluation" / "blind_b.csv"
    hand[hand["doc_id"] == held].to_csv(blind, index=False)
    hand[hand["doc_id"] != held].to_csv(events / sheet.name, index=False)
    assert sorted(ran(report(root))) == ["03_outcomes", "05_validation"]
    out = root / "reports"
    paragraphs = hand.loc[hand["doc_id"] == held, "segment_id"].nunique()
    caption = json.loads((out / "tables" / "case_ledger.json").read_text())["caption"]
    assert f"(events validated on {paragraphs} held-out paragraphs)" in caption
    versus = pd.read_csv(out / "tables" / "event_agreement.csv")
    assert list(versus["set"].unique()) == ["evaluation", "development"]
    pooled = versus[versus["code"] == "(pooled)"].set_index("set")
    assert pooled.loc["evaluation", "units"] == paragraphs * types
    assert pooled.loc["evaluation", ["f1_low", "f1_high"]].notna().all()
    assert "Result, on the evaluation sheets" in said(out / "notebooks" / "05_validation.ipynb")
    # the disagreements, input to the next revision, leave the held-out document out
    disagree = pd.read_csv(out / "tables" / "event_disagreements.csv", keep_default_na=False)
    assert len(disagree) and held not in set(disagree["doc_id"])
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["inputs"]["coding_sheets"]["coding/events/evaluation/blind_b.csv"] == (
        hashlib.sha256(blind.read_bytes()).hexdigest())


@pytest.mark.slow
def test_the_report_labels_development_agreement_as_fit_and_evaluation_as_the_result(
        seed_report, tmp_path):
    import pandas as pd

    # the seed sheet is development data: the report says so, and that nothing is evaluated
    out = seed_report[0] / "reports"
    page = said(out / "notebooks" / "05_validation.ipynb")
    versus = pd.read_csv(out / "tables" / "dictionary_agreement.csv")
    assert set(versus["set"]) == {"development"}
    assert "No evaluation sheet exists" in page
    assert "Every figure below is development fit" in page
    assert "Fit, not a result: on the development sheets" in page
    assert "Result, on the evaluation sheets" not in page
    # one seed document's codes move to an evaluation sheet
    root = copy_report(seed_report[0], tmp_path)
    sheet = root / "coding" / "seed_coder_a.csv"
    lines = sheet.read_text(encoding="utf-8").splitlines(keepends=True)
    held = ",002_5d940f0a5119fa01,"
    (root / "coding" / "evaluation").mkdir()
    blind = root / "coding" / "evaluation" / "blind_a.csv"
    blind.write_text(lines[0] + "".join(ln for ln in lines[1:] if held in ln), encoding="utf-8")
    sheet.write_text("".join(ln for ln in lines if held not in ln), encoding="utf-8")
    assert ran(report(root)) == ["05_validation"]
    tables = root / "reports" / "tables"
    page = said(root / "reports" / "notebooks" / "05_validation.ipynb")
    versus = pd.read_csv(tables / "dictionary_agreement.csv")
    assert list(versus["set"].unique()) == ["evaluation", "development"]
    codes = versus["code"].nunique() - 1
    pooled = versus[versus["code"] == "(pooled)"].set_index(["set", "unit"])
    held_paragraphs = sum(1 for ln in lines if ln.startswith("paragraph" + held)) // codes
    assert pooled.loc[("evaluation", "paragraph"), "units"] == held_paragraphs * codes
    assert pooled.loc[("evaluation", "document"), "units"] == codes
    assert pooled.loc[("development", "document"), "units"] == 2 * codes
    # one evaluation document: no interval at document level, and the text says why
    assert pooled.loc[("evaluation", "document"), ["f1_low", "alpha_low"]].isna().all()
    assert ("Document level, pooled over {} codes and {} unit-code pairs".format(codes, codes)
            in page and "(no interval: too few units)" in page)
    row = pooled.loc[("evaluation", "paragraph")]
    assert row[["f1_low", "f1_high", "alpha_low", "alpha_high"]].notna().all()
    assert ("Result, on the evaluation sheets (coded blind after the codebook was frozen). "
            f"Paragraph level, pooled over {codes} codes and {int(row.units)} unit-code pairs "
            "(descriptive)") in page
    assert (f"alpha {row.alpha:.3f} (95% CI {row.alpha_low:.3f}-{row.alpha_high:.3f})"
            in page)
    assert "No evaluation sheet exists" not in page
    assert "Fit, not a result: on the development sheets" in page
    # the disagreements, input to the next revision, come from development units only
    disagree = pd.read_csv(tables / "disagreements.csv", keep_default_na=False)
    assert len(disagree) and held.strip(",") not in set(disagree["doc_id"])
    prov = json.loads((root / "reports" / "provenance.json").read_text())
    assert prov["inputs"]["coding_sheets"]["coding/evaluation/blind_a.csv"] == hashlib.sha256(
        blind.read_bytes()).hexdigest()
    # a document coded in both sets is not held out: refused, by sheet, line and column
    sheet.write_text("".join(lines), encoding="utf-8")
    proc = report(root, check=2)
    assert ("evaluation/blind_a.csv, line 2, column doc_id: 002_5d940f0a5119fa01 is coded in "
            "a development sheet too, so it is not held out") in proc.stderr


@pytest.mark.slow
def test_a_changed_coding_sheet_reruns_only_the_validation_notebook(seed_report, tmp_path):
    root = copy_report(seed_report[0], tmp_path)
    sheet = root / "coding" / "seed_coder_a.csv"
    lines = sheet.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.startswith(
        "paragraph,002_5d940f0a5119fa01,p6,coder_a,backlash.social_sanction,0"))
    lines[row] = lines[row].replace("social_sanction,0", "social_sanction,1")
    sheet.write_text("".join(lines), encoding="utf-8")
    before = (root / "reports" / "tables" / "dictionary_agreement.csv").read_text()
    assert ran(report(root)) == ["05_validation"]
    assert (root / "reports" / "tables" / "dictionary_agreement.csv").read_text() != before
    # a bad value stops the run, naming the notebook, the sheet, its line and column
    lines[row] = lines[row].replace("social_sanction,1", "social_sanction,yes")
    sheet.write_text("".join(lines), encoding="utf-8")
    kept = checksums(root / "reports")
    proc = report(root, check=2)
    assert "notebook 05_validation.ipynb" in proc.stderr
    assert f"seed_coder_a.csv, line {row + 1}, column value: 'yes' is not allowed" in proc.stderr
    after = checksums(root / "reports")
    assert after.pop("failed/05_validation.ipynb") and after == kept


@pytest.mark.slow
def test_bad_parameters_are_refused_naming_the_file_and_the_key(seed_report, tmp_path):
    root = copy_report(seed_report[0], tmp_path)
    params = tmp_path / "parameters.yaml"
    params.write_text("version: '1'\ncommon:\n  seeed: 1\n"
                      "notebooks:\n  02_framing:\n    colour: red\n")
    proc = report(root, "--parameters", params, check=2)
    assert f"{params}: notebooks.02_framing.colour: 02_framing.ipynb declares no such " \
           "parameter" in proc.stderr
    assert f"{params}: common.seeed: no notebook declares this parameter" in proc.stderr
    params.write_text("version: '1'\ncommon:\n  date_from: '2021/01/01'\n")
    proc = report(root, "--parameters", params, check=2)
    assert "notebook 01_corpus.ipynb: parameter date_from: '2021/01/01' is not an ISO date; " \
           "write YYYY-MM-DD." in proc.stderr


@pytest.mark.slow
def test_a_selection_with_no_documents_still_runs_every_notebook_and_says_so(seed_report,
                                                                              tmp_path):
    root = copy_report(seed_report[0], tmp_path)
    params = tmp_path / "parameters.yaml"
    params.write_text("version: '1'\ncommon:\n  date_from: '2030-01-01'\n")
    proc = report(root, "--parameters", params)
    assert ran(proc) == NOTEBOOKS
    out = root / "reports"
    assert "3 out-of-range document(s) left out" in (out / "notebooks" / "01_corpus.html"
                                                     ).read_text()
    assert "No generic frame is present in the 0 selected document(s)." in (
        out / "notebooks" / "02_framing.html").read_text()
    assert (out / "tables" / "corpus_documents.csv").read_text().count("\n") == 1  # header only


@pytest.mark.slow
def test_markup_in_an_article_reaches_the_report_as_text(tmp_path):
    # HTML in the text and the outlet; a "$" that matplotlib would take for maths
    article = ("A Headline\n\n"
               "Online trolls called her a liar <b>and she was falsely accused</b> of lying, "
               "the report said.\n\n"
               "She was fired by the company <script>alert('x')</script> in May.\n")
    corpus = write_corpus(tmp_path / "corpus", {"a.txt": article.encode()},
                          {"a.txt": {"outlet": "<i>The Outlet</i> $\\frac{ $",
                                     "kind": "news report", "published": "2021-06-01",
                                     "date_basis": "stated"}})
    proc = report(tmp_path, corpus=corpus)
    assert ran(proc) == NOTEBOOKS  # every notebook runs on a one-article corpus too
    out = tmp_path / "reports"
    pages = [out / "index.html", *sorted((out / "notebooks").glob("*.html"))]
    for page in pages:
        text = page.read_text()
        assert "<script>alert" not in text and "<b>and she" not in text, page.name
        assert "<i>The Outlet" not in text, page.name
    index = (out / "index.html").read_text()
    # tags in article text are read as a reader sees them, never rendered
    assert "called her a liar and she was falsely accused" in index  # the KWIC table
    assert "&lt;i&gt;The Outlet&lt;/i&gt;" in (out / "notebooks" / "01_corpus.html").read_text()


def test_notebooks_are_committed_without_outputs_and_default_to_the_report_parameters():
    spec = yaml.safe_load((paths.NOTEBOOKS / "parameters.yaml").read_text())
    assert len(NOTEBOOKS) == 5
    for name in NOTEBOOKS:
        nb = json.loads((paths.NOTEBOOKS / f"{name}.ipynb").read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in code), name
        tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
        assert len(tagged) == 1, name
        defaults = declared_parameters(paths.NOTEBOOKS / f"{name}.ipynb")
        assert defaults["processed_dir"] == "../data/processed"
        assert defaults["output_dir"] == "../scratch"  # exploring never writes the report
        # opened in JupyterLab, a notebook computes what the report computes
        wanted = {k: v for k, v in spec["common"].items() if k in defaults}
        wanted.update(spec["notebooks"].get(name, {}))
        assert {k: defaults[k] for k in wanted} == wanted, name


@pytest.mark.slow
def test_opened_with_their_defaults_the_notebooks_run_and_never_touch_the_report(
        seed_report, tmp_path):
    """As in JupyterLab: the working directory is notebooks/, no parameters
    are injected, and the processed tables sit in ../data/processed. They
    write what the report saved, into ../scratch, and leave ../reports as it
    was, with a filter too (given as one string, as `papermill -p` gives it)."""
    import papermill

    shutil.copytree(seed_report[0] / "processed", tmp_path / "data" / "processed")
    shutil.copytree(paths.CODING, tmp_path / "data" / "coding")
    shutil.copytree(seed_report[0] / "reports", tmp_path / "reports")
    before = checksums(tmp_path / "reports")
    notebooks = shutil.copytree(paths.NOTEBOOKS, tmp_path / "notebooks")
    for name in NOTEBOOKS:
        papermill.execute_notebook(str(notebooks / f"{name}.ipynb"),
                                   str(tmp_path / f"{name}.out.ipynb"), cwd=str(notebooks),
                                   kernel_name="python3", progress_bar=False)
    made = checksums(tmp_path / "scratch")
    report_files = checksums(seed_report[0] / "reports")
    assert made and made == {f: report_files[f] for f in made}
    assert set(made) == {f for f in report_files if f.startswith(("figures/", "tables/"))}
    papermill.execute_notebook(str(notebooks / "02_framing.ipynb"), str(tmp_path / "f.ipynb"),
                               cwd=str(notebooks), kernel_name="python3", progress_bar=False,
                               parameters={"outlets": "Sixth Tone"})
    assert checksums(tmp_path / "reports") == before
    assert "2 document(s) from other outlets left out" in said(tmp_path / "f.ipynb")
    assert checksums(tmp_path / "scratch") != made


def test_a_large_table_is_saved_as_parquet_and_the_page_shows_its_first_rows(seed_build,
                                                                             tmp_path):
    import pyarrow.parquet as pq

    from analysis.report import page, session

    nb = session.Session(seed_build, tmp_path / "out")
    rows = session.LARGE_TABLE_ROWS + 1
    # a text column with missing values, as unlinked events' hints have
    big = pd.DataFrame({"code": ["backlash.censorship"] * rows, "n": range(rows),
                        "hint": [None, "a hint"] * (rows // 2) + [None] * (rows % 2)})
    path = nb.save_table(big, "kwic_like", "A long table.", f"n = {rows} rows")
    assert path.name == "kwic_like.parquet" and not (path.with_suffix(".csv")).exists()
    assert pq.read_table(path).to_pandas().equals(big)  # every row, as it was
    info = json.loads(path.with_suffix(".json").read_text())
    assert info["files"] == ["kwic_like.parquet"] and info["rows"] == rows
    shown = page._table(tmp_path / "out", "kwic_like", info)
    assert shown["shown"] == page.TABLE_ROWS_SHOWN and shown["file"] == "kwic_like.parquet"
    assert "backlash.censorship" in shown["table"] and ">49<" in shown["table"]
    assert "<td></td>" in shown["table"] and ">a hint<" in shown["table"]  # missing: empty
    # the same table small again: a CSV, and the Parquet of the larger run is gone
    nb.save_table(big.head(3), "kwic_like", "A short table.", "n = 3 rows")
    assert (tmp_path / "out" / "tables" / "kwic_like.csv").is_file()
    assert not path.exists()
