"""A corpus of English and Chinese articles through the whole report, twice.
The Chinese articles were written for this test."""

import csv
import hashlib
import shutil

import numpy as np
import pytest
from matplotlib.image import imread

from analysis.core import paths
from analysis.workflow import CACHES
from conftest import run_cli, table

ARTICLES = {
    "zh_simplified.txt": ("澎湃测试", "2022-08-11", (
        "弦子诉朱军案二审宣判\n\n"
        "北京市第一中级人民法院今天驳回了弦子的上诉，维持原判。\n\n"
        "弦子在法院外对支持者说，她不会放弃，并感谢所有声援她的人。\n\n"
        "此前她的微博帐号被封禁，相关话题也遭到屏蔽，不少网友在网上对她进行网暴。\n")),
    "zh_traditional.txt": ("端傳媒測試", "2023-12-13", (
        "成都地鐵案一審駁回\n\n"
        "成都鐵路運輸第一法院昨天駁回了何某的訴訟請求。\n\n"
        "何某此前以名譽權糾紛為由起訴兩名女子，稱她們誣告他偷拍。\n\n"
        "兩名女子的律師表示，她們從未捏造事實，法院的判決是對的。\n")),
}


def mixed_corpus(folder):
    """The seed corpus with two Chinese articles added to its manifest."""
    shutil.copytree(paths.RAW, folder)
    with open(folder / "manifest.csv", "a", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        for name, (outlet, published, text) in ARTICLES.items():
            data = text.encode()
            (folder / name).write_bytes(data)
            w.writerow([name[:-4], name, hashlib.sha256(data).hexdigest(), outlet,
                        "news report", "", published, "stated", "", "", ""])
    return folder


def checksums(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in CACHES}


@pytest.mark.slow
def test_a_mixed_english_and_chinese_corpus_reports_byte_identically_twice(tmp_path):
    corpus = mixed_corpus(tmp_path / "corpus")
    runs = []
    for name in ("a", "b"):
        root = tmp_path / name
        run_cli("report", "--corpus", corpus, "--processed", root / "processed",
                "--out", root / "reports", check=0)
        runs.append(root)
    a, b = runs
    assert checksums(a / "reports") == checksums(b / "reports")
    assert checksums(a / "processed") == checksums(b / "processed")

    docs = table(a / "processed", "documents").set_index("doc_id")
    assert docs.loc["zh_simplified", "language"] == "zh"
    assert docs.loc["zh_traditional", "language"] == "zh"
    doc_codes = table(a / "processed", "doc_codes")
    present = doc_codes[doc_codes.present]
    zh = set(present[present.doc_id == "zh_traditional"].code)
    assert {"issue.legal_process", "backlash.legal_retaliation",
            "backlash.false_accusation"} <= zh
    cases = table(a / "processed", "case_mentions")
    assert set(cases[cases.doc_id == "zh_simplified"].case_id) == {"zhou_xiaoxuan_zhu_jun_2018"}
    assert "chengdu_metro_2023" in set(cases[cases.doc_id == "zh_traditional"].case_id)
    # the outlet figure names the Chinese outlets: matplotlib reports every
    # glyph its fonts lack ("Glyph ... missing from font(s)") in the
    # executed notebook's output; none is reported
    html = (a / "reports" / "index.html").read_text(encoding="utf-8")
    assert "documents_by_outlet.png" in html
    png = imread(a / "reports" / "figures" / "documents_by_outlet.png")
    assert png.shape[0] > 100 and np.unique(png.reshape(-1, png.shape[-1]), axis=0).shape[0] > 2
    log = "".join(p.read_text(encoding="utf-8") for p in (a / "reports" / "notebooks")
                  .glob("*.ipynb"))
    assert "missing from font" not in log
