"""CSV that a spreadsheet cannot turn into a formula, and reads back whole."""

import pandas as pd

from analysis.core.fileio import csv_bytes, from_spreadsheet, spreadsheet_safe


def test_text_that_starts_like_a_formula_gets_an_apostrophe_and_numbers_do_not():
    assert [spreadsheet_safe(v) for v in ("=SUM(A1:A9)", "+1 555", "@cmd", "-x", "\tx",
                                          "plain", "-0.5", "+3", 7, None)] == [
        "'=SUM(A1:A9)", "'+1 555", "'@cmd", "'-x", "'\tx", "plain", "-0.5", "+3", 7, None]
    for value in ("=SUM(A1:A9)", "-x", "plain", "'quoted", "'"):
        assert from_spreadsheet(spreadsheet_safe(value)) == value


def test_csv_bytes_neutralises_text_columns_only_and_keeps_the_layout():
    df = pd.DataFrame({"text": ["=1+1", "fine", None], "n": [-1, 2, 3],
                       "share": [-0.5, 0.25, 1.0]})
    assert csv_bytes(df) == b"text,n,share\n'=1+1,-1,-0.5\nfine,2,0.25\n,3,1.0\n"
    plain = pd.DataFrame({"a": ["x", "y"], "b": [1, 2]})
    assert csv_bytes(plain) == plain.to_csv(index=False, lineterminator="\n").encode()
