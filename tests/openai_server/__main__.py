"""Run the local OpenAI server by hand: `python -m tests.openai_server --port 8765`.

Then start the app with OPENAI_BASE_URL=http://127.0.0.1:8765/v1 and any key (e.g. sk-local).
Script replies with POST /_control/script, e.g. {"text": "Hi", "gap": 0.2} or {"status": 500}.
"""

from __future__ import annotations

import argparse
import time

from tests.openai_server import OpenAIServer


def main() -> None:
    parser = argparse.ArgumentParser(description="Local OpenAI-compatible server for Assistant Playground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-validate", action="store_true", help="skip checking requests against the spec")
    parser.add_argument(
        "--api",
        choices=("all", "chat"),
        default="all",
        help="all: OpenAI's APIs; chat: Chat Completions only, as Ollama, vLLM, LM Studio or llama.cpp",
    )
    args = parser.parse_args()
    server = OpenAIServer(args.host, args.port, validate=not args.no_validate, api=args.api).start()
    spec = "checked against the OpenAI spec" if server.spec_loaded else "not checked (spec not found)"
    print(f"OpenAI-compatible server on {server.base_url} (requests {spec}). Ctrl+C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
