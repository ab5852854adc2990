"""Assistant Playground: the product's logic, importable and testable without Streamlit.

An *assistant* is a versioned config stored in our SQLite; a *thread* is an OpenAI Conversation;
a *turn* is one streamed Responses call, logged as a *run*.
"""
