"""The project's local OpenAI-compatible server, for tests, benchmarks and trying the app without a key."""

from tests.openai_server.server import MODELS, OpenAIServer, Reply

__all__ = ["MODELS", "OpenAIServer", "Reply"]
