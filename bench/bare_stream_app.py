"""The floor for stream latency: a bare Streamlit chat that pipes a Responses stream into st.write_stream.

Used by bench/stream_latency.py, measured beside the real app in the same run. BARE_HISTORY=N starts
the chat with the first N messages of the app's seeded thread (bench._harness.message), so the floor
can be taken with as many messages on screen as the app draws. BARE_API=chat streams Chat Completions
instead, resending the history every turn as the app does on servers without conversations.
"""

import os
import sys
from pathlib import Path

import streamlit as st
from openai import OpenAI

client = OpenAI(api_key=os.environ["OPENAI_API_KEY"], base_url=os.environ["OPENAI_BASE_URL"])
if "history" not in st.session_state:
    st.session_state.history = []
    if seeded := int(os.environ.get("BARE_HISTORY", "0")):
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from bench._harness import message

        st.session_state.history = [message(i) for i in range(seeded)]
for role, text in st.session_state.history:
    st.chat_message(role).markdown(text)
if prompt := st.chat_input("Say something"):
    st.chat_message("user").markdown(prompt)
    with st.chat_message("assistant"):
        if os.environ.get("BARE_API") == "chat":
            messages = [{"role": r, "content": t} for r, t in st.session_state.history]
            messages.append({"role": "user", "content": prompt})
            stream = client.chat.completions.create(model="gpt-4.1-mini", messages=messages, stream=True)
        else:
            stream = client.responses.create(model="gpt-4.1-mini", input=prompt, stream=True)
        reply = st.write_stream(stream)
    st.session_state.history += [("user", prompt), ("assistant", reply)]
