"""Entry point: builds the navigation and runs the chosen page. Nothing else lives here."""

import streamlit as st

st.set_page_config(page_title="Assistant Playground", page_icon=":material/smart_toy:", layout="wide")
st.navigation(
    [
        st.Page("pages/playground.py", title="Playground", icon=":material/chat:", default=True),
        st.Page("pages/assistants.py", title="Assistants", icon=":material/smart_toy:"),
        st.Page("pages/versions.py", title="Versions", icon=":material/history:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/test_sets.py", title="Test sets", icon=":material/checklist:"),
        st.Page("pages/conversations.py", title="Conversations", icon=":material/forum:"),
        st.Page("pages/usage.py", title="Usage", icon=":material/monitoring:"),
    ]
).run()
