"""For scale beside a config edit: a bare Streamlit app whose one text input lives in one fragment.

Used by bench/rerun_cost.py, edited in the same harness as the app's Description field.
"""

import streamlit as st


@st.fragment
def panel() -> None:
    st.text_input("Description", key="description")


panel()
