"""Entry point: the door (password or sign-in), routing, and what every page shares (the connection, its box).

Streamlit runs this file on every rerun and then the chosen page, so whatever is set up here exists
whichever page a browser session opens first.
"""

import streamlit as st

from app_pages._common import open_connection
from app_pages._gate import admit, key_banner
from playground import markup
from playground.errors import LogError

st.set_page_config(page_title="Assistant Playground", page_icon=":material/smart_toy:", layout="wide")
mode = admit()  # before anything else is drawn: only the password form, or sign-in, until let in
page = st.navigation(
    [
        st.Page("app_pages/chat.py", title="Playground", icon=":material/chat:", default=True),
        st.Page("app_pages/assistants.py", title="Assistants", icon=":material/smart_toy:"),
        st.Page("app_pages/versions.py", title="Versions", icon=":material/history:"),
        st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("app_pages/test_sets.py", title="Test sets", icon=":material/checklist:"),
        st.Page("app_pages/conversations.py", title="Conversations", icon=":material/forum:"),
        st.Page("app_pages/usage.py", title="Usage", icon=":material/monitoring:"),
    ]
)
open_connection()
key_banner(mode)
try:
    page.run()
except LogError as exc:  # a write any page tried that the log refused: one sentence, not a traceback
    st.error(markup.literal(exc.problem.message), icon=":material/database:")
