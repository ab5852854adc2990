"""Who may come in (playground/access.py): the modes, the password check and its throttle, the key
banner; then the door itself in the app, driven by AppTest. Nothing here waits for real: the throttle's
sleep is a recorder."""

from __future__ import annotations

import hmac

import pytest
from streamlit.testing.v1 import AppTest

from playground import access
from playground.access import AccessConfigError, Mode, Throttle
from tests.conftest import TEST_KEY
from tests.pages import APP, texts

PASSWORD = "correct horse battery"
BANNER = "Anyone with this link uses this deployment's API key."


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slept(monkeypatch):
    """The process-wide throttle, emptied, its waits recorded instead of slept."""
    waits: list[float] = []
    access.THROTTLE.reset()
    monkeypatch.setattr(access.THROTTLE, "sleep", waits.append)
    yield waits
    access.THROTTLE.reset()


# -- the modes -----------------------------------------------------------------------------------


def test_nothing_configured_is_open():
    assert access.read_access({}, {}) == access.Access(Mode.OPEN)


def test_a_password_in_the_environment_or_the_secrets_asks_for_it():
    assert access.read_access({}, {"PLAYGROUND_PASSWORD": " s3cret\n"}) == access.Access(Mode.PASSWORD, "s3cret")
    assert access.read_access({"password": "from-secrets"}, {}).password == "from-secrets"
    # The secrets win, as they do for the API key.
    assert access.read_access({"password": "a"}, {"PLAYGROUND_PASSWORD": "b"}).password == "a"
    assert access.read_access({"password": 1234}, {}).password == "1234"  # TOML without quotes


def test_an_empty_password_is_no_password():
    assert access.read_access({"password": "  "}, {"PLAYGROUND_PASSWORD": ""}).mode is Mode.OPEN


def test_a_password_that_is_not_text_is_refused_rather_than_opening_the_app():
    for bad in ({"x": 1}, ["a"], True):
        with pytest.raises(AccessConfigError):
            access.read_access({"password": bad}, {})


def test_an_auth_section_is_sign_in_which_is_not_built_yet():
    assert access.read_access({"auth": {"client_id": "x"}, "password": "p"}, {}).mode is Mode.SIGN_IN


def test_the_password_is_never_in_the_access_repr():
    assert "s3cret" not in repr(access.read_access({"password": "s3cret"}, {}))


# -- the password check -----------------------------------------------------------------------------


def test_the_password_is_compared_in_constant_time(monkeypatch):
    calls = []
    compare = hmac.compare_digest

    def spy(a, b):
        calls.append((type(a), type(b)))
        return compare(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    assert access.password_matches("pässwort", "pässwort")  # beyond ASCII: bytes, not str
    assert not access.password_matches("pässwort", "passwort")
    assert calls == [(bytes, bytes)] * 2


def test_a_wrong_password_counts_a_failure_and_the_right_one_none():
    throttle = Throttle(clock=Clock(), sleep=lambda s: None)
    mine: list[float] = []
    assert not access.check_password("nope", PASSWORD, mine, throttle)
    assert access.check_password(PASSWORD, PASSWORD, mine, throttle)
    assert len(mine) == 1


def test_the_wait_grows_with_a_sessions_failures_and_stops_at_the_cap():
    waits: list[float] = []
    throttle = Throttle(clock=Clock(), sleep=waits.append, global_step_s=0.0)
    mine: list[float] = []
    for _ in range(8):
        access.check_password("nope", PASSWORD, mine, throttle)
    assert waits == [0.0, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    access.check_password(PASSWORD, PASSWORD, mine, throttle)  # the right one waits too: no timing tell
    assert waits[-1] == 4.0


def test_failures_anywhere_slow_a_fresh_session_but_never_lock_it_out():
    throttle = Throttle(clock=Clock(), sleep=lambda s: None)
    for _ in range(30):
        access.check_password("nope", PASSWORD, [], throttle)  # each from a new session
    assert throttle.delay([]) == pytest.approx(30 * throttle.global_step_s)
    for _ in range(1000):
        access.check_password("nope", PASSWORD, [], throttle)
    assert throttle.delay([]) == throttle.cap_s
    assert access.check_password(PASSWORD, PASSWORD, [], throttle)


def test_old_failures_stop_counting():
    clock = Clock()
    throttle = Throttle(clock=clock, sleep=lambda s: None)
    mine: list[float] = []
    for _ in range(3):
        access.check_password("nope", PASSWORD, mine, throttle)
    assert throttle.delay(mine) > 0
    clock.now += throttle.window_s + 1
    assert throttle.delay(mine) == 0.0
    assert mine == []


# -- the key banner --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "header", "host"),
    [
        ("https://demo.example.com/compare", None, "demo.example.com"),
        ("http://LOCALHOST:8501/", "ignored:1", "localhost"),
        ("http://[::1]:8501/", None, "::1"),
        (None, "127.0.0.1:8501", "127.0.0.1"),
        (None, "[2001:db8::7]:8501", "2001:db8::7"),
        (None, "team.example.org.", "team.example.org"),
        (None, None, None),
    ],
)
def test_the_host_comes_from_the_url_else_the_host_header(url, header, host):
    assert access.host_of(url, header) == host


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("192.168.1.20", False),
        ("2001:db8::7", False),
        ("demo.streamlit.app", False),
        ("localhost.example.com", False),
    ],
)
def test_local_hosts(host, local):
    assert access.is_local_host(host) is local


def test_the_banner_shows_off_this_machine_with_a_deployment_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    remote = access.host_of("https://demo.streamlit.app/", None)
    assert access.shows_key_banner(Mode.OPEN, remote, {"OPENAI_API_KEY": TEST_KEY})
    assert not access.shows_key_banner(Mode.OPEN, remote, {})  # no deployment key: visitors type their own
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    assert access.shows_key_banner(Mode.OPEN, remote, {})
    for host in ("localhost", "127.0.0.1", "::1", None):
        assert not access.shows_key_banner(Mode.OPEN, host, {})
    assert not access.shows_key_banner(Mode.PASSWORD, remote, {})  # behind a password, people were let in


# -- the door in the app ------------------------------------------------------------------------------


@pytest.fixture
def door(upstream, db_path, monkeypatch, slept):
    """The app with a deployment key and a password, first run drawn."""
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("PLAYGROUND_PASSWORD", PASSWORD)
    at = AppTest.from_file(APP, default_timeout=30)
    at.context["url"] = "https://demo.example.com/"
    at.run()
    assert not at.exception, at.exception
    return at


def drawn(at) -> list[str]:
    """Every element's type in the page and the sidebar."""
    return [getattr(node, "type", type(node).__name__) for node in at]


def navigated(at) -> bool:
    """Whether the last run called st.navigation (AppTest keeps the pages it registered)."""
    return any("url_pathname" in page for page in at._registered_pages.values())


def enter(at, password: str):
    at.text_input(key="access.password").input(password)
    at.button[0].click().run()  # the form's Enter button: the only button drawn
    assert not at.exception, at.exception
    return at


def test_before_the_password_only_its_form_is_drawn(door, log):
    assert [w.key for w in door.text_input] == ["access.password"]
    assert [b.label for b in door.button] == ["Enter"]
    assert not door.sidebar.children  # no connection box
    assert not navigated(door)
    assert set(drawn(door)) <= {"root", "main", "sidebar", "event", "title", "form", "text_input", "button"}
    assert "api_key" not in door.session_state and "conn" not in door.session_state
    assert log.list_assistants() == []  # no page ran


def test_a_wrong_password_is_refused_in_one_sentence_and_slowed(door, slept):
    enter(door, "guess")
    assert texts(door, "error") == [access.WRONG_PASSWORD]
    assert not door.sidebar.children and not door.chat_input
    enter(door, "guess again")
    assert texts(door, "error") == [access.WRONG_PASSWORD]
    assert slept[-1] > slept[0]  # the second attempt waited longer


def test_the_right_password_admits_this_session_to_the_app(door, log):
    enter(door, "guess")
    enter(door, PASSWORD)
    assert not texts(door, "error")
    assert door.chat_input[0].disabled is False  # the Playground page, as in open mode
    assert door.sidebar.children and navigated(door)  # the connection box, the pages
    assert len(log.list_assistants()) == 1
    assert BANNER not in texts(door, "warning")  # people behind a password were let in on purpose
    assert PASSWORD not in list(door.session_state.values())  # the typed password is not kept
    door.run()
    assert door.chat_input and "access.password" not in [w.key for w in door.text_input]  # still in


def test_a_password_in_the_secrets_keeps_the_door_too(upstream, db_path, monkeypatch, slept):
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    monkeypatch.delenv("PLAYGROUND_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["password"] = PASSWORD
    at.run()
    assert [w.key for w in at.text_input] == ["access.password"] and not at.sidebar.children
    enter(at, PASSWORD)
    assert at.chat_input


def test_an_auth_section_admits_nobody_until_sign_in_is_built(upstream, db_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = {"client_id": "x"}
    at.run()
    assert texts(at, "error")[0].startswith("Sign-in is not available in this version yet")
    assert not at.text_input and not at.sidebar.children and not at.chat_input


def test_open_mode_is_unchanged_on_this_machine(app):
    assert app.chat_input and app.sidebar.children and navigated(app)
    assert "access.password" not in [w.key for w in app.text_input]
    assert BANNER not in texts(app, "warning")  # AppTest sends no URL: as on a laptop


def test_open_mode_reached_from_another_machine_warns_on_every_page(app):
    app.context["url"] = "https://demo.example.com/"
    app.run()
    assert BANNER in texts(app, "warning")
    app.switch_page("app_pages/usage.py").run()
    assert BANNER in texts(app, "warning")
    app.context["url"] = "http://localhost:8501/"
    app.run()
    assert BANNER not in texts(app, "warning")
