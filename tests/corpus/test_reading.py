"""Reading: exact decoding, the input formats, and what is set aside (never
silently dropped)."""

import codecs
import hashlib

import pytest
from conftest import ARTICLE, run_cli, snapshot, table, write_corpus

from analysis.core.errors import InputError
from analysis.corpus import manifest
from analysis.corpus.build import MANIFEST_KEPT, build
from analysis.corpus.manifest import Manifest, read_manifest


def _build(corpus, out):
    proc = run_cli("build", "--corpus", corpus, "--processed", out, check=0)
    return proc.stdout + proc.stderr


def test_utf8_bom_is_removed_and_recorded_and_offsets_skip_it(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": codecs.BOM_UTF8 + ARTICLE.encode()})
    _build(corpus, tmp_path / "o")
    docs, lines = table(tmp_path / "o", "documents"), table(tmp_path / "o", "lines")
    assert docs.loc[0, "encoding"] == "utf-8-sig"
    assert docs.loc[0, "title"] == "A Headline Without a Full Stop"
    assert lines.loc[0, "start"] == 0 and lines.loc[0, "text"].startswith("A Headline")


def test_gb18030_chinese_text_is_detected_and_decoded_exactly(tmp_path):
    text = ("北京法院驳回了诉讼。原告表示将提起上诉，并称自己受到了不公正的指控。\n\n"
            "支持者在网上发起声援活动，但相关帖子很快被删除。警方称没有发现证据。\n")
    corpus = write_corpus(tmp_path / "c", {"zh.txt": text.encode("gb18030")},
                          {"zh.txt": {"language": "zh"}})
    _build(corpus, tmp_path / "o")
    docs = table(tmp_path / "o", "documents")
    assert docs.loc[0, "encoding"] == "gb18030"
    assert docs.loc[0, "body"] == text.strip().replace("\n\n", "\n\n")
    sents = table(tmp_path / "o", "segments").query("unit == 'sentence'")
    assert list(sents.text[:2]) == ["北京法院驳回了诉讼。", "原告表示将提起上诉，并称自己受到了不公正的指控。"]


def test_declared_encoding_in_the_manifest_is_used(tmp_path):
    text = "Zürich court: the café owner’s appeal failed.\n"
    corpus = write_corpus(tmp_path / "c", {"a.txt": text.encode("cp1252")},
                          {"a.txt": {"encoding": "cp1252"}})
    _build(corpus, tmp_path / "o")
    docs = table(tmp_path / "o", "documents")
    assert docs.loc[0, "encoding"] == "cp1252"
    assert docs.loc[0, "body"] == "Zürich court: the café owner's appeal failed."


def test_empty_undecodable_and_duplicate_articles_are_set_aside_with_reasons(tmp_path):
    corpus = write_corpus(tmp_path / "c", {
        "a.txt": ARTICLE.encode(),
        "empty.txt": b"  \n\n",
        "binary.txt": bytes(range(256)) * 4,
        "copy.txt": ARTICLE.encode(),
    })
    out = _build(corpus, tmp_path / "o")
    assert "1 document(s), 3 set aside (duplicate: 1, empty: 1, undecodable: 1)" in out
    q = table(tmp_path / "o", "quarantine").set_index("doc_id")
    assert q.loc["empty", "reason"] == "empty"
    assert "empty.txt: the file is empty" in q.loc["empty", "detail"]
    assert q.loc["binary", "reason"] == "undecodable"
    assert "binary.txt" in q.loc["binary", "detail"]
    assert q.loc["copy", "reason"] == "duplicate"
    assert "exact duplicate of 'a'" in q.loc["copy", "detail"]
    assert list(table(tmp_path / "o", "documents").doc_id) == ["a"]


def test_files_missing_from_the_manifest_are_listed_not_read(seed_corpus, tmp_path):
    (seed_corpus / "stray.txt").write_text("An article nobody registered.\n")
    (seed_corpus / "sub").mkdir()
    (seed_corpus / "sub" / "other.html").write_text("<p>x</p>")
    out = _build(seed_corpus, tmp_path / "o")
    assert "3 document(s), 2 set aside (unlisted: 2)" in out
    q = table(tmp_path / "o", "quarantine")
    assert sorted(q.file) == ["stray.txt", "sub/other.html"]
    assert all("not in manifest.csv" in d and "analysis add" in d for d in q.detail)


def test_jsonl_collection_records_become_documents_and_bad_records_are_kept_aside(tmp_path):
    data = ("\n".join([
        '{"id": "r1", "text": "First record. It has two sentences.", "outlet": "Outlet A",'
        ' "published": "2021-09"}',
        '{"text": "A record without an id."}',
        "{not json",
        '{"id": "r3", "body": "no text field"}',
        '{"id": "r4", "text": "Bad date.", "published": "September 2021"}',
        '{"id": "r1", "text": "Repeats the id r1."}',
    ]) + "\n").encode()
    corpus = write_corpus(tmp_path / "c", {"col.jsonl": data})
    _build(corpus, tmp_path / "o")
    docs = table(tmp_path / "o", "documents").set_index("doc_id")
    assert list(docs.index) == ["col.r1", "col.000002"]
    assert docs.loc["col.r1", "outlet"] == "Outlet A"
    assert docs.loc["col.r1", "published"] == "2021-09"
    assert docs.loc["col.r1", "record"] == 1 and docs.loc["col.r1", "format"] == "jsonl"
    q = table(tmp_path / "o", "quarantine").sort_values("record")
    assert list(q.record) == [3, 4, 5, 6]
    details = list(q.detail)
    assert "col.jsonl, line 3: not valid JSON" in details[0]
    assert "line 4, field 'text': missing or not a string" in details[1]
    assert "line 5, field 'published': 'September 2021' is not a date" in details[2]
    assert "line 6: record id 'r1' repeats the record on line 1" in details[3]


def test_csv_collection_with_quoted_multiline_text(tmp_path):
    data = ('id,outlet,text\n'
            'x1,Outlet B,"Line one of the article.\n\nA second paragraph, with a comma."\n'
            'x2,Outlet B,""\n').encode()
    corpus = write_corpus(tmp_path / "c", {"col.csv": data})
    _build(corpus, tmp_path / "o")
    docs = table(tmp_path / "o", "documents")
    assert list(docs.doc_id) == ["col.x1"]
    assert docs.loc[0, "n_paragraphs"] == 2 and docs.loc[0, "record"] == 2
    q = table(tmp_path / "o", "quarantine")
    assert list(q.reason) == ["empty"] and q.loc[0, "record"] == 5


def test_html_page_keeps_the_article_and_audits_what_the_extractor_discarded(tmp_path):
    paragraphs = [f"Paragraph {i} of the report says the court heard the case and the accuser "
                  f"spoke to reporters outside for the {i}th time this year." for i in range(1, 6)]
    html = ("<html><head><title>Court hears case</title><script>var x = 1;</script></head><body>"
            "<nav><ul><li><a href='/'>Home</a></li><li><a href='/world'>World</a></li></ul></nav>"
            "<article><h1>Court hears case</h1>"
            + "".join(f"<p>{p}</p>" for p in paragraphs)
            + "</article><footer><p>Copyright Example News. All rights reserved.</p></footer>"
            "</body></html>")
    corpus = write_corpus(tmp_path / "c", {"page.html": html.encode()})
    _build(corpus, tmp_path / "o")
    lines = table(tmp_path / "o", "lines")
    body = list(lines.query("role == 'body'").text)
    assert body == paragraphs
    discarded = lines.query("rule == 'extractor_discarded'").text.tolist()
    assert "Home" in discarded and "World" in discarded
    footer = lines[lines.text == "Copyright Example News. All rights reserved."]
    assert list(zip(footer.role, footer.rule)) == [("credit", "copyright")]
    assert "var x" not in " ".join(lines.text)
    docs = table(tmp_path / "o", "documents")
    assert docs.loc[0, "format"] == "html" and docs.loc[0, "title"] == "Court hears case"


def test_an_article_with_no_body_is_set_aside_but_its_lines_are_audited(tmp_path):
    corpus = write_corpus(tmp_path / "c", {
        "a.txt": ARTICLE.encode(), "menu.txt": "Subscribe to our newsletter\n\n• Home\n".encode()})
    out = _build(corpus, tmp_path / "o")
    assert "no_body: 1" in out
    q = table(tmp_path / "o", "quarantine")
    assert list(q.reason) == ["no_body"] and "add a cleaning profile" in q.loc[0, "detail"]
    assert set(table(tmp_path / "o", "lines").doc_id) == {"a", "menu"}


def test_a_record_id_that_repeats_a_manifest_id_is_set_aside_and_the_first_kept(tmp_path):
    corpus = write_corpus(tmp_path / "c", {
        "col.r1.txt": "Title One\n\nThe first article's only paragraph.\n".encode(),
        "col.jsonl": b'{"id": "r1", "text": "Another article with the same id."}\n'})
    _build(corpus, tmp_path / "o")
    docs = table(tmp_path / "o", "documents")
    assert list(docs.doc_id) == ["col.r1"]
    assert docs.loc[0, "body"] == "The first article's only paragraph."
    lines = table(tmp_path / "o", "lines")
    assert list(lines.text) == ["Title One", "", "The first article's only paragraph."]
    q = table(tmp_path / "o", "quarantine")
    assert list(q.reason) == ["duplicate_id"] and "already used by an earlier article" in q.detail[0]


def test_the_same_corpus_in_two_folders_gives_the_same_bytes_and_no_absolute_path(tmp_path):
    """What is set aside names files relative to the corpus folder, so the
    outputs (quarantine included) do not depend on where the corpus lives."""
    articles = {"a.txt": ARTICLE.encode(), "empty.txt": b"",
                "col.jsonl": b'{"id": "r1", "text": "A record."}\nnot json\n',
                "weird.xyz": b"some bytes\n"}
    outs = []
    for where in ("first/place", "second"):
        corpus = write_corpus(tmp_path / where / "corpus", articles)
        (corpus / "stray.txt").write_text("a file nobody listed\n")
        out = tmp_path / where / "processed"
        run_cli("build", "--corpus", corpus, "--processed", out, check=0)
        outs.append(out)
    a, b = snapshot(outs[0]), snapshot(outs[1])  # the outputs, not the checksum cache
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name][0] == b[name][0], name
    q = table(outs[0], "quarantine")
    assert set(q.reason) == {"empty", "bad_record", "unsupported_format", "unlisted"}
    assert not any(str(tmp_path) in d for d in q.detail)
    assert q.set_index("reason").loc["unlisted", "detail"].startswith("stray.txt: in the corpus")


def test_manifest_rows_read_back_alike_across_its_storage_blocks(tmp_path, monkeypatch):
    # the manifest is held as columns in blocks of rows; three rows a block here
    articles = {f"a{i}.txt": f"Article number {i} on the court ruling.\n".encode()
                for i in range(8)}
    meta = {"a2.txt": {"outlet": "Daily", "published": "2021-09-14"},
            "a7.txt": {"notes": "seen twice, kept once"}}
    corpus = write_corpus(tmp_path / "corpus", articles, meta)
    built, usual = {}, Manifest.BLOCK
    for block in (usual, 3):
        monkeypatch.setattr(Manifest, "BLOCK", block)
        entries = read_manifest(corpus)
        rows = list(entries)
        assert [e.doc_id for e in rows] == [f"a{i}" for i in range(8)]
        assert [e.line for e in rows] == list(range(2, 10))
        assert rows[2].meta == {"outlet": "Daily", "published": "2021-09-14"}
        assert rows[7].meta == {"notes": "seen twice, kept once"} and rows[0].meta == {}
        assert len(entries) == 8 and entries[5] == rows[5] and entries[-1] == rows[7]
        assert entries[2:7] == rows[2:7] and entries[::3] == rows[::3]
        assert entries.take([1, 3, 7]) == [rows[1], rows[3], rows[7]]
        assert list(entries.rows("file", "outlet", "special")) == [
            (e.file, e.meta.get("outlet"), e.special) for e in rows]
        build(corpus, tmp_path / f"out{block}", jobs=1)
        built[block] = {k: v[0] for k, v in snapshot(tmp_path / f"out{block}").items()}
    assert built[3] == built[usual]


def _never_checked(*args):
    raise AssertionError("the rows were checked again")


def test_a_kept_manifest_is_read_back_only_while_its_bytes_folder_and_code_are_unchanged(
        tmp_path, monkeypatch):
    articles = {f"a{i}.txt": f"Article number {i} on the appeal.\n".encode() for i in range(7)}
    meta = {"a1.txt": {"outlet": "Weekly", "published": "2022-03"},
            "a5.txt": {"language": "zh", "notes": "from an archive"}}
    corpus = write_corpus(tmp_path / "corpus", articles, meta)
    kept = tmp_path / "out" / ".manifest.arrow"
    kept.parent.mkdir()
    monkeypatch.setattr(Manifest, "BLOCK", 3)  # several blocks, kept as they were
    fields = ("doc_id", "file", "line", "sha256", "encoding", "special", "outlet", "published",
              "language", "notes")
    first = read_manifest(corpus, remember=kept)
    assert not kept.exists()  # only once the caller's run has succeeded
    first.keep()
    assert kept.exists()
    checked = manifest._read_rows_checked
    monkeypatch.setattr(manifest, "_read_rows_checked", _never_checked)
    again = read_manifest(corpus, remember=kept)
    assert list(again.rows(*fields)) == list(first.rows(*fields))
    rows = list(first)
    assert list(again) == rows and len(again) == 7
    assert again[2:7] == rows[2:7] and again[-1] == rows[6] and again[::3] == rows[::3]
    assert again.take([0, 4, 5]) == [rows[0], rows[4], rows[5]]
    first.spill(tmp_path / "spilled.arrow")  # the build reads its rows from a file too
    assert first._blocks is None and list(first) == rows and first[3:5] == rows[3:5]
    assert again.source_sha256 == first.source_sha256 == hashlib.sha256(
        (corpus / "manifest.csv").read_bytes()).hexdigest()
    assert again._blocks is None and again._starts == [0, 3, 6, 7]  # read from the file

    # anything the rows depend on changed: checked again
    text = (corpus / "manifest.csv").read_text(encoding="utf-8")
    (corpus / "manifest.csv").write_text(text.replace("Weekly", "Daily"), encoding="utf-8")
    with pytest.raises(AssertionError, match="checked again"):
        read_manifest(corpus, remember=kept)
    monkeypatch.setattr(manifest, "_read_rows_checked", checked)
    assert read_manifest(corpus, remember=kept)[1].meta["outlet"] == "Daily"
    (corpus / "manifest.csv").write_text(text.replace("2022-03", "2022-13"), encoding="utf-8")
    with pytest.raises(InputError, match="'2022-13' is not a real calendar date"):
        read_manifest(corpus, remember=kept)  # a kept manifest never hides a problem
    (corpus / "manifest.csv").write_text(text, encoding="utf-8")
    (corpus / "a4.txt").unlink()  # the same bytes, a file gone
    with pytest.raises(InputError, match="a4.txt does not exist"):
        read_manifest(corpus, remember=kept)
    (corpus / "a4.txt").symlink_to(corpus / "a3.txt")  # back, as a link
    assert read_manifest(corpus, remember=kept)[4].special == "symbolic link"
    (corpus / "a4.txt").unlink()
    (corpus / "a4.txt").write_bytes(articles["a4.txt"])
    assert read_manifest(corpus, remember=kept)[4].special == ""
    monkeypatch.setattr(manifest, "code_fingerprint", lambda *names: "other code")
    monkeypatch.setattr(manifest, "_read_rows_checked", _never_checked)
    with pytest.raises(AssertionError, match="checked again"):
        read_manifest(corpus, remember=kept)


def test_a_damaged_kept_manifest_costs_a_check_and_a_bad_manifest_is_never_kept(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"a.txt": b"One article.\n"})
    kept = tmp_path / ".manifest.arrow"
    kept.write_bytes(b"not an Arrow file")
    entries = read_manifest(corpus, remember=kept)
    assert [e.doc_id for e in entries] == ["a"]
    entries.keep()
    assert read_manifest(corpus, remember=kept)[0].file == "a.txt"
    kept.unlink()
    with open(corpus / "manifest.csv", "a", encoding="utf-8") as f:
        f.write("b,missing.txt,,,,,,,,,\n")
    with pytest.raises(InputError, match="missing.txt does not exist"):
        read_manifest(corpus, remember=kept)
    assert not kept.exists()


def test_a_build_with_nothing_changed_reads_its_kept_manifest(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", {"a.txt": ARTICLE.encode()})
    out = tmp_path / "out"
    assert not build(corpus, out, jobs=1).up_to_date
    assert (out / MANIFEST_KEPT).exists()
    monkeypatch.setattr(manifest, "_read_rows_checked", _never_checked)
    assert build(corpus, out, jobs=1).up_to_date


def test_the_folder_listing_finds_every_file_in_any_name_and_says_what_is_left_over(
        tmp_path, monkeypatch):
    import os

    from analysis.corpus.readers import unlisted_files

    monkeypatch.setattr(manifest.Listing, "CHUNK", 3)  # names taken in three at a time
    corpus = tmp_path / "corpus"
    (corpus / "2021" / "may").mkdir(parents=True)
    names = ["a.txt", "2021/b.txt", "2021/may/c.html", "2021/may/d.txt", "é.txt",
             os.fsdecode(b"latin-\xe9.txt")]  # a name that is not UTF-8
    for name in names + ["stray.txt", "2021/may/.hidden", "README.md"]:
        (corpus / name).write_bytes(b"text")
    (corpus / "linked.txt").symlink_to(corpus / "a.txt")
    rows = [("d1", "a.txt"), ("d2", "2021/may/d.txt"), ("d3", "é.txt")]
    (corpus / "manifest.csv").write_text("doc_id,file\n" + "".join(f"{d},{f}\n" for d, f in rows))

    listing = manifest.list_files(corpus)
    assert len(listing) == len(names) + 4 and listing.special == {"linked.txt": "symbolic link"}
    found = listing.find(names + ["missing.txt", "2021", "linked.txt"])
    assert (found[:len(names)] >= 0).all() and len(set(found[:len(names)])) == len(names)
    assert found[len(names):].tolist() == [-1, -1, -1]
    assert listing.has_file("manifest.csv") and not listing.has_file("Manifest.csv")
    assert listing.file_set() == set(names) | {"stray.txt", "2021/may/.hidden", "README.md",
                                               "manifest.csv"}
    # every name with the same hash: the names themselves still tell them apart
    monkeypatch.setattr(manifest, "hash", lambda s: 7, raising=False)
    alike = manifest.list_files(corpus)
    assert (alike.hashes == 7).all() and alike.digest() == listing.digest()
    assert [alike.names[i].as_py() for i in alike.find(names[::-1])] == [
        os.fsencode(n) for n in names[::-1]]

    entries = read_manifest(corpus, alike)
    left = unlisted_files(entries, alike)
    assert [(q.file, q.reason) for q in left] == sorted(
        [(n, "unlisted") for n in ("2021/b.txt", "2021/may/c.html", names[-1], "stray.txt")]
        + [("linked.txt", "not_regular_file")])


def test_the_listing_digest_changes_with_any_name_or_kind_and_not_with_the_walk_order(
        tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name in ("b.txt", "a.txt", "ab.txt"):
        (corpus / name).write_text("x")
    first = manifest.list_files(corpus).digest()
    empty = manifest.Listing([])
    assert empty.find(["a.txt"]).tolist() == [-1] and empty.digest() != first
    assert manifest.Listing(["ab.txt", "a.txt", "b.txt"]).digest() == first
    assert manifest.Listing(["a.txtab.txt", "b.txt"]).digest() != first  # names kept apart
    (corpus / "c.txt").write_text("x")
    assert manifest.list_files(corpus).digest() != first
    (corpus / "c.txt").unlink()
    (corpus / "c.txt").symlink_to(corpus / "a.txt")
    linked = manifest.list_files(corpus)
    assert linked.digest() != first and len(linked) == 3


def test_a_listing_given_is_used_even_when_it_holds_no_file(tmp_path, monkeypatch):
    def walked(_):
        raise AssertionError("the folder was listed again")

    monkeypatch.setattr(manifest, "list_files", walked)
    with pytest.raises(InputError, match="no manifest"):
        read_manifest(tmp_path, manifest.Listing([]))
