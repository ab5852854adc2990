"""Upload checks: every bad file gets one sentence, before any request."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playground import files


@pytest.mark.parametrize(
    ("name", "size", "purpose", "expected"),
    [
        ("notes.txt", 10, "file_search", None),
        ("data.csv", 10, "code_interpreter", None),
        ("data.csv", 10, "file_search", "File search does not take .csv files"),
        ("run.exe", 10, "code_interpreter", "The code interpreter does not take .exe files"),
        ("README", 10, "file_search", "does not take files without an extension files"),
        ("empty.md", 0, "file_search", "empty.md is empty."),
        ("big.pdf", (files.MAX_UPLOAD_MB + 1) * 1024 * 1024, "file_search", "big.pdf is 21.0 MB; the limit"),
        ("", 10, "file_search", "The file has no name."),
        ("../../etc/passwd.txt", 10, "file_search", None),  # only the base name is used
    ],
)
def test_check_upload(name, size, purpose, expected):
    problem = files.check_upload(name, size, purpose)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem


@given(
    name=st.text(max_size=80), size=st.integers(min_value=-5, max_value=10**10), purpose=st.sampled_from(files.PURPOSES)
)
def test_check_upload_never_raises_and_answers_in_a_sentence(name, size, purpose):
    problem = files.check_upload(name, size, purpose)
    assert problem is None or (problem.strip() and problem.endswith("."))
