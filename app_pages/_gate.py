"""The door of a shared deployment (playground/access.py says the model): called by app.py only.

`admit()` runs before anything else of the app is drawn; `key_banner()` on every page. Not a page: the
leading underscore keeps it out of the navigation.
"""

from __future__ import annotations

import streamlit as st

from app_pages._common import _secrets
from playground import access, markup

_ADMITTED = "access.admitted"
_FAILURES = "access.failures"


def admit() -> access.Mode:
    """Let this browser session in, or draw only what lets it in and stop the run.

    Password mode: the password form and nothing else (no navigation, no connection box, no page) until
    the right password is typed; then this session is admitted until it ends (a reload is a new
    session: Streamlit keeps no cookie outside st.login).

    Sign-in mode: a sign-in button per provider and nothing else until someone is signed in; then
    `access.decide` lets them in (their email is this run's `access.PERSON_STATE`, the log's owner)
    or refuses them in one sentence with a sign-out."""
    try:
        configured = access.read_access(_secrets())
    except access.AccessConfigError as exc:
        st.error(str(exc), icon=":material/lock:")
        st.stop()
    if configured.mode is access.Mode.SIGN_IN:
        _sign_in(configured)
        return configured.mode
    st.session_state.pop(access.PERSON_STATE, None)  # nobody is signed in outside sign-in mode
    st.session_state.pop(access.ADMIN_STATE, None)
    if configured.mode is access.Mode.OPEN or st.session_state.get(_ADMITTED):
        return configured.mode
    assert configured.password is not None
    _password_form(configured.password)
    st.stop()


def _password_form(expected: str) -> None:
    st.title("Assistant Playground")
    # clear_on_submit: the typed password is not kept in the widget after this run.
    with st.form("access.form", clear_on_submit=True, border=False):
        typed = st.text_input("Password", type="password", key="access.password")
        submitted = st.form_submit_button("Enter", icon=":material/login:")
    if not submitted or not typed:
        return
    failures = st.session_state.setdefault(_FAILURES, [])
    if access.check_password(typed, expected, failures):
        st.session_state[_ADMITTED] = True
        st.session_state.pop(_FAILURES, None)
        st.rerun()  # draw the app now, without the form
    st.error(access.WRONG_PASSWORD, icon=":material/lock:")


def _sign_in(configured: access.Access) -> None:
    """Return only for a signed-in person the allow-list admits, with their email in the session state;
    otherwise draw the sign-in buttons or the refusal, and stop the run."""
    ss = st.session_state
    user = st.user.to_dict()
    if not user.get("is_logged_in"):  # AppTest's default user says nothing: not signed in either
        ss.pop(access.PERSON_STATE, None)
        ss.pop(access.ADMIN_STATE, None)
        st.title("Assistant Playground")
        for provider in configured.providers:
            if st.button(
                access.provider_label(provider), key=f"access.login.{provider or 'default'}", icon=":material/login:"
            ):
                st.login(provider)
        st.stop()
    verdict = access.decide(user, configured)
    if verdict.email is None:
        ss.pop(access.PERSON_STATE, None)
        ss.pop(access.ADMIN_STATE, None)
        st.title("Assistant Playground")
        st.error(markup.literal(verdict.refusal), icon=":material/block:")
        _sign_out_button()
        st.stop()
    if ss.get(access.PERSON_STATE, verdict.email) != verdict.email:
        ss.clear()  # another person in this browser session: nothing of the previous one's stays
    ss[access.PERSON_STATE] = verdict.email
    ss[access.ADMIN_STATE] = verdict.admin
    with st.sidebar:
        st.caption(f"Signed in as {markup.literal(verdict.email)}")
        _sign_out_button()


def _sign_out_button() -> None:
    if st.button("Sign out", key="access.sign_out", icon=":material/logout:"):
        # Everything this browser session holds goes with the identity cookie: typed keys, the person,
        # what was open. st.logout also ends the session at the provider where it offers that.
        st.session_state.clear()
        st.logout()
        # Nothing more of this run: not st.rerun, which can drop the sign-out redirect st.logout queued
        # (the cookie would stay, and a reload would sign the person back in).
        st.stop()


def _host() -> str | None:
    # The URL is what the browser shows; the Host header stands in when a client sent no URL.
    return access.host_of(st.context.url, st.context.headers.get("Host"))


def key_banner(mode: access.Mode) -> None:
    """The plain warning that anyone with this link spends the deployment's key (open mode, reached
    from another machine, a key configured)."""
    if access.shows_key_banner(mode, _host(), _secrets()):
        st.warning(
            "Anyone with this link uses this deployment's API key.",
            icon=":material/public:",
        )
