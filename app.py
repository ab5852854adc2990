"""Entry point: builds the navigation and runs the chosen page. Nothing else lives here."""

import streamlit as st

st.set_page_config(page_title="Assistant Playground", page_icon=":material/smart_toy:", layout="wide")
st.navigation(
    [
        st.Page("pages/playground.py", title="Playground", icon=":material/chat:", default=True),
        st.Page("pages/assistants.py", title="Assistants", icon=":material/smart_toy:"),
    ]
).run()
