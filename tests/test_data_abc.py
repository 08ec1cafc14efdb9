"""ABC corpora: the tune splitter on tricky input, reading files and folders, `audiogen data abc`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from audiogen.data.abc import (AbcReadReport, corpus_collections, decode_abc, read_abc, renumber,
                               split_tunes)
from audiogen.data.skips import SkipLog
from audiogen.errors import BadInputError

TWO_TUNES = "X:1\nT:First\nM:6/8\nL:1/8\nK:D\nABc def|\n\nX:2\nT:Second\nM:C|\nK:G\nGABc d2d2|\n"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiogen", "data", "abc", *args],
                          capture_output=True, text=True, env={**os.environ, "CI": "1"})


def test_fields_and_numbers_of_plain_tunes():
    tunes, counts = split_tunes(TWO_TUNES, "t.abc")
    assert [(t.number, t.title, t.meter, t.unit, t.key, t.line) for t in tunes] == [
        (1, "First", "6/8", "1/8", "D", 1), (2, "Second", "C|", None, "G", 8)]
    assert tunes[0].text == "X:1\nT:First\nM:6/8\nL:1/8\nK:D\nABc def|\n"
    assert all(t.source == "t.abc" for t in tunes)
    assert counts["tunes"] == 2 and counts["no_body"] == counts["garbage_lines"] == 0


def test_tricky_separators_crlf_duplicates_and_no_trailing_newline():
    text = ("%abc-2.1\r\n%%pagewidth 21cm\r\n% a comment\r\n"
            "X: 7\r\nT:A\r\nK:C\r\nCDEF|\r\n"   # no blank line before the next X:
            "X:7\r\nT:B\r\n% comment in the header stays\r\nK:C\r\n%%MIDI program 1\r\ncdef|\r\n\r\n\r\n"
            "% between tunes\r\n"
            "X:x1\r\nT:C\r\nK:Am\r\nA,B,CD|")  # unparsable number, no final newline
    tunes, counts = split_tunes(text)
    assert [(t.title, t.number, t.line) for t in tunes] == [("A", 7, 4), ("B", 7, 8), ("C", None, 17)]
    assert tunes[1].text == "X:7\nT:B\n% comment in the header stays\nK:C\n%%MIDI program 1\ncdef|\n"
    assert tunes[2].text.endswith("A,B,CD|\n")
    assert counts["duplicate_numbers"] == 1 and counts["garbage_lines"] == 0


def test_tunes_without_a_body_are_dropped():
    text = ("X:1\nT:no K line\nM:4/4\n\n"
            "X:2\nT:K but only lyrics and comments\nK:C\nw:la la\n% nothing\n\n"
            "X:3\nT:chord symbols only\nK:C\n\"Am\" | \"G\" |\n\n"
            "X:4\nT:header ended by a blank line\n\nK:C\nCDEF|\n\n"
            "X:5\nT:kept\nK:C\nz4|\n")
    tunes, counts = split_tunes(text)
    assert [t.title for t in tunes] == ["kept"]
    assert counts["no_body"] == 4
    # The K:/music lines after X:4's blank line are outside any tune: garbage, never a tune of their own.
    assert counts["garbage_lines"] == 2 and counts["garbage_first"] == 19


def test_garbage_lines_are_dropped_and_located():
    text = ("junk before the first tune\n"
            "X:1\nT:One\nK:C\nCDEF|\n\x00\x01\x02\x7f\x1b[0m\nGABc|\n\n"
            "stray words between tunes\n"
            "X:2\nT:Two\nK:G\nGABc|\n")
    tunes, counts = split_tunes(text)
    assert [t.text for t in tunes] == ["X:1\nT:One\nK:C\nCDEF|\nGABc|\n", "X:2\nT:Two\nK:G\nGABc|\n"]
    assert counts["garbage_lines"] == 3 and counts["garbage_first"] == 1


def test_body_broken_by_a_blank_line_is_rejoined_but_free_text_ends_the_tune():
    tunes, counts = split_tunes("X:1\nT:Broken\nK:A\nABcd|\n\n\ndcBA|]\n\nX:2\nT:Ended\nK:A\nABcd|\n\nFine.\n")
    assert [t.text for t in tunes] == ["X:1\nT:Broken\nK:A\nABcd|\ndcBA|]\n", "X:2\nT:Ended\nK:A\nABcd|\n"]
    assert counts["rejoined_lines"] == 2 and counts["garbage_lines"] == 1


def test_file_header_fields_go_into_every_tune_that_lacks_them():
    text = "%%scale 0.8\nT:Book title\nL:1/16\nM:3/4\nR:waltz\n\nX:1\nT:Own meter\nM:6/8\nK:D\nd2|\n\nX:2\nT:Inherits\nK:G\nG2|\n\nX:3\nK:C\nC|\n"
    tunes, counts = split_tunes(text)
    assert tunes[2].title == ""  # a file-header T: names the book, not each tune
    assert tunes[0].text == "X:1\nT:Own meter\nM:6/8\nL:1/16\nR:waltz\nK:D\nd2|\n"
    assert tunes[1].text == "X:2\nT:Inherits\nL:1/16\nM:3/4\nR:waltz\nK:G\nG2|\n"
    assert (tunes[1].title, tunes[1].meter, tunes[1].unit) == ("Inherits", "3/4", "1/16")
    assert counts["header_fields"] == 4 and counts["garbage_lines"] == 0


def test_renumber_gives_one_blank_line_between_tunes_and_round_trips():
    tunes, _ = split_tunes(TWO_TUNES + "\n\n\nX:1\nT:Third\nK:C\nC4|")
    text = renumber(tunes)
    assert text.startswith("X:1\nT:First") and "\n\nX:2\nT:Second" in text and "\n\nX:3\nT:Third" in text
    assert "\n\n\n" not in text and text.endswith("C4|\n")
    again, counts = split_tunes(text)
    assert [t.number for t in again] == [1, 2, 3] and counts["duplicate_numbers"] == 0
    assert [t.text.partition("\n")[2] for t in again] == [t.text.partition("\n")[2] for t in tunes]


def test_decoding_utf8_bom_windows_1252_and_dos_letters():
    assert decode_abc("\ufeffT:Café".encode()) == ("T:Café", "utf-8")
    assert decode_abc("T:Café “x”".encode("cp1252")) == ("T:Café “x”", "cp1252")
    assert decode_abc(b"T:\x81\x8d") == ("T:üì", "latin-1+c1-repaired")  # undefined in cp1252
    # UTF-8 text that carries DOS letters as C1 controls (music21's Essen files).
    assert decode_abc("T: Bl\x81melein, Stra\x9een".encode()) == ("T: Blümelein, Straßen", "utf-8+c1-repaired")


def test_read_abc_folder_skips_bad_files_and_keeps_good_tunes(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "good.abc").write_text(TWO_TUNES)
    (tmp_path / "latin.ABC").write_bytes("X:1\nT:Été\nK:C\nCDE|\n".encode("latin-1"))
    (tmp_path / "garbage.abc").write_bytes(b"X:1\nT:G\nK:C\nCDE|\n\x00\xff\xfe\x03\n")
    (tmp_path / "binary.abc").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty.abc").write_bytes(b"")
    (tmp_path / "notes.abc").write_text("just some words\n")
    (tmp_path / "._good.abc").write_bytes(b"\x00\x05Mac metadata")
    (tmp_path / "readme.txt").write_text(TWO_TUNES)
    skips, report = SkipLog(), AbcReadReport()
    tunes = read_abc([tmp_path], skips=skips, report=report)
    assert [t.title for t in tunes] == ["G", "Été", "First", "Second"]
    assert tunes[1].source == str(tmp_path / "latin.ABC")
    assert report.files == 3 and report.tunes == 4 and report.garbage_lines == 1
    assert report.garbage_files == [{"path": str(tmp_path / "garbage.abc"), "lines": 1, "first_line": 5}]
    assert dict(skips.reasons) == {"binary": 1, "empty": 1, "not ABC": 1}
    err = capsys.readouterr().err
    assert f"{tmp_path / 'garbage.abc'}: dropped 1 garbage line(s)" in err and "binary.abc" in err
    with pytest.raises(BadInputError, match="garbage.abc: 1 garbage line"):
        read_abc([tmp_path / "garbage.abc"], skips=SkipLog(strict=True))
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(BadInputError, match="no .abc files"):
        read_abc([tmp_path / "empty_dir"], skips=skips)


def test_cli_cleans_a_users_folder(tmp_path):
    data = tmp_path / "mine"
    data.mkdir()
    (data / "a.abc").write_text(TWO_TUNES + "X:1\nT:no body\n")
    (data / "b.abc").write_bytes(b"X:1\nT:Third\nK:C\nC4|\n\x01\x02\n")
    (data / "c.abc").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    out = data / "clean.abc"
    first = _run("--out", str(out), "--data", str(data), "--json")
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert (result["tunes"], result["no_body"], result["garbage_lines"]) == (3, 1, 1)
    assert result["skipped"]["count"] == 1 and result["skipped"]["files"][0]["path"].endswith("c.abc")
    assert result["sources"][0]["kind"] == "data" and result["duplicate_numbers"] == 1
    text = out.read_text()
    assert text.startswith("% 3 ABC tunes") and "\n\nX:1\nT:First" in text and "\n\nX:3\nT:Third\nK:C\nC4|\n" in text
    again = _run("--out", str(out), "--data", str(data))  # must not read its own output back in
    assert again.returncode == 0 and "3 tunes" in again.stdout
    strict = _run("--out", str(tmp_path / "s.abc"), "--data", str(data), "--strict")
    assert strict.returncode == 2 and not (tmp_path / "s.abc").exists()
    # --strict stops at the first bad tune: a.abc's tune without a body (b.abc's garbage line comes later)
    assert strict.stderr.strip().count("\n") == 0 and "a.abc: 1 of its tunes have no body" in strict.stderr


def test_cli_collection_and_unknown_name(tmp_path):
    if "miscFolk" not in corpus_collections():
        pytest.skip("music21's corpus has no miscFolk collection")
    bad = _run("--out", str(tmp_path / "x.abc"), "--collection", "nottingham")
    assert bad.returncode == 2 and "unknown ABC collection 'nottingham'" in bad.stderr
    assert "oneills1850" in bad.stderr and "essenFolksong" in bad.stderr and bad.stderr.count("\n") == 1
    out = tmp_path / "folk.abc"
    ok = _run("--out", str(out), "-c", "miscFolk")
    assert ok.returncode == 0, ok.stderr
    assert "185 tunes (miscFolk 185)" in ok.stdout
    text = out.read_text()
    assert "% licence of miscFolk" in text and "X:185\n" in text and "X:186\n" not in text
