"""The naive approach, for comparison: poll for the reply every second and re-read the whole thread.

This is how the old Assistants playgrounds and samples worked (create a run, poll it every second,
then `messages.list` the thread on every rerun), moved to today's API: a message starts a response
that the page does not stream (a background thread drains it, standing in for a run executing
upstream), and a fragment re-reads every item of the Conversation each second and draws them all.
The reply shows up once the conversation holds it. Used by bench/stream_latency.py and
bench/requests_per_turn.py beside the real app. `?conversation=conv_…` opens an existing one.
"""

import os
import threading

import streamlit as st
from openai import OpenAI

client = OpenAI(api_key=os.environ["OPENAI_API_KEY"], base_url=os.environ["OPENAI_BASE_URL"])
ss = st.session_state
if "conversation" not in ss:
    ss.conversation = st.query_params.get("conversation")
    ss.pending = None


def run(conversation: str, prompt: str) -> None:
    stream = client.responses.create(model="gpt-4.1-mini", input=prompt, conversation=conversation, stream=True)
    for _ in stream:
        pass


@st.fragment(run_every=1)
def thread() -> None:
    if ss.conversation is None:
        return
    items = list(client.conversations.items.list(ss.conversation, order="asc", limit=100))  # every page
    texts = []
    for item in items:
        if item.type == "message":
            texts.append(item.content[0].text if item.content else "")
            st.chat_message(item.role).markdown(texts[-1])
    if ss.pending and ss.pending not in texts:
        st.chat_message("user").markdown(ss.pending)
        st.caption("Waiting for the reply…")


if prompt := st.chat_input("Say something"):
    if ss.conversation is None:
        ss.conversation = client.conversations.create().id
    ss.pending = prompt
    threading.Thread(target=run, args=(ss.conversation, prompt), daemon=True).start()
thread()
