"""Passwords of URLs are masked wherever a URL can reach an output."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nassb.priors.secrets import mask_all, mask_url


@pytest.mark.parametrize("text, masked", [
    ("postgresql://user:PASSWORD@host/db", "postgresql://user:***@host/db"),
    ("postgresql+psycopg://user:PASSWORD@host:5432/db?sslmode=require",
     "postgresql+psycopg://user:***@host:5432/db?sslmode=require"),
    ("postgresql://:PASSWORD@host/db", "postgresql://:***@host/db"),
    # an unescaped @ or / inside the password stays hidden
    ("postgresql://user:PASS@WORD@host/db", "postgresql://user:***@host/db"),
    ("postgresql://user:PASS/WORD@host/db", "postgresql://user:***@host/db"),
    # inside a longer text: a command line, an error message, quotes
    ("nassb design --storage postgresql://u:PASSWORD@h/db --trials 5",
     "nassb design --storage postgresql://u:***@h/db --trials 5"),
    ("cannot open the storage 'postgresql://u:PASSWORD@h/db': connection refused",
     "cannot open the storage 'postgresql://u:***@h/db': connection refused"),
    ('"mysql://a:PASSWORD@b/c" and redis://:PASSWORD@cache:6379/0',
     '"mysql://a:***@b/c" and redis://:***@cache:6379/0'),
    # a password as a query parameter or in a key=value connection string
    ("postgresql://h/db?user=u&password=PASSWORD&x=1", "postgresql://h/db?user=u&password=***&x=1"),
    ("host=h dbname=db password=PASSWORD user=u", "host=h dbname=db password=*** user=u"),
])
def test_passwords_are_masked(text, masked):
    assert mask_url(text) == masked
    assert "PASSWORD" not in mask_url(text)


@pytest.mark.parametrize("text", [
    "sqlite:///nassb-design.db",
    "postgresql://postgres@127.0.0.1:54329/nassb_test",
    "https://example.org/a@b",
    "seed paper, Methods: rho_Na = 0.968 g/cm3",
    "",
])
def test_text_without_a_password_is_unchanged(text):
    assert mask_url(text) == text


def test_nested_values_are_masked_and_other_values_kept():
    value = {"command": "nassb report --storage postgresql://u:PASSWORD@h/db", "seed": 3,
             "files": ["a.csv", "sqlite:///x.db"], "storage": ("postgresql://u:PASSWORD@h/db",)}
    masked = mask_all(value)
    assert masked == {"command": "nassb report --storage postgresql://u:***@h/db", "seed": 3,
                      "files": ["a.csv", "sqlite:///x.db"], "storage": ("postgresql://u:***@h/db",)}


_PASSWORD = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc"),
                                           blacklist_characters="'\"@:/?#[]"), min_size=1, max_size=20)


@given(user=st.from_regex(r"[a-z]{0,8}", fullmatch=True), password=_PASSWORD,
       host=st.from_regex(r"[a-z][a-z0-9.-]{0,10}(:[0-9]{2,5})?", fullmatch=True))
def test_no_password_survives(user, password, host):
    url = f"postgresql://{user}:{password}@{host}/db"
    masked = mask_url(f"error at {url}: failed")
    assert masked == f"error at postgresql://{user}:***@{host}/db: failed"
