"""Who may come in (playground/access.py): the modes, the password check and its throttle, the key
banner; then the door itself in the app, driven by AppTest. Nothing here waits for real: the throttle's
sleep is a recorder."""

from __future__ import annotations

import hmac

import pytest
from streamlit.testing.v1 import AppTest

from playground import access
from playground.access import AccessConfigError, Mode, Throttle
from playground.assistant import AssistantConfig
from playground.client import ApiKey, owner_for
from playground.store import Store
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


def test_an_auth_section_is_sign_in_and_wins_over_a_password():
    configured = access.read_access({"auth": {"client_id": "x"}, "password": "p"}, {"PLAYGROUND_PASSWORD": "q"})
    assert configured.mode is Mode.SIGN_IN and configured.password is None


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


# -- sign-in: the rule ----------------------------------------------------------------------------------

AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "playground",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration",
}
ANN, OLGA, BOB = "ann@example.com", "olga@example.org", "bob@example.com"


def signed_in(email: str | None = ANN, **claims) -> dict:
    user = {"is_logged_in": True, **claims}
    if email is not None:
        user["email"] = email
    return user


def configured(**secrets) -> access.Access:
    return access.read_access({"auth": AUTH, **secrets}, {})


def test_one_provider_in_auth_itself_or_several_named_ones():
    assert access.providers({"auth": AUTH}) == (None,)
    shared = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": "x"}
    named = {**shared, "google": {"client_id": "g"}, "okta": {"client_id": "o", "client_kwargs": {"prompt": "login"}}}
    assert access.providers({"auth": named}) == ("google", "okta")
    # A provider's own client_kwargs table is a setting of it, not another provider.
    assert access.providers({"auth": {**AUTH, "client_kwargs": {"prompt": "login"}}}) == (None,)
    assert access.providers({"auth": {**AUTH, "microsoft": {"client_id": "m"}}}) == (None, "microsoft")
    assert [access.provider_label(p) for p in (None, "google", "azure-ad")] == [
        "Sign in",
        "Sign in with Google",
        "Sign in with Azure Ad",
    ]


@pytest.mark.parametrize("auth", ["yes", {"redirect_uri": "http://x/oauth2callback", "cookie_secret": "x"}])
def test_an_auth_section_naming_no_provider_is_refused_rather_than_opening(auth):
    with pytest.raises(AccessConfigError):
        access.read_access({"auth": auth}, {})


def test_an_allow_list_written_under_auth_is_refused_with_where_it_belongs():
    # TOML puts whatever follows [auth] inside it: `allowed` would silently be missing (nobody comes in).
    for auth in ({**AUTH, "allowed": ["*"]}, {"cookie_secret": "x", "google": {"client_id": "g", "admins": [ANN]}}):
        with pytest.raises(AccessConfigError, match="move it above"):
            access.read_access({"auth": auth}, {})


def test_the_allow_list_is_emails_domains_or_anyone_lower_cased():
    assert configured(allowed=[" Ann@Example.COM ", "@Example.org", "*", ""]).allowed == (ANN, "@example.org", "*")
    assert configured(allowed="@example.org").allowed == ("@example.org",)  # one string: a list of one
    assert configured().allowed == ()


@pytest.mark.parametrize(
    "allowed", [["example.org"], ["ann"], ["@"], ["@ex ample.org"], ["ann @example.com"], 5, [1], {"a": 1}]
)
def test_an_allow_list_entry_that_is_no_email_or_domain_is_refused(allowed):
    with pytest.raises(AccessConfigError):
        configured(allowed=allowed)


def test_admins_are_emails_only():
    assert configured(admins=["Root@Example.net"]).admins == ("root@example.net",)
    for bad in (["@example.net"], ["*"], "root"):
        with pytest.raises(AccessConfigError):
            configured(admins=bad)


@pytest.mark.parametrize(
    ("allowed", "email", "admitted"),
    [
        ([ANN], ANN, True),
        ([ANN], "ANN@example.com", True),  # the provider's spelling does not matter
        ([ANN], "anne@example.com", False),
        (["@example.org"], OLGA, True),
        (["@example.org"], "olga@sub.example.org", False),  # exactly that domain
        (["@example.org"], "olga@example.org.evil.test", False),
        (["@example.org"], "olga@example.org@evil.test", False),  # the domain is after the last @
        (["@example.org"], "olga@notexample.org", False),
        (["*"], "anyone@anywhere.test", True),
        ([ANN, "@example.org"], BOB, False),
    ],
)
def test_who_the_allow_list_lets_in(allowed, email, admitted):
    verdict = access.decide(signed_in(email), configured(allowed=allowed))
    assert (verdict.email is not None) is admitted
    if admitted:
        assert verdict.email == email.lower() and verdict.refusal is None
    else:
        assert verdict.refusal == access.NOT_ALLOWED.format(email=email.lower())


def test_without_an_allow_list_nobody_comes_in():
    assert access.decide(signed_in(ANN), configured()) == access.Verdict(refusal=access.NOBODY_ALLOWED)
    assert access.decide(signed_in(ANN), configured(allowed=[])).refusal == access.NOBODY_ALLOWED


@pytest.mark.parametrize(
    ("claim", "admitted"),
    [(True, True), ("true", True), ("TRUE", True), (False, False), ("false", False), (None, False), (1, False)],
)
def test_an_email_the_provider_says_is_unverified_is_refused(claim, admitted):
    verdict = access.decide(signed_in(ANN, email_verified=claim), configured(allowed=["*"]))
    assert verdict == (
        access.Verdict(email=ANN) if admitted else access.Verdict(refusal=access.NOT_VERIFIED.format(email=ANN))
    )


def test_a_provider_that_does_not_send_email_verified_is_taken_at_its_word():
    assert access.decide(signed_in(ANN), configured(allowed=[ANN])) == access.Verdict(email=ANN)


@pytest.mark.parametrize("email", [None, "", "   ", "ann", "@example.com", "ann@", 42])
def test_no_usable_email_is_refused(email):
    verdict = access.decide(signed_in(email), configured(allowed=["*"]))
    assert verdict == access.Verdict(refusal=access.NO_EMAIL)


def test_admins_come_in_whatever_the_allow_list_says_but_not_unverified():
    admin = "root@example.net"
    assert access.decide(signed_in("Root@example.net"), configured(admins=[admin])).email == admin
    assert access.decide(signed_in(admin), configured(allowed=[ANN], admins=[admin])).email == admin
    assert access.decide(signed_in(admin, email_verified=False), configured(admins=[admin])).email is None


def test_admin_powers_need_the_list_and_a_verified_email():
    listed = configured(allowed=["*"], admins=["Root@Example.net", "ops@example.net"])
    assert access.decide(signed_in("root@example.net", email_verified=True), listed).admin
    assert access.decide(signed_in(" ROOT@example.net ", email_verified="true"), listed).admin
    assert not access.decide(signed_in(ANN, email_verified=True), listed).admin
    # A provider that says nothing of verification lets the address in, not into admin powers.
    silent = access.decide(signed_in("root@example.net"), listed)
    assert silent.email == "root@example.net" and not silent.admin
    assert not access.decide(signed_in("root@example.net", email_verified=True), configured(allowed=["*"])).admin


def test_the_first_admin_is_the_first_readable_address():
    assert access.first_admin({"auth": AUTH, "admins": ["Root@Example.net", "ops@example.net"]}) == "root@example.net"
    assert access.first_admin({}) is None
    assert access.first_admin({"admins": ["@example.net"]}) is None  # unreadable: nobody


def test_a_signed_in_person_owns_the_log_whatever_key():
    typed, deployed = ApiKey(TEST_KEY, "sidebar"), ApiKey(TEST_KEY, "secrets")
    for key in (typed, deployed, None):
        assert owner_for(key, "visitor", "Ann@Example.com") == ANN
    # Nobody signed in: as before.
    assert owner_for(typed, "visitor").startswith("key:")
    assert owner_for(deployed, "visitor") == "local"
    assert owner_for(None, "visitor") == "session:visitor"


# -- sign-in: the door in the app ------------------------------------------------------------------------


@pytest.fixture
def logins(monkeypatch):
    """st.login recorded instead of redirecting (in AppTest it would look for a real secrets.toml)."""
    calls: list[str | None] = []
    monkeypatch.setattr("streamlit.login", lambda provider=None: calls.append(provider))
    return calls


def sign_in_app(monkeypatch, upstream, *, user: dict | None = None, deployment_key: bool = True, **secrets) -> AppTest:
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    if deployment_key:
        monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    else:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = secrets.pop("auth", AUTH)
    for name, value in secrets.items():
        at.secrets[name] = value
    at.context["url"] = "https://demo.example.com/"
    if user is not None:
        at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def only_the_door(at) -> None:
    """Nothing of the app: no navigation, no sidebar, no connection, no page."""
    assert not navigated(at)
    assert not at.sidebar.children and not at.chat_input
    assert "conn" not in at.session_state and "api_key" not in at.session_state
    assert access.PERSON_STATE not in at.session_state


def test_before_signing_in_only_the_sign_in_button_is_drawn(upstream, db_path, monkeypatch, log, logins):
    at = sign_in_app(monkeypatch, upstream, allowed=["*"])  # AppTest's default user: not signed in
    assert [b.label for b in at.button] == ["Sign in"]
    only_the_door(at)
    assert set(drawn(at)) <= {"root", "main", "sidebar", "event", "title", "button"}
    assert log.list_assistants() == []
    at.button[0].click().run()
    assert logins == [None]  # the provider in [auth] itself


def test_several_providers_get_a_button_each(upstream, db_path, monkeypatch, logins):
    auth = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": "x", "google": {"client_id": "g"}, "okta": {}}
    at = sign_in_app(monkeypatch, upstream, auth=auth, allowed=["*"])
    assert [b.label for b in at.button] == ["Sign in with Google", "Sign in with Okta"]
    at.button(key="access.login.okta").click().run()
    assert logins == ["okta"]


def test_an_allowed_person_gets_the_app_and_owns_what_they_make(upstream, db_path, monkeypatch, log):
    at = sign_in_app(monkeypatch, upstream, user=signed_in("Ann@Example.com", email_verified=True), allowed=[ANN])
    assert at.chat_input and navigated(at)
    assert f"Signed in as {ANN}" in texts(at.sidebar, "caption")
    assert [b.label for b in at.sidebar.button if b.key == "access.sign_out"] == ["Sign out"]
    assert at.session_state["owner"] == ANN  # with the deployment's key: not the team log
    assert log.list_assistants() == []  # the team log ("local") got nothing
    assert len(Store(db_path, owner=ANN).list_assistants()) == 1
    assert BANNER not in texts(at, "warning")  # people were let in on purpose


@pytest.mark.parametrize("deployment_key", [True, False])
def test_a_typed_key_does_not_change_whose_log_it_is(upstream, db_path, monkeypatch, deployment_key):
    at = sign_in_app(monkeypatch, upstream, user=signed_in(ANN), deployment_key=deployment_key, allowed=[ANN])
    assert at.session_state["owner"] == ANN  # no key at all: not an anonymous session either
    mine = [a["id"] for a in Store(db_path, owner=ANN).list_assistants()]
    at.text_input(key="api_key").input("sk-typed-0123456789abcdefTYPED").run()
    assert not at.exception, at.exception
    assert at.session_state["owner"] == ANN
    assert [a["id"] for a in Store(db_path, owner=ANN).list_assistants()] == mine


def test_another_persons_assistant_and_thread_by_query_parameter_show_nothing(upstream, db_path, monkeypatch):
    bob = Store(db_path, owner=BOB)
    assistant = bob.create_assistant(AssistantConfig(name="qqbob planner"))
    version, _ = bob.save_version(assistant.id, AssistantConfig(name="qqbob planner", instructions="Be brief."))
    thread = bob.create_thread(assistant.id)
    bob.add_message(thread.id, "user", "qqbob secret", version_id=version.id)
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = AUTH
    at.secrets["allowed"] = ["*"]
    at.user = signed_in(ANN)
    at.query_params["assistant"] = str(assistant.id)
    at.query_params["thread"] = str(thread.id)
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["assistant_id"] != assistant.id and at.session_state["thread_id"] != thread.id
    assert at.query_params["assistant"] != str(assistant.id) and "thread" not in at.query_params
    assert not [t for t in texts(at) + texts(at.sidebar, "caption") if "qqbob" in t]
    assert "qqbob" not in str([s.options for s in at.selectbox])


def test_someone_not_on_the_list_sees_one_sentence_and_a_sign_out(upstream, db_path, monkeypatch, log):
    at = sign_in_app(monkeypatch, upstream, user=signed_in("eve@elsewhere.test"), allowed=[ANN])
    assert texts(at, "error") == [access.NOT_ALLOWED.format(email="eve@elsewhere.test")]
    assert [b.label for b in at.button] == ["Sign out"]
    only_the_door(at)
    assert Store(db_path, owner="eve@elsewhere.test").list_assistants() == [] and log.list_assistants() == []


def test_without_an_allow_list_a_signed_in_person_is_refused(upstream, db_path, monkeypatch):
    at = sign_in_app(monkeypatch, upstream, user=signed_in(ANN))
    assert texts(at, "error") == [access.NOBODY_ALLOWED]
    only_the_door(at)


def test_an_unverified_email_is_refused_at_the_door(upstream, db_path, monkeypatch):
    at = sign_in_app(monkeypatch, upstream, user=signed_in(ANN, email_verified=False), allowed=[ANN])
    assert texts(at, "error") == [access.NOT_VERIFIED.format(email=ANN)]
    only_the_door(at)


def test_an_allow_list_the_app_cannot_read_lets_nobody_in(upstream, db_path, monkeypatch):
    at = sign_in_app(monkeypatch, upstream, user=signed_in(ANN), allowed=["example.com"])
    assert "`allowed` in the secrets" in at.error[0].value
    only_the_door(at)
    assert not at.button


def test_signing_out_forgets_the_typed_key_and_the_person(upstream, db_path, monkeypatch):
    at = sign_in_app(monkeypatch, upstream, user=signed_in(ANN), deployment_key=False, allowed=[ANN])
    at.text_input(key="api_key").input("sk-typed-0123456789abcdefTYPED").run()
    assert at.session_state["api_key"] and at.session_state[access.PERSON_STATE] == ANN
    at.button(key="access.sign_out").click().run()
    assert not at.exception, at.exception
    assert at.user == {"is_logged_in": False}  # st.logout ran
    for kept in ("api_key", access.PERSON_STATE, "owner", "conn", "visitor", "assistant_id"):
        assert kept not in at.session_state  # nothing of the session is kept
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]
    only_the_door(at)


def test_a_refused_person_can_sign_out_too(upstream, db_path, monkeypatch):
    at = sign_in_app(monkeypatch, upstream, user=signed_in("eve@elsewhere.test"), allowed=[ANN])
    at.button(key="access.sign_out").click().run()
    assert at.user == {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]


def test_nobody_is_signed_in_in_open_mode(app):
    assert access.PERSON_STATE not in app.session_state
    assert app.session_state["owner"] == "local"  # the deployment key's one log, as before
