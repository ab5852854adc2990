"""Sign-in in a real browser (issue 15, item 1): `st.login` against `oidc-provider-mock` on this machine.

The app runs with `[auth]` secrets pointing at the mock provider, an allow-list and an admins list.
One host name everywhere, 127.0.0.1 (browser, redirect_uri, the mock): with `localhost` on one side
the state cookie is lost (../shared/notes/providers-evals-auth.md §3).

- An allowed email signs in and gets the app; signing out passes the provider's end-session page and
  comes back to the sign-in button, with nothing of the session kept.
- An email not on the allow-list, or one the provider says is unverified, is refused in one sentence
  with a sign-out, and nothing of the app is drawn.
- Signed in, a person cannot reach another person's assistant or thread by id in the query
  parameters the Playground reads (`assistant`, `thread`), nor see them on Conversations.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from playground import access
from playground.assistant import AssistantConfig
from playground.store import Store
from tests.app_process import free_port, stop, streamlit_server, wait_for_app
from tests.e2e.conftest import E2E_KEY

ANN = "ann@example.com"  # on the allow-list by address
OLGA = "olga@example.org"  # on it by domain
MALLORY = "mallory@elsewhere.test"  # not on it
CAROL = "carol@example.org"  # her domain is allowed, but the provider says her address is unverified
BOB = "bob@example.com"  # owns what Ann must not see; never signs in here

BOB_ASSISTANT = "Bob's private planner"
BOB_MESSAGE = "Bob's salary negotiation notes"


def _wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"did not start:\n{log.read_text()}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """oidc-provider-mock on a free port of 127.0.0.1; Carol's address is marked unverified."""
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "oidc.log"
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            _wait_http(f"{url}/.well-known/openid-configuration", process, log)
        except RuntimeError as exc:
            pytest.fail(f"oidc-provider-mock: {exc}")
        claims = json.dumps({"email": CAROL, "email_verified": False}).encode()
        request = urllib.request.Request(
            f"{url}/users/{CAROL}", data=claims, method="PUT", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as r:
            assert r.status == 204
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="module")
def signin_app(provider, upstream, tmp_path_factory):
    """`streamlit run app.py` with `[auth]` secrets pointing at the mock, an allow-list and an admin."""
    workdir = tmp_path_factory.mktemp("signin")
    port = free_port()
    secrets = workdir / "secrets.toml"
    secrets.write_text(
        f'allowed = ["{ANN}", "@example.org"]\n'
        'admins = ["root@example.net"]\n'
        "\n[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "e2e-cookie-secret-0123456789abcdef"\n'
        'client_id = "playground-e2e"\n'
        'client_secret = "playground-e2e-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    db_path = workdir / "log.db"
    env = {"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": E2E_KEY, "PLAYGROUND_DB": str(db_path)}
    args = [f"--secrets.files={secrets}"]
    try:
        with streamlit_server(
            Path(__file__).parents[2] / "app.py", env, workdir / "streamlit.log", args=args, port=port
        ) as s:
            yield {"url": s.url, "db": db_path, "log": workdir / "streamlit.log"}
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def door(page, signin_app, upstream):
    upstream.reset()
    page.set_default_timeout(20_000)
    page.goto(signin_app["url"])
    wait_for_app(page)
    return page


def sign_in(page, email: str) -> None:
    """Press the app's sign-in button and answer the mock provider's form as `email`."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**")
    page.locator("input[name='sub']").fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(lambda url: "/oauth2" not in url and "/auth/" not in url)
    wait_for_app(page)


def sign_out(page) -> None:
    """Press Sign out; the mock's end-session page waits for a click, then sends the browser back."""
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/oauth2/end_session**")
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(lambda url: "/oauth2" not in url and "/auth/" not in url)
    wait_for_app(page)


def test_before_signing_in_only_the_button_is_drawn(door):
    expect(door.get_by_role("button", name="Sign in")).to_be_visible()
    expect(door.get_by_test_id("stChatInput")).to_have_count(0)
    expect(door.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(door.get_by_text("OpenAI API key")).to_have_count(0)


def test_an_allowed_email_signs_in_and_out(door, signin_app):
    sign_in(door, ANN)
    expect(door.get_by_test_id("stChatInput")).to_be_visible()
    expect(door.get_by_test_id("stSidebar").get_by_text(f"Signed in as {ANN}")).to_be_visible()
    expect(door.get_by_test_id("stSidebarNav")).to_be_visible()
    # What Ann makes is hers: the assistant the Playground made on her first visit is under her email.
    assert Store(signin_app["db"], owner=ANN).list_assistants()
    sign_out(door)
    expect(door.get_by_role("button", name="Sign in")).to_be_visible()
    expect(door.get_by_test_id("stChatInput")).to_have_count(0)
    expect(door.get_by_text(f"Signed in as {ANN}")).to_have_count(0)
    door.reload()  # the identity cookie is gone too
    wait_for_app(door)
    expect(door.get_by_role("button", name="Sign in")).to_be_visible()


def test_an_allowed_domain_signs_in(door):
    sign_in(door, OLGA.upper())  # the provider's spelling does not matter
    expect(door.get_by_test_id("stSidebar").get_by_text(f"Signed in as {OLGA}")).to_be_visible()


def test_an_email_not_on_the_list_is_refused_in_one_sentence(door, signin_app):
    sign_in(door, MALLORY)
    refusal = access.NOT_ALLOWED.format(email=MALLORY)
    expect(door.get_by_test_id("stAlertContentError")).to_contain_text(refusal)
    expect(door.get_by_test_id("stChatInput")).to_have_count(0)
    expect(door.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(door.get_by_text("OpenAI API key")).to_have_count(0)
    assert Store(signin_app["db"], owner=MALLORY).list_assistants() == []
    sign_out(door)
    expect(door.get_by_role("button", name="Sign in")).to_be_visible()


def test_an_unverified_email_is_refused_even_on_an_allowed_domain(door):
    sign_in(door, CAROL)
    refusal = access.NOT_VERIFIED.format(email=CAROL)
    expect(door.get_by_test_id("stAlertContentError")).to_contain_text(refusal)
    expect(door.get_by_test_id("stChatInput")).to_have_count(0)


def test_a_signed_in_person_cannot_open_another_persons_assistant_or_thread(door, signin_app):
    bob = Store(signin_app["db"], owner=BOB)
    assistant = bob.create_assistant(AssistantConfig(name=BOB_ASSISTANT))
    version, _ = bob.save_version(assistant.id, AssistantConfig(name=BOB_ASSISTANT, instructions="Be brief."))
    thread = bob.create_thread(assistant.id, title="Bob's thread")
    bob.add_message(thread.id, "user", BOB_MESSAGE, version_id=version.id)

    sign_in(door, ANN)
    expect(door.get_by_test_id("stChatInput")).to_be_visible()
    # Bob's ids in the query parameters the Playground reads: Ann gets her own assistant instead.
    door.goto(f"{signin_app['url']}/?assistant={assistant.id}&thread={thread.id}")
    wait_for_app(door)
    expect(door.get_by_test_id("stChatInput")).to_be_visible()
    expect(door.get_by_text(BOB_MESSAGE)).to_have_count(0)
    expect(door.get_by_text(BOB_ASSISTANT)).to_have_count(0)
    expect(door.get_by_test_id("stSidebar").get_by_text(f"Signed in as {ANN}")).to_be_visible()
    shown = parse_qs(urlsplit(door.url).query)
    assert shown.get("assistant") != [str(assistant.id)] and shown.get("thread") != [str(thread.id)]
    # Nor on Conversations, the list of every thread she may read.
    door.get_by_test_id("stSidebarNav").get_by_role("link", name="Conversations").click()
    wait_for_app(door)
    expect(door.get_by_text(BOB_MESSAGE)).to_have_count(0)
    expect(door.get_by_text("Bob's thread")).to_have_count(0)
    # Bob's rows are still his, untouched.
    assert [a["name"] for a in bob.list_assistants()] == [BOB_ASSISTANT]
    assert [a["id"] for a in Store(signin_app["db"], owner=ANN).list_assistants()] != [assistant.id]
