"""read_table: CSV, Parquet and JSON Lines in; one clear paragraph for anything else."""

from __future__ import annotations

import codecs

import pandas as pd
import pytest

from verdict.data import read_table
from verdict.errors import InvalidInputError

FRAME = pd.DataFrame({"y": ["a", "b", "a"], "x": [1.5, 2.0, 3.25]})


def _one_paragraph(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message and "To fix:" in message
    return message


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_round_trip(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    if suffix == ".csv":
        FRAME.to_csv(path, index=False)
    elif suffix == ".parquet":
        FRAME.to_parquet(path)
    else:
        FRAME.to_json(path, orient="records", lines=True)
    pd.testing.assert_frame_equal(read_table(path), FRAME)


def test_unknown_suffix(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown file type") as exc:
        read_table(tmp_path / "t.xlsx")
    _one_paragraph(exc)


def test_missing_file(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_text("not parquet")
    with pytest.raises(InvalidInputError, match=r"Could not read .* as Parquet") as exc:
        read_table(path)
    assert "corrupt" in _one_paragraph(exc)


def test_truncated_parquet(tmp_path):
    path = tmp_path / "cut.parquet"
    FRAME.to_parquet(path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(InvalidInputError, match="as Parquet") as exc:
        read_table(path)
    _one_paragraph(exc)


def test_non_utf8_csv_names_line_and_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name,y\nplain,1\ncafé,2\n".encode("cp1252"))
    with pytest.raises(InvalidInputError) as exc:
        read_table(path)
    message = _one_paragraph(exc)
    assert "not valid utf-8" in message and "line 3" in message
    assert "encoding='cp1252'" in message and "'café,2'" in message


def test_non_utf8_csv_reads_with_explicit_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name,y\ncafé,1\n".encode("cp1252"))
    assert read_table(path, encoding="cp1252")["name"].tolist() == ["café"]


def test_non_utf8_far_into_a_large_file(tmp_path):
    path = tmp_path / "late.csv"
    good = "x,y\n" + "1,a\n" * 400_000  # more than one scan chunk
    path.write_bytes(good.encode() + "2,é\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match="line 400002"):
        read_table(path)


@pytest.mark.parametrize("bom", ["utf-16", "utf-8-sig"])
def test_byte_order_mark_is_honoured(tmp_path, bom):
    path = tmp_path / "bom.csv"
    path.write_bytes("name,y\ncafé,1\n".encode(bom))
    frame = read_table(path)
    assert list(frame.columns) == ["name", "y"] and frame["name"].tolist() == ["café"]
    assert path.read_bytes().startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def test_unknown_encoding_name(tmp_path):
    path = tmp_path / "t.csv"
    FRAME.to_csv(path, index=False)
    with pytest.raises(InvalidInputError, match="encoding='klingon'") as exc:
        read_table(path, encoding="klingon")
    _one_paragraph(exc)


def test_non_utf8_jsonl(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes('{"name": "café", "y": 1}\n'.encode("latin-1"))
    with pytest.raises(InvalidInputError, match="not valid utf-8") as exc:
        read_table(path)
    _one_paragraph(exc)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.csv", b"", "is empty"),
        ("blank.csv", b"\n\n", "holds no columns"),
        ("ragged.csv", b"a,b\n1,2\n1,2,3\n", "Expected 2 fields in line 3"),
        ("broken.jsonl", b'{"a": 1}\n{bad\n', "as JSON Lines"),
    ],
)
def test_unreadable_text_files(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=match) as exc:
        read_table(path)
    _one_paragraph(exc)


def test_directory_is_not_a_file(tmp_path):
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(InvalidInputError, match="not a file"):
        read_table(folder)
